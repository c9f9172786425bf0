"""Candidate priority quartiers from a 200 m grid: :func:`delineate`.

Pipeline (each step documented in ``docs/delineation.md``):

1. **Urban units.** Each cell gets an urban unit (a ``urban_unit`` column, or a
   ``commune -> urban_unit`` table); without any, the whole study area is one
   urban unit and a warning says so. Only units of at least 10,000
   inhabitants (the decree's floor; overseas: communes of 15,000) are searched.
2. **Threshold.** ``S`` per urban unit by the official formula
   (:func:`~cohesion_geo.priority.threshold.official_threshold`): national
   median built in per vintage, urban-unit median estimated from the grid
   (population-weighted median of cell means) unless given.
3. **Cores.** The rule flags cells (:mod:`cohesion_geo.priority.rules`).
4. **Grouping** on the integer-grid raster (:mod:`~cohesion_geo.priority.grouping`):
   connected components (queen or rook), zone growth while the zone's
   aggregate stays under the line, bridging of gaps, hole filling and enclave
   absorption, pruning of one-cell appendages, then the population floor
   (1,000 inhabitants). Zones never cross an urban unit's boundary.
5. **Outputs**: one dissolved polygon per quartier with its statistics, and
   the list of included cells with the reason each one is in. With
   ``perimeter="interpolated"`` the polygon's edge is drawn through the edge
   cells where the rule's line is crossed (:mod:`~cohesion_geo.priority.perimeter`);
   the statistics stay those of the zone's cells.

The result depends on the cells, never on the order of the rows.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from affine import Affine
from rasterio import features

from .._validate import Problems, example_rows
from ..errors import CohesionGeoWarning, ConfigError, MissingColumnsError
from ..indicators.aggregate import secret_flag
from ..cellid import epsg_of_ids
from . import grouping as G
from .perimeter import DEFAULT_CLAMP, DEFAULT_RESOLUTION, PERIMETERS, interpolated_geometries, subcell_factor
from .raster import GridRaster, one_geometry
from .rules import DEFAULT_POVERTY_LEVEL, RULES, Rule, RuleInputs, get_rule
from .threshold import (
    NATIONAL_MEDIANS,
    RULE_SETS,
    RuleSet,
    estimate_urban_median,
    official_threshold,
    weighted_quantile,
)

__all__ = ["DelineationResult", "REASONS", "delineate", "resolve_urban_units"]

log = logging.getLogger(__name__)

#: Why a cell is in a quartier (column ``reason`` of :attr:`DelineationResult.cells`).
REASONS: tuple[str, ...] = ("flagged", "grown", "bridged", "filled", "enclave")
_CODE = {name: i + 1 for i, name in enumerate(REASONS)}


@dataclass
class DelineationResult:
    """Candidate quartiers, the cells in them, and every parameter used.

    Attributes
    ----------
    quartiers : GeoDataFrame
        One row per candidate quartier: ``quartier_id``, ``urban_unit``,
        ``ind``, ``men``/``men_pauv`` (when the grid has counts),
        ``mean_std_living``, ``poverty_rate``, ``imputed_share`` (population
        share of imputed cells), ``n_cells``, ``area_ha`` (area of the
        polygon, in the cells' CRS), ``communes`` (comma-separated,
        when the grid has ``commune``), ``iris`` (when ``iris=`` is given),
        ``threshold`` (``S``, EUR), ``line`` (the income line the rule used,
        EUR, when it has one), ``rule``; geometry = the dissolved cells
        (pixels added by bridging or filling included), in the grid's CRS,
        or with ``perimeter="interpolated"`` the interpolated perimeter.
    cells : DataFrame
        One row per included cell: ``cell_id``, ``quartier_id``, ``reason``
        (one of :data:`REASONS`).
    params : dict
        Rule, options, national median and its source, urban-unit medians,
        thresholds, how urban units were found.
    """

    quartiers: gpd.GeoDataFrame
    cells: pd.DataFrame
    params: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:  # pragma: no cover - cosmetic
        pop = float(self.quartiers["ind"].sum()) if len(self.quartiers) else 0.0
        return (
            f"DelineationResult(rule={self.params.get('rule')!r}, {len(self.quartiers)} quartiers, "
            f"{len(self.cells)} cells, {pop:,.0f} inhabitants)"
        )


# --- inputs -------------------------------------------------------------------


def resolve_urban_units(
    grid: pd.DataFrame,
    *,
    urban_units: pd.DataFrame | Mapping[str, str] | pd.Series | str | None = None,
) -> tuple[pd.Series, str]:
    """Urban unit of each cell and a sentence saying where it came from.

    Parameters
    ----------
    grid : DataFrame
        The canonical grid.
    urban_units : DataFrame, mapping, Series, str or None
        A ``commune -> urban_unit`` table (DataFrame with those columns, as
        :func:`cohesion_geo.loaders.load_urban_units` returns -- communes
        flagged ``rural`` there are outside any unit -- or a mapping /
        Series indexed by commune), or the name of a grid column. ``None``
        uses a ``urban_unit`` column when there is one, else the whole grid is
        one urban unit (``"study_area"``) and a warning says so.

    Returns
    -------
    (Series, str)
        Urban unit per cell (string; NA for cells outside any unit) and the
        provenance sentence.

    Examples
    --------
    >>> g = pd.DataFrame({"commune": ["59350", "59512", "62001"]})
    >>> uu, how = resolve_urban_units(g, urban_units={"59350": "59702", "59512": "59702"})
    >>> uu.tolist()
    ['59702', '59702', <NA>]
    """
    if isinstance(urban_units, str):
        if urban_units not in grid.columns:
            raise MissingColumnsError(f"urban_units={urban_units!r}: no such column in the grid")
        return grid[urban_units].astype("string"), f"grid column {urban_units!r}"
    if urban_units is None:
        if "urban_unit" in grid.columns:
            return grid["urban_unit"].astype("string"), "grid column 'urban_unit'"
        msg = (
            "no urban units given (no 'urban_unit' column, no commune -> urban unit table): "
            "the whole study area is treated as one urban unit"
        )
        warnings.warn(msg, CohesionGeoWarning, stacklevel=3)
        log.info(msg)
        whole = pd.Categorical.from_codes(np.zeros(len(grid), dtype=np.int8), categories=["study_area"])
        return pd.Series(whole, index=grid.index), msg
    if "commune" not in grid.columns:
        raise MissingColumnsError(
            "a commune -> urban unit table needs a 'commune' column in the grid "
            "(or pass an 'urban_unit' column)"
        )
    if isinstance(urban_units, pd.DataFrame):
        missing = [c for c in ("commune", "urban_unit") if c not in urban_units.columns]
        if missing:
            raise MissingColumnsError(f"urban-unit table lacks column(s) {', '.join(map(repr, missing))}")
        table = urban_units.drop_duplicates("commune").set_index("commune")["urban_unit"].astype("string")
        if "rural" in urban_units.columns:  # communes outside any urban unit (INSEE code dd000)
            rural = urban_units.drop_duplicates("commune").set_index("commune")["rural"].fillna(False)
            table = table.mask(rural.astype(bool).to_numpy())
    else:
        table = pd.Series(dict(urban_units)) if not isinstance(urban_units, pd.Series) else urban_units
    table = table.astype("string")
    table.index = table.index.astype(str)
    uu = grid["commune"].astype("string").map(table).astype("string")
    return uu, "commune -> urban unit table"


def _departement(commune: pd.Series) -> pd.Series:
    """Département code of each commune code (three characters overseas: ``97x``, else two)."""
    code = commune.astype("string")
    return code.str.slice(0, 3).where(code.str.startswith("97"), code.str.slice(0, 2))


def _positional(values: pd.Series | np.ndarray, grid: pd.DataFrame, what: str) -> pd.Series:
    """``values`` aligned on the grid (by index for a Series), as a 0..n-1 indexed Series."""
    if isinstance(values, pd.Series):
        if not values.index.equals(grid.index):
            values = values.reindex(grid.index)
        return pd.Series(values.to_numpy(), name=what)
    arr = np.asarray(values)
    if arr.shape[0] != len(grid):
        raise ConfigError(f"{what} has {arr.shape[0]} values, the grid {len(grid)} cells")
    return pd.Series(arr, name=what)


def _check_grid(grid: pd.DataFrame) -> None:
    problems = Problems("grid")
    missing = [c for c in ("cell_x", "cell_y", "cell_size", "ind") if c not in grid.columns]
    if missing:
        raise MissingColumnsError(
            f"grid lacks column(s) {', '.join(map(repr, missing))}: load it with "
            "cohesion_geo.loaders.load_grid (canonical frame)"
        )
    sizes = pd.unique(grid["cell_size"])
    if len(sizes) > 1:
        problems.add(f"cells of several sizes ({', '.join(map(str, sizes[:5]))}); delineate one size at a time")
    ind = grid["ind"].to_numpy(dtype=float)
    bad = ~np.isfinite(ind) | (ind < 0)
    if bad.any():
        problems.add(f"column 'ind': missing or negative population in {example_rows(bad)}")
    problems.raise_if_any()


def _national_median(
    national_median: float | None, vintage: int | None, grid: pd.DataFrame
) -> tuple[float, str]:
    if national_median is not None:
        return float(national_median), "given"
    v = vintage if vintage is not None else grid.attrs.get("vintage")
    if v is not None:
        if int(v) in NATIONAL_MEDIANS:
            return NATIONAL_MEDIANS[int(v)], f"INSEE ERFS, vintage {int(v)}"
        near = min(NATIONAL_MEDIANS, key=lambda y: (abs(y - int(v)), -y))
        warnings.warn(
            f"no built-in national median for vintage {v}; using {near} ({NATIONAL_MEDIANS[near]:,.0f} EUR)",
            CohesionGeoWarning,
            stacklevel=3,
        )
        return NATIONAL_MEDIANS[near], f"INSEE ERFS, vintage {near} (nearest to {v})"
    latest = max(NATIONAL_MEDIANS)
    warnings.warn(
        f"grid vintage unknown (derived layout?): using the {latest} national median "
        f"({NATIONAL_MEDIANS[latest]:,.0f} EUR); pass vintage= or national_median=",
        CohesionGeoWarning,
        stacklevel=3,
    )
    return NATIONAL_MEDIANS[latest], f"INSEE ERFS, vintage {latest} (vintage unknown)"


def _per_unit(value: float | Mapping[str, float] | pd.Series | None, units: list[str], name: str) -> dict[str, float]:
    if value is None:
        return {}
    if isinstance(value, (int, float, np.integer, np.floating)):
        return {u: float(value) for u in units}
    mapping = dict(value.items()) if isinstance(value, (pd.Series, Mapping)) else None
    if mapping is None:
        raise ConfigError(f"{name} must be a number or a mapping urban unit -> number, not {type(value).__name__}")
    return {str(k): float(v) for k, v in mapping.items()}


# --- grouping of one unit -----------------------------------------------------


def _group_unit(
    *,
    own: np.ndarray,
    free: np.ndarray,
    cores: np.ndarray,
    joinable: np.ndarray,
    pop: np.ndarray,
    growth: dict[str, np.ndarray] | None,
    opts: Mapping[str, Any],
    peel: tuple[np.ndarray, float] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Group one urban unit's crop; returns (zone mask before floor, reason raster)."""
    contiguity = opts["contiguity"]
    reason = np.zeros(own.shape, dtype=np.int8)
    mask = cores & own
    reason[mask] = _CODE["flagged"]
    if growth is not None and opts["grow"] > 0 and mask.any():
        labels, _ = G.label_zones(mask, contiguity=contiguity)
        grown = G.grow_zones(
            labels,
            numerator=growth["numerator"],
            denominator=growth["denominator"],
            limit=float(growth["limit"]),
            below=bool(growth["below"]),
            allowed=growth["allowed"] & own & joinable,
            order=growth["order"],
            rings=int(opts["grow"]),
            contiguity=contiguity,
        )
        new = (grown > 0) & ~mask
        reason[new] = _CODE["grown"]
        mask = grown > 0
    passable = (own & joinable) | free
    if opts["bridge"] > 0:
        bridged = G.bridge_gaps(mask, gap=int(opts["bridge"]), contiguity=contiguity, allowed=passable)
        reason[bridged & ~mask] = _CODE["bridged"]
        mask = bridged
    if opts["fill_holes"]:
        filled = G.fill_holes(
            mask,
            contiguity=contiguity,
            population=pop,
            max_population=opts["enclave_max_population"],
            allowed=passable,
        )
        added = filled & ~mask
        if added.any():
            hl, nh = G.label_zones(added, contiguity="rook" if contiguity == "queen" else "queen")
            size = np.bincount(hl.ravel(), minlength=nh + 1)
            single = size[hl] == 1
            reason[added & single] = _CODE["filled"]
            reason[added & ~single] = _CODE["enclave"]
        mask = filled
    if opts["prune"] > 0:
        mask = G.prune_appendages(mask, passes=int(opts["prune"]))
    if peel is not None:
        mask = G.peel_boundary(mask, value=peel[0], limit=peel[1])
    reason[~mask] = 0
    return mask, reason


def _zone_tests(
    zl: np.ndarray,
    nz: int,
    pop: np.ndarray,
    msl: np.ndarray,
    line: float,
    zone_test: str | None,
    poverty: np.ndarray | None,
    min_poverty: float | None,
) -> np.ndarray:
    """Which zones (index 1..nz; index 0 False) pass the zone-level tests."""
    ok = np.ones(nz + 1, dtype=bool)
    known = np.isfinite(msl) & (zl > 0)
    w = np.where(known, pop, 0.0)
    if zone_test == "mean":
        num = G.zone_sums(zl, w * np.nan_to_num(msl), nz)
        den = G.zone_sums(zl, w, nz)
        ok &= (den > 0) & (num < line * den)
    elif zone_test == "median":  # population-weighted median of the zone's cell means
        idx = np.flatnonzero(known.ravel())
        idx = idx[np.argsort(zl.ravel()[idx], kind="stable")]
        edges = np.searchsorted(zl.ravel()[idx], np.arange(nz + 2))
        med = np.array([np.nan] + [
            weighted_quantile(msl.ravel()[idx[a:b]], w.ravel()[idx[a:b]], 0.5)
            for a, b in zip(edges[1:-1], edges[2:])
        ])
        ok &= med < line  # NaN (no known cell) fails
    if min_poverty is not None and poverty is not None:
        pk = np.isfinite(poverty) & (zl > 0)
        pw = np.where(pk, pop, 0.0)
        num = G.zone_sums(zl, pw * np.nan_to_num(poverty), nz)
        den = G.zone_sums(zl, pw, nz)
        ok &= (den > 0) & (num >= (min_poverty - 1e-12) * den)
    ok[0] = False
    return ok


# --- main entry point -----------------------------------------------------------


def delineate(
    grid: pd.DataFrame,
    *,
    rule: str | Rule = "default",
    threshold: float | Mapping[str, float] | None = None,
    national_median: float | None = None,
    urban_median: float | Mapping[str, float] | None = None,
    vintage: int | None = None,
    urban_units: pd.DataFrame | Mapping[str, str] | pd.Series | str | None = None,
    urban_unit_population: float | Mapping[str, float] | None = None,
    variant: Literal["mainland", "overseas"] | RuleSet = "mainland",
    contiguity: Literal["queen", "rook"] | None = None,
    grow: int | None = None,
    bridge: int | None = None,
    fill_holes: bool | None = None,
    enclave_max_population: float | None = None,
    prune: int | None = None,
    imputed: Literal["core", "join", "exclude"] | None = None,
    min_population: float | None = None,
    min_urban_population: float | None = None,
    proxy_factor: float | None = None,
    poverty_level: float | None = None,
    grow_factor: float | None = None,
    poverty_cap: float | None = None,
    peel: float | None = None,
    zone_test: Literal["mean", "median"] | None = None,
    min_zone_poverty: float | None = None,
    min_density: float | None = None,
    labels: pd.Series | None = None,
    score: pd.Series | None = None,
    percentile: float = 80.0,
    iris: gpd.GeoDataFrame | None = None,
    perimeter: Literal["cells", "interpolated"] = "cells",
    perimeter_resolution: float = DEFAULT_RESOLUTION,
) -> DelineationResult:
    """Delineate candidate priority quartiers from a 200 m grid.

    Parameters
    ----------
    grid : DataFrame or GeoDataFrame
        Canonical grid frame (:func:`cohesion_geo.loaders.load_grid`): at
        least ``cell_id``, ``cell_x``, ``cell_y``, ``cell_size``, ``ind`` and
        the columns the rule reads (``mean_std_living``, ``poverty_rate``).
    rule : str or Rule
        ``"default"`` (calibrated), ``"official"``, ``"poverty_rate"``,
        ``"lisa_hh"`` (with ``labels=``) or ``"composite"`` (with ``score=``);
        see :mod:`cohesion_geo.priority.rules`.
    threshold : float or mapping, optional
        ``S`` (EUR) for every urban unit, or per urban unit; computed by the
        official formula when not given.
    national_median : float, optional
        EUR/year; built in per vintage (INSEE ERFS) when not given.
    urban_median : float or mapping, optional
        Urban-unit median(s); estimated from the grid when not given
        (population-weighted median of cell means). Overseas: the
        *département* median, estimated over the grid's cells of each
        département (from the commune code: ``972``, ``974``...).
    vintage : int, optional
        Filosofi vintage (else ``grid.attrs["vintage"]``).
    urban_units : table, mapping, column name or None
        See :func:`resolve_urban_units`.
    urban_unit_population : float or mapping, optional
        Urban-unit populations (else the sum of ``ind`` over the grid's cells,
        which undercounts a unit the grid only partly covers).
    variant : {"mainland", "overseas"} or RuleSet
        Parameter set of the decree (:mod:`cohesion_geo.priority.threshold`).
    contiguity, grow, bridge, fill_holes, enclave_max_population, prune, imputed
        Grouping options; ``None`` takes the rule's default (see
        ``docs/delineation.md``). ``grow``: rings of zone growth (0 = none).
        ``bridge``: close gaps of up to this many cells. ``fill_holes``: fill
        enclosed holes (with ``enclave_max_population``, only holes with at
        most that many inhabitants). ``prune``: passes removing cells joined
        by one side only. ``imputed``: ``"core"`` (imputed cells may seed),
        ``"join"`` (they may only be grown, bridged or filled into) or
        ``"exclude"`` (never in a quartier).
    min_population : float, optional
        Floor of a quartier's population (1,000).
    min_urban_population : float, optional
        Urban units smaller than this are not searched (10,000; overseas:
        communes of 15,000).
    proxy_factor, poverty_level, grow_factor : float, optional
        Parameters of the default rule (1.25, 0.30, 1.45).
    poverty_cap : float, optional
        Default rule: cells seeded by their poverty rate must also have a mean
        standard of living below ``poverty_cap × S`` (None: no cap).
    peel : float, optional
        After grouping, drop the zones' edge cells (a rook neighbour outside
        the zone) whose mean standard of living is above ``peel × S``, one
        pass: the better-off fringe (None: no peeling).
    zone_test : {"mean", "median"}, optional
        Zone-level test mirroring the decree: drop zones whose
        population-weighted mean (or median) of the cell means is not below
        the rule's line (``S`` for rules without a line). None: no test.
    min_zone_poverty : float, optional
        Drop zones whose poverty rate (population-weighted mean of cell
        rates) is below this level. None: no floor.
    min_density : float, optional
        Floor of a zone's density (inhabitants/km², counting every pixel of
        the zone); None takes the variant's (overseas 2,000, mainland none).
    These five options are off by default; their scores on Lille are in
    ``docs/delineation.md`` §7 (none beat the default by 0.02 F1).
    labels, score, percentile
        Inputs of the ``lisa_hh`` and ``composite`` rules.
    iris : GeoDataFrame, optional
        IRIS contours (column ``iris``): each quartier lists the IRIS it touches.
    perimeter : {"cells", "interpolated"}
        How quartier polygons are drawn. ``"cells"``: the union of the zone's
        cells. ``"interpolated"``: the same cells make the quartier (same
        statistics, same floor) but the perimeter is drawn through the edge
        cells where the rule's line is crossed -- the rule's margin
        (:attr:`Rule.margin`), clamped so the zone keeps its cells,
        interpolated bilinearly between cell centres on sub-pixels of
        ``perimeter_resolution`` metres (:mod:`cohesion_geo.priority.perimeter`).
        The rule must have a margin (``lisa_hh`` has none). On Lille it raises
        F1 from 0.756 to 0.777 (``docs/delineation.md`` §7).
    perimeter_resolution : float
        Sub-pixel size in metres for ``perimeter="interpolated"`` (25); must
        divide the cell size.

    Returns
    -------
    DelineationResult

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> xs, ys = np.meshgrid(np.arange(6) * 200, np.arange(4) * 200)
    >>> g = pd.DataFrame({"cell_x": xs.ravel(), "cell_y": ys.ravel(), "cell_size": 200,
    ...                   "ind": 500.0, "mean_std_living": 25_000.0, "poverty_rate": 0.05,
    ...                   "urban_unit": "59702"})
    >>> g["cell_id"] = [f"CRS3035RES200mN{y}E{x}" for x, y in zip(g.cell_x, g.cell_y)]
    >>> g.loc[g.cell_x <= 400, ["mean_std_living", "poverty_rate"]] = [9_000.0, 0.45]
    >>> res = delineate(g, rule="official", national_median=20_000)
    >>> res.quartiers[["quartier_id", "ind", "n_cells", "threshold"]].to_dict("records")
    [{'quartier_id': 'CQ0001', 'ind': 6000.0, 'n_cells': 12, 'threshold': 10100.0}]
    >>> res.quartiers.geometry.iloc[0].area
    480000.0

    The same quartier with its eastern edge drawn where the line (10,100 EUR)
    would be crossed between the poor cells (9,000) and the much richer ones
    (25,000): 75 m inside the poor cells; same cells, same statistics.

    >>> fine = delineate(g, rule="official", national_median=20_000, perimeter="interpolated")
    >>> fine.quartiers[["ind", "n_cells", "area_ha"]].to_dict("records")
    [{'ind': 6000.0, 'n_cells': 12, 'area_ha': 42.0}]
    """
    _check_grid(grid)
    rs = RULE_SETS[variant] if isinstance(variant, str) and variant in RULE_SETS else variant
    if not isinstance(rs, RuleSet):
        raise ConfigError(f"variant must be one of {', '.join(RULE_SETS)} or a RuleSet, not {variant!r}")
    the_rule = get_rule(rule)
    opts: dict[str, Any] = dict(the_rule.options)
    for key, value in (
        ("contiguity", contiguity),
        ("grow", grow),
        ("bridge", bridge),
        ("fill_holes", fill_holes),
        ("enclave_max_population", enclave_max_population),
        ("prune", prune),
        ("imputed", imputed),
    ):
        if value is not None:
            opts[key] = value
    if opts["contiguity"] not in ("queen", "rook"):
        raise ConfigError(f"contiguity must be 'queen' or 'rook', not {opts['contiguity']!r}")
    if opts["imputed"] not in ("core", "join", "exclude"):
        raise ConfigError(f"imputed must be 'core', 'join' or 'exclude', not {opts['imputed']!r}")
    for key in ("grow", "bridge", "prune"):
        if int(opts[key]) < 0:
            raise ConfigError(f"{key} must be a non-negative number of cells, not {opts[key]!r}")
    if perimeter not in PERIMETERS:
        raise ConfigError(f"perimeter must be one of {', '.join(map(repr, PERIMETERS))}, not {perimeter!r}")
    if perimeter == "interpolated" and the_rule.margin is None:
        raise ConfigError(
            f"perimeter='interpolated' needs a rule with a continuous margin; rule {the_rule.name!r} has "
            "none (its cells are flagged by labels, not by a line): use perimeter='cells'"
        )
    floor = float(rs.min_quartier_population if min_population is None else min_population)
    unit_floor = float(rs.min_area_population if min_urban_population is None else min_urban_population)

    # only the columns the pipeline reads (the rest of a 40-column grid is not copied);
    # nothing below depends on the order of the rows: grouping runs on the raster
    wanted = [
        "cell_id", "cell_x", "cell_y", "cell_size", "ind", "men", "men_pauv", "ind_snv",
        "mean_std_living", "poverty_rate", "imputed", "commune", "urban_unit", "labels", "score",
    ]  # fmt: skip
    if isinstance(urban_units, str):
        wanted.append(urban_units)
    g = pd.DataFrame(grid[[c for c in dict.fromkeys(wanted) if c in grid.columns]]).reset_index(drop=True)
    if labels is not None:
        labels = _positional(labels, grid, "labels")
    if score is not None:
        score = _positional(score, grid, "score").astype(float)
    if "cell_id" not in g.columns:
        from ..cellid import cell_ids

        g["cell_id"] = cell_ids(g["cell_x"], g["cell_y"], cell_size=g["cell_size"])

    # 1. units (urban units, or communes overseas)
    if rs.local_area == "departement":
        unit, unit_how = (
            (g["commune"].astype("string"), "communes (overseas rule)")
            if "commune" in g.columns
            else resolve_urban_units(g, urban_units=None)
        )
    else:
        unit, unit_how = resolve_urban_units(g, urban_units=urban_units)
    code_cell, uniques = pd.factorize(unit, sort=True)  # -1: cell outside any unit
    code_cell = code_cell.astype(np.int32)
    units = [str(u) for u in uniques]
    pop = g["ind"].to_numpy(dtype=float)
    given_pop = _per_unit(urban_unit_population, units, "urban_unit_population")
    grid_pop = np.bincount(code_cell[code_cell >= 0], weights=pop[code_cell >= 0], minlength=len(units))
    unit_pop = {u: given_pop.get(u, float(grid_pop[i])) for i, u in enumerate(units)}

    # 2. threshold per unit
    nat, nat_source = _national_median(national_median, vintage, grid)
    est_by_unit: dict[str, float] = {}
    if "mean_std_living" in g.columns and units:
        if rs.local_area == "departement":
            # the département's median, over the grid's cells of each département (97x codes overseas)
            if "commune" in g.columns:
                dep = _departement(g["commune"])
                est = estimate_urban_median(g["mean_std_living"], population=g["ind"], groups=dep)
                unit_dep = dict(zip(unit.to_numpy(), dep.to_numpy()))
                est_by_unit = {u: float(est[unit_dep[u]]) for u in units}
            else:
                est_all = float(estimate_urban_median(g["mean_std_living"], population=g["ind"])["all"])
                est_by_unit = {u: est_all for u in units}
        else:
            inside_unit = code_cell >= 0
            est = estimate_urban_median(
                g["mean_std_living"][inside_unit], population=g["ind"][inside_unit],
                groups=pd.Series(code_cell[inside_unit]),
            )
            est_by_unit = {units[int(i)]: float(v) for i, v in est.items()}
    medians_given = _per_unit(urban_median, units, "urban_median")
    medians: dict[str, float] = {}
    thresholds: dict[str, float] = {}
    given_s = _per_unit(threshold, units, "threshold")
    for u in units:
        med = medians_given.get(u, est_by_unit.get(u, float("nan")))
        medians[u] = float(med)
        if u in given_s:
            thresholds[u] = given_s[u]
        elif np.isfinite(med) and med > 0:
            thresholds[u] = official_threshold(nat, med, urban_unit_population=unit_pop[u], variant=rs)
        else:
            thresholds[u] = float("nan")
    thr_arr = np.array([thresholds[u] for u in units] + [np.nan], dtype=float)
    s_cell = pd.Series(thr_arr[code_cell], index=g.index, name="threshold")  # code -1 -> NaN
    inputs = RuleInputs(
        threshold=s_cell,
        proxy_factor=float(RuleInputs.proxy_factor if proxy_factor is None else proxy_factor),
        poverty_level=float(DEFAULT_POVERTY_LEVEL if poverty_level is None else poverty_level),
        grow_factor=float(RuleInputs.grow_factor if grow_factor is None else grow_factor),
        labels=labels,
        score=score,
        percentile=percentile,
        poverty_cap=None if poverty_cap is None else float(poverty_cap),
    )

    # 3. cores and growth terms
    cores = the_rule.cores(g, inputs).to_numpy(dtype=bool) & (pop > 0)
    imputed_cells = g["imputed"].to_numpy(dtype=bool) if "imputed" in g.columns else np.zeros(len(g), bool)
    if opts["imputed"] in ("join", "exclude"):
        cores &= ~imputed_cells
    joinable = ~imputed_cells if opts["imputed"] == "exclude" else np.ones(len(g), bool)
    growth = the_rule.growth(g, inputs) if int(opts["grow"]) > 0 else None
    if int(opts["grow"]) > 0 and growth is None:
        raise ConfigError(f"rule {the_rule.name!r} has no zone aggregate: it cannot grow zones (grow=0)")
    line_s = the_rule.line(g, inputs)
    if zone_test not in (None, "mean", "median"):
        raise ConfigError(f"zone_test must be 'mean', 'median' or None, not {zone_test!r}")
    density_floor = rs.min_density if min_density is None else float(min_density)
    msl_all = (
        g["mean_std_living"].to_numpy(dtype=float) if "mean_std_living" in g.columns
        else np.full(len(g), np.nan)
    )
    if (peel is not None or zone_test is not None) and "mean_std_living" not in g.columns:
        raise MissingColumnsError("peel= and zone_test= need the column 'mean_std_living'")
    if min_zone_poverty is not None and "poverty_rate" not in g.columns:
        raise MissingColumnsError("min_zone_poverty= needs the column 'poverty_rate'")
    zline_all = (line_s if line_s is not None else s_cell).to_numpy(dtype=float)

    # 4. grouping on the raster, one unit at a time (zones never cross units)
    cell_size = int(g["cell_size"].iloc[0]) if len(g) else 200
    factor = subcell_factor(cell_size, perimeter_resolution) if perimeter == "interpolated" else 1
    pad = 2 + int(opts["grow"]) + int(opts["bridge"])
    ras = GridRaster.from_coords(g["cell_x"].to_numpy(), g["cell_y"].to_numpy(), cell_size=cell_size, pad=pad)
    eligible_units = [u for u in units if unit_pop[u] >= unit_floor and np.isfinite(thresholds[u])]
    if units and not eligible_units:
        warnings.warn(
            f"no urban unit reaches {unit_floor:,.0f} inhabitants (largest: "
            f"{max(unit_pop.values()):,.0f}): nothing delineated; pass urban_unit_population= "
            "(INSEE's figure) when the grid covers only part of the unit, or min_urban_population=",
            CohesionGeoWarning,
            stacklevel=2,
        )
    unit_r = ras.to_raster(np.where(code_cell >= 0, code_cell, -2).astype(np.int32), fill=np.int32(-1))
    # unit_r: unit code, -2 a cell outside any unit, -1 no cell
    def crop(values: np.ndarray, members: np.ndarray, win: tuple[slice, slice], fill: Any) -> np.ndarray:
        """The unit's cell values scattered into its crop (``fill`` elsewhere)."""
        shape = (win[0].stop - win[0].start, win[1].stop - win[1].start)
        out = np.full(shape[0] * shape[1], fill, dtype=values.dtype)
        out[(ras.rows[members] - win[0].start) * shape[1] + (ras.cols[members] - win[1].start)] = values[members]
        return out.reshape(shape)

    zone_r = np.zeros(ras.shape, dtype=np.int32)
    reason_r = np.zeros(ras.shape, dtype=np.int8)
    n_zones = 0
    by_code = np.argsort(code_cell, kind="stable")
    bounds = np.searchsorted(code_cell[by_code], np.arange(len(units) + 1))
    code_of = {u: i for i, u in enumerate(units)}
    for u in eligible_units:
        code = code_of[u]
        members = by_code[bounds[code] : bounds[code + 1]]
        if members.size == 0 or not cores[members].any():
            continue
        r0 = max(int(ras.rows[members].min()) - pad, 0)
        r1 = min(int(ras.rows[members].max()) + pad + 1, ras.shape[0])
        c0 = max(int(ras.cols[members].min()) - pad, 0)
        c1 = min(int(ras.cols[members].max()) + pad + 1, ras.shape[1])
        win = (slice(r0, r1), slice(c0, c1))
        own = unit_r[win] == code
        free = (unit_r[win] == -1) & (zone_r[win] == 0)
        unit_growth = None
        if growth is not None:
            unit_growth = {
                "numerator": crop(growth.numerator.astype(float), members, win, 0.0),
                "denominator": crop(growth.denominator.astype(float), members, win, 0.0),
                "order": crop(growth.order.astype(float), members, win, np.inf),
                "allowed": crop(growth.allowed.astype(bool), members, win, False),
                "limit": float(np.asarray(growth.limit)[members[0]]),
                "below": growth.below,
            }
        pop_win = crop(pop, members, win, 0.0)
        cores_win = crop(cores, members, win, False)
        msl_win = crop(msl_all, members, win, np.nan)
        mask, reason = _group_unit(
            own=own,
            free=free,
            cores=cores_win,
            joinable=crop(joinable, members, win, False),
            pop=pop_win,
            growth=unit_growth,
            opts=opts,
            peel=None if peel is None else (msl_win, float(peel) * thresholds[u]),
        )
        zl, nz = G.label_zones(mask, contiguity=opts["contiguity"])
        if nz == 0:
            continue
        zpop = G.zone_sums(zl, pop_win, nz)
        keep = (zpop >= floor) & (G.zone_sums(zl, cores_win & mask, nz) > 0)  # a zone keeps a flagged cell
        if density_floor is not None:
            npix = np.bincount(zl.ravel(), minlength=nz + 1)
            area_km2 = npix * (cell_size / 1000.0) ** 2
            keep &= zpop >= density_floor * area_km2
        if zone_test is not None or min_zone_poverty is not None:
            keep &= _zone_tests(
                zl, nz, pop_win, msl_win, float(zline_all[members[0]]), zone_test,
                None if min_zone_poverty is None else crop(g["poverty_rate"].to_numpy(dtype=float), members, win,
                                                           np.nan),
                min_zone_poverty,
            )
        keep[0] = False
        new_id = np.zeros(nz + 1, dtype=np.int32)
        new_id[keep] = np.arange(1, int(keep.sum()) + 1, dtype=np.int32) + n_zones
        zl = new_id[zl]
        put = (zl > 0) & (zone_r[win] == 0)
        zone_r[win][put] = zl[put]
        reason_r[win][put] = reason[put]
        n_zones += int(keep.sum())

    # 5. outputs
    cell_zone = ras.from_raster(zone_r)
    cell_reason = ras.from_raster(reason_r)
    width = max(4, len(str(n_zones)))
    qid_of = np.array([""] + [f"CQ{i:0{width}d}" for i in range(1, n_zones + 1)], dtype=object)
    inside = np.flatnonzero(cell_zone > 0)
    inside = inside[np.argsort(ras.flat[inside], kind="stable")]  # raster order: row order irrelevant
    cells = pd.DataFrame(
        {
            "cell_id": g["cell_id"].iloc[inside].astype(str).to_numpy(),
            "quartier_id": qid_of[cell_zone[inside]],
            "reason": pd.Categorical(
                np.array(REASONS, dtype=object)[cell_reason[inside] - 1], categories=list(REASONS)
            ),
        }
    )
    cells = cells.sort_values(["quartier_id", "cell_id"], kind="stable").reset_index(drop=True)
    quartiers = _quartier_table(
        g, cell_zone, n_zones, qid_of, unit, s_cell, line_s, the_rule.name, imputed_cells, inside
    )
    if perimeter == "interpolated":
        margin_s = the_rule.margin(g, inputs)
        margin_cells = np.asarray(margin_s, dtype=float).reshape(-1)
        if margin_cells.shape[0] != len(g):
            raise ConfigError(f"rule {the_rule.name!r}: margin has {margin_cells.shape[0]} values, "
                              f"the grid {len(g)} cells")
        geoms, area_m2 = interpolated_geometries(
            zone_r,
            ras.to_raster(margin_cells, fill=np.nan),
            ras.to_raster(np.ones(len(g), dtype=bool), fill=False),
            n_zones=n_zones, x0=ras.x0, y0=ras.y0, cell_size=cell_size, factor=factor, clamp=DEFAULT_CLAMP,
        )
    else:
        geoms = _zone_geometries(zone_r, ras, n_zones)
        area_m2 = np.bincount(zone_r.ravel(), minlength=n_zones + 1)[1:] * float(cell_size) ** 2
    quartiers.insert(int(quartiers.columns.get_loc("n_cells")) + 1, "area_ha", np.asarray(area_m2) / 1e4)
    epsg = epsg_of_ids(g["cell_id"]) or 3035
    gq = gpd.GeoDataFrame(quartiers, geometry=geoms, crs=f"EPSG:{epsg}")
    target_crs = getattr(grid, "crs", None)
    if target_crs is not None and gq.crs is not None and not gq.crs.equals(target_crs):
        gq = gq.to_crs(target_crs)
        bad = ~gq.geometry.is_valid
        if bad.any():
            gq.loc[bad, "geometry"] = gq.geometry[bad].make_valid()
    if iris is not None and len(gq):
        gq["iris"] = _iris_touched(gq, iris)
    params = {
        "rule": the_rule.name,
        "rule_description": the_rule.description,
        "variant": rs.name,
        **{k: opts[k] for k in sorted(opts)},
        "min_population": floor,
        "min_urban_population": unit_floor,
        "national_median": nat,
        "national_median_source": nat_source,
        "urban_units": unit_how,
        "urban_medians": medians,
        "urban_median_source": "given" if urban_median is not None else
        "estimated: population-weighted median of cell mean standard of living",
        "urban_unit_population": unit_pop,
        "thresholds": thresholds,
        "eligible_units": eligible_units,
        "proxy_factor": inputs.proxy_factor,
        "poverty_level": inputs.poverty_level,
        "grow_factor": inputs.grow_factor,
        "poverty_cap": inputs.poverty_cap,
        "peel": peel,
        "zone_test": zone_test,
        "min_zone_poverty": min_zone_poverty,
        "min_density": density_floor,
        "growth": None if growth is None else growth.description,
        "perimeter": perimeter,
        "perimeter_resolution": float(perimeter_resolution) if perimeter == "interpolated" else None,
        "perimeter_clamp": DEFAULT_CLAMP if perimeter == "interpolated" else None,
        "proxy_note": (
            "the public grid gives cell means of disposable income, the decree medians of declared "
            "income: grid-based quartiers are a proxy, calibrated against official perimeters"
        ),
    }
    log.info("delineate: rule %s, %d quartiers, %d cells", the_rule.name, n_zones, len(cells))
    return DelineationResult(quartiers=gq, cells=cells, params=params)


def _quartier_table(
    g: pd.DataFrame,
    cell_zone: np.ndarray,
    n_zones: int,
    qid_of: np.ndarray,
    unit: pd.Series,
    s_cell: pd.Series,
    line_s: pd.Series | None,
    rule_name: str,
    imputed_cells: np.ndarray,
    inside: np.ndarray | None = None,
) -> pd.DataFrame:
    inside = np.flatnonzero(cell_zone > 0) if inside is None else inside
    z = cell_zone[inside]
    sub = g.iloc[inside]
    pop = sub["ind"].to_numpy(dtype=float)

    def zsum(values: np.ndarray) -> np.ndarray:
        return np.bincount(z, weights=np.nan_to_num(values.astype(float)), minlength=n_zones + 1)[1:]

    ind = zsum(pop)
    out = pd.DataFrame({"quartier_id": qid_of[1:].astype(str)})
    first = pd.Series(np.arange(len(z))).groupby(z).first()
    out["urban_unit"] = unit.iloc[inside].to_numpy()[first.to_numpy()] if n_zones else []
    out["ind"] = ind
    has_counts = {"men", "men_pauv"} <= set(g.columns)
    if "men" in g.columns:
        out["men"] = zsum(sub["men"].to_numpy(dtype=float))
    if "men_pauv" in g.columns:
        out["men_pauv"] = zsum(sub["men_pauv"].to_numpy(dtype=float))
    with np.errstate(invalid="ignore", divide="ignore"):
        if "ind_snv" in g.columns:
            out["mean_std_living"] = zsum(sub["ind_snv"].to_numpy(dtype=float)) / ind
        elif "mean_std_living" in g.columns:
            msl = sub["mean_std_living"].to_numpy(dtype=float)
            ok = np.isfinite(msl)
            out["mean_std_living"] = zsum(np.where(ok, pop * msl, 0)) / zsum(np.where(ok, pop, 0))
        if has_counts:
            out["poverty_rate"] = out["men_pauv"] / out["men"]
        elif "poverty_rate" in g.columns:
            pr = sub["poverty_rate"].to_numpy(dtype=float)
            ok = np.isfinite(pr)
            out["poverty_rate"] = zsum(np.where(ok, pop * pr, 0)) / zsum(np.where(ok, pop, 0))
        out["imputed_share"] = zsum(pop * imputed_cells[inside]) / ind
    out["n_cells"] = np.bincount(z, minlength=n_zones + 1)[1:].astype(np.int64)
    if "commune" in g.columns:
        com = pd.DataFrame({"z": z, "c": sub["commune"].astype("string").to_numpy()}).dropna()
        joined = com.groupby("z")["c"].agg(lambda s: ",".join(sorted(set(s))))
        out["communes"] = joined.reindex(np.arange(1, n_zones + 1)).fillna("").to_numpy()
    out["threshold"] = s_cell.iloc[inside].to_numpy()[first.to_numpy()] if n_zones else []
    if line_s is not None:
        out["line"] = line_s.iloc[inside].to_numpy()[first.to_numpy()] if n_zones else []
    out["rule"] = rule_name
    secret = secret_flag(out).to_numpy()  # statistical secrecy: no statistic for fewer than 11 households
    for col in ("mean_std_living", "poverty_rate", "men_pauv"):
        if col in out.columns:
            out.loc[secret, col] = np.nan
    return out


def _zone_geometries(zone_r: np.ndarray, ras: GridRaster, n_zones: int) -> np.ndarray:
    """One (multi)polygon per zone, dissolved from the raster's pixels."""
    geoms = np.empty(n_zones, dtype=object)
    if n_zones == 0:
        return geoms
    rows = np.flatnonzero((zone_r > 0).any(axis=1))
    cols = np.flatnonzero((zone_r > 0).any(axis=0))
    r0, r1, c0, c1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    sub = np.ascontiguousarray(zone_r[r0:r1, c0:c1])
    cs = ras.cell_size
    transform = Affine(cs, 0, (ras.x0 + c0) * cs, 0, cs, (ras.y0 + r0) * cs)
    parts: dict[int, list] = {}
    for geom, value in features.shapes(sub, mask=sub > 0, connectivity=4, transform=transform):
        parts.setdefault(int(value), []).append(shapely.geometry.shape(geom))
    for z in range(1, n_zones + 1):
        geoms[z - 1] = one_geometry(parts.get(z, []))
    return geoms


def _iris_touched(quartiers: gpd.GeoDataFrame, iris: gpd.GeoDataFrame) -> np.ndarray:
    if "iris" not in iris.columns:
        raise MissingColumnsError("iris= needs an 'iris' column (9-character IRIS code)")
    other = iris[["iris", "geometry"]]
    if other.crs is not None and quartiers.crs is not None and not other.crs.equals(quartiers.crs):
        other = other.to_crs(quartiers.crs)
    inner = quartiers[["quartier_id", "geometry"]].copy()
    inner["geometry"] = inner.geometry.buffer(-1.0)  # touching a boundary is not "touching" an IRIS
    joined = gpd.sjoin(inner, other, how="left", predicate="intersects")
    codes = joined.groupby("quartier_id")["iris"].agg(lambda s: ",".join(sorted(set(s.dropna().astype(str)))))
    return codes.reindex(quartiers["quartier_id"]).fillna("").to_numpy()


#: Names of the built-in rules (for the CLI).
RULE_NAMES: tuple[str, ...] = tuple(RULES)
