"""Benchmark of the weighing stage at national size (SYNTHETIC grid, default 2,313,783 cells).

Usage::

    python benchmarks/bench_weigh.py [--cells N] [--ring METRES] [--seed S]

A seeded synthetic grid (inhabited cells scattered over a square, poverty
rates smoothed so poor cells cluster) is split into candidate quartiers
(queen components of cells with poverty >= 0.30 and >= 1,000 inhabitants,
the test-suite rule). Prints one line per stage: cell assignment, ring pairs
(integer-grid stencil), surroundings, commune capacity, score, and the whole
:func:`cohesion_geo.priority.weigh.weigh_quartiers` call.
"""

from __future__ import annotations

import argparse
import platform
import resource
import time

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import ndimage

from cohesion_geo.priority.capacity import commune_capacity, quartier_capacity
from cohesion_geo.priority.score import priority_score
from cohesion_geo.priority.surroundings import assign_cells, ring_pairs, surroundings_of_cells
from cohesion_geo.priority.weigh import weigh_quartiers


def synthetic(n: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame, gpd.GeoDataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    side = int(np.ceil(np.sqrt(n / 0.35)))  # about 35 % of the square inhabited
    field = ndimage.gaussian_filter(rng.normal(size=(side, side)), sigma=3)
    field = (field - field.mean()) / field.std()
    flat = rng.choice(side * side, size=n, replace=False)
    gy, gx = np.divmod(flat, side)
    rate = np.clip(0.14 + 0.12 * field[gy, gx] + rng.normal(0, 0.03, n), 0, 1)
    ind = rng.gamma(2.0, 60.0, n).round(1) + 1
    men = (ind / 2.2).round(1)
    grid = pd.DataFrame({
        "cell_id": [f"CRS3035RES200mN{2_000_000 + y * 200}E{3_000_000 + x * 200}" for x, y in zip(gx, gy)],
        "cell_x": 3_000_000 + gx * 200, "cell_y": 2_000_000 + gy * 200, "cell_size": 200,
        "ind": ind, "men": men, "men_pauv": (rate * men).round(2),
        "ind_snv": ind * np.clip(24_000 - 30_000 * (rate - 0.14), 8_000, None),
        "log_soc": (men * np.clip(rate * 1.5, 0, 1)).round(1),
        "commune": [f"{c:05d}" for c in (gx // 25) * 1000 + gy // 25],
    })
    grid["poverty_rate"] = grid["men_pauv"] / grid["men"]
    raster = np.zeros((side, side), bool)
    poor = (grid["poverty_rate"] >= 0.30).to_numpy()
    raster[gy[poor], gx[poor]] = True
    labels, _ = ndimage.label(raster, structure=np.ones((3, 3)))
    lab = np.where(poor, labels[gy, gx], 0)
    pop = np.bincount(lab, weights=ind)
    keep = np.flatnonzero(pop >= 1000)
    keep = keep[keep > 0]
    sel = np.isin(lab, keep)
    cells = pd.DataFrame({"cell_id": grid["cell_id"].to_numpy()[sel], "quartier_id": lab[sel]})
    ids = np.sort(cells["quartier_id"].unique())
    quartiers = gpd.GeoDataFrame({"quartier_id": ids}, geometry=[shapely.Point(0, 0)] * len(ids), crs=3035)
    communes = np.unique(grid["commune"])
    rng2 = np.random.default_rng(seed + 1)
    pop_c = rng2.integers(2_000, 200_000, len(communes)).astype(float)
    finance = pd.DataFrame({"commune": communes, "population": pop_c,
                            "potentiel_financier": pop_c * rng2.uniform(700, 1800, len(communes)),
                            "size_group": np.where(pop_c >= 10_000, "10000+", "small")})
    return grid, cells, quartiers, finance


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--cells", type=int, default=2_313_783)
    ap.add_argument("--ring", type=float, default=500.0)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    print(f"python {platform.python_version()}, {platform.machine()}, seed {args.seed}")
    t = time.perf_counter()
    grid, cells, quartiers, finance = synthetic(args.cells, args.seed)
    print(f"synthetic grid: {len(grid):,} cells, {len(quartiers):,} quartiers holding {len(cells):,} cells "
          f"({time.perf_counter() - t:.1f} s, not counted)")
    rows = []

    def stage(name, fn):
        t0 = time.perf_counter()
        value = fn()
        rows.append((name, time.perf_counter() - t0))
        return value

    cq = stage("assign cells (cell table)", lambda: assign_cells(quartiers, grid, assignment=cells))
    pairs = stage(f"ring pairs ({args.ring:g} m stencil)", lambda: ring_pairs(cq, grid, distance=args.ring))
    sur = stage("surroundings (quartier/ring/study area)",
                lambda: surroundings_of_cells(cq, grid, quartier_ids=quartiers["quartier_id"], distance=args.ring))
    cap = stage("commune capacity", lambda: commune_capacity(finance))
    qc = stage("quartier capacity", lambda: quartier_capacity(cq, grid, cap, index=quartiers.index))
    weighed = pd.concat([quartiers[["quartier_id"]], sur, qc], axis=1)
    stage("priority score + reasons", lambda: priority_score(weighed))
    out = stage("weigh_quartiers (all of it)",
                lambda: weigh_quartiers(quartiers, grid, assignment=cells, finance=finance, ring_distance=args.ring))
    width = max(len(r[0]) for r in rows)
    for name, secs in rows:
        print(f"  {name:<{width}}  {secs:7.2f} s")
    print(f"ring pairs: {len(pairs):,}; situations: {out['situation'].value_counts().to_dict()}")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
