"""How close candidate quartiers come to official perimeters: :func:`evaluate`.

Population is located by grid cells and apportioned by area: a cell of ``p``
inhabitants of which a fraction ``a`` lies inside a polygon counts ``a × p``
inhabitants inside it (residents are assumed spread evenly over their 200 m
cell). With ``O`` the union of the official perimeters and ``C`` the union of
the candidates:

- recall = population in ``O ∩ C`` / population in ``O``;
- precision = population in ``O ∩ C`` / population in ``C``;
- F1 = their harmonic mean;
- per official quartier ``q``: covered share = population in ``q ∩ C`` /
  population in ``q``; the summary reports the share of official quartiers
  at least half covered.

Invalid input polygons (common in official files) are repaired with
``make_valid`` on a copy; candidates and official perimeters are reprojected
to the grid's CRS, which must be projected (areas in square metres).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .._validate import require_columns
from ..errors import CRSError, ConfigError, MissingColumnsError, ValidationError

__all__ = ["EvaluationResult", "evaluate", "OFFICIAL_ID_COLUMNS", "OFFICIAL_NAME_COLUMNS"]

#: Columns tried, in order, to name official quartiers.
OFFICIAL_ID_COLUMNS: tuple[str, ...] = ("CODE_QP", "code_qp", "code_quartier", "quartier_id", "id")
OFFICIAL_NAME_COLUMNS: tuple[str, ...] = ("NOM_QP", "nom_qp", "name", "nom")


@dataclass
class EvaluationResult:
    """Fidelity of candidates to official perimeters (population-weighted).

    Attributes
    ----------
    recall, precision, f1 : float
        Population-weighted scores (see the module docstring).
    half_covered_share : float
        Share of official quartiers whose population is at least half covered.
    population_official, population_candidates, population_both : float
        Inhabitants located in ``O``, ``C`` and ``O ∩ C``.
    per_quartier : DataFrame
        One row per official quartier: ``official_id``, ``name`` (when known),
        ``population``, ``covered``, ``covered_share``, ``half_covered``.
    notes : list of str
        Repairs and reprojections applied to the inputs.
    """

    recall: float
    precision: float
    f1: float
    half_covered_share: float
    population_official: float
    population_candidates: float
    population_both: float
    per_quartier: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """The headline figures as a plain dict."""
        return {
            "recall": self.recall,
            "precision": self.precision,
            "f1": self.f1,
            "half_covered_share": self.half_covered_share,
            "n_official": int(len(self.per_quartier)),
            "n_half_covered": int(self.per_quartier["half_covered"].sum()),
            "population_official": self.population_official,
            "population_candidates": self.population_candidates,
            "population_both": self.population_both,
        }

    def __str__(self) -> str:
        s = self.summary()
        return (
            f"recall {s['recall']:.3f}  precision {s['precision']:.3f}  F1 {s['f1']:.3f}  "
            f"half covered {s['n_half_covered']}/{s['n_official']} ({s['half_covered_share']:.0%})"
        )


def _polygons(frame: gpd.GeoDataFrame | gpd.GeoSeries, what: str, crs: Any, notes: list[str]) -> gpd.GeoDataFrame:
    gdf = frame if isinstance(frame, gpd.GeoDataFrame) else gpd.GeoDataFrame(geometry=frame)
    if gdf.crs is None:
        raise CRSError(f"{what}: no CRS; set one (e.g. gdf.set_crs('EPSG:2154'))")
    gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty].copy()
    if not gdf.crs.equals(crs):
        notes.append(f"{what}: reprojected from {gdf.crs.to_string()} to the grid's {crs.to_string()}")
        gdf = gdf.to_crs(crs)
    bad = ~gdf.geometry.is_valid
    if bad.any():
        notes.append(f"{what}: {int(bad.sum())} invalid polygon(s) repaired with make_valid")
        gdf.loc[bad, "geometry"] = gdf.geometry[bad].make_valid()
    # keep polygonal parts only (make_valid may add lines or points)
    gdf["geometry"] = [
        shapely.union_all([p for p in shapely.get_parts(g) if p.geom_type in ("Polygon", "MultiPolygon")])
        if g.geom_type not in ("Polygon", "MultiPolygon")
        else g
        for g in gdf.geometry
    ]
    return gdf


def _fractions(cells: np.ndarray, areas: np.ndarray, tree: shapely.STRtree, geom: Any) -> tuple[np.ndarray, np.ndarray]:
    """Indices of cells meeting ``geom`` and the fraction of each one's area inside it."""
    if geom is None or geom.is_empty:
        return np.array([], dtype=np.int64), np.array([], dtype=float)
    idx = tree.query(geom, predicate="intersects")
    if idx.size == 0:
        return idx, np.array([], dtype=float)
    shapely.prepare(geom)
    inside = shapely.contains_properly(geom, cells[idx])
    frac = np.ones(idx.size)
    edge = ~inside
    if edge.any():
        frac[edge] = shapely.area(shapely.intersection(cells[idx[edge]], geom)) / areas[idx[edge]]
    return idx, np.clip(frac, 0.0, 1.0)


def evaluate(
    candidates: gpd.GeoDataFrame | Any,
    official: gpd.GeoDataFrame,
    *,
    grid: gpd.GeoDataFrame,
    official_id: str | None = None,
    population: str = "ind",
) -> EvaluationResult:
    """Population-weighted recall, precision and F1 of candidates against official perimeters.

    Parameters
    ----------
    candidates : GeoDataFrame or DelineationResult
        Candidate quartiers (polygons; a :class:`DelineationResult` is read
        through its ``quartiers``).
    official : GeoDataFrame
        Official perimeters (e.g. the QPV layer).
    grid : GeoDataFrame
        Grid cells with their polygons and population (the canonical grid
        frame), in a projected CRS.
    official_id : str, optional
        Column naming official quartiers (default: the first of
        :data:`OFFICIAL_ID_COLUMNS` present, else the row number).
    population : str
        Population column of ``grid``.

    Returns
    -------
    EvaluationResult

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> cells = gpd.GeoDataFrame({"ind": [100.0, 100.0]},
    ...     geometry=[shapely.box(0, 0, 200, 200), shapely.box(200, 0, 400, 200)], crs=2154)
    >>> off = gpd.GeoDataFrame({"CODE_QP": ["Q1"]}, geometry=[shapely.box(0, 0, 300, 200)], crs=2154)
    >>> cand = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 200, 200)], crs=2154)
    >>> r = evaluate(cand, off, grid=cells)
    >>> round(r.recall, 3), round(r.precision, 3), r.half_covered_share
    (0.667, 1.0, 1.0)
    """
    notes: list[str] = []
    if not isinstance(candidates, (gpd.GeoDataFrame, gpd.GeoSeries)) and hasattr(candidates, "quartiers"):
        candidates = candidates.quartiers
    if not isinstance(grid, gpd.GeoDataFrame):
        raise ConfigError("grid must be a GeoDataFrame with cell polygons (cohesion_geo.loaders.load_grid)")
    require_columns(grid, [population], source="grid", what="grid")
    crs = grid.crs
    if crs is None:
        raise CRSError("grid: no CRS; the cells' areas need a projected CRS")
    if not crs.is_projected:
        raise CRSError(f"grid: CRS {crs.to_string()} is geographic; areas need a projected CRS (to_crs)")
    cand = _polygons(candidates, "candidates", crs, notes)
    off = _polygons(official, "official perimeters", crs, notes)
    if not len(off):
        raise ValidationError("official perimeters", [
            f"no polygon to evaluate against ({len(official)} rows, none with a geometry): "
            "recall and coverage would be undefined"])
    if official_id is None:
        official_id = next((c for c in OFFICIAL_ID_COLUMNS if c in off.columns), None)
    elif official_id not in off.columns:
        raise MissingColumnsError(f"official perimeters lack the id column {official_id!r}")
    ids = off[official_id].astype(str).to_numpy() if official_id else np.arange(1, len(off) + 1).astype(str)
    name_col = next((c for c in OFFICIAL_NAME_COLUMNS if c in off.columns), None)

    cells = grid.geometry.to_numpy()
    pop = grid[population].to_numpy(dtype=float)
    pop = np.where(np.isfinite(pop), pop, 0.0)
    areas = shapely.area(cells)
    areas = np.where(areas > 0, areas, np.nan)
    tree = shapely.STRtree(cells)

    u_off = shapely.union_all(off.geometry.to_numpy()) if len(off) else None
    u_cand = shapely.union_all(cand.geometry.to_numpy()) if len(cand) else None
    u_both = shapely.intersection(u_off, u_cand) if u_off is not None and u_cand is not None else None

    def located(geom: Any) -> float:
        idx, frac = _fractions(cells, areas, tree, geom)
        return float(np.nansum(pop[idx] * frac))

    p_off, p_cand, p_both = located(u_off), located(u_cand), located(u_both)
    recall = p_both / p_off if p_off > 0 else float("nan")
    precision = p_both / p_cand if p_cand > 0 else 0.0  # no candidate population: nothing right
    f1 = 2 * recall * precision / (recall + precision) if recall + precision > 0 else 0.0
    if not np.isfinite(f1):
        f1 = 0.0

    rows = []
    for i, geom in enumerate(off.geometry):
        q_pop = located(geom)
        q_cov = located(shapely.intersection(geom, u_cand)) if u_cand is not None else 0.0
        share = q_cov / q_pop if q_pop > 0 else float("nan")
        rows.append(
            {
                "official_id": ids[i],
                **({"name": off[name_col].iloc[i]} if name_col else {}),
                "population": q_pop,
                "covered": q_cov,
                "covered_share": share,
                "half_covered": bool(share >= 0.5) if np.isfinite(share) else False,
            }
        )
    per_q = pd.DataFrame(rows)
    if per_q.empty:
        per_q = pd.DataFrame(columns=["official_id", "population", "covered", "covered_share", "half_covered"])
    half = float(per_q["half_covered"].mean()) if len(per_q) else float("nan")
    return EvaluationResult(
        recall=float(recall),
        precision=float(precision),
        f1=float(f1),
        half_covered_share=half,
        population_official=p_off,
        population_candidates=p_cand,
        population_both=p_both,
        per_quartier=per_q,
        notes=notes,
    )
