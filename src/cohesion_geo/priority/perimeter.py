"""Quartier perimeters drawn between cell centres: ``delineate(..., perimeter="interpolated")``.

With ``perimeter="cells"`` (the default) a quartier's polygon is the union of
its 200 m cells: every edge runs along a cell edge. With
``perimeter="interpolated"`` the *same cells* make the quartier (same
statistics, same floor), but its edge is drawn where the rule's line would be
crossed between cell centres:

1. each cell has a **margin** from the rule (:attr:`~cohesion_geo.priority.rules.Rule.margin`),
   positive exactly for the cells the rule flags (e.g. ``1 - mean / (k S)``);
2. the margin is **clamped** so that the zone keeps its cells: the zone's cells
   get at least ``+clamp``, cells outside at most ``-clamp`` (0.1); pixels of
   the zone with no grid cell (filled holes, bridged gaps) count ``+clamp``;
   outside cells whose margin is unknown (NaN) are ignored;
3. the clamped margins, placed at the cell centres, are interpolated
   bilinearly onto sub-pixels of ``resolution`` metres (normalised weights:
   a missing centre drops out of the average);
4. the quartier is the set of sub-pixels where the interpolated margin is at
   least 0, within its own cells and the inhabited cells of its rook ring
   (toward a neighbour with no grid cell the edge stays on the cell edge);
   the band joining the centres of rook-adjacent zone cells always belongs
   to the zone, so it stays in one piece exactly when its cells are; pieces
   not attached to the zone's cells are dropped;
5. a ring sub-pixel two zones could both take goes to the zone whose cells
   are nearer (a tie: to neither), so quartiers never overlap; a zone never
   takes sub-pixels of another zone's cells.

Between a zone cell of margin ``m1`` and an outside neighbour of margin
``-m2`` the edge lies at the fraction ``m1 / (m1 + m2)`` of the way from the
zone cell's centre: half-way (the cell edge) when the two are equally far
from the line, beyond it when the zone cell is much poorer than its
neighbour is rich.

Work is done one zone at a time, in a window of the zone's bounding box plus
three cells, so the cost grows with the number of quartiers, not with the
extent of the grid.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from affine import Affine
from rasterio import features
from scipy import ndimage as ndi

from ..errors import ConfigError
from .raster import one_geometry

__all__ = [
    "DEFAULT_CLAMP",
    "DEFAULT_RESOLUTION",
    "PERIMETERS",
    "bilinear_upsample",
    "interpolated_geometries",
    "subcell_factor",
    "zone_subpixels",
]

#: Values of ``delineate(perimeter=...)``.
PERIMETERS: tuple[str, ...] = ("cells", "interpolated")
#: Sub-pixel size in metres (8 sub-pixels per side of a 200 m cell).
DEFAULT_RESOLUTION = 25.0
#: Zone cells count at least ``+clamp``, outside cells at most ``-clamp``.
DEFAULT_CLAMP = 0.1

_ROOK = ndi.generate_binary_structure(2, 1)
_PAD = 3  # cells around a zone's bounding box: its ring, the ring's neighbours, competing zones


def subcell_factor(cell_size: float, resolution: float) -> int:
    """Sub-pixels per cell side; ``resolution`` must divide ``cell_size``.

    Examples
    --------
    >>> subcell_factor(200, 25)
    8
    >>> subcell_factor(200, 30)
    Traceback (most recent call last):
    ...
    cohesion_geo.errors.ConfigError: perimeter_resolution=30 m does not divide the cell size (200 m): use 100, 50, 40, 25, 20, 10... m
    """
    try:
        res = float(resolution)
    except (TypeError, ValueError):
        raise ConfigError(f"perimeter_resolution must be a number of metres, not {resolution!r}") from None
    if not math.isfinite(res) or res <= 0:
        raise ConfigError(f"perimeter_resolution must be a positive number of metres, not {resolution!r}")
    ratio = float(cell_size) / res
    factor = int(round(ratio))
    if factor < 1 or abs(ratio - factor) > 1e-9 * max(ratio, 1.0):
        divisors = [cell_size / k for k in range(2, 21) if float(cell_size) % k == 0][:6]
        shown = ", ".join(f"{d:g}" for d in divisors)
        raise ConfigError(
            f"perimeter_resolution={resolution:g} m does not divide the cell size ({cell_size:g} m): "
            f"use {shown}... m"
        )
    return factor


def _interp_matrix(n: int, factor: int) -> np.ndarray:
    """(n*factor, n) weights of linear interpolation from cell centres to sub-pixel centres."""
    t = (np.arange(n * factor) + 0.5) / factor - 0.5
    i0 = np.floor(t).astype(np.int64)
    frac = t - i0
    lo = np.clip(i0, 0, n - 1)
    hi = np.clip(i0 + 1, 0, n - 1)
    m = np.zeros((n * factor, n))
    rows = np.arange(n * factor)
    np.add.at(m, (rows, lo), 1.0 - frac)
    np.add.at(m, (rows, hi), frac)
    return m


def bilinear_upsample(values: np.ndarray, factor: int) -> np.ndarray:
    """Normalised bilinear interpolation of cell-centre values onto ``factor`` x ``factor`` sub-pixels.

    NaN centres are left out of the weighted average; a sub-pixel whose four
    surrounding centres are all NaN is NaN. Beyond the outermost centres the
    nearest centre's value is kept.

    Examples
    --------
    >>> bilinear_upsample(np.array([[1.0, -1.0]]), 2).round(2).tolist()
    [[1.0, 0.5, -0.5, -1.0], [1.0, 0.5, -0.5, -1.0]]
    >>> bilinear_upsample(np.array([[1.0, np.nan]]), 2).tolist()[0]
    [1.0, 1.0, 1.0, nan]
    """
    v = np.asarray(values, dtype=float)
    w = np.isfinite(v).astype(float)
    v0 = np.where(w > 0, v, 0.0)
    mr = _interp_matrix(v.shape[0], factor)
    mc = _interp_matrix(v.shape[1], factor)
    a = mr @ v0 @ mc.T
    b = mr @ w @ mc.T
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(b > 1e-9, a / np.where(b > 1e-9, b, 1.0), np.nan)


def _up(mask: np.ndarray, factor: int) -> np.ndarray:
    return np.repeat(np.repeat(mask, factor, axis=0), factor, axis=1)


def _skeleton(zone: np.ndarray, factor: int) -> np.ndarray:
    """Sub-pixels at the zone cells' centres and along the segments joining rook-adjacent centres."""
    lo, hi = (factor - 1) // 2, factor // 2
    east = np.zeros_like(zone)
    east[:, :-1] = zone[:, :-1] & zone[:, 1:]
    west = np.zeros_like(zone)
    west[:, 1:] = zone[:, 1:] & zone[:, :-1]
    north = np.zeros_like(zone)  # raster rows grow northwards
    north[:-1] = zone[:-1] & zone[1:]
    south = np.zeros_like(zone)
    south[1:] = zone[1:] & zone[:-1]
    out = np.zeros((zone.shape[0] * factor, zone.shape[1] * factor), dtype=bool)
    for cells, rows, cols in (
        (zone, slice(lo, hi + 1), slice(lo, hi + 1)),
        (east, slice(lo, hi + 1), slice(lo, factor)),
        (west, slice(lo, hi + 1), slice(0, hi + 1)),
        (north, slice(lo, factor), slice(lo, hi + 1)),
        (south, slice(0, hi + 1), slice(lo, hi + 1)),
    ):
        if cells.any():
            pattern = np.zeros((factor, factor), dtype=bool)
            pattern[rows, cols] = True
            out |= np.kron(cells, pattern).astype(bool)
    return out


def zone_subpixels(
    labels: np.ndarray,
    zone: int,
    margin: np.ndarray,
    has_cell: np.ndarray,
    *,
    factor: int,
    clamp: float = DEFAULT_CLAMP,
) -> np.ndarray:
    """Sub-pixels of one zone, on a window of cells (``factor`` sub-pixels per cell side).

    Parameters
    ----------
    labels : ndarray of int
        Zone label of each cell of the window (0: no zone); rows grow northwards.
    zone : int
        The zone whose sub-pixels are wanted.
    margin : ndarray of float
        The rule's margin of each cell (> 0: flagged; NaN: unknown).
    has_cell : ndarray of bool
        Whether a grid cell exists there (empty pixels: no inhabitants).
    factor : int
        Sub-pixels per cell side.
    clamp : float
        Zone cells count at least ``+clamp``, outside cells at most ``-clamp``.

    Returns
    -------
    ndarray of bool, shape ``(rows * factor, cols * factor)``

    Examples
    --------
    A zone cell of margin 0.6 west of a cell of margin -0.2: the edge lies
    three quarters of the way between their centres (150 m east of the zone
    cell's centre, 50 m into the neighbour).

    >>> lab = np.array([[1, 0]])
    >>> m = np.array([[0.6, -0.2]])
    >>> zone_subpixels(lab, 1, m, np.ones((1, 2), bool), factor=4)[0].astype(int).tolist()
    [1, 1, 1, 1, 1, 0, 0, 0]
    """
    z = labels == zone
    other = (labels > 0) & ~z
    with np.errstate(invalid="ignore"):
        v = np.where(z, np.fmax(margin, clamp), np.where(has_cell, np.minimum(margin, -clamp), np.nan))
    ring = ndi.binary_dilation(z, structure=_ROOK) & ~z & has_cell & ~other
    field = bilinear_upsample(v, factor)
    with np.errstate(invalid="ignore"):
        pix = _up(z | ring, factor) & (field >= 0.0)
    skel = _skeleton(z, factor)
    pix |= skel
    if other.any():  # a ring sub-pixel goes to the nearer zone (a tie: to neither)
        d_own = ndi.distance_transform_edt(~_up(z, factor))
        d_other = ndi.distance_transform_edt(~_up(other, factor))
        pix &= d_own < d_other
    lab, n = ndi.label(pix, structure=_ROOK)
    if n > 1:
        keep = np.zeros(n + 1, dtype=bool)
        keep[np.unique(lab[skel])] = True
        keep[0] = False
        pix = keep[lab]
    return pix


def interpolated_geometries(
    zone_r: np.ndarray,
    margin_r: np.ndarray,
    has_cell: np.ndarray,
    *,
    n_zones: int,
    x0: int,
    y0: int,
    cell_size: float,
    factor: int,
    clamp: float = DEFAULT_CLAMP,
) -> tuple[np.ndarray, np.ndarray]:
    """One polygon per zone with interpolated edges, and its area (m²), in the cells' CRS.

    Parameters
    ----------
    zone_r : ndarray of int
        Zone label of each raster pixel (1..n_zones; 0 none); row 0 is the south.
    margin_r, has_cell : ndarray
        Rule margin per pixel (NaN where unknown or no cell) and cell presence.
    n_zones : int
        Number of zones.
    x0, y0 : int
        Integer grid coordinates of pixel (0, 0) (:class:`~cohesion_geo.priority.raster.GridRaster`).
    cell_size : float
        Cell size in metres.
    factor : int
        Sub-pixels per cell side (:func:`subcell_factor`).
    clamp : float
        See :func:`zone_subpixels`.

    Returns
    -------
    (ndarray of geometries, ndarray of float)

    Examples
    --------
    >>> zr = np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]])
    >>> m = np.where(zr > 0, 0.5, -0.5)
    >>> geoms, area = interpolated_geometries(zr, m, np.ones((3, 3), bool), n_zones=1, x0=0, y0=0,
    ...                                       cell_size=200, factor=8)
    >>> geoms[0].bounds, float(area[0]) < 200 * 200
    ((200.0, 200.0, 400.0, 400.0), True)
    """
    geoms = np.empty(n_zones, dtype=object)
    areas = np.zeros(n_zones, dtype=float)
    if n_zones == 0:
        return geoms, areas
    px = float(cell_size) / factor
    boxes = ndi.find_objects(zone_r, max_label=n_zones)
    for z in range(1, n_zones + 1):
        box = boxes[z - 1]
        if box is None:
            geoms[z - 1] = shapely.Polygon()
            continue
        r0 = max(box[0].start - _PAD, 0)
        r1 = min(box[0].stop + _PAD, zone_r.shape[0])
        c0 = max(box[1].start - _PAD, 0)
        c1 = min(box[1].stop + _PAD, zone_r.shape[1])
        win = (slice(r0, r1), slice(c0, c1))
        pix = zone_subpixels(zone_r[win], z, margin_r[win], has_cell[win], factor=factor, clamp=clamp)
        areas[z - 1] = float(pix.sum()) * px * px
        rows = np.flatnonzero(pix.any(axis=1))
        cols = np.flatnonzero(pix.any(axis=0))
        pr0, pc0 = rows[0], cols[0]
        sub = np.ascontiguousarray(pix[pr0 : rows[-1] + 1, pc0 : cols[-1] + 1], dtype=np.uint8)
        transform = Affine(
            px, 0, (x0 + c0) * float(cell_size) + pc0 * px, 0, px, (y0 + r0) * float(cell_size) + pr0 * px
        )
        polys = [
            shapely.geometry.shape(geom)
            for geom, _ in features.shapes(sub, mask=sub > 0, connectivity=4, transform=transform)
        ]
        geoms[z - 1] = one_geometry(polys)
    return geoms, areas
