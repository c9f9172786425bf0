"""Cells on the integer grid: a frame of 200 m cells as a 2-D raster and back.

Delineation works on the integer grid: a cell with lower-left corner
``(cell_x, cell_y)`` and size ``cell_size`` sits at column
``cell_x // cell_size - x0`` and row ``cell_y // cell_size - y0`` of a raster
covering the cells' bounding box. Connected components and morphology are then
``scipy.ndimage`` calls on that raster, so millions of cells are grouped in
seconds with no Python loop over cells.

Rows of the raster grow northwards (row 0 is the southernmost row): the
:attr:`GridRaster.transform` maps (col, row) to the lower-left corner of a
pixel in the grid's CRS.
"""

from __future__ import annotations

from dataclasses import dataclass

from collections.abc import Sequence

import numpy as np
import shapely

from ..errors import CohesionGeoError

__all__ = ["GridRaster", "MAX_PIXELS", "one_geometry"]

#: Largest bounding box (in pixels) rasterised at once: 400 million pixels is
#: 400 MB per boolean layer. Mainland France at 200 m is about 30 million.
MAX_PIXELS = 400_000_000


@dataclass(frozen=True)
class GridRaster:
    """Position of every cell in a raster covering the cells' bounding box.

    Parameters
    ----------
    rows, cols : ndarray of int64
        Raster row and column of each cell, in the cells' order.
    shape : tuple of int
        ``(n_rows, n_cols)`` of the raster (a margin of ``pad`` pixels around
        the cells is included so morphology never touches the border).
    x0, y0 : int
        Integer grid coordinates (``cell_x // cell_size``) of pixel (0, 0).
    cell_size : int
        Cell size in metres.

    Examples
    --------
    >>> r = GridRaster.from_coords([0, 200, 400], [0, 0, 200], cell_size=200, pad=0)
    >>> r.shape, r.rows.tolist(), r.cols.tolist()
    ((2, 3), [0, 0, 1], [0, 1, 2])
    """

    rows: np.ndarray
    cols: np.ndarray
    shape: tuple[int, int]
    x0: int
    y0: int
    cell_size: int

    @classmethod
    def from_coords(
        cls,
        cell_x: np.ndarray | list[int],
        cell_y: np.ndarray | list[int],
        *,
        cell_size: int = 200,
        pad: int = 2,
    ) -> GridRaster:
        """Build the raster positions from lower-left corners in metres."""
        x = np.asarray(cell_x, dtype=np.int64)
        y = np.asarray(cell_y, dtype=np.int64)
        size = int(cell_size)
        gx = x // size
        gy = y // size
        if gx.size == 0:
            return cls(gx, gy, (1, 1), 0, 0, size)
        x0 = int(gx.min()) - pad
        y0 = int(gy.min()) - pad
        cols = gx - x0
        rows = gy - y0
        shape = (int(rows.max()) + 1 + pad, int(cols.max()) + 1 + pad)
        if shape[0] * shape[1] > MAX_PIXELS:
            raise CohesionGeoError(
                f"the cells span {shape[1]} x {shape[0]} cells of {size} m, more than "
                f"{MAX_PIXELS:,} pixels; delineate each urban unit (or region) separately"
            )
        flat = rows * shape[1] + cols
        if np.bincount(flat, minlength=shape[0] * shape[1]).max(initial=0) > 1:
            raise CohesionGeoError("two cells share the same grid position (duplicate cells)")
        return cls(rows, cols, shape, x0, y0, size)

    @property
    def n(self) -> int:
        """Number of cells."""
        return int(self.rows.size)

    @property
    def flat(self) -> np.ndarray:
        """Flat raster index of each cell."""
        return self.rows * self.shape[1] + self.cols

    def to_raster(self, values: np.ndarray, *, fill: float | int | bool = 0) -> np.ndarray:
        """Scatter one value per cell into a raster, ``fill`` elsewhere."""
        values = np.asarray(values)
        out = np.full(self.shape, fill, dtype=values.dtype)
        out[self.rows, self.cols] = values
        return out

    def from_raster(self, raster: np.ndarray) -> np.ndarray:
        """Gather the raster's value at each cell."""
        return raster[self.rows, self.cols]

    def pixel_corners(self, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Lower-left corners (metres) of raster pixels."""
        x = (np.asarray(cols, dtype=np.int64) + self.x0) * self.cell_size
        y = (np.asarray(rows, dtype=np.int64) + self.y0) * self.cell_size
        return x, y


def one_geometry(polys: Sequence[shapely.Polygon]) -> shapely.Geometry:
    """One valid, normalised (multi)polygon from the polygons a raster was cut into.

    Examples
    --------
    >>> one_geometry([shapely.box(0, 0, 1, 1), shapely.box(2, 0, 3, 1)]).geom_type
    'MultiPolygon'
    >>> one_geometry([shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)]).area  # touching parts dissolved
    2.0
    """
    if len(polys) == 1:
        geom = polys[0]
    else:
        geom = shapely.MultiPolygon(list(polys))
        if not geom.is_valid:
            geom = shapely.union_all(list(polys))
    geom = shapely.normalize(geom)
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    return geom
