"""Which cells seed a candidate quartier, and how zones may grow: the rules.

A rule has two parts, both plain data computed from the grid:

- **cores**: a boolean Series, the cells the rule flags (reason ``"flagged"``);
- **growth** (optional, :class:`Growth`): the per-cell terms of a zone
  aggregate (a ratio of sums) and the line it must stay on the right side of,
  used by :func:`~cohesion_geo.priority.grouping.grow_zones`.

A rule may also give a **margin** (:attr:`Rule.margin`): each cell's
continuous distance to the line, positive exactly for the cells it flags
(default: ``max(1 - mean / (k S), poverty / level - 1)``, the poverty part
also below ``1 - mean / (cap S)`` when ``poverty_cap`` is set; official:
``1 - mean / S``; poverty_rate: ``poverty / level - 1``; composite:
``(score - cut) / sd``, ``sd`` the score's population-weighted standard
deviation). ``delineate(perimeter="interpolated")`` draws
quartier edges where the interpolated margin crosses 0
(:mod:`cohesion_geo.priority.perimeter`); ``lisa_hh`` has none.

Every rule goes through the same grouping machinery (components, growth,
bridging, holes, floor) in :func:`cohesion_geo.priority.delineate`; a rule
also carries its own default grouping options (:attr:`Rule.options`),
which the caller can override one by one.

Built-in rules (:data:`RULES`):

``"default"`` (calibrated on Lille, see ``docs/delineation.md``)
    Income line ``L = k × S`` per urban unit, ``S`` the official threshold
    and ``k = 1.25`` a proxy factor (cell *means* of *disposable* income run
    above the *medians* of *declared* income the decree uses). Cores: cells
    with a mean standard of living below ``L`` **or** at least 30 % poor
    households (imputed cells never seed). Zones then grow by one ring of
    rook neighbours whose mean is below ``1.45 × S``, poorest first, while
    the zone's population-weighted mean standard of living stays below ``L``
    (the official test is on the zone, not the cell). Rook contiguity,
    holes filled, floor 1,000 inhabitants.
``"official"``
    The decree applied literally to cell means: mean standard of living
    below ``S``. Finds almost nothing on a real grid (F1 0.13 on Lille).
``"poverty_rate"``
    Poverty rate at least ``poverty_level`` (0.30).
``"lisa_hh"``
    Cells labelled high-high by a LISA of a poverty score (``labels=``:
    booleans, or strings where ``"HH"``/``"high-high"`` mark the cluster).
``"composite"``
    A score (``score=``) above its population-weighted ``percentile``
    (80th by default).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ConfigError, MissingColumnsError
from .threshold import weighted_quantile

__all__ = [
    "DEFAULT_GROW_FACTOR",
    "DEFAULT_POVERTY_LEVEL",
    "DEFAULT_PROXY_FACTOR",
    "Growth",
    "Rule",
    "RuleInputs",
    "RULES",
    "flag_composite",
    "flag_income",
    "flag_lisa",
    "flag_poverty_rate",
    "income_margin",
    "poverty_margin",
    "weighted_quantile",
]

#: Cell means of disposable income vs medians of declared income: calibrated on Lille.
DEFAULT_PROXY_FACTOR = 1.25
#: Share of poor households that makes a cell a core of the default rule.
DEFAULT_POVERTY_LEVEL = 0.30
#: Neighbours a zone may take during growth: mean standard of living below this × S.
DEFAULT_GROW_FACTOR = 1.45


@dataclass(frozen=True)
class RuleInputs:
    """What a rule may read besides the grid.

    Parameters
    ----------
    threshold : Series
        Official threshold ``S`` of each cell's urban unit (EUR), aligned on the grid.
    proxy_factor : float
        ``k`` in the default rule's line ``k × S``.
    poverty_level : float
        Poverty-rate level of the ``poverty_rate`` and ``default`` rules.
    grow_factor : float
        Neighbours a zone may take: mean standard of living below ``grow_factor × S``.
    labels : Series or None
        LISA labels for ``lisa_hh``.
    score : Series or None
        Score for ``composite``.
    percentile : float
        Percentile (0-100) of ``composite``.
    poverty_cap : float or None
        Default rule only: a cell seeded by its poverty rate must also have a
        mean standard of living below ``poverty_cap × S`` (None: no cap, the
        calibrated default). Measured on Lille in ``docs/delineation.md`` §7.
    """

    threshold: pd.Series
    proxy_factor: float = DEFAULT_PROXY_FACTOR
    poverty_level: float = DEFAULT_POVERTY_LEVEL
    grow_factor: float = DEFAULT_GROW_FACTOR
    labels: pd.Series | None = None
    score: pd.Series | None = None
    percentile: float = 80.0
    poverty_cap: float | None = None


@dataclass(frozen=True)
class Growth:
    """Zone growth specification, one value per cell (numpy arrays, grid order).

    A zone may take a neighbour when ``allowed``; it takes them in increasing
    ``order`` while ``sum(numerator) / sum(denominator)`` over the zone stays
    below ``limit`` (above it when ``below`` is false). ``limit`` is per cell:
    the zone uses the limit of its cores (one urban unit, one limit).
    """

    numerator: np.ndarray
    denominator: np.ndarray
    limit: np.ndarray
    below: bool
    order: np.ndarray
    allowed: np.ndarray
    description: str


@dataclass(frozen=True)
class Rule:
    """A delineation rule: cores, optional growth, default grouping options, optional margin."""

    name: str
    description: str
    cores: Callable[[pd.DataFrame, RuleInputs], pd.Series]
    growth: Callable[[pd.DataFrame, RuleInputs], Growth | None]
    options: Mapping[str, Any] = field(default_factory=dict)
    line: Callable[[pd.DataFrame, RuleInputs], pd.Series | None] = lambda grid, inputs: None
    #: Continuous margin of each cell to the rule's line: > 0 exactly for the cells
    #: the rule flags, 0 on the line, NaN where unknown. Used by
    #: ``delineate(perimeter="interpolated")`` to draw edges between cell centres;
    #: None for rules without a continuous field (``lisa_hh``).
    margin: Callable[[pd.DataFrame, RuleInputs], pd.Series] | None = None


def _require(grid: pd.DataFrame, columns: list[str], rule: str) -> None:
    missing = [c for c in columns if c not in grid.columns]
    if missing:
        raise MissingColumnsError(
            f"rule {rule!r} needs column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(map(repr, missing))}; the grid has {', '.join(map(str, grid.columns[:20]))}"
        )




def flag_income(grid: pd.DataFrame, *, line: pd.Series | float) -> pd.Series:
    """Cells whose mean standard of living is below ``line`` (NaN: not flagged).

    Examples
    --------
    >>> g = pd.DataFrame({"mean_std_living": [9_000.0, 15_000.0, np.nan]})
    >>> flag_income(g, line=12_000).tolist()
    [True, False, False]
    """
    _require(grid, ["mean_std_living"], "income")
    msl = grid["mean_std_living"].astype(float)
    return pd.Series(np.asarray(msl < line, dtype=bool), index=grid.index, name="flagged")


def flag_poverty_rate(grid: pd.DataFrame, *, level: float = DEFAULT_POVERTY_LEVEL) -> pd.Series:
    """Cells whose poverty rate (share of poor households) is at least ``level``.

    Examples
    --------
    >>> flag_poverty_rate(pd.DataFrame({"poverty_rate": [0.1, 0.3, 0.5]})).tolist()
    [False, True, True]
    """
    _require(grid, ["poverty_rate"], "poverty_rate")
    pr = grid["poverty_rate"].astype(float)
    return pd.Series(np.asarray(pr >= level - 1e-12, dtype=bool), index=grid.index, name="flagged")


def flag_lisa(labels: pd.Series) -> pd.Series:
    """Cells in a high-high LISA cluster: booleans, or labels ``"HH"``/``"high-high"``.

    Examples
    --------
    >>> flag_lisa(pd.Series(["HH", "LL", "high-high", None])).tolist()
    [True, False, True, False]
    """
    if pd.api.types.is_bool_dtype(labels):
        return labels.fillna(False).astype(bool).rename("flagged")
    text = labels.astype("string").str.strip().str.lower()
    hh = text.isin({"hh", "high-high", "high_high", "highhigh", "1"}).fillna(False)
    return hh.astype(bool).rename("flagged")


def flag_composite(score: pd.Series, *, weights: pd.Series | None = None, percentile: float = 80.0) -> pd.Series:
    """Cells whose ``score`` is above its (population-weighted) ``percentile``.

    Examples
    --------
    >>> flag_composite(pd.Series([1.0, 2.0, 3.0, 4.0, 5.0]), percentile=60).tolist()
    [False, False, False, True, True]
    """
    if not 0 <= percentile <= 100:
        raise ConfigError(f"percentile must be within 0-100, not {percentile!r}")
    w = np.ones(len(score)) if weights is None else np.asarray(weights, dtype=float)
    cut = weighted_quantile(score.to_numpy(dtype=float), w, percentile / 100.0)
    return pd.Series(np.asarray(score.astype(float) > cut, dtype=bool), index=score.index, name="flagged")


def income_margin(grid: pd.DataFrame, *, line: pd.Series | float) -> pd.Series:
    """Relative distance below an income line: ``1 - mean_std_living / line``.

    Positive exactly where :func:`flag_income` flags the cell; NaN where the
    mean or the line is unknown.

    Examples
    --------
    >>> g = pd.DataFrame({"mean_std_living": [9_000.0, 12_000.0, 15_000.0, np.nan]})
    >>> income_margin(g, line=12_000).round(2).tolist()
    [0.25, 0.0, -0.25, nan]
    """
    _require(grid, ["mean_std_living"], "income")
    msl = grid["mean_std_living"].to_numpy(dtype=float)
    line_a = np.asarray(line, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(line_a > 0, 1.0 - msl / np.where(line_a > 0, line_a, 1.0), np.nan)
    return pd.Series(np.broadcast_to(out, msl.shape).astype(float), index=grid.index, name="margin")


def poverty_margin(grid: pd.DataFrame, *, level: float = DEFAULT_POVERTY_LEVEL) -> pd.Series:
    """Relative distance above a poverty level: ``poverty_rate / level - 1``.

    At least 0 exactly where :func:`flag_poverty_rate` flags the cell.

    Examples
    --------
    >>> poverty_margin(pd.DataFrame({"poverty_rate": [0.15, 0.3, 0.45]})).round(2).tolist()
    [-0.5, 0.0, 0.5]
    """
    _require(grid, ["poverty_rate"], "poverty_rate")
    if not level > 0:
        raise ConfigError(f"poverty level must be positive, not {level!r}")
    pr = grid["poverty_rate"].to_numpy(dtype=float)
    return pd.Series(pr / float(level) - 1.0, index=grid.index, name="margin")


def _aligned(series: pd.Series | None, grid: pd.DataFrame, what: str, rule: str) -> pd.Series:
    if series is None:
        if what in grid.columns:
            return grid[what]
        raise ConfigError(f"rule {rule!r} needs {what}= (a Series aligned on the grid) or a {what!r} column")
    if len(series) != len(grid):
        raise ConfigError(f"rule {rule!r}: {what} has {len(series)} values, the grid {len(grid)} cells")
    if isinstance(series, pd.Series) and not series.index.equals(grid.index):
        return series.reindex(grid.index)
    return pd.Series(np.asarray(series), index=grid.index)


def _pop(grid: pd.DataFrame) -> np.ndarray:
    return grid["ind"].to_numpy(dtype=float)


def _income_growth(grid: pd.DataFrame, line: np.ndarray, allowed_line: np.ndarray, what: str) -> Growth:
    msl = grid["mean_std_living"].to_numpy(dtype=float)
    pop = _pop(grid)
    ok = np.isfinite(msl)
    return Growth(
        numerator=np.where(ok, pop * np.nan_to_num(msl), 0.0),
        denominator=np.where(ok, pop, 0.0),
        limit=line,
        below=True,
        order=np.where(ok, msl, np.inf),
        allowed=ok & (msl < allowed_line),
        description=what,
    )


# --- the built-in rules -------------------------------------------------------


def _default_line(grid: pd.DataFrame, inputs: RuleInputs) -> pd.Series:
    return (inputs.threshold * inputs.proxy_factor).rename("line")


def _default_cores(grid: pd.DataFrame, inputs: RuleInputs) -> pd.Series:
    cores = flag_income(grid, line=_default_line(grid, inputs))
    if "poverty_rate" in grid.columns:
        poor = flag_poverty_rate(grid, level=inputs.poverty_level)
        if inputs.poverty_cap is not None:  # poverty seeds must not be well-off on average
            poor &= flag_income(grid, line=inputs.threshold * inputs.poverty_cap)
        cores |= poor
    return cores


def _default_margin(grid: pd.DataFrame, inputs: RuleInputs) -> pd.Series:
    """max(income margin to k x S, poverty margin), the poverty part capped like the cores."""
    margin = income_margin(grid, line=_default_line(grid, inputs)).to_numpy(dtype=float)
    if "poverty_rate" in grid.columns:
        poor = poverty_margin(grid, level=inputs.poverty_level).to_numpy(dtype=float)
        if inputs.poverty_cap is not None:  # a poverty seed above the cap is not flagged: margin <= 0
            cap = income_margin(grid, line=inputs.threshold * inputs.poverty_cap).to_numpy(dtype=float)
            poor = np.minimum(poor, cap)
        margin = np.fmax(margin, poor)
    return pd.Series(margin, index=grid.index, name="margin")


def _default_growth(grid: pd.DataFrame, inputs: RuleInputs) -> Growth:
    line = _default_line(grid, inputs).to_numpy(dtype=float)
    allowed = inputs.threshold.to_numpy(dtype=float) * inputs.grow_factor
    return _income_growth(
        grid, line, allowed, "zone mean standard of living below k x S; neighbours below grow_factor x S"
    )


def _official_cores(grid: pd.DataFrame, inputs: RuleInputs) -> pd.Series:
    return flag_income(grid, line=inputs.threshold)


def _official_margin(grid: pd.DataFrame, inputs: RuleInputs) -> pd.Series:
    return income_margin(grid, line=inputs.threshold)


def _official_growth(grid: pd.DataFrame, inputs: RuleInputs) -> Growth:
    s = inputs.threshold.to_numpy(dtype=float)
    return _income_growth(grid, s, s * inputs.grow_factor / inputs.proxy_factor, "zone mean below S")


def _poverty_cores(grid: pd.DataFrame, inputs: RuleInputs) -> pd.Series:
    return flag_poverty_rate(grid, level=inputs.poverty_level)


def _poverty_margin(grid: pd.DataFrame, inputs: RuleInputs) -> pd.Series:
    return poverty_margin(grid, level=inputs.poverty_level)


def _poverty_growth(grid: pd.DataFrame, inputs: RuleInputs) -> Growth:
    _require(grid, ["poverty_rate"], "poverty_rate")
    pr = grid["poverty_rate"].to_numpy(dtype=float)
    ok = np.isfinite(pr)
    if {"men", "men_pauv"} <= set(grid.columns):
        num = grid["men_pauv"].to_numpy(dtype=float)
        den = grid["men"].to_numpy(dtype=float)
    else:  # derived grids: population-weighted mean of the cell rates (proxy)
        num = _pop(grid) * np.nan_to_num(pr)
        den = _pop(grid)
    level = inputs.poverty_level
    return Growth(
        numerator=np.where(ok, np.nan_to_num(num), 0.0),
        denominator=np.where(ok, np.nan_to_num(den), 0.0),
        limit=np.full(len(grid), level),
        below=False,
        order=np.where(ok, -pr, np.inf),
        allowed=ok & (pr >= level / 2),
        description="zone poverty rate at least the level; neighbours at least half the level",
    )


def _lisa_cores(grid: pd.DataFrame, inputs: RuleInputs) -> pd.Series:
    return flag_lisa(_aligned(inputs.labels, grid, "labels", "lisa_hh"))


def _composite_cores(grid: pd.DataFrame, inputs: RuleInputs) -> pd.Series:
    score = _aligned(inputs.score, grid, "score", "composite")
    return flag_composite(score, weights=grid["ind"], percentile=inputs.percentile)


def _composite_cut(grid: pd.DataFrame, inputs: RuleInputs) -> tuple[np.ndarray, float]:
    """The score (grid order) and its population-weighted percentile, as :func:`flag_composite` cuts it."""
    score = _aligned(inputs.score, grid, "score", "composite").to_numpy(dtype=float)
    return score, weighted_quantile(score, _pop(grid), inputs.percentile / 100.0)


def _composite_margin(grid: pd.DataFrame, inputs: RuleInputs) -> pd.Series:
    """(score - cut) / the score's population-weighted standard deviation (1 when it is 0)."""
    score, cut = _composite_cut(grid, inputs)
    pop = _pop(grid)
    ok = np.isfinite(score) & (pop > 0)
    scale = 0.0
    if ok.any():
        mean = np.average(score[ok], weights=pop[ok])
        scale = float(np.sqrt(np.average((score[ok] - mean) ** 2, weights=pop[ok])))
    return pd.Series((score - cut) / (scale if scale > 1e-12 else 1.0), index=grid.index, name="margin")


def _composite_growth(grid: pd.DataFrame, inputs: RuleInputs) -> Growth:
    score, cut = _composite_cut(grid, inputs)
    ok = np.isfinite(score)
    pop = _pop(grid)
    return Growth(
        numerator=np.where(ok, pop * np.nan_to_num(score), 0.0),
        denominator=np.where(ok, pop, 0.0),
        limit=np.full(len(grid), cut),
        below=False,
        order=np.where(ok, -score, np.inf),
        allowed=ok,
        description="zone mean score above the percentile",
    )


def _no_growth(grid: pd.DataFrame, inputs: RuleInputs) -> None:
    return None


#: Grouping options common to every rule unless the rule says otherwise.
BASE_OPTIONS: dict[str, Any] = {
    "contiguity": "queen",
    "grow": 0,
    "bridge": 0,
    "fill_holes": True,
    "enclave_max_population": None,
    "prune": 0,
    "imputed": "core",
}

RULES: dict[str, Rule] = {
    "default": Rule(
        "default",
        "calibrated: mean standard of living below k x S or poverty rate >= level; "
        "zones grow one ring while their mean stays below k x S",
        _default_cores,
        _default_growth,
        {**BASE_OPTIONS, "contiguity": "rook", "grow": 1, "imputed": "join"},
        _default_line,
        margin=_default_margin,
    ),
    "official": Rule(
        "official",
        "decree applied to cell means: mean standard of living below S",
        _official_cores,
        _official_growth,
        dict(BASE_OPTIONS),
        lambda grid, inputs: inputs.threshold.rename("line"),
        margin=_official_margin,
    ),
    "poverty_rate": Rule(
        "poverty_rate", "poverty rate at least the level", _poverty_cores, _poverty_growth, dict(BASE_OPTIONS),
        margin=_poverty_margin,
    ),
    "lisa_hh": Rule("lisa_hh", "high-high LISA cluster cells", _lisa_cores, _no_growth, dict(BASE_OPTIONS)),
    "composite": Rule(
        "composite", "score above a population-weighted percentile", _composite_cores, _composite_growth,
        dict(BASE_OPTIONS), margin=_composite_margin,
    ),
}


def get_rule(rule: str | Rule) -> Rule:
    """Look a rule up by name (or pass a :class:`Rule` through)."""
    if isinstance(rule, Rule):
        return rule
    try:
        return RULES[rule]
    except KeyError:
        raise ConfigError(f"unknown rule {rule!r}; known rules: {', '.join(RULES)}") from None
