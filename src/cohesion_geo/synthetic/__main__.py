"""Regenerate the shipped SYNTHETIC files: ``python -m cohesion_geo.synthetic``.

Writes the Synthville layers into the package's data folder (or ``--out``) and,
when the real Bordeaux grid is available, synthetic reports on that grid.
The same seed gives byte-identical files.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import BORDEAUX_REPORTS, bordeaux_reports, synthetic_dir, write_reports, write_territory


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m cohesion_geo.synthetic",
        description="Regenerate the SYNTHETIC Synthville files (and synthetic reports on the real Bordeaux grid).",
    )
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: the package's data folder)")
    parser.add_argument("--seed", type=int, default=0, help="seed (default 0, the shipped files)")
    parser.add_argument("--data-dir", type=Path, default=None, help="real-data directory (for the Bordeaux grid)")
    parser.add_argument("--bordeaux-reports", type=int, default=3_000, help="number of reports on Bordeaux")
    args = parser.parse_args(argv)
    out = args.out or synthetic_dir()
    paths = write_territory(out, seed=args.seed)
    for key, path in paths.items():
        print(f"wrote {path} ({key}, synthetic)")
    try:
        from ..datasets import real_path

        grid_path = real_path("bordeaux_grid", data_dir_=args.data_dir)
    except Exception as exc:  # no data directory: the Bordeaux file is left as is
        print(f"Bordeaux grid not found ({exc}); {BORDEAUX_REPORTS} not regenerated", file=sys.stderr)
        return 0
    reports = bordeaux_reports(grid_path, n=args.bordeaux_reports, seed=args.seed)
    path = write_reports(reports, out / BORDEAUX_REPORTS)
    print(f"wrote {path} (synthetic reports on the real grid {grid_path})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
