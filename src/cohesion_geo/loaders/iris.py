"""IRIS: IGN contours and INSEE Filosofi income by IRIS.

:func:`load_iris` reads the IGN *Contours...IRIS* polygons; :func:`load_iris_income`
reads the Filosofi ``BASE_TD_FILO_DISP_IRIS_<year>`` (or ``..._DEC_...``) table.
Both key the IRIS by its 9-character code (``iris``), so they join directly::

    iris = load_iris(contours).merge(load_iris_income(income), on="iris", how="left")

Contours, canonical columns
===========================
``iris``           9-char IRIS code (commune code + 4 digits), str, unique
``commune``        5-char commune code (``2A``/``2B`` kept), str
``name``           IRIS name (``NOM_IRIS``)
``commune_name``   commune name (``NOM_COM``)
``iris_type``      ``H`` residential, ``A`` activity, ``D`` other, ``Z`` undivided commune
other fields       kept, lower-cased
geometry           polygons, in the requested projected CRS (EPSG:2154 by default)

Income, canonical columns
=========================
``iris``, ``commune``   codes as above
``median_income``       median disposable (``DISP_MED``) or declared (``DEC_MED``) income
                        per consumption unit, EUR/year
``poverty_rate``        ``..._TP60`` / 100: share of people under the poverty line (0-1)
``income_q1``, ``income_q3``, ``income_d1`` ... ``income_d9``  quartiles and deciles
``gini``                Gini index (``..._GI``)
source columns          every ``DISP_*``/``DEC_*`` column kept under its own name, as float
Secrecy markers (``s``, ``nd``, ``ns``, ``so``, ``c``) and empty cells are missing
(NaN), never zero.
"""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from .._validate import Problems, example_rows, require_projected, to_numeric
from ..errors import CohesionGeoWarning, CRSError, InputFormatError, ValidationError
from ._common import (
    COMMUNE_PATTERN,
    IRIS_PATTERN,
    duplicated_codes,
    find_column,
    lower_columns,
    normalise_codes,
    normalise_label,
    text,
)
from ._read import read_table

__all__ = ["IRIS_TYPES", "SECRECY_MARKERS", "load_iris", "load_iris_income", "iris_type_letter"]

#: IRIS type letters and their meaning.
IRIS_TYPES: dict[str, str] = {
    "H": "residential (Iris d'habitat)",
    "A": "activity (Iris d'activité)",
    "D": "other (Iris divers)",
    "Z": "undivided commune (Commune non irisée)",
}

#: INSEE statistical-secrecy and not-applicable markers, read as missing.
SECRECY_MARKERS: tuple[str, ...] = ("s", "nd", "ns", "so", "c", "S", "ND", "NS", "SO", "C", "NA", "na", "-")

_CODE_IRIS = ("CODE_IRIS", "DCOMIRIS", "CODEIRIS", "IRIS_CODE")
_INSEE_COM = ("INSEE_COM", "DEPCOM", "CODE_COM", "CODGEO_COM", "COM")
_IRIS_LOCAL = ("IRIS",)
_NOM_IRIS = ("NOM_IRIS", "LIB_IRIS", "LIBIRIS")
_NOM_COM = ("NOM_COM", "LIBCOM", "LIB_COM")
_TYP_IRIS = ("TYP_IRIS", "TYPE_IRIS", "TYP_IRIS_")

#: Normalised long labels (and letters) -> letter.
_TYPE_LABELS: dict[str, str] = {
    "h": "H", "a": "A", "d": "D", "z": "Z",
    "iris d habitat": "H", "habitat": "H",
    "iris d activite": "A", "activite": "A",
    "iris divers": "D", "divers": "D",
    "commune non irisee": "Z", "non irisee": "Z",
}  # fmt: skip


def iris_type_letter(values: pd.Series) -> pd.Series:
    """Map IRIS type letters or IGN long labels to ``H``/``A``/``D``/``Z`` (``<NA>`` if unknown).

    Examples
    --------
    >>> iris_type_letter(pd.Series(["Iris d'habitat", "IRIS D'ACTIVITÉ", "z", "?"])).tolist()
    ['H', 'A', 'Z', <NA>]
    """
    return normalise_label(values).map(_TYPE_LABELS).astype("string")


def _geographic_range(geoms: gpd.GeoSeries) -> np.ndarray:
    """Rows whose bounds leave lon [-180, 180] / lat [-90, 90]."""
    b = geoms.bounds
    return (
        (b["minx"] < -180) | (b["maxx"] > 180) | (b["miny"] < -90) | (b["maxy"] > 90)
    ).to_numpy()


def load_iris(
    path: str | os.PathLike,
    *,
    layer: str | None = None,
    crs: Any = 2154,
    fix_invalid: bool = False,
) -> gpd.GeoDataFrame:
    """Load IGN IRIS contours (shapefile, GeoJSON, GeoPackage) in the canonical schema.

    Field names may be upper case (IGN: ``INSEE_COM``, ``NOM_COM``, ``IRIS``,
    ``CODE_IRIS``, ``NOM_IRIS``, ``TYP_IRIS``) or lower case (open-data
    exports); older IGN editions (``DEPCOM``, ``DCOMIRIS``) are accepted too.
    Without ``CODE_IRIS`` the code is built from ``INSEE_COM`` + ``IRIS``.

    Parameters
    ----------
    path : path
        Contours file.
    layer : str, optional
        Layer of a multi-layer file.
    crs : CRS-like, default 2154
        Projected CRS of the result (Lambert-93); WGS84 or other inputs are
        reprojected to it.
    fix_invalid : bool, default False
        Repair invalid polygons with :func:`shapely.make_valid` (with a warning
        counting them) instead of reporting them as a problem.

    Returns
    -------
    GeoDataFrame
        Columns ``iris``, ``commune``, ``name``, ``commune_name``,
        ``iris_type``, the file's other fields (lower case), geometry.

    Raises
    ------
    ValidationError
        Listing every problem: missing code fields, malformed or duplicate
        codes, IRIS code not starting with its commune code, unknown
        ``TYP_IRIS`` labels, empty/invalid/non-polygon geometries,
        coordinates out of range for the declared CRS.
    CRSError
        The file has no CRS, or ``crs`` is not projected.

    Examples
    --------
    >>> from cohesion_geo.datasets import real_path
    >>> iris = load_iris(real_path("bordeaux_iris"))  # doctest: +SKIP
    >>> len(iris), iris.crs.to_epsg()  # doctest: +SKIP
    (88, 2154)
    """
    path = Path(path)
    source = str(path)
    target = require_projected(crs, what=f"{source}: crs option")
    frame = read_table(
        path, layer=layer, string_columns=(*_CODE_IRIS, *_INSEE_COM, *_IRIS_LOCAL, *_TYP_IRIS)
    )
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.name not in frame.columns:
        raise InputFormatError(f"{source}: IRIS contours need a geometry (shapefile, GeoJSON, GeoPackage)")
    if len(frame) == 0:
        raise ValidationError(source, ["the file has no IRIS (0 features)"])
    if frame.crs is None:
        raise CRSError(
            f"{source}: the contours have no CRS (missing .prj?); IGN mainland contours are in "
            "EPSG:2154, open-data exports in EPSG:4326: set it with gdf.set_crs(...) and "
            "harmonise with load_iris on a file that declares it"
        )
    return _harmonise_iris(frame, source=source, target=target, fix_invalid=fix_invalid)


def _harmonise_iris(
    frame: gpd.GeoDataFrame, *, source: str, target: CRS, fix_invalid: bool
) -> gpd.GeoDataFrame:
    problems = Problems(source)
    geom_name = frame.geometry.name
    data = pd.DataFrame(frame.drop(columns=geom_name))
    geoms = gpd.GeoSeries(frame.geometry.to_numpy(), crs=frame.crs)

    code_col = find_column(data, _CODE_IRIS)
    com_col = find_column(data, _INSEE_COM)
    local_col = find_column(data, _IRIS_LOCAL)
    if code_col is None and (com_col is None or local_col is None):
        raise ValidationError(
            source,
            [
                "no IRIS code: expected 'CODE_IRIS' (or 'code_iris'), or 'INSEE_COM' + 'IRIS'; "
                f"fields present: {', '.join(map(str, data.columns))}"
            ],
        )
    if code_col is not None:
        iris = normalise_codes(
            data[code_col], width=9, pattern=IRIS_PATTERN, column=code_col, problems=problems, what="IRIS code"
        )
    else:
        assert com_col is not None and local_col is not None
        local = text(data[local_col]).str.zfill(4)
        iris = text(data[com_col]).str.upper().str.zfill(5) + local
        iris = normalise_codes(
            iris, width=9, pattern=IRIS_PATTERN, column=f"{com_col}+{local_col}",
            problems=problems, what="IRIS code",
        )  # fmt: skip
    if com_col is not None:
        commune = normalise_codes(
            data[com_col], width=5, pattern=COMMUNE_PATTERN, column=com_col, problems=problems,
            what="commune code",
        )  # fmt: skip
        wellformed = iris.str.fullmatch(IRIS_PATTERN).fillna(False) & commune.str.fullmatch(COMMUNE_PATTERN).fillna(False)
        mismatch = ((iris.str.slice(0, 5) != commune) & wellformed).fillna(False).to_numpy(dtype=bool)
        if mismatch.any():
            problems.add(
                f"IRIS code does not start with its commune code ({com_col!r}) in "
                + example_rows(mismatch, labels=list((iris + " in " + commune).to_numpy()))
            )
    else:
        commune = iris.str.slice(0, 5)
    dup = duplicated_codes(iris)
    if dup.any():
        problems.add(f"duplicate IRIS codes in {example_rows(dup, labels=list(iris.to_numpy()))}")

    typ_col = find_column(data, _TYP_IRIS)
    if typ_col is not None:
        iris_type = iris_type_letter(data[typ_col])
        unknown = (iris_type.isna() & text(data[typ_col]).notna()).to_numpy(dtype=bool)
        if unknown.any():
            problems.add(
                f"column {typ_col!r}: unknown IRIS type (expected H/A/D/Z or "
                "\"Iris d'habitat\", \"Iris d'activité\", \"Iris divers\", \"Commune non irisée\") in "
                + example_rows(unknown, labels=list(data[typ_col].astype("string").to_numpy()))
            )
    else:  # only the undivided communes can be told from the code
        iris_type = pd.Series(pd.NA, index=data.index, dtype="string").mask(iris.str.endswith("0000"), "Z")

    empty = (geoms.isna() | geoms.is_empty).to_numpy()
    if empty.any():
        problems.add(f"empty or missing geometries in {example_rows(empty, labels=list(iris.to_numpy()))}")
    kinds = geoms.geom_type
    not_poly = (~kinds.isin(["Polygon", "MultiPolygon"]) & ~empty).to_numpy()
    if not_poly.any():
        problems.add(
            "geometries that are not polygons in "
            + example_rows(not_poly, labels=list(kinds.astype("string").to_numpy()))
        )
    invalid = (~geoms.is_valid & ~empty & ~not_poly).to_numpy()
    if invalid.any() and not fix_invalid:
        problems.add(
            "invalid polygons (self-intersections...) in "
            + example_rows(invalid, labels=list(iris.to_numpy()))
            + "; pass fix_invalid=True to repair them with shapely.make_valid"
        )
    src_crs = CRS.from_user_input(frame.crs)
    if src_crs.is_geographic:
        out_of_range = _geographic_range(geoms) & ~empty
        if out_of_range.any():
            problems.add(
                f"coordinates out of range for the declared geographic CRS {src_crs.to_string()} "
                "(projected coordinates labelled as degrees?) in " + example_rows(out_of_range)
            )
    problems.raise_if_any()

    if invalid.any():
        geoms = geoms.copy()
        geoms.loc[invalid] = shapely.make_valid(geoms.loc[invalid].to_numpy())
        warnings.warn(
            f"{source}: repaired {example_rows(invalid)} with shapely.make_valid",
            CohesionGeoWarning,
            stacklevel=3,
        )

    known = {c for c in (code_col, com_col, typ_col) if c is not None}
    name_col = find_column(data, _NOM_IRIS)
    cname_col = find_column(data, _NOM_COM)
    out = pd.DataFrame(
        {
            "iris": iris.to_numpy(),
            "commune": commune.to_numpy(),
            "name": text(data[name_col]).to_numpy() if name_col else pd.NA,
            "commune_name": text(data[cname_col]).to_numpy() if cname_col else pd.NA,
            "iris_type": iris_type.to_numpy(),
        }
    )
    for col in ("iris", "commune", "name", "commune_name", "iris_type"):
        out[col] = out[col].astype("string")
    known |= {c for c in (name_col, cname_col) if c is not None}
    if local_col is not None and code_col is not None:
        known.add(local_col)
    rest = lower_columns(data.drop(columns=sorted(known)))
    rest = rest.drop(columns=[c for c in rest.columns if c in out.columns])
    out = pd.concat([out, rest.reset_index(drop=True)], axis=1)
    gdf = gpd.GeoDataFrame(out, geometry=geoms.to_numpy(), crs=frame.crs)
    if not CRS.from_user_input(gdf.crs).equals(target):
        gdf = gdf.to_crs(target)
    gdf.attrs = {"source": source}
    return gdf


# --------------------------------------------------------------------------- income

_MEASURE = re.compile(r"^(?P<kind>DISP|DEC)_(?P<var>[A-Z0-9]+?)(?P<yy>\d{2})$", re.IGNORECASE)

#: Filosofi variable stem -> canonical column.
_CANONICAL_STEMS: dict[str, str] = {
    "MED": "median_income",
    "TP60": "poverty_rate",
    "Q1": "income_q1",
    "Q3": "income_q3",
    "GI": "gini",
    **{f"D{i}": f"income_d{i}" for i in range(1, 10)},
}


def _detect_year(columns: list[str], *, source: str, year: int | None, kind: str | None) -> tuple[str, str]:
    """``(kind, yy)`` of the median income column, e.g. ``("DISP", "18")``."""
    found: list[tuple[str, str]] = []
    for col in columns:
        m = re.fullmatch(r"(DISP|DEC)_MED(\d{2})", col, flags=re.IGNORECASE)
        if m:
            found.append((m.group(1).upper(), m.group(2)))
    if kind is not None:
        found = [f for f in found if f[0] == kind.upper()]
    if year is not None:
        found = [f for f in found if f[1] == f"{year % 100:02d}"]
    if not found:
        want = f"{(kind or 'DISP|DEC').upper()}_MED{'' if year is None else f'{year % 100:02d}'}"
        raise ValidationError(
            source,
            [
                f"no median income column ({want}<yy>, e.g. DISP_MED18) in the IRIS income file; "
                f"columns present: {', '.join(columns[:20])}{' ...' if len(columns) > 20 else ''}"
            ],
        )
    kinds = {f[0] for f in found}
    if len(kinds) > 1:
        raise ValidationError(
            source, ["both disposable (DISP_) and declared (DEC_) medians present: choose with kind='disp' or 'dec'"]
        )
    if len({f[1] for f in found}) > 1:
        years = ", ".join(sorted(f"20{f[1]}" for f in found))
        raise ValidationError(source, [f"several years present ({years}): choose one with year=..."])
    return found[0]


def load_iris_income(
    path: str | os.PathLike,
    *,
    year: int | None = None,
    kind: str | None = None,
) -> pd.DataFrame:
    """Load a Filosofi income-by-IRIS table (``BASE_TD_FILO_DISP_IRIS_<year>``).

    The year is detected from the column suffix (``DISP_MED18`` -> 2018);
    ``DEC_`` (declared income) files are read the same way.

    Parameters
    ----------
    path : path
        ``;``-separated CSV (or any table :func:`read_table` opens) with an
        ``IRIS`` column.
    year : int, optional
        Keep the columns of this year when several are present.
    kind : {"disp", "dec"}, optional
        Disposable or declared income, when a file holds both.

    Returns
    -------
    DataFrame
        ``iris``, ``commune``, ``median_income``, ``poverty_rate`` (fraction),
        ``income_q1``, ``income_q3``, ``income_d1`` ... ``income_d9``,
        ``gini`` (those present), then every source column. Secrecy markers
        are NaN, never 0. ``attrs``: ``year`` (int), ``kind`` ("DISP"/"DEC"),
        ``source``.

    Raises
    ------
    ValidationError
        Missing ``IRIS`` or median column, malformed or duplicate codes,
        non-numeric values other than secrecy markers, negative incomes,
        poverty rates above 100 %.

    Examples
    --------
    >>> from cohesion_geo.datasets import real_path
    >>> inc = load_iris_income(real_path("bordeaux_iris_income"))  # doctest: +SKIP
    >>> inc.attrs["year"], float(inc.set_index("iris").loc["330630101", "median_income"])  # doctest: +SKIP
    (2018, ...)
    """
    path = Path(path)
    source = str(path)
    frame = read_table(path, string_columns=("IRIS", "CODE_IRIS", "COM", "LIBIRIS", "LIBCOM", "DCOMIRIS"))
    frame = pd.DataFrame(frame.drop(columns="geometry", errors="ignore"))
    if len(frame) == 0:
        raise ValidationError(source, ["the IRIS income file has no rows"])
    columns = [str(c) for c in frame.columns]
    id_col = find_column(frame, ("IRIS", "CODE_IRIS", "DCOMIRIS"))
    problems = Problems(source)
    if id_col is None:
        problems.add(f"missing IRIS code column 'IRIS'; columns present: {', '.join(columns[:20])}")
    try:
        kind_, yy = _detect_year(columns, source=source, year=year, kind=kind)
    except ValidationError as exc:
        problems.items.extend(exc.problems)
        problems.raise_if_any()
        raise
    problems.raise_if_any()
    assert id_col is not None

    iris = normalise_codes(
        frame[id_col], width=9, pattern=IRIS_PATTERN, column=id_col, problems=problems, what="IRIS code"
    )
    dup = duplicated_codes(iris)
    if dup.any():
        problems.add(f"duplicate IRIS codes in {example_rows(dup, labels=list(iris.to_numpy()))}")

    measures = [c for c in columns if _MEASURE.fullmatch(c) and c.upper().startswith(kind_ + "_")]
    measures = [c for c in measures if _MEASURE.fullmatch(c).group("yy") == yy]  # type: ignore[union-attr]
    # income levels must be >= 0; shares like DISP_PIMPOT (tax share) are negative by design
    canonical_src: dict[str, str] = {}
    for col in measures:
        stem = _MEASURE.fullmatch(col).group("var").upper()  # type: ignore[union-attr]
        if stem in _CANONICAL_STEMS:
            canonical_src[_CANONICAL_STEMS[stem]] = col
    levels = [canonical_src[k] for k in canonical_src if k != "gini"]
    data = to_numeric(frame, levels, problems, nonnegative=True, missing_markers=SECRECY_MARKERS)
    others = [c for c in measures if c not in levels]
    data = to_numeric(data, others, problems, nonnegative=False, missing_markers=SECRECY_MARKERS)
    if "poverty_rate" in canonical_src:
        rate = data[canonical_src["poverty_rate"]]
        over = (rate > 100).to_numpy()
        if over.any():
            problems.add(
                f"column {canonical_src['poverty_rate']!r}: poverty rate above 100 % in "
                + example_rows(over, labels=list(rate.to_numpy()))
            )
    problems.raise_if_any()

    out = pd.DataFrame({"iris": iris.astype("string"), "commune": iris.str.slice(0, 5).astype("string")})
    for canonical in ("median_income", "poverty_rate", "income_q1", "income_q3",
                      *(f"income_d{i}" for i in range(1, 10)), "gini"):  # fmt: skip
        if canonical in canonical_src:
            values = data[canonical_src[canonical]].astype("float64")
            out[canonical] = values / 100.0 if canonical == "poverty_rate" else values
    if "poverty_rate" not in out:
        out["poverty_rate"] = np.nan
    rest = data.drop(columns=[id_col]).reset_index(drop=True)
    rest = rest.drop(columns=[c for c in rest.columns if c in out.columns])
    out = pd.concat([out.reset_index(drop=True), rest], axis=1)
    out.attrs = {"year": 2000 + int(yy), "kind": kind_, "source": source}
    return out
