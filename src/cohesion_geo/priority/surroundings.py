"""Each candidate quartier against its surroundings: a ring of cells and its urban unit.

A poor block beside a rich centre is not the same as one inside a poor belt
(domain brief §1). For every candidate quartier this module compares three
populations, all measured on the same 200 m grid with the same formulas:

* the **quartier**: its own cells (from the delineation's cell assignment, or
  the cells whose centre lies in the quartier polygon);
* its **ring**: the inhabited cells whose **centre lies within**
  ``distance`` metres (default 500) of the quartier's cells, excluding the
  quartier's own cells and, by default, the cells of every other candidate
  quartier (so the ring describes the non-candidate neighbourhood; the share
  of the population within ``distance`` that lives in other candidates is
  reported separately as ``ring_in_quartiers``);
* its **urban unit**: every cell of the grid in the quartier's urban unit
  (the urban unit of the commune where most of its population lives), or
  the whole grid (``"study_area"``) when no urban-unit table is given.

Distances are measured on the integer grid: a cell offset by ``(dx, dy)``
cells from a quartier cell has its centre at
``cell_size * hypot(max(|dx| - 0.5, 0), max(|dy| - 0.5, 0))`` metres from that
cell's square, so the ring is a fixed stencil of offsets applied to the
quartier's cells (no geometry, no pairwise distances): it equals "cell
centres within a ``distance`` buffer of the dissolved quartier" exactly, and
costs ``O(quartier cells x stencil size)``. Everything is local, so a grid
holding one urban unit plus a halo of ``distance`` gives the same rings as
the national grid.

Ratios are ratios of sums (never means of cell ratios):

=====================  =============================================================
measure                formula (raw INSEE grid; derived grids in brackets)
=====================  =============================================================
standard of living     ``sum ind_snv / sum ind``  [population-weighted mean of
                       ``mean_std_living``, which is the same number]
poverty rate           ``sum men_pauv / sum men``  [population-weighted mean of
                       ``poverty_rate``: households approximated by inhabitants]
social-housing share   ``sum log_soc / sum dwellings`` (dwellings as in
                       :func:`cohesion_geo.indicators.cell.dwellings`)  [absent]
=====================  =============================================================

A ring (or urban unit) with fewer than 11 households shows no statistic
(statistical secrecy; inhabitants / 2.2 stand for households on derived grids).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .._validate import Problems, check_same_crs, require_columns
from ..errors import CohesionGeoWarning, ConfigError, ValidationError
from ..indicators.aggregate import PERSONS_PER_HOUSEHOLD, SECRET_MIN_HOUSEHOLDS

__all__ = [
    "RING_DISTANCE",
    "SITUATIONS",
    "SituationThresholds",
    "assign_cells",
    "classify_situation",
    "ring_offsets",
    "ring_pairs",
    "surroundings",
    "surroundings_of_cells",
]

#: Default ring distance in metres (issue #4).
RING_DISTANCE = 500.0
#: Statistical secrecy (no statistic for fewer households than this) and the persons per
#: household standing for households on derived grids: the indicator engine's constants.
MIN_HOUSEHOLDS = SECRET_MIN_HOUSEHOLDS
#: Situation labels, in the order they are tested.
SITUATIONS: tuple[str, ...] = (
    "no surroundings data",
    "poor belt",
    "isolated pocket",
    "mixed surroundings",
)

_ALL_CELLS = "study_area"  # as loaders.urban_units.STUDY_AREA_UNIT


@dataclass(frozen=True)
class SituationThresholds:
    """Thresholds of :func:`classify_situation` (all ratios of poverty rates).

    Parameters
    ----------
    belt_ring_vs_uu : float, default 1.4
        A ring whose poverty rate is at least this multiple of its urban
        unit's makes a **poor belt**.
    belt_in_quartiers : float, default 0.5
        ... as does a neighbourhood (within the ring distance) where at least
        this share of the population lives in other candidate quartiers.
    pocket_ring_vs_uu : float, default 1.1
        A ring no poorer than this multiple of the urban unit ...
    pocket_contrast : float, default 1.5
        ... around a quartier at least this many times poorer than its ring
        makes an **isolated pocket**.

    Anything else is **mixed surroundings**; a quartier without a ring (no
    inhabited cell around it, or fewer than 11 households) or without
    poverty figures gets **no surroundings data**.
    """

    belt_ring_vs_uu: float = 1.4
    belt_in_quartiers: float = 0.5
    pocket_ring_vs_uu: float = 1.1
    pocket_contrast: float = 1.5

    @classmethod
    def coerce(cls, value: SituationThresholds | Mapping[str, float] | None) -> SituationThresholds:
        """Build thresholds from ``None`` (defaults), a mapping or an instance; validate them."""
        if value is None:
            out = cls()
        elif isinstance(value, SituationThresholds):
            out = value
        elif isinstance(value, Mapping):
            names = [f.name for f in fields(cls)]
            unknown = sorted(set(value) - set(names))
            if unknown:
                raise ConfigError(
                    f"unknown situation threshold{'s' if len(unknown) > 1 else ''} "
                    f"{', '.join(map(repr, unknown))}; valid names: {', '.join(names)}"
                )
            out = replace(cls(), **{k: float(v) for k, v in value.items()})
        else:
            raise ConfigError(f"situation thresholds must be a mapping, not {type(value).__name__}")
        bad = [f"{f.name}={getattr(out, f.name)!r}" for f in fields(out)
               if not (np.isfinite(getattr(out, f.name)) and getattr(out, f.name) >= 0)]
        if bad:
            raise ConfigError(f"situation thresholds must be finite and non-negative: {', '.join(bad)}")
        if out.belt_ring_vs_uu < out.pocket_ring_vs_uu:
            raise ConfigError(
                f"belt_ring_vs_uu ({out.belt_ring_vs_uu}) must not be below pocket_ring_vs_uu "
                f"({out.pocket_ring_vs_uu}): a ring cannot be both a poor belt and a better-off ring"
            )
        return out


# ---------------------------------------------------------------- cells of each quartier

def _polygon_of_centres(grid: gpd.GeoDataFrame, polygons: gpd.GeoDataFrame, *, rank: np.ndarray) -> np.ndarray:
    """Position in ``polygons`` of the polygon holding each cell's centre, -1 for none.

    A centre within several polygons goes to the one of least ``rank`` (one
    sortable value per polygon). Both layers in the same CRS.
    """
    centres = shapely.centroid(np.asarray(grid.geometry.array))
    cell_pos, poly_pos = shapely.STRtree(np.asarray(polygons.geometry.array)).query(centres, predicate="within")
    out = np.full(len(grid), -1, dtype=np.int64)
    if len(cell_pos):
        order = np.lexsort((np.asarray(rank)[poly_pos], cell_pos))
        cell_pos, poly_pos = cell_pos[order], poly_pos[order]
        first = np.r_[True, cell_pos[1:] != cell_pos[:-1]]
        out[cell_pos[first]] = poly_pos[first]
    return out


def _quartier_ids(quartiers: pd.DataFrame) -> pd.Index:
    require_columns(quartiers, ["quartier_id"], source="quartiers", what="candidate quartiers")
    ids = pd.Index(quartiers["quartier_id"])
    problems = Problems("quartiers")
    if ids.hasnans:
        problems.add("column 'quartier_id': missing values")
    if ids.has_duplicates:
        dup = ids[ids.duplicated()].unique()[:3].tolist()
        problems.add(f"column 'quartier_id': duplicated ids, e.g. {dup}")
    problems.raise_if_any()
    return ids


def assign_cells(
    quartiers: gpd.GeoDataFrame | pd.DataFrame,
    grid: pd.DataFrame,
    *,
    assignment: pd.DataFrame | pd.Series | None = None,
) -> np.ndarray:
    """Position (in ``quartiers``) of the quartier holding each grid cell, -1 for none.

    Parameters
    ----------
    quartiers : GeoDataFrame
        Candidate quartiers with a unique ``quartier_id`` (and a geometry when
        ``assignment`` is not given).
    grid : DataFrame
        Canonical grid frame (``cell_id``; geometry when ``assignment`` is not given).
    assignment : DataFrame or Series, optional
        The delineation's cell table (columns ``cell_id`` and ``quartier_id``,
        i.e. ``result.cells``) or a Series ``cell_id -> quartier_id``. Without
        it, a cell belongs to the quartier polygon containing its centre
        (quartiers and grid must share a CRS).

    Returns
    -------
    ndarray of int64
        One entry per grid row.

    Raises
    ------
    ValidationError
        Unknown cell or quartier ids, or a cell assigned to two quartiers
        (every problem listed).

    Examples
    --------
    >>> grid = pd.DataFrame({"cell_id": ["a", "b", "c"]})
    >>> q = pd.DataFrame({"quartier_id": ["Q2", "Q1"]})
    >>> assign_cells(q, grid, assignment=pd.Series({"a": "Q1", "c": "Q2"})).tolist()
    [1, -1, 0]
    """
    ids = _quartier_ids(quartiers)
    n = len(grid)
    if assignment is None:
        if not isinstance(quartiers, gpd.GeoDataFrame) or not isinstance(grid, gpd.GeoDataFrame):
            raise ValidationError("assignment", [
                "no cell assignment given and quartiers or grid have no geometry; pass "
                "assignment=result.cells from delineate(), or GeoDataFrames"])
        check_same_crs(grid.crs, quartiers.crs, what_a="the grid", what_b="the quartiers")
        # a centre in overlapping quartiers: keep the first in quartier_id order
        return _polygon_of_centres(grid, quartiers, rank=ids.astype(str).to_numpy())

    require_columns(grid, ["cell_id"], source="grid", what="grid")
    if isinstance(assignment, pd.Series):
        table = pd.DataFrame({"cell_id": assignment.index.to_numpy(), "quartier_id": assignment.to_numpy()})
    else:
        require_columns(assignment, ["cell_id", "quartier_id"], source="assignment", what="cell assignment")
        table = assignment[["cell_id", "quartier_id"]]
    table = table[table["quartier_id"].notna()]
    problems = Problems("assignment")
    cell_pos = _cell_positions(grid, table["cell_id"])
    q_pos = ids.get_indexer(table["quartier_id"])
    if (cell_pos < 0).any():
        bad = table["cell_id"].to_numpy()[cell_pos < 0]
        problems.add(f"{len(bad)} cell ids are not in the grid, e.g. {list(map(str, bad[:3]))}")
    if (q_pos < 0).any():
        bad = pd.unique(table["quartier_id"].to_numpy()[q_pos < 0])
        problems.add(f"{len(bad)} quartier ids are not in the quartiers, e.g. {list(map(str, bad[:3]))}")
    ok = (cell_pos >= 0) & (q_pos >= 0)
    pairs = pd.DataFrame({"c": cell_pos[ok], "q": q_pos[ok]}).drop_duplicates()
    twice = pairs["c"].duplicated(keep=False)
    if twice.any():
        bad = grid["cell_id"].to_numpy()[pairs.loc[twice, "c"].unique()[:3]]
        problems.add(f"{int(pairs.loc[twice, 'c'].nunique())} cells are assigned to several quartiers, "
                     f"e.g. {list(map(str, bad))}")
    problems.raise_if_any()
    out = np.full(n, -1, dtype=np.int64)
    out[pairs["c"].to_numpy()] = pairs["q"].to_numpy()
    return out


# ---------------------------------------------------------------- the ring on the integer grid

def ring_offsets(distance: float, *, cell_size: int = 200) -> np.ndarray:
    """Cell offsets ``(dx, dy)`` whose centre is within ``distance`` of the origin cell's square.

    The origin itself is excluded. With 200 m cells and 500 m: 3 cells along
    the axes, 2 along the diagonals (``(2, 2)`` is 424 m away, ``(3, 1)`` 510 m).

    Examples
    --------
    >>> off = ring_offsets(500, cell_size=200)
    >>> len(off), int(abs(off).max()), [3, 1] in off.tolist(), [2, 2] in off.tolist()
    (28, 3, False, True)
    """
    if not np.isfinite(distance) or distance < cell_size / 2:
        raise ConfigError(
            f"ring distance must be at least half a cell ({cell_size / 2:g} m) so the ring holds "
            f"cells, got {distance!r}"
        )
    k = int(np.floor(distance / cell_size + 0.5)) + 1
    dx, dy = np.meshgrid(np.arange(-k, k + 1), np.arange(-k, k + 1), indexing="ij")
    ax = np.maximum(np.abs(dx) - 0.5, 0.0)
    ay = np.maximum(np.abs(dy) - 0.5, 0.0)
    reach = cell_size * np.hypot(ax, ay)
    keep = (reach <= distance * (1 + 1e-12)) & ~((dx == 0) & (dy == 0))
    return np.column_stack([dx[keep], dy[keep]]).astype(np.int64)


def _grid_keys(grid: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, int]:
    require_columns(grid, ["cell_x", "cell_y"], source="grid", what="grid (load it with load_grid)")
    sizes = grid["cell_size"].to_numpy() if "cell_size" in grid.columns else np.array([200])
    uniq = np.unique(sizes)
    if uniq.size > 1:
        raise ValidationError("grid", [f"cells of several sizes {uniq.tolist()}; one grid, one cell size"])
    size = int(uniq[0]) if uniq.size else 200
    gx = grid["cell_x"].to_numpy(dtype=np.int64) // size
    gy = grid["cell_y"].to_numpy(dtype=np.int64) // size
    return gx, gy, size


_BIG = np.int64(1) << np.int64(32)


class _KeyLookup:
    """Position of integer keys in an array of unique keys (sorted once, binary search)."""

    def __init__(self, keys: np.ndarray) -> None:
        self.order = np.argsort(keys, kind="stable")
        self.sorted = keys[self.order]
        self.unique = not bool((self.sorted[1:] == self.sorted[:-1]).any())

    def __call__(self, query: np.ndarray) -> np.ndarray:
        if len(self.sorted) == 0:
            return np.full(len(query), -1, dtype=np.int64)
        i = np.searchsorted(self.sorted, query)
        i = np.minimum(i, len(self.sorted) - 1)
        hit = self.sorted[i] == query
        return np.where(hit, self.order[i], -1).astype(np.int64)


def _cell_positions(grid: pd.DataFrame, ids: pd.Series) -> np.ndarray:
    """Row position in ``grid`` of each cell id (-1 when absent).

    Ids are parsed to integer grid keys and looked up on ``cell_x``/``cell_y``
    (hashing millions of strings is the slow part of a string join); the
    matched ids are then checked against ``cell_id``. Anything unusual falls
    back to an exact string match.
    """
    from ..cellid import parse_cell_ids

    if len(ids) == 0:
        return np.zeros(0, dtype=np.int64)
    if {"cell_x", "cell_y"} <= set(grid.columns):
        try:
            parsed = parse_cell_ids(ids.reset_index(drop=True), source="assignment")
        except ValidationError:
            parsed = None
        if parsed is not None:
            gx, gy, size = _grid_keys(grid)
            if (parsed["cell_size"] == size).all():
                lookup = _KeyLookup(gx * _BIG + gy)
                pos = lookup((parsed["cell_x"].to_numpy() // size) * _BIG + parsed["cell_y"].to_numpy() // size)
                hit = pos >= 0
                same = grid["cell_id"].astype("string").to_numpy(dtype=object)[pos[hit]] == \
                    ids.astype("string").to_numpy(dtype=object)[hit]
                if lookup.unique and bool(np.all(same)):
                    return pos
    return pd.Index(grid["cell_id"].astype(str)).get_indexer(ids.astype(str)).astype(np.int64)


def ring_pairs(
    cell_quartier: np.ndarray,
    grid: pd.DataFrame,
    *,
    distance: float = RING_DISTANCE,
) -> pd.DataFrame:
    """Every (quartier, cell) pair with the cell's centre within ``distance`` of the quartier.

    Parameters
    ----------
    cell_quartier : ndarray of int
        Position of each grid cell's quartier, -1 for none (:func:`assign_cells`).
    grid : DataFrame
        Canonical grid (``cell_x``, ``cell_y``, ``cell_size``).
    distance : float
        Metres.

    Returns
    -------
    DataFrame
        ``quartier`` (position), ``cell`` (grid row position) and ``other``
        (int: position of the *other* quartier holding the cell, -1 when the
        cell is in no candidate), sorted by quartier then cell. The
        quartier's own cells are never listed.

    Examples
    --------
    >>> g = pd.DataFrame({"cell_x": [0, 200, 400, 1000], "cell_y": [0, 0, 0, 0], "cell_size": 200})
    >>> ring_pairs(np.array([0, -1, 1, -1]), g, distance=300).to_dict("list")
    {'quartier': [0, 0, 1, 1], 'cell': [1, 2, 0, 1], 'other': [-1, 1, 0, -1]}
    """
    gx, gy, size = _grid_keys(grid)
    cq = np.asarray(cell_quartier, dtype=np.int64)
    offsets = ring_offsets(distance, cell_size=size)
    lookup = _KeyLookup(gx * _BIG + gy)
    if not lookup.unique:
        raise ValidationError("grid", ["duplicated cell positions (cell_x, cell_y)"])
    members = np.flatnonzero(cq >= 0)
    mq, mx, my = cq[members], gx[members], gy[members]
    # every (quartier cell, offset) neighbour key; looked up once per distinct key, in sorted
    # order (binary searches of sorted queries stay in cache)
    keys = ((mx[:, None] + offsets[None, :, 0]) * _BIG + (my[:, None] + offsets[None, :, 1])).ravel()
    uniq, inverse = np.unique(keys, return_inverse=True)
    pos = lookup(uniq)[inverse]
    q = np.repeat(mq, len(offsets))
    hit = pos >= 0
    q, c = q[hit], pos[hit]
    pair = np.unique(q * np.int64(len(grid) + 1) + c)
    q, c = pair // (len(grid) + 1), pair % (len(grid) + 1)
    own = cq[c] == q
    q, c = q[~own], c[~own]
    other = cq[c]
    return pd.DataFrame({"quartier": q.astype(np.int64), "cell": c.astype(np.int64),
                         "other": other.astype(np.int64)})


# ---------------------------------------------------------------- measures

def _cell_measures(grid: pd.DataFrame) -> tuple[dict[str, np.ndarray], list[str]]:
    """Numerators and denominators per cell for the three measures, plus households."""
    notes: list[str] = []
    require_columns(grid, ["ind"], source="grid", what="grid")

    def col(name: str) -> np.ndarray:
        return np.nan_to_num(grid[name].to_numpy(dtype="float64", na_value=np.nan))

    ind = col("ind")
    m: dict[str, np.ndarray] = {"ind": ind}
    if "ind_snv" in grid.columns:
        m["snv_num"], m["snv_den"] = col("ind_snv"), ind
    elif "mean_std_living" in grid.columns:
        r = grid["mean_std_living"].to_numpy(dtype="float64", na_value=np.nan)
        ok = np.isfinite(r)
        m["snv_num"], m["snv_den"] = np.where(ok, r * ind, 0.0), np.where(ok, ind, 0.0)
        notes.append("standard of living: population-weighted mean of cell means (derived grid)")
    if "men_pauv" in grid.columns and "men" in grid.columns:
        m["pov_num"], m["pov_den"] = col("men_pauv"), col("men")
    elif "poverty_rate" in grid.columns:
        r = grid["poverty_rate"].to_numpy(dtype="float64", na_value=np.nan)
        ok = np.isfinite(r)
        m["pov_num"], m["pov_den"] = np.where(ok, r * ind, 0.0), np.where(ok, ind, 0.0)
        notes.append("poverty rate: population-weighted mean of cell rates (derived grid: "
                     "households approximated by inhabitants)")
    if "log_soc" in grid.columns:
        from ..indicators.cell import dwellings

        m["soc_num"] = col("log_soc")
        m["soc_den"] = np.nan_to_num(dwellings(grid).to_numpy(dtype="float64", na_value=np.nan))
    m["households"] = col("men") if "men" in grid.columns else ind / PERSONS_PER_HOUSEHOLD
    return m, notes


def _sums(measures: dict[str, np.ndarray], groups: np.ndarray, cells: np.ndarray, n: int) -> dict[str, np.ndarray]:
    return {k: np.bincount(groups, weights=v[cells], minlength=n) for k, v in measures.items()}


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    return np.divide(num, den, out=np.full(len(num), np.nan), where=den > 0)


def _stats(sums: dict[str, np.ndarray], n: int, *, secret: bool = True) -> dict[str, np.ndarray]:
    out = {
        "std_living": _ratio(sums["snv_num"], sums["snv_den"]) if "snv_num" in sums else np.full(n, np.nan),
        "poverty_rate": _ratio(sums["pov_num"], sums["pov_den"]) if "pov_num" in sums else np.full(n, np.nan),
        "social_housing": _ratio(sums["soc_num"], sums["soc_den"]) if "soc_num" in sums else np.full(n, np.nan),
    }
    if secret:
        hidden = ~(sums["households"] >= MIN_HOUSEHOLDS - 1e-9)
        for v in out.values():
            v[hidden] = np.nan
    return out


def _urban_unit_of_cells(
    grid: pd.DataFrame,
    urban_units: pd.DataFrame | pd.Series | Mapping[str, str] | str | None,
) -> tuple[np.ndarray, np.ndarray]:
    """(codes per cell, unique labels): -1 where the commune has no urban unit."""
    n = len(grid)
    if urban_units is None and "urban_unit" in grid.columns:
        urban_units = "urban_unit"
    if urban_units is None:
        return np.zeros(n, dtype=np.int64), np.array([_ALL_CELLS], dtype=object)
    if isinstance(urban_units, str):
        require_columns(grid, [urban_units], source="grid", what="grid")
        codes, labels = pd.factorize(grid[urban_units].astype("string").to_numpy(dtype=object, na_value=None),
                                     sort=True)
        return codes.astype(np.int64), np.asarray(labels, dtype=object)
    if "commune" not in grid.columns:
        raise ValidationError("grid", [
            "urban units given but the grid has no 'commune' column; add one (e.g. with "
            "cohesion_geo.priority.capacity.cell_communes) or leave urban_units out"])
    if isinstance(urban_units, pd.DataFrame):
        require_columns(urban_units, ["commune", "urban_unit"], source="urban units", what="urban-unit table")
    # the delineation's reading of the table: communes flagged ``rural`` are in no urban unit
    from .delineate import resolve_urban_units

    uu, _ = resolve_urban_units(grid, urban_units=urban_units)
    codes, labels = pd.factorize(uu.to_numpy(dtype=object, na_value=None), sort=True)
    return codes.astype(np.int64), np.asarray(labels, dtype=object)


def classify_situation(
    table: pd.DataFrame,
    *,
    thresholds: SituationThresholds | Mapping[str, float] | None = None,
) -> pd.Series:
    """Read a quartier's surroundings as a council would: poor belt, isolated pocket, mixed.

    Parameters
    ----------
    table : DataFrame
        With ``q_poverty_rate``, ``ring_poverty_rate``, ``uu_poverty_rate``
        and ``ring_in_quartiers`` (the output of :func:`surroundings`).
    thresholds : SituationThresholds or mapping, optional
        See :class:`SituationThresholds`.

    Returns
    -------
    Series of str
        One of :data:`SITUATIONS`, aligned on ``table.index``. Tested in order:
        missing figures -> ``"no surroundings data"``; ring poverty at least
        ``belt_ring_vs_uu`` x the urban unit's, or at least
        ``belt_in_quartiers`` of the neighbourhood in other candidates ->
        ``"poor belt"``; ring poverty at most ``pocket_ring_vs_uu`` x the
        urban unit's and quartier poverty at least ``pocket_contrast`` x the
        ring's -> ``"isolated pocket"``; otherwise ``"mixed surroundings"``.

    Examples
    --------
    >>> t = pd.DataFrame({"q_poverty_rate": [0.40, 0.40, 0.40], "ring_poverty_rate": [0.10, 0.35, 0.19],
    ...                   "uu_poverty_rate": [0.15, 0.15, 0.15], "ring_in_quartiers": [0.0, 0.0, 0.0]})
    >>> classify_situation(t).tolist()
    ['isolated pocket', 'poor belt', 'mixed surroundings']
    """
    th = SituationThresholds.coerce(thresholds)
    q = table["q_poverty_rate"].to_numpy(dtype="float64", na_value=np.nan)
    ring = table["ring_poverty_rate"].to_numpy(dtype="float64", na_value=np.nan)
    uu = table["uu_poverty_rate"].to_numpy(dtype="float64", na_value=np.nan)
    share = table["ring_in_quartiers"].to_numpy(dtype="float64", na_value=np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        ring_vs_uu = ring / uu
        contrast = q / ring
    unknown = ~np.isfinite(q) | ~np.isfinite(ring) | ~np.isfinite(ring_vs_uu)
    belt = (ring_vs_uu >= th.belt_ring_vs_uu) | (share >= th.belt_in_quartiers)
    pocket = (ring_vs_uu <= th.pocket_ring_vs_uu) & (contrast >= th.pocket_contrast)
    label = np.where(unknown, SITUATIONS[0], np.where(belt, SITUATIONS[1],
                     np.where(pocket, SITUATIONS[2], SITUATIONS[3])))
    return pd.Series(label.astype(object), index=table.index, name="situation")


def surroundings(
    quartiers: gpd.GeoDataFrame | pd.DataFrame,
    grid: pd.DataFrame,
    *,
    assignment: pd.DataFrame | pd.Series | None = None,
    distance: float = RING_DISTANCE,
    urban_units: pd.DataFrame | pd.Series | Mapping[str, str] | str | None = None,
    exclude_quartiers: bool = True,
    thresholds: SituationThresholds | Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Quartier vs ring vs urban unit: levels, contrast ratios and a situation label.

    Parameters
    ----------
    quartiers : GeoDataFrame
        Candidate quartiers with a unique ``quartier_id``.
    grid : DataFrame
        Canonical grid frame (see :func:`cohesion_geo.loaders.load_grid`).
    assignment : DataFrame or Series, optional
        Cell -> quartier table (see :func:`assign_cells`).
    distance : float, default 500
        Ring distance in metres (cell centres within it).
    urban_units : DataFrame, Series, mapping or str, optional
        ``commune -> urban_unit`` (the urban-unit loader's frame), or the name
        of a grid column holding each cell's urban unit. Without it the
        grid's ``urban_unit`` column is used when present, else the whole
        grid stands for the urban unit (``urban_unit`` is ``"study_area"``).
    exclude_quartiers : bool, default True
        Leave other candidates' cells out of the ring (they are counted in
        ``ring_in_quartiers`` instead). False keeps them in the ring.
    thresholds : SituationThresholds or mapping, optional
        For :func:`classify_situation`.

    Returns
    -------
    DataFrame
        Aligned on ``quartiers.index``:

        - ``q_ind`` (inhabitants of the quartier's cells), ``q_cells``;
        - ``urban_unit``;
        - ``q_std_living``, ``ring_std_living``, ``uu_std_living`` (EUR/year);
        - ``q_poverty_rate``, ``ring_poverty_rate``, ``uu_poverty_rate`` (0-1);
        - ``q_social_housing``, ``ring_social_housing``, ``uu_social_housing``
          (0-1, missing on grids without ``log_soc``);
        - ``ring_ind`` (inhabitants of the ring), ``ring_cells``,
          ``ring_in_quartiers`` (share of the inhabitants within ``distance``
          who live in other candidate quartiers);
        - contrast ratios ``contrast_std_living`` = ring / quartier standard
          of living (above 1: the ring is better off), ``contrast_poverty`` =
          quartier / ring poverty rate, ``poverty_vs_uu`` = quartier / urban
          unit poverty rate, ``ring_poverty_vs_uu`` = ring / urban unit;
        - ``situation`` (:func:`classify_situation`).

        ``attrs["notes"]`` lists approximations (derived grids) and
        ``attrs["ring"]`` the ring definition.
    """
    if len(grid) == 0:
        raise ValidationError("grid", ["the grid is empty (0 rows)"])
    cq = assign_cells(quartiers, grid, assignment=assignment)
    return surroundings_of_cells(cq, grid, quartier_ids=quartiers["quartier_id"], distance=distance,
                                 urban_units=urban_units, exclude_quartiers=exclude_quartiers,
                                 thresholds=thresholds)


def surroundings_of_cells(
    cell_quartier: np.ndarray,
    grid: pd.DataFrame,
    *,
    quartier_ids: pd.Series,
    distance: float = RING_DISTANCE,
    urban_units: pd.DataFrame | pd.Series | Mapping[str, str] | str | None = None,
    exclude_quartiers: bool = True,
    thresholds: SituationThresholds | Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """:func:`surroundings` from a cell assignment already resolved by :func:`assign_cells`.

    ``quartier_ids`` (a Series, one per quartier position) gives the output's
    index and the ids named in warnings. Also adds ``q_ind`` (inhabitants of
    the quartier's cells) and ``q_cells``.
    """
    th = SituationThresholds.coerce(thresholds)
    cq = np.asarray(cell_quartier, dtype=np.int64)
    nq = len(quartier_ids)
    measures, notes = _cell_measures(grid)
    pairs = ring_pairs(cq, grid, distance=distance)
    in_ring = pairs["other"].to_numpy() < 0 if exclude_quartiers else np.ones(len(pairs), bool)
    pq, pc = pairs["quartier"].to_numpy(), pairs["cell"].to_numpy()

    members = np.flatnonzero(cq >= 0)
    q_cells = np.bincount(cq[members], minlength=nq)
    q_sums = _sums(measures, cq[members], members, nq)
    ring_sums = _sums(measures, pq[in_ring], pc[in_ring], nq)
    ring_cells = np.bincount(pq[in_ring], minlength=nq)
    in_other = pairs["other"].to_numpy() >= 0
    other_ind = np.bincount(pq[in_other], weights=measures["ind"][pc[in_other]], minlength=nq)
    all_ind = np.bincount(pq, weights=measures["ind"][pc], minlength=nq)

    uu_codes, uu_labels = _urban_unit_of_cells(grid, urban_units)
    has_uu = uu_codes >= 0
    uu_sums = _sums(measures, uu_codes[has_uu], np.flatnonzero(has_uu), len(uu_labels))
    uu_stats = _stats(uu_sums, len(uu_labels))
    # urban unit of a quartier: the one where most of its inhabitants live (ties: first label)
    q_uu = np.full(nq, -1, dtype=np.int64)
    mem_uu = uu_codes[members]
    ok = mem_uu >= 0
    if ok.any() and len(uu_labels):
        pop = np.zeros((nq, len(uu_labels)))
        np.add.at(pop, (cq[members][ok], mem_uu[ok]), measures["ind"][members][ok] + 1e-9)
        has = pop.sum(axis=1) > 0
        q_uu[has] = pop[has].argmax(axis=1)
    no_uu = (q_uu < 0) & (q_cells > 0)
    if urban_units is not None and no_uu.any():
        names = quartier_ids.to_numpy()[no_uu][:5].tolist()
        warnings.warn(
            f"{int(no_uu.sum())} quartiers lie in communes outside any urban unit or missing from the "
            "urban-unit table "
            f"(e.g. {names}); their urban-unit figures are missing",
            CohesionGeoWarning, stacklevel=2)
    empty = q_cells == 0
    if empty.any():
        names = quartier_ids.to_numpy()[empty][:5].tolist()
        warnings.warn(f"{int(empty.sum())} quartiers hold no grid cell (e.g. {names}); "
                      "their figures are missing", CohesionGeoWarning, stacklevel=2)

    qs = _stats(q_sums, nq, secret=True)
    rs = _stats(ring_sums, nq, secret=True)
    out = pd.DataFrame(index=quartier_ids.index)
    out["q_ind"] = q_sums["ind"]
    out["q_cells"] = q_cells.astype(np.int64)
    out["urban_unit"] = pd.array([uu_labels[i] if i >= 0 else None for i in q_uu], dtype="string")
    for key in ("std_living", "poverty_rate", "social_housing"):
        out[f"q_{key}"] = qs[key]
        out[f"ring_{key}"] = rs[key]
        out[f"uu_{key}"] = np.where(q_uu >= 0, uu_stats[key][np.maximum(q_uu, 0)], np.nan)
    out["ring_ind"] = ring_sums["ind"]
    out["ring_cells"] = ring_cells.astype(np.int64)
    out["ring_in_quartiers"] = _ratio(other_ind, all_ind)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["contrast_std_living"] = _ratio(out["ring_std_living"].to_numpy(), out["q_std_living"].to_numpy())
        out["contrast_poverty"] = _ratio(out["q_poverty_rate"].to_numpy(), out["ring_poverty_rate"].to_numpy())
        out["poverty_vs_uu"] = _ratio(out["q_poverty_rate"].to_numpy(), out["uu_poverty_rate"].to_numpy())
        out["ring_poverty_vs_uu"] = _ratio(out["ring_poverty_rate"].to_numpy(),
                                           out["uu_poverty_rate"].to_numpy())
    out["situation"] = classify_situation(out, thresholds=th)
    out.attrs["notes"] = notes
    out.attrs["ring"] = {
        "distance": float(distance),
        "definition": "inhabited cells whose centre lies within the distance of the quartier's cells",
        "exclude_quartiers": bool(exclude_quartiers),
    }
    out.attrs["thresholds"] = {f.name: getattr(th, f.name) for f in fields(th)}
    return out

