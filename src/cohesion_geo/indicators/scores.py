"""Composite scores: poverty score and isolation score.

A composite score is a weighted mean of standardised components::

    score = sum_k |w_k| * sign(w_k) * z_k / sum_k |w_k|        (over available k)

where ``z_k`` is component ``k`` standardised within its group (by default the
urban unit, *unité urbaine*: pass the ``groups`` Series), either as a z-score
(``method="z"``: ``(x - mean) / std`` of the group, optionally
population-weighted) or as a centred percentile rank (``method="rank"``: in
``[-0.5, 0.5]``, robust to outliers). A negative weight means "lower is worse"
(e.g. the standard of living in the poverty score). Where a component is
missing for a row, the weights of the remaining components are renormalised;
a row with no component at all gets ``NaN``. The score is therefore on the
scale of a z-score: 0 is the group's average, +1 one standard deviation
worse.

Default components (configurable through ``weights``):

* **poverty score** (*indice de pauvreté*): :data:`POVERTY_WEIGHTS` --
  ``poverty_rate`` +0.4, ``mean_std_living`` -0.3, ``single_parent_share``
  +0.1, ``social_housing_share`` +0.1, ``large_household_share`` +0.1. On a
  derived grid only the first two exist and get 4/7 and 3/7 of the weight.
* **isolation score** (*indice d'isolement*): :data:`ISOLATION_WEIGHTS` --
  social side ``one_person_share`` +0.3, ``elderly_share`` +0.3; spatial side
  ``facility_distance`` +0.2 (metres to the nearest facility, see
  :mod:`cohesion_geo.indicators.access`) and ``facility_count`` -0.2
  (facilities within the walking radius).

With ``weights=None`` the default components absent from the table are left
out (the score says which were used in ``Series.attrs["components"]``); with
explicit ``weights`` every named component must be present.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..errors import ConfigError, MissingColumnsError

__all__ = [
    "ISOLATION_WEIGHTS",
    "POVERTY_WEIGHTS",
    "composite_score",
    "isolation_score",
    "poverty_score",
    "standardize",
]

#: Default poverty-score components and weights (negative: lower is poorer).
POVERTY_WEIGHTS: dict[str, float] = {
    "poverty_rate": 0.4,
    "mean_std_living": -0.3,
    "single_parent_share": 0.1,
    "social_housing_share": 0.1,
    "large_household_share": 0.1,
}

#: Default isolation-score components and weights: social then spatial side.
ISOLATION_WEIGHTS: dict[str, float] = {
    "one_person_share": 0.3,
    "elderly_share": 0.3,
    "facility_distance": 0.2,
    "facility_count": -0.2,
}


def _group_codes(groups: pd.Series | np.ndarray | None, n: int, index: pd.Index) -> tuple[np.ndarray, int]:
    if groups is None:
        return np.zeros(n, dtype=np.int64), 1
    if isinstance(groups, pd.Series):
        if not groups.index.equals(index):
            groups = groups.reindex(index)
        values = groups.to_numpy()
    else:
        values = np.asarray(groups)
    if len(values) != n:
        raise ConfigError(f"groups has {len(values)} values for {n} rows")
    codes, uniques = pd.factorize(values, use_na_sentinel=False)  # missing group = its own group
    return codes.astype(np.int64), max(len(uniques), 1)


def standardize(
    values: pd.Series,
    *,
    groups: pd.Series | np.ndarray | None = None,
    population: pd.Series | np.ndarray | None = None,
    method: str = "z",
) -> pd.Series:
    """Standardise ``values`` within each group.

    Parameters
    ----------
    values : Series
        One component (missing values stay missing and are ignored in the
        group statistics).
    groups : Series or array, optional
        Group label per row (e.g. the urban unit); one group when omitted.
        Rows with a missing label form a group of their own.
    population : Series or array, optional
        Weights of the group mean and standard deviation (``method="z"``).
    method : {"z", "rank"}
        ``"z"``: ``(x - mean_g) / std_g`` (population standard deviation; 0
        where a group has no spread). ``"rank"``: percentile rank within the
        group minus 0.5, in ``[-0.5, 0.5]``.

    Returns
    -------
    Series
        float64 aligned on ``values.index``.

    Examples
    --------
    >>> standardize(pd.Series([1.0, 2.0, 3.0])).round(4).tolist()
    [-1.2247, 0.0, 1.2247]
    >>> standardize(pd.Series([1.0, 3.0, 10.0, 30.0]), groups=pd.Series(["a", "a", "b", "b"])).tolist()
    [-1.0, 1.0, -1.0, 1.0]
    """
    codes, k = _group_codes(groups, len(values), values.index)
    return _standardize_codes(values, codes, k, population, method)


def _standardize_codes(
    values: pd.Series,
    codes: np.ndarray,
    k: int,
    population: pd.Series | np.ndarray | None,
    method: str,
) -> pd.Series:
    x = values.to_numpy(dtype="float64", na_value=np.nan)
    n = len(x)
    ok = ~np.isnan(x)
    if method == "z":
        w = np.ones(n) if population is None else np.asarray(population, dtype="float64")
        w = np.where(ok & (w > 0), w, 0.0)
        xs = np.where(ok, x, 0.0)
        sw = np.bincount(codes, weights=w, minlength=k)
        mean = np.divide(np.bincount(codes, weights=w * xs, minlength=k), sw,
                         out=np.full(k, np.nan), where=sw > 0)
        dev = xs - mean[codes]
        var = np.divide(np.bincount(codes, weights=w * dev * dev, minlength=k), sw,
                        out=np.full(k, np.nan), where=sw > 0)
        sd = np.sqrt(var)[codes]
        out = np.divide(dev, sd, out=np.zeros(n), where=sd > 0)
        out[~ok] = np.nan
    elif method == "rank":
        frame = pd.DataFrame({"g": codes, "x": x})
        out = frame.groupby("g")["x"].rank(method="average", pct=True).to_numpy() - 0.5
        # a group of one: rank 1.0 -> 0.5; centre it to 0
        cnt = np.bincount(codes[ok], minlength=k)[codes]
        out = np.where(cnt <= 1, 0.0, out)
        out[~ok] = np.nan
    else:
        raise ConfigError(f"unknown standardisation method {method!r}; use 'z' or 'rank'")
    return pd.Series(out, index=values.index, dtype="float64", name=values.name)


def composite_score(
    table: pd.DataFrame,
    *,
    weights: Mapping[str, float],
    groups: pd.Series | np.ndarray | None = None,
    population: pd.Series | np.ndarray | None = None,
    method: str = "z",
) -> pd.Series:
    """Weighted mean of standardised components (see the module docstring).

    Parameters
    ----------
    table : DataFrame
        Holds one column per component named in ``weights``.
    weights : mapping of str to float
        Component -> weight; the sign gives the direction (negative: lower
        values are worse). Weights are normalised by the sum of their absolute
        values over the components available in each row.
    groups, population, method
        Passed to :func:`standardize`.

    Returns
    -------
    Series
        float64 aligned on ``table.index``; ``attrs["components"]`` holds the
        weights used.

    Examples
    --------
    >>> t = pd.DataFrame({"a": [0.0, 1.0, 2.0], "b": [2.0, 1.0, 0.0]})
    >>> composite_score(t, weights={"a": 0.5, "b": -0.5}).round(4).tolist()
    [-1.2247, 0.0, 1.2247]
    """
    if not weights:
        raise ConfigError("a composite score needs at least one component with a weight")
    bad = {k: v for k, v in weights.items() if not np.isfinite(v) or v == 0}
    if bad:
        raise ConfigError(f"component weights must be finite and non-zero: {bad}")
    missing = [k for k in weights if k not in table.columns]
    if missing:
        raise MissingColumnsError(
            f"score component{'s' if len(missing) > 1 else ''} {', '.join(map(repr, missing))} "
            f"not in the table (columns: {', '.join(map(str, table.columns[:20]))})"
        )
    n = len(table)
    num = np.zeros(n)
    den = np.zeros(n)
    codes, k = _group_codes(groups, n, table.index)  # factorised once for all components
    if population is not None:
        population = np.asarray(population, dtype="float64")
    for name, w in weights.items():
        z = _standardize_codes(table[name], codes, k, population, method).to_numpy()
        ok = ~np.isnan(z)
        num += np.where(ok, np.sign(w) * abs(w) * z, 0.0)
        den += np.where(ok, abs(w), 0.0)
    out = np.divide(num, den, out=np.full(n, np.nan), where=den > 0)
    out[np.abs(out) < 1e-12] = 0.0  # rounding noise (and -0.0) at the group mean
    result = pd.Series(out, index=table.index, dtype="float64")
    result.attrs["components"] = dict(weights)
    return result


def _select(table: pd.DataFrame, weights: Mapping[str, float] | None, default: Mapping[str, float],
            what: str) -> dict[str, float]:
    if weights is not None:
        return dict(weights)
    chosen = {k: v for k, v in default.items() if k in table.columns}
    if not chosen:
        raise MissingColumnsError(
            f"{what}: none of its default components ({', '.join(default)}) is in the table; "
            "compute the cell indicators first or pass weights="
        )
    return chosen


def poverty_score(
    table: pd.DataFrame,
    *,
    weights: Mapping[str, float] | None = None,
    groups: pd.Series | np.ndarray | None = None,
    population: pd.Series | np.ndarray | None = None,
    method: str = "z",
) -> pd.Series:
    """Poverty score, *indice de pauvreté*: composite of the poverty indicators.

    Parameters
    ----------
    table : DataFrame
        Indicator columns (from :func:`~cohesion_geo.indicators.cell.cell_indicators`).
    weights : mapping, optional
        Components and weights; default :data:`POVERTY_WEIGHTS` restricted to
        the columns present.
    groups : Series, optional
        Urban unit (or any group) per row: components are standardised within it.
    population : Series, optional
        Population weights for the group means/standard deviations.
    method : {"z", "rank"}
        Standardisation, see :func:`standardize`.

    Returns
    -------
    Series
        Higher is poorer; 0 is the group average.

    Examples
    --------
    >>> t = pd.DataFrame({"poverty_rate": [0.1, 0.2, 0.3],
    ...                   "mean_std_living": [30000.0, 20000.0, 10000.0]})
    >>> poverty_score(t).round(4).tolist()
    [-1.2247, 0.0, 1.2247]
    """
    w = _select(table, weights, POVERTY_WEIGHTS, "poverty score")
    return composite_score(table, weights=w, groups=groups, population=population, method=method)


def isolation_score(
    table: pd.DataFrame,
    *,
    weights: Mapping[str, float] | None = None,
    groups: pd.Series | np.ndarray | None = None,
    population: pd.Series | np.ndarray | None = None,
    method: str = "z",
) -> pd.Series:
    """Isolation score, *indice d'isolement*: social and spatial isolation.

    Social side: one-person households and elderly shares. Spatial side:
    distance to the nearest facility of the chosen BPE types
    (``facility_distance``) and the number within a walking radius
    (``facility_count``), from :func:`~cohesion_geo.indicators.access.facility_access`.

    Parameters
    ----------
    table : DataFrame
        Indicator and access columns.
    weights : mapping, optional
        Default :data:`ISOLATION_WEIGHTS` restricted to the columns present.
    groups, population, method
        As in :func:`poverty_score`.

    Examples
    --------
    >>> t = pd.DataFrame({"one_person_share": [0.2, 0.4], "elderly_share": [0.1, 0.3]})
    >>> isolation_score(t).round(6).tolist()
    [-1.0, 1.0]
    """
    w = _select(table, weights, ISOLATION_WEIGHTS, "isolation score")
    return composite_score(table, weights=w, groups=groups, population=population, method=method)
