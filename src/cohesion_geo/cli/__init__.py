"""The ``cohesion-geo`` command line: a thin layer over the Python API.

Each topic module (``cli/<topic>.py``) defines ``register(subparsers)`` adding
its subcommands; each subcommand sets ``func`` to a function taking the parsed
arguments and returning an exit code. Errors from :mod:`cohesion_geo.errors`
are printed as one clear message (exit status 2), never as a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import warnings
from collections.abc import Sequence

from .. import __version__
from ..errors import CohesionGeoError

__all__ = ["add_data_dir_argument", "add_grid_arguments", "grid_from_args", "main", "build_parser"]

#: Topic modules, in the order their subcommands appear in ``--help``.
TOPICS: tuple[str, ...] = ("demo", "inputs", "indicators", "delineate", "weigh", "scenarios")


def add_data_dir_argument(parser: argparse.ArgumentParser) -> None:
    """Add ``--data-dir`` (default: $COHESION_GEO_DATA, else ../shared/data)."""
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        default=None,
        help="real-data directory (default: $COHESION_GEO_DATA, else ../shared/data when it exists)",
    )


def add_grid_arguments(parser: argparse.ArgumentParser, *, positional: bool = True) -> None:
    """Add the grid options shared by every command that reads a Filosofi grid."""
    if positional:
        parser.add_argument("grid", metavar="GRID", help="Filosofi grid file (CSV, GPKG, SHP, Parquet)")
    parser.add_argument("--layer", default=None, help="layer name of a multi-layer grid file")
    parser.add_argument(
        "--vintage", type=int, default=None, help="Filosofi vintage (2015, 2017, 2019...); detected by default"
    )
    parser.add_argument(
        "--columns",
        default=None,
        metavar="CANONICAL=SOURCE,...",
        help="column mapping for derived grids, e.g. "
        "cell_id=id,ind=num_people,mean_std_living=mean_std_living,poverty_rate=poverty_ratio,imputed=imputed",
    )


def grid_from_args(args: argparse.Namespace, *, attr: str = "grid"):
    """Load the grid named by the parsed grid options (see :func:`add_grid_arguments`)."""
    from ..loaders import load_grid

    return load_grid(getattr(args, attr), layer=args.layer, vintage=args.vintage, columns=args.columns)


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, with every topic's subcommands."""
    parser = argparse.ArgumentParser(
        prog="cohesion-geo",
        description="Define, weigh and debate priority territories (quartiers prioritaires) "
        "from INSEE grids, residents' reports and commune finances.",
    )
    parser.add_argument("--version", action="version", version=f"cohesion-geo {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for topic in TOPICS:
        try:
            module = importlib.import_module(f"{__name__}.{topic}")
        except ModuleNotFoundError as exc:
            if exc.name == f"{__name__}.{topic}":
                continue  # topic not installed in this build
            raise
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``cohesion-geo`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 1

    def _show(message, category, filename, lineno, file=None, line=None):  # noqa: ANN001
        print(f"warning: {message}", file=sys.stderr)

    with warnings.catch_warnings():
        warnings.showwarning = _show
        try:
            return int(args.func(args) or 0)
        except CohesionGeoError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
