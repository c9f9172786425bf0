"""Commune financial capacity: ratio to the size group, population weighting, missing communes."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from _weigh_grids import block, cell_id, components, dissolve, make_grid

from cohesion_geo.errors import CohesionGeoWarning, ConfigError, MissingColumnsError
from cohesion_geo.priority.capacity import cell_communes, commune_capacity, quartier_capacity
from cohesion_geo.priority.surroundings import assign_cells

#: Four communes in two size groups (hand-computed below).
FINANCE = pd.DataFrame({
    "commune": ["00001", "00003", "00002", "00004"],
    "commune_name": ["UN", "TROIS", "DEUX", "QUATRE"],
    "population": [20_000.0, 30_000.0, 12_000.0, 13_000.0],
    "potentiel_financier": [16_000_000.0, 36_000_000.0, 18_000_000.0, 14_500_000.0],
    "size_group": ["20000-34999", "20000-34999", "10000-14999", "10000-14999"],
})


def test_commune_ratio_to_its_size_group_hand_computed():
    cap = commune_capacity(FINANCE)
    # group 20000-34999: (16 + 36) M EUR / 50,000 inh = 1,040 EUR; group 10000-14999: 32.5 M / 25,000 = 1,300
    assert cap.loc["00001", "pfin_per_inhabitant"] == pytest.approx(800.0)
    assert cap.loc["00001", "group_pfin_per_inhabitant"] == pytest.approx(1040.0)
    assert cap.loc["00001", "pfin_ratio"] == pytest.approx(800 / 1040)
    assert cap.loc["00001", "financial_fragility"] == pytest.approx(1.3)
    assert cap.loc["00002", "group_pfin_per_inhabitant"] == pytest.approx(1300.0)
    assert cap.loc["00002", "financial_fragility"] == pytest.approx(1300 / 1500)
    assert not cap["pfin_above_ceiling"].any()
    # no group: every commune against the whole table (84.5 M / 75,000)
    flat = commune_capacity(FINANCE, group=None)
    assert flat.loc["00001", "group_pfin_per_inhabitant"] == pytest.approx(84_500_000 / 75_000)


def test_per_inhabitant_input_and_ceiling():
    fin = FINANCE.drop(columns="potentiel_financier").assign(
        pfin_per_inhabitant=[800.0, 1200.0, 1500.0, 14_500_000 / 13_000])
    cap = commune_capacity(fin)
    assert cap.loc["00001", "group_pfin_per_inhabitant"] == pytest.approx(1040.0)
    rich = pd.concat([FINANCE, pd.DataFrame({"commune": ["00005"], "population": [500_000.0],
                                             "potentiel_financier": [500_000_000.0],
                                             "size_group": ["20000-34999"]})], ignore_index=True)
    rich.loc[0, "potentiel_financier"] = 60_000_000.0  # 3,000 EUR/inh vs (60 + 36 + 500) M / 550,000
    cap_rich = commune_capacity(rich)
    assert cap_rich.loc["00001", "pfin_ratio"] == pytest.approx(3000 / (596_000_000 / 550_000))
    assert cap_rich.loc["00001", "pfin_above_ceiling"] and not cap_rich.loc["00003", "pfin_above_ceiling"]


def test_capacity_input_errors():
    with pytest.raises(MissingColumnsError, match="potentiel_financier"):
        commune_capacity(FINANCE.drop(columns="potentiel_financier"))
    with pytest.raises(ConfigError, match="dsu_group"):
        commune_capacity(FINANCE, group="dsu_group")


def _two_commune_quartier():
    # quartier: 3 cells of 100 inhabitants in 00001, 1 cell in 00002 -> weights 0.75 / 0.25
    cells = {(c, r): {"commune": "00001" if c < 5 else "00002"} for c in range(10) for r in range(4)}
    q_cells = [(2, 1), (3, 1), (4, 1), (5, 1)]
    grid = make_grid(cells)
    table = pd.DataFrame({"cell_id": [cell_id(*p) for p in q_cells], "quartier_id": "A"})
    return grid, dissolve(grid, table), table


def test_quartier_spanning_two_communes_population_weighted():
    grid, q, table = _two_commune_quartier()
    cq = assign_cells(q, grid, assignment=table)
    out = quartier_capacity(cq, grid, commune_capacity(FINANCE), quartier_ids=["A"]).iloc[0]
    assert out["pfin_ratio"] == pytest.approx(0.75 * 800 / 1040 + 0.25 * 1500 / 1300)  # 0.865385
    assert out["financial_fragility"] == pytest.approx(0.75 * 1.3 + 0.25 * 1300 / 1500)  # 1.191667
    assert out["pfin_per_inhabitant"] == pytest.approx(0.75 * 800 + 0.25 * 1500)  # 975
    assert out["commune_main"] == "00001" and out["commune_main_name"] == "UN"
    assert out["commune_shares"] == "00001 75 %; 00002 25 %"
    assert pd.isna(out["finance_missing"])


def test_missing_finance_is_nan_with_a_warning_naming_the_commune():
    grid, q, table = _two_commune_quartier()
    cq = assign_cells(q, grid, assignment=table)
    partial = commune_capacity(FINANCE[FINANCE["commune"] != "00002"])
    with pytest.warns(CohesionGeoWarning, match=r"communes? 00002.*\(A\)"):
        out = quartier_capacity(cq, grid, partial, quartier_ids=["A"]).iloc[0]
    assert np.isnan(out["pfin_ratio"]) and np.isnan(out["financial_fragility"])
    assert out["finance_missing"] == "00002"
    assert out["commune_main"] == "00001"  # still said where it lies


def test_communes_outside_quartiers_do_not_warn():
    grid, q, table = _two_commune_quartier()
    grid = grid.copy()
    grid.loc[grid.index[0], "commune"] = "99999"  # a cell outside the quartier, commune unknown to finance
    cq = assign_cells(q, grid, assignment=table)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        quartier_capacity(cq, grid, commune_capacity(FINANCE), quartier_ids=["A"])


def test_grid_without_commune_needs_polygons():
    grid, q, table = _two_commune_quartier()
    bare = grid.drop(columns="commune")
    cq = assign_cells(q, bare, assignment=table)
    with pytest.raises(MissingColumnsError, match="commune polygons"):
        quartier_capacity(cq, bare, commune_capacity(FINANCE))
    x0, y0 = bare.total_bounds[:2]
    polys = gpd.GeoDataFrame({"INSEE_COM": ["00001", "00002"]},
                             geometry=[shapely.box(x0, y0, x0 + 1000, y0 + 800),
                                       shapely.box(x0 + 1000, y0, x0 + 2000, y0 + 800)], crs=bare.crs)
    located = cell_communes(bare, polys)
    assert (located.to_numpy() == grid["commune"].to_numpy()).all()
    out = quartier_capacity(cq, bare.assign(commune=located), commune_capacity(FINANCE)).iloc[0]
    assert out["financial_fragility"] == pytest.approx(1.191667, abs=1e-6)


@pytest.mark.realdata
def test_bordeaux_communes_real_finance(real_data_dir, bordeaux_grid):
    from cohesion_geo.datasets import REAL_FILES
    from cohesion_geo.loaders import load_finance

    fin = load_finance(real_data_dir / REAL_FILES["finance"])
    cap = commune_capacity(fin)
    # Bordeaux 33063 from the raw columns: (PF4Taxes2018 321,863,068 + DF2017 35,234,332) / PopDGF2018 259,259
    assert cap.loc["33063", "pfin_per_inhabitant"] == pytest.approx((321_863_068 + 35_234_332) / 259_259)
    assert cap.loc["33063", "pfin_per_inhabitant"] == pytest.approx(1377.38, abs=0.01)
    assert cap.loc["33063", "group"] == "200000+"
    assert cap.loc["33063", "group_pfin_per_inhabitant"] == pytest.approx(1602.58, abs=0.01)
    assert cap.loc["33063", "pfin_ratio"] == pytest.approx(0.8595, abs=1e-4)
    # Lormont 33249: (PF4Taxes2018 27,407,622 + DF2017 3,092,388) / PopDGF2018 22,695
    assert cap.loc["33249", "pfin_per_inhabitant"] == pytest.approx((27_407_622 + 3_092_388) / 22_695)
    # group average is a ratio of sums over the national stratum, e.g. 20,000-34,999
    g = fin[fin["size_group"].astype(str) == "20000-34999"]
    assert cap.loc["33249", "group_pfin_per_inhabitant"] == pytest.approx(
        g["potentiel_financier"].sum() / g["population"].sum())
    # DSU groups: Bordeaux against every commune of 10,000+
    dsu = commune_capacity(fin, group="dsu_group")
    assert dsu.loc["33063", "group"] == "10000+"
    assert dsu.loc["33063", "pfin_ratio"] == pytest.approx(1.1014, abs=1e-4)
    assert np.isnan(dsu.loc["33004", "pfin_ratio"])  # Ambès, 3,195 inhabitants: no DSU group
    # every commune of the grid (28 of the métropole + neighbours touched by cells) has figures
    metro = ["33003", "33004", "33013", "33032", "33039", "33056", "33063", "33065", "33069", "33075",
             "33096", "33119", "33162", "33167", "33192", "33200", "33249", "33273", "33281", "33312",
             "33318", "33376", "33434", "33449", "33487", "33519", "33522", "33550"]
    assert cap.loc[metro, "pfin_ratio"].notna().all()
    assert set(bordeaux_grid["commune"].dropna().unique()) <= set(cap.index)
    # real operating revenue (RRF2018) as a second reading
    assert cap.attrs["revenue_column"] == "RRF2018"
    assert cap.loc["33063", "revenue_per_inhabitant"] == pytest.approx(319_094_943 / 259_259)
    # real quartiers: population-weighted over their communes, no missing figure
    cells = components(bordeaux_grid)
    q = dissolve(bordeaux_grid, cells)
    cq = assign_cells(q, bordeaux_grid, assignment=cells)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = quartier_capacity(cq, bordeaux_grid, cap, quartier_ids=q["quartier_id"].tolist())
    out.index = q["quartier_id"]
    assert out["financial_fragility"].notna().all()
    bx = out[out["commune_shares"] == "33063 100 %"]
    assert sorted(bx.index) == ["Q038", "Q065", "Q077"]
    assert bx["pfin_ratio"].to_numpy() == pytest.approx([cap.loc["33063", "pfin_ratio"]] * 3)
    # Q052 spans Bordeaux and Cenon: weights are the inhabitants of its cells in each
    assert out.loc["Q052", "commune_shares"] == "33063 61 %; 33119 39 %"
    sel = bordeaux_grid[bordeaux_grid["cell_id"].isin(cells.loc[cells["quartier_id"] == "Q052", "cell_id"])]
    w = sel.groupby(sel["commune"].astype(str))["ind"].sum()
    w = w / w.sum()
    expected = w["33063"] * cap.loc["33063", "pfin_ratio"] + w["33119"] * cap.loc["33119", "pfin_ratio"]
    assert out.loc["Q052", "pfin_ratio"] == pytest.approx(expected)
    assert out.loc["Q052", "financial_fragility"] == pytest.approx(
        w["33063"] * cap.loc["33063", "financial_fragility"] + w["33119"] * cap.loc["33119", "financial_fragility"])
