"""``cohesion-geo demo``: the main job on real Bordeaux data or the synthetic territory."""

from __future__ import annotations

import argparse

from . import add_data_dir_argument


def _run(args: argparse.Namespace) -> int:
    from ..demo import run_demo

    run_demo(args.out, data_dir=args.data_dir, progress=not args.quiet)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``demo`` subcommand."""
    p = subparsers.add_parser(
        "demo",
        help="run the whole pipeline on Bordeaux (real data) or the synthetic territory",
        description="Load every input layer, print a summary, delineate, weigh and rank candidate "
        "quartiers under the ready project's scenarios, and write maps and the council report. "
        "Uses real Bordeaux data when the data directory exists, else the embedded synthetic territory.",
    )
    p.add_argument("--out", default="out/demo", help="output folder (default: out/demo)")
    add_data_dir_argument(p)
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=_run)
