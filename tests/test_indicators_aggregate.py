"""Aggregation to polygons: area-weighted apportioning, summed counts, secrecy; real Bordeaux/Lille checks."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from cohesion_geo.datasets import REAL_FILES
from cohesion_geo.errors import CRSError, MissingColumnsError, ValidationError
from cohesion_geo.indicators import aggregate, apportion, sum_by


def _grid() -> gpd.GeoDataFrame:
    """Four 200 m cells in a row (x = 0..800), known counts."""
    return gpd.GeoDataFrame(
        {
            "cell_x": [0, 200, 400, 600],
            "cell_y": [0, 0, 0, 0],
            "ind": [100.0, 50.0, 20.0, 8.0],
            "men": [40.0, 20.0, 10.0, 4.0],
            "men_pauv": [4.0, 10.0, 1.0, 2.0],
            "ind_snv": [2e6, 5e5, 4e5, 8e4],
            "imputed": [False, True, False, True],
        },
        geometry=[shapely.box(x, 0, x + 200, 200) for x in (0, 200, 400, 600)],
        crs=3035,
    )


def _zones() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"zone": ["west", "east", "far", "west"], "label": ["W", "E", "F", "W2"]},
        geometry=[
            shapely.box(0, 0, 250, 200),  # cell 0 whole, quarter of cell 1
            shapely.box(250, 0, 600, 200),  # three quarters of cell 1, cell 2 whole
            shapely.box(5000, 5000, 6000, 6000),  # no cell
            shapely.box(600, 0, 700, 200),  # half of cell 3, same key as the first
        ],
        crs=3035,
    )


class TestApportion:
    def test_weights(self) -> None:
        p = apportion(_grid(), _zones())
        got = {(c, q): w for c, q, w in p.itertuples(index=False)}
        assert got == pytest.approx({(0, 0): 1.0, (1, 0): 0.25, (1, 1): 0.75, (2, 1): 1.0, (3, 3): 0.5})
        # touching boundaries (cell 2 / polygon 3 at x=600) give no pair

    def test_crs_checks(self) -> None:
        with pytest.raises(CRSError) as info:
            apportion(_grid(), _zones().set_crs(2154, allow_override=True))
        assert "EPSG:3035" in str(info.value) and "EPSG:2154" in str(info.value)
        with pytest.raises(CRSError, match="geographic"):
            apportion(_grid(), _zones().set_crs(4326, allow_override=True))


class TestAggregate:
    def test_hand_values(self) -> None:
        r = aggregate(_grid(), _zones(), key="zone", keep=["label"])
        assert r["zone"].tolist() == ["west", "east", "far"]
        assert r["label"].tolist() == ["W", "E", "F"]  # first value per key
        west, east, far = (r.iloc[i] for i in range(3))
        assert west["ind"] == pytest.approx(100 + 12.5 + 4)
        assert west["men_pauv"] == pytest.approx(4 + 2.5 + 1)
        assert west["poverty_rate"] == pytest.approx(7.5 / (40 + 5 + 2))
        assert west["imputed_share"] == pytest.approx((12.5 + 4) / 116.5)
        assert west["n_cells"] == 3 and west["cell_equivalents"] == pytest.approx(1.75)
        assert east["ind"] == pytest.approx(37.5 + 20)
        assert east["mean_std_living"] == pytest.approx((375_000 + 400_000) / 57.5)
        assert east["imputed_share"] == pytest.approx(37.5 / 57.5)
        assert far["ind"] == 0 and far["n_cells"] == 0
        assert np.isnan(far["poverty_rate"]) and np.isnan(far["imputed_share"]) and far["secret"]
        # west polygon pieces merged into one geometry
        assert r.geometry.iloc[0].area == pytest.approx(250 * 200 + 100 * 200)
        assert r.crs.to_epsg() == 3035

    def test_secret_flag_and_suppression(self) -> None:
        r = aggregate(_grid(), _zones(), key="zone")
        assert r["secret"].tolist() == [False, False, True]
        assert r.loc[1, "men"] == pytest.approx(25.0)
        small = _grid().assign(men=[4.0, 2.0, 1.0, 0.5])
        s = aggregate(small, _zones(), key="zone", suppress_secret=True)
        assert s["secret"].tolist() == [True, True, True]
        assert s["poverty_rate"].isna().all()
        assert s["ind"].notna().all()  # counts stay, ratios blanked

    def test_derived_grid_population_weighted(self) -> None:
        g = _grid()[["ind", "imputed", "geometry"]].assign(
            mean_std_living=[20_000.0, 10_000.0, 20_000.0, 10_000.0],
            poverty_rate=[0.1, 0.4, 0.05, 0.5],
        )
        r = aggregate(g, _zones(), key="zone")
        w = np.array([100.0, 12.5, 4.0])
        assert r.loc[0, "poverty_rate"] == pytest.approx((w * [0.1, 0.4, 0.5]).sum() / w.sum())
        assert r.loc[0, "mean_std_living"] == pytest.approx((w * [2e4, 1e4, 1e4]).sum() / w.sum())
        assert "population-weighted" in r.attrs["methods"]["poverty_rate"]
        assert any("households are approximated by inhabitants" in n for n in r.attrs["notes"])
        # derived grid: secrecy judged on inhabitants (11 households x 2.2 persons)
        assert r["secret"].tolist() == [False, False, True]

    def test_extra_counts_and_bad_inputs(self) -> None:
        g = _grid().assign(reports_n=[4.0, 0.0, 0.0, 2.0])
        r = aggregate(g, _zones(), key="zone", counts=["reports_n"])
        assert r["reports_n"].tolist() == pytest.approx([5.0, 0.0, 0.0])
        with pytest.raises(MissingColumnsError, match="nope"):
            aggregate(g, _zones(), key="zone", counts=["nope"])
        with pytest.raises(MissingColumnsError, match="key column 'iris'"):
            aggregate(g, _zones(), key="iris")
        with pytest.raises(ValidationError, match="empty"):
            aggregate(g, _zones().iloc[:0], key="zone")
        with pytest.raises(ValidationError, match="empty"):
            aggregate(g.iloc[:0], _zones(), key="zone")

    def test_sum_by_whole_cells(self) -> None:
        r = sum_by(_grid(), pd.Series(["q1", "q1", "q2", None]))
        assert r.index.tolist() == ["q1", "q2"]
        assert r["n_cells"].tolist() == [2, 1]
        assert r["poverty_rate"].tolist() == pytest.approx([14 / 60, 0.1])
        assert r["imputed_share"].tolist() == pytest.approx([50 / 150, 0.0])
        assert r["secret"].tolist() == [False, True]
        # labels as a plain array (positions of the grid's rows) give the same groups
        a = sum_by(_grid(), np.array(["q1", "q1", "q2", None], dtype=object))
        pd.testing.assert_frame_equal(a, r.rename_axis(None))


@pytest.fixture(scope="module")
def bordeaux_iris(real_data_dir, bordeaux_grid) -> gpd.GeoDataFrame:
    from cohesion_geo.loaders.iris import load_iris

    return load_iris(real_data_dir / REAL_FILES["bordeaux_iris"]).to_crs(bordeaux_grid.crs)


def test_bordeaux_iris_population(bordeaux_grid: gpd.GeoDataFrame, bordeaux_iris: gpd.GeoDataFrame) -> None:
    """88 IRIS of Bordeaux: population apportioned = cells' population inside the commune."""
    before = bordeaux_grid.copy()
    r = aggregate(bordeaux_grid, bordeaux_iris, key="iris", keep=["name"])
    assert len(r) == 88 and r["iris"].is_unique
    pd.testing.assert_frame_equal(pd.DataFrame(bordeaux_grid), pd.DataFrame(before))  # input untouched
    # independent check: the share of each cell inside the union of the IRIS
    union = shapely.union_all(bordeaux_iris.geometry.to_numpy())
    inside = shapely.area(shapely.intersection(bordeaux_grid.geometry.to_numpy(), union)) / 40_000.0
    expected = float((bordeaux_grid["ind"] * inside).sum())
    assert r["ind"].sum() == pytest.approx(expected, rel=1e-9)
    # close to the population of the cells INSEE assigns to Bordeaux (219,640.5): only
    # cells cut by the commune boundary differ
    in_commune = bordeaux_grid.loc[bordeaux_grid["commune"] == "33063", "ind"].sum()
    assert in_commune == pytest.approx(219_640.5)
    assert r["ind"].sum() == pytest.approx(in_commune, rel=0.01)
    assert r["imputed_share"].between(0, 1).all()
    # ratios of sums: the commune's poverty rate from IRIS sums equals the one from all pairs
    assert (r["men_pauv"].sum() / r["men"].sum()) == pytest.approx(
        float((bordeaux_grid["men_pauv"] * inside).sum() / (bordeaux_grid["men"] * inside).sum()), rel=1e-9
    )


def test_bordeaux_whole_grid_poverty_rate(bordeaux_grid: gpd.GeoDataFrame, real_data_dir) -> None:
    """One polygon covering everything returns the whole-grid rate from summed counts."""
    raw = pd.read_csv(real_data_dir / REAL_FILES["bordeaux_grid"])
    truth = raw["Men_pauv"].sum() / raw["Men"].sum()
    box = gpd.GeoDataFrame({"area": ["bm"]}, geometry=[shapely.box(*bordeaux_grid.total_bounds)],
                           crs=bordeaux_grid.crs)
    r = aggregate(bordeaux_grid, box, key="area")
    assert r["ind"].iloc[0] == pytest.approx(725_084.5)
    assert r["poverty_rate"].iloc[0] == pytest.approx(truth, rel=1e-12)
    assert r["poverty_rate"].iloc[0] == pytest.approx(0.1401764, abs=1e-7)
    assert r["imputed_share"].iloc[0] == pytest.approx(
        (raw["Ind"] * raw["I_est_cr"]).sum() / raw["Ind"].sum(), rel=1e-12
    )
    by_commune = sum_by(bordeaux_grid, bordeaux_grid["commune"])
    assert by_commune["ind"].sum() == pytest.approx(725_084.5)
    assert by_commune.loc["33063", "poverty_rate"] == pytest.approx(
        raw.loc[raw.Depcom == 33063, "Men_pauv"].sum() / raw.loc[raw.Depcom == 33063, "Men"].sum()
    )


def test_lille_qpv_aggregation(lille_grid: gpd.GeoDataFrame, real_data_dir) -> None:
    """Derived Lille grid to the official QPV: population-weighted means, said so."""
    qpv = gpd.read_file(real_data_dir / REAL_FILES["lille_qpv"]).to_crs(lille_grid.crs)
    with pytest.raises(ValidationError, match="QP059067: Self-intersection"):
        aggregate(lille_grid, qpv, key="CODE_QP")  # the official layer has one invalid polygon
    r = aggregate(lille_grid, qpv, key="CODE_QP", fix_invalid=True)
    assert len(r) == 26
    assert set(r.attrs["methods"]) == {"mean_std_living", "poverty_rate"}
    assert r["poverty_rate"].between(0, 1).all()
    # QPV are poorer than the metropolis as a whole
    whole = np.average(lille_grid["poverty_rate"], weights=lille_grid["ind"])
    qpv_rate = np.average(r["poverty_rate"], weights=r["ind"])
    assert qpv_rate > 1.5 * whole
    assert r["ind"].sum() < lille_grid["ind"].sum()
