"""Residents' knowledge beside the statistics: reports per cell and area, density, confrontation.

Resident reports (*signalements*) are points with a ``category``. This module
turns them into:

* per-cell counts (:func:`cell_reports`): ``reports_n``, ``reports_per_1000``
  (reports per 1,000 inhabitants) and ``reports_<category>``;
* per-area counts (:func:`area_reports`), apportioned from the cells by area
  exactly like the population (:func:`~cohesion_geo.indicators.aggregate.aggregate`);
* a kernel-density surface (:func:`report_density`, :func:`write_report_density`)
  as a GeoTIFF aligned on the 200 m grid;
* the **confrontation** of statistics and residents (:func:`confront`): each
  cell or area is ``"both"`` (statistics and residents agree on difficulty),
  ``"statistics_only"``, ``"residents_only"`` (a blind spot of the statistics)
  or ``"neither"``.

Privacy rules, enforced here for every output:

* a report is **never located more precisely than its cell**: reports are
  snapped to their 200 m cell before anything is counted or smoothed (the
  density surface is built from cell counts placed at cell centres; areas get
  cell counts apportioned by area, never a point-in-polygon test); comments
  are never copied;
* a cell or area with fewer than ``min_reports`` reports (default 5) shows no
  per-category breakdown (``reports_<category>`` is missing there).

Cells are matched in the CRS named by their ids (EPSG:3035 for INSEE grids):
report points are reprojected to it, then floored to the cell's lower-left
corner, whatever the CRS of the grid's geometry (Lille's squares are in
Lambert-93, their ids in LAEA).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from os import PathLike
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from .._io import atomic_path
from ..errors import ConfigError, CRSError, DroppedRowsWarning, MissingColumnsError, ValidationError
from ..loaders.reports import CATEGORIES  # the nine canonical report categories
from .aggregate import SECRET_MIN_HOUSEHOLDS, aggregate
from ..cellid import epsg_of_ids

__all__ = [
    "CATEGORIES",
    "CONFRONTATION_CLASSES",
    "MIN_REPORTS",
    "apply_report_privacy",
    "area_reports",
    "assign_reports",
    "cell_raster",
    "cell_reports",
    "confront",
    "count_reports",
    "report_density",
    "write_raster",
    "write_report_density",
]

#: Default minimum number of reports for a per-category breakdown.
MIN_REPORTS = 5
#: Classes of the confrontation layer, in order.
CONFRONTATION_CLASSES: tuple[str, ...] = ("both", "statistics_only", "residents_only", "neither")


def _grid_frame(grid: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, int, CRS]:
    """Cell corners, size and the CRS of the cell coordinates."""
    missing = [c for c in ("cell_x", "cell_y") if c not in grid.columns]
    if missing:
        raise MissingColumnsError(
            f"the grid lacks {', '.join(map(repr, missing))} (lower-left corners); load it with "
            "cohesion_geo.loaders.load_grid"
        )
    if len(grid) == 0:
        raise ValidationError("grid", ["the grid is empty (0 rows)"])
    sizes = grid["cell_size"].to_numpy() if "cell_size" in grid.columns else np.array([200])
    if np.unique(sizes).size > 1:
        raise ValidationError("grid", ["cells of several sizes; one grid, one cell size"])
    size = int(sizes[0])
    epsg = (epsg_of_ids(grid["cell_id"]) if "cell_id" in grid.columns else None) or 3035
    return (grid["cell_x"].to_numpy(dtype="int64"), grid["cell_y"].to_numpy(dtype="int64"),
            size, CRS.from_epsg(epsg))


def _report_xy(reports: gpd.GeoDataFrame, crs: CRS) -> tuple[np.ndarray, np.ndarray]:
    """Report coordinates in ``crs`` (NaN for missing or empty geometries)."""
    geom = reports.geometry
    if not CRS.from_user_input(reports.crs).equals(crs):
        geom = geom.to_crs(crs)
    arr = np.asarray(geom.array)
    if len(arr) and (shapely.get_type_id(arr) > 0).any():  # not only points: use centroids
        arr = shapely.centroid(arr)
    return shapely.get_x(arr), shapely.get_y(arr)


def assign_reports(reports: gpd.GeoDataFrame, grid: pd.DataFrame) -> np.ndarray:
    """Position in ``grid`` of the cell holding each report (-1: not an inhabited cell).

    Reports are reprojected to the CRS of the cell ids and floored to the
    cell corner. Reports outside every cell of the grid (uninhabited cells,
    outside the area) get -1; a :class:`~cohesion_geo.errors.DroppedRowsWarning`
    counts them.

    Raises
    ------
    CRSError
        Reports without CRS.
    """
    if reports.crs is None:
        raise CRSError("reports layer has no CRS; set one (EPSG:2154 for Lambert-93)")
    cx, cy, size, crs = _grid_frame(grid)
    if len(reports) == 0:
        return np.zeros(0, dtype=np.int64)
    x, y = _report_xy(reports, crs)
    ok = np.isfinite(x) & np.isfinite(y)
    gx = np.floor(np.where(ok, x, 0) / size).astype(np.int64)
    gy = np.floor(np.where(ok, y, 0) / size).astype(np.int64)
    big = np.int64(1) << 31
    grid_keys = pd.Index((cx // size) * big + (cy // size))
    pos = grid_keys.get_indexer(gx * big + gy)
    pos = np.where(ok, pos, -1).astype(np.int64)
    lost = int((pos < 0).sum())
    if lost:
        warnings.warn(
            f"reports: {lost} of {len(reports)} reports lie outside the inhabited cells of the grid "
            "(or have no geometry); they are not counted per cell",
            DroppedRowsWarning,
            stacklevel=3,
        )
    return pos


def count_reports(
    grid: pd.DataFrame,
    reports: gpd.GeoDataFrame,
    *,
    categories: Sequence[str] = CATEGORIES,
) -> pd.DataFrame:
    """Raw report counts per cell (``reports_n`` and ``reports_<category>``), no privacy applied.

    This is an intermediate for aggregation; publish the output of
    :func:`cell_reports` or :func:`area_reports` instead, which apply
    :func:`apply_report_privacy`.
    """
    pos = assign_reports(reports, grid)
    n = len(grid)
    hit = pos >= 0
    out = {"reports_n": np.bincount(pos[hit], minlength=n).astype("float64")}
    if categories:
        if "category" not in reports.columns:
            raise MissingColumnsError("reports lack the 'category' column")
        cat = reports["category"].astype("string").to_numpy(dtype=object, na_value=None)
        unknown = sorted({c for c in cat if c is not None and c not in categories})
        if unknown:
            raise ValidationError("reports", [f"unknown categories {unknown}; known: {list(categories)}"])
        for c in categories:
            sel = hit & (cat == c)
            out[f"reports_{c}"] = np.bincount(pos[sel], minlength=n).astype("float64")
    return pd.DataFrame(out, index=grid.index)


def apply_report_privacy(
    table: pd.DataFrame,
    *,
    min_reports: int = MIN_REPORTS,
    population: str = "ind",
) -> pd.DataFrame:
    """Add ``reports_per_1000`` and blank the breakdown where ``reports_n < min_reports``.

    Parameters
    ----------
    table : DataFrame
        With ``reports_n``, ``reports_<category>`` and the population column.
    min_reports : int, default 5
        Below this many reports, every ``reports_<category>`` is set missing.
    population : str
        Column of inhabitants for the rate.

    Examples
    --------
    >>> t = pd.DataFrame({"ind": [500.0, 0.0], "reports_n": [2.0, 6.0], "reports_housing": [2.0, 6.0]})
    >>> apply_report_privacy(t).to_dict("list")
    {'ind': [500.0, 0.0], 'reports_n': [2.0, 6.0], 'reports_housing': [nan, 6.0], 'reports_per_1000': [4.0, nan]}
    """
    if min_reports < 1:
        raise ConfigError(f"min_reports must be at least 1, got {min_reports}")
    out = table.copy()
    n = out["reports_n"].to_numpy(dtype="float64")
    pop = out[population].to_numpy(dtype="float64", na_value=np.nan) if population in out.columns else None
    if pop is not None:
        out["reports_per_1000"] = np.divide(1000.0 * n, pop, out=np.full(len(out), np.nan), where=pop > 0)
    small = ~(n >= min_reports)
    cats = [c for c in out.columns if c.startswith("reports_") and c not in ("reports_n", "reports_per_1000")]
    if cats:
        out.loc[small, cats] = np.nan
    return out


def cell_reports(
    grid: pd.DataFrame,
    reports: gpd.GeoDataFrame,
    *,
    min_reports: int = MIN_REPORTS,
    categories: Sequence[str] = CATEGORIES,
) -> pd.DataFrame:
    """Reports per cell: count, rate per 1,000 inhabitants, breakdown by category.

    Parameters
    ----------
    grid : DataFrame
        Canonical grid (``cell_x``, ``cell_y``, ``cell_size``, ``cell_id``, ``ind``).
    reports : GeoDataFrame
        Report points with ``category`` (canonical reports frame), any CRS
        with a definition.
    min_reports : int, default 5
        Cells with fewer reports show no per-category breakdown.
    categories : sequence of str
        Categories to break down (default: the nine canonical ones).

    Returns
    -------
    DataFrame
        Aligned on ``grid.index``: ``reports_n`` (float64 count),
        ``reports_<category>`` (missing below ``min_reports``),
        ``reports_per_1000`` (missing where nobody lives).
    """
    raw = count_reports(grid, reports, categories=categories)
    raw["ind"] = grid["ind"].astype("float64") if "ind" in grid.columns else np.nan
    out = apply_report_privacy(raw, min_reports=min_reports)
    return out.drop(columns="ind")


def area_reports(
    grid: gpd.GeoDataFrame,
    reports: gpd.GeoDataFrame,
    polygons: gpd.GeoDataFrame,
    *,
    key: str,
    keep: Sequence[str] = (),
    min_reports: int = MIN_REPORTS,
    categories: Sequence[str] = CATEGORIES,
    suppress_secret: bool = False,
    min_households: int = SECRET_MIN_HOUSEHOLDS,
) -> gpd.GeoDataFrame:
    """Reports and statistics per area (IRIS, commune, quartier, user polygons).

    Report counts are first counted per cell, then apportioned to the areas by
    area exactly like the population (a cell cut in two gives each part its
    share), so no area count reveals where in a cell a report lies. Counts can
    therefore be fractional.

    Returns
    -------
    GeoDataFrame
        The output of :func:`~cohesion_geo.indicators.aggregate.aggregate`
        (counts, ``imputed_share``, ``secret``, indicators) plus
        ``reports_n``, ``reports_per_1000`` and ``reports_<category>`` (missing
        where the area has fewer than ``min_reports``).
    """
    raw = count_reports(grid, reports, categories=categories)
    cols = list(raw.columns)
    frame = grid.copy()
    for c in cols:
        frame[c] = raw[c].to_numpy()
    out = aggregate(frame, polygons, key=key, counts=cols, keep=keep,
                    suppress_secret=suppress_secret, min_households=min_households)
    return apply_report_privacy(out, min_reports=min_reports)


# ---------------------------------------------------------------- rasters

def _raster_frame(grid: pd.DataFrame, pad: int) -> tuple[np.ndarray, np.ndarray, int, int, int, object, CRS]:
    from affine import Affine

    cx, cy, size, crs = _grid_frame(grid)
    xmin, ymax = int(cx.min()), int(cy.max()) + size
    width = int((cx.max() - cx.min()) // size) + 1 + 2 * pad
    height = int((cy.max() - cy.min()) // size) + 1 + 2 * pad
    col = (cx - xmin) // size + pad
    row = (ymax - size - cy) // size + pad
    transform = Affine(size, 0.0, xmin - pad * size, 0.0, -size, ymax + pad * size)
    return row, col, height, width, size, transform, crs


def cell_raster(
    values: pd.Series,
    grid: pd.DataFrame,
    *,
    pad: int = 0,
    fill: float = np.nan,
) -> tuple[np.ndarray, object, CRS]:
    """Burn one value per cell into a raster aligned on the grid.

    The raster has the cells' resolution and origin (pixel edges on cell
    edges), in the CRS of the cell ids (EPSG:3035 for INSEE grids): pixel
    ``(row, col)`` is exactly one cell.

    Parameters
    ----------
    values : Series
        Aligned on ``grid.index``.
    grid : DataFrame
        With ``cell_x``, ``cell_y``, ``cell_size``.
    pad : int
        Extra empty pixels around the grid's bounding box.
    fill : float
        Value of pixels without a cell.

    Returns
    -------
    (array, transform, crs)
        float32 array (rows north to south), affine transform, CRS.

    Examples
    --------
    >>> g = pd.DataFrame({"cell_x": [0, 200], "cell_y": [0, 200], "cell_size": [200, 200]})
    >>> arr, tr, crs = cell_raster(pd.Series([1.0, 2.0]), g)
    >>> arr.tolist(), (tr.c, tr.f, tr.a), crs.to_epsg()
    ([[nan, 2.0], [1.0, nan]], (0.0, 400.0, 200.0), 3035)
    """
    row, col, h, w, _, transform, crs = _raster_frame(grid, pad)
    arr = np.full((h, w), fill, dtype="float32")
    v = values.reindex(grid.index).to_numpy(dtype="float64", na_value=np.nan)
    arr[row, col] = v
    return arr, transform, crs


def write_raster(
    array: np.ndarray,
    path: str | PathLike,
    *,
    transform: object,
    crs: CRS,
    nodata: float | None = None,
    description: str | None = None,
) -> Path:
    """Write a single-band float32 GeoTIFF atomically (deflate-compressed, tiled)."""
    import rasterio

    dest = Path(path)
    with atomic_path(dest) as tmp:
        with rasterio.open(
            tmp, "w", driver="GTiff", height=array.shape[0], width=array.shape[1], count=1,
            dtype="float32", crs=crs.to_wkt(), transform=transform, nodata=nodata,
            compress="deflate", tiled=array.shape[0] >= 256 and array.shape[1] >= 256,
        ) as dst:
            dst.write(array.astype("float32"), 1)
            if description:
                dst.set_band_description(1, description)
    return dest


def report_density(
    grid: pd.DataFrame,
    reports: gpd.GeoDataFrame,
    *,
    bandwidth: float = 400.0,
) -> tuple[np.ndarray, object, CRS]:
    """Kernel density of reports (reports per km²) on a raster aligned with the grid.

    Each report is snapped to the centre of its cell (privacy: nothing finer
    than the cell), the per-cell counts are smoothed with a Gaussian kernel of
    standard deviation ``bandwidth`` metres (truncated at 3 sigma), and
    divided by the cell area. The raster covers the grid's bounding box plus
    3 bandwidths; reports outside it are left out. The smoothing preserves
    the total: ``density.sum() * cell_km2`` equals the number of reports
    counted.

    Returns
    -------
    (array, transform, crs)
        As :func:`cell_raster`.
    """
    from scipy.ndimage import gaussian_filter

    if not np.isfinite(bandwidth) or bandwidth <= 0:
        raise ConfigError(f"bandwidth must be a positive number of metres, got {bandwidth}")
    cx, cy, size, crs = _grid_frame(grid)
    pad = int(np.ceil(3 * bandwidth / size))
    _, _, h, w, _, transform, _ = _raster_frame(grid, pad)
    counts = np.zeros((h, w), dtype="float64")
    if reports.crs is None:
        raise CRSError("reports layer has no CRS; set one (EPSG:2154 for Lambert-93)")
    if len(reports):
        x, y = _report_xy(reports, crs)
        ok = np.isfinite(x) & np.isfinite(y)
        x, y = x[ok], y[ok]
        x0 = transform.c
        y0 = transform.f
        col = np.floor((x - x0) / size).astype(np.int64)
        row = np.floor((y0 - y) / size).astype(np.int64)
        inside = (col >= 0) & (col < w) & (row >= 0) & (row < h)
        np.add.at(counts, (row[inside], col[inside]), 1.0)
    smooth = gaussian_filter(counts, sigma=bandwidth / size, mode="constant", truncate=3.0)
    density = smooth / (size * size / 1e6)
    return density.astype("float32"), transform, crs


def write_report_density(
    grid: pd.DataFrame,
    reports: gpd.GeoDataFrame,
    path: str | PathLike,
    *,
    bandwidth: float = 400.0,
) -> Path:
    """Write :func:`report_density` as a GeoTIFF (atomically) and return its path."""
    arr, transform, crs = report_density(grid, reports, bandwidth=bandwidth)
    return write_raster(arr, path, transform=transform, crs=crs,
                        description=f"resident reports per km2 (Gaussian kernel, sigma {bandwidth:g} m)")


# ---------------------------------------------------------------- confrontation

def confront(
    statistics: pd.Series,
    residents: pd.Series,
    *,
    reports_n: pd.Series | None = None,
    stat_quantile: float = 0.8,
    stat_threshold: float | None = None,
    resident_quantile: float = 0.8,
    resident_threshold: float | None = None,
    min_reports: int = 3,
) -> pd.Series:
    """Class each cell or area by whether statistics and residents point to difficulty.

    * statistics flag: ``statistics >= stat_threshold``; by default the
      threshold is the ``stat_quantile`` quantile of ``statistics`` (top
      fifth: 0.8), e.g. of the poverty score;
    * residents flag: ``residents >= resident_threshold`` (e.g. reports per
      1,000 inhabitants) **and** ``reports_n >= min_reports`` when counts are
      given (a single report is not a signal); by default the threshold is the
      ``resident_quantile`` quantile of ``residents`` over the units with at
      least one report (a zero rate never flags).

    Parameters
    ----------
    statistics : Series
        Statistical difficulty, higher is worse (poverty score, poverty rate...).
    residents : Series
        Residents' signal, higher is worse (report rate), same index.
    reports_n : Series, optional
        Report counts, for ``min_reports``.

    Returns
    -------
    Series
        Categorical with classes :data:`CONFRONTATION_CLASSES` (``"both"``,
        ``"statistics_only"``, ``"residents_only"``, ``"neither"``), missing
        where either input is missing; ``attrs["thresholds"]`` holds the
        thresholds used.

    Examples
    --------
    >>> s = pd.Series([0.9, 0.9, 0.1, 0.1])
    >>> r = pd.Series([20.0, 0.0, 20.0, 0.0])
    >>> confront(s, r, stat_threshold=0.5, resident_threshold=10.0).tolist()
    ['both', 'statistics_only', 'residents_only', 'neither']
    """
    if not statistics.index.equals(residents.index):
        raise ValidationError("confrontation", ["statistics and residents are not aligned on the same index"])
    for name, q in (("stat_quantile", stat_quantile), ("resident_quantile", resident_quantile)):
        if not 0 <= q <= 1:
            raise ConfigError(f"{name} must be in [0, 1], got {q}")
    s = statistics.to_numpy(dtype="float64", na_value=np.nan)
    r = residents.to_numpy(dtype="float64", na_value=np.nan)
    if np.isnan(s).all():
        raise ValidationError("confrontation", ["the statistics hold no value at all"])
    st = float(np.nanquantile(s, stat_quantile)) if stat_threshold is None else float(stat_threshold)
    if resident_threshold is None:
        pos = r[np.isfinite(r) & (r > 0)]
        rt = float(np.quantile(pos, resident_quantile)) if pos.size else np.inf
    else:
        rt = float(resident_threshold)
    sflag = s >= st
    rflag = (r >= rt) & (r > 0)
    if reports_n is not None:
        n = reports_n.reindex(statistics.index).to_numpy(dtype="float64", na_value=0.0)
        rflag &= n >= min_reports
    # codes into CONFRONTATION_CLASSES: both 0, statistics_only 1, residents_only 2, neither 3
    codes = np.where(sflag, np.where(rflag, 0, 1), np.where(rflag, 2, 3)).astype(np.int8)
    codes[np.isnan(s) | np.isnan(r)] = -1
    out = pd.Series(pd.Categorical.from_codes(codes, categories=list(CONFRONTATION_CLASSES)),
                    index=statistics.index, name="confrontation")
    out.attrs["thresholds"] = {"statistics": st, "residents": rt, "min_reports": min_reports if reports_n is not None else None}
    return out
