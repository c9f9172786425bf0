"""Priority score: weights, normalisation, contributions, rank, reasons."""

from __future__ import annotations

import html
import warnings

import numpy as np
import pandas as pd
import pytest

from cohesion_geo.errors import CohesionGeoWarning, ConfigError, ValidationError
from cohesion_geo.priority.score import (
    COMPONENTS,
    DEFAULT_WEIGHTS,
    normalise_component,
    parse_weights,
    priority_score,
    quartier_reasons,
    validate_weights,
)


def _table(n: int = 12, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "quartier_id": [f"Q{i:02d}" for i in range(n)],
        "q_poverty_rate": rng.uniform(0.25, 0.5, n),
        "contrast_std_living": rng.uniform(1.0, 2.0, n),
        "financial_fragility": rng.uniform(0.6, 1.4, n),
        "q_ind": rng.uniform(1000, 10000, n),
        "reports_per_1000": rng.uniform(0, 20, n),
    })


def test_default_weights_sum_to_one_and_name_every_component():
    assert set(DEFAULT_WEIGHTS) == set(COMPONENTS)
    assert sum(DEFAULT_WEIGHTS.values()) == pytest.approx(1.0)


def test_weights_validation_lists_every_problem_and_the_valid_names():
    with pytest.raises(ConfigError) as err:
        validate_weights({"povrety": 1, "contrast": -0.5, "reports": "x", "fragility": float("inf")})
    text = str(err.value)
    assert "unknown component 'povrety'" in text
    assert "contrast: weight -0.5" in text and "reports: 'x' is not a number" in text and "fragility" in text
    assert "valid names: poverty, contrast, fragility, population, reports" in text
    with pytest.raises(ConfigError, match="no positive weight"):
        validate_weights({"poverty": 0})
    with pytest.raises(ConfigError, match="mapping"):
        validate_weights([("poverty", 1)])  # type: ignore[arg-type]


def test_parse_weights():
    assert parse_weights("poverty=0.4, contrast=0.2") == {"poverty": 0.4, "contrast": 0.2}
    assert validate_weights("poverty=3,contrast=1") == {
        "poverty": 0.75, "contrast": 0.25, "fragility": 0.0, "population": 0.0, "reports": 0.0}
    with pytest.raises(ConfigError, match="'poverty' is not name=value"):
        parse_weights("poverty")
    with pytest.raises(ConfigError, match="unknown component 'foo'"):
        parse_weights("foo=1")


def test_normalisation_methods():
    s = pd.Series([3.0, 1.0, 2.0, 2.0, np.nan])
    assert normalise_component(s).tolist()[:4] == [1.0, 0.0, 0.5, 0.5]
    assert np.isnan(normalise_component(s).iloc[4])
    assert normalise_component(pd.Series([5.0])).tolist() == [0.5]
    assert normalise_component(pd.Series([2.0, 2.0]), method="minmax").tolist() == [0.5, 0.5]
    assert normalise_component(pd.Series([0.0, 10.0, 2.5]), method="minmax").tolist() == [0.0, 1.0, 0.25]
    with pytest.raises(ConfigError, match="rank, minmax"):
        normalise_component(s, method="zscore")


def test_contributions_sum_to_the_score():
    t = _table()
    t.loc[3, "financial_fragility"] = np.nan  # one quartier without finance
    for method in ("rank", "minmax"):
        s = priority_score(t, normalise=method)
        contrib = s[[f"contrib_{n}" for n in COMPONENTS]]
        np.testing.assert_allclose(contrib.sum(axis=1, skipna=True), s["score"], rtol=1e-12)
        assert s["score"].between(0, 100).all()
    s = priority_score(t)
    assert s.loc[3, "components_missing"] == "fragility" and np.isnan(s.loc[3, "contrib_fragility"])
    # the quartier without finance is scored on the other components, weights renormalised
    n = s.loc[3, [f"norm_{c}" for c in COMPONENTS]]
    w = DEFAULT_WEIGHTS
    expected = 100 * sum(w[c] * n[f"norm_{c}"] for c in COMPONENTS if c != "fragility") / (1 - w["fragility"])
    assert s.loc[3, "score"] == pytest.approx(expected)
    assert s["components_missing"].isna().sum() == len(t) - 1


def test_hand_computed_score():
    t = pd.DataFrame({"quartier_id": ["A", "B", "C"], "q_poverty_rate": [0.3, 0.5, 0.4],
                      "q_ind": [1000.0, 1200.0, 5000.0], "contrast_std_living": [2.0, 1.0, 1.5]})
    s = priority_score(t, weights={"poverty": 2, "contrast": 1, "population": 1})
    # ranks -> norms: poverty A0 B1 C.5; contrast A1 B0 C.5; population A0 B.5 C1
    assert s["score"].tolist() == pytest.approx([25.0, 62.5, 62.5])
    assert s["contrib_poverty"].tolist() == pytest.approx([0.0, 50.0, 25.0])
    assert s["rank"].tolist() == [3, 1, 2]  # B and C tie: ordered by quartier_id


def test_changing_weights_changes_ranks_predictably():
    t = pd.DataFrame({"quartier_id": ["A", "B"], "q_poverty_rate": [0.45, 0.30], "q_ind": [1500.0, 9000.0]})
    assert priority_score(t, weights={"poverty": 1})["rank"].tolist() == [1, 2]
    assert priority_score(t, weights={"population": 1})["rank"].tolist() == [2, 1]
    # raising a component's weight never lowers the rank of the quartier that leads on it
    t = _table(20, seed=4)
    lead = t["q_poverty_rate"].idxmax()
    ranks = [priority_score(t, weights={**DEFAULT_WEIGHTS, "poverty": w}).loc[lead, "rank"]
             for w in (0.0, 0.2, 0.4, 1.0, 5.0)]
    assert ranks == sorted(ranks, reverse=True) and ranks[-1] == 1


def test_ties_are_broken_by_quartier_id_whatever_the_row_order():
    t = pd.DataFrame({"quartier_id": ["b", "c", "a", "d"], "q_poverty_rate": [0.4, 0.4, 0.4, 0.3]})
    s = priority_score(t, weights={"poverty": 1}).set_index(t["quartier_id"])
    assert s["rank"].to_dict() == {"a": 1, "b": 2, "c": 3, "d": 4}
    shuffled = t.iloc[[3, 1, 0, 2]].reset_index(drop=True)
    s2 = priority_score(shuffled, weights={"poverty": 1}).set_index(shuffled["quartier_id"])
    assert s2["rank"].to_dict() == s["rank"].to_dict()


def test_independent_of_row_order():
    t = _table(15, seed=2)
    ref = priority_score(t).set_index(t["quartier_id"]).sort_index()
    perm = t.sample(frac=1, random_state=7)
    got = priority_score(perm).set_index(perm["quartier_id"]).sort_index()
    pd.testing.assert_frame_equal(got, ref)
    assert sorted(ref["rank"]) == list(range(1, 16))


def test_component_without_data():
    t = _table().drop(columns=["financial_fragility"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # default weights: silently left out
        s = priority_score(t)
    assert s.attrs["weights"]["fragility"] == 0.0
    assert sum(s.attrs["weights"].values()) == pytest.approx(1.0)
    assert s["components_missing"].isna().all()
    with pytest.warns(CohesionGeoWarning, match="fragility.*financial_fragility"):
        priority_score(t, weights={"poverty": 1, "fragility": 1})
    with pytest.raises(ValidationError, match="no component"), pytest.warns(CohesionGeoWarning):
        priority_score(t, weights={"fragility": 1})


def test_quartier_id_required_and_unique():
    with pytest.raises(ValidationError, match="unique"):
        priority_score(pd.DataFrame({"quartier_id": ["a", "a"], "q_poverty_rate": [0.3, 0.4]}))


def test_reasons_are_plain_text_and_explain():
    row = {"q_poverty_rate": 0.4, "ring_poverty_rate": 0.05, "uu_poverty_rate": 0.18, "urban_unit": "33701",
           "situation": "isolated pocket", "q_std_living": 12000.0, "ring_std_living": 25000.0,
           "pfin_ratio": 0.77, "commune_main_name": "A<b>&C", "q_ind": 400.0, "reports_per_1000": 2.5,
           "confrontation": "statistics_only", "ring_in_quartiers": 0.2}
    text = quartier_reasons(row, {"poverty": 40.0, "contrast": 10.0, "fragility": 5.0}, 55.0)
    assert text.startswith("poverty rate 40 % vs 5 % in its ring and 18 % in its urban unit")
    assert "isolated pocket: standard of living 12,000 EUR vs 25,000 EUR in its ring" in text
    assert "0.77x its size group" in text and "2.5 residents' reports per 1,000 inhabitants" in text
    assert "(confrontation: statistics only)" in text and "20 % of its neighbours" in text
    assert "mostly from poverty rate (+40.0) and contrast with its ring (+10.0)" in text
    assert html.escape(text, quote=False) == text  # no markup character survives
    assert "\n" not in text
    t = _table(5)
    s = priority_score(t)
    assert all(html.escape(r, quote=False) == r for r in s["reasons"])
    assert all(r.startswith("poverty rate ") for r in s["reasons"])
