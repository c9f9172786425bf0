"""Cell indicators: ratios of counts on the 200 m grid (or on any table of summed counts).

Every indicator is a ratio ``numerator / denominator`` of *counts* (the INSEE
Filosofi variables, see the canonical grid frame). The same functions serve
cells and aggregates: aggregate first by **summing the counts**, then call the
function on the sums -- never average ratios. A zero (or missing) denominator
gives a missing value (``NaN``), never an infinity.

Each function takes one table (a DataFrame holding the count columns it needs)
and returns a float64 Series aligned on the table's index (momepy manner).

=========================  ==========================================  ==============================================
column                     French name                                 formula
=========================  ==========================================  ==============================================
``mean_std_living``        niveau de vie moyen (EUR/an)                ``ind_snv / ind``
``poverty_rate``           taux de pauvreté des ménages                ``men_pauv / men``
``social_housing_share``   part des logements sociaux                  ``log_soc / dwellings``
``one_person_share``       part des ménages d'une personne             ``men_1ind / men``
``single_parent_share``    part des familles monoparentales            ``men_fmp / men``
``large_household_share``  part des ménages de 5 personnes ou plus     ``men_5ind / men``
``owner_share``            part des ménages propriétaires              ``men_prop / men``
``elderly_share``          part des 65 ans ou plus                     ``(ind_65_79 + ind_80p) / ind``
``children_share``         part des moins de 18 ans (0-17 ans)         ``(ind_0_3 + ind_4_5 + ind_6_10 + ind_11_17) / ind``
``pre1970_housing_share``  part des logements construits avant 1970    ``(log_av45 + log_45_70) / dwellings``
``floor_area_per_person``  surface moyenne par personne (m²)           ``men_surf / ind``
=========================  ==========================================  ==============================================

``dwellings`` (logements) is ``log_av45 + log_45_70 + log_70_90 + log_ap90 +
log_inc`` (dwellings by construction period, which in Filosofi sum to ``men``:
one main residence per household); when those columns are absent it falls back
to ``men_coll + men_mais`` and then to ``men``.

Age shares use ``ind`` as denominator, so individuals of unknown age
(``ind_inc``) count in the denominator only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._validate import Problems
from ..errors import MissingColumnsError

__all__ = [
    "INDICATORS",
    "IndicatorSpec",
    "available_indicators",
    "cell_indicators",
    "check_counts",
    "children_share",
    "dwellings",
    "elderly_share",
    "floor_area_per_person",
    "large_household_share",
    "mean_std_living",
    "one_person_share",
    "owner_share",
    "poverty_rate",
    "pre1970_housing_share",
    "ratio",
    "single_parent_share",
    "social_housing_share",
]

#: Dwellings by construction period; their sum is the ``dwellings`` denominator.
DWELLING_AGE_COLUMNS: tuple[str, ...] = ("log_av45", "log_45_70", "log_70_90", "log_ap90", "log_inc")
CHILD_COLUMNS: tuple[str, ...] = ("ind_0_3", "ind_4_5", "ind_6_10", "ind_11_17")
ELDERLY_COLUMNS: tuple[str, ...] = ("ind_65_79", "ind_80p")
PRE1970_COLUMNS: tuple[str, ...] = ("log_av45", "log_45_70")


def ratio(numerator: pd.Series | np.ndarray, denominator: pd.Series | np.ndarray, /) -> pd.Series:
    """Ratio of two count vectors with missing values (not infinities) for zero denominators.

    Parameters
    ----------
    numerator, denominator : Series or array
        Counts; when ``numerator`` is a Series its index is kept.

    Returns
    -------
    Series
        float64, ``NaN`` where the denominator is zero, negative or missing.

    Examples
    --------
    >>> ratio(pd.Series([1.0, 2.0, 0.0]), pd.Series([4.0, 0.0, 0.0])).tolist()
    [0.25, nan, nan]
    """
    index = numerator.index if isinstance(numerator, pd.Series) else (
        denominator.index if isinstance(denominator, pd.Series) else None
    )
    num = np.asarray(numerator, dtype="float64")
    den = np.asarray(denominator, dtype="float64")
    out = np.full(np.broadcast(num, den).shape, np.nan)
    ok = den > 0  # NaN compares False
    np.divide(num, den, out=out, where=ok)
    return pd.Series(out, index=index, dtype="float64")


def _col(counts: pd.DataFrame, name: str, indicator: str) -> np.ndarray:
    if name not in counts.columns:
        raise MissingColumnsError(
            f"{indicator} needs column {name!r}, absent from the table "
            f"(columns present: {', '.join(map(str, counts.columns[:20]))})"
        )
    return counts[name].to_numpy(dtype="float64", na_value=np.nan)


def _sum(counts: pd.DataFrame, names: Sequence[str], indicator: str) -> np.ndarray:
    missing = [n for n in names if n not in counts.columns]
    if missing:
        raise MissingColumnsError(
            f"{indicator} needs column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(repr(m) for m in missing)}, absent from the table"
        )
    total = np.zeros(len(counts), dtype="float64")
    for n in names:
        total = total + counts[n].to_numpy(dtype="float64", na_value=np.nan)
    return total


def dwellings(counts: pd.DataFrame) -> pd.Series:
    """Number of dwellings (logements): the denominator of the housing shares.

    ``log_av45 + log_45_70 + log_70_90 + log_ap90 + log_inc`` when present,
    else ``men_coll + men_mais``, else ``men``.

    Examples
    --------
    >>> dwellings(pd.DataFrame({"men": [3.0, 0.0]})).tolist()
    [3.0, 0.0]
    """
    if all(c in counts.columns for c in DWELLING_AGE_COLUMNS):
        values = _sum(counts, DWELLING_AGE_COLUMNS, "dwellings")
    elif "men_coll" in counts.columns and "men_mais" in counts.columns:
        values = _sum(counts, ("men_coll", "men_mais"), "dwellings")
    elif "men" in counts.columns:
        values = _col(counts, "men", "dwellings")
    else:
        raise MissingColumnsError(
            "dwellings needs the log_av45..log_inc columns, men_coll + men_mais, or men; "
            "none are in the table"
        )
    return pd.Series(values, index=counts.index, dtype="float64")


def mean_std_living(counts: pd.DataFrame) -> pd.Series:
    """Mean standard of living, *niveau de vie moyen* (EUR/year): ``ind_snv / ind``.

    ``ind_snv`` is the **sum** of the individuals' standard of living, so this
    is a mean (not the median of the official QPV rule).

    Examples
    --------
    >>> mean_std_living(pd.DataFrame({"ind_snv": [30000.0, 5.0], "ind": [2.0, 0.0]})).tolist()
    [15000.0, nan]
    """
    return ratio(pd.Series(_col(counts, "ind_snv", "mean_std_living"), index=counts.index),
                 _col(counts, "ind", "mean_std_living"))


def poverty_rate(counts: pd.DataFrame) -> pd.Series:
    """Household poverty rate, *taux de pauvreté des ménages*: ``men_pauv / men``.

    Poor households live below 60 % of the national median standard of living.

    Examples
    --------
    >>> poverty_rate(pd.DataFrame({"men_pauv": [1.0, 3.0], "men": [4.0, 0.0]})).tolist()
    [0.25, nan]
    """
    return ratio(pd.Series(_col(counts, "men_pauv", "poverty_rate"), index=counts.index),
                 _col(counts, "men", "poverty_rate"))


def social_housing_share(counts: pd.DataFrame) -> pd.Series:
    """Social-housing share, *part des logements sociaux*: ``log_soc / dwellings``.

    See :func:`dwellings` for the denominator.

    Examples
    --------
    >>> social_housing_share(pd.DataFrame({"log_soc": [1.0], "men": [4.0]})).tolist()
    [0.25]
    """
    return ratio(pd.Series(_col(counts, "log_soc", "social_housing_share"), index=counts.index),
                 dwellings(counts).to_numpy())


def one_person_share(counts: pd.DataFrame) -> pd.Series:
    """One-person households share, *part des ménages d'une personne*: ``men_1ind / men``.

    Examples
    --------
    >>> one_person_share(pd.DataFrame({"men_1ind": [2.0], "men": [8.0]})).tolist()
    [0.25]
    """
    return ratio(pd.Series(_col(counts, "men_1ind", "one_person_share"), index=counts.index),
                 _col(counts, "men", "one_person_share"))


def single_parent_share(counts: pd.DataFrame) -> pd.Series:
    """Single-parent households share, *part des familles monoparentales*: ``men_fmp / men``.

    Examples
    --------
    >>> single_parent_share(pd.DataFrame({"men_fmp": [1.0], "men": [10.0]})).tolist()
    [0.1]
    """
    return ratio(pd.Series(_col(counts, "men_fmp", "single_parent_share"), index=counts.index),
                 _col(counts, "men", "single_parent_share"))


def large_household_share(counts: pd.DataFrame) -> pd.Series:
    """Large households share, *part des ménages de 5 personnes ou plus*: ``men_5ind / men``.

    Examples
    --------
    >>> large_household_share(pd.DataFrame({"men_5ind": [1.0], "men": [5.0]})).tolist()
    [0.2]
    """
    return ratio(pd.Series(_col(counts, "men_5ind", "large_household_share"), index=counts.index),
                 _col(counts, "men", "large_household_share"))


def owner_share(counts: pd.DataFrame) -> pd.Series:
    """Owner-occupier households share, *part des ménages propriétaires*: ``men_prop / men``.

    Examples
    --------
    >>> owner_share(pd.DataFrame({"men_prop": [3.0], "men": [4.0]})).tolist()
    [0.75]
    """
    return ratio(pd.Series(_col(counts, "men_prop", "owner_share"), index=counts.index),
                 _col(counts, "men", "owner_share"))


def elderly_share(counts: pd.DataFrame) -> pd.Series:
    """Elderly share, *part des 65 ans ou plus*: ``(ind_65_79 + ind_80p) / ind``.

    Examples
    --------
    >>> elderly_share(pd.DataFrame({"ind_65_79": [1.0], "ind_80p": [1.0], "ind": [8.0]})).tolist()
    [0.25]
    """
    return ratio(pd.Series(_sum(counts, ELDERLY_COLUMNS, "elderly_share"), index=counts.index),
                 _col(counts, "ind", "elderly_share"))


def children_share(counts: pd.DataFrame) -> pd.Series:
    """Children share, *part des moins de 18 ans* (ages 0-17).

    ``(ind_0_3 + ind_4_5 + ind_6_10 + ind_11_17) / ind``.

    Examples
    --------
    >>> t = pd.DataFrame({"ind_0_3": [1.0], "ind_4_5": [0.0], "ind_6_10": [1.0],
    ...                   "ind_11_17": [0.0], "ind": [4.0]})
    >>> children_share(t).tolist()
    [0.5]
    """
    return ratio(pd.Series(_sum(counts, CHILD_COLUMNS, "children_share"), index=counts.index),
                 _col(counts, "ind", "children_share"))


def pre1970_housing_share(counts: pd.DataFrame) -> pd.Series:
    """Share of dwellings built before 1970, *part des logements construits avant 1970*.

    ``(log_av45 + log_45_70) / dwellings`` (see :func:`dwellings`).

    Examples
    --------
    >>> t = pd.DataFrame({"log_av45": [1.0], "log_45_70": [1.0], "log_70_90": [1.0],
    ...                   "log_ap90": [1.0], "log_inc": [0.0]})
    >>> pre1970_housing_share(t).tolist()
    [0.5]
    """
    return ratio(pd.Series(_sum(counts, PRE1970_COLUMNS, "pre1970_housing_share"), index=counts.index),
                 dwellings(counts).to_numpy())


def floor_area_per_person(counts: pd.DataFrame) -> pd.Series:
    """Mean floor area per person, *surface moyenne par personne* (m²): ``men_surf / ind``.

    Examples
    --------
    >>> floor_area_per_person(pd.DataFrame({"men_surf": [120.0], "ind": [4.0]})).tolist()
    [30.0]
    """
    return ratio(pd.Series(_col(counts, "men_surf", "floor_area_per_person"), index=counts.index),
                 _col(counts, "ind", "floor_area_per_person"))


@dataclass(frozen=True)
class IndicatorSpec:
    """One cell indicator: its function, the count columns it needs, its names."""

    name: str
    func: Callable[[pd.DataFrame], pd.Series]
    requires: tuple[str, ...]
    french: str
    formula: str
    #: alternative requirement sets (any one suffices), for the dwellings denominator
    alternatives: tuple[tuple[str, ...], ...] = ()

    def available(self, columns: Iterable[str]) -> bool:
        cols = set(columns)
        sets = (self.requires, *self.alternatives)
        return any(all(c in cols for c in s) for s in sets)


_DW = (("log_soc", *DWELLING_AGE_COLUMNS), ("log_soc", "men_coll", "men_mais"), ("log_soc", "men"))

#: The cell indicators, in output order.
INDICATORS: dict[str, IndicatorSpec] = {
    s.name: s
    for s in (
        IndicatorSpec("mean_std_living", mean_std_living, ("ind_snv", "ind"),
                      "niveau de vie moyen", "ind_snv / ind"),
        IndicatorSpec("poverty_rate", poverty_rate, ("men_pauv", "men"),
                      "taux de pauvreté des ménages", "men_pauv / men"),
        IndicatorSpec("social_housing_share", social_housing_share, _DW[0],
                      "part des logements sociaux", "log_soc / dwellings", alternatives=_DW[1:]),
        IndicatorSpec("one_person_share", one_person_share, ("men_1ind", "men"),
                      "part des ménages d'une personne", "men_1ind / men"),
        IndicatorSpec("single_parent_share", single_parent_share, ("men_fmp", "men"),
                      "part des familles monoparentales", "men_fmp / men"),
        IndicatorSpec("large_household_share", large_household_share, ("men_5ind", "men"),
                      "part des ménages de 5 personnes ou plus", "men_5ind / men"),
        IndicatorSpec("owner_share", owner_share, ("men_prop", "men"),
                      "part des ménages propriétaires", "men_prop / men"),
        IndicatorSpec("elderly_share", elderly_share, (*ELDERLY_COLUMNS, "ind"),
                      "part des 65 ans ou plus", "(ind_65_79 + ind_80p) / ind"),
        IndicatorSpec("children_share", children_share, (*CHILD_COLUMNS, "ind"),
                      "part des moins de 18 ans", "(ind_0_3 + ind_4_5 + ind_6_10 + ind_11_17) / ind"),
        IndicatorSpec("pre1970_housing_share", pre1970_housing_share, (*PRE1970_COLUMNS, *DWELLING_AGE_COLUMNS[2:]),
                      "part des logements construits avant 1970", "(log_av45 + log_45_70) / dwellings",
                      alternatives=((*PRE1970_COLUMNS, "men_coll", "men_mais"), (*PRE1970_COLUMNS, "men"))),
        IndicatorSpec("floor_area_per_person", floor_area_per_person, ("men_surf", "ind"),
                      "surface moyenne par personne", "men_surf / ind"),
    )
}

#: Ratio indicators given directly by derived grids (no counts behind them).
DERIVED_RATIOS: tuple[str, ...] = ("mean_std_living", "poverty_rate")


def available_indicators(counts: pd.DataFrame) -> list[str]:
    """Names of the indicators whose count columns are all in ``counts``.

    Examples
    --------
    >>> available_indicators(pd.DataFrame({"men_pauv": [1.0], "men": [2.0]}))
    ['poverty_rate']
    """
    return [name for name, spec in INDICATORS.items() if spec.available(counts.columns)]


def check_counts(counts: pd.DataFrame, columns: Iterable[str], *, source: str = "grid") -> None:
    """Raise :class:`~cohesion_geo.errors.ValidationError` on an empty table or all-missing columns.

    Every problem is listed at once: an empty table, and each of ``columns``
    (those present) holding no value at all.
    """
    problems = Problems(source)
    if len(counts) == 0:
        problems.add("the table is empty (0 rows): no indicator can be computed")
    else:
        for c in columns:
            if c in counts.columns and counts[c].isna().all():
                problems.add(f"column {c!r} holds no value at all (all {len(counts)} rows missing)")
    problems.raise_if_any()


def cell_indicators(
    counts: pd.DataFrame,
    *,
    indicators: Sequence[str] | None = None,
    source: str = "grid",
) -> pd.DataFrame:
    """Compute every available cell indicator from a table of counts.

    Parameters
    ----------
    counts : DataFrame
        Cells (or aggregates) with the canonical count columns (``ind``,
        ``men``, ``men_pauv``, ...); any may be absent.
    indicators : sequence of str, optional
        Names from :data:`INDICATORS`. By default every indicator whose columns
        are present. Naming an indicator whose columns are missing raises
        :class:`~cohesion_geo.errors.MissingColumnsError`.
    source : str
        Named in error messages.

    Returns
    -------
    DataFrame
        One float64 column per indicator, aligned on ``counts.index``. For a
        derived grid (Lille layout) holding ``mean_std_living`` /
        ``poverty_rate`` but not their counts, those columns are passed
        through unchanged.

    Raises
    ------
    ValidationError
        When the table is empty or a needed count column holds no value.

    Examples
    --------
    >>> t = pd.DataFrame({"ind": [4.0, 0.0], "ind_snv": [80000.0, 0.0],
    ...                   "men": [2.0, 0.0], "men_pauv": [1.0, 0.0]})
    >>> cell_indicators(t).round(2).to_dict("list")
    {'mean_std_living': [20000.0, nan], 'poverty_rate': [0.5, nan]}
    """
    if indicators is None:
        names = available_indicators(counts)
    else:
        unknown = [n for n in indicators if n not in INDICATORS]
        if unknown:
            raise MissingColumnsError(
                f"unknown indicator{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}; "
                f"known: {', '.join(INDICATORS)}"
            )
        names = list(indicators)
    passthrough = [
        n for n in DERIVED_RATIOS
        if n in counts.columns and n not in names and (indicators is None or n in indicators)
    ]
    needed = sorted({c for n in names for c in INDICATORS[n].requires if c in counts.columns} | set(passthrough))
    if not names and not passthrough:
        raise MissingColumnsError(
            f"{source}: no indicator can be computed: none of the count columns "
            "(ind, ind_snv, men, men_pauv, ...) nor mean_std_living / poverty_rate are present"
        )
    check_counts(counts, needed, source=source)
    out = {}
    for name in INDICATORS:
        if name in names:
            out[name] = INDICATORS[name].func(counts)
        elif name in passthrough:
            out[name] = counts[name].astype("float64")
    return pd.DataFrame(out, index=counts.index)
