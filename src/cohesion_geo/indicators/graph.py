"""Contiguity graph of a 200 m grid, built from integer cell coordinates in O(n).

Cells of the INSEE grid are squares on a regular lattice, so two cells are
neighbours exactly when their integer lattice coordinates differ by at most one
step (queen: the 8 surrounding cells; rook: the 4 sharing an edge). Building the
graph by geometric intersection (``libpysal.graph.Graph.build_contiguity``)
costs minutes on the 2.3 million national cells; here each cell's lattice
coordinates ``(gx, gy)`` are packed into one ``int64`` key, the keys are sorted
once, and every neighbour offset is looked up with :func:`numpy.searchsorted`.
The result is the same :class:`libpysal.graph.Graph` (tested against
``build_contiguity`` on a polygon grid), with binary weights (transformation
``"O"``, weight 1 per neighbour) in the canonical order libpysal expects.

Isolated cells (no inhabited neighbour) are kept, encoded as libpysal does: a
self-loop of weight 0. ``graph.isolates`` lists them; the autocorrelation
functions of :mod:`cohesion_geo.indicators.autocorrelation` give them no local
statistic and the label ``"isolated"`` (see ``docs/autocorrelation.md``).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Literal

import numpy as np
import pandas as pd
from libpysal.graph import Graph

from .._validate import Problems, example_rows
from ..errors import CohesionGeoError

__all__ = ["grid_graph", "graph_csr"]

_QUEEN = ((-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1))
_ROOK = ((-1, 0), (0, -1), (0, 1), (1, 0))


def _as_int_coords(values: np.ndarray, name: str, problems: Problems) -> np.ndarray | None:
    """Return ``values`` as int64 or note why it cannot be (NaN, fractions)."""
    if values.dtype.kind in "iu":
        return values.astype(np.int64, copy=False)
    if values.dtype.kind == "b" or values.dtype.kind not in "f":
        try:
            values = values.astype(np.float64)
        except (TypeError, ValueError):
            problems.add(f"{name}: not numeric (dtype {values.dtype})")
            return None
    bad = ~np.isfinite(values)
    if bad.any():
        problems.add(f"{name}: missing or infinite coordinates in {example_rows(bad)}")
        return None
    frac = values != np.round(values)
    if frac.any():
        problems.add(f"{name}: non-integer metre coordinates in {example_rows(frac, labels=values)}")
        return None
    return values.astype(np.int64)


def grid_graph(
    cell_x: pd.Series | np.ndarray | Sequence[float],
    cell_y: pd.Series | np.ndarray | Sequence[float],
    *,
    cell_size: int = 200,
    contiguity: Literal["queen", "rook"] = "queen",
    ids: pd.Index | Sequence[Hashable] | None = None,
) -> Graph:
    """Contiguity graph of grid cells from their integer corner coordinates.

    Parameters
    ----------
    cell_x, cell_y : Series or array of int
        Lower-left corner of each cell in metres (the canonical grid frame's
        ``cell_x`` and ``cell_y`` columns). Any common origin works; the
        coordinates of all cells must differ by multiples of ``cell_size``.
    cell_size : int, default 200
        Side of a cell in metres.
    contiguity : {"queen", "rook"}, default "queen"
        ``"queen"``: the 8 surrounding cells (shared edge or corner);
        ``"rook"``: the 4 cells sharing an edge.
    ids : Index or sequence, optional
        Labels of the cells, unique. Default: the index of ``cell_x`` when it is
        a Series (it must then equal ``cell_y``'s index), else positions
        ``0..n-1``.

    Returns
    -------
    libpysal.graph.Graph
        Binary weights (1 per neighbour), transformation ``"O"``, nodes in the
        input order; isolated cells are self-loops of weight 0 (libpysal's
        convention) and are listed by ``graph.isolates``. Statistics
        row-standardise it themselves.

    Raises
    ------
    cohesion_geo.errors.ValidationError
        Empty input, length mismatch, missing or non-integer coordinates,
        coordinates off the lattice, duplicate cells or duplicate ids (all
        problems reported at once).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([0, 200, 400, 0, 200, 1000])
    >>> y = np.array([0, 0, 0, 200, 200, 1000])
    >>> g = grid_graph(x, y)
    >>> g.cardinalities.tolist()
    [3, 4, 2, 3, 4, 0]
    >>> list(g.isolates)
    [5]
    >>> grid_graph(x, y, contiguity="rook").cardinalities.tolist()
    [2, 3, 1, 2, 2, 0]
    """
    problems = Problems("grid_graph")
    if contiguity not in ("queen", "rook"):
        problems.add(f"contiguity must be 'queen' or 'rook', got {contiguity!r}")
    if isinstance(cell_size, bool) or not isinstance(cell_size, (int, np.integer)) or cell_size <= 0:
        problems.add(f"cell_size must be a positive integer number of metres, got {cell_size!r}")

    if ids is None:
        if isinstance(cell_x, pd.Series):
            ids = cell_x.index
            if isinstance(cell_y, pd.Series) and not cell_y.index.equals(cell_x.index):
                problems.add("cell_x and cell_y are Series with different indexes; align them or pass ids=")
    x_raw = np.asarray(cell_x)
    y_raw = np.asarray(cell_y)
    n = x_raw.shape[0] if x_raw.ndim == 1 else -1
    if x_raw.ndim != 1 or y_raw.ndim != 1:
        problems.add("cell_x and cell_y must be one-dimensional")
    elif x_raw.shape[0] != y_raw.shape[0]:
        problems.add(f"cell_x has {x_raw.shape[0]} values but cell_y has {y_raw.shape[0]}")
    elif n == 0:
        problems.add("no cells: cell_x and cell_y are empty")
    if ids is not None:
        ids = pd.Index(ids)
        if n >= 0 and len(ids) != n:
            problems.add(f"ids has {len(ids)} labels but there are {n} cells")
        elif not ids.is_unique:
            dup = ids.duplicated(keep=False)
            problems.add(f"ids are not unique: {example_rows(dup, labels=list(ids))}")
    problems.raise_if_any()

    gx = _as_int_coords(x_raw, "cell_x", problems)
    gy = _as_int_coords(y_raw, "cell_y", problems)
    problems.raise_if_any()
    assert gx is not None and gy is not None
    cs = int(cell_size)
    off_x = (gx - gx.min()) % cs != 0
    off_y = (gy - gy.min()) % cs != 0
    if off_x.any():
        problems.add(f"cell_x: not on a {cs} m lattice in {example_rows(off_x, labels=x_raw)}")
    if off_y.any():
        problems.add(f"cell_y: not on a {cs} m lattice in {example_rows(off_y, labels=y_raw)}")
    problems.raise_if_any()

    # Lattice coordinates shifted by one so that neighbour offsets never wrap.
    ix = (gx - gx.min()) // cs + 1
    iy = (gy - gy.min()) // cs + 1
    height = int(iy.max()) + 2
    if (int(ix.max()) + 2) * height >= 2**62:
        raise CohesionGeoError("grid_graph: lattice too large to encode (extent / cell_size overflow)")
    key = ix * height + iy
    order = np.argsort(key, kind="stable")
    skey = key[order]
    dup = skey[1:] == skey[:-1]
    if dup.any():
        mask = np.zeros(n, dtype=bool)
        mask[order[1:][dup]] = True
        mask[order[:-1][dup]] = True
        raise CohesionGeoError(
            f"grid_graph: several rows describe the same cell: {example_rows(mask)}; "
            "drop duplicate cells first"
        )

    offsets = _QUEEN if contiguity == "queen" else _ROOK
    k = len(offsets)
    nbr = np.full((n, k), n, dtype=np.int64)  # n = "no neighbour", sorts last
    for j, (dx, dy) in enumerate(offsets):
        # Queries in sorted order: searchsorted then walks the keys cache-friendly.
        target = skey + (dx * height + dy)
        pos = np.searchsorted(skey, target)
        np.minimum(pos, n - 1, out=pos)
        found = skey[pos] == target
        nbr[order[found], j] = order[pos[found]]
    nbr.sort(axis=1)
    card = (nbr < n).sum(axis=1)
    isolated = card == 0
    nbr[isolated, 0] = np.flatnonzero(isolated)  # self-loop, weight 0
    keep = nbr < n
    focal = np.repeat(np.arange(n, dtype=np.int64), keep.sum(axis=1))
    neighbor = nbr[keep]
    weight = np.ones(neighbor.shape[0], dtype=np.float64)
    weight[isolated[focal]] = 0.0

    labels = pd.RangeIndex(n) if ids is None else pd.Index(ids)
    index = pd.MultiIndex(
        levels=[labels, labels],
        codes=[focal, neighbor],
        names=["focal", "neighbor"],
        verify_integrity=False,
    )
    return Graph(pd.Series(weight, index=index, name="weight"), transformation="O", is_sorted=True)


def graph_csr(
    graph: Graph, *, ids: pd.Index | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CSR arrays ``(indptr, indices, weights)`` of ``graph`` in the order of ``ids``.

    Rows and columns follow ``ids`` (default: ``graph.unique_ids``). Zero
    weights (libpysal's isolate self-loops) are dropped, so an isolate has an
    empty row. Built from the adjacency codes in O(nnz), without the
    pandas-sparse detour of ``Graph.sparse``.

    Raises
    ------
    cohesion_geo.errors.CohesionGeoError
        When ``ids`` is not a permutation of the graph's ids.
    """
    adj = graph._adjacency  # canonical MultiIndexed Series (focal, neighbor)
    mi = adj.index
    uids = graph.unique_ids
    target = uids if ids is None else pd.Index(ids)
    n = len(target)
    if ids is not None and (len(uids) != n or not target.is_unique):
        raise CohesionGeoError(
            f"the graph has {len(uids)} nodes but the values have {n} labels"
            + ("" if target.is_unique else " (with duplicates)")
        )
    lev0 = target.get_indexer(mi.levels[0])
    lev1 = lev0 if mi.levels[1].equals(mi.levels[0]) else target.get_indexer(mi.levels[1])
    rows = lev0[np.asarray(mi.codes[0])]
    cols = lev1[np.asarray(mi.codes[1])]
    if rows.size and (min(rows.min(), cols.min()) < 0):
        raise CohesionGeoError(
            "the graph's ids do not match the values' index: build the graph from the same "
            "frame (grid_graph(frame.cell_x, frame.cell_y)) or pass values with the graph's ids"
        )
    w = np.asarray(adj.to_numpy(), dtype=np.float64)
    nz = w != 0
    if not nz.all():
        rows, cols, w = rows[nz], cols[nz], w[nz]
    if rows.size > 1 and (np.diff(rows) < 0).any():
        o = np.lexsort((cols, rows))
        rows, cols, w = rows[o], cols[o], w[o]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    return indptr, cols.astype(np.int64, copy=False), w
