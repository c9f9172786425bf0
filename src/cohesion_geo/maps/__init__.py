"""Maps for councils, analysts and print: offline Leaflet maps and static PNGs.

Public API (see docs/maps.md):

* :func:`quartiers_map` -- candidate quartiers over indicator choropleths, LISA
  clusters, residents' reports and the statistics-vs-residents layer;
* :func:`dual_map` -- two synchronised maps to compare scenarios or vintages;
* :func:`robustness_map` -- share of scenarios including each cell;
* :func:`save_map` / :func:`render_html` -- self-contained HTML, checked offline;
* :func:`static_map` -- the same layers as PNG for print (matplotlib, Agg);
* building blocks: :func:`new_map`, :func:`add_quartiers`, :func:`add_choropleth`,
  :func:`add_categorical`, :func:`add_residents`;
* privacy and safety helpers: :func:`escape_text`, :func:`mask_secret`,
  :func:`aggregate_reports`.
"""

from ._escape import escape_frame, escape_text
from ._privacy import (
    MIN_HOUSEHOLDS,
    MIN_REPORTS_BREAKDOWN,
    aggregate_reports,
    mask_secret,
    reports_from_table,
    secret_mask,
)
from ._style import CONFRONTATION_COLOURS, LISA_COLOURS, classify, normalise_lisa
from .static import static_map
from .interactive import (
    QUARTIER_CLASS,
    RASTER_THRESHOLD,
    add_categorical,
    add_choropleth,
    add_quartiers,
    add_residents,
    dual_map,
    external_resources,
    new_map,
    quartiers_map,
    render_html,
    robustness_map,
    save_map,
)

__all__ = [
    "CONFRONTATION_COLOURS",
    "LISA_COLOURS",
    "MIN_HOUSEHOLDS",
    "MIN_REPORTS_BREAKDOWN",
    "QUARTIER_CLASS",
    "RASTER_THRESHOLD",
    "add_categorical",
    "add_choropleth",
    "add_quartiers",
    "add_residents",
    "aggregate_reports",
    "classify",
    "dual_map",
    "escape_frame",
    "escape_text",
    "external_resources",
    "mask_secret",
    "new_map",
    "normalise_lisa",
    "quartiers_map",
    "render_html",
    "reports_from_table",
    "robustness_map",
    "save_map",
    "secret_mask",
    "static_map",
]
