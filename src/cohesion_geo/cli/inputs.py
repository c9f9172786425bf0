"""``cohesion-geo inputs``: load one input, print a summary, write it harmonised.

Examples::

    cohesion-geo inputs load grid ../shared/data/bordeaux/filosofi2015_200m_bordeaux_metropole.csv --out out/grid.parquet
    cohesion-geo inputs load iris contours.geojson --out out/iris.gpkg
    cohesion-geo inputs load reports reports.csv --area grid.csv --out out/reports.gpkg
    cohesion-geo inputs load facilities bpe.csv --types F1 --out out/facilities.gpkg
    cohesion-geo inputs load finance dgcl.csv --year 2018 --out out/finance.csv
    cohesion-geo inputs load urban-units --facilities bpe.csv --out out/uu.csv

The CLI is a thin layer over :mod:`cohesion_geo.loaders`. Resident reports are
written at the centre of their 200 m cell (never their exact position).
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from ..errors import ConfigError
from . import add_grid_arguments, grid_from_args

__all__ = ["KINDS", "load_input", "register", "summarise"]

#: Input kinds and the options (argparse dests) that apply to each.
KINDS: dict[str, set[str]] = {
    "grid": {"layer", "vintage", "columns"},
    "iris": {"layer", "crs", "fix_invalid"},
    "iris-income": {"year", "income_kind"},
    "reports": {"layer", "x", "y", "crs", "to_crs", "category", "comment", "date", "source_column",
                "area", "area_layer", "bbox", "date_format"},  # fmt: skip
    "facilities": {"layer", "crs", "types"},
    "finance": {"year", "columns"},
    "urban-units": {"facilities", "communes"},
}


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``inputs load`` to the ``cohesion-geo`` parser."""
    top = subparsers.add_parser(
        "inputs",
        help="load one input (grid, IRIS, reports, facilities, finance, urban units) and write it harmonised",
        description="Load, validate and harmonise one input file; print a summary; optionally write it.",
    )
    sub = top.add_subparsers(dest="inputs_command", metavar="ACTION")
    p = sub.add_parser(
        "load",
        help="load one input kind, print a summary, write the harmonised layer with --out",
        description="Load, validate and harmonise one input. Every problem of the file is listed at once; "
        "recoverable rows (a few unlocated points) are dropped with a counted warning.",
        epilog="kinds: " + ", ".join(KINDS) + ". Resident reports are written at their 200 m cell centre "
        "(privacy); use the Python API for exact positions in memory.",
    )
    p.add_argument("kind", choices=list(KINDS), metavar="KIND", help="input kind: " + ", ".join(KINDS))
    p.add_argument(
        "file", nargs="?", default=None, metavar="FILE",
        help="input file (optional for urban-units with --facilities or --communes)",
    )  # fmt: skip
    p.add_argument("--out", default=None, metavar="FILE",
                   help="write the harmonised layer (.gpkg, .parquet, .geojson or .csv), atomically")  # fmt: skip
    add_grid_arguments(p, positional=False)  # --layer, --vintage, --columns (grid; --columns for finance too)
    g = p.add_argument_group("IRIS, facilities and reports")
    g.add_argument("--crs", default=None,
                   help="iris: output CRS (default 2154); facilities: CRS of LAMBERT_X/Y (default 2154); "
                   "reports: CRS of the x/y columns (lon/lat default 4326)")  # fmt: skip
    g.add_argument("--fix-invalid", action="store_true", help="iris: repair invalid polygons")
    g.add_argument("--types", default=None, help="facilities: keep these BPE type prefixes, e.g. F1,F303")
    g = p.add_argument_group("IRIS income and finance")
    g.add_argument("--year", type=int, default=None, help="year of the columns (default: latest)")
    g.add_argument("--income-kind", choices=["disp", "dec"], default=None,
                   help="iris-income: disposable (DISP_) or declared (DEC_) income")  # fmt: skip
    g = p.add_argument_group("resident reports")
    g.add_argument("--x", default=None, help="x / longitude column (default: lon/lat auto-detected)")
    g.add_argument("--y", default=None, help="y / latitude column")
    g.add_argument("--to-crs", default=None, help="output CRS (default 2154)")
    g.add_argument("--category", default=None, help="category column (default 'category')")
    g.add_argument("--comment", default=None, help="comment column (default 'comment'; 'none' if absent)")
    g.add_argument("--date", default=None, help="date column (default 'date'; 'none' if absent)")
    g.add_argument("--source-column", default=None, help="source column (default 'source', optional)")
    g.add_argument("--date-format", default=None, help="strftime format of the dates, e.g. %%d/%%m/%%Y")
    g.add_argument("--area", default=None, metavar="FILE",
                   help="study area: drop reports outside it (a polygon layer, or a grid CSV read with load_grid)")  # fmt: skip
    g.add_argument("--area-layer", default=None, help="layer of the --area file")
    g.add_argument("--bbox", default=None, metavar="XMIN,YMIN,XMAX,YMAX",
                   help="study area as a bbox in the output CRS")  # fmt: skip
    g = p.add_argument_group("urban units")
    g.add_argument("--facilities", default=None, metavar="BPE",
                   help="derive the commune -> urban unit table from a BPE file's UU2020 column")  # fmt: skip
    g.add_argument("--communes", default=None, metavar="CODES|GRID",
                   help="study-area communes: comma list or a grid file; alone, they form ONE urban unit")  # fmt: skip
    p.set_defaults(func=_run_load)
    top.set_defaults(func=lambda args: (top.print_help(), 1)[1])


def _crs(value: str | None) -> Any:
    if value is None:
        return None
    return int(value) if value.isdigit() else value


def _given(args: argparse.Namespace) -> set[str]:
    """Options of :data:`KINDS` the user set (different from their defaults)."""
    return {name for name in set().union(*KINDS.values()) if getattr(args, name, None) not in (None, False)}


def load_input(args: argparse.Namespace) -> pd.DataFrame | gpd.GeoDataFrame:
    """Load the input described by parsed ``inputs load`` arguments."""
    from .. import loaders

    kind = args.kind
    wrong = sorted(_given(args) - KINDS[kind])
    if wrong:
        opts = ", ".join("--" + w.replace("_", "-") for w in wrong)
        raise ConfigError(f"option(s) {opts} do not apply to {kind!r} inputs")
    if args.file is None and kind != "urban-units":
        raise ConfigError(f"inputs load {kind}: give the input FILE")
    if kind == "grid":
        return grid_from_args(args, attr="file")
    if kind == "iris":
        return loaders.load_iris(
            args.file, layer=args.layer, crs=_crs(args.crs) or 2154, fix_invalid=args.fix_invalid
        )
    if kind == "iris-income":
        return loaders.load_iris_income(args.file, year=args.year, kind=args.income_kind)
    if kind == "facilities":
        return loaders.load_facilities(args.file, types=args.types, crs=_crs(args.crs) or 2154, layer=args.layer)
    if kind == "finance":
        return loaders.load_finance(args.file, year=args.year, columns=args.columns)
    if kind == "reports":
        area: Any = None
        if args.area and args.bbox:
            raise ConfigError("give --area or --bbox, not both")
        if args.area:
            area = _read_area(Path(args.area), layer=args.area_layer)
        elif args.bbox:
            try:
                area = tuple(float(v) for v in args.bbox.split(","))
            except ValueError:
                area = ()
            if len(area) != 4:
                raise ConfigError(f"--bbox {args.bbox!r}: expected XMIN,YMIN,XMAX,YMAX")

        def _none(v: str | None, default: str) -> str | None:
            if v is None:
                return default
            return None if v.lower() == "none" else v

        return loaders.load_reports(
            args.file,
            x=args.x,
            y=args.y,
            crs=_crs(args.crs),
            category=args.category or "category",
            comment=_none(args.comment, "comment"),
            date=_none(args.date, "date"),
            source=_none(args.source_column, "source"),
            to_crs=_crs(args.to_crs) or 2154,
            area=area,
            layer=args.layer,
            date_format=args.date_format,
        )
    # urban-units
    communes: Any = None
    if args.communes:
        cpath = Path(args.communes)
        communes = loaders.load_grid(cpath) if cpath.exists() else [c.strip() for c in args.communes.split(",")]
    facilities = loaders.load_facilities(args.facilities) if args.facilities else None
    return loaders.load_urban_units(args.file, communes=communes, facilities=facilities)


def _read_area(path: Path, *, layer: str | None) -> gpd.GeoDataFrame:
    from ..loaders import load_grid
    from ..loaders._read import CSV_SUFFIXES, read_table

    if path.suffix.lower() in CSV_SUFFIXES:
        return load_grid(path)
    frame = read_table(path, layer=layer)
    if not isinstance(frame, gpd.GeoDataFrame):
        raise ConfigError(f"--area {path}: no geometry in the file")
    return frame


def _round(value: float) -> int:
    """Round half up (725,084.5 inhabitants prints as 725,085, as INSEE does)."""
    return int(math.floor(float(value) + 0.5))


def summarise(kind: str, frame: pd.DataFrame) -> list[str]:
    """Short human-readable summary lines of a loaded input."""
    lines: list[str] = []
    crs = getattr(frame, "crs", None)
    crs_s = f"EPSG:{crs.to_epsg()}" if crs is not None and crs.to_epsg() else (str(crs) if crs else "-")
    if kind == "grid":
        lines.append(f"{len(frame):,} cells (vintage {frame.attrs.get('vintage')}), CRS {crs_s}")
        if "ind" in frame:
            lines.append(f"inhabitants: {_round(frame['ind'].sum()):,}")
        if "men" in frame:
            lines.append(f"households: {_round(frame['men'].sum()):,}")
        lines.append(f"imputed cells: {frame['imputed'].mean():.1%}")
    elif kind == "iris":
        types = frame["iris_type"].value_counts().to_dict()
        lines.append(f"{len(frame):,} IRIS in {frame['commune'].nunique():,} communes, CRS {crs_s}")
        lines.append("types: " + ", ".join(f"{k} {v}" for k, v in sorted(types.items())))
    elif kind == "iris-income":
        med = frame["median_income"]
        lines.append(f"{len(frame):,} IRIS, {frame.attrs.get('kind')} income {frame.attrs.get('year')}")
        lines.append(
            f"median income: median {med.median():,.0f} EUR, missing (secrecy) {int(med.isna().sum())}; "
            f"poverty rate missing {int(frame['poverty_rate'].isna().sum())}"
        )
    elif kind == "reports":
        lines.append(f"{len(frame):,} reports, CRS {crs_s}")
        counts = frame["category"].value_counts()
        lines.append("categories: " + ", ".join(f"{k} {v}" for k, v in counts.items() if v))
        if frame["date"].notna().any():
            lines.append(f"dates: {frame['date'].min():%Y-%m-%d} to {frame['date'].max():%Y-%m-%d}")
    elif kind == "facilities":
        lines.append(f"{len(frame):,} facilities located (of {frame.attrs.get('n_read', len(frame)):,} rows), CRS {crs_s}")
        lines.append(
            f"{frame['typequ'].nunique()} types, {frame['commune'].nunique()} communes; top types: "
            + ", ".join(f"{k} {v}" for k, v in frame["typequ"].value_counts().head(5).items())
        )
    elif kind == "finance":
        lines.append(f"{len(frame):,} communes, year {frame.attrs.get('year')}")
        if "population" in frame:
            lines.append(f"population: {frame['population'].sum():,.0f}")
        if "pfin_per_inhabitant" in frame:
            lines.append(f"potentiel financier per inhabitant: median {frame['pfin_per_inhabitant'].median():,.0f} EUR")
    elif kind == "urban-units":
        lines.append(f"{len(frame):,} communes in {frame['urban_unit'].nunique():,} urban units")
        if frame.attrs.get("assumed_single_unit"):
            lines.append("no urban-unit table: the study area is treated as ONE urban unit")
    return lines


def _run_load(args: argparse.Namespace) -> int:
    from .._io import write_frame, write_layers
    from ..loaders import coarsen_reports

    frame = load_input(args)
    for line in summarise(args.kind, frame):
        print(line)
    if args.out:
        out = Path(args.out)
        if args.kind == "reports":
            frame = coarsen_reports(frame)  # privacy: never more precise than the 200 m cell
        layer = args.kind.replace("-", "_")
        if out.suffix.lower() == ".gpkg" and not isinstance(frame, gpd.GeoDataFrame):
            write_layers({layer: frame}, out)
        else:
            write_frame(frame, out, layer=layer)
        note = " (reports at their 200 m cell centre)" if args.kind == "reports" else ""
        print(f"wrote {out}{note}")
    return 0

