"""Maps without a browser: escaping, secrecy, report aggregation, classes, offline HTML, PNGs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from _mapdata import SIZE, X0, XSS, Y0, make_cells, make_quartiers, make_reports
from PIL import Image

from cohesion_geo.errors import CohesionGeoError, CRSError, MissingColumnsError
from cohesion_geo.maps import (
    aggregate_reports,
    classify,
    dual_map,
    escape_frame,
    escape_text,
    external_resources,
    mask_secret,
    normalise_lisa,
    quartiers_map,
    render_html,
    reports_from_table,
    robustness_map,
    save_map,
    static_map,
)
from cohesion_geo.maps._geo import rasterize_colours, to_wgs84


def _features(html: str) -> list[dict]:
    """Every GeoJSON feature of the folium layers (the quartiers) of a page."""
    out = []
    for m in re.finditer(r"_add\((\{\"features\": .*?\})\);\n", html):
        out.extend(json.loads(m.group(1))["features"])
    return out


def _cell_layers(html: str) -> list[tuple[dict, dict]]:
    """(layer payload, shared cell data) of every vector cell layer of a page."""
    data = {m.group(1): json.loads(m.group(2)) for m in re.finditer(r"var (cg_cells_\w+) = (\{.*?\});\n", html)}
    out = []
    for m in re.finditer(r"var (cg_layer_\w+) = (\{.*?\});\n", html):
        ref = re.search(r"D = (cg_cells_\w+)", html[m.end():]).group(1)
        out.append((json.loads(m.group(2)), data[ref]))
    return out


# ----------------------------------------------------------------- escaping
def test_escape_text_neutralises_markup_and_quotes() -> None:
    assert escape_text(XSS[0]) == "&lt;script&gt;window.__xss=1&lt;/script&gt;"
    assert escape_text(XSS[1]) == "&lt;img src=x onerror=&quot;window.__xss=1&quot;&gt;"
    assert escape_text(XSS[2]) == "&quot; onmouseover=&quot;window.__xss=1"
    assert escape_text("it's") == "it&#x27;s"
    assert escape_text(None) == "" and escape_text(float("nan")) == "" and escape_text(pd.NA) == ""
    assert escape_text(12) == "12"


def test_escape_frame_escapes_text_columns_and_names_only() -> None:
    df = pd.DataFrame({"name": ["<b>x</b>"], "<i>": ["&"], "n": [3]})
    out = escape_frame(df)
    assert list(out.columns) == ["name", "&lt;i&gt;", "n"]
    assert out.iloc[0].tolist() == ["&lt;b&gt;x&lt;/b&gt;", "&amp;", 3]
    assert df.iloc[0, 0] == "<b>x</b>"  # input untouched


# ----------------------------------------------------------------- secrecy
def test_mask_secret_blanks_every_statistic_of_small_units() -> None:
    cells = make_cells()
    out = mask_secret(cells)
    secret = cells["men"] < 11
    assert secret.sum() == 17 and out["secret"].sum() == 17
    for col in ("ind", "men", "men_pauv", "poverty_rate", "mean_std_living"):
        assert out.loc[secret, col].isna().all()
        assert out.loc[~secret, col].equals(cells.loc[~secret, col].astype("float64"))
    assert out.loc[secret, "lisa_cluster"].isna().all()
    assert out.loc[secret, "confrontation"].isna().all()
    assert out["cell_id"].equals(cells["cell_id"])
    assert cells["men"].notna().all()  # input untouched


def test_mask_secret_falls_back_on_imputed_flag() -> None:
    df = pd.DataFrame({"cell_id": ["a", "b"], "imputed": [True, False], "poverty_rate": [0.4, 0.1]})
    out = mask_secret(df)
    assert out["poverty_rate"].isna().tolist() == [True, False]


def test_secret_values_never_reach_the_html() -> None:
    cells = make_cells()
    # a unique, recognisable value in a secret cell (5 households)
    i = int(np.flatnonzero(cells["men"] < 11)[0])
    cells.loc[i, "poverty_rate"] = 0.987654
    cells.loc[i, "mean_std_living"] = 98765.0
    q = make_quartiers()
    q.loc[2, "men"] = 7.0  # a quartier under the floor too
    q.loc[2, "poverty_rate"] = 0.876543
    html = render_html(quartiers_map(q, cells=cells))
    assert "98.8 %" not in html and "98,765" not in html and "0.987654" not in html
    assert "87.7 %" not in html
    layers = _cell_layers(html)
    assert len(layers) == 4  # 2 choropleths, LISA, confrontation
    for layer, _ in layers:
        values = layer["tips"][0][1]
        assert values[i] == "not published (&lt; 11 households)"
        assert sum(v == "not published (&lt; 11 households)" for v in values) == 17
    feats = _features(html)
    quartier_tips = [f for f in feats if f["properties"].get("f0") == "Q3"]
    assert quartier_tips and quartier_tips[0]["properties"]["f5"] == "not published (&lt; 11 households)"


# ----------------------------------------------------------------- residents
def test_aggregate_reports_counts_per_cell_and_hides_small_breakdowns() -> None:
    agg = aggregate_reports(make_reports(), comments=2)
    assert agg.crs.to_epsg() == 3035
    by_id = agg.set_index("cell_id")
    assert by_id["reports_count"].to_dict() == {
        f"CRS3035RES200mN{Y0}E{X0}": 6,
        f"CRS3035RES200mN{Y0 + 5 * SIZE}E{X0 + 5 * SIZE}": 2,
        f"CRS3035RES200mN{Y0 + 9 * SIZE}E{X0 + 11 * SIZE}": 1,
    }
    big = by_id.loc[f"CRS3035RES200mN{Y0}E{X0}"]
    assert big["reports_breakdown"] == "housing: 4; safety: 2"
    assert big["n_housing"] == 4 and big["n_safety"] == 2
    assert big["reports_comments"] == "comment 0 | comment 1"
    small = by_id.loc[f"CRS3035RES200mN{Y0 + 5 * SIZE}E{X0 + 5 * SIZE}"]
    assert pd.isna(small["reports_breakdown"]) and pd.isna(small["reports_comments"])
    assert np.isnan(small["n_transport"])
    # geometry is the whole 200 m cell, never a point
    assert np.allclose(agg.geometry.area, SIZE * SIZE)
    assert agg.geometry.apply(lambda g: g.equals(shapely.box(*g.bounds))).all()


def test_aggregate_reports_cell_ids_name_the_grid_crs() -> None:
    agg = aggregate_reports(make_reports(), grid_crs=2154, cell_size=1000)
    assert agg.crs.to_epsg() == 2154 and len(agg)
    assert agg["cell_id"].str.startswith("CRS2154RES1000mN").all()
    x0, y0 = agg.geometry.bounds[["minx", "miny"]].to_numpy()[0]
    assert agg["cell_id"].iloc[0] == f"CRS2154RES1000mN{y0:.0f}E{x0:.0f}"


def test_report_positions_never_reach_the_html() -> None:
    reports = make_reports()
    html = render_html(quartiers_map(make_quartiers(), cells=make_cells(), reports_per_cell=reports))
    ll = reports.to_crs(4326)
    for pt in ll.geometry:
        assert f"[{pt.x:.6f}, {pt.y:.6f}]" not in html
    (layer, data), = [ld for ld in _cell_layers(html) if "reports" in ld[0]["tips"][0][0]]
    assert layer["tips"][0][1] == ["6", "2", "1"]
    assert layer["tips"][1][1] == ["housing: 4; safety: 2", "hidden (&lt; 5 reports)", "hidden (&lt; 5 reports)"]
    # every vertex drawn for the residents is a corner of the 200 m LAEA grid
    pts = [pt for f in data["geo"]["features"] for pt in f["geometry"]["coordinates"][0]]
    xy = gpd.GeoSeries(gpd.points_from_xy(*zip(*pts)), crs=4326).to_crs(3035)
    assert np.abs((xy.x + SIZE / 2) % SIZE - SIZE / 2).max() < 1.5  # 5 decimals: ~1 m
    assert np.abs((xy.y + SIZE / 2) % SIZE - SIZE / 2).max() < 1.5  # 5 decimals: ~1 m


def test_reports_from_cell_reports_table() -> None:
    from cohesion_geo.indicators.residents import cell_reports

    cells = make_cells()
    table = cell_reports(cells, make_reports())
    agg = reports_from_table(table, cells)
    assert agg["reports_count"].tolist() == [6, 2, 1]
    assert agg["reports_breakdown"].iloc[0] == "housing: 4; safety: 2"
    assert agg["reports_breakdown"].iloc[1:].isna().all()
    assert agg.geometry.iloc[0].equals(cells.geometry.iloc[0])
    # the same layer is built when the grid carries the columns itself
    html = render_html(quartiers_map(make_quartiers(), cells=cells.join(table)))
    assert "reports (per 200 m cell)" in html


# ----------------------------------------------------------------- classes
def test_classify_quantiles_and_natural_breaks() -> None:
    s = pd.Series(np.arange(1.0, 11.0))
    c = classify(s, scheme="quantiles", k=5)
    assert c.counts == [2, 2, 2, 2, 2]
    assert c.labels[0] == "1 – 2.8" and c.labels[-1] == "8.2 – 10"
    assert len(set(c.colours)) == 5
    nb = classify(pd.Series([1, 1, 2, 2, 10, 11, 30, 31.0]), scheme="natural_breaks", k=3)
    assert nb.counts == [4, 2, 2]
    sec = classify(s, k=2, secret=s > 8)
    assert sec.index[-2:].tolist() == [-2, -2] and sum(sec.counts) == 8 and sec.n_secret == 2
    with pytest.raises(CohesionGeoError, match="scheme"):
        classify(s, scheme="magic")


def test_normalise_lisa_accepts_usual_spellings() -> None:
    s = pd.Series(["HH", "low-low", "HL", 2, 0, None, "isolated", "what"])
    out = normalise_lisa(s)
    assert out.fillna("?").tolist() == [
        "high-high", "low-low", "high-low", "low-high", "not significant", "?", "isolated", "?"
    ]


# ----------------------------------------------------------------- interactive maps
def test_quartiers_map_layers_and_escaping() -> None:
    q = make_quartiers(names=XSS)
    html = render_html(quartiers_map(q, cells=make_cells(), reports_per_cell=make_reports(
        comments=XSS * 3, categories=XSS * 2), comments=3, title=XSS[1]))
    for raw in XSS[:2]:
        assert raw not in html
    assert "window.__xss" in html  # the payloads are there, escaped
    for name in ("Poverty rate (quantiles)", "Mean standard of living (EUR/year) (quantiles)",
                 "LISA clusters", "Statistics vs residents", "Candidate quartiers"):
        assert f'"{name}"' in html
    assert html.count('"className": "cg-quartier"') == 1
    feats = [f for f in _features(html) if "_c" not in f["properties"]]
    assert [f["properties"]["f1"] for f in feats] == [escape_text(x) for x in XSS]
    assert [f["properties"]["f2"] for f in feats] == ["1,000", "1,500", "2,000"]  # population
    assert feats[0]["properties"]["f5"] == "40.0 %"  # poverty rate 180/450


def test_inputs_in_any_projected_crs_give_the_same_map() -> None:
    q = make_quartiers()
    a = to_wgs84(q).total_bounds
    b = to_wgs84(q.to_crs(2154)).total_bounds
    assert np.allclose(a, b, atol=2e-6)
    assert -0.7 < a[0] < -0.4 and 44.7 < a[1] < 45.0  # near Bordeaux


def test_coordinates_are_rounded() -> None:
    html = render_html(quartiers_map(make_quartiers(), precision=5))
    pts = [pt for f in _features(html) for pt in f["geometry"]["coordinates"][0]]
    assert len(pts) == 15 and all(round(v, 5) == v for pt in pts for v in pt)


def test_missing_crs_and_columns_raise() -> None:
    q = make_quartiers().set_crs(None, allow_override=True)
    with pytest.raises(CRSError, match="no CRS"):
        quartiers_map(q)
    with pytest.raises(MissingColumnsError, match="nope"):
        quartiers_map(make_quartiers(), cells=make_cells(), indicators=["nope"])


def test_raster_overlay_past_threshold_lines_up() -> None:
    cells = make_cells()
    html = render_html(quartiers_map(make_quartiers(), cells=cells, raster_threshold=100))
    assert "raster image: 120 cells, no tooltip" in html
    assert html.count("L.imageOverlay(") == 4  # 2 choropleths, LISA, confrontation: 120 cells each
    assert _cell_layers(html) == []
    colours = ["#ff0000" if i == 0 else "#0000ff" for i in range(len(cells))]
    url, bounds, (h, w) = rasterize_colours(cells, colours)
    import base64
    import io

    img = np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))))
    assert img.shape == (h, w, 4)
    # bounds are those of the cells
    ll = cells.to_crs(4326).total_bounds
    assert bounds[0][1] == pytest.approx(ll[0], abs=1e-4) and bounds[1][0] == pytest.approx(ll[3], abs=1e-4)
    # cell 0 is the lower-left cell: its centre pixel is red, the image centre blue
    c0 = cells.geometry.iloc[0].centroid
    cx = gpd.GeoSeries([c0], crs=3035).to_crs(3857).iloc[0]
    ext = cells.to_crs(3857).total_bounds
    col = int((cx.x - ext[0]) / (ext[2] - ext[0]) * w)
    row = int((ext[3] - cx.y) / (ext[3] - ext[1]) * h)
    assert img[row, col].tolist() == [255, 0, 0, 191]
    assert img[h // 2, w // 2].tolist() == [0, 0, 255, 191]


def test_robustness_and_dual_maps_render() -> None:
    cells = make_cells()
    share = cells.assign(share=[(i % 4) / 3 for i in range(len(cells))])
    html = render_html(robustness_map(share, n_scenarios=3))
    (layer, data), = _cell_layers(html)
    assert len(data["geo"]["features"]) == 120 and sum(c >= 0 for c in layer["codes"]) == 90
    assert sorted(set(layer["tips"][0][1])) == ["0.0 %", "100.0 %", "33.3 %", "66.7 %"]
    dm = dual_map(make_quartiers(), make_quartiers().iloc[:2], left_title="A", right_title="B")
    html = render_html(dm)
    assert html.count(".sync(") == 2
    assert html.count("L.Map.Sync") >= 1  # Leaflet.Sync embedded, not linked


# ----------------------------------------------------------------- saving, offline
def test_saved_map_is_self_contained(tmp_path: Path) -> None:
    path = save_map(quartiers_map(make_quartiers(), cells=make_cells()), tmp_path / "map.html")
    html = path.read_text(encoding="utf-8")
    assert external_resources(html) == []
    assert not re.search(r"<script[^>]+src=", html) and not re.search(r"<link[^>]+href=", html)
    assert "leaflet" in html.lower() and "L.map(" in html
    assert len(html) < 600_000  # only Leaflet embedded (~170 kB), no jQuery/Bootstrap/FontAwesome
    assert "jquery" not in html.lower() and "bootstrap" not in html.lower()
    assert [p.name for p in tmp_path.iterdir()] == ["map.html"]  # no temporary left behind


def test_online_tiles_are_opt_in(tmp_path: Path) -> None:
    assert "L.tileLayer(" not in render_html(quartiers_map(make_quartiers()))
    m = quartiers_map(make_quartiers(), tiles="OpenStreetMap")
    html = save_map(m, tmp_path / "osm.html").read_text(encoding="utf-8")
    assert "tile.openstreetmap.org" in html and external_resources(html) == []


def test_save_map_refuses_a_page_that_needs_the_network(tmp_path: Path) -> None:
    from branca.element import JavascriptLink

    m = quartiers_map(make_quartiers())
    m.get_root().header.add_child(JavascriptLink("https://cdn.example.org/x.js"))
    with pytest.raises(CohesionGeoError, match="external resource"):
        save_map(m, tmp_path / "bad.html")
    assert not (tmp_path / "bad.html").exists()
    assert external_resources('<link rel="stylesheet" href="//cdn.x/a.css">') == ["//cdn.x/a.css"]
    assert external_resources('<style>@import url("https://f.x/c.css");</style>') == ["https://f.x/c.css"]


# ----------------------------------------------------------------- static maps
@pytest.mark.parametrize("column", ["poverty_rate", "lisa_cluster", "confrontation", None])
def test_static_map_png(tmp_path: Path, column: str | None) -> None:
    layer = make_cells() if column else make_quartiers()
    path = static_map(layer, column=column, quartiers=make_quartiers(names=["$x$", "a", "b"]),
                      path=tmp_path / "m.png", dpi=60)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(path) as img:
        assert img.size == (600, 450)
        assert len(img.getcolors(1 << 20)) > 4  # a map, not a blank page


def test_static_map_legend_counts_secret_cells() -> None:
    fig = static_map(make_cells(), column="poverty_rate", k=5)
    texts = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert texts[-1] == "not published (< 11 households) (17)"
    assert sum(int(t.rsplit("(", 1)[1].rstrip(")")) for t in texts[:-1]) == 103
    res = static_map(aggregate_reports(make_reports()), column="reports_count")
    texts = [t.get_text() for t in res.axes[0].get_legend().get_texts()]
    assert texts == ["1 (1)", "2–4 (1)", "5–9 (1)"]
