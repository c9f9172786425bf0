"""weigh_quartiers end to end, residents' reports, the ``weigh`` command; Bordeaux and Lille real data."""

from __future__ import annotations

import html
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from _weigh_grids import (
    POCKET,
    X0,
    Y0,
    cell_id,
    components,
    dissolve,
    make_raw,
    pocket_and_belt,
    pocket_and_belt_cells,
    pocket_and_belt_table,
)

from cohesion_geo.cli import main
from cohesion_geo.errors import ValidationError
from cohesion_geo.priority.score import COMPONENTS
from cohesion_geo.priority.surroundings import assign_cells
from cohesion_geo.priority.weigh import quartier_residents, weigh_quartiers

FINANCE = pd.DataFrame({
    "commune": ["00001", "00002"],
    "commune_name": ["UN", "DEUX"],
    "population": [20_000.0, 30_000.0],
    "potentiel_financier": [16_000_000.0, 36_000_000.0],
    "size_group": ["20000-34999", "20000-34999"],
})


def test_weigh_pocket_and_belt_end_to_end():
    grid, quartiers, cells = pocket_and_belt()
    before_q, before_g = quartiers.copy(), grid.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = weigh_quartiers(quartiers, grid, assignment=cells, finance=FINANCE)
    pd.testing.assert_frame_equal(quartiers, before_q)  # inputs untouched
    pd.testing.assert_frame_equal(grid, before_g)
    assert isinstance(out, gpd.GeoDataFrame) and out.crs == quartiers.crs
    assert list(out.columns[:5]) == ["quartier_id", "rank", "score", "reasons", "situation"]
    assert out["rank"].tolist() == [1, 2] and list(out.index) == [0, 1]
    by = out.set_index("quartier_id")
    assert by.loc["A", "situation"] == "isolated pocket" and by.loc["B", "situation"] == "poor belt"
    # same poverty, population and commune: A leads on contrast (ring 25,000 vs 15,000 EUR)
    assert by.loc["A", "rank"] == 1
    assert by.loc["A", "norm_contrast"] == 1.0 and by.loc["B", "norm_contrast"] == 0.0
    for n in ("poverty", "fragility", "population"):
        assert by.loc["A", f"norm_{n}"] == 0.5 == by.loc["B", f"norm_{n}"]
    # default weights without reports: 0.4/0.2/0.2/0.1 renormalised over 0.9
    assert by.loc["A", "score"] == pytest.approx(100 * (0.4 * 0.5 + 0.2 * 1 + 0.2 * 0.5 + 0.1 * 0.5) / 0.9)
    contrib = out[[f"contrib_{n}" for n in COMPONENTS]].sum(axis=1)
    np.testing.assert_allclose(contrib, out["score"])
    assert by.loc["A", "pfin_ratio"] == pytest.approx(800 / 1040)
    assert by.loc["A", "reasons"].startswith("poverty rate 40 % vs 5 % in its ring and 18 % across the study area")
    assert out.attrs["weights"]["reports"] == 0.0
    assert out.attrs["ring"]["distance"] == 500.0
    # the quartiers' own columns and geometry follow
    assert {"men_pauv", "poverty_rate", "geometry"} <= set(out.columns)
    assert out.geometry.equals(quartiers.set_index("quartier_id").loc[out["quartier_id"]].geometry.reset_index(
        drop=True))


def test_weigh_independent_of_row_order():
    grid, quartiers, cells = pocket_and_belt()
    ref = weigh_quartiers(quartiers, grid, assignment=cells, finance=FINANCE)
    rng = np.random.default_rng(11)
    g2 = grid.iloc[rng.permutation(len(grid))].reset_index(drop=True)
    q2 = quartiers.iloc[::-1].reset_index(drop=True)
    got = weigh_quartiers(q2, g2, assignment=cells.iloc[::-1], finance=FINANCE.iloc[::-1])
    pd.testing.assert_frame_equal(pd.DataFrame(got.drop(columns="geometry")),
                                  pd.DataFrame(ref.drop(columns="geometry")), check_exact=False)


def test_weights_change_the_ranking():
    grid, quartiers, cells = pocket_and_belt()
    # B made larger: 4 more cells of the belt join it
    extra = pd.DataFrame({"cell_id": [cell_id(c, 7) for c in (15, 16)] + [cell_id(c, 4) for c in (15, 16)],
                          "quartier_id": "B"})
    table = pd.concat([cells, extra], ignore_index=True)
    q = dissolve(grid, table)
    by_contrast = weigh_quartiers(q, grid, assignment=table, weights={"contrast": 1})
    by_size = weigh_quartiers(q, grid, assignment=table, weights="population=1")
    assert by_contrast["quartier_id"].tolist() == ["A", "B"]
    assert by_size["quartier_id"].tolist() == ["B", "A"]


def test_residents_from_a_cell_table_and_from_points():
    grid, quartiers, cells = pocket_and_belt()
    cq = assign_cells(quartiers, grid, assignment=cells)
    ids = grid["cell_id"].astype(str)
    # per-cell table: 10 reports in each cell of A, 1 in one cell of B; classes given
    table = pd.DataFrame({"cell_id": ids, "reports_count": 0.0, "confrontation": "neither"})
    table.loc[ids.isin([cell_id(*p) for p in POCKET]).to_numpy(), ["reports_count", "confrontation"]] = [10.0, "both"]
    table.loc[ids == cell_id(15, 5), ["reports_count", "confrontation"]] = [1.0, "statistics_only"]
    table.loc[ids == cell_id(16, 5), "confrontation"] = "statistics_only"
    res = quartier_residents(cq, grid, table.iloc[::-1], index=quartiers.index).set_index(quartiers["quartier_id"])
    assert res.loc["A", "reports_n"] == 40 and res.loc["A", "reports_per_1000"] == pytest.approx(100.0)
    assert res.loc["A", "confrontation"] == "both" and res.loc["A", "confrontation_share"] == 1.0
    assert res.loc["B", "reports_per_1000"] == pytest.approx(2.5)
    # B: 2 cells statistics_only, 2 neither -> tie broken in the documented order
    assert res.loc["B", "confrontation"] == "statistics_only" and res.loc["B", "confrontation_share"] == 0.5
    # report points (EPSG:3035) snapped to their cells by the indicator engine
    pts = [shapely.Point(X0 + c * 200 + 50 + i, Y0 + r * 200 + 120) for (c, r) in POCKET for i in range(10)]
    reports = gpd.GeoDataFrame({"category": ["housing"] * len(pts)}, geometry=pts, crs=3035)
    res2 = quartier_residents(cq, grid, reports).set_index(quartiers["quartier_id"])
    assert res2.loc["A", "reports_n"] == 40 and res2.loc["B", "reports_n"] == 0
    # A's cells: top poverty and the only reports -> statistics and residents agree
    assert res2.loc["A", "confrontation"] == "both"
    assert res2.loc["B", "confrontation"] == "statistics_only"
    out = weigh_quartiers(quartiers, grid, assignment=cells, residents=reports)
    by = out.set_index("quartier_id")
    assert by.loc["A", "norm_reports"] == 1.0 and by.loc["B", "norm_reports"] == 0.0
    assert "100.0 residents' reports per 1,000 inhabitants (confrontation: both)" in by.loc["A", "reasons"]


def test_residents_table_must_align():
    grid, quartiers, cells = pocket_and_belt()
    cq = assign_cells(quartiers, grid, assignment=cells)
    with pytest.raises(ValidationError, match="not aligned"):
        quartier_residents(cq, grid, pd.DataFrame({"reports_n": [1.0]}, index=[999]))


def test_weigh_refuses_empty_inputs():
    grid, quartiers, cells = pocket_and_belt()
    with pytest.raises(ValidationError, match="no candidate"):
        weigh_quartiers(quartiers.iloc[:0], grid)
    with pytest.raises(ValidationError, match="GeoDataFrame"):
        weigh_quartiers(pd.DataFrame(quartiers.drop(columns="geometry")), grid)


def _dgcl_csv(path):
    text = ('"CodeCom";"NomCom";"CodeDep";"PopDGF2017";"PopDGF2018";"DF2017";"DF2018";"PF4Taxes2018"\r\n'
            '"00001";"UN";"00";20000;20000;1000000;900000;15000000\r\n'
            '"00002";"DEUX";"00";30000;30000;2000000;1900000;34000000\r\n')
    path.write_bytes(text.encode("latin-1"))
    return path


def test_cli_weigh(tmp_path, capsys):
    from cohesion_geo._io import write_layers

    grid_csv = tmp_path / "grid.csv"
    make_raw(pocket_and_belt_cells()).to_csv(grid_csv, index=False)
    grid, quartiers, cells = pocket_and_belt()
    qfile = tmp_path / "quartiers.gpkg"
    write_layers({"quartiers": quartiers, "cells": pocket_and_belt_table()}, qfile)
    out = tmp_path / "out" / "ranked.gpkg"
    code = main(["weigh", str(qfile), "--grid", str(grid_csv), "--finance", str(_dgcl_csv(tmp_path / "f.csv")),
                 "--ring", "500", "--weights", "poverty=0.4,contrast=0.4,fragility=0.2", "--out", str(out)])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert "2 quartiers weighed" in printed.out and "poverty=0.40, contrast=0.40, fragility=0.20" in printed.out
    ranked = gpd.read_file(out, layer="ranked")
    table = pd.read_csv(out.with_suffix(".csv"))
    assert ranked["quartier_id"].tolist() == ["A", "B"] == table["quartier_id"].tolist()
    assert ranked["situation"].tolist() == ["isolated pocket", "poor belt"]
    # finance through the loader: (15 M + DF2017 1 M) / 20,000 = 800 EUR/inh; group (16 + 36) M / 50,000
    assert ranked["pfin_ratio"].iloc[0] == pytest.approx(800 / 1040)
    assert np.allclose(table[[f"contrib_{n}" for n in COMPONENTS]].sum(axis=1), table["score"])
    assert all(html.escape(r, quote=False) == r for r in table["reasons"])


def test_cli_weigh_errors(tmp_path, capsys):
    grid_csv = tmp_path / "grid.csv"
    make_raw(pocket_and_belt_cells()).to_csv(grid_csv, index=False)
    _, quartiers, _ = pocket_and_belt()
    qfile = tmp_path / "q.gpkg"
    quartiers.rename(columns={"quartier_id": "code"}).to_file(qfile, layer="zones")
    args = ["weigh", str(qfile), "--grid", str(grid_csv), "--out", str(tmp_path / "r.gpkg")]
    assert main(args + ["--weights", "povrety=1"]) == 2
    assert "unknown component 'povrety'; valid names: poverty" in capsys.readouterr().err
    assert main(args) == 2
    assert "--id-column" in capsys.readouterr().err
    assert main(args + ["--situation", "pocket=2"]) == 2
    assert "valid names" in capsys.readouterr().err
    # with the identifier named, cells located by their centres, quartiers reprojected
    quartiers.rename(columns={"quartier_id": "code"}).to_crs(2154).to_file(qfile, layer="zones")
    assert main(args + ["--id-column", "code", "--out", str(tmp_path / "r.csv")]) == 0
    err = capsys.readouterr().err
    assert "reprojected" in err
    assert pd.read_csv(tmp_path / "r.csv")["quartier_id"].tolist() == ["A", "B"]
    assert not (tmp_path / "r.gpkg").exists()


@pytest.mark.realdata
def test_bordeaux_weighed_and_ranked(real_data_dir, bordeaux_grid):
    from cohesion_geo.datasets import REAL_FILES
    from cohesion_geo.loaders import load_finance

    fin = load_finance(real_data_dir / REAL_FILES["finance"])
    cells = components(bordeaux_grid)
    quartiers = dissolve(bordeaux_grid, cells)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = weigh_quartiers(quartiers, bordeaux_grid, assignment=cells, finance=fin)
    assert len(out) == 12 and out["rank"].tolist() == list(range(1, 13))
    by = out.set_index("quartier_id")
    assert by["q_ind"].to_numpy() == pytest.approx(quartiers.set_index("quartier_id").loc[by.index, "ind"])
    assert by["financial_fragility"].notna().all() and by["components_missing"].isna().all()
    np.testing.assert_allclose(out[[f"contrib_{n}" for n in COMPONENTS]].sum(axis=1), out["score"])
    # the poorest quartier, an isolated pocket in Bordeaux, ranks first with the default weights
    top = out.iloc[0]
    assert top["quartier_id"] == "Q077" and top["commune_main_name"] == "BORDEAUX"
    assert top["reasons"].startswith(
        "poverty rate 44 % vs 14 % in its ring and 14 % across the study area; isolated pocket: "
        "standard of living 13,013 EUR vs 20,819 EUR in its ring; commune financial potential per "
        "inhabitant 0.86x its size group (BORDEAUX)")
    assert by.loc["Q038", "situation"] == "poor belt"
    assert set(out["situation"]) <= {"isolated pocket", "poor belt", "mixed surroundings"}


@pytest.mark.realdata
def test_bordeaux_delineation_output_weighs(bordeaux_grid):
    from cohesion_geo.priority import delineate

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # no urban-unit table: delineation says so
        result = delineate(bordeaux_grid)
    out = weigh_quartiers(result.quartiers, bordeaux_grid, assignment=result.cells)
    assert sorted(out["quartier_id"]) == sorted(result.quartiers["quartier_id"])
    assert sorted(out["rank"]) == list(range(1, len(out) + 1))
    by = out.set_index("quartier_id")
    own = result.quartiers.set_index("quartier_id")
    # the same cells: population and poverty agree with the delineation's own figures
    assert by["q_ind"].to_numpy() == pytest.approx(own.loc[by.index, "ind"].to_numpy())
    assert by["q_poverty_rate"].to_numpy() == pytest.approx(own.loc[by.index, "poverty_rate"].to_numpy())
    assert (by["ring_cells"] > 0).all()


@pytest.mark.realdata
def test_lille_official_quartiers_weighed(real_data_dir, lille_grid):
    from cohesion_geo.datasets import REAL_FILES
    from cohesion_geo.loaders import load_finance

    qpv = gpd.read_file(real_data_dir / REAL_FILES["lille_qpv"]).rename(columns={"CODE_QP": "quartier_id"})
    communes = gpd.read_file(real_data_dir / REAL_FILES["lille_communes"])
    fin = load_finance(real_data_dir / REAL_FILES["finance"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = weigh_quartiers(qpv, lille_grid, finance=fin, communes=communes)
    assert len(out) == 26
    by = out.set_index("quartier_id")
    assert by["commune_main"].str.startswith("59").all()
    assert by["financial_fragility"].notna().all()
    assert by["q_social_housing"].isna().all()  # derived grid: no social-housing count
    assert by["q_cells"].min() >= 1
    # La Bourgogne (Tourcoing): 49 % poor (population-weighted cell rates), first with the default weights
    assert out["quartier_id"].iloc[0] == "QP059087"
    assert by.loc["QP059087", "commune_main_name"] == "TOURCOING"
    assert by.loc["QP059087", "q_poverty_rate"] == pytest.approx(0.491, abs=1e-3)
    # the intercommunal Roubaix-Tourcoing quartier is weighted over its communes
    assert by.loc["QP059082", "commune_shares"].startswith("59512 97 %; 59599 3 %")
    assert by.loc["QP059082", "q_ind"] == pytest.approx(59969.5)
