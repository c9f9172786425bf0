"""Population-weighted evaluation against official perimeters, on exact constructed geometry."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from cohesion_geo.errors import CRSError
from cohesion_geo.priority import evaluate


def _cells() -> gpd.GeoDataFrame:
    """Four 200 m cells in a row, 100 / 200 / 300 / 400 inhabitants (Lambert-93)."""
    geoms = [shapely.box(200 * i, 0, 200 * (i + 1), 200) for i in range(4)]
    return gpd.GeoDataFrame({"ind": [100.0, 200.0, 300.0, 400.0]}, geometry=geoms, crs=2154)


def test_recall_precision_f1_apportioned_by_area() -> None:
    grid = _cells()
    # official: the first cell and half of the second -> 100 + 100 = 200 inhabitants
    official = gpd.GeoDataFrame({"CODE_QP": ["QP1"], "NOM_QP": ["Un"]}, geometry=[shapely.box(0, 0, 300, 200)], crs=2154)
    # candidate: cells 2 and 3 -> 500 inhabitants, of which 100 (half of cell 2) official
    cand = gpd.GeoDataFrame(geometry=[shapely.box(200, 0, 600, 200)], crs=2154)
    r = evaluate(cand, official, grid=grid)
    assert r.population_official == pytest.approx(200)
    assert r.population_candidates == pytest.approx(500)
    assert r.population_both == pytest.approx(100)
    assert r.recall == pytest.approx(0.5)
    assert r.precision == pytest.approx(0.2)
    assert r.f1 == pytest.approx(2 * 0.5 * 0.2 / 0.7)
    row = r.per_quartier.iloc[0]
    assert row["official_id"] == "QP1" and row["name"] == "Un"
    assert row["covered_share"] == pytest.approx(0.5) and bool(row["half_covered"])
    assert r.half_covered_share == 1.0
    assert "half covered 1/1" in str(r)


def test_per_quartier_shares_and_half_covered() -> None:
    grid = _cells()
    official = gpd.GeoDataFrame(
        {"CODE_QP": ["A", "B"]},
        geometry=[shapely.box(0, 0, 200, 200), shapely.box(400, 0, 800, 200)],
        crs=2154,
    )
    cand = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 200, 200), shapely.box(400, 0, 500, 200)], crs=2154)
    r = evaluate(cand, official, grid=grid)
    shares = dict(zip(r.per_quartier["official_id"], r.per_quartier["covered_share"]))
    assert shares["A"] == pytest.approx(1.0)
    assert shares["B"] == pytest.approx(150 / 700)  # half of cell 3 (150) of 300 + 400
    assert r.half_covered_share == 0.5
    assert r.precision == pytest.approx(1.0)
    assert r.recall == pytest.approx(250 / 800)


def test_invalid_official_polygon_repaired_and_noted() -> None:
    grid = _cells()
    bowtie = shapely.Polygon([(0, 0), (200, 200), (200, 0), (0, 200), (0, 0)])  # self-intersecting
    official = gpd.GeoDataFrame({"CODE_QP": ["X"]}, geometry=[bowtie], crs=2154)
    cand = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 200, 200)], crs=2154)
    r = evaluate(cand, official, grid=grid)
    assert any("make_valid" in n for n in r.notes)
    assert r.population_official == pytest.approx(50)  # the two triangles: half the cell
    assert r.recall == pytest.approx(1.0) and r.precision == pytest.approx(0.5)


def test_candidates_reprojected_to_grid_crs() -> None:
    grid = _cells()
    grid["geometry"] = grid.geometry.translate(700_000, 7_050_000)  # Lille, where Lambert-93 is valid
    box = shapely.box(700_000, 7_050_000, 700_400, 7_050_200)
    official = gpd.GeoDataFrame({"CODE_QP": ["A"]}, geometry=[box], crs=2154)
    cand = gpd.GeoDataFrame(geometry=[box], crs=2154).to_crs(3035)
    r = evaluate(cand, official, grid=grid)
    assert any("reprojected from EPSG:3035" in n for n in r.notes)
    # a straight edge reprojected through its corners only: sub-metre differences
    assert r.recall == pytest.approx(1.0, abs=1e-4) and r.precision == pytest.approx(1.0, abs=1e-4)


def test_geographic_grid_refused() -> None:
    grid = _cells().to_crs(4326)
    official = gpd.GeoDataFrame({"CODE_QP": ["A"]}, geometry=[shapely.box(0, 0, 400, 200)], crs=2154)
    with pytest.raises(CRSError, match="geographic"):
        evaluate(official, official, grid=grid)


def test_no_candidates_scores_zero() -> None:
    grid = _cells()
    official = gpd.GeoDataFrame({"CODE_QP": ["A"]}, geometry=[shapely.box(0, 0, 400, 200)], crs=2154)
    empty = gpd.GeoDataFrame(geometry=[], crs=2154)
    r = evaluate(empty, official, grid=grid)
    assert r.recall == 0.0 and r.precision == 0.0 and r.f1 == 0.0 and r.half_covered_share == 0.0
    assert np.isclose(r.population_official, 300)
