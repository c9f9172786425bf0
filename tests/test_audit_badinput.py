"""Broken inputs through the CLI: one message, exit status 2, no output (review audit)."""

from __future__ import annotations

import warnings

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from cohesion_geo.cli import main
from cohesion_geo.errors import ValidationError
from cohesion_geo.priority import evaluate
from cohesion_geo.synthetic import synthetic_path


def _cells() -> gpd.GeoDataFrame:
    geoms = [shapely.box(200 * i, 0, 200 * (i + 1), 200) for i in range(4)]
    return gpd.GeoDataFrame({"ind": [100.0, 200.0, 300.0, 400.0]}, geometry=geoms, crs=2154)


def test_evaluate_refuses_an_empty_official_layer():
    cand = gpd.GeoDataFrame(geometry=[shapely.box(200, 0, 600, 200)], crs=2154)
    empty = gpd.GeoDataFrame({"CODE_QP": pd.Series([], dtype=str)}, geometry=[], crs=2154)
    with pytest.raises(ValidationError, match="no polygon to evaluate against"):
        evaluate(cand, empty, grid=_cells())
    # a layer of rows without geometry is as empty
    nogeom = gpd.GeoDataFrame({"CODE_QP": ["QP1"]}, geometry=[None], crs=2154)
    with pytest.raises(ValidationError, match=r"\(1 rows, none with a geometry\)"):
        evaluate(cand, nogeom, grid=_cells())


def _run(argv, capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code = main([str(a) for a in argv])
    return code, capsys.readouterr()


def test_cli_evaluate_empty_official_file(tmp_path, capsys):
    grid = synthetic_path("grid")
    cand = tmp_path / "q.gpkg"
    assert _run(["delineate", grid, "--out", cand], capsys)[0] == 0
    official = tmp_path / "official.gpkg"
    gpd.GeoDataFrame({"CODE_QP": pd.Series([], dtype=str)}, geometry=[], crs=2154).to_file(official)
    out = tmp_path / "figures.json"
    code, cap = _run(["evaluate", cand, official, "--grid", grid, "--out", out], capsys)
    assert code == 2
    assert cap.err.strip().splitlines() == [f"error: {official}: 1 problem found:",
                                            "  - the official perimeter layer has no rows"]
    assert "Traceback" not in cap.err and cap.out == "" and not out.exists()


@pytest.mark.parametrize("case", ["empty_grid", "header_only_grid", "geographic_grid_without_ids",
                                  "reports_without_crs", "reports_in_the_wrong_crs", "project_missing_file"])
def test_cli_broken_inputs_give_one_message(case, tmp_path, capsys):
    out = tmp_path / "out.gpkg"
    grid = synthetic_path("grid")
    if case == "empty_grid":
        (tmp_path / "g.csv").write_text("")
        argv, expect = ["delineate", tmp_path / "g.csv", "--out", out], "the file is empty"
    elif case == "header_only_grid":
        (tmp_path / "g.csv").write_text("IdINSPIRE,Ind,Men\n")
        argv, expect = ["delineate", tmp_path / "g.csv", "--out", out], "the grid has no rows"
    elif case == "geographic_grid_without_ids":
        g = gpd.GeoDataFrame({"ind": [10.0]}, geometry=[shapely.box(-0.58, 44.84, -0.577, 44.842)], crs=4326)
        g.to_file(tmp_path / "g.gpkg", layer="grid")
        argv, expect = ["indicators", tmp_path / "g.gpkg", "--out", out], "lacks required column 'cell_id'"
    elif case in ("reports_without_crs", "reports_in_the_wrong_crs"):
        # longitude / latitude under x / y
        pd.DataFrame({"x": [-0.578878, -0.576796], "y": [44.851826, 44.863113], "category": ["housing"] * 2,
                      "comment": ["a", "b"], "date": ["2022-01-01"] * 2}).to_csv(tmp_path / "r.csv", index=False)
        argv = ["inputs", "load", "reports", tmp_path / "r.csv", "--out", out]
        if case == "reports_in_the_wrong_crs":
            argv += ["--crs", "2154"]
            expect = "out of range for EPSG:2154 in 2 rows"
        else:
            expect = "coordinates 'x'/'y' need their CRS"
    else:
        text = synthetic_path("grid").name
        project = tmp_path / "p.toml"
        from cohesion_geo.scenarios import project_path

        src = project_path("synthetic").read_text(encoding="utf-8")
        assert text in src
        project.write_text(src.replace("${synthetic_dir}/" + text, str(tmp_path / "nope.csv")), encoding="utf-8")
        out = tmp_path / "run"
        argv, expect = ["run", project, "--out", out], f"inputs.grid.path: file not found: {tmp_path / 'nope.csv'}"
    code, cap = _run(argv, capsys)
    assert code == 2, cap
    assert cap.err.startswith("error: ") and expect in cap.err and "Traceback" not in cap.err
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("out")) == []
