"""Colours, classifications, value formatting and legends shared by all maps."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import mapclassify
import matplotlib
import numpy as np
import pandas as pd
from matplotlib.colors import to_hex

from ..errors import CohesionGeoError
from ._escape import escape_text

__all__ = [
    "Classes",
    "CONFRONTATION_COLOURS",
    "DEFAULT_LABELS",
    "LISA_COLOURS",
    "SECRET_COLOUR",
    "SECRET_TEXT",
    "classify",
    "categorical_classes",
    "format_value",
    "label_for",
    "legend_html",
    "normalise_lisa",
]

SECRET_COLOUR = "#d9d9d9"
SECRET_TEXT = "not published (< 11 households)"
MISSING_TEXT = "no value"

#: LISA categories in canonical spelling, with the usual colours (GeoDa).
LISA_COLOURS: dict[str, str] = {
    "high-high": "#d7191c",
    "low-low": "#2c7bb6",
    "high-low": "#fdae61",
    "low-high": "#abd9e9",
    "not significant": "#f0f0f0",
    "isolated": "#ffffff",
}
_LISA_ALIASES = {
    "hh": "high-high", "high-high": "high-high", "high_high": "high-high", "highhigh": "high-high",
    "ll": "low-low", "low-low": "low-low", "low_low": "low-low", "lowlow": "low-low",
    "hl": "high-low", "high-low": "high-low", "high_low": "high-low", "highlow": "high-low",
    "lh": "low-high", "low-high": "low-high", "low_high": "low-high", "lowhigh": "low-high",
    "ns": "not significant", "not significant": "not significant", "not_significant": "not significant",
    "isolated": "isolated", "n.s.": "not significant", "insignificant": "not significant", "none": "not significant",
    # esda's Moran_Local.q convention (1 HH, 2 LH, 3 LL, 4 HL), 0 = not significant
    "1": "high-high", "2": "low-high", "3": "low-low", "4": "high-low", "0": "not significant",
}

CONFRONTATION_COLOURS: dict[str, str] = {
    "both": "#7b3294",
    "statistics_only": "#e66101",
    "residents_only": "#1b9e77",
    "neither": "#f7f7f7",
}
CONFRONTATION_LABELS: dict[str, str] = {
    "both": "both: statistics and residents",
    "statistics_only": "statistics only",
    "residents_only": "residents only",
    "neither": "neither",
}

DEFAULT_LABELS: dict[str, str] = {
    "quartier_id": "Quartier",
    "name": "Name",
    "cell_id": "Cell",
    "ind": "Population",
    "men": "Households",
    "men_pauv": "Poor households",
    "poverty_rate": "Poverty rate",
    "mean_std_living": "Mean standard of living (EUR/year)",
    "median_income": "Median income (EUR/year)",
    "score": "Priority score",
    "rank": "Rank",
    "n_cells": "Cells (200 m)",
    "communes": "Communes",
    "commune": "Commune",
    "imputed_share": "Share of imputed cells",
    "threshold": "Income threshold (EUR/year)",
    "lisa_cluster": "LISA cluster",
    "confrontation": "Statistics vs residents",
    "reports_count": "Residents' reports",
    "reports_breakdown": "By category",
    "reports_comments": "Comments",
    "share": "Share of scenarios",
}
_PERCENT_COLUMNS = {"poverty_rate", "imputed_share", "share"}
_MONEY_COLUMNS = {"mean_std_living", "median_income", "threshold"}
_COUNT_COLUMNS = {"ind", "men", "men_pauv", "n_cells", "reports_count", "rank"}


def label_for(column: str, labels: Mapping[str, str] | None = None) -> str:
    """Human label of ``column`` (user ``labels`` first, then defaults); NOT escaped."""
    if labels and column in labels:
        return str(labels[column])
    return DEFAULT_LABELS.get(column, column)


def format_value(value: object, column: str = "") -> str:
    """Format one value for a tooltip (plain text, NOT escaped).

    Shares are shown as percentages, counts rounded, money with a thousands
    separator. Missing values give ``"no value"``.

    >>> format_value(0.2346, "poverty_rate"), format_value(1234.4, "ind"), format_value(None)
    ('23.5 %', '1,234', 'no value')
    """
    if value is None:
        return MISSING_TEXT
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, float, np.integer, np.floating)):
        v = float(value)
        if np.isnan(v):
            return MISSING_TEXT
        if column in _PERCENT_COLUMNS:
            return f"{100 * v:.1f} %"
        if column in _MONEY_COLUMNS:
            return f"{v:,.0f}"
        if column in _COUNT_COLUMNS or column.startswith("n_"):
            return f"{v:,.0f}"
        if v == int(v) and abs(v) < 1e15:
            return f"{int(v):,}"
        return f"{v:,.3g}" if abs(v) < 1000 else f"{v:,.0f}"
    try:
        if pd.isna(value):
            return MISSING_TEXT
    except (TypeError, ValueError):
        pass
    return str(value)


@dataclass
class Classes:
    """A classification of one layer: a colour per row plus the legend entries.

    ``index`` holds the class of each row (-1: missing value, -2: secret),
    ``labels``/``colours`` the legend entries in order.
    """

    title: str
    index: np.ndarray
    labels: list[str]
    colours: list[str]
    counts: list[int] = field(default_factory=list)
    n_missing: int = 0
    n_secret: int = 0

    def row_colours(self) -> list[str | None]:
        """Fill colour per row (None: not drawn)."""
        out: list[str | None] = []
        for i in self.index:
            if i >= 0:
                out.append(self.colours[i])
            elif i == -2:
                out.append(SECRET_COLOUR)
            else:
                out.append(None)
        return out


_SCHEMES = {
    "quantiles": "Quantiles",
    "natural_breaks": "FisherJenks",
    "fisher_jenks": "FisherJenks",
    "jenks_caspall": "JenksCaspall",
    "equal_interval": "EqualInterval",
    "std_mean": "StdMean",
}


def classify(
    values: pd.Series,
    /,
    *,
    scheme: str = "quantiles",
    k: int = 5,
    cmap: str = "YlOrRd",
    title: str = "",
    secret: pd.Series | None = None,
    column: str = "",
) -> Classes:
    """Class a numeric Series with mapclassify; return colours and legend labels.

    ``scheme`` is one of ``quantiles``, ``natural_breaks`` (Fisher-Jenks,
    deterministic), ``jenks_caspall``, ``equal_interval``, ``std_mean``.
    Missing values get class -1 and secret rows (``secret`` True) class -2;
    neither takes part in the classification.
    """
    key = scheme.lower().replace("-", "_").replace(" ", "_")
    if key not in _SCHEMES:
        raise CohesionGeoError(
            f"scheme {scheme!r} is unknown; use one of {sorted(_SCHEMES)}"
        )
    v = pd.to_numeric(values, errors="coerce").astype("float64").to_numpy()
    sec = np.zeros(len(v), bool) if secret is None else np.asarray(secret, bool)
    ok = ~np.isnan(v) & ~sec
    index = np.full(len(v), -1, dtype=np.int64)
    index[sec] = -2
    labels: list[str] = []
    colours: list[str] = []
    counts: list[int] = []
    y = v[ok]
    if y.size:
        n_unique = np.unique(y).size
        kk = int(max(1, min(k, n_unique)))
        if kk == 1:
            yb = np.zeros(y.size, dtype=np.int64)
            bins = np.array([y.max()])
        else:
            classifier = getattr(mapclassify, _SCHEMES[key])(y, k=kk)
            yb = np.asarray(classifier.yb, dtype=np.int64)
            bins = np.asarray(classifier.bins, dtype=float)
        # drop empty classes (quantiles with ties) and renumber
        used = np.unique(yb)
        remap = {int(c): i for i, c in enumerate(used)}
        index[ok] = [remap[int(c)] for c in yb]
        lower = float(y.min())
        edges = []
        for c in range(len(bins)):
            lo = lower if c == 0 else float(bins[c - 1])
            edges.append((lo, float(bins[c])))
        edges = [edges[int(c)] for c in used]
        palette = matplotlib.colormaps[cmap]
        m = len(used)
        for i, (lo, hi) in enumerate(edges):
            colours.append(to_hex(palette(0.15 + 0.8 * (i / max(m - 1, 1)))))
            labels.append(f"{format_value(lo, column)} – {format_value(hi, column)}")
            counts.append(int((index == i).sum()))
    return Classes(
        title=title,
        index=index,
        labels=labels,
        colours=colours,
        counts=counts,
        n_missing=int((index == -1).sum()),
        n_secret=int(sec.sum()),
    )


def normalise_lisa(values: pd.Series, /) -> pd.Series:
    """Map LISA labels in any usual spelling (HH, high-high, esda ``q`` codes 1-4,
    0/ns) to the canonical ``high-high``/``low-low``/``high-low``/``low-high``/
    ``not significant``; unknown or missing values become None."""

    def norm(x: object) -> str | None:
        if x is None or (isinstance(x, float) and np.isnan(x)):
            return None
        if isinstance(x, (float, np.floating)) and float(x).is_integer():
            x = int(x)
        return _LISA_ALIASES.get(str(x).strip().lower())

    return values.astype(object).map(norm)


def categorical_classes(
    values: pd.Series,
    /,
    *,
    colours: Mapping[str, str],
    labels: Mapping[str, str] | None = None,
    title: str = "",
    secret: pd.Series | None = None,
) -> Classes:
    """Classes for a categorical column with fixed colours (LISA, confrontation)."""
    cats = list(colours)
    sec = np.zeros(len(values), bool) if secret is None else np.asarray(secret, bool)
    pos = {c: i for i, c in enumerate(cats)}
    idx = np.array([pos.get(v, -1) if isinstance(v, str) else -1 for v in values], dtype=np.int64)
    idx[sec] = -2
    return Classes(
        title=title,
        index=idx,
        labels=[(labels or {}).get(c, c) for c in cats],
        colours=[colours[c] for c in cats],
        counts=[int((idx == i).sum()) for i in range(len(cats))],
        n_missing=int((idx == -1).sum()),
        n_secret=int(sec.sum()),
    )


def legend_html(classes: Classes, /, *, note: str | None = None) -> str:
    """HTML of a legend listing every class (all text escaped here)."""
    rows = [f'<div class="cg-legend-title">{escape_text(classes.title)}</div>']
    for colour, label, n in zip(classes.colours, classes.labels, classes.counts or [None] * len(classes.labels)):
        if n == 0:
            continue
        count = f' <span class="cg-legend-n">({n:,})</span>' if n is not None else ""
        rows.append(
            f'<div class="cg-legend-row"><span class="cg-swatch" style="background:{escape_text(colour)}"></span>'
            f"{escape_text(label)}{count}</div>"
        )
    if classes.n_secret:
        rows.append(
            f'<div class="cg-legend-row"><span class="cg-swatch" style="background:{SECRET_COLOUR}"></span>'
            f"{escape_text(SECRET_TEXT)} <span class=\"cg-legend-n\">({classes.n_secret:,})</span></div>"
        )
    if note:
        rows.append(f'<div class="cg-legend-note">{escape_text(note)}</div>')
    return "".join(rows)
