"""Aggregation of cells to other geographies (IRIS, commune, candidate quartier, user polygons).

Counts are **summed**, then the cell indicator functions are applied to the
sums (:func:`~cohesion_geo.indicators.cell.cell_indicators`), so every ratio of
an area is a ratio of totals, never a mean of cell ratios.

A cell cut by a polygon boundary is **apportioned by area**: the share of the
cell's square lying inside the polygon, ``area(cell ∩ polygon) / area(cell)``,
multiplies every count of the cell (population assumed uniform within the
cell). Pairs come from the spatial index of the polygons and intersections are
computed vectorised with shapely, only for the cells a boundary actually cuts.

Every aggregate says which share of its population lives in cells INSEE
imputed (``imputed_share``), and whether it holds fewer than 11 households
(``secret``: statistical secrecy; pass ``suppress_secret=True`` to blank its
statistics).

**Derived grids** (Lille layout: only ``ind``, ``mean_std_living``,
``poverty_rate``): ``mean_std_living`` of an area is the population-weighted
mean of cell means, which equals ``sum(ind_snv) / sum(ind)`` exactly;
``poverty_rate`` is the **population-weighted** mean of cell rates (the number
of households is not in the grid, so households are approximated by people).
The result's ``attrs["notes"]`` says so, and ``attrs["methods"]`` maps each
such column to its method.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .._validate import check_same_crs, require_projected
from ..errors import MissingColumnsError, ValidationError
from ..loaders.grid import COUNT_COLUMNS as _GRID_COUNT_COLUMNS
from .cell import INDICATORS, available_indicators, cell_indicators

__all__ = [
    "COUNT_COLUMNS",
    "SECRET_MIN_HOUSEHOLDS",
    "aggregate",
    "apportion",
    "secret_flag",
    "sum_by",
]

#: Canonical count columns of the grid frame, summed on aggregation.
COUNT_COLUMNS: tuple[str, ...] = _GRID_COUNT_COLUMNS

#: Statistical secrecy: no statistic for fewer than this many households.
SECRET_MIN_HOUSEHOLDS = 11
#: Persons per household used to judge secrecy when households are unknown (derived grids).
PERSONS_PER_HOUSEHOLD = 2.2

_PW_NOTE = (
    "poverty_rate is a population-weighted mean of cell rates: the grid has no household "
    "counts (derived layout), so households are approximated by inhabitants"
)
_MSL_NOTE = "mean_std_living is the population-weighted mean of cell means (= sum ind_snv / sum ind)"


def secret_flag(
    counts: pd.DataFrame,
    *,
    min_households: int = SECRET_MIN_HOUSEHOLDS,
    households: str = "men",
) -> pd.Series:
    """True where a unit holds fewer than ``min_households`` households (statistical secrecy).

    The one secrecy rule of the toolkit (indicators, delineation, maps,
    report). Uses the household count ``households`` (``men``); a missing
    count is secret. A table without it (derived grids) falls back on what
    it has, and a unit is secret when either says so: inhabitants
    (``ind < min_households * 2.2``, 2.2 persons per household) and INSEE's
    ``imputed`` flag (set for cells of fewer than 11 households).

    Examples
    --------
    >>> secret_flag(pd.DataFrame({"men": [10.9, 11.0, None]})).tolist()
    [True, False, True]
    >>> secret_flag(pd.DataFrame({"ind": [24.0, 25.0, 400.0], "imputed": [False, False, True]})).tolist()
    [True, False, True]
    """
    def values(col: str) -> np.ndarray:
        return pd.to_numeric(counts[col], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)

    if households in counts.columns:
        secret = ~(values(households) >= float(min_households))
    elif "ind" in counts.columns or "imputed" in counts.columns:
        secret = np.zeros(len(counts), dtype=bool)
        if "ind" in counts.columns:
            secret |= ~(values("ind") >= min_households * PERSONS_PER_HOUSEHOLD)
        if "imputed" in counts.columns:
            secret |= counts["imputed"].astype("boolean").fillna(True).to_numpy(dtype=bool)
    else:
        raise MissingColumnsError(
            f"the secrecy flag needs {households!r} (households), 'ind' (inhabitants) or 'imputed'"
        )
    return pd.Series(secret, index=counts.index, name="secret")


def _count_table(grid: pd.DataFrame, extra: Sequence[str]) -> tuple[pd.DataFrame, dict[str, str]]:
    """Counts to sum, with derived-grid ratios turned into population-weighted sums."""
    cols = [c for c in COUNT_COLUMNS if c in grid.columns]
    cols += [c for c in extra if c in grid.columns and c not in cols]
    missing_extra = [c for c in extra if c not in grid.columns]
    if missing_extra:
        raise MissingColumnsError(f"count column{'s' if len(missing_extra) > 1 else ''} "
                                  f"{', '.join(map(repr, missing_extra))} not in the grid")
    if "ind" not in grid.columns:
        raise MissingColumnsError("aggregation needs the population column 'ind'")
    table = grid[cols].astype("float64")
    methods: dict[str, str] = {}
    ind = table["ind"].to_numpy(na_value=np.nan)
    for ratio_col, num, den, note in (
        ("mean_std_living", "ind_snv", "ind", _MSL_NOTE),
        ("poverty_rate", "men_pauv", "men", _PW_NOTE),
    ):
        if ratio_col in grid.columns and not (num in table.columns and den in table.columns):
            r = grid[ratio_col].to_numpy(dtype="float64", na_value=np.nan)
            ok = ~np.isnan(r) & ~np.isnan(ind)
            table[f"_{ratio_col}_num"] = np.where(ok, r * ind, 0.0)
            table[f"_{ratio_col}_den"] = np.where(ok, ind, 0.0)
            methods[ratio_col] = note
    if "imputed" in grid.columns:
        imp = grid["imputed"].fillna(False).to_numpy(dtype=bool)
        table["_ind_imputed"] = np.where(imp, np.nan_to_num(ind), 0.0)
    return table, methods


def _finish(sums: pd.DataFrame, methods: dict[str, str], *, suppress_secret: bool,
            min_households: int) -> pd.DataFrame:
    out = sums.copy()
    if "_ind_imputed" in out.columns:
        out["imputed_share"] = np.divide(
            out["_ind_imputed"].to_numpy(), out["ind"].to_numpy(),
            out=np.full(len(out), np.nan), where=out["ind"].to_numpy() > 0,
        )
    names = available_indicators(out)
    ratios = (cell_indicators(out[[c for c in out.columns if not c.startswith("_")]], indicators=names)
              if names else pd.DataFrame(index=out.index))
    for ratio_col in methods:
        num, den = out[f"_{ratio_col}_num"].to_numpy(), out[f"_{ratio_col}_den"].to_numpy()
        ratios[ratio_col] = np.divide(num, den, out=np.full(len(out), np.nan), where=den > 0)
    out = out.drop(columns=[c for c in out.columns if c.startswith("_")])
    out["secret"] = secret_flag(out, min_households=min_households)
    ordered = [c for c in INDICATORS if c in ratios.columns]
    for c in ordered:
        out[c] = ratios[c]
    if suppress_secret:
        out.loc[out["secret"].to_numpy(), ordered] = np.nan
    out.attrs["methods"] = dict(methods)
    out.attrs["notes"] = list(dict.fromkeys(methods.values()))
    return out


def sum_by(
    grid: pd.DataFrame,
    labels: pd.Series | np.ndarray,
    *,
    counts: Sequence[str] = (),
    suppress_secret: bool = False,
    min_households: int = SECRET_MIN_HOUSEHOLDS,
) -> pd.DataFrame:
    """Aggregate whole cells by a label (candidate quartier, commune, cluster...).

    Parameters
    ----------
    grid : DataFrame
        Cells with the canonical counts (``ind`` required).
    labels : Series or array
        Group label per cell, aligned on ``grid.index`` (an array: in row
        order); cells with a missing label are left out.
    counts : sequence of str
        Extra count columns to sum (e.g. ``reports_n``).
    suppress_secret : bool, default False
        Blank the indicators of groups with fewer than ``min_households``.

    Returns
    -------
    DataFrame
        Indexed by label (sorted): summed counts, ``n_cells``,
        ``imputed_share`` (when ``imputed`` exists), ``secret`` and the
        indicators.

    Examples
    --------
    >>> g = pd.DataFrame({"ind": [10.0, 30.0], "men": [5.0, 15.0], "men_pauv": [1.0, 9.0],
    ...                   "imputed": [True, False]})
    >>> r = sum_by(g, pd.Series(["a", "a"]))
    >>> r[["ind", "poverty_rate", "imputed_share"]].round(3).to_dict("list")
    {'ind': [40.0], 'poverty_rate': [0.5], 'imputed_share': [0.25]}
    """
    if len(grid) == 0:
        raise ValidationError("grid", ["the grid is empty (0 rows): nothing to aggregate"])
    table, methods = _count_table(grid, counts)
    lab = labels.reindex(grid.index) if isinstance(labels, pd.Series) else pd.Series(labels, index=grid.index)
    keep = lab.notna().to_numpy()
    codes, uniques = pd.factorize(lab[keep], sort=True)
    sums = {
        c: np.bincount(codes, weights=np.nan_to_num(table[c].to_numpy()[keep]), minlength=len(uniques))
        for c in table.columns
    }
    frame = pd.DataFrame(sums, index=pd.Index(uniques, name=lab.name))
    frame.insert(0, "n_cells", np.bincount(codes, minlength=len(uniques)).astype("int64"))
    return _finish(frame, methods, suppress_secret=suppress_secret, min_households=min_households)


def apportion(
    cells: gpd.GeoDataFrame | gpd.GeoSeries,
    polygons: gpd.GeoDataFrame | gpd.GeoSeries,
) -> pd.DataFrame:
    """Area weights of every (cell, polygon) pair that overlaps.

    Parameters
    ----------
    cells, polygons : GeoDataFrame or GeoSeries
        In the same projected CRS.

    Returns
    -------
    DataFrame
        ``cell`` and ``polygon`` (integer positions in the inputs) and
        ``weight`` = ``area(cell ∩ polygon) / area(cell)`` in ``(0, 1]``; cells
        wholly inside a polygon get exactly 1 without an intersection.

    Examples
    --------
    >>> c = gpd.GeoSeries([shapely.box(0, 0, 200, 200)], crs=3035)
    >>> p = gpd.GeoSeries([shapely.box(-100, -100, 50, 300), shapely.box(50, -100, 400, 300)], crs=3035)
    >>> apportion(c, p).to_dict("list")
    {'cell': [0, 0], 'polygon': [0, 1], 'weight': [0.25, 0.75]}
    """
    require_projected(cells.crs, what="cells layer")
    require_projected(polygons.crs, what="polygon layer")
    check_same_crs(cells.crs, polygons.crs, what_a="the cells layer", what_b="the polygon layer")
    cgeom = np.asarray(cells.geometry.array if isinstance(cells, gpd.GeoDataFrame) else cells.array)
    pgeom = np.asarray(polygons.geometry.array if isinstance(polygons, gpd.GeoDataFrame) else polygons.array)
    tree = shapely.STRtree(pgeom)
    ci, pj = tree.query(cgeom, predicate="intersects")
    if len(ci) == 0:
        return pd.DataFrame({"cell": ci.astype("int64"), "polygon": pj.astype("int64"),
                             "weight": np.zeros(0)})
    shapely.prepare(pgeom)
    inside = shapely.contains_properly(pgeom[pj], cgeom[ci])
    weight = np.ones(len(ci))
    cut = ~inside
    if cut.any():
        inter = shapely.intersection(cgeom[ci[cut]], pgeom[pj[cut]])
        carea = shapely.area(cgeom[ci[cut]])
        weight[cut] = np.divide(shapely.area(inter), carea, out=np.zeros(cut.sum()), where=carea > 0)
    weight = np.minimum(weight, 1.0)
    pos = weight > 1e-12
    order = np.lexsort((pj[pos], ci[pos]))
    return pd.DataFrame({
        "cell": ci[pos][order].astype("int64"),
        "polygon": pj[pos][order].astype("int64"),
        "weight": weight[pos][order],
    })


def _valid_polygons(polygons: gpd.GeoDataFrame, *, key: str, fix_invalid: bool) -> gpd.GeoDataFrame:
    geoms = np.asarray(polygons.geometry.array)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    invalid = ~missing & ~shapely.is_valid(geoms)
    problems = []
    keys = polygons[key].astype(str).to_numpy()
    if missing.any():
        problems.append(f"{int(missing.sum())} polygons without geometry, e.g. {key} {', '.join(keys[missing][:3])}")
    if invalid.any() and not fix_invalid:
        reasons = shapely.is_valid_reason(geoms[invalid])
        examples = "; ".join(f"{k}: {r}" for k, r in zip(keys[invalid][:3], reasons[:3]))
        problems.append(f"{int(invalid.sum())} invalid polygons ({examples}); repair them "
                        "(shapely.make_valid) or pass fix_invalid=True")
    if problems:
        raise ValidationError("polygons", problems)
    if invalid.any():
        polygons = polygons.copy()
        fixed = geoms.copy()
        fixed[invalid] = shapely.make_valid(geoms[invalid])
        polygons[polygons.geometry.name] = fixed
    return polygons


def aggregate(
    grid: gpd.GeoDataFrame,
    polygons: gpd.GeoDataFrame,
    *,
    key: str,
    counts: Sequence[str] = (),
    keep: Iterable[str] = (),
    suppress_secret: bool = False,
    min_households: int = SECRET_MIN_HOUSEHOLDS,
    fix_invalid: bool = False,
) -> gpd.GeoDataFrame:
    """Aggregate grid cells to a polygon layer with area-weighted apportioning.

    Parameters
    ----------
    grid : GeoDataFrame
        Cells (canonical grid frame: counts, ``imputed``, square geometry).
    polygons : GeoDataFrame
        Target areas (IRIS, communes, candidate quartiers, user polygons), in
        the grid's projected CRS (reproject with ``polygons.to_crs(grid.crs)``).
    key : str
        Column of ``polygons`` identifying an area; polygons sharing a key are
        one area (their geometries are merged).
    counts : sequence of str
        Extra count columns of ``grid`` to apportion and sum (e.g. report counts).
    keep : iterable of str
        Other columns of ``polygons`` to carry over (first value per key).
    suppress_secret : bool, default False
        Blank the indicator columns of areas with fewer than ``min_households``
        households (they stay flagged in ``secret`` either way).
    min_households : int, default 11
        Statistical-secrecy threshold.
    fix_invalid : bool, default False
        Repair invalid polygons (self-intersections...) with
        :func:`shapely.make_valid` instead of refusing them.

    Returns
    -------
    GeoDataFrame
        One row per key, in the order of first appearance: ``key``, kept
        columns, ``n_cells`` (cells overlapping the area), ``cell_equivalents``
        (sum of area weights), the summed counts (``ind``, ``men``, ...),
        ``imputed_share``, ``secret``, the indicators, geometry. Areas that
        overlap no cell have zero counts and missing ratios.
        ``attrs["notes"]`` describes any population-weighted mean used.

    Raises
    ------
    CRSError
        Layers in different CRS or in degrees.
    ValidationError, MissingColumnsError
        Empty layers, a missing key or count column.

    Examples
    --------
    >>> import shapely
    >>> cells = gpd.GeoDataFrame({"ind": [100.0, 50.0], "men": [40.0, 20.0],
    ...     "men_pauv": [4.0, 10.0], "imputed": [False, True]},
    ...     geometry=[shapely.box(0, 0, 200, 200), shapely.box(200, 0, 400, 200)], crs=3035)
    >>> zones = gpd.GeoDataFrame({"zone": ["west", "east"]},
    ...     geometry=[shapely.box(0, 0, 300, 200), shapely.box(300, 0, 400, 200)], crs=3035)
    >>> r = aggregate(cells, zones, key="zone")
    >>> r[["zone", "ind", "men_pauv", "poverty_rate", "imputed_share"]].round(4).values.tolist()
    [['west', 125.0, 9.0, 0.18, 0.2], ['east', 25.0, 5.0, 0.5, 1.0]]
    """
    if len(grid) == 0:
        raise ValidationError("grid", ["the grid is empty (0 rows): nothing to aggregate"])
    if len(polygons) == 0:
        raise ValidationError("polygons", ["the polygon layer is empty (0 rows)"])
    if key not in polygons.columns:
        raise MissingColumnsError(f"polygon layer has no key column {key!r}; "
                                  f"columns: {', '.join(map(str, polygons.columns))}")
    keep = [c for c in keep if c != key]
    missing_keep = [c for c in keep if c not in polygons.columns]
    if missing_keep:
        raise MissingColumnsError(f"polygon layer lacks column(s) {', '.join(map(repr, missing_keep))}")
    polygons = _valid_polygons(polygons, key=key, fix_invalid=fix_invalid)
    table, methods = _count_table(grid, counts)
    pairs = apportion(grid, polygons)
    codes, uniques = pd.factorize(polygons[key].to_numpy())
    k = len(uniques)
    grp = codes[pairs["polygon"].to_numpy()]
    w = pairs["weight"].to_numpy()
    ci = pairs["cell"].to_numpy()
    sums = {c: np.bincount(grp, weights=np.nan_to_num(table[c].to_numpy()[ci]) * w, minlength=k)
            for c in table.columns}
    # a cell counted once per area even when the area has several polygons
    ucell = pd.DataFrame({"g": grp, "c": ci}).drop_duplicates()
    frame = pd.DataFrame(sums)
    frame.insert(0, "cell_equivalents", np.bincount(grp, weights=w, minlength=k))
    frame.insert(0, "n_cells", np.bincount(ucell["g"].to_numpy(), minlength=k).astype("int64"))
    result = _finish(frame, methods, suppress_secret=suppress_secret, min_households=min_households)
    first = pd.Series(np.arange(len(polygons))).groupby(codes).first().to_numpy()
    head = pd.DataFrame({key: uniques}, index=frame.index)
    for c in keep:
        head[c] = polygons[c].to_numpy()[first]
    if pd.Series(codes).duplicated().any():
        geoms = polygons.geometry.groupby(codes).agg(lambda s: shapely.union_all(s.to_numpy())).to_numpy()
    else:
        geoms = polygons.geometry.to_numpy()
    out = gpd.GeoDataFrame(pd.concat([head, result], axis=1), geometry=list(geoms), crs=polygons.crs)
    out.attrs["methods"] = result.attrs.get("methods", {})
    out.attrs["notes"] = result.attrs.get("notes", [])
    return out
