"""Run a project: every scenario, from the inputs to the council's dossier.

:func:`run_project` loads the inputs and computes the indicators **once**,
then for each scenario delineates, weighs and ranks the candidate quartiers,
and writes (atomically: into a temporary folder moved into place at the end,
so a failing run leaves no half-written output)::

    OUT/
      report.html                 one self-contained file for the council
      project.toml                the project file as run (for the record)
      summary.csv                 one row per scenario
      comparison.csv              each scenario against the first, summary figures
      changes_<A>_vs_<B>.csv      what changes from the first scenario to each other one
      robustness.gpkg             cells (share of scenarios) + core (quartiers every scenario keeps)
      robustness.csv, robustness.html
      rasters/                    poverty_score.tif, isolation_score.tif, robustness.tif,
                                  report_density.tif (cells under secrecy are empty)
      readjustment/               when the project names another vintage
      <scenario>/
        cells.gpkg                every cell: indicators (masked under 11 households),
                                  quartier_id, reason
        quartiers.gpkg, quartiers.csv
        rasters/quartiers.tif     rank of the quartier holding each cell
        map.html                  offline map of the scenario
        map_*.png                 print maps: poverty rate, LISA clusters, statistics vs residents

The steps are also public (:func:`load_inputs`, :func:`prepare_grid`,
:func:`run_scenario`) for notebooks.
"""

from __future__ import annotations

import contextlib
import os
import re
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .._io import atomic_dir, write_frame, write_layers, write_text
from ..errors import CohesionGeoWarning, ConfigError
from ..indicators.residents import MIN_REPORTS  # smallest number of reports for a per-category breakdown
from .compare import Comparison, Robustness, compare_scenarios, publishable, robustness
from .project import Project, Scenario, load_project

__all__ = [
    "LoadedInputs",
    "ProjectRun",
    "ScenarioResult",
    "load_inputs",
    "prepare_grid",
    "quartier_reports",
    "run_project",
    "run_scenario",
    "theme_scores",
    "write_scenario",
]

# ---------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------


@dataclass
class LoadedInputs:
    """The project's layers, loaded once and shared by every scenario."""

    grid: gpd.GeoDataFrame
    iris: gpd.GeoDataFrame | None = None
    iris_income: pd.DataFrame | None = None
    reports: gpd.GeoDataFrame | None = None
    facilities: gpd.GeoDataFrame | None = None
    finance: pd.DataFrame | None = None
    urban_units: pd.DataFrame | None = None
    sources: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@dataclass
class ScenarioResult:
    """One scenario run: its quartiers, their cells and the grid it used.

    Attributes
    ----------
    scenario : Scenario
    quartiers : GeoDataFrame
        One row per candidate quartier: the delineation's statistics, the
        weighing (score, ``rank``, ``contrib_*``, reasons, surroundings,
        financial capacity), theme scores (``theme_*``) and residents'
        reports (``reports_n``, ``reports_<category>`` where at least 5).
    cells : DataFrame
        ``cell_id``, ``quartier_id``, ``reason``.
    grid : GeoDataFrame
        The grid with indicators the scenario used.
    delineation : DelineationResult
    notes : list of str
        What the run assumed or left out, in plain words.
    """

    scenario: Scenario
    quartiers: gpd.GeoDataFrame
    cells: pd.DataFrame
    grid: gpd.GeoDataFrame
    delineation: Any = None
    notes: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.scenario.name

    def __repr__(self) -> str:  # pragma: no cover - cosmetic
        pop = float(self.quartiers["ind"].sum()) if "ind" in self.quartiers and len(self.quartiers) else 0.0
        return f"ScenarioResult({self.name!r}, {len(self.quartiers)} quartiers, {pop:,.0f} inhabitants)"


@dataclass
class ProjectRun:
    """Everything :func:`run_project` computed (and where it wrote it)."""

    project: Project
    inputs: LoadedInputs
    grid: gpd.GeoDataFrame
    results: dict[str, ScenarioResult]
    robustness: Robustness
    comparisons: list[Comparison] = field(default_factory=list)
    readjustment: list[Comparison] = field(default_factory=list)
    out_dir: Path | None = None
    notes: list[str] = field(default_factory=list)

    def summary(self) -> pd.DataFrame:  # noqa: D401
        """One row per scenario: quartiers, population, poor households, cells."""
        rows = []
        for name, r in self.results.items():
            q = r.quartiers
            row = {"scenario": name, "title": r.scenario.title, "quartiers": len(q),
                   "cells": len(r.cells)}  # fmt: skip
            for col in ("ind", "men", "men_pauv"):
                if col in q.columns:
                    row[col] = float(q[col].sum())
            if "ind" in self.grid.columns:
                total = float(self.grid["ind"].sum())
                row["share_of_population"] = row.get("ind", 0.0) / total if total else np.nan
            rows.append(row)
        return pd.DataFrame(rows)


# ---------------------------------------------------------------------------
# Steps
# ---------------------------------------------------------------------------


@contextlib.contextmanager
def _steps(total: int, *, progress: bool, desc: str) -> Iterator[Any]:
    from tqdm.auto import tqdm

    bar = tqdm(total=total, desc=desc, disable=not progress, unit="step", leave=True)
    try:
        yield bar
    finally:
        bar.close()


def _tick(bar: Any, label: str) -> None:
    bar.set_postfix_str(label, refresh=False)


def load_inputs(
    project: Project,
    /,
    *,
    progress: bool = False,
    grid: gpd.GeoDataFrame | None = None,
) -> LoadedInputs:
    """Load every input layer of ``project`` (the grid unless given).

    Urban units: the project's file when given; otherwise derived from the
    facilities when they carry INSEE's ``UU2020`` codes; otherwise the study
    area is taken as one urban unit (and the notes say so).
    """
    from .. import loaders

    inp = project.inputs
    keys = ["grid", *[k for k in ("iris", "iris_income", "reports", "facilities", "finance", "urban_units")
                      if getattr(inp, k) is not None]]  # fmt: skip
    out: dict[str, Any] = {}
    notes: list[str] = []
    sources: dict[str, str] = {}
    with _steps(len(keys), progress=progress, desc="loading inputs") as bar:
        for key in keys:
            _tick(bar, key)
            if key == "grid":
                out["grid"] = grid if grid is not None else inp.grid.load()
                sources["grid"] = str(out["grid"].attrs.get("source", inp.grid.path))
            else:
                item = getattr(inp, key)
                func = getattr(loaders, f"load_{key}")
                if key == "urban_units":
                    out[key] = func(item.path, communes=_communes(out["grid"]), **item.options)
                else:
                    out[key] = func(item.path, **item.options)
                sources[key] = str(item.path)
            bar.update(1)
    g = out["grid"]
    if out.get("urban_units") is None and "commune" in g.columns:
        fac = out.get("facilities")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CohesionGeoWarning)
            if fac is not None and "urban_unit" in fac.columns and fac["urban_unit"].notna().any():
                out["urban_units"] = loaders.load_urban_units(facilities=fac, communes=_communes(g))
                notes.append("Urban units (INSEE 2020) were read from the facilities file (BPE column UU2020).")
            else:
                out["urban_units"] = loaders.load_urban_units(communes=_communes(g))
                notes.append(
                    "No urban-unit table was given: the whole study area is treated as one urban unit."
                )
    return LoadedInputs(sources=sources, notes=notes, **out)


def _communes(grid: pd.DataFrame) -> pd.Series | None:
    if "commune" not in grid.columns:
        return None
    return grid["commune"].dropna().astype(str).drop_duplicates()


def _needs_lisa(project: Project) -> bool:
    return any(s.rule == "lisa_hh" for s in project.scenarios)


def prepare_grid(
    grid: gpd.GeoDataFrame,
    inputs: LoadedInputs,
    /,
    *,
    project: Project | None = None,
    lisa: bool | None = None,
) -> gpd.GeoDataFrame:
    """The grid with every indicator (:func:`cohesion_geo.indicators.add_indicators`).

    Uses the inputs' facilities, reports and urban units and the project's
    ``[indicators]`` options. The LISA of the poverty score is computed by
    default (it feeds the LISA cluster layer of every map and the ``lisa_hh``
    rule); ``[indicators] lisa = false`` (or ``lisa=False``) skips it, unless
    a scenario uses the ``lisa_hh`` rule.
    """
    from ..indicators import add_indicators

    opts = dict(project.indicators) if project is not None else {}
    if lisa is None:
        lisa = bool(opts.pop("lisa", True)) or (project is not None and _needs_lisa(project))
    else:
        opts.pop("lisa", None)
    if lisa:
        opts.setdefault("rng", 0)
    return add_indicators(
        grid,
        facilities=inputs.facilities,
        reports=inputs.reports,
        urban_units=inputs.urban_units,
        lisa=lisa,
        **opts,
    )


def _groups(grid: pd.DataFrame) -> pd.Series | None:
    return grid["urban_unit"] if "urban_unit" in grid.columns else None


def _rescore(grid: gpd.GeoDataFrame, scenario: Scenario) -> gpd.GeoDataFrame:
    """Recompute the composite scores whose weights the scenario sets."""
    from ..indicators import composite_score

    tables = {k: v for k, v in scenario.indicators.items() if v}
    if not tables:
        return grid
    g = grid.copy()
    pop = g["ind"].to_numpy(dtype="float64") if "ind" in g.columns else None
    for name, weights in tables.items():
        missing = [k for k in weights if k not in g.columns]
        if missing:
            raise ConfigError(
                f"scenario {scenario.name!r}: [scenario.indicators] {name} uses {', '.join(map(repr, missing))}, "
                f"absent from the grid (available: {', '.join(c for c in g.columns if g[c].dtype.kind == 'f')})"
            )
        g[f"{name}_score"] = composite_score(g, weights=weights, groups=_groups(g), population=pop)
    return g


def run_scenario(
    scenario: Scenario,
    grid: gpd.GeoDataFrame,
    inputs: LoadedInputs,
    /,
) -> ScenarioResult:
    """Delineate, weigh and rank the quartiers of one scenario on a prepared grid.

    Parameters
    ----------
    scenario : Scenario
    grid : GeoDataFrame
        Output of :func:`prepare_grid` (shared by every scenario).
    inputs : LoadedInputs
    """
    from ..priority import delineate

    g = _rescore(grid, scenario)
    notes: list[str] = []
    opts = scenario.delineate_options()
    if inputs.urban_units is not None:
        opts["urban_units"] = inputs.urban_units
    if inputs.iris is not None:
        opts["iris"] = inputs.iris
    rule = opts.get("rule", "default")
    if rule == "lisa_hh":
        if "lisa_cluster" not in g.columns:
            raise ConfigError(f"scenario {scenario.name!r}: rule 'lisa_hh' needs the LISA of the poverty score")
        opts["labels"] = g["lisa_cluster"].astype(object)
    if rule == "composite":
        col = "composite_score" if "composite_score" in g.columns else "poverty_score"
        opts["score"] = g[col]
        notes.append(f"Cells are ranked by {col.replace('_', ' ')} (composite rule).")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CohesionGeoWarning)  # one-unit warning: said in the notes
        res = delineate(g, **opts)
    quartiers = _weigh(res, g, inputs, scenario, notes)
    quartiers = _add_reports(quartiers, res.cells, g, inputs)
    themes = theme_scores(quartiers, res.cells, g, scenario)
    for col in themes.columns:
        quartiers[col] = themes[col].to_numpy()
    if any(t.weight > 0 for t in scenario.themes):
        quartiers = _apply_theme_weights(quartiers, scenario)
    return ScenarioResult(scenario=scenario, quartiers=quartiers, cells=res.cells.copy(), grid=g,
                          delineation=res, notes=notes)  # fmt: skip


def _weigh(res: Any, grid: gpd.GeoDataFrame, inputs: LoadedInputs, scenario: Scenario,
           notes: list[str]) -> gpd.GeoDataFrame:
    """Score and rank the quartiers (:func:`cohesion_geo.priority.weigh.weigh_quartiers`)."""
    from ..priority.weigh import weigh_quartiers

    if not len(res.quartiers):
        q = res.quartiers.copy()
        for col in ("rank", "score", "reasons"):
            q[col] = pd.Series(dtype="float64" if col != "reasons" else object)
        return q
    kwargs: dict[str, Any] = dict(scenario.weighing)
    if scenario.score:
        kwargs["weights"] = dict(scenario.score)
    if "reports_n" in grid.columns:
        kwargs["residents"] = pd.DataFrame(grid[[c for c in ("cell_id", "reports_n", "confrontation")
                                                 if c in grid.columns]])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CohesionGeoWarning)
        out = weigh_quartiers(res.quartiers, grid, assignment=res.cells, finance=inputs.finance,
                              urban_units=inputs.urban_units, **kwargs)
    for w in caught:
        if issubclass(w.category, CohesionGeoWarning) and str(w.message) not in notes:
            notes.append(str(w.message))
    for n in out.attrs.get("notes", []):
        if n not in notes:
            notes.append(str(n))
    return out


def quartier_reports(
    cells: pd.DataFrame,
    grid: pd.DataFrame,
    reports: gpd.GeoDataFrame | None,
    /,
    *,
    min_reports: int = MIN_REPORTS,
) -> pd.DataFrame:
    """Residents' reports per quartier, counted on the quartier's cells.

    Returns a DataFrame indexed by ``quartier_id``: ``reports_n`` and, only
    for quartiers with at least ``min_reports`` reports, ``reports_<category>``
    (missing otherwise), plus ``reports_per_1000`` inhabitants. Reports are
    counted per 200 m cell first (never located more precisely).
    """
    from ..indicators.residents import count_reports

    ids = pd.Index(pd.unique(cells["quartier_id"].astype(str)), name="quartier_id")
    if reports is None or not len(ids):
        return pd.DataFrame(index=ids)
    raw = count_reports(grid, reports)
    raw["cell_id"] = grid["cell_id"].astype(str).to_numpy()
    m = cells[["cell_id", "quartier_id"]].astype(str).merge(raw, on="cell_id", how="left")
    cols = [c for c in raw.columns if c.startswith("reports_") and c != "reports_per_1000"]
    sums = m.groupby("quartier_id")[cols].sum(min_count=0).reindex(ids).fillna(0.0)
    cats = [c for c in cols if c != "reports_n"]
    few = sums["reports_n"] < min_reports
    sums.loc[few, cats] = np.nan
    pop = grid[["cell_id", "ind"]].astype({"cell_id": str}).merge(cells[["cell_id", "quartier_id"]].astype(str),
                                                                   on="cell_id").groupby("quartier_id")["ind"].sum()
    sums["reports_per_1000"] = sums["reports_n"] / pop.reindex(ids).replace(0, np.nan) * 1000
    return sums


def _add_reports(q: gpd.GeoDataFrame, cells: pd.DataFrame, grid: pd.DataFrame,
                 inputs: LoadedInputs) -> gpd.GeoDataFrame:
    if inputs.reports is None:
        return q
    rep = quartier_reports(cells, grid, inputs.reports)
    q = q.copy()
    key = q["quartier_id"].astype(str)
    for col in rep.columns:  # weighing may already hold reports_n: ours replaces it
        q[col] = key.map(rep[col]).to_numpy()
    return q


def theme_scores(
    quartiers: pd.DataFrame,
    cells: pd.DataFrame,
    grid: pd.DataFrame,
    scenario: Scenario,
    /,
) -> pd.DataFrame:
    """Score of each theme of ``scenario`` for each quartier.

    Each indicator of a theme is measured on the quartier (a ratio of the
    summed counts of its cells, or the population-weighted mean for scores
    and derived columns) and standardised against the **cells of the whole
    study area** (population-weighted mean and standard deviation): +1 means
    one standard deviation above the territory's average inhabitant. The
    theme score is the weighted mean of these values. Columns ``theme_<name>``,
    aligned on ``quartiers.index``.
    """
    from ..indicators.cell import INDICATORS, cell_indicators

    out = pd.DataFrame(index=quartiers.index)
    if not scenario.themes or not len(quartiers):
        for t in scenario.themes:
            out[t.column] = pd.Series(dtype="float64")
        return out
    m = cells[["cell_id", "quartier_id"]].astype(str).merge(
        pd.DataFrame(grid).drop(columns="geometry", errors="ignore").astype({"cell_id": str}), on="cell_id"
    )
    ids = quartiers["quartier_id"].astype(str)
    pop_all = grid["ind"].to_numpy(dtype="float64") if "ind" in grid.columns else np.ones(len(grid))
    for theme in scenario.themes:
        num = np.zeros(len(quartiers))
        den = np.zeros(len(quartiers))
        for col, w in theme.indicators.items():
            if col not in grid.columns:
                continue
            spec = INDICATORS.get(col)
            if spec is not None and spec.available(grid.columns):
                need = sorted({c for s in (spec.requires, *spec.alternatives) for c in s if c in grid.columns})
                sums = m.groupby("quartier_id")[need].sum()
                value = cell_indicators(sums, indicators=[col])[col]
            else:
                x = pd.to_numeric(m[col], errors="coerce")
                wts = m["ind"].astype(float) if "ind" in m.columns else pd.Series(1.0, index=m.index)
                ok = x.notna() & (wts > 0)
                value = (x[ok] * wts[ok]).groupby(m.loc[ok, "quartier_id"]).sum() / wts[ok].groupby(
                    m.loc[ok, "quartier_id"]).sum()
            cellv = pd.to_numeric(grid[col], errors="coerce").to_numpy(dtype="float64")
            ok = np.isfinite(cellv) & (pop_all > 0)
            if ok.sum() < 2:
                continue
            mean = np.average(cellv[ok], weights=pop_all[ok])
            sd = np.sqrt(np.average((cellv[ok] - mean) ** 2, weights=pop_all[ok]))
            if not sd > 0:
                continue
            z = (ids.map(value).to_numpy(dtype="float64") - mean) / sd
            good = np.isfinite(z)
            num += np.where(good, w * z, 0.0)
            den += np.where(good, abs(w), 0.0)
        out[theme.column] = np.divide(num, den, out=np.full(len(quartiers), np.nan), where=den > 0)
    return out


def _apply_theme_weights(q: gpd.GeoDataFrame, scenario: Scenario) -> gpd.GeoDataFrame:
    """Blend the weighted themes into the priority score and re-rank.

    The score of :func:`~cohesion_geo.priority.score.priority_score` (0-100,
    contributions in points) keeps the share ``1 - sum(theme weights)``; each
    weighted theme is put on the same 0-1 scale across candidates
    (percentile rank) and adds ``100 × weight × that value`` points as
    ``contrib_theme_<name>``, so the contributions still add up to the score.
    Ties are ranked by ``quartier_id``.
    """
    from ..priority.score import normalise_component

    q = q.copy()
    total = sum(t.weight for t in scenario.themes)
    if total >= 1:
        raise ConfigError(f"scenario {scenario.name!r}: theme weights sum to {total:g}; they must stay below 1")
    base = pd.to_numeric(q["score"], errors="coerce") if "score" in q.columns else pd.Series(0.0, index=q.index)
    score = (1 - total) * base.fillna(0.0)
    for c in [c for c in q.columns if c.startswith("contrib_")]:
        q[c] = pd.to_numeric(q[c], errors="coerce") * (1 - total)
    extra: dict[int, list[str]] = {i: [] for i in range(len(q))}
    for t in scenario.themes:
        if t.weight <= 0:
            continue
        n = normalise_component(pd.to_numeric(q[t.column], errors="coerce")).fillna(0.0)
        part = 100 * t.weight * n
        q[f"contrib_{t.column}"] = part
        score = score + part
        for i, v in enumerate(n.to_numpy()):
            if v >= 0.5 and len(q) > 1:
                extra[i].append(f"{t.name}: higher than {100 * v:.0f} % of the other candidates")
    q["score"] = score
    order = sorted(range(len(q)), key=lambda i: (-round(float(score.iloc[i]), 9), str(q["quartier_id"].iloc[i])))
    rank = np.empty(len(q), dtype=np.int64)
    rank[order] = np.arange(1, len(q) + 1)
    q["rank"] = rank
    contrib_cols = [c for c in q.columns if c.startswith("contrib_")]
    names = {t.column: f"theme {t.name}" for t in scenario.themes}
    reasons = []
    for i, r in enumerate(q["reasons"].tolist() if "reasons" in q.columns else [""] * len(q)):
        parts = [p for p in (str(r).split("; ") if isinstance(r, str) else []) if p and not p.startswith("score ")]
        parts += extra[i]
        contribs = sorted(((float(q[c].iloc[i]), c[len("contrib_"):]) for c in contrib_cols
                           if pd.notna(q[c].iloc[i]) and float(q[c].iloc[i]) > 0), key=lambda t: (-t[0], t[1]))[:2]
        if contribs:
            parts.append(f"score {float(score.iloc[i]):.1f}, mostly from "
                         + " and ".join(f"{names.get(k) or _label(k)} (+{v:.1f})" for v, k in contribs))
        reasons.append("; ".join(parts))
    q["reasons"] = reasons
    return q.sort_values("rank", kind="stable").reset_index(drop=True)


def _label(component: str) -> str:
    from ..priority.score import COMPONENTS

    if component in COMPONENTS:
        return COMPONENTS[component].label
    return component.replace("theme_", "theme ").replace("_", " ")


# ---------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------


def _published_cells(grid: gpd.GeoDataFrame, cells: pd.DataFrame | None = None) -> gpd.GeoDataFrame:
    """Cells for a published layer: statistics blanked under 11 households."""
    from ..maps import mask_secret

    g = grid.copy()
    if cells is not None:
        memb = cells.drop_duplicates("cell_id")
        memb.index = pd.Index(memb["cell_id"].astype(str).tolist())
        key = g["cell_id"].astype(str)
        g["quartier_id"] = key.map(memb["quartier_id"]).astype(object)
        if "reason" in memb.columns:
            g["reason"] = key.map(memb["reason"]).astype(object)
    keep = {"cell_id", "quartier_id", "reason", "commune", "cell_x", "cell_y", "cell_size", "imputed",
            "urban_unit", "reports_n"}  # fmt: skip
    return mask_secret(g, keep=keep)


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", name)


def _raster(values: pd.Series, grid: pd.DataFrame, path: Path, description: str) -> None:
    from ..indicators.residents import cell_raster, write_raster

    arr, transform, crs = cell_raster(values, grid)
    write_raster(arr, path, transform=transform, crs=crs, nodata=float("nan"), description=description)


def write_scenario(result: ScenarioResult, folder: str | os.PathLike, /, *, title: str | None = None,
                   reports_layer: gpd.GeoDataFrame | None = None) -> dict[str, Path]:
    """Write one scenario's files (cells, quartiers, raster, map) into ``folder``."""
    from ..maps import quartiers_map, save_map, static_map

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    q = result.quartiers
    written["quartiers.gpkg"] = write_frame(q, folder / "quartiers.gpkg", layer="quartiers")
    written["quartiers.csv"] = write_frame(q, folder / "quartiers.csv")
    pub = _published_cells(result.grid, result.cells)
    written["cells.gpkg"] = write_frame(pub, folder / "cells.gpkg", layer="cells")
    (folder / "rasters").mkdir(exist_ok=True)
    rank = result.quartiers.set_index(result.quartiers["quartier_id"].astype(str))["rank"] \
        if "rank" in result.quartiers.columns else None
    key = pub["quartier_id"]
    values = key.map(rank) if rank is not None else key.notna().astype(float).where(key.notna())
    _raster(pd.to_numeric(values, errors="coerce"), result.grid, folder / "rasters" / "quartiers.tif",
            f"rank of the candidate quartier holding the cell, scenario {result.name}")
    written["rasters/quartiers.tif"] = folder / "rasters" / "quartiers.tif"
    m = quartiers_map(result.quartiers, cells=pub, reports_per_cell=reports_layer,
                      title=title or result.scenario.title)
    written["map.html"] = save_map(m, folder / "map.html")
    print_maps = {"poverty_rate": "poverty rate", "lisa_cluster": "LISA clusters of the poverty score",
                  "confrontation": "statistics vs residents"}  # fmt: skip
    for column, label in print_maps.items():
        if column in pub.columns and pub[column].notna().any():
            name = f"map_{column}.png"
            written[name] = static_map(
                pub, column=column, quartiers=result.quartiers.to_crs(pub.crs),
                path=folder / name, title=f"{title or result.scenario.title}: {label}",
                source=_source_line(result.grid),
            )
    return written


def _source_line(grid: gpd.GeoDataFrame) -> str:
    vintage = grid.attrs.get("vintage")
    return f"INSEE Filosofi {vintage} 200 m grid" if vintage else "INSEE Filosofi 200 m grid"


def _reports_layer(grid: gpd.GeoDataFrame) -> gpd.GeoDataFrame | None:
    if "reports_n" not in grid.columns:
        return None
    from ..maps import reports_from_table

    return reports_from_table(grid, grid)


# ---------------------------------------------------------------------------
# The whole project
# ---------------------------------------------------------------------------


def _resolve_project(project: Project | str | os.PathLike, data_dir: str | os.PathLike | None) -> Project:
    if isinstance(project, Project):
        return project
    return load_project(project, data_dir=data_dir)


def run_project(
    project: Project | str | os.PathLike,
    /,
    *,
    out_dir: str | os.PathLike | None = None,
    progress: bool = True,
    data_dir: str | os.PathLike | None = None,
    scenarios: Sequence[str] | None = None,
    report: bool = True,
    inputs: LoadedInputs | None = None,
) -> ProjectRun:
    """Run every scenario of a project and write its outputs atomically.

    Parameters
    ----------
    project : Project or path
        A validated project or the path of its TOML file.
    out_dir : path, optional
        Output folder (replaced as a whole on success; untouched on failure).
        Without it nothing is written and the results are only returned.
    progress : bool, default True
        Show tqdm progress bars.
    data_dir : path, optional
        Real-data directory for ``${data_dir}`` (when ``project`` is a path).
    scenarios : list of str, optional
        Run only these scenarios (default: all, in the file's order).
    report : bool, default True
        Write ``report.html``.
    inputs : LoadedInputs, optional
        Layers already loaded with :func:`load_inputs` (not read again).

    Returns
    -------
    ProjectRun

    Examples
    --------
    >>> from cohesion_geo.scenarios import project_path, run_project
    >>> run = run_project(project_path("synthetic"), out_dir="out/synthetic", progress=False)  # doctest: +SKIP
    >>> run.summary()                                                                        # doctest: +SKIP
    """
    proj = _resolve_project(project, data_dir)
    chosen = [proj.scenario(n) for n in scenarios] if scenarios else list(proj.scenarios)
    if out_dir is None:
        return _compute(proj, chosen, progress=progress, inputs=inputs)
    with atomic_dir(out_dir) as tmp:
        run = _compute(proj, chosen, progress=progress, inputs=inputs)
        _write_all(run, tmp, progress=progress, report=report)
    run.out_dir = Path(out_dir)
    return run


def _compute(
    proj: Project, chosen: list[Scenario], *, progress: bool, inputs: LoadedInputs | None = None
) -> ProjectRun:
    if inputs is None:
        inputs = load_inputs(proj, progress=progress)
    n_steps = 1 + len(chosen) + 1 + (len(proj.readjustment.scenarios or chosen) if proj.readjustment else 0)
    with _steps(n_steps, progress=progress, desc=f"{proj.name}") as bar:
        _tick(bar, "indicators")
        grid = prepare_grid(inputs.grid, inputs, project=proj)
        bar.update(1)
        results: dict[str, ScenarioResult] = {}
        for sc in chosen:
            _tick(bar, f"scenario {sc.name}")
            results[sc.name] = run_scenario(sc, grid, inputs)
            bar.update(1)
        _tick(bar, "comparisons")
        rob = robustness(results, grid=grid)
        names = list(results)
        comparisons = [
            compare_scenarios(results[names[0]], results[n], grid=grid, names=(names[0], n)) for n in names[1:]
        ]
        bar.update(1)
        readj: list[Comparison] = []
        if proj.readjustment is not None:
            other = proj.readjustment.grid.load()
            other_grid = prepare_grid(other, inputs, project=proj)
            for name in proj.readjustment.scenarios or [s.name for s in chosen]:
                _tick(bar, f"readjustment {name}")
                sc = proj.scenario(name)
                before = results.get(name) or run_scenario(sc, grid, inputs)
                after = run_scenario(sc, other_grid, inputs)
                label = (_vintage_label(grid, "before"), _vintage_label(other_grid, "after"))
                if label[0] == label[1]:
                    label = (label[0] + " (project grid)", label[1] + " (readjustment grid)")
                cmp = compare_scenarios(before, after, grid=grid, grid_b=other_grid, names=label)
                cmp.summary["scenario"] = name
                readj.append(cmp)
                bar.update(1)
    return ProjectRun(project=proj, inputs=inputs, grid=grid, results=results, robustness=rob,
                      comparisons=comparisons, readjustment=readj, notes=list(inputs.notes))  # fmt: skip


def _vintage_label(grid: pd.DataFrame, default: str) -> str:
    v = grid.attrs.get("vintage")
    return (str(v) if v is not None else default) + (" (simulated)" if grid.attrs.get("simulated") else "")


def _write_robustness(rob: Robustness, folder: Path, /, *, table: str) -> None:
    """Write ``robustness.gpkg``, the table ``table`` of the core kept by every scenario and ``robustness.html``.

    Every household statistic goes through :func:`publishable` (blank under 11 households).
    """
    from ..maps import robustness_map, save_map

    core = rob.core if isinstance(rob.core, gpd.GeoDataFrame) and len(rob.core) else None
    layers = {"cells": publishable(rob.cells)}
    if core is not None:
        layers["core"] = publishable(core)
    write_layers(layers, folder / "robustness.gpkg")
    write_frame(publishable(pd.DataFrame(rob.core).drop(columns="geometry", errors="ignore")), folder / table)
    if len(rob.cells):
        save_map(robustness_map(rob.cells, n_scenarios=len(rob.scenarios), quartiers=core),
                 folder / "robustness.html")


def _write_all(run: ProjectRun, folder: Path, *, progress: bool, report: bool) -> None:
    proj = run.project
    n = len(run.results) + 3
    with _steps(n, progress=progress, desc="writing outputs") as bar:
        reports_layer = _reports_layer(run.grid)
        for name, res in run.results.items():
            _tick(bar, name)
            write_scenario(res, folder / _safe(name), reports_layer=reports_layer)
            bar.update(1)
        _tick(bar, "robustness, comparisons")
        if proj.path is not None and Path(proj.path).is_file():
            write_text(Path(proj.path).read_text(encoding="utf-8"), folder / "project.toml")
        write_frame(run.summary(), folder / "summary.csv")
        if run.comparisons:
            write_frame(publishable(pd.DataFrame([c.summary for c in run.comparisons])), folder / "comparison.csv")
            for c in run.comparisons:
                write_frame(publishable(c.changes), folder / f"changes_{_safe(c.a)}_vs_{_safe(c.b)}.csv")
        _write_robustness(run.robustness, folder, table="robustness.csv")
        bar.update(1)
        _tick(bar, "rasters")
        _write_rasters(run, folder / "rasters")
        if run.readjustment:
            rd = folder / "readjustment"
            rd.mkdir()
            write_frame(publishable(pd.DataFrame([c.summary for c in run.readjustment])), rd / "summary.csv")
            for c in run.readjustment:
                write_frame(publishable(c.changes), rd / f"changes_{_safe(c.summary.get('scenario', c.a))}.csv")
        bar.update(1)
        if report:
            _tick(bar, "report")
            from .report import write_report

            write_report(run, folder / "report.html")
        bar.update(1)


def _write_rasters(run: ProjectRun, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    g = run.grid
    secret = g["secret"].astype(bool) if "secret" in g.columns else pd.Series(False, index=g.index)
    for col, desc in (("poverty_score", "poverty score (z, within urban unit); empty under 11 households"),
                      ("isolation_score", "isolation score (z, within urban unit); empty under 11 households")):
        if col in g.columns:
            _raster(pd.to_numeric(g[col], errors="coerce").where(~secret), g, folder / f"{col}.tif", desc)
    share = g["cell_id"].astype(str).map(run.robustness.cells.set_index("cell_id")["share"]).fillna(0.0)
    _raster(share, g, folder / "robustness.tif", "share of scenarios placing the cell in a quartier")
    if run.inputs.reports is not None:
        from ..indicators.residents import write_report_density

        write_report_density(g, run.inputs.reports, folder / "report_density.tif")
