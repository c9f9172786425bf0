"""``delineate(perimeter="interpolated")``: edges drawn between cell centres, on grids whose answer is known."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely

from cohesion_geo.errors import ConfigError
from cohesion_geo.priority import RULES, delineate
from cohesion_geo.priority.perimeter import bilinear_upsample, subcell_factor, zone_subpixels
from cohesion_geo.priority.rules import RuleInputs

from test_delineate import picture_grid

X0, Y0 = 3_800_000, 3_000_000
S = 10_000.0


def field_grid(values: np.ndarray, *, pop: float = 200.0, units: np.ndarray | None = None) -> pd.DataFrame:
    """Grid of mean standards of living given as a picture array (row 0 is the north); NaN: no cell."""
    rows = []
    n = values.shape[0]
    for r in range(n):
        for c in range(values.shape[1]):
            v = values[r, c]
            if np.isnan(v):
                continue
            x, y = X0 + 200 * c, Y0 + 200 * (n - 1 - r)
            rows.append({"cell_id": f"CRS3035RES200mN{y}E{x}", "cell_x": x, "cell_y": y, "cell_size": 200,
                         "ind": pop, "mean_std_living": float(v), "poverty_rate": 0.1, "imputed": False,
                         "urban_unit": "U1" if units is None else units[r, c]})
    return pd.DataFrame(rows)


def block(inner: float, outer: float, *, size: int = 7, lo: int = 2, hi: int = 5) -> np.ndarray:
    a = np.full((size, size), outer)
    a[lo:hi, lo:hi] = inner
    return a


def run(grid: pd.DataFrame, **kw):
    kw.setdefault("rule", "official")
    kw.setdefault("threshold", S)
    kw.setdefault("national_median", 20_000)
    kw.setdefault("urban_unit_population", 50_000)
    return delineate(grid, **kw)


def corner_area(m1: float, m2: float) -> float:
    """Area (cell units) of {m1 (1-u)(1-v) - m2 (1 - (1-u)(1-v)) >= 0} in the unit square of a corner."""
    c = m2 / (m1 + m2)
    return (1 - c) - c * math.log(1 / c)


# --- the edge sits at the linear crossing point --------------------------------


def test_edge_moves_to_the_linear_crossing_point() -> None:
    # poor block margin m1 = 1 - 4,000/10,000 = 0.6; neighbours m2 = 12,000/10,000 - 1 = 0.2:
    # the edge lies m1 / (m1 + m2) = 3/4 of the way from the edge cells' centres (50 m into the neighbours)
    res = run(field_grid(block(4_000.0, 12_000.0)), perimeter="interpolated")
    (geom,) = res.quartiers.geometry
    cells = run(field_grid(block(4_000.0, 12_000.0))).quartiers.geometry.iloc[0]
    assert cells.bounds == (X0 + 400, Y0 + 400, X0 + 1_000, Y0 + 1_000)
    assert geom.bounds == (X0 + 350, Y0 + 350, X0 + 1_050, Y0 + 1_050)
    # straight sides, corners rounded along the bilinear hyperbola
    expected = (2 * 2 + 4 * 2 * 0.75 + 4 * corner_area(0.6, 0.2)) * 200**2
    assert geom.area == pytest.approx(expected, rel=0.01)
    assert res.quartiers["area_ha"].iloc[0] == pytest.approx(geom.area / 1e4)
    assert geom.is_valid and geom.geom_type == "Polygon"


def test_symmetric_margins_keep_the_cell_edges_and_round_the_corners() -> None:
    res = run(field_grid(block(6_000.0, 14_000.0)), perimeter="interpolated")  # m1 = m2 = 0.4
    (geom,) = res.quartiers.geometry
    assert geom.bounds == (X0 + 400, Y0 + 400, X0 + 1_000, Y0 + 1_000)
    expected = (4 + 4 * 2 * 0.5 + 4 * corner_area(0.4, 0.4)) * 200**2  # 9 cells minus rounded corners
    assert geom.area == pytest.approx(expected, rel=0.01)
    assert geom.area < 9 * 200**2


def test_small_margins_are_clamped_so_the_edge_stays_near_the_cell_edge() -> None:
    # margins +0.02 / -0.02 count +-0.1: symmetric, the edge stays on the cell edge
    res = run(field_grid(block(9_800.0, 10_200.0)), perimeter="interpolated")
    assert res.quartiers.geometry.iloc[0].bounds == (X0 + 400, Y0 + 400, X0 + 1_000, Y0 + 1_000)


def test_no_cell_beyond_the_zone_keeps_the_cell_edge() -> None:
    a = block(4_000.0, 12_000.0)
    a[:, 5:] = np.nan  # nobody lives east of the block
    geom = run(field_grid(a), perimeter="interpolated").quartiers.geometry.iloc[0]
    assert geom.bounds == (X0 + 350, Y0 + 350, X0 + 1_000, Y0 + 1_050)


def test_zone_keeps_its_cells_and_stays_one_piece_next_to_very_rich_cells() -> None:
    # a one-cell-wide corridor of barely poor cells (margin 0.1) between very rich ones (margin -5):
    # the interpolated field alone would cut it; the centres and the segments between them stay in
    a = np.full((3, 7), 60_000.0)
    a[1, 1:6] = 9_000.0
    res = run(field_grid(a, pop=300), perimeter="interpolated", contiguity="rook")
    (geom,) = res.quartiers.geometry
    assert geom.geom_type == "Polygon" and geom.is_valid
    centres = [shapely.Point(X0 + 200 * c + 100, Y0 + 300) for c in range(1, 6)]
    assert all(geom.contains(p) for p in centres)
    assert geom.area < 5 * 200**2 / 2  # the edge moved well inside the cells


def test_filled_hole_without_a_cell_counts_as_zone() -> None:
    a = block(4_000.0, 12_000.0)
    a[3, 3] = np.nan  # an uninhabited pixel inside the poor block (filled)
    geom = run(field_grid(a), perimeter="interpolated").quartiers.geometry.iloc[0]
    assert geom.geom_type == "Polygon" and len(geom.interiors) == 0


# --- zones never overlap ----------------------------------------------------------


def test_two_zones_touching_at_a_corner_never_overlap() -> None:
    # rook zones meeting at a corner: each alone would take the pixels around the shared corner
    a = np.full((6, 6), 10_400.0)  # margin -0.04, counted -0.1
    a[:3, :3] = 5_000.0  # margin 0.5
    a[3:, 3:] = 5_000.0
    res = run(field_grid(a, pop=150), perimeter="interpolated", contiguity="rook")
    assert len(res.quartiers) == 2
    g1, g2 = res.quartiers.geometry
    assert g1.intersection(g2).area == 0
    corner = shapely.Point(X0 + 600, Y0 + 600)
    assert g1.distance(corner) < 1 and g2.distance(corner) < 1
    # both still reach past the cell edges elsewhere (0.5 / 0.6 of the way to the rich centres)
    assert g1.area > 9 * 200**2 and g2.area > 9 * 200**2


def test_adjacent_zones_of_two_units_keep_their_own_cells() -> None:
    a = np.full((3, 6), 4_000.0)
    units = np.where(np.arange(6) < 3, "U1", "U2")[None, :].repeat(3, axis=0)
    res = run(field_grid(a, units=units), threshold=S, perimeter="interpolated")
    assert len(res.quartiers) == 2
    g1, g2 = sorted(res.quartiers.geometry, key=lambda g: g.bounds[0])
    assert g1.intersection(g2).area == 0
    assert g1.bounds[2] == X0 + 600 and g2.bounds[0] == X0 + 600
    assert g1.area == pytest.approx(9 * 200**2) and g2.area == pytest.approx(9 * 200**2)


def test_zone_subpixels_gives_contested_pixels_to_the_nearer_zone() -> None:
    m = np.array([[0.9, -0.1], [-0.1, 0.9]])
    cells = np.ones((2, 2), bool)
    alone1 = zone_subpixels(np.array([[1, 0], [0, 0]]), 1, m, cells, factor=8)
    alone2 = zone_subpixels(np.array([[0, 0], [0, 2]]), 2, m, cells, factor=8)
    assert (alone1 & alone2).any()  # each alone would take the middle
    both = np.array([[1, 0], [0, 2]])
    one = zone_subpixels(both, 1, m, cells, factor=8)
    two = zone_subpixels(both, 2, m, cells, factor=8)
    assert not (one & two).any()
    assert (one == np.rot90(two, 2)).all()  # symmetric: ties (the anti-diagonal) go to neither
    assert (one | two | np.eye(16, dtype=bool)[::-1] | ~(alone1 | alone2)).all()


# --- same cells, same statistics; inputs and errors ------------------------------


def _random_grid(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    a = rng.lognormal(np.log(15_000), 0.45, size=(14, 14))
    a[rng.random(a.shape) < 0.05] = np.nan
    g = field_grid(a, pop=120)
    g["poverty_rate"] = np.clip(0.7 - g["mean_std_living"] / 30_000 + rng.normal(0, 0.05, len(g)), 0, 1)
    return g


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("kw", [{"rule": "default"}, {"rule": "default", "poverty_cap": 1.6},
                                {"rule": "poverty_rate"}, {"rule": "official", "threshold": 14_000.0}])
def test_statistics_and_cells_are_those_of_the_cells_perimeter(seed, kw) -> None:
    grid = _random_grid(seed)
    before = grid.copy()
    cells = run(grid, **kw)
    fine = run(grid, perimeter="interpolated", **kw)
    pd.testing.assert_frame_equal(grid, before)  # input not modified
    pd.testing.assert_frame_equal(cells.cells, fine.cells)
    drop = ["geometry", "area_ha"]
    pd.testing.assert_frame_equal(pd.DataFrame(cells.quartiers.drop(columns=drop)),
                                  pd.DataFrame(fine.quartiers.drop(columns=drop)))
    q = fine.quartiers
    assert q.is_valid.all() and len(q) == len(cells.quartiers) and q["quartier_id"].is_unique
    assert q.crs == cells.quartiers.crs
    for i in range(len(q)):
        for j in range(i + 1, len(q)):
            assert q.geometry.iloc[i].intersection(q.geometry.iloc[j]).area < 1e-6
    # every cell's centre of a quartier is inside its polygon
    members = fine.cells.merge(grid[["cell_id", "cell_x", "cell_y"]], on="cell_id")
    geoms = dict(zip(q["quartier_id"], q.geometry))
    for row in members.itertuples():
        assert geoms[row.quartier_id].contains(shapely.Point(row.cell_x + 100, row.cell_y + 100))
    assert fine.params["perimeter"] == "interpolated" and fine.params["perimeter_resolution"] == 25.0
    assert cells.params["perimeter"] == "cells" and cells.params["perimeter_resolution"] is None
    assert np.allclose(cells.quartiers["area_ha"], cells.quartiers.geometry.area / 1e4)
    assert np.allclose(q["area_ha"], q.geometry.area / 1e4)


def test_margin_is_positive_exactly_for_flagged_cells() -> None:
    grid = _random_grid(3)
    inputs = RuleInputs(threshold=pd.Series(12_000.0, index=grid.index), poverty_cap=None)
    capped = RuleInputs(threshold=pd.Series(12_000.0, index=grid.index), poverty_cap=1.3)
    for name, inp in (("default", inputs), ("default", capped), ("official", inputs), ("poverty_rate", inputs)):
        rule = RULES[name]
        flagged = rule.cores(grid, inp).to_numpy()
        margin = rule.margin(grid, inp).to_numpy()
        assert ((margin > 0) == flagged).all(), name
    # a poverty seed above the cap is not flagged and its margin is not positive
    cell = pd.DataFrame({"mean_std_living": [20_000.0], "poverty_rate": [0.6], "ind": [100.0]})
    one = RuleInputs(threshold=pd.Series([12_000.0]), poverty_cap=1.6)
    assert not RULES["default"].cores(cell, one).iloc[0]
    assert RULES["default"].margin(cell, one).iloc[0] <= 0
    score = pd.Series(np.linspace(-1, 3, len(grid)), index=grid.index)
    comp = RuleInputs(threshold=inputs.threshold, score=score)
    assert ((RULES["composite"].margin(grid, comp) > 0) == RULES["composite"].cores(grid, comp)).all()


def test_composite_margin_is_the_distance_to_the_cut_in_standard_deviations() -> None:
    # scores 0..4, equal populations: the 60th percentile cut is 2, the weighted sd sqrt(2)
    grid = pd.DataFrame({"ind": [100.0] * 5})
    inputs = RuleInputs(threshold=pd.Series(12_000.0, index=grid.index),
                        score=pd.Series([0.0, 1.0, 2.0, 3.0, 4.0]), percentile=60.0)
    margin = RULES["composite"].margin(grid, inputs)
    assert margin.tolist() == pytest.approx([-math.sqrt(2), -1 / math.sqrt(2), 0.0, 1 / math.sqrt(2), math.sqrt(2)])
    assert RULES["composite"].cores(grid, inputs).tolist() == [False, False, False, True, True]
    # a constant score has no spread: the scale falls back to 1
    flat = RuleInputs(threshold=inputs.threshold, score=pd.Series([1.5] * 5), percentile=60.0)
    assert RULES["composite"].margin(grid, flat).tolist() == [0.0] * 5


def test_resolution_changes_only_the_detail() -> None:
    grid = field_grid(block(4_000.0, 12_000.0))
    a50 = run(grid, perimeter="interpolated", perimeter_resolution=50).quartiers.geometry.iloc[0]
    a25 = run(grid, perimeter="interpolated").quartiers.geometry.iloc[0]
    assert a50.bounds == a25.bounds
    assert a50.symmetric_difference(a25).area < 0.03 * a25.area
    same = run(grid, perimeter="interpolated", perimeter_resolution=200).quartiers.geometry.iloc[0]
    assert same.equals(run(grid).quartiers.geometry.iloc[0])  # one sub-pixel per cell: the cells


def test_errors() -> None:
    grid = field_grid(block(4_000.0, 12_000.0))
    with pytest.raises(ConfigError, match="lisa_hh"):
        run(grid, rule="lisa_hh", labels=pd.Series(["HH"] * len(grid)), perimeter="interpolated")
    with pytest.raises(ConfigError, match="does not divide the cell size"):
        run(grid, perimeter="interpolated", perimeter_resolution=30)
    with pytest.raises(ConfigError, match="positive"):
        run(grid, perimeter="interpolated", perimeter_resolution=0)
    with pytest.raises(ConfigError, match="perimeter must be one of"):
        run(grid, perimeter="smooth")
    # lisa_hh still works with whole cells
    assert len(run(grid, rule="lisa_hh", labels=pd.Series(["HH"] * len(grid)), min_population=0).quartiers) == 1


def test_helpers() -> None:
    assert subcell_factor(200, 25) == 8 and subcell_factor(200, 200) == 1
    up = bilinear_upsample(np.array([[1.0, -1.0], [np.nan, -1.0]]), 4)
    assert up.shape == (8, 8) and up[0, 0] == 1.0
    assert up[4, 0] == pytest.approx(1.0)  # the missing centre drops out of the average
    assert np.isnan(up[7, 0])  # beyond it, only the missing centre: unknown


# --- project files pass the option through ------------------------------------------


def test_project_scenario_may_ask_for_the_interpolated_perimeter(tmp_path: Path) -> None:
    from cohesion_geo.scenarios import load_project

    text = textwrap.dedent("""
    [project]
    name = "demo"

    [inputs]
    grid = "${synthetic_dir}/synthetic_filosofi2015_200m.csv"

    [[scenario]]
    name = "fine"
    rule = "default"
    [scenario.grouping]
    perimeter = "interpolated"
    perimeter_resolution = 50
    """).lstrip("\n")
    path = tmp_path / "p.toml"
    path.write_text(text, encoding="utf-8")
    opts = load_project(path).scenario("fine").delineate_options()
    assert opts == {"rule": "default", "perimeter": "interpolated", "perimeter_resolution": 50}
    res = run(_random_grid(0), **opts)
    assert res.params["perimeter"] == "interpolated" and res.params["perimeter_resolution"] == 50.0
