"""Cell indicators, composite scores and facility access: hand-checkable values and bad inputs."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from cohesion_geo.errors import ConfigError, CRSError, MissingColumnsError, ValidationError
from cohesion_geo.indicators import (
    INDICATORS,
    cell_indicators,
    composite_score,
    facility_access,
    isolation_score,
    poverty_score,
    ratio,
    select_facilities,
    standardize,
)
from cohesion_geo.indicators import cell as C

# Three cells with round numbers; index deliberately not a RangeIndex.
COUNTS = pd.DataFrame(
    {
        "ind": [100.0, 50.0, 0.0],
        "men": [40.0, 20.0, 0.0],
        "men_pauv": [10.0, 2.0, 0.0],
        "men_1ind": [8.0, 10.0, 0.0],
        "men_5ind": [4.0, 1.0, 0.0],
        "men_prop": [30.0, 5.0, 0.0],
        "men_fmp": [6.0, 2.0, 0.0],
        "ind_snv": [2_000_000.0, 1_500_000.0, 0.0],
        "men_surf": [3_500.0, 1_000.0, 0.0],
        "men_coll": [30.0, 20.0, 0.0],
        "men_mais": [10.0, 0.0, 0.0],
        "log_av45": [10.0, 0.0, 0.0],
        "log_45_70": [10.0, 5.0, 0.0],
        "log_70_90": [10.0, 5.0, 0.0],
        "log_ap90": [10.0, 10.0, 0.0],
        "log_inc": [0.0, 0.0, 0.0],
        "log_soc": [20.0, 0.0, 0.0],
        "ind_0_3": [5.0, 1.0, 0.0],
        "ind_4_5": [5.0, 1.0, 0.0],
        "ind_6_10": [5.0, 1.0, 0.0],
        "ind_11_17": [10.0, 2.0, 0.0],
        "ind_65_79": [10.0, 20.0, 0.0],
        "ind_80p": [5.0, 5.0, 0.0],
    },
    index=pd.Index(["a", "b", "c"], name="cell"),
)


class TestCellIndicators:
    def test_hand_values(self) -> None:
        out = cell_indicators(COUNTS)
        assert list(out.columns) == list(INDICATORS)  # all eleven, documented order
        assert out.index.equals(COUNTS.index)
        expect = {
            "mean_std_living": [20_000.0, 30_000.0],
            "poverty_rate": [0.25, 0.1],
            "social_housing_share": [0.5, 0.0],
            "one_person_share": [0.2, 0.5],
            "single_parent_share": [0.15, 0.1],
            "large_household_share": [0.1, 0.05],
            "owner_share": [0.75, 0.25],
            "elderly_share": [0.15, 0.5],
            "children_share": [0.25, 0.1],
            "pre1970_housing_share": [0.5, 0.25],
            "floor_area_per_person": [35.0, 20.0],
        }
        for name, values in expect.items():
            assert out.loc[["a", "b"], name].tolist() == pytest.approx(values), name
        # the empty cell: every ratio missing, never infinite
        assert out.loc["c"].isna().all()
        assert not np.isinf(out.to_numpy()).any()

    def test_ratio_zero_and_missing_denominators(self) -> None:
        r = ratio(pd.Series([1.0, 1.0, np.nan, 3.0], index=[10, 11, 12, 13]), np.array([0.0, np.nan, 2.0, 4.0]))
        assert r.index.tolist() == [10, 11, 12, 13]
        assert r.isna().tolist() == [True, True, True, False]
        assert r.iloc[3] == 0.75

    def test_aggregate_from_summed_counts_not_mean_of_ratios(self) -> None:
        total = COUNTS.loc[["a", "b"]].sum().to_frame().T
        rate = C.poverty_rate(total).iloc[0]
        assert rate == pytest.approx(12 / 60)  # not (0.25 + 0.1) / 2
        assert rate != pytest.approx(cell_indicators(COUNTS).loc[["a", "b"], "poverty_rate"].mean())

    def test_dwellings_fallbacks(self) -> None:
        # distinct totals per source, so each assertion tells which one was used
        t = COUNTS.assign(log_inc=[10.0, 0.0, 0.0], men_mais=[0.0, 5.0, 0.0])
        assert C.dwellings(t).tolist() == [50.0, 20.0, 0.0]  # periods first (not men_coll + men_mais, not men)
        no_age = t.drop(columns=["log_av45", "log_45_70", "log_70_90", "log_ap90", "log_inc"])
        assert C.dwellings(no_age).tolist() == [30.0, 25.0, 0.0]  # then men_coll + men_mais
        only_men = no_age.drop(columns=["men_coll", "men_mais"])
        assert C.dwellings(only_men).tolist() == [40.0, 20.0, 0.0]  # then men
        assert C.social_housing_share(t).loc["a"] == 0.4
        assert C.social_housing_share(no_age).loc["a"] == pytest.approx(20 / 30)
        assert C.social_housing_share(only_men).loc["a"] == 0.5

    def test_derived_layout_passthrough(self) -> None:
        derived = pd.DataFrame({"ind": [10.0, 20.0], "mean_std_living": [15_000.0, 9_000.0],
                                "poverty_rate": [0.1, 0.4]})
        out = cell_indicators(derived)
        assert list(out.columns) == ["mean_std_living", "poverty_rate"]
        assert out["poverty_rate"].tolist() == [0.1, 0.4]

    def test_only_available_indicators(self) -> None:
        out = cell_indicators(COUNTS[["ind", "men", "men_pauv"]])
        assert list(out.columns) == ["poverty_rate"]

    def test_missing_columns_named(self) -> None:
        with pytest.raises(MissingColumnsError, match="men_pauv"):
            C.poverty_rate(COUNTS.drop(columns="men_pauv"))
        with pytest.raises(MissingColumnsError, match="elderly_share"):
            cell_indicators(COUNTS.drop(columns="ind_80p"), indicators=["elderly_share"])
        with pytest.raises(MissingColumnsError, match="unknown indicator"):
            cell_indicators(COUNTS, indicators=["wealth"])
        with pytest.raises(MissingColumnsError, match="no indicator can be computed"):
            cell_indicators(pd.DataFrame({"foo": [1.0]}))

    def test_empty_table_and_all_missing_columns(self) -> None:
        with pytest.raises(ValidationError, match="empty"):
            cell_indicators(COUNTS.iloc[:0])
        bad = COUNTS.copy()
        bad["men"] = np.nan
        bad["ind_snv"] = np.nan
        with pytest.raises(ValidationError) as info:
            cell_indicators(bad)
        # every all-missing column listed at once
        assert any("'men'" in p for p in info.value.problems)
        assert any("'ind_snv'" in p for p in info.value.problems)


class TestScores:
    def test_standardize_groups_and_weights(self) -> None:
        v = pd.Series([1.0, 3.0, 10.0, 30.0, np.nan], index=list("vwxyz"))
        g = pd.Series(["A", "A", "B", "B", "B"], index=list("vwxyz"))
        z = standardize(v, groups=g)
        assert z.index.equals(v.index)
        assert z.iloc[:4].tolist() == pytest.approx([-1.0, 1.0, -1.0, 1.0])
        assert np.isnan(z.iloc[4])
        # population weights 3:1 -> mean 1.5, sd sqrt(0.75)
        zw = standardize(pd.Series([1.0, 3.0]), population=np.array([3.0, 1.0]))
        assert zw.tolist() == pytest.approx([-0.5 / np.sqrt(0.75), 1.5 / np.sqrt(0.75)])

    def test_constant_group_gives_zero_and_rank_method(self) -> None:
        assert standardize(pd.Series([2.0, 2.0])).tolist() == [0.0, 0.0]
        r = standardize(pd.Series([5.0, 1.0, 3.0, 100.0]), method="rank")
        assert r.tolist() == [0.25, -0.25, 0.0, 0.5]
        with pytest.raises(ConfigError):
            standardize(pd.Series([1.0]), method="minmax")

    def test_composite_renormalises_missing_components(self) -> None:
        t = pd.DataFrame({"a": [0.0, 2.0, 1.0], "b": [0.0, 2.0, np.nan]})
        s = composite_score(t, weights={"a": 1.0, "b": 3.0})
        za = standardize(t["a"]).to_numpy()
        zb = standardize(t["b"]).to_numpy()
        assert s.iloc[0] == pytest.approx((za[0] + 3 * zb[0]) / 4)
        assert s.iloc[2] == pytest.approx(za[2])  # b missing: a alone
        assert s.attrs["components"] == {"a": 1.0, "b": 3.0}

    def test_poverty_score_direction_and_groups(self) -> None:
        ind = cell_indicators(COUNTS.loc[["a", "b"]])
        s = poverty_score(ind)
        assert s.loc["a"] > s.loc["b"]  # higher poverty rate, lower income
        assert s.attrs["components"] == {
            "poverty_rate": 0.4, "mean_std_living": -0.3, "single_parent_share": 0.1,
            "social_housing_share": 0.1, "large_household_share": 0.1,
        }
        # within-group standardisation: same relative position in two urban units
        t = pd.DataFrame({"poverty_rate": [0.1, 0.2, 0.3, 0.4], "mean_std_living": [3e4, 2e4, 2e4, 1e4]})
        s2 = poverty_score(t, groups=pd.Series(["u1", "u1", "u2", "u2"]))
        assert s2.tolist() == pytest.approx([-1.0, 1.0, -1.0, 1.0])

    def test_score_configuration_errors(self) -> None:
        t = pd.DataFrame({"poverty_rate": [0.1, 0.2]})
        with pytest.raises(MissingColumnsError, match="owner_share"):
            poverty_score(t, weights={"poverty_rate": 1.0, "owner_share": -1.0})
        with pytest.raises(ConfigError):
            poverty_score(t, weights={"poverty_rate": 0.0})
        with pytest.raises(MissingColumnsError, match="isolation score"):
            isolation_score(t)

    def test_isolation_score_social_and_spatial(self) -> None:
        t = pd.DataFrame({"one_person_share": [0.2, 0.2], "elderly_share": [0.1, 0.1],
                          "facility_distance": [100.0, 900.0], "facility_count": [5, 0]})
        s = isolation_score(t)
        assert s.iloc[1] > s.iloc[0]
        assert s.tolist() == pytest.approx([-0.4 / 1.0, 0.4 / 1.0])  # (0.2 + 0.2) of 1.0 weight


def _cells(xy: list[tuple[float, float]], crs: int | str = 2154) -> gpd.GeoDataFrame:
    geoms = [shapely.box(x - 100, y - 100, x + 100, y + 100) for x, y in xy]
    return gpd.GeoDataFrame({"cell_id": [f"c{i}" for i in range(len(xy))]}, geometry=geoms, crs=crs,
                            index=pd.Index([7, 3, 5][: len(xy)]))


FACILITIES = gpd.GeoDataFrame(
    {"typequ": ["F121", "F307", "D201", "C101"]},
    geometry=shapely.points([300.0, 0.0, 5000.0, 3000.0], [400.0, 500.0, 0.0, 4000.0]),
    crs=2154,
)


class TestAccess:
    def test_hand_distances_and_counts(self) -> None:
        cells = _cells([(0, 0), (1000, 0), (5000, 4000)])
        out = facility_access(cells, FACILITIES, radius=500)
        assert out.index.tolist() == [7, 3, 5]
        assert out["facility_distance"].tolist() == pytest.approx([500.0, np.hypot(700, 400), 2000.0])
        # (0,0): F121 at 500 and F307 at 500 both count (radius inclusive)
        assert out["facility_count"].tolist() == [2, 0, 0]

    def test_type_prefixes(self) -> None:
        cells = _cells([(0, 0)])
        f1 = facility_access(cells, FACILITIES, types=["F1"], radius=600)
        assert f1["facility_distance"].iloc[0] == pytest.approx(500.0)
        assert f1["facility_count"].iloc[0] == 1
        d = facility_access(cells, FACILITIES, types="D2,C1", radius=600)
        assert d["facility_distance"].iloc[0] == pytest.approx(5000.0)
        assert select_facilities(FACILITIES, types=["f3"]).typequ.tolist() == ["F307"]

    def test_geographic_crs_refused(self) -> None:
        cells = _cells([(0, 0)]).set_crs(4326, allow_override=True)
        with pytest.raises(CRSError, match="geographic"):
            facility_access(cells, FACILITIES.set_crs(4326, allow_override=True))

    def test_crs_mismatch_names_both(self) -> None:
        cells = _cells([(0, 0)], crs=3035)
        with pytest.raises(CRSError) as info:
            facility_access(cells, FACILITIES)
        assert "EPSG:3035" in str(info.value) and "EPSG:2154" in str(info.value)

    def test_empty_layers_and_unknown_types(self) -> None:
        with pytest.raises(ValidationError, match="empty"):
            facility_access(_cells([(0, 0)]), FACILITIES.iloc[:0])
        with pytest.raises(ValidationError, match="empty"):
            facility_access(_cells([(0, 0)]).iloc[:0], FACILITIES)
        with pytest.raises(ValidationError, match="types present: C101, D201, F121, F307"):
            facility_access(_cells([(0, 0)]), FACILITIES, types=["Z9"])
        with pytest.raises(ValidationError, match="radius"):
            facility_access(_cells([(0, 0)]), FACILITIES, radius=-1)


def test_bordeaux_cell_indicators(bordeaux_grid: gpd.GeoDataFrame, real_data_dir) -> None:
    """Whole-grid ratios from summed counts equal the ratios recomputed from the raw CSV."""
    raw = pd.read_csv(real_data_dir / "bordeaux/filosofi2015_200m_bordeaux_metropole.csv")
    total = bordeaux_grid[[c for c in bordeaux_grid.columns if c in C.DWELLING_AGE_COLUMNS
                           or c in ("ind", "men", "men_pauv", "ind_snv", "log_soc", "ind_65_79", "ind_80p")]]
    whole = cell_indicators(total.sum().to_frame().T)
    assert whole["poverty_rate"].iloc[0] == pytest.approx(raw.Men_pauv.sum() / raw.Men.sum(), rel=1e-12)
    assert whole["poverty_rate"].iloc[0] == pytest.approx(0.140176, abs=1e-6)  # 47,109.1 / 336,070.1
    assert whole["mean_std_living"].iloc[0] == pytest.approx(raw.Ind_snv.sum() / raw.Ind.sum(), rel=1e-12)
    assert whole["social_housing_share"].iloc[0] == pytest.approx(raw.Log_soc.sum() / raw.Men.sum(), rel=1e-9)
    cells = cell_indicators(bordeaux_grid)
    assert len(cells) == 6735 and cells.index.equals(bordeaux_grid.index)
    assert not np.isinf(cells.to_numpy()).any()
    # matches the loader's own mean_std_living column, cell by cell
    np.testing.assert_allclose(cells["mean_std_living"], bordeaux_grid["mean_std_living"], rtol=1e-12)
    assert cells["elderly_share"].between(0, 1).all()
