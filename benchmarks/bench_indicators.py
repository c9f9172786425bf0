"""Benchmark of the indicator engine at national size (2,313,783 cells, SYNTHETIC grid).

Usage::

    python benchmarks/bench_indicators.py [--cells N] [--seed S] [--facilities F] [--reports R]

Prints one line per stage (seconds, cells per second) and the total of the
"all cell indicators" stages, the target of issue 3 (< 30 s on 2 cores). Grid
generation and the loader's harmonisation are timed separately and are not
part of that total. The synthetic grid comes from
:func:`cohesion_geo.synthetic.make_grid` (seeded, autocorrelated incomes,
urban cores); facilities and reports are drawn around inhabited cells with a
seeded generator.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import time
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cells", type=int, default=2_313_783)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--facilities", type=int, default=100_000)
    ap.add_argument("--reports", type=int, default=200_000)
    args = ap.parse_args()

    from cohesion_geo.indicators import (
        aggregate,
        cell_indicators,
        cell_reports,
        confront,
        facility_access,
        isolation_score,
        poverty_score,
        report_density,
        secret_flag,
        sum_by,
    )
    from cohesion_geo.loaders import harmonise_grid
    from cohesion_geo.synthetic.grid import make_grid

    rows: list[tuple[str, float, int, bool]] = []

    def timed(label: str, n: int, fn, *, core: bool = True):  # noqa: ANN001, ANN202
        t0 = time.perf_counter()
        out = fn()
        dt = time.perf_counter() - t0
        rows.append((label, dt, n, core))
        print(f"  {label:<48s} {dt:8.2f} s", flush=True)
        return out

    print(f"cohesion-geo indicator benchmark: {args.cells:,} cells, seed {args.seed}, "
          f"{os.cpu_count()} CPUs, Python {platform.python_version()}", flush=True)
    raw = timed("generate synthetic grid (make_grid)", args.cells,
                lambda: make_grid(n_cells=args.cells, seed=args.seed), core=False)
    grid = timed("harmonise to canonical frame (loader)", args.cells,
                 lambda: harmonise_grid(raw, source="synthetic"), core=False)
    del raw
    n = len(grid)
    rng = np.random.default_rng(args.seed)

    ind = timed("cell indicators (11 ratios)", n, lambda: cell_indicators(grid))
    sec = timed("secrecy flag (< 11 households)", n, lambda: secret_flag(grid))
    table = pd.concat([ind, sec], axis=1)
    groups = grid["commune"].str.slice(0, 3)  # ~ a few hundred pseudo urban units
    pop = grid["ind"].to_numpy()
    table["poverty_score"] = timed("poverty score (5 components, by group, pop-weighted)", n,
                                   lambda: poverty_score(ind, groups=groups, population=pop))

    # facilities near inhabited cells, Lambert-free: same CRS as the cells (EPSG:3035)
    pick = rng.integers(0, n, args.facilities)
    fx = grid["cell_x"].to_numpy()[pick] + rng.uniform(0, 200, args.facilities)
    fy = grid["cell_y"].to_numpy()[pick] + rng.uniform(0, 200, args.facilities)
    fac = gpd.GeoDataFrame({"typequ": rng.choice(["F121", "D201", "C101"], args.facilities)},
                           geometry=shapely.points(fx, fy), crs=grid.crs)
    acc = timed(f"facility access ({args.facilities:,} points, r 500 m)", n,
                lambda: facility_access(grid, fac, radius=500))
    table = table.join(acc)
    table["isolation_score"] = timed("isolation score (4 components, by group)", n,
                                     lambda: isolation_score(table, groups=groups, population=pop))
    total_core = sum(dt for _, dt, _, core in rows if core)

    # residents and aggregation: reported separately
    pick = rng.integers(0, n, args.reports)
    rx = grid["cell_x"].to_numpy()[pick] + rng.uniform(0, 200, args.reports)
    ry = grid["cell_y"].to_numpy()[pick] + rng.uniform(0, 200, args.reports)
    rep = gpd.GeoDataFrame({"category": rng.choice(["housing", "safety", "transport"], args.reports)},
                           geometry=shapely.points(rx, ry), crs=grid.crs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cr = timed(f"reports per cell ({args.reports:,} reports)", n, lambda: cell_reports(grid, rep), core=False)
    timed("confrontation layer", n, lambda: confront(table["poverty_score"], cr["reports_per_1000"],
                                                     reports_n=cr["reports_n"]), core=False)
    arr = timed("report density raster (KDE, 400 m)", n, lambda: report_density(grid, rep)[0], core=False)
    timed("sum to communes (whole cells)", n, lambda: sum_by(grid, grid["commune"]), core=False)
    # area-weighted aggregation to ~1 km x 1.3 km polygons offset from the cells (every cell cut)
    x0, y0 = grid["cell_x"].min() - 163, grid["cell_y"].min() - 147  # covers every cell
    xs = np.arange(x0, grid["cell_x"].max() + 200, 1000.0)
    ys = np.arange(y0, grid["cell_y"].max() + 200, 1300.0)
    bx, by = np.meshgrid(xs, ys)
    polys = gpd.GeoDataFrame({"zone": np.arange(bx.size)},
                             geometry=shapely.box(bx.ravel(), by.ravel(), bx.ravel() + 1000, by.ravel() + 1300),
                             crs=grid.crs)
    agg = timed(f"aggregate to {len(polys):,} polygons (area-weighted)", n,
                lambda: aggregate(grid, polys, key="zone"), core=False)

    print()
    print(f"{'stage':<52s} {'seconds':>8s} {'cells/s':>12s}")
    for label, dt, m, core in rows:
        print(f"{label + ('' if core else ' *'):<52s} {dt:8.2f} {m / dt if dt else float('inf'):12,.0f}")
    print(f"{'ALL CELL INDICATORS (core stages)':<52s} {total_core:8.2f} {n / total_core:12,.0f}")
    print("* not part of the core total")
    print(f"peak RSS {_peak_mb():,.0f} MB; density raster {arr.shape[0]}x{arr.shape[1]}; "
          f"aggregation population error {abs(agg['ind'].sum() - grid['ind'].sum()) / grid['ind'].sum():.2e}")
    print(f"target < 30 s: {'MET' if total_core < 30 else 'MISSED'}")


if __name__ == "__main__":
    main()
