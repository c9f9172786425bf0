"""Facilities: INSEE *Base permanente des équipements* (BPE) points.

Canonical columns
=================
``typequ``       BPE facility type code (str, a letter + 3 digits, e.g. ``"F121"``)
``commune``      5-char commune code (``DEPCOM``), str
``quality``      geocoding quality (``QUALITE_XY``: ``"Bonne"``, ``"Acceptable"``,
                 ``"Mauvaise"``...), str or ``<NA>``
``urban_unit``   urban unit code (``UU2020``, or the latest ``UU<year>``), str or ``<NA>``
``iris``         9-char IRIS code when the file has ``DCIRIS`` (``33003_0104`` -> ``330030104``)
other columns    kept, lower-cased
geometry         points in the coordinates' projected CRS (EPSG:2154 for mainland)

BPE coordinates (``LAMBERT_X``, ``LAMBERT_Y``) are Lambert-93 for mainland
France; overseas départements use local UTM projections (EPSG:5490 Guadeloupe
and Martinique, 2972 Guyane, 2975 La Réunion, 4471 Mayotte): pass ``crs=``.
Facilities without coordinates (``QUALITE_XY`` = "Non géolocalisé") or
outside the CRS's area of use are dropped with a counted
:class:`~cohesion_geo.errors.DroppedRowsWarning`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS

from .._validate import Problems, drop_for_reasons, example_rows, require_columns, require_projected, to_numeric
from ..errors import ValidationError
from ._common import (
    COMMUNE_PATTERN,
    IRIS_PATTERN,
    find_column,
    lower_columns,
    normalise_codes,
    outside_area_of_use,
    point_xy,
    text,
)
from ._read import read_table

__all__ = ["load_facilities", "parse_types"]

_X = ("LAMBERT_X", "X", "COORD_X")
_Y = ("LAMBERT_Y", "Y", "COORD_Y")
_STRINGS = ("TYPEQU", "DEPCOM", "DCIRIS", "QUALITE_XY", "UU2020", "UU2010", "DEP", "REG", "EPCI",
            "AAV2020", "BV2012", "AN", "COUVERT", "ECLAIRE")  # fmt: skip


def parse_types(types: str | Iterable[str] | None) -> tuple[str, ...] | None:
    """Normalise a facility-type filter: ``"F1, f303"`` -> ``("F1", "F303")``.

    Examples
    --------
    >>> parse_types("F1,f303")
    ('F1', 'F303')
    >>> parse_types(None) is None
    True
    """
    if types is None:
        return None
    parts = types.split(",") if isinstance(types, str) else list(types)
    out = tuple(str(p).strip().upper() for p in parts if str(p).strip())
    return out or None


def load_facilities(
    path: str | os.PathLike,
    *,
    types: str | Iterable[str] | None = None,
    crs: Any = 2154,
    layer: str | None = None,
) -> gpd.GeoDataFrame:
    """Load INSEE BPE facilities as points in the canonical schema.

    Parameters
    ----------
    path : path
        BPE CSV (``;``-separated: ``TYPEQU``, ``LAMBERT_X``, ``LAMBERT_Y``,
        ``DEPCOM``, ``QUALITE_XY``, ``UU2020``...), or a point layer
        (GeoPackage, GeoJSON, Parquet) with ``TYPEQU`` and ``DEPCOM``.
    types : str or iterable of str, optional
        Keep only facility types starting with these prefixes, e.g.
        ``["F1"]`` (sport) or ``"F101,F102"``.
    crs : CRS-like, default 2154
        Projected CRS of ``LAMBERT_X``/``LAMBERT_Y`` (Lambert-93 for mainland;
        see the module docstring for overseas). Point layers keep their own
        CRS when they declare one (reprojected to ``crs`` when geographic).
    layer : str, optional
        Layer of a multi-layer file.

    Returns
    -------
    GeoDataFrame
        ``typequ``, ``commune``, ``quality``, ``urban_unit`` (and ``iris``
        when ``DCIRIS`` exists), the other columns lower-cased, point geometry.
        ``attrs``: ``source``, ``n_read`` (rows in the file), ``n_unlocated``.

    Raises
    ------
    MissingColumnsError
        ``TYPEQU``, ``DEPCOM`` or the coordinate columns are absent.
    ValidationError
        Malformed type or commune codes, non-numeric coordinates.

    Examples
    --------
    >>> from cohesion_geo.datasets import real_path
    >>> bpe = load_facilities(real_path("bordeaux_facilities"))  # doctest: +SKIP
    >>> len(bpe), bpe.crs.to_epsg()  # doctest: +SKIP
    (860, 2154)
    """
    path = Path(path)
    source = str(path)
    target = require_projected(crs, what=f"{source}: crs option")
    frame = read_table(path, layer=layer, string_columns=_STRINGS)
    if len(frame) == 0:
        raise ValidationError(source, ["the facilities file has no rows"])
    is_geo = isinstance(frame, gpd.GeoDataFrame) and frame.geometry.name in frame.columns
    type_col = find_column(frame, ("TYPEQU",))
    com_col = find_column(frame, ("DEPCOM", "CODGEO", "COMMUNE", "INSEE_COM"))
    required = [type_col or "TYPEQU", com_col or "DEPCOM"]
    x_col = y_col = None
    if not is_geo:
        x_col, y_col = find_column(frame, _X), find_column(frame, _Y)
        required += [x_col or "LAMBERT_X", y_col or "LAMBERT_Y"]
    require_columns(frame, required, source=source, what="BPE facilities table")
    assert type_col is not None and com_col is not None

    problems = Problems(source)
    typequ = text(frame[type_col]).str.upper()
    bad_type = (~typequ.str.fullmatch(r"[A-Z]\d{3}").fillna(False).astype(bool)).to_numpy()
    if bad_type.any():
        problems.add(
            f"column {type_col!r}: malformed facility type (expected a letter and 3 digits, e.g. F121) in "
            + example_rows(bad_type, labels=list(frame[type_col].astype("string").to_numpy()))
        )
    commune = normalise_codes(
        frame[com_col], width=5, pattern=COMMUNE_PATTERN, column=com_col, problems=problems, what="commune code"
    )
    if is_geo:
        gframe: gpd.GeoDataFrame = frame  # type: ignore[assignment]
        geoms = gpd.GeoSeries(gframe.geometry.to_numpy(), crs=gframe.crs if gframe.crs is not None else target)
        if not CRS.from_user_input(geoms.crs).is_projected:
            geoms = geoms.to_crs(target)
        xs, ys = point_xy(geoms, problems)
        problems.raise_if_any()
        out_crs = CRS.from_user_input(geoms.crs)
        data = pd.DataFrame(gframe.drop(columns=gframe.geometry.name))
    else:
        assert x_col is not None and y_col is not None
        data = to_numeric(pd.DataFrame(frame), [x_col, y_col], problems, nonnegative=False)
        problems.raise_if_any()
        xs = data[x_col].to_numpy(dtype="float64")
        ys = data[y_col].to_numpy(dtype="float64")
        out_crs = target
        data = data.drop(columns=[x_col, y_col])

    n_read = len(data)
    unlocated = ~(np.isfinite(xs) & np.isfinite(ys))
    outside = outside_area_of_use(xs, ys, out_crs)
    if outside.all():
        raise ValidationError(
            source,
            [
                f"every facility lies outside the area of use of {out_crs.to_string()} "
                f"(e.g. x={xs[0]}, y={ys[0]}): wrong crs option? (overseas BPE uses local UTM)"
            ],
        )

    qual_col = find_column(data, ("QUALITE_XY", "QUALITE"))
    uu_cols = sorted(
        (c for c in data.columns if re.fullmatch(r"UU\d{4}", str(c), flags=re.IGNORECASE)),
        key=lambda c: int(str(c)[2:]),
    )
    uu_col = uu_cols[-1] if uu_cols else find_column(data, ("UU", "URBAN_UNIT"))
    iris_col = find_column(data, ("DCIRIS",))
    canon = pd.DataFrame(
        {
            "typequ": typequ.to_numpy(),
            "commune": commune.to_numpy(),
            "quality": text(data[qual_col]).to_numpy() if qual_col else pd.NA,
            "urban_unit": text(data[uu_col]).str.upper().to_numpy() if uu_col else pd.NA,
        }
    )
    if iris_col is not None:
        codes = text(data[iris_col]).str.replace("_", "", regex=False)
        canon["iris"] = codes.where(codes.str.fullmatch(IRIS_PATTERN).fillna(False).astype(bool)).to_numpy()
    for col in canon.columns:
        canon[col] = canon[col].astype("string")
    known = {c for c in (type_col, com_col, qual_col, uu_col) if c is not None}
    rest = lower_columns(data.drop(columns=sorted(known)).reset_index(drop=True))
    rest = rest.drop(columns=[c for c in rest.columns if c in canon.columns])
    out = pd.concat([canon, rest], axis=1)
    out["_x"], out["_y"] = xs, ys

    out = drop_for_reasons(
        out,
        [
            (unlocated, "facilities without coordinates (BPE: 'Non géolocalisé')"),
            (outside, f"coordinates outside the area of use of {out_crs.to_string()} (wrong crs option?)"),
        ],
        source=source,
    )
    prefixes = parse_types(types)
    if prefixes is not None:
        keep = out["typequ"].str.startswith(prefixes).fillna(False).to_numpy(dtype=bool)
        out = out.loc[keep].reset_index(drop=True)
    gdf = gpd.GeoDataFrame(
        out.drop(columns=["_x", "_y"]),
        geometry=gpd.points_from_xy(out["_x"], out["_y"]),
        crs=out_crs,
    )
    gdf.attrs = {
        "source": source,
        "n_read": int(n_read),
        "n_unlocated": int(unlocated.sum()),
        "n_outside": int(outside.sum()),
        "types": list(prefixes) if prefixes else None,
    }
    return gdf
