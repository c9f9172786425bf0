"""Maps: HTML size, build time and browser load time, vector vs raster cell layers.

Prints figures (nothing asserted). Uses the real Bordeaux 2015 grid when the
data directory is present, and bigger grids (the Bordeaux block tiled) to show
where the raster switch (RASTER_THRESHOLD) pays. Browser timings need Debian
chromium + playwright; they are skipped otherwise.

Usage: python benchmarks/bench_maps.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from cohesion_geo.maps import RASTER_THRESHOLD, quartiers_map, save_map, static_map

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]


def bordeaux() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame] | None:
    try:
        from cohesion_geo.datasets import real_path
        from cohesion_geo.loaders import load_grid
        from cohesion_geo.priority import delineate

        grid = load_grid(real_path("bordeaux_grid"))
    except Exception as exc:  # no data directory
        print(f"real Bordeaux grid unavailable ({exc}); synthetic only")
        return None
    res = delineate(grid)
    return grid, res.quartiers


def synthetic(n_side: int) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    rng = np.random.default_rng(0)
    ii, jj = np.meshgrid(np.arange(n_side), np.arange(n_side))
    x = 3_480_000 + 200 * ii.ravel()
    y = 2_460_000 + 200 * jj.ravel()
    n = x.size
    men = rng.integers(1, 200, n).astype(float)
    pov = rng.beta(2, 8, n)
    g = gpd.GeoDataFrame(
        {"cell_id": [f"CRS3035RES200mN{b}E{a}" for a, b in zip(x, y)], "men": men,
         "poverty_rate": pov, "mean_std_living": 25_000 - 20_000 * pov},
        geometry=shapely.box(x, y, x + 200, y + 200), crs=3035)
    q = gpd.GeoDataFrame({"quartier_id": ["Q1"], "ind": [2000.0], "men": [900.0], "poverty_rate": [0.4]},
                         geometry=[shapely.box(x.min() + 2000, y.min() + 2000, x.min() + 4000, y.min() + 3000)],
                         crs=3035)
    return g, q


def add_categories(grid: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(1)
    cats = np.array(["high-high", "low-low", "high-low", "low-high", "not significant"])
    conf = np.array(["both", "statistics_only", "residents_only", "neither"])
    return grid.assign(lisa_cluster=cats[rng.integers(0, 5, len(grid))],
                       confrontation=conf[rng.integers(0, 4, len(grid))])


def browser_times(paths: list[Path]) -> dict[Path, tuple[float, float]]:
    if not Path(CHROMIUM).exists():
        return {}
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return {}
    out = {}
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for path in paths:
            page = b.new_page(viewport={"width": 1400, "height": 900})
            t0 = time.perf_counter()
            page.goto(path.resolve().as_uri())
            page.wait_for_load_state("load")
            page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
            t_load = time.perf_counter() - t0
            # switch to the LISA layer (off at opening) and wait for the paint
            t0 = time.perf_counter()
            page.locator(".leaflet-control-layers label", has_text="LISA clusters").first.locator("input").click()
            page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
            t_toggle = time.perf_counter() - t0
            out[path] = (t_load, t_toggle)
            page.close()
        b.close()
    return out


def main() -> None:
    cases: list[tuple[str, gpd.GeoDataFrame, gpd.GeoDataFrame]] = []
    real = bordeaux()
    if real is not None:
        cases.append(("Bordeaux 2015", add_categories(real[0]), real[1]))
    for side in (150, 300):
        g, q = synthetic(side)
        cases.append((f"synthetic {side}x{side}", add_categories(g), q))
    rows = []
    files = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, grid, quartiers in cases:
            for mode, threshold in (("vector", 10**9), ("raster", 0)):
                if mode == "vector" and len(grid) > 50_000:
                    continue  # tens of MB of SVG: the point of the raster switch
                t0 = time.perf_counter()
                m = quartiers_map(quartiers, cells=grid, raster_threshold=threshold)
                path = save_map(m, Path(tmp) / f"{name.replace(' ', '_')}_{mode}.html")
                t_build = time.perf_counter() - t0
                files.append(path)
                rows.append({"grid": name, "cells": len(grid), "quartiers": len(quartiers), "mode": mode,
                             "build_s": round(t_build, 2), "html_MB": round(path.stat().st_size / 1e6, 2),
                             "path": path})
        times = browser_times(files)
        for r in rows:
            t = times.get(r.pop("path"))
            r["chromium_load_s"] = round(t[0], 2) if t else None
            r["toggle_layer_s"] = round(t[1], 2) if t else None
        if real is not None:
            t0 = time.perf_counter()
            static_map(real[0], column="poverty_rate", quartiers=real[1], path=Path(tmp) / "s.png")
            print(f"static_map Bordeaux poverty_rate PNG: {time.perf_counter() - t0:.2f} s")
    print(f"RASTER_THRESHOLD = {RASTER_THRESHOLD:,} drawn cells per layer")
    print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()
