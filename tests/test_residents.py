"""Resident reports: per cell, per area, density raster, confrontation, privacy rules."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from pyproj import Transformer

from cohesion_geo.cellid import cell_ids
from cohesion_geo.errors import ConfigError, CRSError, DroppedRowsWarning, ValidationError
from cohesion_geo.indicators import (
    CONFRONTATION_CLASSES,
    area_reports,
    cell_raster,
    cell_reports,
    confront,
    report_density,
    write_report_density,
)
from cohesion_geo.indicators.residents import assign_reports

X0, Y0 = 3_482_800, 2_466_800  # a Bordeaux corner, EPSG:3035
TO_L93 = Transformer.from_crs(3035, 2154, always_xy=True)


def _grid() -> gpd.GeoDataFrame:
    """A 3 x 2 block of 200 m cells in LAEA, index not a RangeIndex."""
    xs = np.array([0, 200, 400, 0, 200, 400]) + X0
    ys = np.array([0, 0, 0, 200, 200, 200]) + Y0
    return gpd.GeoDataFrame(
        {
            "cell_id": cell_ids(xs, ys),
            "cell_x": xs,
            "cell_y": ys,
            "cell_size": 200,
            "ind": [1000.0, 500.0, 0.0, 200.0, 2000.0, 100.0],
            "men": [400.0, 200.0, 0.0, 80.0, 900.0, 40.0],
            "men_pauv": [200.0, 20.0, 0.0, 8.0, 90.0, 20.0],
            "imputed": [False] * 6,
        },
        geometry=[shapely.box(x, y, x + 200, y + 200) for x, y in zip(xs, ys)],
        crs=3035,
        index=pd.Index([10, 11, 12, 13, 14, 15]),
    )


def _reports(points_laea: list[tuple[float, float]], categories: list[str]) -> gpd.GeoDataFrame:
    """Report points given in LAEA offsets from (X0, Y0), delivered in Lambert-93 like real files."""
    x, y = TO_L93.transform([X0 + p[0] for p in points_laea], [Y0 + p[1] for p in points_laea])
    return gpd.GeoDataFrame(
        {"category": categories, "comment": ["private text <b>"] * len(categories)},
        geometry=shapely.points(x, y),
        crs=2154,
    )


# 6 reports in cell 10 (x 0-200, y 0-200), 2 in cell 14, 1 outside the grid
REPORTS = _reports(
    [(10, 10), (50, 150), (190, 20), (100, 100), (120, 30), (60, 60), (210, 250), (390, 390), (5000, 5000)],
    ["housing", "housing", "safety", "housing", "transport", "other", "youth", "youth", "safety"],
)


class TestCellReports:
    def test_counts_rates_and_privacy(self) -> None:
        with pytest.warns(DroppedRowsWarning, match="1 of 9 reports"):
            out = cell_reports(_grid(), REPORTS)
        assert out.index.tolist() == [10, 11, 12, 13, 14, 15]
        assert out["reports_n"].tolist() == [6, 0, 0, 0, 2, 0]
        assert out["reports_per_1000"].iloc[0] == pytest.approx(6.0)
        assert out["reports_per_1000"].iloc[4] == pytest.approx(1.0)
        assert np.isnan(out["reports_per_1000"].iloc[2])  # nobody lives there
        # cell 10 has 6 >= 5 reports: breakdown shown
        assert out.loc[10, ["reports_housing", "reports_safety", "reports_transport", "reports_other"]].tolist() \
            == [3, 1, 1, 1]
        # cell 14 has 2 < 5: breakdown blanked
        cats = [c for c in out.columns if c.startswith("reports_") and c not in ("reports_n", "reports_per_1000")]
        assert len(cats) == 9
        assert out.loc[14, cats].isna().all()
        # nothing finer than the cell, no comment text
        assert not {"geometry", "comment", "x", "y"} & set(out.columns)

    def test_min_reports_option(self) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DroppedRowsWarning)
            out = cell_reports(_grid(), REPORTS, min_reports=2)
        assert out.loc[14, "reports_youth"] == 2
        with pytest.raises(ConfigError):
            cell_reports(_grid(), REPORTS.iloc[:6], min_reports=0)

    def test_matching_uses_id_crs_not_geometry_crs(self) -> None:
        """Lille case: squares in Lambert-93, ids (and cell_x/cell_y) in LAEA."""
        g = _grid().to_crs(2154)
        pos = assign_reports(REPORTS.iloc[:8], g)
        assert pos.tolist() == [0, 0, 0, 0, 0, 0, 4, 4]

    def test_bad_inputs(self) -> None:
        with pytest.raises(CRSError, match="no CRS"):
            cell_reports(_grid(), REPORTS.set_crs(None, allow_override=True))
        with pytest.raises(ValidationError, match="unknown categories"):
            cell_reports(_grid(), REPORTS.iloc[:2].assign(category=["housing", "noise"]))
        with pytest.raises(ValidationError, match="empty"):
            cell_reports(_grid().iloc[:0], REPORTS)
        empty = cell_reports(_grid(), REPORTS.iloc[:0])
        assert empty["reports_n"].sum() == 0


class TestAreaReports:
    def test_apportioned_like_population(self) -> None:
        zones = gpd.GeoDataFrame(
            {"zone": ["a", "b"]},
            geometry=[shapely.box(X0, Y0, X0 + 100, Y0 + 400), shapely.box(X0 + 100, Y0, X0 + 600, Y0 + 400)],
            crs=3035,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DroppedRowsWarning)
            r = area_reports(_grid(), REPORTS, zones, key="zone", min_reports=4)
        # cell 10 (6 reports) is cut in half: 3 + 3, whatever the points' positions in the cell
        assert r["reports_n"].tolist() == pytest.approx([3.0, 5.0])
        assert r["ind"].tolist() == pytest.approx([600.0, 3200.0])
        assert r["reports_per_1000"].tolist() == pytest.approx([5.0, 5 / 3.2])
        assert np.isnan(r.loc[0, "reports_housing"])  # 3 < 4
        assert r.loc[1, "reports_housing"] == pytest.approx(1.5)
        assert r.loc[1, "reports_youth"] == pytest.approx(2.0)
        assert "poverty_rate" in r.columns and "imputed_share" in r.columns


class TestDensityRaster:
    def test_alignment_mass_and_privacy(self, tmp_path: Path) -> None:
        g = _grid()
        one = REPORTS.iloc[:6]
        arr, tr, crs = report_density(g, one, bandwidth=400)
        pad = 6  # ceil(3 * 400 / 200)
        assert crs.to_epsg() == 3035
        assert (tr.a, tr.e) == (200.0, -200.0)
        assert tr.c == X0 - pad * 200 and tr.f == Y0 + 400 + pad * 200
        assert arr.shape == (2 + 2 * pad, 3 + 2 * pad)
        # mass preserved: density (per km2) x cell area (0.04 km2) sums to the reports
        assert float(arr.sum()) * 0.04 == pytest.approx(6.0, rel=1e-5)
        # peak on the reports' cell (row of y 0-200 is the lower one)
        assert np.unravel_index(arr.argmax(), arr.shape) == (pad + 1, pad)
        # moving reports inside their cell changes nothing (located at cell precision only)
        moved = _reports([(199, 199)] * 6, ["housing"] * 6)
        arr2, _, _ = report_density(g, moved, bandwidth=400)
        np.testing.assert_array_equal(arr, arr2)

    def test_written_geotiff(self, tmp_path: Path) -> None:
        path = write_report_density(_grid(), REPORTS.iloc[:8], tmp_path / "density.tif", bandwidth=200)
        with rasterio.open(path) as src:
            assert src.crs.to_epsg() == 3035 and src.res == (200.0, 200.0)
            # pixel edges fall on cell edges
            assert (src.transform.c - X0) % 200 == 0 and (src.transform.f - Y0) % 200 == 0
            data = src.read(1)
        assert data.sum() * 0.04 == pytest.approx(8.0, rel=1e-5)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["density.tif"]  # no temp file left

    def test_cell_raster(self) -> None:
        arr, tr, _ = cell_raster(pd.Series([1.0, 2, 3, 4, 5, 6], index=_grid().index), _grid())
        assert arr.tolist() == [[4, 5, 6], [1, 2, 3]]

    def test_bad_bandwidth(self) -> None:
        with pytest.raises(ConfigError):
            report_density(_grid(), REPORTS, bandwidth=0)


class TestConfront:
    def test_four_classes(self) -> None:
        s = pd.Series([3.0, 2.5, 0.1, -1.0, np.nan], index=list("abcde"))
        r = pd.Series([12.0, 0.0, 30.0, 1.0, 5.0], index=list("abcde"))
        n = pd.Series([6, 0, 4, 1, 2], index=list("abcde"))
        c = confront(s, r, reports_n=n, stat_threshold=2.0, resident_threshold=10.0)
        assert c.tolist()[:4] == ["both", "statistics_only", "residents_only", "neither"]
        assert pd.isna(c.iloc[4])
        assert list(c.cat.categories) == list(CONFRONTATION_CLASSES)
        # min_reports: cell c (4 reports) no longer a residents' signal at 5
        c5 = confront(s, r, reports_n=n, stat_threshold=2.0, resident_threshold=10.0, min_reports=5)
        assert c5.loc["c"] == "neither"

    def test_default_quantile_thresholds(self) -> None:
        s = pd.Series(np.arange(10.0))
        r = pd.Series([0, 0, 0, 0, 0, 1.0, 2.0, 3.0, 4.0, 5.0])
        c = confront(s, r)
        # statistics: top fifth (>= 7.2) -> 8, 9; residents: >= q80 of positive rates (4.2) -> 9
        assert c.attrs["thresholds"]["statistics"] == pytest.approx(7.2)
        assert c.attrs["thresholds"]["residents"] == pytest.approx(4.2)
        assert c.tolist() == ["neither"] * 8 + ["statistics_only", "both"]
        # no report anywhere: nobody is flagged by residents
        assert set(confront(s, r * 0).dropna()) == {"neither", "statistics_only"}

    def test_errors(self) -> None:
        with pytest.raises(ValidationError, match="aligned"):
            confront(pd.Series([1.0]), pd.Series([1.0], index=[5]))
        with pytest.raises(ConfigError):
            confront(pd.Series([1.0]), pd.Series([1.0]), stat_quantile=80)
        with pytest.raises(ValidationError, match="no value"):
            confront(pd.Series([np.nan]), pd.Series([1.0]))


def test_bordeaux_reports_roundtrip(bordeaux_grid: gpd.GeoDataFrame) -> None:
    """Reports placed at known cells of the real grid (in Lambert-93) come back to those cells."""
    rng = np.random.default_rng(5)
    pick = rng.choice(len(bordeaux_grid), size=300, replace=True)
    cx = bordeaux_grid["cell_x"].to_numpy()[pick] + rng.uniform(1, 199, 300)
    cy = bordeaux_grid["cell_y"].to_numpy()[pick] + rng.uniform(1, 199, 300)
    x, y = TO_L93.transform(cx, cy)
    rep = gpd.GeoDataFrame({"category": rng.choice(["housing", "safety"], 300)},
                           geometry=shapely.points(x, y), crs=2154)
    out = cell_reports(bordeaux_grid, rep)
    expected = np.bincount(pick, minlength=len(bordeaux_grid))
    np.testing.assert_array_equal(out["reports_n"].to_numpy(), expected)
    assert out["reports_n"].sum() == 300
