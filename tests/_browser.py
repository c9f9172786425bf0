"""Reusable real-browser fixtures (Debian chromium driven by playwright).

Use from a test module with ``from _browser import browser, browser_page`` (or
register the module as a plugin: ``pytest_plugins = ["_browser"]``).

* ``browser`` (session): a headless Debian chromium, never a downloaded one.
  Skips, with the reason, when ``/usr/bin/chromium`` or playwright is missing
  (``make browser`` installs chromium with apt).
* ``browser_page``: a fresh page whose network is cut (only ``file:`` and
  ``data:`` URLs load, anything else is aborted and recorded) and which
  records console errors and uncaught exceptions; see :class:`Page`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("COHESION_GEO_CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
VIEWPORT = {"width": 1400, "height": 900}


@dataclass
class Page:
    """A playwright page plus what went wrong while it was open."""

    page: Any
    console_errors: list[str] = field(default_factory=list)
    blocked_requests: list[str] = field(default_factory=list)

    def open(self, path: Path, *, settle_ms: int = 400) -> None:
        """Open a local file and wait until Leaflet has drawn."""
        self.page.goto(Path(path).resolve().as_uri())
        self.page.wait_for_load_state("load")
        self.page.wait_for_timeout(settle_ms)

    def problems(self) -> list[str]:
        """Console errors, uncaught exceptions and attempted network requests."""
        return self.console_errors + [f"network request: {u}" for u in self.blocked_requests]

    def hover_element(self, locator: Any, *, samples: int = 9) -> tuple[float, float]:
        """Move the mouse over a point of ``locator`` where it is the topmost element.

        Controls (layer list, legends) may cover part of a polygon, so points
        of its bounding box are tried until ``elementFromPoint`` is the element.
        """
        box = locator.bounding_box()
        assert box is not None, "element is not displayed"
        handle = locator.element_handle()
        for fy in [0.5] + [i / (samples + 1) for i in range(1, samples + 1)]:
            for fx in [0.5] + [i / (samples + 1) for i in range(1, samples + 1)]:
                x, y = box["x"] + fx * box["width"], box["y"] + fy * box["height"]
                hit = self.page.evaluate(
                    "([x, y, el]) => { const e = document.elementFromPoint(x, y); return e === el; }",
                    [x, y, handle],
                )
                if hit:
                    self.page.mouse.move(x, y)
                    self.page.wait_for_timeout(120)
                    return x, y
        raise AssertionError("no visible point of the element to hover")


def _skip_reason() -> str | None:
    if not Path(CHROMIUM).exists():
        return (
            f"{CHROMIUM} not found: browser tests need Debian's chromium "
            "(run `make browser`, i.e. apt-get install chromium)"
        )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[test]')"
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        try:
            b = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        except Exception as exc:  # pragma: no cover - depends on the machine
            pytest.skip(f"could not launch {CHROMIUM}: {exc}")
        yield b
        b.close()


@pytest.fixture
def browser_page(browser: Any) -> Iterator[Page]:
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    wrapped = Page(page)

    def on_route(route: Any) -> None:
        url = route.request.url
        if url.startswith(("file:", "data:", "about:")):
            route.continue_()
        else:
            wrapped.blocked_requests.append(url)
            route.abort()

    context.route("**/*", on_route)
    page.on("console", lambda m: wrapped.console_errors.append(f"console.{m.type}: {m.text}")
            if m.type == "error" else None)
    page.on("pageerror", lambda e: wrapped.console_errors.append(f"uncaught: {e}"))
    yield wrapped
    context.close()
