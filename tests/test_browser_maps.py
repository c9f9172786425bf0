"""Maps in a real browser: drawn, interactive, synchronised, offline and script-proof.

Debian chromium driven by playwright (fixtures in tests/_browser.py); the
network is cut for every page, so a map that needed a CDN would fail here.
Screenshots go to each test's tmp_path.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from _browser import Page, browser, browser_page  # noqa: F401  (fixtures)
from _mapdata import XSS, make_cells, make_quartiers, make_reports

from cohesion_geo.maps import dual_map, quartiers_map, robustness_map, save_map

pytestmark = pytest.mark.browser

N_QUARTIERS = 3
N_CELLS = 120


@pytest.fixture(scope="module")
def maps_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Saved maps whose quartier names and report categories/comments are payloads."""
    d = tmp_path_factory.mktemp("maps")
    cells = make_cells()
    quartiers = make_quartiers(names=XSS)
    reports = make_reports(comments=XSS * 3, categories=XSS * 2)
    save_map(quartiers_map(quartiers, cells=cells, reports_per_cell=reports, comments=3,
                           title="Bordeaux <test>"), d / "map.html")
    save_map(quartiers_map(quartiers, cells=cells, raster_threshold=50), d / "raster.html")
    save_map(dual_map(quartiers, quartiers.iloc[:2], left_title=XSS[0], right_title="B"), d / "dual.html")
    share = cells.assign(share=[(i % 4) / 3 for i in range(len(cells))])
    save_map(robustness_map(share, n_scenarios=3, quartiers=quartiers.iloc[:1]), d / "robust.html")
    return d


def _xss(p: Page) -> object:
    return p.page.evaluate("() => window.__xss")


def _tooltip_text(p: Page) -> str:
    tip = p.page.locator(".leaflet-tooltip")
    tip.first.wait_for(state="visible", timeout=3000)
    return tip.first.inner_text()


def _toggle(p: Page, label: str) -> None:
    p.page.locator(".leaflet-control-layers label", has_text=label).first.locator("input").click()
    p.page.wait_for_timeout(150)


def test_quartiers_drawn_offline_without_errors(browser_page: Page, maps_dir: Path, tmp_path: Path) -> None:
    p = browser_page
    p.open(maps_dir / "map.html")
    assert p.page.locator("path.cg-quartier").count() == N_QUARTIERS
    # the first choropleth is on at opening: every cell drawn (secret ones in grey)
    assert p.page.locator("path.cg-cell").count() == N_CELLS
    assert p.page.locator(".cg-legend").count() == 1
    assert "Poverty rate" in p.page.locator(".cg-legend").inner_text()
    assert p.page.evaluate("() => typeof L") == "object"
    p.page.screenshot(path=str(tmp_path / "map.png"))
    assert p.problems() == []


def test_tooltips_show_payloads_as_text(browser_page: Page, maps_dir: Path, tmp_path: Path) -> None:
    p = browser_page
    p.open(maps_dir / "map.html")
    paths = p.page.locator("path.cg-quartier")
    seen = []
    for i in range(N_QUARTIERS):
        p.hover_element(paths.nth(i))
        seen.append(_tooltip_text(p))
        p.page.mouse.move(2, 2)
        p.page.wait_for_timeout(100)
    p.page.screenshot(path=str(tmp_path / "tooltip.png"))
    # each payload is displayed literally (escaped), none ran
    for payload in XSS:
        assert any(payload in text for text in seen), (payload, seen)
    assert all("Population" in t for t in seen)
    assert _xss(p) is None

    # residents' layer: categories and comments are payloads too
    _toggle(p, "Poverty rate")
    _toggle(p, "Residents' reports")
    cells = p.page.locator("path.cg-cell")
    assert cells.count() == 3  # three cells hold reports
    texts = []
    for i in range(cells.count()):
        p.hover_element(cells.nth(i))
        texts.append(_tooltip_text(p))
    busy = [t for t in texts if "6" in t and XSS[1] in t]
    assert busy, texts  # the 6-report cell shows its (escaped) breakdown and comments
    assert sum("hidden (< 5 reports)" in t for t in texts) == 2
    p.page.screenshot(path=str(tmp_path / "residents.png"))
    assert _xss(p) is None
    assert p.problems() == []


def test_layer_control_toggles_layers_and_legends(browser_page: Page, maps_dir: Path) -> None:
    p = browser_page
    p.open(maps_dir / "map.html")
    cells = p.page.locator("path.cg-cell")
    assert cells.count() == N_CELLS
    _toggle(p, "Poverty rate")
    assert cells.count() == 0
    assert p.page.locator(".cg-legend").count() == 0
    _toggle(p, "LISA clusters")
    assert cells.count() == N_CELLS
    assert "LISA cluster" in p.page.locator(".cg-legend").inner_text()
    _toggle(p, "Candidate quartiers")
    assert p.page.locator("path.cg-quartier").count() == 0
    _toggle(p, "Candidate quartiers")
    assert p.page.locator("path.cg-quartier").count() == N_QUARTIERS
    assert p.problems() == []


def test_raster_overlay_past_threshold(browser_page: Page, maps_dir: Path, tmp_path: Path) -> None:
    p = browser_page
    p.open(maps_dir / "raster.html")
    assert p.page.locator("img.cg-raster").count() == 1
    assert p.page.locator("path.cg-cell").count() == 0
    assert p.page.locator(".leaflet-control-layers", has_text="raster image").count() == 1
    assert p.page.locator("path.cg-quartier").count() == N_QUARTIERS
    p.page.screenshot(path=str(tmp_path / "raster.png"))
    assert p.problems() == []


def test_dual_map_is_synchronised(browser_page: Page, maps_dir: Path, tmp_path: Path) -> None:
    p = browser_page
    p.open(maps_dir / "dual.html")
    names = p.page.evaluate(
        "() => Object.keys(window).filter(k => k.startsWith('map_') && window[k] instanceof L.Map)"
    )
    assert len(names) == 2
    left, right = sorted(names, key=lambda n: p.page.evaluate(f"() => {n}.getContainer().offsetLeft"))
    # left side: its 3 quartiers + the other's 2 dashed outlines; right: 2 + 3
    assert p.page.locator("path.cg-quartier").count() == 5
    assert p.page.locator("path.cg-quartier-other").count() == 5
    before = p.page.evaluate(f"() => {right}.getCenter().lng")
    box = p.page.locator(f"#{left}").bounding_box()
    cx, cy = box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.7
    p.page.mouse.move(cx, cy)
    p.page.mouse.down()
    p.page.mouse.move(cx - 200, cy, steps=8)
    p.page.mouse.up()
    # inertia may still be panning on a busy machine: wait (up to 10 s) until both views agree
    p.page.wait_for_function(
        f"() => Math.abs({left}.getCenter().lng - {right}.getCenter().lng) < 1e-6", timeout=10_000
    )
    lng_left = p.page.evaluate(f"() => {left}.getCenter().lng")
    lng_right = p.page.evaluate(f"() => {right}.getCenter().lng")
    assert lng_right > before  # dragging left moves the view east
    assert lng_right == pytest.approx(lng_left, abs=1e-6)
    zoom = p.page.evaluate(f"() => {{ {left}.setZoom({left}.getZoom() - 1, {{animate: false}}); "
                           f"return {right}.getZoom(); }}")
    assert zoom == p.page.evaluate(f"() => {left}.getZoom()")
    p.page.screenshot(path=str(tmp_path / "dual.png"))
    assert _xss(p) is None
    assert p.problems() == []


def test_robustness_map(browser_page: Page, maps_dir: Path, tmp_path: Path) -> None:
    p = browser_page
    p.open(maps_dir / "robust.html")
    # shares 0, 1/3, 2/3, 1 repeat: the 30 cells at 0 are not drawn
    assert p.page.locator("path.cg-cell").count() == 90
    legend = p.page.locator(".cg-legend").inner_text()
    assert "1 of 3 scenarios" in legend and "3 of 3 scenarios" in legend
    p.page.screenshot(path=str(tmp_path / "robustness.png"))
    assert p.problems() == []
