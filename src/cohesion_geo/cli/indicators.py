"""``cohesion-geo indicators``: add every indicator to a grid and write the layers.

Thin over :func:`cohesion_geo.indicators.add_indicators`; every output is
written atomically (a failing run leaves no partial file).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from ..errors import CohesionGeoError, ConfigError

__all__ = ["register", "run"]

_RASTER_COLUMNS = ("poverty_score", "isolation_score", "poverty_rate", "mean_std_living", "reports_per_1000")


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``indicators`` subcommand."""
    from . import add_grid_arguments

    p = subparsers.add_parser(
        "indicators",
        help="cell indicators, poverty/isolation scores, facility access, resident reports",
        description="Compute the cell indicators (ratios of summed counts), the poverty and "
        "isolation scores, facility access, resident reports per cell and the confrontation "
        "layer, and write them with the grid (GeoPackage or GeoParquet). Reports are never "
        "located more precisely than their 200 m cell.",
    )
    add_grid_arguments(p)
    p.add_argument("--out", required=True, metavar="FILE",
                   help="output cells layer: .gpkg (layer 'cells'), .parquet (GeoParquet), .geojson or .csv")
    p.add_argument("--reports", metavar="FILE", help="resident reports (CSV with lon/lat, GeoJSON, GPKG...)")
    p.add_argument("--facilities", metavar="FILE", help="BPE facilities (CSV with LAMBERT_X/LAMBERT_Y, or points)")
    p.add_argument("--facility-types", metavar="C1,D2,...", default=None,
                   help="BPE type codes or prefixes for distances/counts (default: all)")
    p.add_argument("--radius", type=float, default=500.0, help="walking radius in metres (default 500)")
    p.add_argument("--urban-units", metavar="FILE", default=None,
                   help="INSEE commune -> urban unit table: scores standardised within urban units")
    p.add_argument("--areas", metavar="FILE", default=None,
                   help="polygon layer (IRIS, communes, user polygons) to aggregate the cells to")
    p.add_argument("--area-key", metavar="COLUMN", default=None, help="identifier column of --areas")
    p.add_argument("--areas-out", metavar="FILE", default=None,
                   help="output of the area aggregation (default: layer 'areas' of a .gpkg --out, "
                   "else <out>_areas.<suffix>)")
    p.add_argument("--rasters", metavar="DIR", default=None,
                   help="write GeoTIFFs aligned on the 200 m grid (scores, report density) into DIR")
    p.add_argument("--bandwidth", type=float, default=400.0,
                   help="report density kernel standard deviation in metres (default 400)")
    p.add_argument("--min-reports", type=int, default=5,
                   help="no per-category report breakdown below this many reports (default 5)")
    p.add_argument("--lisa", action="store_true", help="add local Moran's I (LISA) of the poverty score")
    p.add_argument("--permutations", type=int, default=999, help="LISA permutations (default 999)")
    p.add_argument("--seed", type=int, default=None, help="random seed (LISA permutations)")
    p.add_argument("--suppress-secret", action="store_true",
                   help="blank statistics of cells/areas with fewer than 11 households")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Run ``cohesion-geo indicators`` from parsed arguments."""
    from .._io import atomic_dir, write_frame, write_layers
    from ..indicators import (
        CONFRONTATION_CLASSES,
        add_indicators,
        aggregate,
        area_reports,
        cell_raster,
        write_raster,
        write_report_density,
    )
    from ..loaders import load_facilities, load_iris, load_reports, load_urban_units
    from . import grid_from_args

    out_path = Path(args.out)
    if out_path.suffix.lower() not in {".gpkg", ".parquet", ".geoparquet", ".geojson", ".csv"}:
        raise ConfigError(f"--out {out_path}: use .gpkg, .parquet, .geojson or .csv")
    if (args.areas is None) != (args.area_key is None):
        raise ConfigError("--areas and --area-key go together")

    grid = grid_from_args(args)
    facilities = load_facilities(args.facilities) if args.facilities else None
    reports = load_reports(args.reports) if args.reports else None
    urban_units = load_urban_units(args.urban_units, communes=grid) if args.urban_units else None
    cells = add_indicators(
        grid, facilities=facilities, reports=reports, urban_units=urban_units,
        facility_types=args.facility_types, radius=args.radius, min_reports=args.min_reports,
        lisa=args.lisa, permutations=args.permutations, rng=args.seed,
        suppress_secret=args.suppress_secret,
    )
    meta = cells.attrs.get("indicators", {})

    areas = None
    if args.areas:
        src = Path(args.areas)
        try:
            polygons = load_iris(src)
        except CohesionGeoError:  # not an IRIS layer: any polygon file
            import geopandas as gpd

            polygons = gpd.read_file(src)
        polygons = polygons.to_crs(grid.crs)
        if reports is not None:
            areas = area_reports(grid, reports, polygons, key=args.area_key,
                                 min_reports=args.min_reports, suppress_secret=args.suppress_secret)
        else:
            areas = aggregate(grid, polygons, key=args.area_key, suppress_secret=args.suppress_secret)
        for note in areas.attrs.get("notes", []):
            print(f"note (areas): {note}", file=sys.stderr)

    suffix = out_path.suffix.lower()
    if areas is not None and args.areas_out is None and suffix == ".gpkg":
        write_layers({"cells": cells, "areas": areas}, out_path)
        written = [f"{out_path} (layers cells, areas)"]
    else:
        write_frame(cells, out_path, layer="cells" if suffix == ".gpkg" else None)
        written = [str(out_path)]
        if areas is not None:
            apath = Path(args.areas_out) if args.areas_out else out_path.with_name(
                f"{out_path.stem}_areas{out_path.suffix}")
            write_frame(areas, apath, layer="areas" if apath.suffix.lower() == ".gpkg" else None)
            written.append(str(apath))

    if args.rasters:
        with atomic_dir(args.rasters) as tmp:
            for col in _RASTER_COLUMNS:
                if col in cells.columns:
                    arr, tr, crs = cell_raster(cells[col], cells)
                    write_raster(arr, tmp / f"{col}.tif", transform=tr, crs=crs, nodata=float("nan"),
                                 description=col)
            if reports is not None:
                write_report_density(grid, reports, tmp / "reports_density.tif", bandwidth=args.bandwidth)
        written.append(f"{args.rasters}/ (GeoTIFF, 200 m, aligned on the grid)")

    for note in meta.get("notes", []):
        print(f"note: {note}", file=sys.stderr)
    print(f"{len(cells)} cells, {len(meta.get('columns', []))} indicator columns")
    if "confrontation" in cells.columns:
        counts = cells["confrontation"].value_counts().reindex(list(CONFRONTATION_CLASSES)).fillna(0).astype(int)
        print("confrontation: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    for w in written:
        print(f"wrote {w}")
    return 0
