"""Private helpers shared by the IRIS, reports, facilities, finance and urban-unit loaders.

Column look-up ignoring case, French administrative codes kept as strings
(leading zeros, Corsica's ``2A``/``2B``) and label normalisation (case and
accents ignored). Everything is vectorised over pandas string columns.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer

from .._validate import Problems, example_rows
from ..errors import ValidationError

__all__ = [
    "COMMUNE_PATTERN",
    "IRIS_PATTERN",
    "apply_mapping",
    "area_of_use_bounds",
    "duplicated_codes",
    "outside_area_of_use",
    "find_column",
    "normalise_codes",
    "normalise_label",
    "point_xy",
    "text",
]

#: 5-character commune code: 5 digits, or Corsica ``2A``/``2B`` + 3 digits.
COMMUNE_PATTERN = r"^(?:\d{5}|2[AB]\d{3})$"
#: 9-character IRIS code: commune code + 4 digits (``0000`` for an undivided commune).
IRIS_PATTERN = r"^(?:\d{5}|2[AB]\d{3})\d{4}$"


def find_column(frame: pd.DataFrame, candidates: Iterable[str]) -> str | None:
    """First column of ``frame`` matching one of ``candidates``, ignoring case.

    Examples
    --------
    >>> find_column(pd.DataFrame(columns=["insee_com", "X"]), ["INSEE_COM", "DEPCOM"])
    'insee_com'
    """
    by_lower: dict[str, str] = {}
    for col in frame.columns:
        by_lower.setdefault(str(col).lower(), str(col))
    for cand in candidates:
        if cand in frame.columns:
            return str(cand)
        hit = by_lower.get(cand.lower())
        if hit is not None:
            return hit
    return None


def text(values: pd.Series) -> pd.Series:
    """``values`` as a stripped ``string`` Series (``<NA>`` for missing/empty)."""
    if pd.api.types.is_float_dtype(values) and values.dropna().mod(1).eq(0).all():
        values = values.astype("Int64")  # 33063.0 read as a number -> "33063"
    out = values.astype("string").str.strip()
    return out.mask(out == "")


def normalise_codes(
    values: pd.Series,
    *,
    width: int,
    pattern: str,
    column: str,
    problems: Problems,
    what: str = "code",
    allow_missing: bool = False,
) -> pd.Series:
    """Administrative codes as ``width``-character strings; bad codes go to ``problems``.

    Numbers that lost their leading zero (``1001`` for ``01001``) are padded
    (exactly one missing character: a shorter code is reported, not guessed);
    letters are upper-cased (``2a001`` -> ``2A001``). Codes that still do not
    match ``pattern`` are reported with example rows.

    Examples
    --------
    >>> p = Problems("t.csv")
    >>> normalise_codes(pd.Series([1001, 33063]), width=5, pattern=COMMUNE_PATTERN,
    ...                 column="DEPCOM", problems=p).tolist()
    ['01001', '33063']
    """
    codes = text(values).str.upper()
    digits = codes.str.fullmatch(r"\d+").fillna(False).astype(bool)
    short = digits & (codes.str.len() == width - 1)  # one leading zero lost (départements 01-09)
    codes = codes.mask(short, codes.str.zfill(width))
    missing = codes.isna().to_numpy()
    if missing.any() and not allow_missing:
        problems.add(f"column {column!r}: missing {what} in {example_rows(missing)}")
    bad = (~codes.str.fullmatch(pattern).fillna(True).astype(bool)).to_numpy()
    if bad.any():
        problems.add(
            f"column {column!r}: malformed {what} (expected {width} characters, e.g. "
            f"{'33063' if width == 5 else '330631104'}) in "
            + example_rows(bad, labels=list(values.astype("string").to_numpy()))
        )
    return codes


def duplicated_codes(codes: pd.Series) -> np.ndarray:
    """Rows whose code is present and appears more than once (missing codes are reported apart).

    Examples
    --------
    >>> duplicated_codes(pd.Series(["33063", None, "33063", None], dtype="string")).tolist()
    [True, False, True, False]
    """
    return codes.duplicated(keep=False).to_numpy(dtype=bool) & codes.notna().to_numpy()


def normalise_label(values: pd.Series | Sequence[str]) -> pd.Series:
    """Lower case, accents removed, punctuation collapsed to single spaces.

    Examples
    --------
    >>> normalise_label(pd.Series(["  Sécurité / Tranquillité ", "ESPACE-PUBLIC", None])).tolist()
    ['securite tranquillite', 'espace public', <NA>]
    """
    s = pd.Series(values).astype("string")
    uniques = s.dropna().unique()
    table: dict[str, str] = {}
    for u in uniques:  # loop over distinct labels only (a handful), not rows
        folded = unicodedata.normalize("NFKD", str(u))
        folded = "".join(ch for ch in folded if not unicodedata.combining(ch)).lower()
        folded = folded.replace("œ", "oe").replace("æ", "ae").replace("’", "'")
        table[str(u)] = " ".join("".join(ch if ch.isalnum() else " " for ch in folded).split())
    return s.map(table).astype("string")


def apply_mapping(frame: pd.DataFrame, columns: Mapping[str, str] | None, *, source: str) -> pd.DataFrame:
    """Rename ``{canonical: source}`` columns (case-insensitive); absent sources raise.

    A mapped canonical name replaces any column already bearing that name.
    """
    if not columns:
        return frame
    rename: dict[str, str] = {}
    missing = []
    for canonical, src in columns.items():
        real = find_column(frame, [src])
        if real is None:
            missing.append(src)
        else:
            rename[real] = canonical
    if missing:
        raise ValidationError(
            source,
            [
                f"column mapping names absent column(s) {', '.join(map(repr, missing))}; "
                f"columns present: {', '.join(map(str, frame.columns))}"
            ],
        )
    clash = [c for c in rename.values() if c in frame.columns and c not in rename]
    return frame.drop(columns=clash).rename(columns=rename)


def lower_columns(frame: pd.DataFrame, *, keep: Iterable[str] = ()) -> pd.DataFrame:
    """Lower-case column names (except ``keep`` and ``geometry``), dropping later duplicates."""
    keep = set(keep) | {"geometry"}
    names = [c if c in keep else str(c).lower() for c in frame.columns]
    out = frame.copy()
    out.columns = names
    dup = pd.Index(names).duplicated()
    if dup.any():
        out = out.loc[:, ~np.asarray(dup)]
    return out


def area_of_use_bounds(crs: CRS, *, margin: float = 1e5) -> tuple[float, float, float, float] | None:
    """Bounds of ``crs``'s area of use in its own coordinates (plus ``margin`` metres)."""
    area = crs.area_of_use
    if area is None:
        return None
    tr = Transformer.from_crs(4326, crs, always_xy=True)
    xmin, ymin, xmax, ymax = tr.transform_bounds(area.west, area.south, area.east, area.north)
    return xmin - margin, ymin - margin, xmax + margin, ymax + margin


def outside_area_of_use(xs: np.ndarray, ys: np.ndarray, crs: CRS) -> np.ndarray:
    """Located points (finite ``xs``, ``ys``) outside ``crs``'s area of use plus 100 km.

    All ``False`` when the CRS declares no area of use.

    Examples
    --------
    >>> outside_area_of_use(np.array([650_000.0, 5e7, np.nan]), np.array([6.8e6, 6.8e6, 1.0]),
    ...                     CRS.from_epsg(2154)).tolist()
    [False, True, False]
    """
    xs, ys = np.asarray(xs, dtype="float64"), np.asarray(ys, dtype="float64")
    b = area_of_use_bounds(crs)
    if b is None:
        return np.zeros(len(xs), dtype=bool)
    with np.errstate(invalid="ignore"):
        inside = (xs >= b[0]) & (xs <= b[2]) & (ys >= b[1]) & (ys <= b[3])
    return np.isfinite(xs) & np.isfinite(ys) & ~inside


def point_xy(geoms: gpd.GeoSeries, problems: Problems) -> tuple[np.ndarray, np.ndarray]:
    """``x``, ``y`` of point geometries, NaN where missing or empty; other geometry types go to ``problems``.

    Examples
    --------
    >>> p = Problems("t.gpkg")
    >>> xs, ys = point_xy(gpd.GeoSeries([shapely.Point(1, 2), None, shapely.box(0, 0, 1, 1)]), p)
    >>> xs.tolist()[:2], p.items
    ([1.0, nan], ["geometries that are not points in 1 row, e.g. row 3 ('Polygon')"])
    """
    missing = (geoms.isna() | geoms.is_empty).to_numpy()
    kinds = geoms.geom_type
    not_point = (~kinds.isin(["Point"]) & ~missing).to_numpy()
    if not_point.any():
        problems.add(
            "geometries that are not points in "
            + example_rows(not_point, labels=list(kinds.astype("string").to_numpy()))
        )
    arr = geoms.to_numpy()
    xs = np.where(missing, np.nan, shapely.get_x(arr))
    ys = np.where(missing, np.nan, shapely.get_y(arr))
    return xs, ys
