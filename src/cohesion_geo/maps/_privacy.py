"""Privacy rules applied to every published map layer.

Two rules (see docs/maps.md):

* **Statistical secrecy**: no statistic is shown for a unit (cell or quartier)
  with fewer than :data:`MIN_HOUSEHOLDS` (11) households. :func:`mask_secret`
  blanks every value column of such units and flags them in ``secret``.
* **Residents' reports** are never placed more precisely than their 200 m cell:
  :func:`aggregate_reports` turns report points into per-cell counts; the
  per-category breakdown (and any comment) is hidden in cells with fewer than
  :data:`MIN_REPORTS_BREAKDOWN` (5) reports.
"""

from __future__ import annotations

from collections.abc import Iterable

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS

from ..cellid import cell_ids, cell_squares
from ..errors import CRSError, MissingColumnsError
from ..indicators.aggregate import SECRET_MIN_HOUSEHOLDS as MIN_HOUSEHOLDS, secret_flag
from ..indicators.residents import MIN_REPORTS as MIN_REPORTS_BREAKDOWN

__all__ = [
    "MIN_HOUSEHOLDS",
    "MIN_REPORTS_BREAKDOWN",
    "ID_COLUMNS",
    "aggregate_reports",
    "mask_secret",
    "reports_from_table",
    "secret_mask",
]

#: Columns that identify a unit and are never blanked by :func:`mask_secret`.
ID_COLUMNS = frozenset(
    {
        "cell_id",
        "quartier_id",
        "name",
        "commune",
        "communes",
        "commune_name",
        "cell_x",
        "cell_y",
        "cell_size",
        "imputed",
        "geometry",
        "secret",
        # residents' aggregates follow their own rule (reports, not households)
        "reports_count",
        "reports_breakdown",
        "reports_comments",
    }
)


def secret_mask(
    frame: pd.DataFrame, /, *, households: str = "men", min_households: int = MIN_HOUSEHOLDS
) -> pd.Series:
    """Boolean Series (aligned on ``frame``), True where the unit is under secrecy.

    The toolkit's one rule, :func:`cohesion_geo.indicators.aggregate.secret_flag`:
    the household count ``households`` below ``min_households`` or missing;
    without it (the Lille derived grid has none), fewer than
    ``min_households * 2.2`` inhabitants or INSEE's ``imputed`` flag. A frame
    with none of these columns holds no statistic to protect: nothing is masked.

    Examples
    --------
    >>> import pandas as pd
    >>> secret_mask(pd.DataFrame({"men": [3.0, 11.0, 40.0, None]})).tolist()
    [True, False, False, True]
    """
    if not {households, "ind", "imputed"} & set(frame.columns):
        return pd.Series(False, index=frame.index)
    return secret_flag(frame, min_households=min_households, households=households)


#: Residents' columns computed with the population: blanked with the other statistics of a secret unit.
_POPULATION_RATES = frozenset({"reports_per_1000"})


def mask_secret(
    frame: pd.DataFrame,
    /,
    *,
    households: str = "men",
    min_households: int = MIN_HOUSEHOLDS,
    keep: Iterable[str] = ID_COLUMNS,
) -> pd.DataFrame:
    """Return a copy where every statistic of secret units is blanked.

    All columns except ``keep`` (identifiers, geometry) and the residents'
    aggregates (``reports_*``, which follow the 5-report rule instead)
    become NaN (numbers) or None (text, categories such as ``lisa_cluster``
    or ``confrontation``) in the rows selected by :func:`secret_mask`,
    including the household count itself. ``reports_per_1000`` is blanked
    too: with ``reports_n`` it would give the population back
    (``1000 * reports_n / reports_per_1000``). A boolean column ``secret``
    is added.
    The input is not modified.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"cell_id": ["a", "b"], "men": [4.0, 30.0],
    ...                    "poverty_rate": [0.5, 0.2], "lisa_cluster": ["high-high", "low-low"]})
    >>> out = mask_secret(df)
    >>> out["poverty_rate"].tolist(), out["lisa_cluster"].tolist(), out["secret"].tolist()
    ([nan, 0.2], [None, 'low-low'], [True, False])
    """
    secret = secret_mask(frame, households=households, min_households=min_households)
    out = frame.copy()
    keep = set(keep)
    if secret.any():
        for col in out.columns:
            if (
                col in keep
                or (str(col).startswith("reports_") and col not in _POPULATION_RATES)
                or col == getattr(out, "_geometry_column_name", "geometry")
            ):
                continue
            s = out[col]
            if pd.api.types.is_bool_dtype(s) or not pd.api.types.is_numeric_dtype(s):
                out[col] = s.astype(object).where(~secret, None)
            else:
                out[col] = s.astype("float64").where(~secret, np.nan)
    out["secret"] = secret.to_numpy()
    return out


def aggregate_reports(
    reports: gpd.GeoDataFrame,
    /,
    *,
    cell_size: int = 200,
    grid_crs: int | str = 3035,
    min_breakdown: int = MIN_REPORTS_BREAKDOWN,
    comments: int = 0,
    category: str = "category",
) -> gpd.GeoDataFrame:
    """Aggregate resident report points into INSEE-aligned grid cells.

    Each point is assigned to the ``cell_size`` square of the LAEA grid
    (EPSG:3035, the frame of INSEE cell ids) that contains it. The result has
    one row per cell holding at least one report, and **no point position**:

    ``cell_id`` (INSEE-style id ``CRS3035RES200mN{y}E{x}``), ``reports_count``
    (int), ``reports_breakdown`` (text "housing: 3; safety: 2", most frequent
    first, None when the cell has fewer than ``min_breakdown`` reports),
    ``reports_comments`` (up to ``comments`` comments joined by " | ", only in
    cells with at least ``min_breakdown`` reports; None otherwise and by
    default), one ``n_<category>`` count per category (NaN under
    ``min_breakdown``) and the cell square as geometry (EPSG:3035).

    Texts are returned raw; the map functions escape them.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> pts = gpd.GeoDataFrame({"category": ["housing"] * 6},
    ...     geometry=[Point(3482810 + i, 2466810) for i in range(6)], crs=3035)
    >>> agg = aggregate_reports(pts)
    >>> agg[["cell_id", "reports_count", "reports_breakdown"]].values.tolist()
    [['CRS3035RES200mN2466800E3482800', 6, 'housing: 6']]
    """
    if reports.crs is None:
        raise CRSError("reports: the GeoDataFrame has no CRS; set it (EPSG:2154 for BPE-like files)")
    if category not in reports.columns:
        raise MissingColumnsError(
            f"reports: column {category!r} is missing (columns: {list(reports.columns)[:10]})"
        )
    pts = reports[~reports.geometry.is_empty & reports.geometry.notna()].to_crs(grid_crs)
    geoms = pts.geometry
    if not (geoms.geom_type == "Point").all():
        geoms = geoms.representative_point()
    x = np.floor(geoms.x.to_numpy() / cell_size).astype(np.int64) * cell_size
    y = np.floor(geoms.y.to_numpy() / cell_size).astype(np.int64) * cell_size
    cat = pts[category].astype(object).where(pts[category].notna(), "unknown").astype(str)
    df = pd.DataFrame({"x": x, "y": y, "category": cat.to_numpy()})
    if comments and "comment" in pts.columns:
        df["comment"] = pts["comment"].astype(object).to_numpy()
    counts = df.groupby(["x", "y", "category"]).size().unstack("category", fill_value=0)
    total = counts.sum(axis=1).astype(int)
    cats = sorted(counts.columns)
    rows = []
    comment_groups = df.groupby(["x", "y"])["comment"] if "comment" in df.columns else None
    for (cx, cy), n in total.items():
        show = n >= min_breakdown
        c = counts.loc[(cx, cy)]
        c = c[c > 0].sort_values(ascending=False, kind="stable")
        row = {
            "cell_x": cx,
            "cell_y": cy,
            "reports_count": int(n),
            "reports_breakdown": "; ".join(f"{k}: {int(v)}" for k, v in c.items()) if show else None,
            "reports_comments": None,
        }
        if show and comment_groups is not None:
            texts = [t for t in comment_groups.get_group((cx, cy)).dropna().astype(str) if t.strip()]
            row["reports_comments"] = " | ".join(texts[:comments]) or None
        for k in cats:
            row[f"n_{k}"] = float(counts.at[(cx, cy), k]) if show else np.nan
        rows.append(row)
    out = pd.DataFrame(rows, columns=["cell_x", "cell_y", "reports_count",
                                      "reports_breakdown", "reports_comments",
                                      *[f"n_{k}" for k in cats]])
    out.insert(0, "cell_id", cell_ids(out["cell_x"], out["cell_y"], cell_size=cell_size,
                                      epsg=CRS.from_user_input(grid_crs).to_epsg()))
    geom = cell_squares(out["cell_x"], out["cell_y"], cell_size)
    return gpd.GeoDataFrame(out, geometry=geom, crs=grid_crs)


def reports_from_table(
    table: pd.DataFrame,
    /,
    cells: gpd.GeoDataFrame,
    *,
    min_breakdown: int = MIN_REPORTS_BREAKDOWN,
) -> gpd.GeoDataFrame:
    """Residents' layer from per-cell counts computed elsewhere.

    Accepts the output of :func:`cohesion_geo.indicators.residents.cell_reports`
    (``reports_n`` and ``reports_<category>`` aligned on ``cells``' index), or
    a grid that carries those columns itself. Returns the same layout as
    :func:`aggregate_reports` (only cells with at least one report), with the
    geometry of ``cells``. The breakdown is rebuilt from ``reports_<category>``
    and hidden under ``min_breakdown`` reports whatever the input holds.
    """
    if "reports_n" not in table.columns:
        raise MissingColumnsError("reports table: column 'reports_n' is missing")
    if not table.index.isin(cells.index).all():
        raise MissingColumnsError(
            "reports table: its index does not match the cells' index (pass cell_reports(grid, ...) "
            "computed on the same grid)"
        )
    n = pd.to_numeric(table["reports_n"], errors="coerce").fillna(0)
    sel = n[n > 0].index
    skip = {"reports_n", "reports_per_1000", "reports_count", "reports_breakdown", "reports_comments"}
    cats = [c for c in table.columns if str(c).startswith("reports_") and c not in skip]
    rows = []
    for i in sel:
        count = int(round(float(n.at[i])))
        show = count >= min_breakdown
        parts = []
        if show:
            vals = [(c[len("reports_"):], table.at[i, c]) for c in cats]
            vals = [(k, float(v)) for k, v in vals if pd.notna(v) and float(v) > 0]
            vals.sort(key=lambda kv: -kv[1])
            parts = [f"{k}: {v:.0f}" for k, v in vals]
        rows.append(
            {
                "cell_id": cells.at[i, "cell_id"] if "cell_id" in cells.columns else str(i),
                "reports_count": count,
                "reports_breakdown": "; ".join(parts) if parts else None,
                "reports_comments": None,
            }
        )
    out = pd.DataFrame(rows, index=sel, columns=["cell_id", "reports_count", "reports_breakdown",
                                                  "reports_comments"])
    return gpd.GeoDataFrame(out, geometry=cells.geometry.loc[sel], crs=cells.crs)
