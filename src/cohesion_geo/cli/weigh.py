"""``cohesion-geo weigh``: weigh and rank candidate quartiers.

Thin over :func:`cohesion_geo.priority.weigh.weigh_quartiers`: reads the
candidate quartiers (the ``quartiers`` layer written by ``cohesion-geo
delineate``, with its ``cells`` layer when present), the grid and the optional
finance, urban-unit, commune and report files, then writes the ranked
quartiers (GeoPackage layer ``ranked``, or any vector format) and the same
table as CSV beside it. Every output is written atomically.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from ..errors import ConfigError, CRSError, InputFormatError

__all__ = ["register", "run"]

_OUT_SUFFIXES = {".gpkg", ".parquet", ".geoparquet", ".geojson", ".csv"}


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``weigh`` subcommand."""
    from . import add_grid_arguments

    p = subparsers.add_parser(
        "weigh",
        help="weigh candidate quartiers against their surroundings, commune finances and residents; rank them",
        description="For each candidate quartier: quartier vs ring (cells within --ring metres) vs urban "
        "unit (standard of living, poverty, social housing, contrast ratios, situation label), the "
        "financial potential of its communes relative to their size group (population-weighted), "
        "residents' report intensity, then a priority score with one contribution per component, a "
        "rank (1 = highest priority) and plain-language reasons. See docs/weighing.md.",
    )
    p.add_argument("quartiers", metavar="QUARTIERS",
                   help="candidate quartiers (output of 'cohesion-geo delineate', or any polygon layer)")
    p.add_argument("--quartiers-layer", default=None, metavar="NAME",
                   help="layer of QUARTIERS (default: 'quartiers' when present, else the first layer)")
    p.add_argument("--id-column", default=None, metavar="COLUMN",
                   help="identifier column of QUARTIERS when it has no 'quartier_id' (e.g. CODE_QP)")
    p.add_argument("--assignment", default=None, metavar="FILE",
                   help="cell -> quartier table (cell_id, quartier_id); default: the 'cells' layer of "
                   "QUARTIERS when present, else cells whose centre lies in a quartier")
    p.add_argument("--grid", required=True, metavar="GRID", help="Filosofi grid file the quartiers come from")
    add_grid_arguments(p, positional=False)
    p.add_argument("--finance", default=None, metavar="FILE",
                   help="commune finance table (DGCL file: national table, for group averages)")
    p.add_argument("--finance-group", default="size_group", choices=("size_group", "dsu_group", "all"),
                   help="size groups for the financial comparison: DGCL strata (default), the two DSU "
                   "groups, or all communes")
    p.add_argument("--urban-units", default=None, metavar="FILE",
                   help="INSEE commune -> urban unit table (default: the whole grid is the reference)")
    p.add_argument("--communes", default=None, metavar="FILE",
                   help="commune polygons, to locate cells when the grid has no commune column")
    p.add_argument("--reports", default=None, metavar="FILE",
                   help="resident reports (points: CSV with lon/lat, GeoJSON, GPKG...)")
    p.add_argument("--ring", type=float, default=500.0, metavar="METRES",
                   help="ring distance in metres: cells whose centre is within it (default 500)")
    p.add_argument("--ring-includes-quartiers", action="store_true",
                   help="keep other candidates' cells in each ring (default: left out)")
    p.add_argument("--weights", default=None, metavar="NAME=W,...",
                   help="score weights, e.g. poverty=0.4,contrast=0.2,fragility=0.2,population=0.1,"
                   "reports=0.1 (relative; components not named get 0)")
    p.add_argument("--normalise", default="rank", choices=("rank", "minmax"),
                   help="normalisation of the components across candidates (default rank percentile)")
    p.add_argument("--situation", default=None, metavar="NAME=V,...",
                   help="situation thresholds, e.g. belt_ring_vs_uu=1.4,pocket_ring_vs_uu=1.1,"
                   "pocket_contrast=1.5,belt_in_quartiers=0.5")
    p.add_argument("--out", required=True, metavar="FILE",
                   help="ranked quartiers: .gpkg (layer 'ranked'), .parquet, .geojson or .csv; a CSV "
                   "copy is written beside non-CSV outputs")
    p.set_defaults(func=run)
    return p


def _parse_pairs(text: str | None, what: str) -> dict[str, float] | None:
    if text is None:
        return None
    out: dict[str, float] = {}
    bad: list[str] = []
    for part in [t.strip() for t in text.split(",") if t.strip()]:
        name, sep, value = part.partition("=")
        try:
            if not sep:
                raise ValueError
            out[name.strip()] = float(value)
        except ValueError:
            bad.append(part)
    if bad:
        raise ConfigError(f"{what}: {', '.join(map(repr, bad))} not of the form name=number")
    return out


def _read_quartiers(path: Path, layer: str | None):
    import geopandas as gpd
    import pyogrio

    if not path.exists():
        raise InputFormatError(f"{path}: no such file")
    cells = None
    try:
        layers = [str(x) for x in pyogrio.list_layers(path)[:, 0]]
    except Exception as exc:  # noqa: BLE001 - any driver failure is a format problem
        raise InputFormatError(f"{path}: cannot read the quartiers layer ({exc})") from exc
    if layer is None:
        layer = "quartiers" if "quartiers" in layers else layers[0]
    elif layer not in layers:
        raise InputFormatError(f"{path}: no layer {layer!r}; layers: {', '.join(layers)}")
    quartiers = gpd.read_file(path, layer=layer, engine="pyogrio")
    if "cells" in layers and layer != "cells":
        table = pyogrio.read_dataframe(path, layer="cells", read_geometry=False)
        if {"cell_id", "quartier_id"} <= set(table.columns):
            cells = pd.DataFrame(table[["cell_id", "quartier_id"]])
    return quartiers, cells


def _read_assignment(path: Path) -> pd.DataFrame:
    if path.suffix.lower() == ".csv":  # separator and encoding detected (French ';' files)
        from ..loaders._read import read_table

        table = read_table(path, string_columns=("cell_id", "quartier_id"))
    else:
        import pyogrio

        table = pyogrio.read_dataframe(path, read_geometry=False)
    missing = [c for c in ("cell_id", "quartier_id") if c not in table.columns]
    if missing:
        raise InputFormatError(f"{path}: the assignment table lacks {', '.join(missing)}")
    return pd.DataFrame(table[["cell_id", "quartier_id"]])


def run(args: argparse.Namespace) -> int:
    """Run ``cohesion-geo weigh`` from parsed arguments."""
    import geopandas as gpd

    from .._io import write_frame
    from ..priority.score import parse_weights
    from ..priority.surroundings import SituationThresholds
    from ..priority.weigh import weigh_quartiers
    from . import grid_from_args

    out_path = Path(args.out)
    suffix = out_path.suffix.lower()
    if suffix not in _OUT_SUFFIXES:
        raise ConfigError(f"--out {out_path}: use .gpkg, .parquet, .geojson or .csv")
    weights = parse_weights(args.weights) if args.weights else None  # checked before any reading
    thresholds = SituationThresholds.coerce(_parse_pairs(args.situation, "--situation"))

    quartiers, cells = _read_quartiers(Path(args.quartiers), args.quartiers_layer)
    if args.id_column:
        if args.id_column not in quartiers.columns:
            raise ConfigError(f"--id-column {args.id_column!r} is not a column of {args.quartiers}; "
                              f"columns: {', '.join(map(str, quartiers.columns))}")
        quartiers = quartiers.rename(columns={args.id_column: "quartier_id"}) if args.id_column != "quartier_id" \
            else quartiers
    if "quartier_id" not in quartiers.columns:
        raise ConfigError(f"{args.quartiers}: no 'quartier_id' column; name the identifier with --id-column")
    assignment = _read_assignment(Path(args.assignment)) if args.assignment else cells

    grid = grid_from_args(args, attr="grid")
    if quartiers.crs is None:
        raise ConfigError(f"{args.quartiers}: the quartiers layer has no CRS")
    if not quartiers.crs.equals(grid.crs):
        print(f"note: quartiers reprojected from {quartiers.crs.to_string()} to the grid's "
              f"{grid.crs.to_string()}", file=sys.stderr)
        quartiers = quartiers.to_crs(grid.crs)

    finance = None
    if args.finance:
        from ..loaders import load_finance

        finance = load_finance(args.finance)
    urban_units = None
    if args.urban_units:
        from ..loaders import load_urban_units

        urban_units = load_urban_units(args.urban_units, communes=grid if "commune" in grid.columns else None)
    communes = None
    if args.communes:
        communes = gpd.read_file(args.communes, engine="pyogrio")
        if communes.crs is None:
            raise CRSError(f"{args.communes}: the commune layer has no CRS; set one (e.g. EPSG:2154) in the file")
        communes = communes.to_crs(grid.crs)
    residents = None
    if args.reports:
        from ..loaders import load_reports

        residents = load_reports(args.reports)

    ranked = weigh_quartiers(
        quartiers, grid, assignment=assignment, ring_distance=args.ring, finance=finance,
        urban_units=urban_units, residents=residents, weights=weights, communes=communes,
        finance_group=None if args.finance_group == "all" else args.finance_group,
        exclude_quartiers=not args.ring_includes_quartiers, situation_thresholds=thresholds,
        normalise=args.normalise,
    )
    meta = dict(ranked.attrs)
    table = ranked
    if suffix == ".csv":
        write_frame(table, out_path)
        written = [str(out_path)]
    else:
        write_frame(table, out_path, layer="ranked" if suffix == ".gpkg" else None)
        csv_path = out_path.with_suffix(".csv")
        write_frame(table, csv_path)
        written = [f"{out_path}" + (" (layer ranked)" if suffix == ".gpkg" else ""), str(csv_path)]

    for note in meta.get("notes", []):
        print(f"note: {note}", file=sys.stderr)
    used = ", ".join(f"{k}={v:.2f}" for k, v in meta.get("weights", {}).items() if v > 0)
    print(f"{len(ranked)} quartiers weighed; weights used: {used}; normalisation: {meta.get('normalise')}")
    for _, row in ranked.head(10).iterrows():
        print(f"  {int(row['rank']):>3}  {row['quartier_id']!s:<16} score {row['score']:5.1f}  {row['situation']}")
    print("written: " + ", ".join(written))
    return 0
