"""``cohesion-geo delineate`` / ``evaluate`` on a constructed derived-layout grid (no real data)."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
import shapely

from cohesion_geo.cli import main

from test_delineate import TWO_BLOCKS, picture_grid

COLUMNS = "cell_id=cell_id,ind=pop,mean_std_living=mean_std_living,poverty_rate=pr,imputed=imputed"


@pytest.fixture()
def tiny_grid(tmp_path: Path) -> Path:
    g = picture_grid(TWO_BLOCKS, pop=120)
    path = tmp_path / "grid.csv"
    g[["cell_id", "ind", "mean_std_living", "poverty_rate", "imputed"]].rename(
        columns={"ind": "pop", "poverty_rate": "pr"}
    ).to_csv(path, index=False)
    return path


def _delineate(grid: Path, out: Path, *extra: str) -> int:
    return main(["delineate", str(grid), "--columns", COLUMNS, "--rule", "official", "--threshold", "12000",
                 "--national-median", "20000", "--min-urban-population", "0", "--out", str(out), *extra])


def test_cli_delineate_writes_three_layers(tiny_grid: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "q.gpkg"
    assert _delineate(tiny_grid, out, "--bridge", "1") == 0
    assert "1 candidate quartiers (2,520 inhabitants, 21 cells)" in capsys.readouterr().out
    assert sorted(pyogrio.list_layers(out)[:, 0]) == ["cells", "params", "quartiers"]
    q = gpd.read_file(out, layer="quartiers")
    assert q["n_cells"].tolist() == [21] and q.crs.to_epsg() == 3035
    cells = gpd.read_file(out, layer="cells")
    assert (cells["reason"] == "bridged").sum() == 3
    params = gpd.read_file(out, layer="params").set_index("key")["value"]
    assert json.loads(params["bridge"]) == 1 and json.loads(params["rule"]) == "official"


def test_cli_delineate_without_bridging_and_small_units(tiny_grid: Path, tmp_path: Path, capsys) -> None:
    assert _delineate(tiny_grid, tmp_path / "a.gpkg", "--bridge", "0") == 0
    assert "2 candidate quartiers" in capsys.readouterr().out
    # without --min-urban-population the 2,520-inhabitant study area is below 10,000: nothing, and a warning
    rc = main(["delineate", str(tiny_grid), "--columns", COLUMNS, "--rule", "official", "--threshold", "12000",
               "--national-median", "20000", "--out", str(tmp_path / "b.gpkg")])
    captured = capsys.readouterr()
    assert rc == 0 and "0 candidate quartiers" in captured.out
    assert "no urban unit reaches 10,000 inhabitants" in captured.err


def test_cli_evaluate_against_constructed_official(tiny_grid: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "q.gpkg"
    assert _delineate(tiny_grid, out, "--bridge", "0") == 0
    # official perimeter = exactly the western block (3 x 3 cells of 120 inhabitants)
    x0, y0 = 3_800_000, 3_000_000
    official = gpd.GeoDataFrame({"CODE_QP": ["QPW"]}, geometry=[shapely.box(x0, y0, x0 + 600, y0 + 600)], crs=3035)
    off_path = tmp_path / "qpv.gpkg"
    official.to_file(off_path)
    report = tmp_path / "e.json"
    rc = main(["evaluate", str(out), str(off_path), "--grid", str(tiny_grid), "--columns", COLUMNS,
               "--per-quartier", "--out", str(report)])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "recall 1.000  precision 0.500  F1 0.667  half covered 1/1" in printed
    assert json.loads(report.read_text())["per_quartier"][0]["covered_share"] == pytest.approx(1.0)


def test_cli_errors_are_one_line(tmp_path: Path, capsys) -> None:
    rc = main(["evaluate", str(tmp_path / "missing.gpkg"), str(tmp_path / "x.gpkg"), "--grid",
               str(tmp_path / "g.csv")])
    assert rc == 2 and capsys.readouterr().err.startswith("error:")


def test_cli_delineate_interpolated_perimeter(tiny_grid: Path, tmp_path: Path, capsys) -> None:
    cells, fine = tmp_path / "cells.gpkg", tmp_path / "fine.gpkg"
    assert _delineate(tiny_grid, cells) == 0
    assert _delineate(tiny_grid, fine, "--perimeter", "interpolated", "--perimeter-resolution", "50") == 0
    a = gpd.read_file(cells, layer="quartiers")
    b = gpd.read_file(fine, layer="quartiers")
    assert a.drop(columns=["geometry", "area_ha"]).equals(b.drop(columns=["geometry", "area_ha"]))
    assert not a.geometry.iloc[0].equals(b.geometry.iloc[0]) and b.is_valid.all()
    params = gpd.read_file(fine, layer="params").set_index("key")["value"]
    assert json.loads(params["perimeter"]) == "interpolated" and json.loads(params["perimeter_resolution"]) == 50.0
    with pytest.raises(SystemExit):
        _delineate(tiny_grid, tmp_path / "x.gpkg", "--perimeter", "smooth")
    capsys.readouterr()
