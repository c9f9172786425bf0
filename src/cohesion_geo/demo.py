"""The main job, ``cohesion-geo demo``: the whole pipeline on a ready territory.

With the real-data directory present (``--data-dir``, ``$COHESION_GEO_DATA`` or
``../shared/data``) the demo runs on **real Bordeaux Métropole data** (INSEE
Filosofi 2015 grid, IGN IRIS, INSEE BPE, DGCL finance) plus the project's
synthetic resident reports; without it, on the embedded **synthetic**
territory. It says which.

It loads every layer once, prints a summary, writes the harmonised inputs to
``OUT/inputs.gpkg`` and runs the ready project (three contrasting scenarios):
indicators, delineation, weighing and ranking, maps, comparison, robustness
and the council report (see :func:`cohesion_geo.scenarios.run.run_project`).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd

from ._io import write_layers
from .datasets import data_dir as find_data_dir
from .datasets import has_real_data

__all__ = ["DemoResult", "inputs_summary", "run_demo", "write_inputs"]


@dataclass
class DemoResult:
    """What :func:`run_demo` did: the territory, the input summary and the project run."""

    territory: str
    real_data: bool
    summary: pd.DataFrame
    run: object
    out_dir: Path


def _count(values: pd.Series) -> int:
    """Sum of fractional INSEE counts, rounded half up as INSEE publishes them."""
    return int(math.floor(float(values.sum()) + 0.5))


def _scenario_table(summary: pd.DataFrame) -> str:
    out = summary.copy()
    for col in ("ind", "men", "men_pauv"):
        if col in out:
            out[col] = out[col].map(lambda v: f"{v:,.0f}")
    if "share_of_population" in out:
        out["share_of_population"] = out["share_of_population"].map(lambda v: f"{v:.1%}")
    names = {"ind": "inhabitants", "men": "households", "men_pauv": "poor households",
             "share_of_population": "share of population"}  # fmt: skip
    return out.drop(columns=["title"], errors="ignore").rename(columns=names).to_string(index=False)


def inputs_summary(inputs) -> pd.DataFrame:  # noqa: ANN001 - LoadedInputs
    """One row per input layer: what it holds, in counts a reader checks at a glance.

    Parameters
    ----------
    inputs : cohesion_geo.scenarios.run.LoadedInputs

    Returns
    -------
    DataFrame
        Columns ``layer``, ``count``, ``what``.
    """
    g = inputs.grid
    rows = [
        ("grid cells", len(g), f"200 m cells, {int(g['imputed'].sum()):,} imputed (< 11 households)"),
        ("population", _count(g["ind"]), "inhabitants (sum of cell counts)"),
    ]
    if "men" in g:
        rows.append(("households", _count(g["men"]), "households (ménages)"))
    if "men_pauv" in g:
        rows.append(("poor households", _count(g["men_pauv"]), "below 60 % of the national median"))
    if "commune" in g:
        rows.append(("communes in the grid", int(g["commune"].nunique()), "INSEE commune codes"))
    if inputs.iris is not None:
        rows.append(("IRIS", len(inputs.iris), "IRIS contours"))
    if inputs.iris_income is not None:
        inc = inputs.iris_income
        rows.append(("IRIS income rows", len(inc),
                     f"{int(inc['median_income'].notna().sum())} with a median, "
                     f"{int(inc['poverty_rate'].notna().sum())} with a poverty rate (secrecy: missing)"))  # fmt: skip
    if inputs.facilities is not None:
        rows.append(("facilities", len(inputs.facilities), "located BPE facilities"))
    if inputs.reports is not None:
        rows.append(("resident reports", len(inputs.reports), "located reports (synthetic)"))
    if inputs.finance is not None:
        communes = set(g["commune"].dropna()) if "commune" in g else set()
        n = int(inputs.finance["commune"].isin(communes).sum()) if communes else len(inputs.finance)
        rows.append(("communes with finance data", n, "DGCL potentiel fiscal / dotation forfaitaire"))
    if inputs.urban_units is not None:
        rows.append(("urban units", int(inputs.urban_units["urban_unit"].nunique()), "INSEE urban units"))
    return pd.DataFrame(rows, columns=["layer", "count", "what"])


def _reports_by_cell(reports: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Reports counted per 200 m cell, at the cell centre; categories hidden under 5 reports."""
    from .loaders import coarsen_reports
    from .maps._privacy import MIN_REPORTS_BREAKDOWN

    coarse = coarsen_reports(reports)
    if not len(coarse):
        return gpd.GeoDataFrame({"cell_id": [], "reports_n": []}, geometry=[], crs=coarse.crs)
    counts = pd.crosstab(coarse["cell_id"], coarse["category"].astype(str)).astype("float64")
    counts.columns = [f"reports_{c}" for c in counts.columns]
    n = counts.sum(axis=1)
    counts = counts.where(n >= MIN_REPORTS_BREAKDOWN)  # no breakdown under 5 reports
    centre = coarse.groupby("cell_id").geometry.first()
    out = pd.concat([n.rename("reports_n"), counts], axis=1).reset_index()
    return gpd.GeoDataFrame(out, geometry=centre.reindex(out["cell_id"]).to_numpy(), crs=coarse.crs)


def write_inputs(inputs, path: str | os.PathLike) -> Path:  # noqa: ANN001 - LoadedInputs
    """Write the harmonised input layers to one GeoPackage, atomically.

    The file follows the publication rules of every other output: the cells'
    statistics are blanked under 11 households (``secret`` set, as in the
    scenarios' ``cells.gpkg``), and resident reports are only **counted per
    200 m cell** (``reports_by_cell``: ``cell_id``, ``reports_n`` and
    ``reports_<category>``, the categories hidden under 5 reports), at the
    cell centre, without comment nor date: a published file must not locate,
    quote or single out a resident.
    """
    from .maps import mask_secret
    from .maps._privacy import ID_COLUMNS

    id_like = {c for c in inputs.grid.columns if str(c).lower().startswith("id") or c in ("groupe", "urban_unit")}
    layers: dict[str, pd.DataFrame] = {"cells": mask_secret(inputs.grid, keep=set(ID_COLUMNS) | id_like)}
    if inputs.iris is not None:
        layers["iris"] = inputs.iris
    if inputs.iris_income is not None:
        layers["iris_income"] = inputs.iris_income
    if inputs.facilities is not None:
        layers["facilities"] = inputs.facilities
    if inputs.reports is not None:
        layers["reports_by_cell"] = _reports_by_cell(inputs.reports)
    if inputs.finance is not None:
        fin = inputs.finance
        if "commune" in inputs.grid:
            fin = fin[fin["commune"].isin(set(inputs.grid["commune"].dropna()))]
        layers["finance"] = fin
    if inputs.urban_units is not None:
        layers["urban_units"] = inputs.urban_units
    return write_layers(layers, path)


def run_demo(
    out_dir: str | os.PathLike = "out/demo",
    *,
    data_dir: str | os.PathLike | None = None,
    progress: bool = True,
    echo: Callable[[str], None] = print,
) -> DemoResult:
    """Run the demo: real Bordeaux when the data directory is there, else synthetic.

    Parameters
    ----------
    out_dir : path
        Output folder (``report.html``, one folder per scenario, ``inputs.gpkg``).
    data_dir : path, optional
        Real-data directory (default: ``$COHESION_GEO_DATA``, else ``../shared/data``).
    progress : bool, default True
        Show progress bars.
    echo : callable
        Where the summary lines go (``print`` by default).

    Returns
    -------
    DemoResult
    """
    from .scenarios import load_project, project_path
    from .scenarios.run import load_inputs, run_project

    real = has_real_data(data_dir)
    name = "bordeaux" if real else "synthetic"
    if real:
        echo(f"territory: Bordeaux Métropole, REAL data from {find_data_dir(data_dir)} "
             "(resident reports are synthetic)")  # fmt: skip
    else:
        echo("territory: Synthville, the embedded SYNTHETIC territory (no real-data directory found; "
             "set --data-dir or COHESION_GEO_DATA to use real data)")  # fmt: skip
    project = load_project(project_path(name), data_dir=data_dir)
    inputs = load_inputs(project, progress=progress)
    summary = inputs_summary(inputs)
    echo("\ninputs")
    echo(summary.to_string(index=False, formatters={"count": "{:,}".format}))
    for note in inputs.notes:
        echo(f"note: {note}")
    out = Path(out_dir)
    run = run_project(project, out_dir=out, progress=progress, inputs=inputs)
    write_inputs(inputs, out / "inputs.gpkg")
    echo("\nscenarios")
    echo(_scenario_table(run.summary()))
    echo(f"\nwritten to {out}/: report.html, inputs.gpkg, and per scenario cells.gpkg, "
         "quartiers.gpkg/.csv, map.html")  # fmt: skip
    return DemoResult(territory=name, real_data=real, summary=summary, run=run, out_dir=out)
