"""Access to facilities: distance to the nearest one and count within a walking radius.

Distances are Euclidean, in metres, between each cell's centroid and the
facility points (BPE, *Base permanente des équipements*), computed with a
:class:`scipy.spatial.cKDTree`. Both layers must be in the **same projected
CRS**: a geographic CRS (degrees) or a mismatch raises
:class:`~cohesion_geo.errors.CRSError` naming both CRS (reproject explicitly
with ``.to_crs()``; :func:`~cohesion_geo.indicators.pipeline.add_indicators`
does that step for you and says so in its docstring).

Columns produced by :func:`facility_access`:

* ``facility_distance`` -- *distance à l'équipement le plus proche* (m);
* ``facility_count`` -- *nombre d'équipements à moins de r mètres*.
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from scipy.spatial import cKDTree

from .._validate import check_same_crs, drop_rows, require_projected
from ..errors import MissingColumnsError, ValidationError
from ..cellid import epsg_of_ids


__all__ = [
    "facilities_within",
    "facility_access",
    "nearest_facility_distance",
    "select_facilities",
]

#: Default walking radius (metres): about 6-7 minutes on foot.
DEFAULT_RADIUS = 500.0


def select_facilities(
    facilities: gpd.GeoDataFrame,
    *,
    types: Sequence[str] | str | None = None,
) -> gpd.GeoDataFrame:
    """Keep the facilities of the chosen BPE types.

    Parameters
    ----------
    facilities : GeoDataFrame
        Points with a ``typequ`` column (BPE type code, e.g. ``"F121"``).
    types : str or sequence of str, optional
        Codes or code prefixes: ``"F1"`` keeps every ``F1xx`` type (sports
        facilities), ``"D2"`` every ``D2xx`` (health), ``"F121"`` that type
        only. All facilities when omitted.

    Raises
    ------
    ValidationError
        When the layer is empty, or no facility has one of ``types`` (the
        message lists the types present).

    Examples
    --------
    >>> import shapely
    >>> f = gpd.GeoDataFrame({"typequ": ["F121", "D201"]},
    ...                      geometry=shapely.points([0, 1], [0, 1]), crs=2154)
    >>> select_facilities(f, types="F1").typequ.tolist()
    ['F121']
    """
    if len(facilities) == 0:
        raise ValidationError("facilities", ["the facilities layer is empty (0 rows)"])
    if types is None:
        return facilities
    if isinstance(types, str):
        types = [t for t in types.split(",") if t.strip()]
    prefixes = tuple(t.strip().upper() for t in types)
    if not prefixes:
        return facilities
    if "typequ" not in facilities.columns:
        raise MissingColumnsError("facilities: a type filter needs the 'typequ' column (BPE type code)")
    codes = facilities["typequ"].astype("string").str.upper()
    keep = codes.str.startswith(prefixes).fillna(False).to_numpy(dtype=bool)
    if not keep.any():
        present = sorted(codes.dropna().unique())[:15]
        raise ValidationError(
            "facilities",
            [f"no facility of type {', '.join(prefixes)} among {len(facilities)} rows; "
             f"types present: {', '.join(present)}{' ...' if codes.nunique() > 15 else ''}"],
        )
    return facilities.loc[keep]


def _points(frame: gpd.GeoDataFrame | gpd.GeoSeries) -> np.ndarray:
    """Coordinates of points, or of the centroids of other geometries.

    A canonical grid frame whose geometry is in the CRS of its cell ids gives
    the cell centres from ``cell_x``/``cell_y``/``cell_size`` directly (exact
    and much faster than computing 2 million centroids).
    """
    if isinstance(frame, gpd.GeoDataFrame) and {"cell_x", "cell_y", "cell_size", "cell_id"} <= set(frame.columns):
        epsg = epsg_of_ids(frame["cell_id"])
        if epsg is not None and frame.crs is not None and frame.crs.equals(CRS.from_epsg(epsg)):
            half = frame["cell_size"].to_numpy(dtype="float64") / 2
            return np.column_stack([frame["cell_x"].to_numpy(dtype="float64") + half,
                                    frame["cell_y"].to_numpy(dtype="float64") + half])
    arr = np.asarray((frame.geometry if isinstance(frame, gpd.GeoDataFrame) else frame).array)
    if len(arr) and (shapely.get_type_id(arr) != 0).any():
        arr = shapely.centroid(arr)  # squares: exact centre
    return np.column_stack([shapely.get_x(arr), shapely.get_y(arr)]) if len(arr) else np.empty((0, 2))


def _prepare(
    cells: gpd.GeoDataFrame | gpd.GeoSeries,
    facilities: gpd.GeoDataFrame,
    types: Sequence[str] | str | None,
) -> tuple[np.ndarray, np.ndarray]:
    require_projected(cells.crs, what="cells layer")
    require_projected(facilities.crs, what="facilities layer")
    check_same_crs(cells.crs, facilities.crs, what_a="the cells layer", what_b="the facilities layer")
    if len(cells) == 0:
        raise ValidationError("cells", ["the cells layer is empty (0 rows)"])
    fac = select_facilities(facilities, types=types)
    farr = np.asarray(fac.geometry.array)
    bad = shapely.is_missing(farr) | shapely.is_empty(farr)
    fac = drop_rows(fac, bad, source="facilities", reason="missing or empty geometry")
    if len(fac) == 0:
        raise ValidationError("facilities", ["no facility with a geometry left"])
    cxy = _points(cells)
    cbad = ~np.isfinite(cxy).all(axis=1)
    if cbad.any():
        raise ValidationError("cells", [f"{int(cbad.sum())} cells have no geometry"])
    return cxy, _points(fac)


def facility_access(
    cells: gpd.GeoDataFrame | gpd.GeoSeries,
    facilities: gpd.GeoDataFrame,
    *,
    types: Sequence[str] | str | None = None,
    radius: float = DEFAULT_RADIUS,
) -> pd.DataFrame:
    """Distance to the nearest facility and number of facilities within ``radius``.

    Parameters
    ----------
    cells : GeoDataFrame or GeoSeries
        Cell polygons (or points); distances start at their centroids.
    facilities : GeoDataFrame
        Facility points with ``typequ`` (BPE type); same projected CRS as ``cells``.
    types : str or sequence of str, optional
        BPE codes or prefixes to keep (see :func:`select_facilities`).
    radius : float, default 500
        Walking radius in metres for ``facility_count`` (points at exactly
        ``radius`` count).

    Returns
    -------
    DataFrame
        ``facility_distance`` (float64, m) and ``facility_count`` (int64),
        aligned on ``cells.index``.

    Raises
    ------
    CRSError
        A layer without CRS, in degrees, or the two layers in different CRS.
    ValidationError
        An empty layer, or no facility of the chosen types.

    Examples
    --------
    >>> import shapely
    >>> c = gpd.GeoSeries(shapely.points([0.0, 1000.0], [0.0, 0.0]), crs=2154)
    >>> f = gpd.GeoDataFrame({"typequ": ["F121", "F121"]},
    ...                      geometry=shapely.points([300.0, 400.0], [400.0, 0.0]), crs=2154)
    >>> facility_access(c, f, radius=500).to_dict("list")
    {'facility_distance': [400.0, 600.0], 'facility_count': [2, 0]}
    """
    if not np.isfinite(radius) or radius < 0:
        raise ValidationError("facility access", [f"radius must be a non-negative number of metres, got {radius}"])
    cxy, fxy = _prepare(cells, facilities, types)
    tree = cKDTree(fxy)
    dist, _ = tree.query(cxy, k=1, workers=-1)
    count = tree.query_ball_point(cxy, r=radius, return_length=True, workers=-1)
    return pd.DataFrame(
        {"facility_distance": np.asarray(dist, dtype="float64"),
         "facility_count": np.asarray(count, dtype="int64")},
        index=cells.index,
    )


def nearest_facility_distance(
    cells: gpd.GeoDataFrame | gpd.GeoSeries,
    facilities: gpd.GeoDataFrame,
    *,
    types: Sequence[str] | str | None = None,
) -> pd.Series:
    """Distance (m) from each cell centroid to the nearest facility of ``types``.

    See :func:`facility_access` for the parameters and errors.

    Examples
    --------
    >>> import shapely
    >>> c = gpd.GeoSeries(shapely.points([0.0], [0.0]), crs=3035)
    >>> f = gpd.GeoDataFrame({"typequ": ["D201"]}, geometry=shapely.points([3.0], [4.0]), crs=3035)
    >>> nearest_facility_distance(c, f).tolist()
    [5.0]
    """
    cxy, fxy = _prepare(cells, facilities, types)
    dist, _ = cKDTree(fxy).query(cxy, k=1, workers=-1)
    return pd.Series(np.asarray(dist, dtype="float64"), index=cells.index, name="facility_distance")


def facilities_within(
    cells: gpd.GeoDataFrame | gpd.GeoSeries,
    facilities: gpd.GeoDataFrame,
    *,
    radius: float = DEFAULT_RADIUS,
    types: Sequence[str] | str | None = None,
) -> pd.Series:
    """Number of facilities of ``types`` within ``radius`` metres of each cell centroid.

    See :func:`facility_access` for the parameters and errors.
    """
    return facility_access(cells, facilities, types=types, radius=radius)["facility_count"].rename(
        "facility_count"
    )
