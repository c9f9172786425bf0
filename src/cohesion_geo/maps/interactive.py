"""Interactive (Leaflet) maps that work offline.

Built on ``offlinefolium`` (PyPI ``folium-offline``), a folium fork that embeds
Leaflet's JavaScript and CSS in the page instead of linking CDNs. We keep only
the assets the maps use (Leaflet, plus Leaflet.Sync for :func:`dual_map`), so a
map is ~170 kB plus its data and opens from a USB stick with no network. No
tile layer is added unless ``tiles=`` is given (that one needs the network).

Every text from user data goes through :func:`cohesion_geo.maps.escape_text`;
every layer goes through :func:`cohesion_geo.maps.mask_secret` (no statistic for
fewer than 11 households) and residents' reports are only ever shown per
200 m cell (:func:`cohesion_geo.maps.aggregate_reports`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import offlinefolium as folium
import pandas as pd
from branca.element import Figure, MacroElement
from offlinefolium.map import CustomPane
from offlinefolium.plugins import DualMap
from offlinefolium.template import Template
from offlinefolium.utilities import JsCode

from .._io import write_text
from ..errors import CohesionGeoError, MissingColumnsError
from ._escape import escape_text
from ._geo import cell_index_raster, colour_png, latlon_bounds, require_crs, to_geojson, to_wgs84
from ._privacy import (
    ID_COLUMNS,
    MIN_REPORTS_BREAKDOWN,
    aggregate_reports,
    mask_secret,
    reports_from_table,
)
from ._style import (
    CONFRONTATION_COLOURS,
    CONFRONTATION_LABELS,
    LISA_COLOURS,
    SECRET_TEXT,
    Classes,
    categorical_classes,
    classify,
    format_value,
    label_for,
    legend_html,
    normalise_lisa,
)

__all__ = [
    "RASTER_THRESHOLD",
    "QUARTIER_CLASS",
    "add_categorical",
    "add_choropleth",
    "add_quartiers",
    "add_residents",
    "dual_map",
    "external_resources",
    "new_map",
    "quartiers_map",
    "render_html",
    "robustness_map",
    "save_map",
]

#: A cell layer with more drawn cells than this becomes a PNG ImageOverlay.
RASTER_THRESHOLD = 10_000
#: CSS class of the quartier polygons (``path.cg-quartier`` in the page).
QUARTIER_CLASS = "cg-quartier"
CELL_PANE = "cgcells"

QUARTIER_COLUMNS = (
    "quartier_id", "name", "ind", "men", "men_pauv", "poverty_rate", "mean_std_living",
    "score", "rank", "n_cells", "communes",
)
DEFAULT_INDICATORS = ("poverty_rate", "mean_std_living")
_CMAPS = {"mean_std_living": "YlGnBu", "median_income": "YlGnBu"}

_CSS = """
.leaflet-container { background: #f4f3ef; }
.leaflet-pane > svg { pointer-events: none; }
.cg-legend, .cg-title { background: rgba(255,255,255,.92); padding: 6px 9px;
  font: 12px/1.35 system-ui, sans-serif; border-radius: 4px;
  box-shadow: 0 1px 5px rgba(0,0,0,.35); max-width: 280px; color: #222; }
.cg-title { font-size: 15px; font-weight: 600; }
.cg-legend-title { font-weight: 600; margin-bottom: 3px; }
.cg-legend-row { white-space: nowrap; }
.cg-legend-n, .cg-legend-note { color: #666; }
.cg-legend-note { font-size: 11px; margin-top: 3px; white-space: normal; }
.cg-swatch { display: inline-block; width: 16px; height: 11px; margin-right: 6px;
  border: 1px solid #888; vertical-align: middle; }
.foliumtooltip table { border-collapse: collapse; }
.foliumtooltip th { text-align: left; padding-right: 8px; font-weight: 600; }
.foliumtooltip td { max-width: 320px; white-space: normal; }
"""


# --------------------------------------------------------------------------- elements
class _Assets(MacroElement):
    """Page CSS for legends and titles (no external resource)."""

    _template = Template(
        "{% macro header(this, kwargs) %}<style>" + _CSS + "</style>{% endmacro %}"
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "CohesionGeoAssets"


class _Legend(MacroElement):
    """A legend control shown while its layer is on the map."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            var map = {{ this._parent.get_name() }};
            var ctl = L.control({position: "bottomright"});
            ctl.onAdd = function() {
                var div = L.DomUtil.create("div", "cg-legend");
                div.innerHTML = {{ this.html|tojson }};
                L.DomEvent.disableClickPropagation(div);
                return div;
            };
            function sync() {
                var on = map.hasLayer({{ this.layer.get_name() }});
                if (on && !ctl._map) { ctl.addTo(map); }
                if (!on && ctl._map) { ctl.remove(); }
            }
            map.on("overlayadd overlayremove", sync);
            map.whenReady(sync);
        })();
        {% endmacro %}
        """
    )

    def __init__(self, layer: folium.FeatureGroup, html: str) -> None:
        super().__init__()
        self._name = "Legend"
        self.layer = layer
        self.html = html  # already escaped by legend_html


class _Title(MacroElement):
    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            var ctl = L.control({position: {{ this.position|tojson }}});
            ctl.onAdd = function() {
                var div = L.DomUtil.create("div", "cg-title");
                div.innerHTML = {{ this.html|tojson }};
                return div;
            };
            ctl.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
        """
    )

    def __init__(self, text: str, position: str = "topleft") -> None:
        super().__init__()
        self._name = "Title"
        self.html = escape_text(text)
        self.position = position


class _RasterOverlay(MacroElement):
    """A non-interactive PNG (data URL) overlay in the cell pane."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.imageOverlay(
            {{ this.url|tojson }}, {{ this.bounds|tojson }},
            {"opacity": 1, "interactive": false, "pane": {{ this.pane|tojson }},
             "className": "cg-raster"}
        ).addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, url: str, bounds: list[list[float]], pane: str = CELL_PANE) -> None:
        super().__init__()
        self._name = "RasterOverlay"
        self.url = url
        self.bounds = bounds
        self.pane = pane


# --------------------------------------------------------------------------- map shell
def _trim_assets(m: folium.Map) -> None:
    """Keep only Leaflet (and Leaflet.Sync): no jQuery/Bootstrap/FontAwesome (~1.3 MB)."""
    m.default_js = [(n, u) for n, u in m.default_js if n == "leaflet"]
    m.default_css = [(n, u) for n, u in m.default_css if n == "leaflet_css"]


def _setup_map(m: folium.Map, *, tiles: str | None, attr: str | None) -> None:
    _trim_assets(m)
    _Assets().add_to(m)
    CustomPane(CELL_PANE, z_index=350, pointer_events=True).add_to(m)
    if tiles:
        folium.TileLayer(
            tiles=tiles,
            attr=attr,
            name=escape_text("Background map (online)"),
            overlay=False,
            control=True,
        ).add_to(m)


def new_map(
    bounds: list[list[float]] | None = None,
    /,
    *,
    tiles: str | None = None,
    attr: str | None = None,
    title: str | None = None,
) -> folium.Map:
    """An empty offline map (no tile layer unless ``tiles``), fitted on ``bounds``.

    Parameters
    ----------
    bounds : [[south, west], [north, east]], optional
        Extent to show (see :func:`cohesion_geo.maps._geo.latlon_bounds`).
    tiles : str, optional
        A folium/xyzservices tile name ("OpenStreetMap", "CartoDB positron")
        or a URL template; needs the network when the map is opened.
    attr : str, optional
        Attribution, required by folium for a custom URL template.
    title : str, optional
        Shown in a box at the top left of the map (escaped).
    """
    fig = Figure(title=escape_text(title or "cohesion-geo map"))
    m = folium.Map(tiles=None, control_scale=True, zoom_start=12, location=[46.6, 2.4])
    fig.add_child(m)
    _setup_map(m, tiles=tiles, attr=attr)
    if bounds is not None:
        m.fit_bounds(bounds, padding=(20, 20))
    if title:
        _Title(title).add_to(m)
    return m


# --------------------------------------------------------------------------- layers
def _tooltip_properties(
    frame: pd.DataFrame, columns: Sequence[str], labels: Mapping[str, str] | None
) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Formatted, escaped tooltip values (keys f0, f1, ...) and escaped aliases."""
    secret = frame["secret"] if "secret" in frame.columns else pd.Series(False, index=frame.index)
    props = {}
    keys, aliases = [], []
    for i, col in enumerate(columns):
        key = f"f{i}"
        values = frame[col].astype(object)
        text = [
            SECRET_TEXT if (sec and col not in ID_COLUMNS) else format_value(v, col)
            for v, sec in zip(values, secret)
        ]
        props[key] = [escape_text(t) for t in text]
        keys.append(key)
        aliases.append(escape_text(label_for(col, labels)))
    return pd.DataFrame(props, index=frame.index), keys, aliases


def _geojson_layer(
    geo: gpd.GeoDataFrame,
    props: pd.DataFrame,
    *,
    keys: list[str],
    aliases: list[str],
    style_js: str,
    class_name: str | None = None,
    pane: str | None = None,
) -> folium.GeoJson:
    data = to_geojson(geo, props)
    options: dict[str, Any] = {"style": JsCode(style_js)}
    if class_name:
        options["className"] = class_name
    if pane:
        options["pane"] = pane
    tooltip = (
        folium.GeoJsonTooltip(fields=keys, aliases=aliases, sticky=True, labels=True)
        if keys and data["features"]
        else None
    )
    return folium.GeoJson(data, tooltip=tooltip, **options)


def add_quartiers(
    m: folium.Map,
    quartiers: gpd.GeoDataFrame,
    /,
    *,
    name: str = "Candidate quartiers",
    columns: Sequence[str] | None = None,
    labels: Mapping[str, str] | None = None,
    colour: str = "#111111",
    fill_opacity: float = 0.06,
    dash: str | None = None,
    show: bool = True,
    simplify: float | None = 1.0,
    precision: int = 5,
    class_name: str = QUARTIER_CLASS,
    tooltip: bool = True,
) -> folium.FeatureGroup:
    """Add quartier polygons with a tooltip (name/id, population, poverty rate, score, rank...).

    ``columns`` defaults to those of ``quartier_id, name, ind, men, men_pauv,
    poverty_rate, mean_std_living, score, rank, n_cells, communes`` present.
    Quartiers with fewer than 11 households show "not published" instead of
    their statistics. Each polygon is an SVG path with CSS class ``class_name``.
    """
    require_crs(quartiers, "quartiers")
    masked = mask_secret(quartiers)
    cols = [c for c in QUARTIER_COLUMNS if c in masked.columns] if columns is None else list(columns)
    missing = [c for c in cols if c not in masked.columns]
    if missing:
        raise MissingColumnsError(f"quartiers: tooltip columns {missing} are missing")
    geo = to_wgs84(masked, simplify=simplify, precision=precision)
    props, keys, aliases = _tooltip_properties(geo, cols, labels) if tooltip else (
        pd.DataFrame(index=geo.index), [], [])
    dash_js = f', dashArray: "{escape_text(dash)}"' if dash else ""
    style = (
        "function(f) { return {color: %s, weight: 2.5, opacity: 0.95, fillColor: %s, "
        "fillOpacity: %s%s}; }"
        % (_js_str(colour), _js_str(colour), float(fill_opacity), dash_js)
    )
    fg = folium.FeatureGroup(name=escape_text(name), show=show)
    _geojson_layer(geo, props, keys=keys, aliases=aliases, style_js=style,
                   class_name=class_name).add_to(fg)
    fg.add_to(m)
    return fg


def _js_str(text: str) -> str:
    """A JavaScript string literal for a colour or CSS value (escaped)."""
    return '"' + escape_text(text) + '"'


class _CellData(MacroElement):
    """Cell geometry embedded once per map and shared by every cell layer.

    ``var cg_cells_<id> = {"geo": FeatureCollection (ids 0..n-1, no
    properties), "ids": [escaped cell ids]}``.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = {{ this.payload|tojson }};
        {% endmacro %}
        """
    )

    def __init__(self, geo: gpd.GeoDataFrame, ids: list[str]) -> None:
        super().__init__()
        self._name = "cg_cells"
        fc = to_geojson(geo, pd.DataFrame(index=geo.index))
        for i, f in enumerate(fc["features"]):
            f["id"] = i
        self.payload = {"geo": fc, "ids": [escape_text(v) for v in ids]}


class _CellLayer(MacroElement):
    """One classed cell layer drawn from a shared :class:`_CellData`, built lazily.

    Its Leaflet layers are only created the first time the layer is switched
    on, so hidden layers cost nothing at opening. Per layer the page holds a
    class code per cell, the palette and the (escaped) tooltip values.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = {{ this.payload|tojson }};
        (function() {
            var fg = {{ this._parent.get_name() }}, D = {{ this.data.get_name() }};
            var S = {{ this.get_name() }}, C = S.codes, P = S.palette, T = S.tips;
            var built = false;
            function build() {
                if (built) { return; }
                built = true;
                var gj = L.geoJson(D.geo, {
                    pane: S.pane,
                    className: "cg-cell",
                    filter: function(f) { return C[f.id] >= 0; },
                    style: function(f) {
                        return {fillColor: P[C[f.id]], fillOpacity: 0.75, color: "#555",
                                weight: 0.3, opacity: 0.5};
                    }
                });
                gj.bindTooltip(function(l) {
                    var i = l.feature.id;
                    var h = "<table><tr><th>" + S.id_label + "</th><td>" + D.ids[i] + "</td></tr>";
                    for (var k = 0; k < T.length; k++) {
                        h += "<tr><th>" + T[k][0] + "</th><td>" + T[k][1][i] + "</td></tr>";
                    }
                    return h + "</table>";
                }, {sticky: true, className: "foliumtooltip"});
                gj.addTo(fg);
            }
            fg.on("add", build);
            if (fg._map) { build(); }
        })();
        {% endmacro %}
        """
    )

    def __init__(self, data: _CellData, payload: dict) -> None:
        super().__init__()
        self._name = "cg_layer"
        self.data = data
        self.payload = payload


class _Cells:
    """Cells prepared once for all the layers of one map.

    Holds the frame (masked when ``mask``) in its own CRS, and builds on
    demand the WGS84 shared data element and the raster index.
    """

    def __init__(self, frame: gpd.GeoDataFrame, *, precision: int, mask: bool = True,
                 labels: Mapping[str, str] | None = None) -> None:
        frame = frame[~frame.geometry.is_empty & frame.geometry.notna()]
        self.frame = mask_secret(frame) if mask else frame.assign(secret=False)
        self.precision = precision
        self.id_label = escape_text(label_for("cell_id", labels))
        self._data: dict[int, _CellData] = {}
        self._raster: tuple[np.ndarray, list[list[float]]] | None = None

    def __len__(self) -> int:
        return len(self.frame)

    def ids(self) -> list[str]:
        if "cell_id" in self.frame.columns:
            return [format_value(v) for v in self.frame["cell_id"]]
        return [str(i) for i in self.frame.index]

    def data(self, m: folium.Map) -> _CellData:
        key = id(m)
        if key not in self._data:
            geo = to_wgs84(self.frame, precision=self.precision)
            el = _CellData(geo, self.ids())
            el.add_to(m)
            self._data[key] = el
        return self._data[key]

    def raster(self) -> tuple[np.ndarray, list[list[float]]]:
        if self._raster is None:
            self._raster = cell_index_raster(self.frame)
        return self._raster


def _add_classes_layer(
    m: folium.Map,
    cells: _Cells,
    classes: Classes,
    /,
    *,
    name: str,
    tooltip: Callable[[], Mapping[str, Sequence[str]]],
    show: bool,
    raster_threshold: int,
    note: str | None = None,
) -> folium.FeatureGroup:
    """Draw ``cells`` coloured by ``classes``; a PNG overlay past the threshold.

    ``tooltip()`` returns {label: per-row plain strings}; it is only called
    for a vector layer, and everything it returns is escaped here.
    """
    colours = classes.row_colours()
    n = sum(c is not None for c in colours)
    raster = n > raster_threshold
    layer_name = f"{name} (raster image: {n:,} cells, no tooltip)" if raster else name
    fg = folium.FeatureGroup(name=escape_text(layer_name), show=show)
    if n and raster:
        index, bounds = cells.raster()
        _RasterOverlay(colour_png(index, colours), bounds).add_to(fg)
    elif n:
        data = cells.data(m)
        palette = sorted({c for c in colours if c is not None})
        pos = {c: i for i, c in enumerate(palette)}
        payload = {
            "pane": CELL_PANE,
            "id_label": cells.id_label,
            "codes": [pos[c] if c is not None else -1 for c in colours],
            "palette": palette,
            "tips": [[escape_text(label), [escape_text(v) for v in values]]
                     for label, values in tooltip().items()],
        }
        _CellLayer(data, payload).add_to(fg)
    fg.add_to(m)
    _Legend(fg, legend_html(classes, note=note)).add_to(m)
    return fg


def _as_cells(cells: gpd.GeoDataFrame | _Cells, precision: int, labels: Mapping[str, str] | None) -> _Cells:
    if isinstance(cells, _Cells):
        return cells
    require_crs(cells, "cells")
    return _Cells(cells, precision=precision, labels=labels)


def add_choropleth(
    m: folium.Map,
    cells: gpd.GeoDataFrame,
    /,
    column: str,
    *,
    scheme: str = "quantiles",
    k: int = 5,
    cmap: str | None = None,
    labels: Mapping[str, str] | None = None,
    name: str | None = None,
    show: bool = False,
    raster_threshold: int = RASTER_THRESHOLD,
    precision: int = 5,
) -> folium.FeatureGroup:
    """Add a classed choropleth of ``column`` with a legend listing the classes.

    Classes come from mapclassify (``scheme``: quantiles, natural_breaks,
    jenks_caspall, equal_interval, std_mean) computed on published values
    only: units under statistical secrecy are drawn grey, "not published".
    """
    prepared = _as_cells(cells, precision, labels)
    geo = prepared.frame
    if column not in geo.columns:
        raise MissingColumnsError(f"cells: column {column!r} is missing for the choropleth")
    label = label_for(column, labels)
    classes = classify(
        geo[column], scheme=scheme, k=k, cmap=cmap or _CMAPS.get(column, "YlOrRd"),
        title=label, secret=geo["secret"], column=column,
    )

    def tip() -> dict[str, list[str]]:
        return {label: [SECRET_TEXT if s else format_value(v, column)
                        for v, s in zip(geo[column], geo["secret"])]}

    scheme_txt = scheme.replace("_", " ")
    return _add_classes_layer(
        m, prepared, classes, name=name or f"{label} ({scheme_txt})", tooltip=tip,
        show=show, raster_threshold=raster_threshold, note=f"Classes: {scheme_txt}, k={k}",
    )


def add_categorical(
    m: folium.Map,
    cells: gpd.GeoDataFrame,
    /,
    column: str,
    *,
    kind: str,
    labels: Mapping[str, str] | None = None,
    name: str | None = None,
    show: bool = False,
    raster_threshold: int = RASTER_THRESHOLD,
    precision: int = 5,
) -> folium.FeatureGroup:
    """Add a categorical layer: ``kind="lisa"`` (high-high, low-low, high-low,
    low-high, not significant) or ``kind="confrontation"`` (both,
    statistics_only, residents_only, neither), with fixed colours."""
    prepared = _as_cells(cells, precision, labels)
    geo = prepared.frame
    if column not in geo.columns:
        raise MissingColumnsError(f"cells: column {column!r} is missing for the {kind} layer")
    if kind == "lisa":
        values = normalise_lisa(geo[column])
        colours, cat_labels = LISA_COLOURS, None
        default_name = "LISA clusters"
    elif kind == "confrontation":
        values = geo[column].astype(object).map(lambda v: v if isinstance(v, str) else None)
        colours, cat_labels = CONFRONTATION_COLOURS, CONFRONTATION_LABELS
        default_name = "Statistics vs residents"
    else:
        raise CohesionGeoError(f"kind {kind!r} is unknown; use 'lisa' or 'confrontation'")
    label = label_for(column, labels)
    classes = categorical_classes(values, colours=colours, labels=cat_labels, title=label,
                                  secret=geo["secret"])
    def tip() -> dict[str, list[str]]:
        return {label: [
            SECRET_TEXT if s else (cat_labels or {}).get(v, v) if isinstance(v, str) else format_value(None)
            for v, s in zip(values, geo["secret"])
        ]}

    return _add_classes_layer(
        m, prepared, classes, name=name or default_name, tooltip=tip,
        show=show, raster_threshold=raster_threshold,
    )


_REPORT_BINS = [(1, 1), (2, 4), (5, 9), (10, 19), (20, None)]
_REPORT_COLOURS = ["#deebf7", "#9ecae1", "#6baed6", "#3182bd", "#08519c"]


def add_residents(
    m: folium.Map,
    reports_per_cell: pd.DataFrame,
    /,
    *,
    cells: gpd.GeoDataFrame | None = None,
    labels: Mapping[str, str] | None = None,
    name: str = "Residents' reports (per 200 m cell)",
    show: bool = False,
    comments: int = 0,
    raster_threshold: int = RASTER_THRESHOLD,
    precision: int = 5,
) -> folium.FeatureGroup:
    """Add the residents' layer: report counts per 200 m cell, never single reports.

    ``reports_per_cell`` is one of: the output of
    :func:`~cohesion_geo.maps.aggregate_reports` (has ``reports_count``); the
    per-cell table of :func:`cohesion_geo.indicators.residents.cell_reports`
    (``reports_n``, ``reports_<category>``, aligned on ``cells``, which gives
    the geometry); or the raw report points (``category``), aggregated here. The breakdown by
    category (and up to ``comments`` comments, 0 by default) is shown only in
    cells with at least 5 reports.
    """
    if "reports_n" in reports_per_cell.columns and "reports_count" not in reports_per_cell.columns:
        if cells is None:
            if not isinstance(reports_per_cell, gpd.GeoDataFrame):
                raise MissingColumnsError(
                    "reports_per_cell: a table of per-cell counts (reports_n) needs cells= for geometry"
                )
            cells = reports_per_cell
        require_crs(cells, "cells")
        agg = reports_from_table(reports_per_cell, cells)
    elif "reports_count" in reports_per_cell.columns:
        require_crs(reports_per_cell, "reports_per_cell")
        agg = reports_per_cell
    else:
        require_crs(reports_per_cell, "reports_per_cell")
        agg = aggregate_reports(reports_per_cell, comments=comments)
    prepared = _Cells(agg, precision=precision, mask=False, labels=labels)
    geo = prepared.frame
    counts = pd.to_numeric(geo["reports_count"], errors="coerce").fillna(0).to_numpy()
    idx = np.full(len(geo), -1, dtype=np.int64)
    for i, (lo, hi) in enumerate(_REPORT_BINS):
        idx[(counts >= lo) & ((counts <= hi) if hi is not None else True)] = i
    bin_labels = [f"{lo}" if lo == hi else (f"{lo}–{hi}" if hi else f"{lo} or more") for lo, hi in _REPORT_BINS]
    classes = Classes(
        title=label_for("reports_count", labels), index=idx, labels=bin_labels,
        colours=list(_REPORT_COLOURS), counts=[int((idx == i).sum()) for i in range(len(_REPORT_BINS))],
    )
    hidden = f"hidden (< {MIN_REPORTS_BREAKDOWN} reports)"

    def tip() -> dict[str, list[str]]:
        out: dict[str, list[str]] = {
            label_for("reports_count", labels): [format_value(v, "reports_count") for v in geo["reports_count"]],
            label_for("reports_breakdown", labels): [
                v if isinstance(v, str) else hidden for v in geo.get("reports_breakdown", [None] * len(geo))
            ],
        }
        if comments and "reports_comments" in geo.columns and geo["reports_comments"].notna().any():
            out[label_for("reports_comments", labels)] = [
                v if isinstance(v, str) else (hidden if n < MIN_REPORTS_BREAKDOWN else "none")
                for v, n in zip(geo["reports_comments"], counts)
            ]
        return out

    return _add_classes_layer(
        m, prepared, classes, name=name, tooltip=tip, show=show, raster_threshold=raster_threshold,
        note=f"Aggregated per 200 m cell; categories hidden under {MIN_REPORTS_BREAKDOWN} reports.",
    )


# --------------------------------------------------------------------------- public maps
def _bounds_of(*frames: gpd.GeoDataFrame | None) -> list[list[float]] | None:
    boxes = [latlon_bounds(f) for f in frames if f is not None and len(f)]
    if not boxes:
        return None
    return [
        [min(b[0][0] for b in boxes), min(b[0][1] for b in boxes)],
        [max(b[1][0] for b in boxes), max(b[1][1] for b in boxes)],
    ]


def quartiers_map(
    quartiers: gpd.GeoDataFrame,
    /,
    *,
    cells: gpd.GeoDataFrame | None = None,
    reports_per_cell: pd.DataFrame | None = None,
    indicators: Sequence[str] | None = None,
    scheme: str = "quantiles",
    k: int = 5,
    tiles: str | None = None,
    attr: str | None = None,
    title: str | None = None,
    labels: Mapping[str, str] | None = None,
    tooltip_columns: Sequence[str] | None = None,
    comments: int = 0,
    raster_threshold: int = RASTER_THRESHOLD,
    precision: int = 5,
    simplify: float | None = 1.0,
) -> folium.Map:
    """The council map: candidate quartiers over the layers that explain them.

    Layers (all in a layer control; only the first choropleth and the
    quartiers are on at opening):

    * one classed choropleth per indicator of ``cells`` (default:
      ``poverty_rate`` and ``mean_std_living`` when present);
    * ``LISA clusters`` when ``cells`` has ``lisa_cluster``;
    * ``Statistics vs residents`` when ``cells`` has ``confrontation``;
    * ``Residents' reports`` from ``reports_per_cell`` (aggregated per cell);
    * ``Candidate quartiers`` on top, with tooltips.

    Units with fewer than 11 households are "not published" everywhere. A
    cell layer with more than ``raster_threshold`` drawn cells becomes a PNG
    overlay (layer name says "raster image").

    Parameters
    ----------
    quartiers : GeoDataFrame
        One polygon per candidate (``delineate(...).quartiers``), any CRS.
    cells : GeoDataFrame, optional
        Grid cells with indicator columns, ``lisa_cluster``, ``confrontation``.
    reports_per_cell : (Geo)DataFrame, optional
        Report points, :func:`aggregate_reports` output, or
        ``indicators.residents.cell_reports(cells, reports)`` (aligned on
        ``cells``). When omitted and ``cells`` has ``reports_n``, that is used.
    indicators : list of str, optional
        Cell columns to map as choropleths.
    scheme, k : classification (mapclassify) of the choropleths.
    tiles, attr : optional online background (see :func:`new_map`).
    comments : int
        Up to this many residents' comments per cell (cells with 5+ reports).

    Examples
    --------
    >>> from cohesion_geo.maps import quartiers_map, save_map   # doctest: +SKIP
    >>> m = quartiers_map(result.quartiers, cells=grid)          # doctest: +SKIP
    >>> save_map(m, "out/map.html")                              # doctest: +SKIP
    """
    require_crs(quartiers, "quartiers")
    m = new_map(_bounds_of(quartiers, cells), tiles=tiles, attr=attr, title=title)
    if cells is not None:
        prepared = _as_cells(cells, precision, labels)
        cols = prepared.frame.columns
        inds = [c for c in DEFAULT_INDICATORS if c in cols] if indicators is None else list(indicators)
        for i, col in enumerate(inds):
            add_choropleth(m, prepared, col, scheme=scheme, k=k, labels=labels, show=(i == 0),
                           raster_threshold=raster_threshold)
        if "lisa_cluster" in cols:
            add_categorical(m, prepared, "lisa_cluster", kind="lisa", labels=labels,
                            raster_threshold=raster_threshold)
        if "confrontation" in cols:
            add_categorical(m, prepared, "confrontation", kind="confrontation", labels=labels,
                            raster_threshold=raster_threshold)
    if reports_per_cell is None and cells is not None and "reports_n" in cells.columns:
        reports_per_cell = cells  # the grid carries cell_reports() columns
    if reports_per_cell is not None:
        add_residents(m, reports_per_cell, cells=cells, labels=labels, comments=comments,
                      raster_threshold=raster_threshold, precision=precision)
    add_quartiers(m, quartiers, columns=tooltip_columns, labels=labels,
                  simplify=simplify, precision=precision)
    folium.LayerControl(collapsed=False).add_to(m)
    return m


def robustness_map(
    cells_share: gpd.GeoDataFrame,
    /,
    *,
    column: str = "share",
    n_scenarios: int | None = None,
    quartiers: gpd.GeoDataFrame | None = None,
    title: str | None = "Robustness: share of scenarios including each cell",
    tiles: str | None = None,
    attr: str | None = None,
    labels: Mapping[str, str] | None = None,
    raster_threshold: int = RASTER_THRESHOLD,
    precision: int = 5,
) -> folium.Map:
    """Map, for each cell, the share of scenarios that put it in a priority quartier.

    ``cells_share[column]`` is a share in [0, 1]; cells at 0 are not drawn.
    With ``n_scenarios`` the classes are "k of n scenarios" (k = 1..n), else
    quarters (0-25 %, ..., 100 %). ``quartiers`` (e.g. those every scenario
    keeps) are outlined on top. Membership of a scenario perimeter is not a
    household statistic, so no secrecy mask applies to the share.
    """
    require_crs(cells_share, "cells_share")
    if column not in cells_share.columns:
        raise MissingColumnsError(f"cells_share: column {column!r} is missing")
    m = new_map(_bounds_of(cells_share, quartiers), tiles=tiles, attr=attr, title=title)
    prepared = _Cells(cells_share, precision=precision, mask=False, labels=labels)
    share = pd.to_numeric(prepared.frame[column], errors="coerce").fillna(0).to_numpy()
    if n_scenarios:
        ks = np.rint(share * n_scenarios).astype(int)
        idx = np.where(ks > 0, ks - 1, -1)
        cls_labels = [f"{j} of {n_scenarios} scenarios" for j in range(1, n_scenarios + 1)]
    else:
        edges = [(0, 0.25), (0.25, 0.5), (0.5, 0.75), (0.75, 1.0)]
        idx = np.full(len(share), -1)
        for i, (lo, hi) in enumerate(edges):
            idx[(share > lo) & (share <= hi) & (share < 1)] = i
        idx[share >= 1] = len(edges)
        cls_labels = ["up to 25 %", "25–50 %", "50–75 %", "75–99 %", "all scenarios (100 %)"]
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    n_cls = len(cls_labels)
    pal = [to_hex(colormaps["Purples"](0.25 + 0.7 * i / max(n_cls - 1, 1))) for i in range(n_cls)]
    classes = Classes(title=label_for(column, labels), index=idx, labels=cls_labels, colours=pal,
                      counts=[int((idx == i).sum()) for i in range(n_cls)])
    def tip() -> dict[str, list[str]]:
        return {label_for(column, labels): [format_value(v, "share") for v in share]}

    _add_classes_layer(m, prepared, classes, name="Robustness across scenarios", tooltip=tip, show=True,
                       raster_threshold=raster_threshold)
    if quartiers is not None and len(quartiers):
        add_quartiers(m, quartiers, name="Quartiers kept by every scenario", labels=labels,
                      fill_opacity=0.0, precision=precision)
    folium.LayerControl(collapsed=False).add_to(m)
    return m


def dual_map(
    left: gpd.GeoDataFrame,
    right: gpd.GeoDataFrame,
    /,
    *,
    left_title: str = "Scenario A",
    right_title: str = "Scenario B",
    left_cells: gpd.GeoDataFrame | None = None,
    right_cells: gpd.GeoDataFrame | None = None,
    column: str | None = None,
    scheme: str = "quantiles",
    k: int = 5,
    show_other: bool = True,
    tiles: str | None = None,
    attr: str | None = None,
    labels: Mapping[str, str] | None = None,
    tooltip_columns: Sequence[str] | None = None,
    raster_threshold: int = RASTER_THRESHOLD,
    precision: int = 5,
) -> DualMap:
    """Two synchronised maps side by side (Leaflet.Sync) to compare two scenarios.

    ``left``/``right`` are the quartiers of each scenario. With ``show_other``
    each side also outlines the other scenario's quartiers in dashed grey, so
    entering/leaving areas stand out. ``column`` draws a choropleth of
    ``left_cells``/``right_cells`` under each side (e.g. two data vintages).
    Panning or zooming one map moves the other.
    """
    require_crs(left, "left")
    require_crs(right, "right")
    bounds = _bounds_of(left, right, left_cells, right_cells)
    dm = DualMap(location=[46.6, 2.4], tiles=None, zoom_start=12, control_scale=True)
    dm.get_root().title = escape_text(f"{left_title} | {right_title}")
    sides = ((dm.m1, left, right, left_title, right_title, left_cells),
             (dm.m2, right, left, right_title, left_title, right_cells))
    for m, mine, other, title, other_title, cells in sides:
        _setup_map(m, tiles=tiles, attr=attr)
        if bounds is not None:
            m.fit_bounds(bounds)
        if cells is not None and column is not None:
            add_choropleth(m, cells, column, scheme=scheme, k=k, labels=labels, show=True,
                           raster_threshold=raster_threshold, precision=precision)
        if show_other and len(other):
            add_quartiers(m, other, name=f"{other_title} (dashed outline)", colour="#555555",
                          fill_opacity=0.0, dash="6 4", tooltip=False, precision=precision,
                          class_name="cg-quartier-other")
        add_quartiers(m, mine, name=title, labels=labels, columns=tooltip_columns,
                      precision=precision)
        _Title(title).add_to(m)
        folium.LayerControl(collapsed=False).add_to(m)
    return dm


# --------------------------------------------------------------------------- output
_EXTERNAL_PATTERNS = [
    re.compile(r"<script\b[^>]*\bsrc\s*=\s*[\"']?\s*((?:https?:)?//[^\"'\s>]+)", re.I),
    re.compile(r"<link\b[^>]*\bhref\s*=\s*[\"']?\s*((?:https?:)?//[^\"'\s>]+)", re.I),
    re.compile(r"<(?:img|iframe|embed|source)\b[^>]*\bsrc\s*=\s*[\"']?\s*((?:https?:)?//[^\"'\s>]+)", re.I),
    re.compile(r"@import\s+(?:url\()?\s*[\"']?\s*((?:https?:)?//[^\"')\s;]+)", re.I),
]


def external_resources(html: str, /) -> list[str]:
    """URLs of scripts, styles, images or CSS imports that ``html`` would fetch.

    Tile URL templates inside JavaScript (an opt-in online background) are not
    reported: they are not needed for the map to work.

    >>> external_resources('<script src="https://cdn.x/leaflet.js"></script><p>ok</p>')
    ['https://cdn.x/leaflet.js']
    """
    found: list[str] = []
    for pat in _EXTERNAL_PATTERNS:
        found.extend(pat.findall(html))
    return found


def render_html(m: folium.Map | DualMap, /) -> str:
    """The complete, self-contained HTML page of a map (to embed or save)."""
    return m.get_root().render()


def save_map(
    m: folium.Map | DualMap,
    path: str | os.PathLike,
    /,
    *,
    check_offline: bool = True,
) -> Path:
    """Write ``m`` as one self-contained HTML file, atomically.

    With ``check_offline`` (default) the page is refused
    (:class:`~cohesion_geo.errors.CohesionGeoError`) when it would load a
    script, stylesheet or image from the network.

    Returns the path written.
    """
    html = render_html(m)
    if check_offline:
        urls = external_resources(html)
        if urls:
            raise CohesionGeoError(
                f"{path}: the map would load {len(urls)} external resource(s), e.g. {urls[:3]}; "
                "it would not work offline"
            )
    return write_text(html, path)
