"""report.html: every user string escaped, secrecy and residents' privacy rules, no script at all."""

from __future__ import annotations

import concurrent.futures
import dataclasses
import shutil
import warnings

import pytest

from cohesion_geo.maps import external_resources
from cohesion_geo.scenarios import load_project, project_path
from cohesion_geo.scenarios.report import build_report, render_report, write_report
from cohesion_geo.scenarios.run import run_project

SCRIPT = "<script>window.__pwned = 1; alert('x')</script>"
ATTR = '" onmouseover="window.__pwned = 2" x="'
IMG = "<img src=x onerror=\"window.__pwned = 3\">"


@pytest.fixture(scope="module")
def run():
    project = load_project(project_path("synthetic"))
    first, *rest = project.scenarios
    project = dataclasses.replace(
        project,
        name=f"Town {IMG}",
        report={"title": f"Title {SCRIPT}", "introduction": f"Intro {ATTR}"},
        scenarios=(dataclasses.replace(first, title=f"Scenario {SCRIPT}", description=f"Why {IMG}"), *rest),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = run_project(project, progress=False)
    # payloads in a quartier name and in every resident comment
    q = r.results["official"].quartiers
    q["name"] = [f"{SCRIPT} quartier {i}" for i in range(len(q))]
    r.inputs.reports["comment"] = f"Broken lift {SCRIPT} {ATTR} {IMG}"
    return r


@pytest.fixture(scope="module")
def html(run):
    return render_report(build_report(run, maps=False, comments=3))


def test_payloads_are_escaped_never_markup(html):
    lowered = html.lower()
    assert "<script" not in lowered
    assert "<img" not in lowered  # maps=False: the only images would be our own PNGs
    assert 'onmouseover="' not in lowered and 'onerror="' not in lowered  # quotes escaped: no attribute
    assert "&lt;script&gt;window.__pwned = 1; alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert "Title &lt;script&gt;" in html                      # report title
    assert "Scenario &lt;script&gt;" in html                   # scenario title
    assert "Why &lt;img src=x onerror=&#34;window.__pwned = 3&#34;&gt;" in html  # description
    assert "&lt;script&gt;window.__pwned = 1; alert(&#39;x&#39;)&lt;/script&gt; quartier 0" in html
    assert "Broken lift &lt;script&gt;" in html                # a resident comment
    assert "&#34; onmouseover=&#34;window.__pwned = 2&#34;" in html
    assert external_resources(html) == []


def test_comments_and_categories_only_from_five_reports(run):
    res = run.results["official"]
    q = res.quartiers
    ctx = build_report(run, maps=False, comments=3)
    profiles = {p["id"]: p for p in ctx["profiles"] if p["scenario"] == "official"}
    assert len(profiles) == len(q)
    for _, row in q.iterrows():
        p = profiles[row["quartier_id"]]
        n = row["reports_n"]
        if n >= 5:
            assert p["categories"] and not p["few_reports"]
            assert sum(int(c["count"].replace("\u202f", "")) for c in p["categories"]) == int(n)
            assert 0 < len(p["comments"]) <= 3
        else:
            assert p["categories"] == [] and p["few_reports"] and p["comments"] == []
    assert any(row["reports_n"] >= 5 for _, row in q.iterrows())


def test_no_comment_unless_asked(run):
    # a comment can name a street ("rue des Lilas"): quoting is opt-in
    ctx = build_report(run, maps=False)
    official = [p for p in ctx["profiles"] if p["scenario"] == "official"]
    assert sum(1 for p in official if p["categories"]) >= 1  # quartiers with 5+ reports exist
    assert all(p["comments"] == [] for p in ctx["profiles"])
    assert "Broken lift" not in render_report(ctx)


def test_no_statistic_under_eleven_households(run):
    res = run.results["poverty_bridged"]
    saved = res.quartiers.copy()
    try:
        res.quartiers.loc[0, "men"] = 8.0
        ctx = build_report(run, maps=False, comments=0)
    finally:
        res.quartiers = saved
    qid = saved.loc[0, "quartier_id"]
    p = next(p for p in ctx["profiles"] if p["scenario"] == "poverty_bridged" and p["id"] == qid)
    assert p["secret"] and p["men"] == "–" and p["men_pauv"] == "–"
    assert all(r["q"] == "–" for r in p["key_rows"] + p["other_rows"])
    row = next(r for s in ctx["scenarios"] if s["name"] == "poverty_bridged" for r in s["quartiers"] if r["id"] == qid)
    assert row["poverty"] == "–" and row["living"] == "–"
    html = render_report(ctx)
    assert "Fewer than 11 households: no statistic is published for this quartier." in html


def test_method_names_threshold_proxy_and_sources(run, html):
    ctx = build_report(run, maps=False, profiles=False)
    m = ctx["method"]
    assert m["vintage"] == 2015
    assert m["national_median"] == "20\u202f300 €"  # INSEE ERFS 2015, built into the priority module
    assert {s["what"] for s in m["sources"]} >= {"Income grid (200 m cells)", "Residents' reports"}
    assert all(s["synthetic"] for s in m["sources"])  # every file of Synthville is synthetic
    assert "S = 0.6 × (0.7 × national median + 0.3 × urban-unit median)" in html
    assert "proxy" in html and "fewer than 11 households" in html.lower()
    assert ctx["profiles"] == []


def test_written_report_with_maps(run, tmp_path):
    path = write_report(run, tmp_path / "report.html", max_profiles=2, comments=1)
    text = path.read_text(encoding="utf-8")
    n_png = text.count('src="data:image/png;base64,')
    # one map per scenario, the robustness map, and 2 profile maps per scenario
    assert n_png == 3 + 1 + 3 * 2
    assert external_resources(text) == []


@pytest.mark.browser
def test_no_payload_runs_in_a_browser(run, tmp_path):
    if shutil.which("chromium") is None and not __import__("pathlib").Path("/usr/bin/chromium").exists():
        pytest.skip("Debian chromium is not installed (/usr/bin/chromium): browser test skipped")
    sync = pytest.importorskip("playwright.sync_api")
    path = write_report(run, tmp_path / "report.html", max_profiles=3, comments=3)
    errors: list[str] = []
    dialogs: list[str] = []

    def browse() -> tuple:
        with sync.sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.goto(path.as_uri())
            for el in page.locator("td, blockquote, h1, h3, p").all()[:400]:
                el.hover(timeout=2000, force=True) if el.is_visible() else None
            pwned = page.evaluate("window.__pwned === undefined ? null : window.__pwned")
            images = page.evaluate("Array.from(document.images).map(i => i.naturalWidth > 0)")
            text = page.inner_text("body")
            page.screenshot(path=str(tmp_path / "report.png"), full_page=False)
            browser.close()
        return pwned, images, text

    # in a fresh thread: the sync API refuses a thread whose asyncio loop another test left running
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        pwned, images, text = pool.submit(browse).result(timeout=300)
    assert pwned is None and dialogs == [] and errors == []
    assert images and all(images)  # every inline PNG decodes
    assert "<script>window.__pwned = 1; alert('x')</script> quartier 0" in text  # shown as text
    assert len(images) == 3 + 1 + 3 * 3


def test_urban_unit_values_on_a_derived_grid():
    # the Lille layout has rates and no household counts: the urban-unit column of a profile was empty
    import pandas as pd

    from cohesion_geo.scenarios.report import _uu_values

    g = pd.DataFrame({"cell_id": ["a", "b", "c"], "urban_unit": ["U1", "U1", "U2"], "ind": [100.0, 300.0, 12.0],
                      "poverty_rate": [0.2, 0.4, 0.5], "mean_std_living": [20000.0, 16000.0, 15000.0]})
    uu = _uu_values(g)
    assert uu.loc["U1", "poverty_rate"] == pytest.approx(0.35) and uu.loc["U1", "mean_std_living"] == 17000.0
    assert uu.loc["U2", ["poverty_rate", "mean_std_living"]].isna().all()  # 12 inhabitants: secret
