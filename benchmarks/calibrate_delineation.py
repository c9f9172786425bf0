"""Calibration of the delineation rules on Lille (2017 grid vs 26 official QPV, 2015 geography).

Prints, for each rule variant, the population-weighted recall, precision, F1
and the share of official quartiers at least half covered, plus the ceiling
that no union of whole cells can beat (the "oracle": every cell at least 40 %
/ 50 % inside an official perimeter). The table is copied into
docs/delineation.md.

Run: ``.venv/bin/python benchmarks/calibrate_delineation.py [--data-dir DIR]``
"""

from __future__ import annotations

import argparse
import time
import warnings

import geopandas as gpd
import pandas as pd
import shapely

from cohesion_geo.datasets import LILLE_GRID_COLUMNS, real_path
from cohesion_geo.loaders import load_grid
from cohesion_geo.priority import delineate, evaluate

VARIANTS: list[tuple[str, str, dict]] = [
    ("official: mean < S (decree on cell means)", "official", {}),
    ("official x 1.25: mean < 1.25 S, components", "official", {"threshold": 12_700 * 1.25}),
    ("poverty_rate >= 0.30 (naive), no hole filling", "poverty_rate", {"fill_holes": False}),
    ("poverty_rate >= 0.30, holes filled", "poverty_rate", {}),
    ("poverty_rate >= 0.30, bridge 1 cell", "poverty_rate", {"bridge": 1}),
    ("default cores, no growth", "default", {"grow": 0}),
    ("**default** (cores + 1 ring of growth)", "default", {}),
    ("default, queen contiguity", "default", {"contiguity": "queen"}),
    ("default, bridge 1 cell", "default", {"bridge": 1}),
    ("default, prune appendages", "default", {"prune": 1}),
    ("default, imputed cells may seed", "default", {"imputed": "core"}),
    ("default, 2 rings of growth", "default", {"grow": 2}),
    ("default, k = 1.20", "default", {"proxy_factor": 1.20}),
    ("default, k = 1.30", "default", {"proxy_factor": 1.30}),
    ("default, poverty level 0.27", "default", {"poverty_level": 0.27}),
    ("default, poverty level 0.33", "default", {"poverty_level": 0.33}),
    ("default, grow_factor 1.35", "default", {"grow_factor": 1.35}),
    ("default, grow_factor 1.60", "default", {"grow_factor": 1.60}),
]


def oracle(grid: gpd.GeoDataFrame, qpv: gpd.GeoDataFrame, share: float) -> gpd.GeoDataFrame:
    """Union of the cells at least ``share`` inside an official perimeter (knows the answer)."""
    union = shapely.union_all(qpv.geometry.make_valid().to_numpy())
    frac = shapely.area(shapely.intersection(grid.geometry.to_numpy(), union)) / grid.geometry.area.to_numpy()
    return gpd.GeoDataFrame(geometry=grid.geometry[frac >= share].to_numpy(), crs=grid.crs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args()
    grid = load_grid(real_path("lille_grid", data_dir_=args.data_dir), columns=LILLE_GRID_COLUMNS)
    qpv = gpd.read_file(real_path("lille_qpv", data_dir_=args.data_dir))
    rows = []
    for label, rule, kw in VARIANTS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t0 = time.perf_counter()
            res = delineate(grid, rule=rule, vintage=2017, **kw)
            dt = time.perf_counter() - t0
        ev = evaluate(res, qpv, grid=grid)
        s = ev.summary()
        rows.append((label, len(res.quartiers), ev.recall, ev.precision, ev.f1,
                     f"{s['n_half_covered']}/{s['n_official']}", ev.half_covered_share, dt))
    for share in (0.4, 0.5):
        ev = evaluate(oracle(grid, qpv, share), qpv, grid=grid)
        s = ev.summary()
        rows.append((f"ceiling: cells >= {share:.0%} inside a QPV (oracle)", None, ev.recall, ev.precision,
                     ev.f1, f"{s['n_half_covered']}/{s['n_official']}", ev.half_covered_share, float("nan")))
    table = pd.DataFrame(rows, columns=["variant", "quartiers", "recall", "precision", "F1", "half covered",
                                        "share", "seconds"])
    print("| variant | quartiers | recall | precision | F1 | QPV half covered |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in table.itertuples(index=False):
        n = "" if pd.isna(r.quartiers) else str(int(r.quartiers))
        print(f"| {r.variant} | {n} | {r.recall:.3f} | {r.precision:.3f} | {r.F1:.3f} | "
              f"{r._5} ({r.share:.0%}) |")


if __name__ == "__main__":
    main()
