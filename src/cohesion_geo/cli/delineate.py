"""``cohesion-geo delineate`` and ``cohesion-geo evaluate``.

``delineate GRID --out quartiers.gpkg`` writes candidate quartiers (layer
``quartiers``) and the included cells with their reason (layer ``cells``);
``evaluate CANDIDATES OFFICIAL --grid GRID`` prints population-weighted
recall, precision and F1 and, per official quartier, the covered share.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import geopandas as gpd
import pandas as pd

from .._io import write_frame, write_layers
from ..errors import ConfigError, InputFormatError
from . import add_grid_arguments, grid_from_args

__all__ = ["register"]


def _read_vector(path: str, *, layer: str | None = None) -> gpd.GeoDataFrame:
    p = Path(path)
    if not p.exists():
        raise InputFormatError(f"{path}: no such file")
    try:
        if p.suffix.lower() in {".parquet", ".geoparquet"}:
            return gpd.read_parquet(p)
        return gpd.read_file(p, layer=layer, engine="pyogrio")
    except Exception as exc:  # pyogrio / fiona errors vary
        raise InputFormatError(f"{path}: cannot read as a vector layer ({exc})") from exc


def _read_urban_units(path: str, grid: pd.DataFrame) -> pd.DataFrame:
    from ..loaders import load_urban_units

    return load_urban_units(path, communes=grid if "commune" in grid.columns else None)


def _delineate(args: argparse.Namespace) -> int:
    from ..priority import delineate

    grid = grid_from_args(args)
    urban_units = _read_urban_units(args.urban_units, grid) if args.urban_units else None
    result = delineate(
        grid,
        rule=args.rule,
        vintage=args.vintage,
        national_median=args.national_median,
        urban_median=args.urban_median,
        urban_unit_population=args.urban_unit_population,
        threshold=args.threshold,
        urban_units=urban_units,
        min_population=args.min_population,
        min_urban_population=args.min_urban_population,
        contiguity=args.contiguity,
        bridge=args.bridge,
        grow=args.grow,
        variant=args.variant,
        perimeter=args.perimeter,
        perimeter_resolution=args.perimeter_resolution,
    )
    out = Path(args.out)
    quartiers = result.quartiers
    if out.suffix.lower() == ".gpkg":
        cells = result.cells.copy()
        cells["reason"] = cells["reason"].astype(str)
        params = pd.DataFrame(
            {"key": list(result.params), "value": [json.dumps(v, default=str) for v in result.params.values()]}
        )
        write_layers({"quartiers": quartiers, "cells": cells, "params": params}, out)
    else:
        write_frame(quartiers, out, layer="quartiers")
    pop = float(quartiers["ind"].sum()) if len(quartiers) else 0.0
    s = result.params["thresholds"]
    s_txt = ", ".join(f"{k}: {v:,.0f}" for k, v in list(s.items())[:3]) + (" ..." if len(s) > 3 else "")
    print(
        f"{len(quartiers)} candidate quartiers ({pop:,.0f} inhabitants, {len(result.cells)} cells), "
        f"rule {result.params['rule']!r}, threshold S (EUR) {s_txt} -> {out}"
    )
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from ..priority import evaluate

    grid = grid_from_args(args)
    layer = args.candidates_layer
    if layer is None and Path(args.candidates).suffix.lower() == ".gpkg":
        import pyogrio

        names = [str(n) for n in pyogrio.list_layers(args.candidates)[:, 0]]
        layer = "quartiers" if "quartiers" in names else None
    candidates = _read_vector(args.candidates, layer=layer)
    official = _read_vector(args.official, layer=args.official_layer)
    if not len(official):
        from ..errors import ValidationError

        raise ValidationError(str(args.official), ["the official perimeter layer has no rows"])
    result = evaluate(candidates, official, grid=grid, official_id=args.official_id)
    print(str(result))
    for note in result.notes:
        print(f"note: {note}")
    table = result.per_quartier.copy()
    if args.per_quartier:
        shown = table.assign(covered_share=table["covered_share"].round(3), population=table["population"].round(0))
        print(shown.drop(columns=["covered"]).to_string(index=False))
    if args.out:
        dest = Path(args.out)
        if dest.suffix.lower() == ".json":
            from .._io import write_text

            payload = {**result.summary(), "per_quartier": table.to_dict(orient="records"), "notes": result.notes}
            write_text(json.dumps(payload, indent=2, default=str), dest)
        elif dest.suffix.lower() == ".csv":
            write_frame(table, dest)
        else:
            raise ConfigError(f"--out {dest}: use a .json or .csv file")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``delineate`` and ``evaluate`` subcommands."""
    from ..priority.rules import RULES

    p = subparsers.add_parser(
        "delineate",
        help="candidate priority quartiers from a Filosofi grid",
        description="Delineate candidate priority quartiers (QPV-like) from a 200 m grid. "
        "Rules and calibration: docs/delineation.md.",
    )
    add_grid_arguments(p)
    p.add_argument("--urban-units", metavar="FILE", default=None, help="commune -> urban unit table (INSEE UU file)")
    p.add_argument("--national-median", type=float, metavar="EUR", default=None,
                   help="national median standard of living (default: built in per vintage, INSEE ERFS)")
    p.add_argument("--urban-median", type=float, metavar="EUR", default=None,
                   help="urban-unit median (default: estimated from the grid)")
    p.add_argument("--urban-unit-population", type=float, metavar="N", default=None,
                   help="inhabitants of the urban unit (INSEE), when the grid covers only part of it: "
                   "from 5 million the decree's weights are reversed (default: the grid's sum)")
    p.add_argument("--threshold", type=float, metavar="EUR", default=None,
                   help="the threshold S itself (overrides the formula)")
    p.add_argument("--rule", choices=[r for r in RULES if r not in ("lisa_hh", "composite")], default="default")
    p.add_argument("--min-population", type=float, metavar="N", default=None, help="quartier floor (1,000)")
    p.add_argument("--min-urban-population", type=float, metavar="N", default=None,
                   help="urban units smaller than this are not searched (10,000; overseas communes 15,000)")
    p.add_argument("--contiguity", choices=["queen", "rook"], default=None)
    p.add_argument("--bridge", type=int, metavar="CELLS", default=None, help="bridge gaps of up to CELLS cells")
    p.add_argument("--grow", type=int, metavar="RINGS", default=None, help="rings of zone growth (0: none)")
    p.add_argument("--variant", choices=["mainland", "overseas"], default="mainland")
    p.add_argument("--perimeter", choices=["cells", "interpolated"], default="cells",
                   help="quartier edges along whole cell edges (cells, default) or drawn between cell centres "
                   "where the rule's line is crossed (interpolated; same cells, same statistics)")
    p.add_argument("--perimeter-resolution", type=float, metavar="METRES", default=25.0,
                   help="sub-pixel size of --perimeter interpolated (25; must divide the cell size)")
    p.add_argument("--out", required=True, metavar="FILE", help="output (.gpkg: layers quartiers, cells, params)")
    p.set_defaults(func=_delineate)

    e = subparsers.add_parser(
        "evaluate",
        help="compare candidate quartiers with official perimeters (population-weighted F1)",
        description="Population-weighted recall, precision and F1 of candidates against official "
        "perimeters; population located by grid cells and apportioned by area.",
    )
    e.add_argument("candidates", metavar="CANDIDATES", help="candidate quartiers (vector file)")
    e.add_argument("official", metavar="OFFICIAL", help="official perimeters (vector file)")
    e.add_argument("--grid", required=True, metavar="GRID", help="Filosofi grid locating the population")
    add_grid_arguments(e, positional=False)
    e.add_argument("--candidates-layer", default=None, help="layer of CANDIDATES (default: quartiers if present)")
    e.add_argument("--official-layer", default=None)
    e.add_argument("--official-id", default=None, help="id column of OFFICIAL (default: CODE_QP...)")
    e.add_argument("--per-quartier", action="store_true", help="print the covered share of each official quartier")
    e.add_argument("--out", default=None, metavar="FILE", help="write the figures (.json or .csv)")
    e.set_defaults(func=_evaluate)
