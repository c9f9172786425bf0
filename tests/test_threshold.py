"""The official threshold S: formula, weightings, rounding, parameter sets, medians."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cohesion_geo.errors import ConfigError
from cohesion_geo.priority.threshold import (
    MAINLAND,
    NATIONAL_MEDIANS,
    OVERSEAS,
    estimate_urban_median,
    national_median,
    official_threshold,
    weighted_median,
)


def test_mainland_formula_hand_computed() -> None:
    # 0.6 * (0.7 * 20,820 + 0.3 * 21,445.71) = 0.6 * (14,574 + 6,433.71) = 12,604.63 -> 12,700
    assert official_threshold(20_820, 21_445.71) == 12_700.0
    # 0.6 * (0.7 * 19,270 + 0.3 * 17,000) = 0.6 * 18,589 = 11,153.4 -> 11,200
    assert official_threshold(19_270, 17_000) == 11_200.0


def test_large_urban_unit_reverses_weights() -> None:
    # Paris: 0.6 * (0.3 * 20,300 + 0.7 * 23,500) = 0.6 * (6,090 + 16,450) = 13,524 -> 13,600
    assert official_threshold(20_300, 23_500, urban_unit_population=10_700_000) == 13_600.0
    # 4,999,999 inhabitants: still the ordinary weights: 0.6 * (14,210 + 7,050) = 12,756 -> 12,800
    assert official_threshold(20_300, 23_500, urban_unit_population=4_999_999) == 12_800.0
    # exactly 5 million: reversed
    assert official_threshold(20_300, 23_500, urban_unit_population=5_000_000) == 13_600.0


def test_rounding_is_upwards_and_exact_multiples_stay() -> None:
    # 0.6 * (0.7 * 20,000 + 0.3 * 15,000) = 0.6 * 18,500 = 11,100 exactly: stays
    assert official_threshold(20_000, 15_000) == 11_100.0
    # one euro more in the urban median: 11,100.18 -> 11,200
    assert official_threshold(20_000, 15_001) == 11_200.0


def test_overseas_variant_weights_departement_median() -> None:
    # 0.6 * (0.3 * 20,300 + 0.7 * 14,000) = 0.6 * (6,090 + 9,800) = 9,534 -> 9,600
    assert official_threshold(20_300, 14_000, variant="overseas") == 9_600.0
    assert OVERSEAS.min_area_population == 15_000
    assert OVERSEAS.min_density == 2_000
    assert MAINLAND.min_area_population == 10_000
    assert MAINLAND.min_quartier_population == OVERSEAS.min_quartier_population == 1_000


@pytest.mark.parametrize("bad", [0, -5, float("nan"), float("inf")])
def test_rejects_non_positive_medians(bad: float) -> None:
    with pytest.raises(ConfigError, match="national_median"):
        official_threshold(bad, 20_000)


def test_unknown_variant() -> None:
    with pytest.raises(ConfigError, match="variant"):
        official_threshold(20_000, 20_000, variant="corsica")  # type: ignore[arg-type]


def test_national_medians_by_vintage() -> None:
    assert national_median(2015) == 20_300
    assert national_median(2016) == 20_520
    assert national_median(2017) == 20_820
    assert national_median(2019) == 22_040
    assert set(NATIONAL_MEDIANS) >= {2015, 2016, 2017, 2019}
    with pytest.raises(ConfigError, match="2018"):
        national_median(2018)


def test_weighted_median() -> None:
    assert weighted_median([10, 20, 30], [1, 1, 5]) == 30
    assert weighted_median([10, 20, 30], [1, 1, 1]) == 20
    assert weighted_median([30, 10, 20, np.nan], [1, 1, 1, 9]) == 20  # NaN ignored, order irrelevant
    assert weighted_median([10, 20], [1, 1]) == 10  # cumulative weight reaches half at 10
    assert np.isnan(weighted_median([np.nan], [1]))


def test_estimate_urban_median_by_group_matches_per_group() -> None:
    rng = np.random.default_rng(3)
    v = rng.normal(20_000, 3_000, 3_000)
    w = rng.integers(0, 40, 3_000).astype(float)
    groups = rng.choice(["59702", "33701", "00000"], 3_000)
    est = estimate_urban_median(pd.Series(v), population=pd.Series(w), groups=pd.Series(groups))
    for g in ("59702", "33701", "00000"):
        assert est[g] == weighted_median(v[groups == g], w[groups == g])
    whole = estimate_urban_median(pd.Series(v), population=pd.Series(w))
    assert whole["all"] == weighted_median(v, w)
