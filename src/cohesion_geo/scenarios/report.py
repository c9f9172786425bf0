"""The council report: one self-contained ``report.html`` for a project run.

Written for elected officials and residents' representatives as much as for
analysts: the method in plain words, the scenarios side by side, what changes
between them, what every scenario keeps, and a profile (*fiche quartier*) of
each candidate quartier.

Safety and privacy:

* the page is rendered by Jinja2 with ``autoescape=True``: every string that
  comes from a user file (quartier and commune names, report categories and
  comments, scenario titles...) is HTML-escaped; nothing is marked safe
  except the base64 PNG maps this module draws itself;
* no external resource: maps are inline PNG (``data:image/png;base64``),
  styles inline, no script at all;
* no statistic is shown for a unit with fewer than 11 households
  (:data:`MIN_HOUSEHOLDS`); residents' reports are counted per quartier from
  200 m cells, with categories only where a quartier has at least 5 reports
  and comments (opt-in, ``comments=N``; none by default) only there too.
"""

from __future__ import annotations

import base64
import datetime as _dt
import io
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .._io import write_text
from ..errors import CohesionGeoError
from ..indicators.aggregate import SECRET_MIN_HOUSEHOLDS as MIN_HOUSEHOLDS, secret_flag, sum_by
from ..indicators.residents import MIN_REPORTS

__all__ = ["MIN_HOUSEHOLDS", "MIN_REPORTS", "build_report", "render_report", "write_report"]

_TEMPLATES = Path(__file__).with_name("templates")

STATUS_WORDS: dict[str, str] = {
    "entering": "enters",
    "leaving": "leaves",
    "unchanged": "unchanged",
    "growing": "grows",
    "shrinking": "shrinks",
    "reshaped": "redrawn (same size)",
    "merged": "quartiers merge",
    "split": "quartier splits",
    "regrouped": "quartiers regrouped",
}

#: Plain-word labels of indicator columns.
LABELS: dict[str, str] = {
    "mean_std_living": "Standard of living (mean, EUR/year)",
    "poverty_rate": "Poor households",
    "social_housing_share": "Social housing",
    "one_person_share": "One-person households",
    "single_parent_share": "Single-parent families",
    "large_household_share": "Households of 5 or more",
    "owner_share": "Owner-occupiers",
    "elderly_share": "Aged 65 or more",
    "children_share": "Aged under 18",
    "pre1970_housing_share": "Dwellings built before 1970",
    "floor_area_per_person": "Floor area per person (m²)",
    "facility_distance": "Distance to the nearest facility (m)",
    "facility_count": "Facilities within walking distance",
    "poverty_score": "Poverty score",
    "isolation_score": "Isolation score",
    "reports_per_1000": "Residents' reports per 1,000 inhabitants",
}

_SHARES = {"poverty_rate", "social_housing_share", "one_person_share", "single_parent_share",
           "large_household_share", "owner_share", "elderly_share", "children_share",
           "pre1970_housing_share"}  # fmt: skip


# ---------------------------------------------------------------------------
# Formatting (every function returns plain text; Jinja escapes it)
# ---------------------------------------------------------------------------


def _isnum(v: Any) -> bool:
    try:
        return v is not None and not isinstance(v, (bool, str)) and math.isfinite(float(v))
    except (TypeError, ValueError):
        return False


def fmt_int(v: Any) -> str:
    """Thousands with a narrow space, rounded half away from zero (as INSEE publishes counts)."""
    if not _isnum(v):
        return "–"
    x = float(v)
    r = math.copysign(math.floor(abs(x) + 0.5), x)
    return f"{r:,.0f}".replace(",", "\u202f")


def fmt_num(v: Any, digits: int = 1) -> str:
    return f"{float(v):,.{digits}f}".replace(",", "\u202f") if _isnum(v) else "–"


def fmt_pct(v: Any, digits: int = 0) -> str:
    return f"{100 * float(v):.{digits}f} %" if _isnum(v) else "–"


def fmt_eur(v: Any) -> str:
    return f"{fmt_int(v)} €" if _isnum(v) else "–"


def fmt_signed(v: Any, digits: int = 2) -> str:
    if not _isnum(v):
        return "–"
    text = f"{float(v):+.{digits}f}"
    return text[1:] if float(text) == 0 else text  # no "-0.00"


def fmt_score(v: Any) -> str:
    return f"{float(v):.0f} / 100" if _isnum(v) else "–"


def fmt_value(column: str, v: Any) -> str:
    if column in _SHARES or column.endswith("_share") or column == "share":
        return fmt_pct(v)
    if column in ("mean_std_living", "pfin_per_inhabitant", "group_pfin_per_inhabitant"):
        return fmt_eur(v)
    if column in ("facility_distance", "facility_count"):
        return fmt_int(v)
    if column.endswith("_score") or column.startswith("theme_"):
        return fmt_signed(v)
    return fmt_num(v)


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    try:
        import matplotlib.pyplot as plt

        plt.close(fig)
    except Exception:  # pragma: no cover - figure not managed by pyplot
        pass
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


# ---------------------------------------------------------------------------
# Building the context
# ---------------------------------------------------------------------------


def _territory(grid: gpd.GeoDataFrame) -> gpd.GeoSeries | None:
    """Outline of the inhabited territory: cells merged, small gaps closed, holes dropped."""
    import shapely

    try:
        union = grid.geometry.union_all()
        closed = union.buffer(300, join_style="mitre").buffer(-300, join_style="mitre")
        parts = [shapely.Polygon(p.exterior) for p in getattr(closed, "geoms", [closed])
                 if isinstance(p, shapely.Polygon) and not p.is_empty]
        return gpd.GeoSeries([shapely.MultiPolygon(parts)], crs=grid.crs)
    except Exception:  # pragma: no cover - odd geometries: the map goes without an outline
        return None


def _overview_map(quartiers: gpd.GeoDataFrame, outline: gpd.GeoSeries | None, title: str,
                  source: str | None) -> str | None:
    from ..maps import static_map

    if not len(quartiers):
        return None
    layer = _named(quartiers)
    col = "poverty_rate" if "poverty_rate" in layer.columns else None
    fig = static_map(layer, column=col, quartiers=layer, title=title, source=source,
                     figsize=(7.5, 5.5), dpi=80)
    if outline is not None:
        ax = fig.axes[0]
        xlim, ylim = ax.get_xlim(), ax.get_ylim()
        outline.to_crs(layer.crs).boundary.plot(ax=ax, color="#888888", linewidth=0.6)
        pad = 0.08 * max(xlim[1] - xlim[0], ylim[1] - ylim[0])  # zoom on the quartiers, outline as context
        ax.set_xlim(xlim[0] - pad, xlim[1] + pad)
        ax.set_ylim(ylim[0] - pad, ylim[1] + pad)
    return _png(fig)


def _named(q: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The few columns a static map needs (fewer columns: faster secrecy masking)."""
    return q[[c for c in ("quartier_id", "men", "poverty_rate") if c in q.columns] + [q.geometry.name]]


def _profile_map(q: gpd.GeoDataFrame, row: int, grid: gpd.GeoDataFrame, margin: float = 600.0) -> str | None:
    from ..maps import static_map

    one = q.iloc[[row]]
    b = one.to_crs(grid.crs).total_bounds
    sub = grid.cx[b[0] - margin:b[2] + margin, b[1] - margin:b[3] + margin]
    if not len(sub) or "poverty_rate" not in sub.columns:
        return None
    sub = sub[[c for c in ("cell_id", "men", "imputed", "poverty_rate") if c in sub.columns] + [sub.geometry.name]]
    one = one[["quartier_id", one.geometry.name]]
    fig = static_map(sub, column="poverty_rate", quartiers=one.to_crs(grid.crs), figsize=(4.6, 3.6), dpi=72,
                     labels={"poverty_rate": "Poor households (share)"})
    return _png(fig)


#: Cell scores and distances averaged over a unit's inhabitants (not sums of counts).
_WEIGHTED = ("facility_distance", "facility_count", "poverty_score", "isolation_score")


def _unit_values(grid: pd.DataFrame, labels: pd.Series, *, suppress_secret: bool) -> pd.DataFrame:
    """Indicators per unit (``labels``, aligned on ``grid``): ratios of the summed counts
    (:func:`~cohesion_geo.indicators.aggregate.sum_by`) and the population-weighted
    means of the cell scores."""
    g = pd.DataFrame(grid).drop(columns="geometry", errors="ignore")
    if "ind" not in g.columns or not labels.notna().any():
        return pd.DataFrame()
    out = sum_by(g, labels, suppress_secret=suppress_secret)
    w = g["ind"].astype(float)
    for col in _WEIGHTED:
        if col in g.columns:
            x = pd.to_numeric(g[col], errors="coerce")
            ok = x.notna() & (w > 0) & labels.notna()
            k = labels[ok]
            out[col] = (x[ok] * w[ok]).groupby(k).sum() / w[ok].groupby(k).sum()
            if suppress_secret:
                out.loc[out["secret"], col] = np.nan
    return out


def _uu_values(grid: pd.DataFrame) -> pd.DataFrame:
    """Indicators of each urban unit, indexed by urban unit; blank under 11 households."""
    key = (grid["urban_unit"].astype(object).fillna("(none)") if "urban_unit" in grid.columns
           else pd.Series("all", index=grid.index))
    return _unit_values(grid, key, suppress_secret=True)  # statistical secrecy, also for a tiny urban unit


def _quartier_values(cells: pd.DataFrame, grid: pd.DataFrame) -> pd.DataFrame:
    """Indicators of each quartier from the summed counts of its cells."""
    c = cells.astype({"cell_id": str, "quartier_id": str}).drop_duplicates("cell_id")  # a cell is in one quartier
    member = pd.Series(c["quartier_id"].to_numpy(), index=c["cell_id"].to_numpy())
    return _unit_values(grid, grid["cell_id"].astype(str).map(member), suppress_secret=False)


def _quartier_names(run: Any, q: pd.DataFrame) -> list[str]:
    """A readable name per quartier: its IRIS names (if known) and commune names."""
    iris_names: dict[str, str] = {}
    commune_names: dict[str, str] = {}
    inputs = run.inputs
    if inputs.iris is not None and "name" in inputs.iris.columns:
        iris_names = dict(zip(inputs.iris["iris"].astype(str), inputs.iris["name"].astype(str)))
        if "commune_name" in inputs.iris.columns:
            commune_names.update(zip(inputs.iris["commune"].astype(str), inputs.iris["commune_name"].astype(str)))
    if inputs.finance is not None and "commune_name" in inputs.finance.columns:
        for k, v in zip(inputs.finance["commune"].astype(str), inputs.finance["commune_name"].astype(str)):
            commune_names.setdefault(k, v.title() if v.isupper() else v)
    names = []
    for _, row in q.iterrows():
        if "name" in q.columns and isinstance(row.get("name"), str) and row["name"].strip():
            names.append(row["name"])
            continue
        parts: list[str] = []
        iris = row.get("iris")
        if isinstance(iris, str) and iris:
            parts = [iris_names[c] for c in (s.strip() for s in iris.split(",")) if c in iris_names][:2]
        communes = row.get("communes")
        cnames = []
        if isinstance(communes, str) and communes:
            cnames = [commune_names.get(c.strip(), c.strip()) for c in communes.split(",")][:2]
        text = " / ".join(parts)
        if cnames:
            text = f"{text} ({', '.join(cnames)})" if text else ", ".join(cnames)
        names.append(text or str(row["quartier_id"]))
    return names


def _comments(run: Any, result: Any, limit: int) -> dict[str, list[str]]:
    """Up to ``limit`` resident comments per quartier (only quartiers with >= 5 reports)."""
    reports = run.inputs.reports
    if limit <= 0 or reports is None or "comment" not in reports.columns or not len(reports):
        return {}
    from ..indicators.residents import assign_reports

    pos = assign_reports(reports, result.grid)
    pos = np.asarray(pos)
    ok = pos >= 0
    cell_ids = result.grid["cell_id"].astype(str).to_numpy()
    frame = pd.DataFrame({"cell_id": cell_ids[pos[ok]], "comment": reports["comment"].to_numpy()[ok]})
    m = frame.merge(result.cells[["cell_id", "quartier_id"]].astype(str), on="cell_id")
    out: dict[str, list[str]] = {}
    for qid, g in m.groupby("quartier_id"):
        if len(g) < MIN_REPORTS:
            continue
        texts = [str(t).strip() for t in g["comment"].dropna() if str(t).strip()]
        out[str(qid)] = texts[:limit]
    return out


def _category_rows(row: pd.Series) -> list[dict[str, Any]]:
    n = row.get("reports_n")
    if not _isnum(n) or float(n) < MIN_REPORTS:
        return []
    skip = {"reports_n", "reports_per_1000"}
    rows = []
    for col, v in row.items():
        if isinstance(col, str) and col.startswith("reports_") and col not in skip and _isnum(v) and float(v) > 0:
            rows.append({"category": col[len("reports_"):].replace("_", " "), "count": fmt_int(v),
                         "share": fmt_pct(float(v) / float(n))})  # fmt: skip
    rows.sort(key=lambda r: -float(r["count"].replace("\u202f", "")))
    return rows


def _reasons(v: Any) -> list[str]:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return []
    if isinstance(v, (list, tuple)):
        return [str(x) for x in v if str(x).strip()]
    text = str(v).strip()
    if not text:
        return []
    for sep in ("\n", "; ", " | "):
        if sep in text:
            return [p.strip() for p in text.split(sep) if p.strip()]
    return [text]


def _contributions(row: pd.Series) -> list[dict[str, str]]:
    out = []
    for col, v in row.items():
        if isinstance(col, str) and col.startswith("contrib_") and _isnum(v):
            out.append({"component": _component_label(col[len("contrib_"):]),
                        "value": fmt_num(v, 1)})  # fmt: skip
    return out


def _component_label(name: str) -> str:
    try:
        from ..priority.score import COMPONENTS

        if name in COMPONENTS:
            return COMPONENTS[name].label
    except ImportError:  # pragma: no cover
        pass
    if name.startswith("theme_"):
        return "theme: " + name[len("theme_"):].replace("_", " ")
    return name.replace("_", " ")


def _situation_words(v: Any) -> str:
    return str(v).replace("_", " ") if isinstance(v, str) and v else ""


def _scenario_params(run: Any) -> tuple[list[str], list[dict[str, Any]]]:
    names = list(run.results)
    keys: list[str] = []
    per: dict[str, dict[str, Any]] = {}
    for name, res in run.results.items():
        p = dict(res.scenario.parameters())
        d = res.delineation.params if res.delineation is not None else {}
        for k in ("contiguity", "grow", "bridge", "fill_holes", "prune", "imputed", "min_population"):
            if k in d and k not in p:
                p[k] = d[k]
        if "proxy_factor" in d and d.get("rule") == "default":
            p.setdefault("proxy_factor", d["proxy_factor"])
        per[name] = p
        for k in p:
            if k not in keys:
                keys.append(k)
    rows = []
    pretty = {
        "rule": "Rule", "contiguity": "Neighbours (contiguity)", "grow": "Growth rings", "bridge": "Gaps bridged (cells)",
        "fill_holes": "Holes filled", "prune": "Appendages pruned", "imputed": "Estimated cells (< 11 households)",
        "min_population": "Minimum population", "poverty_level": "Poverty-rate level", "percentile": "Percentile",
        "proxy_factor": "Proxy factor k (line = k × S)",
    }  # fmt: skip
    for k in keys:
        rows.append({"parameter": pretty.get(k, k.replace("_", " ")),
                     "values": [_param_text(per[n].get(k)) for n in names]})  # fmt: skip
    return names, rows


def _param_text(v: Any) -> str:
    if v is None:
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def _change_rows(cmp: Any) -> list[dict[str, Any]]:
    from .compare import publishable

    rows = []
    for _, ch in publishable(cmp.changes).iterrows():  # no count for a gain or loss of < 11 households
        rows.append({
            "id": ch["change_id"],
            "status": ch["status"],
            "what": STATUS_WORDS.get(ch["status"], ch["status"]),
            "qa": ch["quartiers_a"] or "–",
            "qb": ch["quartiers_b"] or "–",
            "ind": f"{fmt_int(ch.get('ind_a'))} → {fmt_int(ch.get('ind_b'))}" if "ind_a" in ch else "",
            "ind_gained": fmt_int(ch.get("ind_gained")),
            "ind_lost": fmt_int(ch.get("ind_lost")),
            "pauv_gained": fmt_int(ch.get("men_pauv_gained")),
            "pauv_lost": fmt_int(ch.get("men_pauv_lost")),
            "jaccard": fmt_pct(ch["jaccard"]),
            "rank": f"{fmt_int(ch['rank_a'])} → {fmt_int(ch['rank_b'])}",
            "moved": fmt_signed(ch["rank_moved"], 0) if _isnum(ch["rank_moved"]) else "–",
        })  # fmt: skip
    return rows


def _comparison_sentence(cmp: Any) -> str:
    s = cmp.summary
    parts = [
        f"{s['b']} draws {s['quartiers_b']} quartiers against {s['quartiers_a']} for {s['a']}: "
        f"{s['entering']} enter, {s['leaving']} leave and {s['kept']} are kept in some form."
    ]
    if "ind_a" in s:
        parts.append(
            f"They hold {fmt_int(s['ind_b'])} inhabitants against {fmt_int(s['ind_a'])} "
            f"({fmt_int(s['ind_gained'])} gained, {fmt_int(s['ind_lost'])} lost)"
            + (f"; poor households: {fmt_int(s['men_pauv_gained'])} gained, {fmt_int(s['men_pauv_lost'])} lost."
               if "men_pauv_gained" in s else ".")
        )
    parts.append(f"The two perimeters share {fmt_pct(s['jaccard'])} of the cells either of them covers.")
    return " ".join(parts)


def build_report(
    run: Any,
    /,
    *,
    profiles: bool = True,
    max_profiles: int | None = 40,
    comments: int = 0,
    maps: bool = True,
) -> dict[str, Any]:
    """The template context of ``report.html`` for a :class:`~cohesion_geo.scenarios.run.ProjectRun`.

    Parameters
    ----------
    run : ProjectRun
    profiles : bool
        Include a profile (*fiche quartier*) per candidate quartier.
    max_profiles : int, optional
        At most this many profiles per scenario (best ranked first); None: all.
    comments : int, default 0
        Up to this many residents' comments per quartier (only quartiers with
        at least 5 reports). Off by default: a comment can name a street and
        so locate a report more precisely than its 200 m cell; quote them
        only when explicitly asked.
    maps : bool
        Draw the PNG maps (off: a faster report without images).
    """
    proj = run.project
    grid = run.grid
    outline = _territory(grid) if maps else None
    vintage = grid.attrs.get("vintage")
    source_line = f"INSEE Filosofi {vintage}" if vintage else "INSEE Filosofi"
    uu = _uu_values(grid)
    total_pop = float(grid["ind"].sum()) if "ind" in grid.columns else np.nan

    scenarios = []
    profiles_out = []
    robust_q = run.robustness.quartiers
    for name, res in run.results.items():
        q = res.quartiers.copy()
        if "rank" in q.columns:
            q = q.sort_values("rank", kind="stable")
        q = q.reset_index(drop=True)
        names = _quartier_names(run, q)
        q["_name"] = names
        qv = _quartier_values(res.cells, res.grid)
        d = res.delineation.params if res.delineation is not None else {}
        thresholds = d.get("thresholds") or {}
        sc = {
            "name": name,
            "title": res.scenario.title,
            "description": res.scenario.description,
            "n": len(q),
            "ind": fmt_int(q["ind"].sum()) if "ind" in q.columns else "–",
            "share": fmt_pct(float(q["ind"].sum()) / total_pop, 1) if "ind" in q.columns and total_pop else "–",
            "men_pauv": fmt_int(q["men_pauv"].sum()) if "men_pauv" in q.columns else "–",
            "rule_description": d.get("rule_description", ""),
            "thresholds": [{"unit": k, "value": fmt_eur(v), "line": fmt_eur(float(v) * d["proxy_factor"])
                            if d.get("rule") == "default" and "proxy_factor" in d else ""}
                           for k, v in thresholds.items()],
            "notes": res.notes,
            "map": _overview_map(q, outline, res.scenario.title, source_line) if maps else None,
            "quartiers": [],
        }  # fmt: skip
        q_secret = secret_flag(q)
        for i, row in q.iterrows():
            secret = bool(q_secret[i])
            sc["quartiers"].append({
                "rank": fmt_int(row.get("rank")), "id": row["quartier_id"], "name": row["_name"],
                "ind": fmt_int(row.get("ind")), "poverty": "–" if secret else fmt_pct(row.get("poverty_rate")),
                "living": "–" if secret else fmt_eur(row.get("mean_std_living")),
                "score": fmt_score(row.get("score")),
                "anchor": f"q-{name}-{row['quartier_id']}",
            })  # fmt: skip
        scenarios.append(sc)

        if not profiles:
            continue
        limit = len(q) if max_profiles is None else min(len(q), max_profiles)
        comm = _comments(run, res, comments)
        rq = robust_q[robust_q["scenario"] == name].set_index("quartier_id") if len(robust_q) else pd.DataFrame()
        for i in range(limit):
            row = q.iloc[i]
            qid = str(row["quartier_id"])
            secret = bool(q_secret.iloc[i])
            unit = row.get("urban_unit")
            uurow = uu.loc[unit] if isinstance(unit, str) and unit in uu.index else (
                uu.iloc[0] if len(uu) == 1 else None)
            vals = qv.loc[qid] if qid in qv.index else pd.Series(dtype=float)
            key_rows = []
            for label, qcol, rcol, ucol, col in (
                ("Standard of living (mean)", "q_std_living", "ring_std_living", "uu_std_living", "mean_std_living"),
                ("Poor households", "q_poverty_rate", "ring_poverty_rate", "uu_poverty_rate", "poverty_rate"),
                ("Social housing", "q_social_housing", "ring_social_housing", "uu_social_housing",
                 "social_housing_share"),
            ):
                qval = row.get(qcol, vals.get(col, row.get(col)))
                rval = row.get(rcol)
                uval = row.get(ucol, uurow.get(col) if uurow is not None else None)
                if not any(_isnum(v) for v in (qval, rval, uval)):
                    continue
                key_rows.append({"label": label, "q": "–" if secret else fmt_value(col, qval),
                                 "ring": fmt_value(col, rval), "uu": fmt_value(col, uval)})  # fmt: skip
            other_rows = []
            for col in ("one_person_share", "elderly_share", "children_share", "single_parent_share",
                        "large_household_share", "pre1970_housing_share", "facility_count", "facility_distance",
                        "isolation_score"):
                v = vals.get(col)
                if not _isnum(v):
                    continue
                u = uurow.get(col) if uurow is not None and col in uurow.index else None
                other_rows.append({"label": LABELS.get(col, col), "q": "–" if secret else fmt_value(col, v),
                                   "uu": fmt_value(col, u)})  # fmt: skip
            themes = []
            for t in res.scenario.themes:
                v = row.get(t.column)
                themes.append({"name": t.name, "value": fmt_signed(v), "weight": f"{t.weight:g}",
                               "reading": _theme_reading(v)})  # fmt: skip
            fin = None
            if _isnum(row.get("pfin_per_inhabitant")) or _isnum(row.get("pfin_ratio")):
                fin = {
                    "commune": row.get("commune_main_name") or row.get("commune_main") or "",
                    "shares": row.get("commune_shares") or "",
                    "pfin": fmt_eur(row.get("pfin_per_inhabitant")),
                    "group": fmt_eur(row.get("group_pfin_per_inhabitant")),
                    "ratio": fmt_pct(row.get("pfin_ratio")),
                    "reading": _finance_reading(row.get("pfin_ratio")),
                }
            rob = None
            if len(rq) and qid in rq.index:
                rob = fmt_pct(rq.at[qid, "robust_share"])
            profiles_out.append({
                "anchor": f"q-{name}-{qid}", "scenario": name, "scenario_title": res.scenario.title,
                "id": qid, "name": row["_name"], "rank": fmt_int(row.get("rank")),
                "n_quartiers": len(q),
                "secret": secret,
                "ind": fmt_int(row.get("ind")), "men": "–" if secret else fmt_int(row.get("men")),
                "men_pauv": "–" if secret else fmt_int(row.get("men_pauv")),
                "cells": fmt_int(row.get("n_cells")), "communes": row.get("communes") or "",
                "imputed": fmt_pct(row.get("imputed_share")),
                "key_rows": key_rows, "other_rows": other_rows,
                "situation": _situation_words(row.get("situation")),
                "themes": themes,
                "reports_n": fmt_int(row.get("reports_n")) if "reports_n" in q.columns else None,
                "reports_rate": fmt_num(row.get("reports_per_1000")),
                "categories": _category_rows(row),
                "few_reports": "reports_n" in q.columns and (not _isnum(row.get("reports_n"))
                                                              or float(row.get("reports_n")) < MIN_REPORTS),
                "comments": comm.get(qid, []),
                "finance": fin,
                "score": fmt_score(row.get("score")),
                "contributions": _contributions(row),
                "reasons": _reasons(row.get("reasons")),
                "robust": rob,
                "map": _profile_map(q, i, res.grid) if maps else None,
            })  # fmt: skip

    comparisons = [{"a": c.a, "b": c.b, "sentence": _comparison_sentence(c), "rows": _change_rows(c)}
                   for c in run.comparisons]  # fmt: skip
    readjustment = [{"a": c.a, "b": c.b, "scenario": c.summary.get("scenario", ""),
                     "sentence": _comparison_sentence(c), "rows": _change_rows(c)}
                    for c in run.readjustment]  # fmt: skip

    rob = run.robustness
    first_names: dict[str, str] = {}
    if run.results:
        fr = next(iter(run.results.values()))
        fq = fr.quartiers.reset_index(drop=True)
        first_names = dict(zip(fq["quartier_id"].astype(str), _quartier_names(run, fq)))
    core_rows = []
    core = pd.DataFrame(rob.core)
    core_secret = secret_flag(core)
    for i, (_, r) in enumerate(core.iterrows()):
        secret = bool(core_secret.iloc[i])
        core_rows.append({
            "id": r["core_id"], "cells": fmt_int(r["n_cells"]),
            "ind": "–" if secret else fmt_int(r.get("ind")),
            "men_pauv": "–" if secret else fmt_int(r.get("men_pauv")),
            "poverty": "–" if secret or not _isnum(r.get("men")) or not r.get("men")
            else fmt_pct(float(r.get("men_pauv", np.nan)) / float(r["men"])),
            "in": [r.get(f"in_{n}", "") for n in rob.scenarios],
            "where": "; ".join(dict.fromkeys(first_names.get(q.strip(), "") for q in
                                             str(r.get(f"in_{rob.scenarios[0]}", "")).split(",") if q.strip())),
        })  # fmt: skip
    robust_map = None
    if maps and len(rob.cells):
        from ..maps import static_map

        rc = rob.cells[[c for c in ("cell_id", "share") if c in rob.cells.columns] + [rob.cells.geometry.name]]
        fig = static_map(rc, column="share", n_scenarios=len(rob.scenarios),
                         quartiers=rob.core if isinstance(rob.core, gpd.GeoDataFrame) and len(rob.core) else None,
                         title="Share of scenarios placing each cell in a quartier", source=source_line,
                         figsize=(7.5, 5.5), dpi=80)
        if outline is not None:
            ax = fig.axes[0]
            xl, yl = ax.get_xlim(), ax.get_ylim()
            outline.to_crs(rob.cells.crs).boundary.plot(ax=ax, color="#888888", linewidth=0.6)
            ax.set_xlim(xl)
            ax.set_ylim(yl)
        robust_map = _png(fig)

    method = _method(run)
    names, param_rows = _scenario_params(run)
    return {
        "title": proj.report.get("title") or f"Priority quartiers: {proj.name}",
        "project": proj.name,
        "introduction": proj.report.get("introduction") or "",
        "description": proj.description,
        "generated": _dt.date.today().isoformat(),
        "method": method,
        "scenario_names": names,
        "param_rows": param_rows,
        "scenarios": scenarios,
        "comparisons": comparisons,
        "readjustment": readjustment,
        "robust_map": robust_map,
        "core_rows": core_rows,
        "robust_scenarios": rob.scenarios,
        "n_scenarios": len(rob.scenarios),
        "profiles": profiles_out,
        "min_households": MIN_HOUSEHOLDS,
        "min_reports": MIN_REPORTS,
        "total_pop": fmt_int(total_pop),
        "notes": run.notes,
    }


def _theme_reading(v: Any) -> str:
    if not _isnum(v):
        return "not measurable here"
    v = float(v)
    if v >= 1:
        return "well above the territory's average"
    if v >= 0.3:
        return "above the territory's average"
    if v > -0.3:
        return "close to the territory's average"
    if v > -1:
        return "below the territory's average"
    return "well below the territory's average"


def _finance_reading(v: Any) -> str:
    if not _isnum(v):
        return ""
    v = float(v)
    if v < 0.8:
        return "less room than communes of its size to fund a programme"
    if v <= 1.2:
        return "about as much room as communes of its size"
    return "more room than communes of its size"


def _method(run: Any) -> dict[str, Any]:
    proj = run.project
    grid = run.grid
    first = next(iter(run.results.values()), None)
    d = first.delineation.params if first is not None and first.delineation is not None else {}
    vintage = grid.attrs.get("vintage")
    sources = []
    labels = {"grid": "Income grid (200 m cells)", "iris": "IRIS contours", "iris_income": "Income by IRIS",
              "reports": "Residents' reports", "facilities": "Facilities (BPE)", "finance": "Commune finances",
              "urban_units": "Urban units"}  # fmt: skip
    for key, path in run.inputs.sources.items():
        name = Path(path).name
        synthetic = "synthetic" in name.lower()
        sources.append({"what": labels.get(key, key), "file": name, "synthetic": synthetic})
    if run.readjustment:
        for c in run.readjustment:
            sources.append({"what": f"Second vintage ({c.b})", "file": "", "synthetic": "simulated" in c.b})
    return {
        "vintage": vintage,
        "national_median": fmt_eur(d.get("national_median")),
        "national_median_source": d.get("national_median_source", ""),
        "urban_median_source": d.get("urban_median_source", ""),
        "urban_medians": [{"unit": k, "value": fmt_eur(v)} for k, v in (d.get("urban_medians") or {}).items()],
        "proxy_note": d.get("proxy_note", ""),
        "sources": sources,
        "cells": fmt_int(len(grid)),
        "population": fmt_int(grid["ind"].sum()) if "ind" in grid.columns else "–",
        "imputed_share": fmt_pct(float(grid.loc[grid["imputed"].astype(bool), "ind"].sum() / grid["ind"].sum()))
        if {"imputed", "ind"}.issubset(grid.columns) and grid["ind"].sum() > 0 else "–",
        "has_reports": run.inputs.reports is not None,
        "has_finance": run.inputs.finance is not None,
    }


# ---------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------


def _env():
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(_TEMPLATES)),
        autoescape=True,  # every string from a user file is escaped
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


def render_report(context: Mapping[str, Any], /) -> str:
    """Render the context of :func:`build_report` to HTML (autoescaped)."""
    html = _env().get_template("report.html.j2").render(**context)
    from ..maps import external_resources

    urls = external_resources(html)
    if urls:  # pragma: no cover - the template has none; guards future edits
        raise CohesionGeoError(f"report.html would load external resources: {urls[:3]}")
    return html


def write_report(
    run: Any,
    path: str | os.PathLike,
    /,
    *,
    profiles: bool = True,
    max_profiles: int | None = 40,
    comments: int = 0,
    maps: bool = True,
) -> Path:
    """Build and write ``report.html`` (atomically) for a project run; return its path."""
    ctx = build_report(run, profiles=profiles, max_profiles=max_profiles, comments=comments, maps=maps)
    return write_text(render_report(ctx), path)
