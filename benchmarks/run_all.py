"""Run every benchmark script of this folder in turn and print their figures.

Usage: ``make bench`` or ``python benchmarks/run_all.py [NAME ...]`` where NAME
filters scripts (``loaders``, ``indicators``, ``autocorrelation``,
``delineation``...). Each script prints its own table; nothing is timed in the
test suite.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    here = Path(__file__).resolve().parent
    scripts = sorted(here.glob("bench_*.py"))
    if argv:
        scripts = [s for s in scripts if any(a in s.stem for a in argv)]
    status = 0
    for script in scripts:
        print(f"\n=== {script.name} ===", flush=True)
        start = time.perf_counter()
        code = subprocess.call([sys.executable, str(script)])
        print(f"--- {script.name}: exit {code}, {time.perf_counter() - start:.1f} s wall", flush=True)
        status = status or code
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
