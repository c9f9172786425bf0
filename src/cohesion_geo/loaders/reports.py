"""Resident reports (*signalements*): points with a category, a comment and a date.

There is no public set of resident reports: collectives keep them in
spreadsheets or survey tools. :func:`load_reports` reads CSV (lon/lat or x/y
plus a CRS), GeoJSON, GeoPackage or Parquet, maps free category labels to one
documented vocabulary and validates positions and dates.

Canonical columns
=================
``category``      one of :data:`CATEGORIES`
``category_raw``  the label as written in the file (str or ``<NA>``)
``comment``       free text, kept verbatim (never interpreted; HTML-escape it
                  before showing it in a map or report), ``""`` when empty
``date``          ``datetime64[ns]``, naive local time (time-zone-aware inputs
                  are converted to Europe/Paris)
``source``        where the report comes from (str or ``<NA>``)
other columns     kept under their source names (coordinate columns removed)
geometry          points, projected CRS (EPSG:2154 by default)

Category vocabulary
===================
``housing``, ``safety``, ``transport``, ``public_space``, ``services``,
``employment``, ``youth``, ``health``, ``other``. French and English labels
are recognised ignoring case, accents and punctuation (see
:data:`CATEGORY_LABELS`: *logement*, *sécurité*, *transports*, *espace public*,
*propreté* -> ``public_space``, *services publics*, *emploi*, *jeunesse*,
*santé*...). Unknown labels become ``other`` (``category_raw`` keeps them) and
are counted in a :class:`~cohesion_geo.errors.CohesionGeoWarning`.

Privacy
=======
Reports are located exactly in memory, for analysis; **no output may place them
more precisely than their 200 m cell**. :func:`coarsen_reports` replaces each
point by the centre of its INSEE 200 m cell (and adds ``cell_id``): use it
before writing or mapping reports.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from .._validate import Problems, drop_for_reasons, drop_rows, example_rows, require_projected, to_numeric
from ..cellid import cell_ids
from ..errors import CohesionGeoWarning, CRSError, InputFormatError, ValidationError
from ._common import find_column, normalise_label, outside_area_of_use, point_xy, text
from ._read import read_table

__all__ = [
    "CATEGORIES",
    "CATEGORY_LABELS",
    "coarsen_reports",
    "load_reports",
    "map_categories",
]

#: The documented category vocabulary, in display order.
CATEGORIES: tuple[str, ...] = (
    "housing", "safety", "transport", "public_space", "services", "employment", "youth",
    "health", "other",
)  # fmt: skip

_SYNONYMS: dict[str, tuple[str, ...]] = {
    "housing": (
        "housing", "logement", "logements", "habitat", "habitation", "immeuble", "immeubles",
        "insalubrite", "habitat indigne", "logement indigne", "bailleur", "bailleurs",
        "logement social", "hlm", "copropriete", "coproprietes", "chauffage", "humidite",
    ),
    "safety": (
        "safety", "security", "securite", "insecurite", "tranquillite", "tranquillite publique",
        "delinquance", "incivilite", "incivilites", "trafic", "trafics", "deal", "violence",
        "violences", "crime", "vandalisme", "crime and safety", "police",
    ),
    "transport": (
        "transport", "transports", "mobilite", "mobilites", "bus", "tram", "tramway", "metro",
        "velo", "transport en commun", "transports en commun", "transports publics",
        "public transport", "mobility", "desserte", "transit", "deplacements",
    ),
    "public_space": (
        "public space", "public spaces", "public_space", "espace public", "espaces publics",
        "proprete", "dechets", "ordures", "depots sauvages", "cadre de vie", "eclairage",
        "eclairage public", "voirie", "trottoir", "trottoirs", "espaces verts", "parc",
        "parcs", "square", "mobilier urbain", "nuisances", "bruit", "cleanliness", "litter",
        "lighting", "green space", "green spaces", "stationnement", "amenagement urbain",
    ),
    "services": (
        "services", "service", "services publics", "service public", "public services",
        "commerce", "commerces", "commerces de proximite", "shops", "equipements",
        "equipement", "poste", "mairie", "administration", "ecole", "ecoles", "education",
        "school", "schools", "numerique", "acces aux droits",
    ),
    "employment": (
        "employment", "emploi", "emplois", "chomage", "insertion", "formation", "travail",
        "jobs", "job", "work", "unemployment", "insertion professionnelle", "economie",
    ),
    "youth": (
        "youth", "jeunesse", "jeunes", "jeune", "enfance", "enfants", "adolescents", "ados",
        "young people", "children", "periscolaire", "loisirs jeunes",
    ),
    "health": (
        "health", "sante", "soins", "medecin", "medecins", "acces aux soins", "sante mentale",
        "healthcare", "pharmacie", "hopital", "desert medical",
    ),
    "other": ("other", "autre", "autres", "divers", "misc", "miscellaneous", "n a", "sans objet"),
}

#: Normalised label (lower case, no accents, punctuation -> space) -> category.
CATEGORY_LABELS: dict[str, str] = {
    label: cat for cat, labels in _SYNONYMS.items() for label in labels
}  # fmt: skip
CATEGORY_LABELS.update({c.replace("_", " "): c for c in CATEGORIES})

_LONLAT = (("lon", "lat"), ("longitude", "latitude"), ("lng", "lat"), ("long", "lat"))
_XY = (("x", "y"), ("coord_x", "coord_y"), ("easting", "northing"))


def map_categories(
    labels: pd.Series | Sequence[str | None], *, extra: Mapping[str, str] | None = None
) -> pd.Series:
    """Map free labels to :data:`CATEGORIES`; ``<NA>`` where the label is unknown or empty.

    Parameters
    ----------
    labels : Series or sequence of str
        Labels as written (any case, with or without accents).
    extra : mapping, optional
        Additional ``{label: category}`` pairs, applied first (e.g. a
        collective's own headings: ``{"Vie du quartier": "public_space"}``).

    Examples
    --------
    >>> map_categories(["Logement", "SÉCURITÉ", "propreté", "Jeunesse", "potholes", None]).tolist()
    ['housing', 'safety', 'public_space', 'youth', <NA>, <NA>]
    """
    table = dict(CATEGORY_LABELS)
    if extra:
        bad = {k: v for k, v in extra.items() if v not in CATEGORIES}
        if bad:
            raise InputFormatError(
                f"categories mapping targets unknown categories {bad}; use one of {', '.join(CATEGORIES)}"
            )
        keys = normalise_label(pd.Series(list(extra.keys()), dtype="string"))
        table.update(dict(zip(keys.tolist(), extra.values(), strict=True)))
    norm = normalise_label(pd.Series(labels))
    return norm.map(table).astype("string")


def _parse_dates(raw: pd.Series, *, date_format: str | None, dayfirst: bool) -> pd.Series:
    """Parse dates (ISO 8601 first, then day-first French style); NaT where unparseable."""
    if pd.api.types.is_datetime64_any_dtype(raw):
        parsed = raw
    else:
        s = text(raw)
        if date_format is not None:
            parsed = pd.to_datetime(s, format=date_format, errors="coerce")
        else:
            parsed = pd.to_datetime(s, format="ISO8601", errors="coerce", utc=True)
            todo = parsed.isna() & s.notna()
            if todo.any():
                other = pd.to_datetime(s[todo], format="mixed", dayfirst=dayfirst, errors="coerce", utc=True)
                parsed = parsed.copy()
                parsed[todo] = other
            # utc=True makes mixed offsets comparable; naive strings were read as UTC
            naive = ~s.str.contains(r"(?:[+-]\d\d:?\d\d|Z)$", regex=True, na=False)
            local = parsed.dt.tz_convert("Europe/Paris").dt.tz_localize(None)
            parsed = parsed.dt.tz_localize(None).where(naive, local)
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):
        parsed = parsed.dt.tz_convert("Europe/Paris").dt.tz_localize(None)
    return parsed.astype("datetime64[ns]")


def _area_mask(
    points: np.ndarray, area: Any, *, crs: CRS, source: str
) -> tuple[np.ndarray, str]:
    """Boolean mask of points inside ``area`` (points in ``crs``) and a description of it."""
    if isinstance(area, (gpd.GeoDataFrame, gpd.GeoSeries)):
        geoms = area.geometry if isinstance(area, gpd.GeoDataFrame) else area
        if geoms.crs is None:
            raise CRSError(f"{source}: the area has no CRS; set one with .set_crs(...)")
        geoms = geoms.to_crs(crs)
        polys = geoms.to_numpy()
        what = f"the area ({len(polys)} polygons)"
    elif isinstance(area, shapely.Geometry):
        polys = np.array([area])
        what = "the area polygon"
    elif isinstance(area, (tuple, list, np.ndarray)) and len(area) == 4:
        xmin, ymin, xmax, ymax = (float(v) for v in area)
        if xmin >= xmax or ymin >= ymax:
            raise InputFormatError(f"area bbox {tuple(area)} is not (xmin, ymin, xmax, ymax)")
        polys = np.array([shapely.box(xmin, ymin, xmax, ymax)])
        what = f"the bbox ({xmin:.0f}, {ymin:.0f}, {xmax:.0f}, {ymax:.0f})"
    else:
        raise InputFormatError(
            "area must be a GeoDataFrame/GeoSeries, a shapely polygon (in the output CRS) "
            "or a bbox (xmin, ymin, xmax, ymax) in the output CRS"
        )
    tree = shapely.STRtree(polys)
    idx = tree.query(points, predicate="intersects")
    inside = np.zeros(len(points), dtype=bool)
    inside[np.unique(idx[0])] = True
    return inside, what


def load_reports(
    path: str | os.PathLike,
    *,
    x: str | None = None,
    y: str | None = None,
    crs: Any = None,
    category: str = "category",
    comment: str | None = "comment",
    date: str | None = "date",
    source: str | None = "source",
    to_crs: Any = 2154,
    area: Any = None,
    layer: str | None = None,
    categories: Mapping[str, str] | None = None,
    date_format: str | None = None,
    dayfirst: bool = True,
) -> gpd.GeoDataFrame:
    """Load resident reports as points in the canonical schema.

    Parameters
    ----------
    path : path
        CSV (any separator, UTF-8 or Latin-1) with coordinate columns, or a
        point layer (GeoJSON, GeoPackage, Parquet).
    x, y : str, optional
        Coordinate columns of a CSV. By default ``lon``/``lat`` (or
        ``longitude``/``latitude``, ``lng``) are found and read as WGS84;
        else ``x``/``y``, which need ``crs``.
    crs : CRS-like, optional
        CRS of the coordinates (default EPSG:4326 for lon/lat columns), or of
        a layer that declares none.
    category, comment, date, source : str or None
        Column names (case-insensitive). ``comment``, ``date`` or ``source``
        may be ``None`` when the file has no such field (comments are then
        ``""``, dates ``NaT``, sources ``<NA>``); ``source`` is optional even
        when named.
    to_crs : CRS-like, default 2154
        Projected CRS of the result.
    area : GeoDataFrame, GeoSeries, shapely geometry or bbox, optional
        Study area; reports outside are dropped (counted). A GeoDataFrame
        (e.g. the canonical grid) is reprojected; a bare geometry or a
        ``(xmin, ymin, xmax, ymax)`` bbox is read in ``to_crs``.
    layer : str, optional
        Layer of a multi-layer file.
    categories : mapping, optional
        Extra ``{label: category}`` pairs for the collective's own headings.
    date_format : str, optional
        ``strftime`` format of the dates; by default ISO 8601 is tried first,
        then day-first French style (``31/12/2023``).
    dayfirst : bool, default True
        Read ``01/02/2024`` as 1 February when no format is given.

    Returns
    -------
    GeoDataFrame
        ``category``, ``category_raw``, ``comment``, ``date``, ``source``,
        other columns, point geometry in ``to_crs``. ``attrs``: ``source``,
        ``n_read``, ``n_unknown_category`` and the counts of dropped rows.

    Raises
    ------
    MissingColumnsError / ValidationError
        Missing columns, non-numeric coordinates, non-point geometries, or
        every report unusable (bad coordinates or dates).
    CRSError
        x/y without ``crs``; ``to_crs`` not projected.

    Warns
    -----
    DroppedRowsWarning
        Reports with missing or out-of-range coordinates, unparseable dates
        or outside ``area`` (each reason counted).
    CohesionGeoWarning
        Labels mapped to ``other`` because they are unknown (counted).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "r.csv"
    >>> _ = p.write_text("lon;lat;category;comment;date\\n"
    ...                  "-0.57;44.84;Logement;Fuite d'eau;2023-05-02\\n", encoding="utf-8")
    >>> r = load_reports(p)
    >>> r.loc[0, "category"], str(r.loc[0, "date"].date()), r.crs.to_epsg()
    ('housing', '2023-05-02', 2154)
    """
    path = Path(path)
    src = str(path)
    target = require_projected(to_crs, what=f"{src}: to_crs option")
    named = [c for c in (category, comment, date, source) if c is not None]
    frame = read_table(path, layer=layer, string_columns=named)
    if len(frame) == 0:
        raise ValidationError(src, ["the reports file has no rows"])
    is_geo = isinstance(frame, gpd.GeoDataFrame) and frame.geometry.name in frame.columns
    problems = Problems(src)

    # --- fields
    cols: dict[str, str | None] = {}
    missing = []
    for key, name, optional in (
        ("category", category, False),
        ("comment", comment, False),
        ("date", date, False),
        ("source", source, True),
    ):
        if name is None:
            cols[key] = None
            continue
        found = find_column(frame, [name])
        if found is None and not optional:
            missing.append((key, name))
        cols[key] = found
    for key, name in missing:
        hint = f"; pass {key}=None if the file has no {key}" if key in ("comment", "date") else ""
        problems.add(f"missing {key} column {name!r} (set {key}='...' to name it){hint}")

    # --- positions
    if is_geo:
        gframe: gpd.GeoDataFrame = frame  # type: ignore[assignment]
        layer_crs = gframe.crs if gframe.crs is not None else crs
        if layer_crs is None:
            raise CRSError(f"{src}: the layer has no CRS; give it with crs=... (e.g. 4326 or 2154)")
        geoms = gpd.GeoSeries(gframe.geometry.to_numpy(), crs=layer_crs)
        xs, ys = point_xy(geoms, problems)
        src_crs = CRS.from_user_input(layer_crs)
        data = pd.DataFrame(gframe.drop(columns=gframe.geometry.name))
        coord_cols: list[str] = []
    else:
        x_col, y_col, src_crs_any = _coordinate_columns(frame, x=x, y=y, crs=crs, source=src, problems=problems)
        data = pd.DataFrame(frame)
        coord_cols = [c for c in (x_col, y_col) if c is not None]
        problems.raise_if_any()
        assert x_col is not None and y_col is not None
        data = to_numeric(data, [x_col, y_col], problems, nonnegative=False)
        xs = data[x_col].to_numpy(dtype="float64")
        ys = data[y_col].to_numpy(dtype="float64")
        src_crs = CRS.from_user_input(src_crs_any)
    problems.raise_if_any()

    n = len(data)
    no_coord = ~(np.isfinite(xs) & np.isfinite(ys))
    if src_crs.is_geographic:
        with np.errstate(invalid="ignore"):
            out_range = ~no_coord & ((np.abs(xs) > 180) | (np.abs(ys) > 90))
    else:
        out_range = outside_area_of_use(xs, ys, src_crs)

    # --- dates
    if cols["date"] is not None:
        dates = _parse_dates(data[cols["date"]], date_format=date_format, dayfirst=dayfirst)
        bad_date = dates.isna().to_numpy()
        raw_dates = data[cols["date"]].astype("string").to_numpy()
    else:
        dates = pd.Series(pd.NaT, index=data.index, dtype="datetime64[ns]")
        bad_date = np.zeros(n, dtype=bool)
        raw_dates = None

    unusable = no_coord | out_range | bad_date
    if unusable.all():
        reasons = []
        if (no_coord | out_range).any():
            reasons.append(
                f"coordinates missing or out of range for {src_crs.to_string()} in "
                + example_rows(no_coord | out_range, labels=list(zip(xs.tolist(), ys.tolist(), strict=True)))
                + ("; lon/lat swapped?" if src_crs.is_geographic else "; wrong crs?")
            )
        if bad_date.any():
            reasons.append(
                f"unparseable dates in column {cols['date']!r}: "
                + example_rows(bad_date, labels=list(raw_dates) if raw_dates is not None else None)
                + " (give date_format=...)"
            )
        raise ValidationError(src, [f"no usable report: {r}" for r in reasons])

    # --- categories
    raw_cat = (
        text(data[cols["category"]]) if cols["category"] is not None
        else pd.Series(pd.NA, index=data.index, dtype="string")
    )  # fmt: skip
    mapped = map_categories(raw_cat, extra=categories)

    out = pd.DataFrame(
        {
            "category": mapped.fillna("other").to_numpy(),
            "category_raw": raw_cat.to_numpy(),
            "comment": (
                data[cols["comment"]].astype("string").fillna("").to_numpy()
                if cols["comment"] is not None else ""
            ),
            "date": dates.to_numpy(),
            "source": text(data[cols["source"]]).to_numpy() if cols["source"] is not None else pd.NA,
        }
    )  # fmt: skip
    for col in ("category_raw", "comment", "source"):
        out[col] = out[col].astype("string")
    out["category"] = out["category"].astype(pd.CategoricalDtype(list(CATEGORIES)))
    used = {c for c in cols.values() if c is not None} | set(coord_cols)
    rest = data.drop(columns=sorted(used)).reset_index(drop=True)
    rest = rest.drop(columns=[c for c in rest.columns if c in out.columns])
    out = pd.concat([out, rest], axis=1)
    out["_x"], out["_y"] = xs, ys

    n_unknown = int((mapped.isna() & raw_cat.notna()).sum())
    n_empty = int(raw_cat.isna().sum()) if cols["category"] is not None else 0
    keep = ~unusable
    if n_unknown or n_empty:
        unknown_mask = (mapped.isna() & raw_cat.notna()).to_numpy()
        labels = raw_cat[unknown_mask & keep].value_counts().head(5)
        shown = ", ".join(f"{k!r} ({v})" for k, v in labels.items())
        parts = []
        if n_unknown:
            parts.append(f"{n_unknown} report(s) with unknown category labels kept as 'other' (e.g. {shown})")
        if n_empty:
            parts.append(f"{n_empty} report(s) without category kept as 'other'")
        warnings.warn(
            f"{src}: {'; '.join(parts)}; category_raw keeps the labels, pass categories={{label: category}} "
            f"to map them (vocabulary: {', '.join(CATEGORIES)})",
            CohesionGeoWarning,
            stacklevel=2,
        )

    attrs: dict[str, object] = {
        "source": src,
        "n_read": int(n),
        "n_unknown_category": n_unknown,
        "n_no_category": n_empty,
        "n_no_coordinates": int(no_coord.sum()),
        "n_out_of_range": int(out_range.sum()),
        "n_bad_date": int((bad_date & ~no_coord & ~out_range).sum()),
    }
    date_reason = ""
    if raw_dates is not None:
        examples = [str(v) for v in raw_dates[bad_date & ~no_coord & ~out_range][:3]]
        date_reason = (
            f"unparseable dates in column {cols['date']!r} (e.g. {', '.join(map(repr, examples))}); "
            "give date_format=..."
        )
    out = drop_for_reasons(
        out,
        [
            (no_coord, "reports without coordinates"),
            (
                out_range,
                f"coordinates out of range for {src_crs.to_string()}"
                + (" (lon/lat swapped?)" if src_crs.is_geographic else " (wrong crs?)"),
            ),
            (bad_date, date_reason),
        ],
        source=src,
    )

    points = gpd.GeoSeries(gpd.points_from_xy(out["_x"], out["_y"]), crs=src_crs)
    if not src_crs.equals(target):
        points = points.to_crs(target)
    gdf = gpd.GeoDataFrame(out.drop(columns=["_x", "_y"]), geometry=points.to_numpy(), crs=target)
    n_outside = 0
    if area is not None:
        inside, what = _area_mask(gdf.geometry.to_numpy(), area, crs=target, source=src)
        n_outside = int((~inside).sum())
        if n_outside == len(gdf):
            raise ValidationError(
                src,
                [f"all {len(gdf)} usable reports lie outside {what}: wrong area, crs or lon/lat order?"],
            )
        gdf = drop_rows(gdf, ~inside, source=src, reason=f"reports outside {what}")
        gdf = gpd.GeoDataFrame(gdf, geometry="geometry", crs=target)
    attrs["n_outside_area"] = n_outside
    gdf.attrs = attrs
    return gdf


def _coordinate_columns(
    frame: pd.DataFrame, *, x: str | None, y: str | None, crs: Any, source: str, problems: Problems
) -> tuple[str | None, str | None, Any]:
    """Find the coordinate columns of a CSV and their CRS."""
    if x is not None or y is not None:
        if x is None or y is None:
            raise InputFormatError(f"{source}: give both x= and y= coordinate columns")
        x_col, y_col = find_column(frame, [x]), find_column(frame, [y])
        for name, found in ((x, x_col), (y, y_col)):
            if found is None:
                problems.add(f"missing coordinate column {name!r}")
        lonlat = any(x.lower() == a and y.lower() == b for a, b in _LONLAT)
        if crs is None and not lonlat:
            raise CRSError(
                f"{source}: coordinates {x!r}/{y!r} need their CRS: pass crs=... "
                "(e.g. 2154 for Lambert-93, 4326 for longitude/latitude)"
            )
        return x_col, y_col, crs if crs is not None else 4326
    for a, b in _LONLAT:
        xa, yb = find_column(frame, [a]), find_column(frame, [b])
        if xa is not None and yb is not None:
            return xa, yb, crs if crs is not None else 4326
    for a, b in _XY:
        xa, yb = find_column(frame, [a]), find_column(frame, [b])
        if xa is not None and yb is not None:
            if crs is None:
                raise CRSError(
                    f"{source}: coordinates {xa!r}/{yb!r} need their CRS: pass crs=... "
                    "(e.g. 2154 for Lambert-93)"
                )
            return xa, yb, crs
    problems.add(
        "no coordinate columns: expected lon/lat (or longitude/latitude), or x/y with crs=...; "
        "name them with x=..., y=...; columns present: " + ", ".join(map(str, frame.columns))
    )
    return None, None, crs


def coarsen_reports(reports: gpd.GeoDataFrame, *, cell_size: int = 200) -> gpd.GeoDataFrame:
    """Replace each report's point by the centre of its INSEE grid cell (privacy).

    Adds ``cell_id`` (``CRS3035RES200mN...E...``, the cell in EPSG:3035) and
    moves the point to the cell centre, in the reports' CRS. No output of
    cohesion-geo locates a report more precisely than this.

    Examples
    --------
    >>> pts = gpd.GeoDataFrame({"category": ["housing"]},
    ...                        geometry=gpd.points_from_xy([3482850.0], [2466890.0]), crs=3035)
    >>> c = coarsen_reports(pts)
    >>> c.loc[0, "cell_id"], c.geometry.iloc[0].coords[0]
    ('CRS3035RES200mN2466800E3482800', (3482900.0, 2466900.0))
    """
    if reports.crs is None:
        raise CRSError("reports have no CRS; load them with load_reports")
    laea = reports.geometry.to_crs(3035)
    xs = np.floor(shapely.get_x(laea.to_numpy()) / cell_size).astype("int64") * cell_size
    ys = np.floor(shapely.get_y(laea.to_numpy()) / cell_size).astype("int64") * cell_size
    out = reports.copy()
    out["cell_id"] = pd.array(cell_ids(xs, ys, cell_size=cell_size), dtype="string")
    centres = gpd.GeoSeries(gpd.points_from_xy(xs + cell_size / 2, ys + cell_size / 2), crs=3035)
    out = out.set_geometry(centres.to_crs(reports.crs).set_axis(out.index))
    out.attrs = dict(reports.attrs)
    return out
