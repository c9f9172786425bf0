"""Static maps (PNG) of the same layers, for print and for reports.

Drawn with matplotlib's object API and the Agg canvas (no pyplot state, no
display needed), in the layer's own projected CRS (metres, so the scale bar
is true). Same classes, colours and privacy rules as the interactive maps.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from matplotlib import patheffects
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from .._io import atomic_path
from ..errors import CohesionGeoError, MissingColumnsError
from ._geo import require_crs
from ._privacy import mask_secret, reports_from_table
from ._style import (
    CONFRONTATION_COLOURS,
    CONFRONTATION_LABELS,
    LISA_COLOURS,
    SECRET_COLOUR,
    SECRET_TEXT,
    Classes,
    categorical_classes,
    classify,
    label_for,
    normalise_lisa,
)

__all__ = ["static_map"]

_KINDS = ("choropleth", "lisa", "confrontation", "residents", "robustness", "quartiers")


def _mpl_text(text: object) -> str:
    """Plain text for matplotlib: ``$`` would start mathtext (and can raise)."""
    return str(text).replace("$", r"\$")


def _guess_kind(column: str | None) -> str:
    if column is None:
        return "quartiers"
    if column == "lisa_cluster":
        return "lisa"
    if column == "confrontation":
        return "confrontation"
    if column in ("reports_count", "reports_n"):
        return "residents"
    if column == "share":
        return "robustness"
    return "choropleth"


def _nice_length(extent: float) -> float:
    target = extent / 5
    p = 10 ** np.floor(np.log10(target))
    for m in (5, 2, 1):
        if m * p <= target:
            return float(m * p)
    return float(p)


def _scale_bar(ax, frame: gpd.GeoDataFrame) -> None:
    minx, miny, maxx, maxy = frame.total_bounds
    length = _nice_length(maxx - minx)
    x0 = minx + 0.04 * (maxx - minx)
    y0 = miny + 0.03 * (maxy - miny)
    ax.plot([x0, x0 + length], [y0, y0], color="black", linewidth=3, solid_capstyle="butt")
    txt = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    ax.text(x0 + length / 2, y0 + 0.012 * (maxy - miny), txt, ha="center", va="bottom", fontsize=8)


def static_map(
    layer: gpd.GeoDataFrame,
    /,
    *,
    column: str | None = None,
    path: str | os.PathLike | None = None,
    kind: str | None = None,
    scheme: str = "quantiles",
    k: int = 5,
    cmap: str | None = None,
    quartiers: gpd.GeoDataFrame | None = None,
    n_scenarios: int | None = None,
    title: str | None = None,
    labels: Mapping[str, str] | None = None,
    source: str | None = None,
    figsize: tuple[float, float] = (10.0, 7.5),
    dpi: int = 150,
) -> Path | Figure:
    """Draw one layer as a print map (PNG when ``path`` is given).

    Parameters
    ----------
    layer : GeoDataFrame
        Cells (or areas) in a projected CRS; a geographic CRS is drawn in
        EPSG:3857. For ``kind="quartiers"`` the quartiers themselves.
    column : str, optional
        Column to map. The kind follows it unless ``kind`` is given:
        ``lisa_cluster`` -> LISA categories, ``confrontation`` -> the four
        confrontation classes, ``reports_count``/``reports_n`` -> residents'
        reports per cell, ``share`` -> robustness, any other -> classed
        choropleth (``scheme``, ``k`` as in mapclassify); no column -> the
        quartier outlines only.
    path : path, optional
        Where to write the PNG (atomically). Without it the matplotlib
        Figure is returned.
    quartiers : GeoDataFrame, optional
        Outlined and labelled (``quartier_id``) on top.
    n_scenarios : int, optional
        For robustness: classes "k of n scenarios".
    source : str, optional
        Source line printed under the map (e.g. "INSEE Filosofi 2015").

    Returns
    -------
    Path or matplotlib.figure.Figure

    Examples
    --------
    >>> static_map(cells, column="poverty_rate", path="out/poverty.png")  # doctest: +SKIP
    """
    require_crs(layer, "layer")
    kind = kind or _guess_kind(column)
    if kind not in _KINDS:
        raise CohesionGeoError(f"kind {kind!r} is unknown; use one of {list(_KINDS)}")
    if column is not None and column not in layer.columns:
        raise MissingColumnsError(f"layer: column {column!r} is missing (columns: {list(layer.columns)[:12]})")
    frame = layer if not layer.crs.is_geographic else layer.to_crs(3857)
    frame = frame[~frame.geometry.is_empty & frame.geometry.notna()]
    if kind in ("robustness", "residents"):
        masked = frame.assign(secret=False)
    else:
        masked = mask_secret(frame)
    label = label_for(column, labels) if column else (title or "Candidate quartiers")

    classes: Classes | None = None
    if kind == "choropleth":
        classes = classify(masked[column], scheme=scheme, k=k, cmap=cmap or "YlOrRd",
                           title=label, secret=masked["secret"], column=column or "")
    elif kind == "lisa":
        classes = categorical_classes(normalise_lisa(masked[column]), colours=LISA_COLOURS,
                                      title=label, secret=masked["secret"])
    elif kind == "confrontation":
        vals = masked[column].astype(object).map(lambda v: v if isinstance(v, str) else None)
        classes = categorical_classes(vals, colours=CONFRONTATION_COLOURS, labels=CONFRONTATION_LABELS,
                                      title=label, secret=masked["secret"])
    elif kind == "residents":
        if column == "reports_n":
            masked = reports_from_table(masked, masked)
            masked["secret"] = False
        counts = pd.to_numeric(masked["reports_count"], errors="coerce").fillna(0).to_numpy()
        bins = [(1, 1), (2, 4), (5, 9), (10, 19), (20, np.inf)]
        idx = np.full(len(counts), -1)
        for i, (lo, hi) in enumerate(bins):
            idx[(counts >= lo) & (counts <= hi)] = i
        classes = Classes(title=label, index=idx,
                          labels=["1", "2–4", "5–9", "10–19", "20 or more"],
                          colours=["#deebf7", "#9ecae1", "#6baed6", "#3182bd", "#08519c"])
    elif kind == "robustness":
        share = pd.to_numeric(masked[column or "share"], errors="coerce").fillna(0).to_numpy()
        from matplotlib import colormaps
        from matplotlib.colors import to_hex

        if n_scenarios:
            ks = np.rint(share * n_scenarios).astype(int)
            idx = np.where(ks > 0, ks - 1, -1)
            cls = [f"{j} of {n_scenarios} scenarios" for j in range(1, n_scenarios + 1)]
        else:
            idx = np.full(len(share), -1)
            for i, (lo, hi) in enumerate([(0, 0.25), (0.25, 0.5), (0.5, 0.75), (0.75, 1.0)]):
                idx[(share > lo) & (share <= hi) & (share < 1)] = i
            idx[share >= 1] = 4
            cls = ["up to 25 %", "25–50 %", "50–75 %", "75–99 %", "all scenarios (100 %)"]
        pal = [to_hex(colormaps["Purples"](0.25 + 0.7 * i / max(len(cls) - 1, 1))) for i in range(len(cls))]
        classes = Classes(title=label, index=idx, labels=cls, colours=pal)

    fig = Figure(figsize=figsize, dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.02, 0.07, 0.68, 0.84))
    ax.set_axis_off()
    ax.set_aspect("equal")
    handles = []
    if classes is not None:
        colours = classes.row_colours()
        keep = np.array([c is not None for c in colours], dtype=bool)
        if keep.any():
            masked[keep].plot(ax=ax, color=[c for c in colours if c is not None],
                              edgecolor="#777777", linewidth=0.15)
        counts = [int((classes.index == i).sum()) for i in range(len(classes.labels))]
        for colour, lab, n in zip(classes.colours, classes.labels, counts):
            if n == 0:
                continue
            handles.append(Patch(facecolor=colour, edgecolor="#777777", label=_mpl_text(f"{lab} ({n:,})")))
        n_secret = int((classes.index == -2).sum())
        if n_secret:
            handles.append(Patch(facecolor=SECRET_COLOUR, edgecolor="#777777",
                                 label=_mpl_text(f"{SECRET_TEXT} ({n_secret:,})")))
    outline = quartiers if quartiers is not None else (frame if kind == "quartiers" else None)
    if outline is not None and len(outline):
        require_crs(outline, "quartiers")
        q = outline.to_crs(frame.crs)
        q.boundary.plot(ax=ax, color="#111111", linewidth=1.6)
        if kind == "quartiers":
            q.plot(ax=ax, color="#b2182b", alpha=0.25)
        ids = q["quartier_id"] if "quartier_id" in q.columns else None
        if ids is not None and len(q) <= 60:
            pts = q.geometry.representative_point()
            for pt, qid in zip(pts, ids):
                ax.annotate(_mpl_text(qid), (pt.x, pt.y), ha="center", va="center", fontsize=8,
                            color="#111111", fontweight="bold",
                            path_effects=[patheffects.withStroke(linewidth=2.5, foreground="white")])
        handles.append(Patch(facecolor="none", edgecolor="#111111", linewidth=1.6,
                             label="Candidate quartiers"))
    if handles:
        leg = ax.legend(handles=handles, loc="lower left", bbox_to_anchor=(1.02, 0.0), fontsize=8,
                        title=_mpl_text(label),
                        title_fontsize=9, frameon=True, framealpha=0.92, alignment="left")
        leg.get_frame().set_edgecolor("#999999")
    _scale_bar(ax, masked if len(masked) else frame)
    fig.suptitle(_mpl_text(title or label), fontsize=12, y=0.97)
    foot = "Units with fewer than 11 households: values not published."
    if source:
        foot = f"Source: {source}. " + foot
    fig.text(0.02, 0.02, _mpl_text(foot), fontsize=7, color="#555555")
    if path is None:
        return fig
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi)
    return Path(path)
