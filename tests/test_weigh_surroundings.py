"""Surroundings: ring on the integer grid, quartier vs ring vs urban unit, situation labels."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from _weigh_grids import block, cell_id, components, dissolve, make_grid, pocket_and_belt

from cohesion_geo.errors import ConfigError, CRSError, ValidationError
from cohesion_geo.priority.surroundings import (
    SituationThresholds,
    assign_cells,
    classify_situation,
    ring_offsets,
    ring_pairs,
    surroundings,
)


def test_ring_offsets_500m_hand_counted():
    off = {tuple(o) for o in ring_offsets(500, cell_size=200).tolist()}
    # centre distances: axis k -> (k - 0.5) * 200; (3, 0) is 500 m, (3, 1) 510 m, (2, 2) 424 m, (2, 3) 583 m
    assert (3, 0) in off and (0, -3) in off and (2, 2) in off and (-2, 2) in off
    assert (3, 1) not in off and (2, 3) not in off and (4, 0) not in off and (0, 0) not in off
    assert len(off) == 28  # 7 x 7 square (49) minus 4 corners x 5 cells (20) minus the centre


def test_ring_offsets_refuse_distance_below_half_a_cell():
    with pytest.raises(ConfigError, match="half a cell"):
        ring_offsets(50, cell_size=200)
    with pytest.raises(ConfigError):
        ring_offsets(float("nan"), cell_size=200)


def test_pocket_and_belt_known_figures():
    grid, quartiers, cells = pocket_and_belt()
    s = surroundings(quartiers, grid, assignment=cells)
    a, b = s.loc[quartiers["quartier_id"] == "A"].iloc[0], s.loc[quartiers["quartier_id"] == "B"].iloc[0]
    # hand count of the ring of a 2 x 2 block at 500 m: rows dy=0: 8 cells x 2, dy=1: 6 x 2,
    # dy=2: 6 x 2, dy=3: 2 x 2 -> 44, minus the block's own 4 cells
    assert a["ring_cells"] == 40 and b["ring_cells"] == 40
    assert a["ring_ind"] == pytest.approx(4000.0)
    assert a["q_poverty_rate"] == pytest.approx(0.40)
    assert a["ring_poverty_rate"] == pytest.approx(0.05)
    assert b["ring_poverty_rate"] == pytest.approx(0.30)
    assert a["q_std_living"] == pytest.approx(12_000.0)
    assert a["ring_std_living"] == pytest.approx(25_000.0)
    assert b["ring_std_living"] == pytest.approx(15_000.0)
    # urban unit = whole grid: 117 west cells at 2.5 poor households, 106 east at 15, 8 quartier at 20
    uu = (117 * 2.5 + 106 * 15 + 8 * 20) / (231 * 50)
    assert a["uu_poverty_rate"] == pytest.approx(uu) and b["uu_poverty_rate"] == pytest.approx(uu)
    assert a["urban_unit"] == "study_area"
    assert a["contrast_std_living"] == pytest.approx(25_000 / 12_000)
    assert b["contrast_std_living"] == pytest.approx(15_000 / 12_000)
    assert a["contrast_poverty"] == pytest.approx(8.0)
    assert a["poverty_vs_uu"] == pytest.approx(0.40 / uu)
    # social housing: 40 social dwellings of 50 in the quartier, 10 of 50 in the belt
    assert a["q_social_housing"] == pytest.approx(0.8)
    assert a["ring_social_housing"] == pytest.approx(0.0)
    assert b["ring_social_housing"] == pytest.approx(0.2)
    # the two read differently
    assert a["situation"] == "isolated pocket"
    assert b["situation"] == "poor belt"


def test_ring_equals_centroids_in_a_500m_buffer_and_excludes_own_cells():
    grid, quartiers, cells = pocket_and_belt()
    cq = assign_cells(quartiers, grid, assignment=cells)
    pairs = ring_pairs(cq, grid, distance=500)
    centres = grid.geometry.centroid
    for pos, qid in enumerate(quartiers["quartier_id"]):
        buffer = quartiers.geometry.iloc[pos].buffer(500, quad_segs=64)
        inside = set(np.flatnonzero(shapely.within(np.asarray(centres.array), buffer)
                                    | shapely.touches(np.asarray(centres.array), buffer)))
        inside -= set(np.flatnonzero(cq == pos))
        got = set(pairs.loc[pairs["quartier"] == pos, "cell"])
        assert got == inside, qid
        own = set(grid.index[grid["cell_id"].isin(cells.loc[cells["quartier_id"] == qid, "cell_id"])])
        assert not (got & own)


def test_other_quartiers_left_out_of_the_ring_and_counted():
    # quartier A (2 x 2 at columns 3-4) and quartier C (1 x 2 at column 6, dx = 2): C lies within A's ring
    a_cells, c_cells = block(3, 3), block(6, 3, 1, 2)
    cells = {(c, r): {"rate": 0.05, "snv": 25_000.0} for c in range(12) for r in range(8)}
    for p in a_cells:
        cells[p] = {"rate": 0.4, "snv": 12_000.0}
    for p in c_cells:
        cells[p] = {"rate": 0.5, "snv": 11_000.0, "ind": 500.0, "men": 250.0}
    grid = make_grid(cells)
    table = pd.DataFrame({"cell_id": [cell_id(*p) for p in a_cells] + [cell_id(*p) for p in c_cells],
                          "quartier_id": ["A"] * 4 + ["C"] * 2})
    quartiers = dissolve(grid, table)
    s = surroundings(quartiers, grid, assignment=table).set_index(quartiers["quartier_id"])
    s_in = surroundings(quartiers, grid, assignment=table, exclude_quartiers=False).set_index(
        quartiers["quartier_id"])
    # A's full ring (40 cells, all inside the grid) holds both C cells
    assert s.loc["A", "ring_cells"] == 38 and s_in.loc["A", "ring_cells"] == 40
    assert s.loc["A", "ring_poverty_rate"] == pytest.approx(0.05)
    assert s.loc["A", "ring_in_quartiers"] == pytest.approx(1000 / (1000 + 3800))
    assert s_in.loc["A", "ring_poverty_rate"] == pytest.approx((38 * 2.5 + 2 * 125) / (38 * 50 + 2 * 250))


def test_assignment_from_polygons_matches_the_cell_table():
    grid, quartiers, cells = pocket_and_belt()
    by_table = assign_cells(quartiers, grid, assignment=cells)
    by_polygon = assign_cells(quartiers, grid)
    np.testing.assert_array_equal(by_table, by_polygon)
    series = assign_cells(quartiers, grid, assignment=cells.set_index("cell_id")["quartier_id"])
    np.testing.assert_array_equal(series, by_table)


def test_assignment_problems_are_all_listed():
    grid, quartiers, cells = pocket_and_belt()
    bad = pd.concat([cells, pd.DataFrame({"cell_id": ["nope", cell_id(3, 5)], "quartier_id": ["A", "B"]}),
                     pd.DataFrame({"cell_id": [cell_id(0, 0)], "quartier_id": ["Z"]})])
    with pytest.raises(ValidationError) as err:
        assign_cells(quartiers, grid, assignment=bad)
    text = str(err.value)
    assert len(err.value.problems) == 3
    assert "'nope'" in text and "'Z'" in text and "several quartiers" in text


def test_crs_mismatch_is_refused_without_assignment():
    grid, quartiers, _ = pocket_and_belt()
    with pytest.raises(CRSError, match="EPSG:2154"):
        assign_cells(quartiers.to_crs(2154), grid)


def test_duplicated_quartier_ids_refused():
    grid, quartiers, cells = pocket_and_belt()
    q = quartiers.copy()
    q["quartier_id"] = "A"
    with pytest.raises(ValidationError, match="duplicated"):
        surroundings(q, grid, assignment=cells.assign(quartier_id="A"))


def test_urban_units_from_a_commune_table():
    # west half in commune 00001 (urban unit U1), east half in 00002 (U2)
    cells = {}
    for c in range(14):
        for r in range(8):
            west = c < 7
            cells[(c, r)] = {"rate": 0.1 if west else 0.3, "commune": "00001" if west else "00002"}
    for p in block(2, 3):
        cells[p] = {"rate": 0.5, "commune": "00001"}
    grid = make_grid(cells)
    table = pd.DataFrame({"cell_id": [cell_id(*p) for p in block(2, 3)], "quartier_id": "A"})
    q = dissolve(grid, table)
    uu = pd.DataFrame({"commune": ["00001", "00002"], "urban_unit": ["U1", "U2"]})
    s = surroundings(q, grid, assignment=table, urban_units=uu).iloc[0]
    assert s["urban_unit"] == "U1"
    assert s["uu_poverty_rate"] == pytest.approx((52 * 0.1 + 4 * 0.5) / 56)
    # a commune absent from the table: warning, urban-unit figures missing
    with pytest.warns(UserWarning, match="missing from the urban-unit table"):
        s2 = surroundings(q, grid, assignment=table, urban_units={"00002": "U2"}).iloc[0]
    assert np.isnan(s2["uu_poverty_rate"]) and s2["situation"] == "no surroundings data"
    # a commune flagged rural by load_urban_units (code dd000) is in no urban unit, as in delineate()
    rural = pd.DataFrame({"commune": ["00001", "00002"], "urban_unit": ["00000", "U2"], "rural": [True, False]})
    with pytest.warns(UserWarning, match="outside any urban unit"):
        s3 = surroundings(q, grid, assignment=table, urban_units=rural).iloc[0]
    assert pd.isna(s3["urban_unit"]) and np.isnan(s3["uu_poverty_rate"])


def test_derived_grid_uses_population_weighted_means():
    grid, quartiers, cells = pocket_and_belt()
    derived = grid[["cell_id", "cell_x", "cell_y", "cell_size", "ind", "mean_std_living", "poverty_rate",
                    "imputed", "geometry"]].copy()
    derived.loc[derived.index[:30], "ind"] = 40.0  # uneven populations
    full = grid.copy()
    full.loc[full.index[:30], ["ind", "men"]] = [40.0, 20.0]
    full["ind_snv"] = full["mean_std_living"] * full["ind"]
    full["men_pauv"] = full["poverty_rate"] * full["men"]
    s_derived = surroundings(quartiers, derived, assignment=cells)
    s_full = surroundings(quartiers, full, assignment=cells)
    # standard of living: identical (pop-weighted mean of means = sum ind_snv / sum ind)
    np.testing.assert_allclose(s_derived["ring_std_living"], s_full["ring_std_living"])
    np.testing.assert_allclose(s_derived["uu_std_living"], s_full["uu_std_living"])
    # poverty: population-weighted, equal here because inhabitants / households is 2 everywhere
    np.testing.assert_allclose(s_derived["uu_poverty_rate"], s_full["uu_poverty_rate"])
    assert s_derived["q_social_housing"].isna().all()
    assert any("derived grid" in n for n in s_derived.attrs["notes"])


def test_small_ring_is_secret():
    # an isolated quartier with one 5-household neighbour: no ring statistic
    cells = {p: {"rate": 0.4, "ind": 300.0, "men": 150.0} for p in block(0, 0)}
    cells[(2, 0)] = {"rate": 0.2, "ind": 10.0, "men": 5.0}
    grid = make_grid(cells)
    table = pd.DataFrame({"cell_id": [cell_id(*p) for p in block(0, 0)], "quartier_id": "A"})
    s = surroundings(dissolve(grid, table), grid, assignment=table).iloc[0]
    assert s["ring_cells"] == 1
    assert np.isnan(s["ring_poverty_rate"]) and np.isnan(s["ring_std_living"])
    assert s["situation"] == "no surroundings data"


def test_situation_thresholds_configurable_and_validated():
    t = pd.DataFrame({"q_poverty_rate": [0.4], "ring_poverty_rate": [0.2], "uu_poverty_rate": [0.15],
                      "ring_in_quartiers": [0.0]})
    assert classify_situation(t).iloc[0] == "mixed surroundings"  # ring 1.33 x the urban unit
    assert classify_situation(t, thresholds={"belt_ring_vs_uu": 1.3}).iloc[0] == "poor belt"
    assert classify_situation(t, thresholds={"pocket_ring_vs_uu": 1.4, "belt_ring_vs_uu": 1.5}).iloc[0] \
        == "isolated pocket"
    t2 = t.assign(ring_in_quartiers=0.6)
    assert classify_situation(t2).iloc[0] == "poor belt"
    with pytest.raises(ConfigError, match="valid names"):
        SituationThresholds.coerce({"belt": 1.0})
    with pytest.raises(ConfigError, match="non-negative"):
        SituationThresholds.coerce({"pocket_contrast": -1})
    with pytest.raises(ConfigError, match="must not be below"):
        SituationThresholds.coerce({"belt_ring_vs_uu": 0.9})


def test_independent_of_row_order():
    grid, quartiers, cells = pocket_and_belt()
    ref = surroundings(quartiers, grid, assignment=cells).set_index(quartiers["quartier_id"]).sort_index()
    rng = np.random.default_rng(3)
    g2 = grid.iloc[rng.permutation(len(grid))].reset_index(drop=True)
    q2 = quartiers.iloc[::-1].reset_index(drop=True)
    got = surroundings(q2, g2, assignment=cells.sample(frac=1, random_state=1)).set_index(
        q2["quartier_id"]).sort_index()
    pd.testing.assert_frame_equal(got, ref, check_exact=False)


def test_halo_partition_gives_the_same_rings():
    """A grid cut to the quartier plus a halo of the ring distance gives the same figures (urban unit aside)."""
    grid, quartiers, cells = pocket_and_belt()
    full = surroundings(quartiers, grid, assignment=cells)
    west = grid[grid["cell_x"] <= grid["cell_x"].min() + 8 * 200].reset_index(drop=True)  # A + 500 m halo
    part = surroundings(quartiers.iloc[[0]], west, assignment=cells[cells["quartier_id"] == "A"])
    for col in ("ring_cells", "ring_ind", "ring_poverty_rate", "ring_std_living", "q_poverty_rate"):
        assert part[col].iloc[0] == pytest.approx(full[col].iloc[0])


@pytest.mark.realdata
def test_bordeaux_rings_match_a_geometric_buffer(bordeaux_grid):
    grid = bordeaux_grid
    cells = components(grid)
    quartiers = dissolve(grid, cells)
    assert len(quartiers) == 12
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = surroundings(quartiers, grid, assignment=cells).set_index(quartiers["quartier_id"])
    # independent check: cell centres within a 500 m buffer of the dissolved polygon, minus every candidate
    centres = np.asarray(grid.geometry.centroid.array)
    candidate = grid["cell_id"].isin(cells["cell_id"]).to_numpy()
    for qid, geom in zip(quartiers["quartier_id"], quartiers.geometry, strict=True):
        buf = geom.buffer(500, quad_segs=64)
        near = (shapely.within(centres, buf) | shapely.touches(centres, buf)) & ~candidate
        sub = grid[near]
        assert s.loc[qid, "ring_cells"] == int(near.sum()), qid
        assert s.loc[qid, "ring_poverty_rate"] == pytest.approx(sub["men_pauv"].sum() / sub["men"].sum())
        assert s.loc[qid, "ring_std_living"] == pytest.approx(sub["ind_snv"].sum() / sub["ind"].sum())
    # figures of two quartiers of the real grid
    assert s.loc["Q077", "q_poverty_rate"] == pytest.approx(0.4448, abs=1e-4)
    assert s.loc["Q077", "ring_poverty_rate"] == pytest.approx(0.1408, abs=1e-4)
    assert s.loc["Q077", "situation"] == "isolated pocket"
    assert s.loc["Q038", "q_ind"] == pytest.approx(13354.5)
    assert s.loc["Q038", "ring_poverty_rate"] == pytest.approx(0.2306, abs=1e-4)
    assert s.loc["Q038", "situation"] == "poor belt"
    # the study area (Bordeaux Métropole grid) as reference: 14.0 % poor households
    assert s["uu_poverty_rate"].iloc[0] == pytest.approx(grid["men_pauv"].sum() / grid["men"].sum())
    assert s["uu_poverty_rate"].iloc[0] == pytest.approx(0.1402, abs=1e-4)


def test_centre_in_overlapping_polygons_goes_to_the_least_id_or_code():
    from cohesion_geo.priority.capacity import cell_communes

    grid = gpd.GeoDataFrame({"cell_id": ["a", "b", "c"]},
                            geometry=[shapely.box(0, 0, 200, 200), shapely.box(200, 0, 400, 200),
                                      shapely.box(400, 0, 600, 200)], crs=3035)
    wide, narrow = shapely.box(-10, -10, 410, 210), shapely.box(150, -10, 310, 210)
    quartiers = gpd.GeoDataFrame({"quartier_id": ["Q2", "Q1"]}, geometry=[wide, narrow], crs=3035)
    assert assign_cells(quartiers, grid).tolist() == [0, 1, -1]  # cell b is in both: Q1 first
    communes = gpd.GeoDataFrame({"commune": ["33063", "33039"]}, geometry=[wide, narrow], crs=3035)
    assert cell_communes(grid, communes).tolist() == ["33063", "33039", pd.NA]
