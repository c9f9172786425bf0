"""Delineation speed and fidelity: raster grouping vs spopt MaxPHeuristic and Skater.

Three parts, printed as one Markdown table (copied into docs/delineation.md):

1. **National scale**: ``delineate`` on a SYNTHETIC grid of 2,313,783 cells
   (the size of Filosofi 2019; :func:`cohesion_geo.synthetic.grid.make_grid`),
   default and poverty-rate rules, whole-cell and interpolated perimeters
   (``perimeter="interpolated"``). Generating the grid is not timed.
2. **Bordeaux** (real Filosofi 2015 grid, 6,735 cells): the raster delineation
   of all cells vs spopt's ``MaxPHeuristic`` (population floor 1,000) and
   ``Skater`` on the same search area -- the cells the default rule may put
   in a quartier (cores, and neighbours below 1.45 S; 687 cells) -- because
   max-p builds dense n x n structures and took 90 s for 3,000 cells on this
   machine: the search area bounds it (``--max-cells``).
3. **Lille fidelity** (real 2017 grid vs the 26 official QPV): the same three
   methods, population-weighted F1 and official quartiers half covered.

spopt regions become candidate quartiers the way the default rule's zones do:
regions of at least 1,000 inhabitants whose population-weighted mean standard
of living is below the default line ``1.25 x S``. Skater's ``floor`` counts
cells, not inhabitants (a spopt limitation): 5 cells here (pieces of the
search area smaller than that are dropped, as Skater requires), and the number
of clusters is the search area's population / 3,000. spopt draws from NumPy's
*global* random state (it takes no ``rng``), so this script seeds it for
reproducibility -- the only place in the project that does.

Wall-clock and CPU seconds are both printed: CPU time is the fairer figure on
a shared machine.

Run: ``.venv/bin/python benchmarks/bench_delineation.py [--cells N] [--skip-national] [--data-dir DIR]``
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from cohesion_geo.datasets import LILLE_GRID_COLUMNS, real_path
from cohesion_geo.loaders import harmonise_grid, load_grid
from cohesion_geo.priority import delineate, evaluate
from cohesion_geo.priority.rules import DEFAULT_GROW_FACTOR, DEFAULT_POVERTY_LEVEL, DEFAULT_PROXY_FACTOR


def timed(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    """Result, wall seconds, CPU seconds (this process)."""
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w0, time.process_time() - c0


def quiet_delineate(grid: pd.DataFrame, **kw: Any):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return delineate(grid, **kw)


def search_area(grid: pd.DataFrame, s: float) -> np.ndarray:
    """Cells the default rule may include: cores, or neighbours-to-be below grow_factor x S."""
    msl = grid["mean_std_living"].to_numpy(float)
    pr = grid["poverty_rate"].to_numpy(float)
    core = (msl < DEFAULT_PROXY_FACTOR * s) | (pr >= DEFAULT_POVERTY_LEVEL)
    return core | (msl < DEFAULT_GROW_FACTOR * s)


def regions_to_quartiers(sub: gpd.GeoDataFrame, labels: np.ndarray, line: float) -> gpd.GeoDataFrame:
    """Keep regions of >= 1,000 inhabitants whose population-weighted mean is below ``line``."""
    frame = sub.assign(label=labels, w=sub["ind"] * sub["mean_std_living"])
    frame = frame[frame["label"].notna() & (frame["label"].astype(float) >= 0)]
    agg = frame.groupby("label").agg(ind=("ind", "sum"), w=("w", "sum"))
    good = agg.index[(agg["ind"] >= 1_000) & (agg["w"] / agg["ind"] < line)]
    kept = frame[frame["label"].isin(good)]
    if kept.empty:
        return gpd.GeoDataFrame(geometry=[], crs=sub.crs)
    return kept[["label", "geometry"]].dissolve("label").reset_index()


def spopt_quartiers(grid: gpd.GeoDataFrame, s: float, method: str, *, max_cells: int, seed: int = 0):
    """Run max-p or Skater on the search area; return (quartiers, n_cells used)."""
    from libpysal.weights import W
    from spopt.region import MaxPHeuristic, Skater

    from cohesion_geo.indicators.graph import grid_graph

    mask = search_area(grid, s)
    sub = grid.loc[mask].reset_index(drop=True)
    if len(sub) > max_cells:  # bound the run time: keep the poorest cells
        sub = sub.nsmallest(max_cells, "mean_std_living").reset_index(drop=True)
    graph = grid_graph(sub["cell_x"], sub["cell_y"], contiguity="rook")
    if method == "skater":  # Skater refuses pieces smaller than its floor (5 cells): drop them
        from scipy.sparse.csgraph import connected_components

        _, comp = connected_components(graph.sparse, directed=False)
        sizes = np.bincount(comp)
        sub = sub.loc[sizes[comp] >= 5].reset_index(drop=True)
        graph = grid_graph(sub["cell_x"], sub["cell_y"], contiguity="rook")
    neigh = {i: [int(j) for j in graph[i].index if j != i] for i in range(len(sub))}
    w = W(neigh, silence_warnings=True)
    np.random.seed(seed)  # spopt reads NumPy's global random state only
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if method == "maxp":
            model = MaxPHeuristic(sub, w, ["mean_std_living"], "ind", 1_000, top_n=2,
                                  max_iterations_construction=20, max_iterations_sa=5)
        else:
            n_clusters = max(2, int(round(sub["ind"].sum() / 3_000)))
            # Skater's spanning tree drops zero-length edges (imputed neighbours share smoothed
            # values), which splits the graph: a 1e-6 EUR tie-break keeps every edge
            sub["msl_attr"] = sub["mean_std_living"] + 1e-6 * np.arange(len(sub))
            model = Skater(sub, w, ["msl_attr"], n_clusters=n_clusters, floor=5, islands="increase")
        model.solve()
    labels = np.asarray(model.labels_, dtype=float)
    return regions_to_quartiers(sub, labels, DEFAULT_PROXY_FACTOR * s), len(sub)


def national(n_cells: int, rows: list[dict]) -> None:
    from cohesion_geo.synthetic.grid import make_grid

    t0 = time.perf_counter()
    grid = harmonise_grid(make_grid(n_cells=n_cells, seed=0))
    print(f"(synthetic grid of {len(grid):,} cells generated in {time.perf_counter() - t0:.0f} s, not timed)")
    for rule in ("default", "poverty_rate"):
        for perimeter in ("cells", "interpolated"):
            res, wall, cpu = timed(lambda: quiet_delineate(grid, rule=rule, national_median=20_300,
                                                           perimeter=perimeter))
            how = "" if perimeter == "cells" else ", interpolated perimeter"
            rows.append({"data": f"synthetic national, {len(grid):,} cells", "method": f"raster, rule {rule}{how}",
                         "cells": len(grid), "wall_s": wall, "cpu_s": cpu, "quartiers": len(res.quartiers)})
    del grid


def bordeaux(rows: list[dict], *, data_dir: str | None, max_cells: int) -> None:
    grid = load_grid(real_path("bordeaux_grid", data_dir_=data_dir))
    res, wall, cpu = timed(lambda: quiet_delineate(grid))
    s = res.params["thresholds"]["study_area"]
    rows.append({"data": "Bordeaux 2015, 6,735 cells", "method": "raster, default rule", "cells": len(grid),
                 "wall_s": wall, "cpu_s": cpu, "quartiers": len(res.quartiers)})
    fine, wall, cpu = timed(lambda: quiet_delineate(grid, perimeter="interpolated"))
    rows.append({"data": "Bordeaux 2015, 6,735 cells", "method": "raster, default rule, interpolated perimeter",
                 "cells": len(grid), "wall_s": wall, "cpu_s": cpu, "quartiers": len(fine.quartiers)})
    for method, name in (("maxp", "spopt MaxPHeuristic (floor 1,000 inh.)"), ("skater", "spopt Skater")):
        (q, n), wall, cpu = timed(lambda: spopt_quartiers(grid, s, method, max_cells=max_cells))
        rows.append({"data": "Bordeaux 2015, search area", "method": name, "cells": n,
                     "wall_s": wall, "cpu_s": cpu, "quartiers": len(q)})


def lille(rows: list[dict], *, data_dir: str | None, max_cells: int) -> None:
    grid = load_grid(real_path("lille_grid", data_dir_=data_dir), columns=LILLE_GRID_COLUMNS)
    qpv = gpd.read_file(real_path("lille_qpv", data_dir_=data_dir))
    res, wall, cpu = timed(lambda: quiet_delineate(grid, vintage=2017))
    s = res.params["thresholds"]["study_area"]
    ev = evaluate(res, qpv, grid=grid)
    rows.append({"data": "Lille 2017 vs 26 QPV", "method": "raster, default rule", "cells": len(grid),
                 "wall_s": wall, "cpu_s": cpu, "quartiers": len(res.quartiers), "F1": ev.f1,
                 "half_covered": ev.half_covered_share})
    fine, wall, cpu = timed(lambda: quiet_delineate(grid, vintage=2017, perimeter="interpolated"))
    ev = evaluate(fine, qpv, grid=grid)
    rows.append({"data": "Lille 2017 vs 26 QPV", "method": "raster, default rule, interpolated perimeter",
                 "cells": len(grid), "wall_s": wall, "cpu_s": cpu, "quartiers": len(fine.quartiers), "F1": ev.f1,
                 "half_covered": ev.half_covered_share})
    for method, name in (("maxp", "spopt MaxPHeuristic (floor 1,000 inh.)"), ("skater", "spopt Skater")):
        (q, n), wall, cpu = timed(lambda: spopt_quartiers(grid, s, method, max_cells=max_cells))
        ev = evaluate(q, qpv, grid=grid)
        rows.append({"data": "Lille 2017 vs 26 QPV", "method": name, "cells": n, "wall_s": wall,
                     "cpu_s": cpu, "quartiers": len(q), "F1": ev.f1, "half_covered": ev.half_covered_share})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=2_313_783, help="synthetic national grid size")
    parser.add_argument("--skip-national", action="store_true")
    parser.add_argument("--max-cells", type=int, default=1_500, help="bound on the cells given to spopt")
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args()
    rows: list[dict] = []
    if not args.skip_national:
        national(args.cells, rows)
    bordeaux(rows, data_dir=args.data_dir, max_cells=args.max_cells)
    lille(rows, data_dir=args.data_dir, max_cells=args.max_cells)
    print("| data | method | cells | wall s | CPU s | quartiers | Lille F1 | QPV half covered |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        f1 = f"{r['F1']:.3f}" if "F1" in r else ""
        half = f"{r['half_covered']:.0%}" if "half_covered" in r else ""
        print(f"| {r['data']} | {r['method']} | {r['cells']:,} | {r['wall_s']:.2f} | {r['cpu_s']:.2f} | "
              f"{r['quartiers']} | {f1} | {half} |")


if __name__ == "__main__":
    main()
