"""Priority score of candidate quartiers: documented components, weights, contributions, rank.

A council must see *why* a quartier ranks where it does. The score is a
weighted sum of a few components, each first put on a common 0-1 scale across
the candidates, and every component's share of the score is kept as a
``contrib_<component>`` column (the contributions add up to the score).

Components (:data:`COMPONENTS`; higher raw value = higher priority):

==============  ==========================  ============================================  ======
component       column of the weighed frame meaning                                       weight
==============  ==========================  ============================================  ======
``poverty``     ``q_poverty_rate``          poverty intensity: share of poor households   0.40
``contrast``    ``contrast_std_living``     ring ÷ quartier standard of living: how much  0.20
                                            poorer than its surroundings it is
``fragility``   ``financial_fragility``     group ÷ commune financial potential per       0.20
                                            inhabitant (DSU term): less room to fund
``population``  ``q_ind``                   inhabitants concerned (of its grid cells)     0.10
``reports``     ``reports_per_1000``        residents' reports per 1,000 inhabitants      0.10
==============  ==========================  ============================================  ======

Rationale of the defaults: poverty is the statutory criterion and keeps the
largest weight; contrast and financial fragility are the two readings the
policy asks for beyond poverty (a territory in relation to its surroundings;
the capacity of the commune); population and residents' reports inform
without dominating (reports are a synthetic or partial source in most
territories). Every weight is configurable.

Normalisation (``normalise=``):

* ``"rank"`` (default): percentile rank across candidates with a value,
  ``(average rank - 1) / (n - 1)``, so 0 is the lowest, 1 the highest, ties
  share a value, a single candidate or all-equal values give 0.5. Robust to
  outliers (one huge quartier does not flatten everybody else) and readable:
  0.8 = "higher than 80 % of the other candidates".
* ``"minmax"``: ``(x - min) / (max - min)`` (0.5 when all equal).

Weights are relative: they are divided by their sum. For each quartier,

    score = 100 x sum_i w_i n_i / sum_{i available} w_i

over the components it has a value for, and ``contrib_i = 100 x w_i n_i /
sum_{available} w_i`` (missing where the component is missing), so the
contributions always add up to the score and a quartier without, say, finance
figures is scored on the other components, with ``components_missing`` saying
so. A component absent from every quartier (no finance table given, no
reports) is left out: silently with the default weights, with a warning when
the user gave it a positive weight.

``rank`` is 1 for the highest score; equal scores (to 1e-9) are ordered by
``quartier_id``, so the ranking never depends on the order of the rows.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._validate import require_columns
from ..errors import CohesionGeoWarning, ConfigError, ValidationError

__all__ = [
    "COMPONENTS",
    "DEFAULT_WEIGHTS",
    "NORMALISATIONS",
    "Component",
    "normalise_component",
    "parse_weights",
    "priority_score",
    "quartier_reasons",
    "validate_weights",
]


@dataclass(frozen=True)
class Component:
    """One component of the priority score: the column it reads and what it means."""

    name: str
    column: str
    label: str


#: The score components, in output order.
COMPONENTS: dict[str, Component] = {
    c.name: c
    for c in (
        Component("poverty", "q_poverty_rate", "poverty rate"),
        Component("contrast", "contrast_std_living", "contrast with its ring"),
        Component("fragility", "financial_fragility", "commune financial fragility"),
        Component("population", "q_ind", "population"),
        Component("reports", "reports_per_1000", "residents' reports"),
    )
}

#: Default weights (relative; they sum to 1).
DEFAULT_WEIGHTS: dict[str, float] = {
    "poverty": 0.40,
    "contrast": 0.20,
    "fragility": 0.20,
    "population": 0.10,
    "reports": 0.10,
}

#: Normalisation methods of :func:`normalise_component`.
NORMALISATIONS: tuple[str, ...] = ("rank", "minmax")

_TIE = 1e-9


def parse_weights(text: str) -> dict[str, float]:
    """Parse ``"poverty=0.4,contrast=0.2"`` (CLI ``--weights``) into a mapping (as given, checked).

    Raises
    ------
    ConfigError
        Malformed pairs or values (all listed), unknown component names.

    Examples
    --------
    >>> parse_weights("poverty=0.5, reports=0.5")
    {'poverty': 0.5, 'reports': 0.5}
    """
    problems: list[str] = []
    out: dict[str, float] = {}
    for part in [p.strip() for p in str(text).split(",") if p.strip()]:
        m = re.fullmatch(r"([A-Za-z_]+)\s*=\s*(\S+)", part)
        if not m:
            problems.append(f"{part!r} is not name=value")
            continue
        try:
            out[m.group(1)] = float(m.group(2))
        except ValueError:
            problems.append(f"{m.group(1)}: {m.group(2)!r} is not a number")
    if problems:
        raise ConfigError(f"weights {text!r}: " + "; ".join(problems)
                          + f" (valid names: {', '.join(COMPONENTS)})")
    validate_weights(out)  # names and values checked here
    return out


def validate_weights(weights: Mapping[str, float] | str | None) -> dict[str, float]:
    """Check weights and return them normalised to sum 1, in :data:`COMPONENTS` order.

    Components not named get weight 0 (``None``: :data:`DEFAULT_WEIGHTS`).

    Raises
    ------
    ConfigError
        Unknown names, negative or non-finite values, or no positive weight;
        every problem is listed with the valid names.

    Examples
    --------
    >>> validate_weights({"poverty": 3, "contrast": 1})["poverty"]
    0.75
    >>> validate_weights({"povrety": 1})
    Traceback (most recent call last):
    ...
    cohesion_geo.errors.ConfigError: invalid weights: unknown component 'povrety'; valid names: poverty, contrast, fragility, population, reports
    """
    if weights is None:
        weights = DEFAULT_WEIGHTS
    elif isinstance(weights, str):
        weights = parse_weights(weights)
    if not isinstance(weights, Mapping):
        raise ConfigError(f"weights must be a mapping component -> weight, not {type(weights).__name__}")
    problems: list[str] = []
    clean: dict[str, float] = {}
    for name, value in weights.items():
        if name not in COMPONENTS:
            problems.append(f"unknown component {name!r}")
            continue
        try:
            v = float(value)
        except (TypeError, ValueError):
            problems.append(f"{name}: {value!r} is not a number")
            continue
        if not math.isfinite(v) or v < 0:
            problems.append(f"{name}: weight {value!r} must be a finite number >= 0")
            continue
        clean[name] = v
    if not problems and sum(clean.values()) <= 0:
        problems.append("no positive weight")
    if problems:
        raise ConfigError("invalid weights: " + "; ".join(problems) + f"; valid names: {', '.join(COMPONENTS)}")
    total = sum(clean.values())
    return {name: clean.get(name, 0.0) / total for name in COMPONENTS}


def normalise_component(values: pd.Series, *, method: str = "rank") -> pd.Series:
    """Put one component on a 0-1 scale across candidates (missing values stay missing).

    Examples
    --------
    >>> normalise_component(pd.Series([10.0, 30.0, 20.0, np.nan])).tolist()
    [0.0, 1.0, 0.5, nan]
    >>> normalise_component(pd.Series([10.0, 40.0, 20.0]), method="minmax").round(3).tolist()
    [0.0, 1.0, 0.333]
    """
    if method not in NORMALISATIONS:
        raise ConfigError(f"normalise must be one of {', '.join(NORMALISATIONS)}, not {method!r}")
    x = pd.Series(values.to_numpy(dtype="float64", na_value=np.nan), index=values.index)
    x = x.where(np.isfinite(x))
    valid = x.notna()
    n = int(valid.sum())
    out = pd.Series(np.nan, index=x.index, dtype="float64")
    if n == 0:
        return out
    if method == "rank":
        # ranks on values rounded to 12 significant digits, so float noise never splits a tie
        r = x[valid].map(lambda v: float(f"{v:.12g}")).rank(method="average")
        out[valid] = 0.5 if n == 1 else (r - 1.0) / (n - 1.0)
    else:
        lo, hi = float(x[valid].min()), float(x[valid].max())
        out[valid] = 0.5 if hi - lo <= 1e-12 * max(abs(hi), 1.0) else (x[valid] - lo) / (hi - lo)
    return out


def _pct(v: float) -> str:
    return f"{100 * v:.0f} %"


def _eur(v: float) -> str:
    return f"{v:,.0f} EUR"


def _num(v: float) -> str:
    return f"{v:,.0f}"


def _ok(v: object) -> bool:
    try:
        return v is not None and v is not pd.NA and math.isfinite(float(v))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def _plain(text: str) -> str:
    """Plain one-line text: no control characters, no markup characters."""
    text = re.sub(r"[\x00-\x1f\x7f]+", " ", text)
    return text.replace("<", "(").replace(">", ")").replace("&", "and")


def quartier_reasons(row: Mapping[str, object], contributions: Mapping[str, float], score: float) -> str:
    """Plain-language reasons for one quartier (plain text, no markup; escape before HTML).

    Examples
    --------
    >>> row = {"q_poverty_rate": 0.38, "ring_poverty_rate": 0.12, "uu_poverty_rate": 0.15,
    ...        "urban_unit": "33701", "situation": "isolated pocket", "q_std_living": 13000.0,
    ...        "ring_std_living": 22000.0, "pfin_ratio": 0.7, "commune_main_name": "BORDEAUX", "q_ind": 1500.0}
    >>> quartier_reasons(row, {"poverty": 30.0, "contrast": 12.5}, 42.5)
    'poverty rate 38 % vs 12 % in its ring and 15 % in its urban unit; isolated pocket: standard of living 13,000 EUR vs 22,000 EUR in its ring; commune financial potential per inhabitant 0.70x its size group (BORDEAUX); 1,500 inhabitants; score 42.5, mostly from poverty rate (+30.0) and contrast with its ring (+12.5)'
    """
    parts: list[str] = []
    get = row.get
    uu = get("urban_unit")
    uu_word = "in its urban unit" if isinstance(uu, str) and uu and uu != "study_area" else "across the study area"
    qp, rp, up = get("q_poverty_rate"), get("ring_poverty_rate"), get("uu_poverty_rate")
    if _ok(qp):
        comp = []
        if _ok(rp):
            comp.append(f"{_pct(float(rp))} in its ring")  # type: ignore[arg-type]
        if _ok(up):
            comp.append(f"{_pct(float(up))} {uu_word}")  # type: ignore[arg-type]
        parts.append(f"poverty rate {_pct(float(qp))}" + (" vs " + " and ".join(comp) if comp else ""))  # type: ignore[arg-type]
    situation = get("situation")
    if isinstance(situation, str) and situation:
        qs, rs = get("q_std_living"), get("ring_std_living")
        if _ok(qs) and _ok(rs) and situation != "no surroundings data":
            parts.append(f"{situation}: standard of living {_eur(float(qs))} vs {_eur(float(rs))} in its ring")  # type: ignore[arg-type]
        else:
            parts.append(situation)
    share = get("ring_in_quartiers")
    if _ok(share) and float(share) >= 0.05:  # type: ignore[arg-type]
        parts.append(f"{_pct(float(share))} of its neighbours live in other candidate quartiers")  # type: ignore[arg-type]
    ratio = get("pfin_ratio")
    name = get("commune_main_name")
    where = f" ({name})" if isinstance(name, str) and name else ""
    if _ok(ratio):
        parts.append(f"commune financial potential per inhabitant {float(ratio):.2f}x its size group{where}")  # type: ignore[arg-type]
    missing = get("finance_missing")
    if isinstance(missing, str) and missing:
        parts.append(f"no finance figures for commune {missing}")
    rate = get("reports_per_1000")
    if _ok(rate):
        conf = get("confrontation")
        tail = f" (confrontation: {str(conf).replace('_', ' ')})" if isinstance(conf, str) and conf else ""
        parts.append(f"{float(rate):.1f} residents' reports per 1,000 inhabitants{tail}")  # type: ignore[arg-type]
    ind = get("q_ind", get("ind"))
    if _ok(ind):
        parts.append(f"{_num(float(ind))} inhabitants")  # type: ignore[arg-type]
    if _ok(score):
        top = sorted(((v, k) for k, v in contributions.items() if _ok(v) and v > 0), key=lambda t: (-t[0], t[1]))[:2]
        if top:
            drivers = " and ".join(f"{COMPONENTS[k].label} (+{v:.1f})" for v, k in top)
            parts.append(f"score {score:.1f}, mostly from {drivers}")
    return _plain("; ".join(parts))


def priority_score(
    weighed: pd.DataFrame,
    *,
    weights: Mapping[str, float] | str | None = None,
    normalise: str = "rank",
) -> pd.DataFrame:
    """Priority score, rank, per-component contributions and reasons of each candidate.

    Parameters
    ----------
    weighed : DataFrame
        One row per candidate with ``quartier_id`` and the component columns
        of :data:`COMPONENTS` it has (the output of
        :func:`cohesion_geo.priority.weigh.weigh_quartiers` before scoring, or
        any table with those columns).
    weights : mapping or str, optional
        ``{component: weight}`` (or ``"poverty=0.4,contrast=0.2,..."``);
        relative, components not named get 0. Default :data:`DEFAULT_WEIGHTS`.
    normalise : {"rank", "minmax"}
        Normalisation across candidates (module docstring).

    Returns
    -------
    DataFrame
        Aligned on ``weighed.index``: ``score`` (0-100), ``rank`` (1 = highest
        priority), ``norm_<component>`` (0-1), ``contrib_<component>`` (points,
        adding up to ``score``), ``components_missing`` (text or ``<NA>``) and
        ``reasons`` (plain text). ``attrs["weights"]`` holds the weights used.

    Raises
    ------
    ConfigError
        Invalid weights or normalisation.
    ValidationError
        No ``quartier_id``, duplicated ids, or no component with any value.

    Examples
    --------
    >>> t = pd.DataFrame({"quartier_id": ["A", "B", "C"], "q_poverty_rate": [0.3, 0.5, 0.4],
    ...                   "q_ind": [1000.0, 1200.0, 5000.0]})
    >>> s = priority_score(t, weights={"poverty": 0.5, "population": 0.5})
    >>> s[["score", "rank", "contrib_poverty", "contrib_population"]].to_dict("list")
    {'score': [0.0, 75.0, 75.0], 'rank': [3, 1, 2], 'contrib_poverty': [0.0, 50.0, 25.0], 'contrib_population': [0.0, 25.0, 50.0]}
    """
    w = validate_weights(weights)
    if normalise not in NORMALISATIONS:
        raise ConfigError(f"normalise must be one of {', '.join(NORMALISATIONS)}, not {normalise!r}")
    require_columns(weighed, ["quartier_id"], source="weighed quartiers", what="table")
    ids = weighed["quartier_id"]
    if ids.isna().any() or ids.duplicated().any():
        raise ValidationError("weighed quartiers", ["column 'quartier_id' must be unique and complete"])
    norms: dict[str, pd.Series] = {}
    dropped: list[str] = []
    for name, comp in COMPONENTS.items():
        if comp.column in weighed.columns:
            norms[name] = normalise_component(weighed[comp.column], method=normalise)
        else:
            norms[name] = pd.Series(np.nan, index=weighed.index, dtype="float64")
        if w[name] > 0 and norms[name].isna().all():
            dropped.append(name)
    if dropped and weights is not None:
        warnings.warn(
            f"priority score: no data for component{'s' if len(dropped) > 1 else ''} "
            f"{', '.join(dropped)} (column{'s' if len(dropped) > 1 else ''} "
            f"{', '.join(COMPONENTS[d].column for d in dropped)}); "
            f"{'their weights are' if len(dropped) > 1 else 'its weight is'} spread over the other components",
            CohesionGeoWarning, stacklevel=2,
        )
    active = [n for n in COMPONENTS if w[n] > 0 and n not in dropped]
    if not active:
        raise ValidationError("weighed quartiers", [
            "no component with a positive weight has any value; columns looked for: "
            + ", ".join(f"{c.column} ({n})" for n, c in COMPONENTS.items() if w[n] > 0)])
    norm = pd.DataFrame({n: norms[n] for n in COMPONENTS}, index=weighed.index)
    wv = np.array([w[n] if n in active else 0.0 for n in COMPONENTS])
    values = norm.to_numpy(dtype="float64")
    avail = np.isfinite(values) & (wv > 0)
    denom = (avail * wv).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        contrib = np.where(avail, 100.0 * values * wv / np.where(denom > 0, denom, np.nan)[:, None], np.nan)
    score = np.where(denom > 0, np.nansum(np.where(avail, contrib, 0.0), axis=1), np.nan)

    out = pd.DataFrame(index=weighed.index)
    out["score"] = score
    key = np.round(np.nan_to_num(score, nan=-np.inf), 9)
    order = pd.DataFrame({"key": key, "id": ids.to_numpy()}).sort_values(
        ["key", "id"], ascending=[False, True], kind="mergesort").index.to_numpy()
    rank = np.empty(len(out), dtype=np.int64)
    rank[order] = np.arange(1, len(out) + 1)
    out["rank"] = rank
    for i, name in enumerate(COMPONENTS):
        out[f"norm_{name}"] = values[:, i]
    for i, name in enumerate(COMPONENTS):
        out[f"contrib_{name}"] = contrib[:, i]
    missing = [", ".join(n for j, n in enumerate(COMPONENTS) if n in active and not np.isfinite(values[r, j]))
               for r in range(len(out))]
    out["components_missing"] = pd.array([m or None for m in missing], dtype="string")
    rows = weighed.to_dict("records")
    out["reasons"] = [
        quartier_reasons(rows[r], {n: contrib[r, j] for j, n in enumerate(COMPONENTS)}, float(score[r]))
        for r in range(len(out))
    ]
    out.attrs["weights"] = {n: (float(w[n] / wv.sum()) if n in active else 0.0) for n in COMPONENTS}
    out.attrs["weights_requested"] = {n: float(v) for n, v in w.items()}
    out.attrs["normalise"] = normalise
    out.attrs["components"] = {n: c.column for n, c in COMPONENTS.items()}
    return out
