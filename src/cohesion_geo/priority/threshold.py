"""The official QPV low-income threshold and its parameter sets.

Décret n° 2014-767 (mainland) sets, for each urban unit (*unité urbaine*, UU),

    S = 0.6 × (0.7 × national median + 0.3 × urban-unit median)

with the weights reversed (0.3 / 0.7) for urban units of 5 million
inhabitants or more (Paris), rounded **up** to the next 100 EUR. Décret
n° 2014-1575 (Martinique, La Réunion) uses 0.3 × mainland median + 0.7 ×
*département* median, communes of at least 15,000 inhabitants and a density
of at least 2,000 inhabitants/km². Both are :class:`RuleSet` values (data,
not code paths): :data:`MAINLAND` and :data:`OVERSEAS`.

National medians of the standard of living (:data:`NATIONAL_MEDIANS`) come
from INSEE, *Enquête Revenus fiscaux et sociaux* (ERFS), mainland France,
"Niveau de vie médian" (INSEE, *Les niveaux de vie*, Insee Première, yearly
editions; series in *Revenus, pauvreté et niveau de vie en 20XX*).
Filosofi's own national median differs slightly; pass ``national_median=`` to
use another value.

The urban-unit median is not in the grid (the grid has cell **means**): when
not given, :func:`estimate_urban_median` takes the population-weighted median
of the cells' mean standard of living, which is a proxy and is documented as
such.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from ..errors import ConfigError

__all__ = [
    "MAINLAND",
    "NATIONAL_MEDIANS",
    "NATIONAL_MEDIANS_SOURCE",
    "OVERSEAS",
    "RULE_SETS",
    "RuleSet",
    "estimate_urban_median",
    "national_median",
    "official_threshold",
    "weighted_median",
    "weighted_quantile",
]

#: National median standard of living, EUR/year, mainland France (INSEE, ERFS).
NATIONAL_MEDIANS: dict[int, float] = {
    2010: 19_270.0,
    2014: 20_150.0,
    2015: 20_300.0,
    2016: 20_520.0,
    2017: 20_820.0,
    2019: 22_040.0,
}

NATIONAL_MEDIANS_SOURCE = (
    "INSEE, Enquête Revenus fiscaux et sociaux (ERFS), median standard of living, "
    "mainland France (Insee Première 'Les niveaux de vie en 20XX')"
)


@dataclass(frozen=True)
class RuleSet:
    """The parameters of one version of the official rule.

    Parameters
    ----------
    name : str
        ``"mainland"`` or ``"overseas"``.
    weights : tuple of float
        ``(national weight, local weight)`` in ``0.6 × (w_n × national + w_l × local)``.
    large_weights : tuple of float or None
        Weights used when the urban unit has ``large_population`` inhabitants
        or more (mainland: reversed, 0.3 / 0.7, for Paris).
    large_population : float or None
        Population from which ``large_weights`` apply.
    local_area : str
        What the local median is taken over: ``"urban_unit"`` or ``"departement"``.
    share : float
        The 0.6 factor (60 %, as for the poverty line).
    rounding : int
        The threshold is rounded **up** to a multiple of this (EUR).
    min_quartier_population : float
        Floor of a quartier's population (1,000 in both decrees).
    min_area_population : float
        Population of the urban unit (mainland) or commune (overseas) below
        which no quartier is drawn: 10,000 / 15,000.
    min_density : float or None
        Overseas only: density floor of a quartier (inhabitants/km²).
    """

    name: str
    weights: tuple[float, float]
    large_weights: tuple[float, float] | None
    large_population: float | None
    local_area: str
    share: float = 0.6
    rounding: int = 100
    min_quartier_population: float = 1_000.0
    min_area_population: float = 10_000.0
    min_density: float | None = None
    sources: tuple[str, ...] = field(default_factory=tuple)


MAINLAND = RuleSet(
    name="mainland",
    weights=(0.7, 0.3),
    large_weights=(0.3, 0.7),
    large_population=5_000_000.0,
    local_area="urban_unit",
    min_area_population=10_000.0,
    sources=("décret n° 2014-767 du 3 juillet 2014", "décrets n° 2023-1312 et 2023-1314"),
)

OVERSEAS = RuleSet(
    name="overseas",
    weights=(0.3, 0.7),
    large_weights=None,
    large_population=None,
    local_area="departement",
    min_area_population=15_000.0,
    min_density=2_000.0,
    sources=("décret n° 2014-1575 du 22 décembre 2014",),
)

RULE_SETS: dict[str, RuleSet] = {"mainland": MAINLAND, "overseas": OVERSEAS}


def _rule_set(variant: str | RuleSet) -> RuleSet:
    if isinstance(variant, RuleSet):
        return variant
    try:
        return RULE_SETS[variant]
    except KeyError:
        raise ConfigError(
            f"variant must be one of {', '.join(map(repr, RULE_SETS))}, not {variant!r}"
        ) from None


def national_median(vintage: int) -> float:
    """Built-in national median standard of living for a Filosofi vintage (EUR/year).

    Examples
    --------
    >>> national_median(2017)
    20820.0
    """
    try:
        return NATIONAL_MEDIANS[int(vintage)]
    except (KeyError, TypeError, ValueError):
        known = ", ".join(str(v) for v in sorted(NATIONAL_MEDIANS))
        raise ConfigError(
            f"no built-in national median for vintage {vintage!r} (known: {known}); "
            "pass national_median= (EUR/year)"
        ) from None


def official_threshold(
    national_median: float,
    urban_unit_median: float,
    *,
    urban_unit_population: float | None = None,
    variant: Literal["mainland", "overseas"] | RuleSet = "mainland",
) -> float:
    """The official low-income threshold S, rounded up to the next 100 EUR.

    Parameters
    ----------
    national_median : float
        National (mainland) median standard of living, EUR/year.
    urban_unit_median : float
        Median of the urban unit (mainland) or of the *département* (overseas).
    urban_unit_population : float, optional
        Inhabitants of the urban unit; from 5 million (mainland) the weights
        are reversed. ``None`` means "under 5 million".
    variant : {"mainland", "overseas"} or RuleSet
        Which decree.

    Returns
    -------
    float
        ``S`` in EUR/year.

    Examples
    --------
    >>> official_threshold(20_000, 18_000)     # 0.6 * (14,000 + 5,400) = 11,640
    11700.0
    >>> official_threshold(20_000, 18_000, urban_unit_population=10_000_000)  # 0.6 * (6,000 + 12,600)
    11200.0
    >>> official_threshold(20_000, 18_000, variant="overseas")
    11200.0
    """
    rs = _rule_set(variant)
    for name, value in (("national_median", national_median), ("urban_unit_median", urban_unit_median)):
        if not (isinstance(value, (int, float, np.floating, np.integer)) and math.isfinite(value) and value > 0):
            raise ConfigError(f"{name} must be a positive number of EUR/year, not {value!r}")
    w_nat, w_loc = rs.weights
    if (
        rs.large_weights is not None
        and rs.large_population is not None
        and urban_unit_population is not None
        and urban_unit_population >= rs.large_population
    ):
        w_nat, w_loc = rs.large_weights
    raw = rs.share * (w_nat * float(national_median) + w_loc * float(urban_unit_median))
    # round up, tolerant of float noise (11,640.000000001 is 11,700, 11,700.0000001 stays 11,700)
    steps = math.ceil(round(raw / rs.rounding, 6))
    return float(steps * rs.rounding)


def weighted_median(values: np.ndarray | pd.Series, weights: np.ndarray | pd.Series) -> float:
    """Weighted median: the smallest value at which the cumulative weight reaches half.

    NaN values and non-positive weights are ignored.

    Examples
    --------
    >>> weighted_median([10, 20, 30], [1, 1, 5])
    30.0
    >>> weighted_median([10, 20, 30], [1, 1, 1])
    20.0
    """
    return weighted_quantile(values, weights, 0.5)


def weighted_quantile(values: pd.Series | np.ndarray, weights: pd.Series | np.ndarray, q: float) -> float:
    """Weighted quantile ``q`` in [0, 1] (smallest value reaching the cumulative share).

    Missing values and non-positive weights are ignored; NaN when nothing is left.

    Examples
    --------
    >>> weighted_quantile([1, 2, 3, 4], [1, 1, 1, 1], 0.5)
    2.0
    """
    v = np.asarray(values, dtype=float)
    w = np.asarray(weights, dtype=float)
    ok = np.isfinite(v) & np.isfinite(w) & (w > 0)
    if not ok.any():
        return float("nan")
    v, w = v[ok], w[ok]
    order = np.argsort(v, kind="stable")
    cw = np.cumsum(w[order])
    pos = int(np.searchsorted(cw, q * cw[-1], side="left"))
    return float(v[order][min(pos, v.size - 1)])


def estimate_urban_median(
    mean_std_living: pd.Series,
    *,
    population: pd.Series,
    groups: pd.Series | None = None,
) -> pd.Series:
    """Estimate each urban unit's median standard of living from the grid.

    The grid gives each cell's **mean** standard of living, not the
    distribution of individuals, so the estimate is the population-weighted
    median of the cell means: half of the unit's residents live in cells
    whose mean is below it. It is a proxy (cell means are smoother than
    individual incomes), stated as such in the outputs.

    Parameters
    ----------
    mean_std_living : Series
        Cell mean standard of living (EUR/year).
    population : Series
        Cell population (``ind``), aligned.
    groups : Series, optional
        Urban unit of each cell; ``None`` treats all cells as one unit.

    Returns
    -------
    Series
        Median per urban unit (index: the group labels; ``"all"`` when
        ``groups`` is None).

    Examples
    --------
    >>> s = estimate_urban_median(pd.Series([10., 20., 30.]), population=pd.Series([1., 1., 5.]))
    >>> float(s["all"])
    30.0
    """
    if groups is None:
        return pd.Series({"all": weighted_median(mean_std_living, population)}, dtype=float)
    codes, uniques = pd.factorize(groups if isinstance(groups, pd.Series) else pd.Series(groups), sort=True)
    if len(uniques) == 1 and (codes >= 0).all():
        return pd.Series([weighted_median(mean_std_living, population)], index=pd.Index(uniques, dtype=object))
    v = np.asarray(mean_std_living, dtype=float)
    w = np.asarray(population, dtype=float)
    ok = np.isfinite(v) & np.isfinite(w) & (w > 0) & (codes >= 0)
    out = np.full(len(uniques), np.nan)
    if ok.any():
        v, w, c = v[ok], w[ok], codes[ok]
        order = np.lexsort((v, c))  # by group, then value (vectorised: no loop over groups)
        v, w, c = v[order], w[order], c[order]
        cw = np.cumsum(w)
        starts = np.flatnonzero(np.r_[True, c[1:] != c[:-1]])
        ends = np.r_[starts[1:], c.size]
        before = np.r_[0.0, cw][starts]
        total = cw[ends - 1] - before
        # first position in each group where the within-group cumulative weight reaches half
        within = cw - np.repeat(before, ends - starts)
        half = np.repeat(0.5 * total, ends - starts)
        reached = within >= half - 1e-9 * np.repeat(total, ends - starts)
        pos = np.flatnonzero(reached)
        first = pos[np.searchsorted(pos, starts)]
        out[c[starts]] = v[first]
    return pd.Series(out, index=pd.Index(uniques, dtype=object), dtype=float)
