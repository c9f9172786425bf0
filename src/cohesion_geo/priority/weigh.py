"""Weighing each candidate quartier: surroundings, commune capacity, residents, score and rank.

:func:`weigh_quartiers` is the one call a user needs after delineation::

    result = delineate(grid)
    ranked = weigh_quartiers(result.quartiers, grid, assignment=result.cells,
                             finance=load_finance(...), urban_units=load_urban_units(...),
                             residents=load_reports(...))

It joins, per quartier,

* its surroundings (:mod:`.surroundings`): quartier vs ring vs urban unit,
  contrast ratios and a situation label;
* the financial capacity of its communes (:mod:`.capacity`), population-weighted;
* residents' reports (:func:`quartier_residents`): report intensity and the
  dominant confrontation class of its cells;
* the priority score (:mod:`.score`): ``score``, ``rank``,
  ``contrib_<component>`` and plain-language ``reasons``,

and returns the quartiers sorted by rank. See ``docs/weighing.md``.
"""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd

from .._validate import require_columns
from ..errors import ValidationError
from ..indicators.residents import CONFRONTATION_CLASSES
from .capacity import CAPACITY_OUTPUT_COLUMNS, cell_communes, commune_capacity, quartier_capacity
from .score import COMPONENTS, priority_score
from .surroundings import RING_DISTANCE, SituationThresholds, _cell_positions, assign_cells, surroundings_of_cells

__all__ = [
    "RESIDENT_OUTPUT_COLUMNS",
    "cell_residents",
    "quartier_residents",
    "weigh_quartiers",
]

#: Columns added per quartier by :func:`quartier_residents`.
RESIDENT_OUTPUT_COLUMNS: tuple[str, ...] = (
    "reports_n", "reports_per_1000", "confrontation", "confrontation_share",
)  # fmt: skip

_CONFRONTATION_ORDER = CONFRONTATION_CLASSES  # ties between classes go to the first


def cell_residents(
    grid: pd.DataFrame,
    reports: gpd.GeoDataFrame,
) -> pd.DataFrame:
    """Per-cell residents' indicators from report points, via the indicator engine.

    Reports are snapped to their 200 m cell
    (:func:`cohesion_geo.indicators.residents.cell_reports`); each cell is then
    confronted (:func:`cohesion_geo.indicators.residents.confront`) with its
    poverty rate (defaults: top fifth of cells on each side).

    Returns
    -------
    DataFrame
        Aligned on ``grid.index``: ``reports_n``, ``reports_per_1000``,
        ``confrontation``.
    """
    from ..indicators.residents import cell_reports, confront

    table = cell_reports(grid, reports, categories=())
    out = pd.DataFrame(index=grid.index)
    out["reports_n"] = table["reports_n"].to_numpy()
    out["reports_per_1000"] = table["reports_per_1000"].to_numpy()
    if "poverty_rate" in grid.columns:
        stats = grid["poverty_rate"].astype("float64")
        rate = out["reports_per_1000"].fillna(0.0)
        out["confrontation"] = confront(stats, rate, reports_n=out["reports_n"]).astype("string")
    return out


def _align_residents(residents: pd.DataFrame, grid: pd.DataFrame) -> pd.DataFrame:
    """Per-cell residents' table aligned on the grid rows (by ``cell_id`` when it has one)."""
    table = residents
    if "reports_n" not in table.columns and "reports_count" in table.columns:
        table = table.rename(columns={"reports_count": "reports_n"})
    if "confrontation" not in table.columns and "confrontation_class" in table.columns:
        table = table.rename(columns={"confrontation_class": "confrontation"})
    require_columns(table, ["reports_n"], source="residents", what="per-cell residents' table")
    if "cell_id" in table.columns:
        if table["cell_id"].duplicated().any():
            raise ValidationError("residents", ["column 'cell_id': duplicated cell ids"])
        row = _cell_positions(grid, table["cell_id"])  # grid row of each table row, -1 when absent
        hit = row >= 0
        out = pd.DataFrame(index=grid.index)
        reports = np.zeros(len(grid))
        reports[row[hit]] = table["reports_n"].to_numpy(dtype="float64", na_value=np.nan)[hit]
        out["reports_n"] = reports
        if "confrontation" in table.columns:
            cls = np.full(len(grid), None, dtype=object)
            cls[row[hit]] = table["confrontation"].to_numpy(dtype=object, na_value=None)[hit]
            out["confrontation"] = cls
        return out
    if not table.index.equals(grid.index):
        raise ValidationError("residents", [
            "the per-cell residents' table has no 'cell_id' column and is not aligned on the grid's index"])
    return table


def quartier_residents(
    cell_quartier: np.ndarray,
    grid: pd.DataFrame,
    residents: pd.DataFrame | gpd.GeoDataFrame,
    *,
    index: pd.Index | None = None,
) -> pd.DataFrame:
    """Residents' report intensity and dominant confrontation class of each quartier.

    Parameters
    ----------
    cell_quartier : ndarray of int
        Position of each grid cell's quartier, -1 for none.
    grid : DataFrame
        Canonical grid (``ind``; ``cell_id`` when ``residents`` has one).
    residents : DataFrame or GeoDataFrame
        Either a per-cell table (``cell_id`` or the grid's index;
        ``reports_n`` -- or ``reports_count`` -- and optionally
        ``confrontation``, as the indicator engine makes them; grid cells
        absent from a ``cell_id`` table count 0 reports and no class), or the
        report points themselves (canonical reports frame), counted per cell
        with :func:`cell_residents`.
    index : Index, optional
        Output index (default 0..n-1).

    Returns
    -------
    DataFrame
        ``reports_n`` (reports in its cells), ``reports_per_1000`` (per 1,000
        inhabitants of its cells), ``confrontation`` (the class covering most
        of its inhabitants; ties in the order both, statistics_only,
        residents_only, neither) and ``confrontation_share`` (the share of its
        inhabitants in that class).

    Examples
    --------
    >>> grid = pd.DataFrame({"cell_id": ["a", "b", "c"], "ind": [600.0, 400.0, 50.0]})
    >>> res = pd.DataFrame({"cell_id": ["a", "b"], "reports_n": [3.0, 2.0],
    ...                     "confrontation": ["both", "neither"]})
    >>> quartier_residents(np.array([0, 0, -1]), grid, res).to_dict("list")
    {'reports_n': [5.0], 'reports_per_1000': [5.0], 'confrontation': ['both'], 'confrontation_share': [0.6]}
    """
    cq = np.asarray(cell_quartier, dtype=np.int64)
    nq = len(index) if index is not None else (int(cq.max()) + 1 if len(cq) else 0)
    if isinstance(residents, gpd.GeoDataFrame) and "reports_n" not in residents.columns \
            and "reports_count" not in residents.columns:
        table = cell_residents(grid, residents)
    else:
        table = _align_residents(residents, grid)
    members = np.flatnonzero(cq >= 0)
    ind = np.nan_to_num(grid["ind"].to_numpy(dtype="float64", na_value=np.nan))
    n_rep = np.nan_to_num(table["reports_n"].to_numpy(dtype="float64", na_value=np.nan))
    rep = np.bincount(cq[members], weights=n_rep[members], minlength=nq)
    pop = np.bincount(cq[members], weights=ind[members], minlength=nq)
    out = pd.DataFrame(index=pd.RangeIndex(nq))
    out["reports_n"] = rep
    out["reports_per_1000"] = np.divide(1000.0 * rep, pop, out=np.full(nq, np.nan), where=pop > 0)
    conf = pd.Series(pd.NA, index=out.index, dtype="string")
    share = np.full(nq, np.nan)
    if "confrontation" in table.columns:
        cls = table["confrontation"].astype("string").to_numpy(dtype=object, na_value=None)[members]
        frame = pd.DataFrame({"q": cq[members], "cls": cls, "ind": ind[members]}).dropna(subset=["cls"])
        if len(frame):
            order = {c: i for i, c in enumerate(_CONFRONTATION_ORDER)}
            agg = frame.groupby(["q", "cls"], sort=False)["ind"].sum().reset_index()
            agg["order"] = agg["cls"].map(order).fillna(len(order))
            agg = agg.sort_values(["q", "ind", "order", "cls"], ascending=[True, False, True, True])
            top = agg.drop_duplicates("q").set_index("q")
            total = agg.groupby("q")["ind"].sum()
            conf.loc[top.index] = top["cls"].to_numpy()
            with np.errstate(invalid="ignore", divide="ignore"):
                share[top.index.to_numpy()] = np.where(total.loc[top.index] > 0,
                                                       top["ind"] / total.loc[top.index], np.nan)
    out["confrontation"] = conf
    out["confrontation_share"] = share
    if index is not None:
        out.index = index
    return out


def _capacity_table(finance: pd.DataFrame, group: str | None) -> pd.DataFrame:
    if "financial_fragility" in finance.columns and finance.index.name == "commune":
        return finance  # already commune_capacity() output
    return commune_capacity(finance, group=group)


_LEAD = ("quartier_id", "rank", "score", "reasons", "situation")


def weigh_quartiers(
    quartiers: gpd.GeoDataFrame,
    grid: gpd.GeoDataFrame,
    *,
    assignment: pd.DataFrame | pd.Series | None = None,
    ring_distance: float = RING_DISTANCE,
    finance: pd.DataFrame | None = None,
    urban_units: pd.DataFrame | pd.Series | Mapping[str, str] | str | None = None,
    residents: pd.DataFrame | gpd.GeoDataFrame | None = None,
    weights: Mapping[str, float] | str | None = None,
    communes: gpd.GeoDataFrame | None = None,
    finance_group: str | None = "size_group",
    exclude_quartiers: bool = True,
    situation_thresholds: SituationThresholds | Mapping[str, float] | None = None,
    normalise: str = "rank",
) -> gpd.GeoDataFrame:
    """Weigh and rank candidate quartiers: surroundings, commune capacity, residents, score.

    Parameters
    ----------
    quartiers : GeoDataFrame
        Candidate quartiers (``delineate(...).quartiers`` or any polygons with
        a unique ``quartier_id``).
    grid : GeoDataFrame
        The canonical grid the quartiers were drawn from.
    assignment : DataFrame or Series, optional
        Cell -> quartier (``delineate(...).cells``); default: cells whose
        centre lies in a quartier polygon.
    ring_distance : float, default 500
        Metres; the ring holds the cells whose centre is within it.
    finance : DataFrame, optional
        :func:`cohesion_geo.loaders.load_finance` output (the national table),
        or :func:`~cohesion_geo.priority.capacity.commune_capacity` output.
    urban_units : DataFrame, Series, mapping or str, optional
        ``commune -> urban_unit`` (:func:`cohesion_geo.loaders.load_urban_units`)
        or a grid column; default: the grid's ``urban_unit`` column, else the
        whole grid (``"study_area"``).
    residents : DataFrame or GeoDataFrame, optional
        Per-cell residents' indicators or report points
        (see :func:`quartier_residents`).
    weights : mapping or str, optional
        Score weights (:func:`cohesion_geo.priority.score.validate_weights`).
    communes : GeoDataFrame, optional
        Commune polygons, to give cells a commune when the grid has no
        ``commune`` column (derived grids).
    finance_group : str or None, default "size_group"
        Size groups of the capacity comparison (``"size_group"``: DGCL strata;
        ``"dsu_group"``; ``None``: all communes).
    exclude_quartiers : bool, default True
        Leave other candidates' cells out of each ring.
    situation_thresholds : SituationThresholds or mapping, optional
        Thresholds of the situation labels.
    normalise : {"rank", "minmax"}
        Normalisation of the score components.

    Returns
    -------
    GeoDataFrame
        One row per quartier sorted by ``rank`` (RangeIndex), in the
        quartiers' CRS: ``quartier_id``, ``rank``, ``score``, ``reasons``,
        ``situation``, then the surroundings columns
        (:func:`~cohesion_geo.priority.surroundings.surroundings`), the
        capacity columns (:data:`~cohesion_geo.priority.capacity.CAPACITY_OUTPUT_COLUMNS`),
        the residents' columns (:data:`RESIDENT_OUTPUT_COLUMNS`),
        ``norm_<component>``, ``contrib_<component>``, ``components_missing``,
        then the quartiers' own columns and geometry. ``attrs`` hold the
        weights, ring definition, thresholds and notes.
    """
    if not isinstance(quartiers, gpd.GeoDataFrame):
        raise ValidationError("quartiers", ["quartiers must be a GeoDataFrame (polygons with 'quartier_id')"])
    if len(grid) == 0:
        raise ValidationError("grid", ["the grid is empty (0 rows)"])
    if len(quartiers) == 0:
        raise ValidationError("quartiers", ["no candidate quartier to weigh (0 rows)"])
    if "commune" not in grid.columns and communes is not None:
        grid = grid.assign(commune=cell_communes(grid, communes))
    q = quartiers.reset_index(drop=True)
    cq = assign_cells(q, grid, assignment=assignment)
    ids = q["quartier_id"]
    sur = surroundings_of_cells(cq, grid, quartier_ids=ids, distance=ring_distance, urban_units=urban_units,
                                exclude_quartiers=exclude_quartiers, thresholds=situation_thresholds)
    notes = list(sur.attrs.get("notes", []))
    if finance is not None:
        cap = quartier_capacity(cq, grid, _capacity_table(finance, finance_group),
                                quartier_ids=ids.tolist(), index=q.index)
    else:
        cap = pd.DataFrame({c: pd.array([pd.NA] * len(q), dtype="string") if c in (
            "commune_main", "commune_main_name", "commune_shares", "finance_missing") else np.nan
            for c in CAPACITY_OUTPUT_COLUMNS}, index=q.index)
        notes.append("no finance table: the fragility component is left out")
    if residents is not None:
        res = quartier_residents(cq, grid, residents, index=q.index)
    else:
        res = pd.DataFrame({"reports_n": np.nan, "reports_per_1000": np.nan,
                            "confrontation": pd.array([pd.NA] * len(q), dtype="string"),
                            "confrontation_share": np.nan}, index=q.index)
        notes.append("no residents' reports: the reports component is left out")
    weighed = pd.concat([ids.to_frame(), sur, cap, res], axis=1)
    scored = priority_score(weighed, weights=weights, normalise=normalise)
    computed = pd.concat([weighed, scored], axis=1)
    lead = [c for c in _LEAD if c in computed.columns]
    computed = computed[lead + [c for c in computed.columns if c not in lead]]
    own = q.drop(columns=[c for c in q.columns if c in computed.columns and c != q.geometry.name])
    out = gpd.GeoDataFrame(pd.concat([computed, own], axis=1), geometry=q.geometry.name, crs=q.crs)
    out = out.sort_values("rank", kind="mergesort").reset_index(drop=True)
    out.attrs = {
        "weights": scored.attrs["weights"],
        "weights_requested": scored.attrs["weights_requested"],
        "normalise": normalise,
        "components": {n: c.column for n, c in COMPONENTS.items()},
        "ring": sur.attrs.get("ring"),
        "situation_thresholds": sur.attrs.get("thresholds"),
        "finance_group": finance_group if finance is not None else None,
        "notes": notes,
    }
    return out
