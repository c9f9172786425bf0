"""Benchmark of the loaders at national size (2,000,000 cells, SYNTHETIC grid).

Usage::

    python benchmarks/bench_loaders.py [--cells N] [--seed S] [--reports R] [--keep DIR]

Writes a SYNTHETIC national-size grid in the raw Filosofi 2015 layout (38
columns, from :func:`cohesion_geo.synthetic.grid.make_grid`) to a temporary
folder as CSV and as GeoParquet (same columns plus the 200 m squares), then times
:func:`cohesion_geo.loaders.load_grid` on each (validation, canonical names,
derived measures and, for the CSV, the squares built from the ids). Also times
the resident-report loader on R synthetic reports and the DGCL finance table
when the real-data directory is present. Prints one line per stage.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cells", type=int, default=2_000_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--reports", type=int, default=200_000)
    ap.add_argument("--keep", default=None, help="write the files here (kept) instead of a temporary folder")
    args = ap.parse_args()

    from cohesion_geo.cellid import cell_squares
    from cohesion_geo.datasets import REAL_FILES, data_dir
    from cohesion_geo.loaders import load_finance, load_grid, load_reports
    from cohesion_geo.synthetic.grid import make_grid

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}, pandas {pd.__version__}")  # fmt: skip

    def timed(label: str, n: int, fn):  # noqa: ANN001, ANN202
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        dt, cpu = time.perf_counter() - t0, time.process_time() - c0
        print(f"{label:<52s} {dt:8.2f} s wall {cpu:8.2f} s CPU {n / dt:>11,.0f} rows/s  "
              f"peak RSS {_peak_mb():,.0f} MB", flush=True)
        return out

    # other processes on the machine inflate wall times: say how busy it was
    print(f"load average at start: {', '.join(f'{v:.1f}' for v in os.getloadavg())}")

    with tempfile.TemporaryDirectory(prefix="bench_loaders_") as tmp:
        folder = Path(args.keep) if args.keep else Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        n = args.cells
        raw = timed(
            f"generate {n:,} SYNTHETIC cells (not a loader)", n,
            lambda: make_grid(n_cells=n, seed=args.seed),
        )  # fmt: skip
        print(f"  generator: cohesion_geo.synthetic.grid.make_grid; {raw.shape[1]} columns (raw Filosofi 2015 layout)")
        csv_path = folder / "synthetic_filosofi2015_200m.csv"

        def _write_csv() -> None:  # pyarrow's writer: pandas' to_csv takes minutes at this size
            import pyarrow as pa
            import pyarrow.csv as pacsv

            table = pa.Table.from_pandas(raw, preserve_index=False)
            pacsv.write_csv(table, csv_path, write_options=pacsv.WriteOptions(quoting_style="none"))

        timed("write CSV (not a loader)", n, _write_csv)
        pq_path = folder / "synthetic_filosofi2015_200m.parquet"

        def _write_parquet() -> None:
            import geopandas as gpd

            from cohesion_geo.cellid import parse_cell_ids

            parsed = parse_cell_ids(raw["Idcar_200m"])
            geoms = cell_squares(parsed["cell_x"], parsed["cell_y"], parsed["cell_size"])
            gpd.GeoDataFrame(raw, geometry=geoms, crs=3035).to_parquet(pq_path, index=False)

        timed("write GeoParquet with squares (not a loader)", n, _write_parquet)
        print(f"  CSV {csv_path.stat().st_size / 1e6:,.0f} MB, GeoParquet {pq_path.stat().st_size / 1e6:,.0f} MB")
        del raw

        g = timed("load_grid(CSV): read + validate + build squares", n, lambda: load_grid(csv_path))
        assert len(g) == n and g["cell_id"].is_unique
        inhabitants = float(g["ind"].sum())
        del g
        g = timed("load_grid(GeoParquet): read + validate", n, lambda: load_grid(pq_path))
        assert len(g) == n and float(g["ind"].sum()) == inhabitants
        print(f"  {n:,} cells, {inhabitants:,.0f} SYNTHETIC inhabitants, CRS EPSG:{g.crs.to_epsg()}")
        del g

        # resident reports: lon/lat CSV around Bordeaux, French labels, two years of dates
        gen = np.random.default_rng(args.seed)
        r = args.reports
        labels = np.array(["logement", "Sécurité", "transports", "propreté", "services publics", "emploi",
                           "jeunesse", "santé", "autre", "nids de poule"])  # fmt: skip
        days = gen.integers(0, 730, r)
        reports = pd.DataFrame(
            {
                "lon": np.round(-0.58 + gen.normal(0, 0.05, r), 6),
                "lat": np.round(44.84 + gen.normal(0, 0.04, r), 6),
                "category": labels[gen.integers(0, labels.size, r)],
                "comment": "Signalement SYNTHÉTIQUE n°" + pd.Series(np.arange(r)).astype(str),
                "date": (pd.Timestamp("2023-01-01") + pd.to_timedelta(days, unit="D")).strftime("%Y-%m-%d"),
                "source": "application",
            }
        )
        rep_path = folder / "synthetic_reports.csv"
        reports.to_csv(rep_path, index=False, sep=";")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            timed(f"load_reports(CSV, {r:,} SYNTHETIC reports)", r, lambda: load_reports(rep_path))

    root = data_dir()
    if root is not None and (root / REAL_FILES["finance"]).is_file():
        timed("load_finance(real DGCL table, 35,443 communes)", 35_443, lambda: load_finance(root / REAL_FILES["finance"]))
    print(f"load average at end: {', '.join(f'{v:.1f}' for v in os.getloadavg())}; peak RSS {_peak_mb():,.0f} MB")


if __name__ == "__main__":
    main()
