"""Invariants of delineation, by property-based tests on random small grids."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import ndimage

from cohesion_geo.priority import delineate
from cohesion_geo.priority.raster import GridRaster

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def grids(draw: st.DrawFn) -> pd.DataFrame:
    """A random grid of up to 12 x 12 cells with random holes, incomes and populations."""
    h = draw(st.integers(3, 12))
    w = draw(st.integers(3, 12))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    present = rng.random((h, w)) < draw(st.floats(0.5, 1.0))
    rows, cols = np.nonzero(present)
    n = rows.size
    if n == 0:
        rows, cols, n = np.array([0]), np.array([0]), 1
    x = 3_800_000 + 200 * cols
    y = 3_000_000 + 200 * rows
    return pd.DataFrame(
        {
            "cell_id": [f"CRS3035RES200mN{b}E{a}" for a, b in zip(x, y)],
            "cell_x": x,
            "cell_y": y,
            "cell_size": 200,
            "ind": rng.integers(1, 400, n).astype(float),
            "mean_std_living": rng.uniform(8_000, 30_000, n),
            "poverty_rate": rng.uniform(0, 0.6, n),
            "imputed": rng.random(n) < 0.2,
            "urban_unit": "U",
        }
    )


OPTIONS = st.fixed_dictionaries(
    {
        "contiguity": st.sampled_from(["queen", "rook"]),
        "bridge": st.integers(0, 2),
        "fill_holes": st.booleans(),
        "prune": st.integers(0, 1),
        "min_population": st.sampled_from([0.0, 500.0, 1_000.0]),
        "imputed": st.sampled_from(["core", "join", "exclude"]),
    }
)


def _run(grid: pd.DataFrame, *, threshold: float, rule: str = "official", **opts) -> object:
    return delineate(
        grid, rule=rule, threshold=threshold, national_median=20_000, urban_unit_population=100_000, **opts
    )


def _zone_pixels(res, grid: pd.DataFrame) -> dict[str, set[tuple[int, int]]]:
    """Cells of each quartier as integer grid coordinates."""
    pos = grid.set_index("cell_id")[["cell_x", "cell_y"]] // 200
    out: dict[str, set[tuple[int, int]]] = {}
    for qid, sub in res.cells.groupby("quartier_id"):
        xy = pos.loc[sub["cell_id"]]
        out[qid] = set(zip(xy["cell_x"], xy["cell_y"]))
    return out


@SETTINGS
@given(grid=grids(), opts=OPTIONS, threshold=st.floats(9_000, 25_000))
def test_every_zone_contiguous_and_above_floor(grid: pd.DataFrame, opts: dict, threshold: float) -> None:
    res = _run(grid, threshold=threshold, **opts)
    q = res.quartiers
    assert (q["ind"] >= opts["min_population"]).all()
    assert q.is_valid.all()
    # the polygon (cells plus bridged / filled empty pixels) is one connected piece
    ras = GridRaster.from_coords(grid["cell_x"], grid["cell_y"], cell_size=200, pad=3)
    struct = np.ones((3, 3), bool) if opts["contiguity"] == "queen" else ndimage.generate_binary_structure(2, 1)
    for geom in q.geometry:
        parts = list(getattr(geom, "geoms", [geom]))
        mask = np.zeros(ras.shape, dtype=bool)
        for part in parts:
            minx, miny, maxx, maxy = part.bounds
            for cx in range(int(minx) // 200, int(maxx) // 200):
                for cy in range(int(miny) // 200, int(maxy) // 200):
                    if part.contains(_centre(cx, cy)):
                        mask[cy - ras.y0, cx - ras.x0] = True
        assert ndimage.label(mask, structure=struct)[1] == 1
        if opts["contiguity"] == "rook":
            assert geom.geom_type == "Polygon"
    # every cell of the table belongs to exactly one quartier; population sums agree
    assert res.cells["cell_id"].is_unique
    pops = grid.set_index("cell_id").loc[res.cells["cell_id"], "ind"].groupby(res.cells["quartier_id"].to_numpy()).sum()
    assert np.allclose(pops.reindex(q["quartier_id"]).to_numpy(), q["ind"].to_numpy())


def _centre(cx: int, cy: int):
    import shapely

    return shapely.Point(cx * 200 + 100, cy * 200 + 100)


@SETTINGS
@given(grid=grids(), opts=OPTIONS, t=st.floats(9_000, 20_000), dt=st.floats(0, 8_000))
def test_raising_the_threshold_never_removes_a_zone(grid: pd.DataFrame, opts: dict, t: float, dt: float) -> None:
    """Every zone at threshold t lies inside one zone at t' >= t (components, bridging,
    hole filling, pruning and the floor are all monotone operations)."""
    low = _zone_pixels(_run(grid, threshold=t, **opts), grid)
    high = _zone_pixels(_run(grid, threshold=t + dt, **opts), grid)
    for cells in low.values():
        assert any(cells <= other for other in high.values())


@SETTINGS
@given(grid=grids(), opts=OPTIONS, threshold=st.floats(9_000, 25_000), seed=st.integers(0, 10_000),
       rule=st.sampled_from(["official", "default", "poverty_rate"]))
def test_results_independent_of_row_order(grid: pd.DataFrame, opts: dict, threshold: float, seed: int,
                                          rule: str) -> None:
    a = _run(grid, threshold=threshold, rule=rule, **opts)
    shuffled = grid.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    b = _run(shuffled, threshold=threshold, rule=rule, **opts)
    pd.testing.assert_frame_equal(a.cells, b.cells)
    pd.testing.assert_frame_equal(a.quartiers.drop(columns="geometry"), b.quartiers.drop(columns="geometry"))
    assert all(x.equals(y) for x, y in zip(a.quartiers.geometry, b.quartiers.geometry))


@settings(max_examples=100, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(grid=grids(), t=st.floats(9_000, 20_000), dt=st.floats(0, 8_000))
def test_default_rule_zones_kept_when_threshold_rises(grid: pd.DataFrame, t: float, dt: float) -> None:
    """With zone growth (greedy, poorest first; a neighbour of two zones goes to one of them)
    containment does not always hold: hypothesis finds grids where a zone at t is not inside one
    zone at t' (it drew none only when cohesion_geo.indicators was not yet imported, so the test
    passed alone and failed after test_graph). The guarantee asserted: no zone disappears, each
    one overlaps a zone at t'."""
    low = _zone_pixels(_run(grid, threshold=t, rule="default"), grid)
    high = _zone_pixels(_run(grid, threshold=t + dt, rule="default"), grid)
    for cells in low.values():
        assert any(cells & other for other in high.values())


@SETTINGS
@given(grid=grids(), opts=OPTIONS, threshold=st.floats(9_000, 25_000),
       rule=st.sampled_from(["official", "default", "poverty_rate"]))
def test_interpolated_perimeter_keeps_cells_statistics_and_never_overlaps(grid: pd.DataFrame, opts: dict,
                                                                          threshold: float, rule: str) -> None:
    import shapely

    cells = _run(grid, threshold=threshold, rule=rule, **opts)
    fine = _run(grid, threshold=threshold, rule=rule, perimeter="interpolated", **opts)
    pd.testing.assert_frame_equal(cells.cells, fine.cells)
    pd.testing.assert_frame_equal(cells.quartiers.drop(columns=["geometry", "area_ha"]),
                                  fine.quartiers.drop(columns=["geometry", "area_ha"]))
    q = fine.quartiers
    assert q.is_valid.all()
    geoms = list(q.geometry)
    for i in range(len(geoms)):
        for j in range(i + 1, len(geoms)):
            assert shapely.intersection(geoms[i], geoms[j]).area < 1e-6
    # every cell of a quartier keeps its centre inside the quartier's polygon
    by_id = dict(zip(q["quartier_id"], geoms))
    xy = grid.set_index("cell_id").loc[fine.cells["cell_id"], ["cell_x", "cell_y"]].to_numpy()
    for qid, (x, y) in zip(fine.cells["quartier_id"], xy):
        assert by_id[qid].contains(shapely.Point(x + 100, y + 100))
