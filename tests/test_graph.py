"""Grid contiguity graph built from integer cell coordinates (indicators.graph)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from libpysal.graph import Graph

from cohesion_geo.errors import CohesionGeoError, ValidationError
from cohesion_geo.indicators.graph import graph_csr, grid_graph


def _block(nx: int, ny: int, *, x0: int = 3_482_800, y0: int = 2_466_800, size: int = 200):
    gx, gy = np.meshgrid(np.arange(nx), np.arange(ny))
    return x0 + size * gx.ravel(), y0 + size * gy.ravel()


def _neighbours(g: Graph) -> dict:
    return {k: sorted(v) for k, v in g.neighbors.items()}


def test_3x3_block_cardinalities_by_hand():
    """Queen: centre 8, edge middles 5, corners 3; rook: 4, 3, 2 (cell id = 3 * row + col)."""
    x, y = _block(3, 3)
    q = grid_graph(x, y)
    assert q.cardinalities.tolist() == [3, 5, 3, 5, 8, 5, 3, 5, 3]
    r = grid_graph(x, y, contiguity="rook")
    assert r.cardinalities.tolist() == [2, 3, 2, 3, 4, 3, 2, 3, 2]
    assert _neighbours(r)[4] == [1, 3, 5, 7]
    assert _neighbours(q)[0] == [1, 3, 4]
    assert q.transformation == "O" and set(q.adjacency.unique()) == {1.0}
    assert len(q.isolates) == 0


def _polygon_reference(x: np.ndarray, y: np.ndarray, index: pd.Index, *, rook: bool) -> Graph:
    boxes = shapely.box(x, y, x + 200, y + 200)
    gdf = gpd.GeoDataFrame(geometry=boxes, index=index, crs=3035)
    return Graph.build_contiguity(gdf, rook=rook)


@pytest.mark.parametrize("contiguity", ["queen", "rook"])
def test_equals_libpysal_build_contiguity_on_polygons(contiguity):
    """Same adjacency (ids, order, weights, isolates) as geometric contiguity on 200 m squares."""
    rng = np.random.default_rng(3)
    x, y = _block(12, 9)
    keep = rng.random(x.size) < 0.7  # holes -> a few isolated cells
    x, y = x[keep], y[keep]
    x = np.append(x, 3_482_800 + 200 * 40)  # a far-away isolated cell
    y = np.append(y, 2_466_800)
    order = rng.permutation(x.size)  # rows not in lattice order
    x, y = x[order], y[order]
    index = pd.Index([f"c{i:03d}" for i in rng.permutation(x.size)], name="cell")
    ref = _polygon_reference(x, y, index, rook=contiguity == "rook")
    ours = grid_graph(pd.Series(x, index=index), pd.Series(y, index=index), contiguity=contiguity)
    assert list(ours.unique_ids) == list(index)
    assert list(ref.unique_ids) == list(index)
    assert _neighbours(ours) == _neighbours(ref)
    assert list(ours.isolates) == list(ref.isolates) and len(ours.isolates) >= 1
    assert (ours.sparse != ref.sparse).nnz == 0
    pd.testing.assert_series_equal(
        ours.adjacency.astype(float), ref.adjacency.astype(float), check_names=False, check_index_type=False
    )
    # row-standardisation works as on libpysal's own graph
    assert np.allclose(ours.transform("r").sparse.toarray(), ref.transform("r").sparse.toarray())


def test_series_ids_arrays_positions_and_explicit_ids():
    x, y = _block(2, 2)
    s_index = pd.Index([10, 7, 3, 99])
    g = grid_graph(pd.Series(x, index=s_index), pd.Series(y, index=s_index))
    assert list(g.unique_ids) == [10, 7, 3, 99]
    assert _neighbours(g)[10] == [3, 7, 99]
    assert list(grid_graph(x, y).unique_ids) == [0, 1, 2, 3]
    g2 = grid_graph(x, y, ids=["a", "b", "c", "d"])
    assert _neighbours(g2)["d"] == ["a", "b", "c"]


def test_other_origin_and_cell_size():
    """Any common origin works; a 1 km grid with cell_size=1000."""
    x = np.array([100, 1100, 2100, 5100])
    y = np.array([50, 50, 1050, 50])
    g = grid_graph(x, y, cell_size=1000)
    assert g.cardinalities.tolist() == [1, 2, 1, 0]
    assert list(g.isolates) == [3]
    # float coordinates holding whole metres are accepted
    assert grid_graph(x.astype(float), y.astype(float), cell_size=1000).cardinalities.tolist() == [1, 2, 1, 0]


def test_isolate_encoded_as_libpysal_does():
    x = np.array([0, 200, 2000])
    y = np.array([0, 0, 0])
    g = grid_graph(x, y)
    adj = g.adjacency
    assert adj.loc[(2, 2)] == 0.0  # self-loop of weight 0
    indptr, indices, w = graph_csr(g)
    assert indptr.tolist() == [0, 1, 2, 2]  # isolate: empty CSR row
    assert indices.tolist() == [1, 0] and w.tolist() == [1.0, 1.0]


def test_graph_csr_follows_requested_order():
    x, y = _block(3, 1)  # a row of 3 cells: 0 - 1 - 2
    g = grid_graph(x, y, ids=["a", "b", "c"])
    indptr, indices, _ = graph_csr(g, ids=pd.Index(["c", "a", "b"]))
    rows = {lab: sorted(indices[indptr[k]:indptr[k + 1]].tolist()) for k, lab in enumerate("cab")}
    assert rows == {"c": [2], "a": [2], "b": [0, 1]}  # positions in the order c, a, b
    with pytest.raises(CohesionGeoError, match="do not match"):
        graph_csr(g, ids=pd.Index(["a", "b", "z"]))
    with pytest.raises(CohesionGeoError, match="3 nodes"):
        graph_csr(g, ids=pd.Index(["a", "b"]))


def test_invalid_inputs_are_all_reported():
    with pytest.raises(ValidationError) as exc:
        grid_graph(np.array([0, 200]), np.array([0]), contiguity="bishop", cell_size=0)
    msg = str(exc.value)
    assert "contiguity must be 'queen' or 'rook'" in msg
    assert "cell_size must be a positive integer" in msg
    assert "cell_x has 2 values but cell_y has 1" in msg
    with pytest.raises(ValidationError, match="empty"):
        grid_graph(np.array([], dtype=np.int64), np.array([], dtype=np.int64))
    with pytest.raises(ValidationError, match="missing or infinite"):
        grid_graph(np.array([0.0, np.nan]), np.array([0.0, 0.0]))
    with pytest.raises(ValidationError, match="non-integer"):
        grid_graph(np.array([0.0, 200.5]), np.array([0.0, 0.0]))
    with pytest.raises(ValidationError, match="not on a 200 m lattice"):
        grid_graph(np.array([0, 250]), np.array([0, 0]))
    with pytest.raises(ValidationError, match="ids are not unique"):
        grid_graph(np.array([0, 200]), np.array([0, 0]), ids=["a", "a"])
    with pytest.raises(ValidationError, match="different indexes"):
        grid_graph(pd.Series([0, 200], index=[1, 2]), pd.Series([0, 0], index=[2, 3]))
    with pytest.raises(CohesionGeoError, match="same cell"):
        grid_graph(np.array([0, 200, 0]), np.array([0, 0, 0]))
