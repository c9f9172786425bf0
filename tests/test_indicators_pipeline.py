"""add_indicators and the ``cohesion-geo indicators`` command: constructed grids and real data."""

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
from cohesion_geo.cli import main
from cohesion_geo.datasets import REAL_FILES
from cohesion_geo.errors import CRSError, DroppedRowsWarning, ValidationError
from cohesion_geo.indicators import INDICATORS, add_indicators, standardize


def _grid(n_side: int = 4) -> gpd.GeoDataFrame:
    """n x n cells; west half poor, east half rich; two communes (west/east)."""
    gx, gy = np.meshgrid(np.arange(n_side), np.arange(n_side))
    gx, gy = gx.ravel(), gy.ravel()
    x = 3_480_000 + gx * 200
    y = 2_460_000 + gy * 200
    poor = gx < n_side // 2
    men = np.full(gx.size, 50.0)
    return gpd.GeoDataFrame(
        {
            "cell_id": cell_ids(x, y),
            "cell_x": x,
            "cell_y": y,
            "cell_size": 200,
            "ind": men * 2,
            "men": men,
            "men_pauv": np.where(poor, 20.0, 2.0) + gy,
            "ind_snv": men * 2 * np.where(poor, 12_000.0, 30_000.0),
            "men_1ind": np.where(poor, 10.0, 20.0),
            "ind_65_79": np.where(poor, 5.0, 20.0),
            "ind_80p": 2.0,
            "imputed": gy == 0,
            "commune": np.where(poor, "33063", "33318"),
        },
        geometry=shapely.box(x, y, x + 200, y + 200),
        crs=3035,
    )


class TestAddIndicators:
    def test_columns_values_and_input_untouched(self) -> None:
        g = _grid()
        before = g.copy()
        out = add_indicators(g)
        pd.testing.assert_frame_equal(pd.DataFrame(g), pd.DataFrame(before))
        assert "poverty_score" not in g.columns
        meta = out.attrs["indicators"]
        for c in ("mean_std_living", "poverty_rate", "one_person_share", "elderly_share", "secret",
                  "poverty_score", "isolation_score"):
            assert c in out.columns and c in meta["columns"]
        assert out["poverty_rate"].tolist() == pytest.approx(g["men_pauv"] / 50.0)
        assert out.loc[0, "mean_std_living"] == pytest.approx(12_000.0)
        # poor west scores higher than rich east, in every row
        west = out["cell_x"] < 3_480_400
        assert out.loc[west, "poverty_score"].min() > out.loc[~west, "poverty_score"].max()
        assert meta["poverty_weights"] == {"poverty_rate": 0.4, "mean_std_living": -0.3}
        assert meta["isolation_weights"] == {"one_person_share": 0.3, "elderly_share": 0.3}

    def test_scores_standardised_within_urban_units(self) -> None:
        g = _grid()
        uu = pd.DataFrame({"commune": ["33063", "33318"], "urban_unit": ["U1", "U2"]})
        out = add_indicators(g, urban_units=uu, population_weighted=False)
        assert out["urban_unit"].tolist() == np.where(g["commune"] == "33063", "U1", "U2").tolist()
        # within each unit the components are centred: the scores average to zero
        assert out.groupby("urban_unit")["poverty_score"].mean().abs().max() < 1e-12
        # and equal to a hand-built composite
        pr = standardize(out["poverty_rate"], groups=out["urban_unit"])
        msl = standardize(out["mean_std_living"], groups=out["urban_unit"])
        np.testing.assert_allclose(out["poverty_score"], (0.4 * pr - 0.3 * msl) / 0.7, atol=1e-12)

    def test_suppress_secret(self) -> None:
        g = _grid().assign(men=lambda d: np.where(d["cell_y"] == 2_460_000, 5.0, 50.0))
        out = add_indicators(g, suppress_secret=True)
        secret = out["secret"].to_numpy()
        assert secret.sum() == 4
        assert out.loc[secret, ["poverty_rate", "poverty_score", "one_person_share"]].isna().all().all()
        assert out.loc[~secret, "poverty_rate"].notna().all()
        assert out.loc[secret, "ind"].notna().all()  # counts kept

    def test_facilities_reprojected_to_grid_crs(self) -> None:
        g = _grid()
        # one facility at the centre of cell 0, given in Lambert-93
        cx, cy = 3_480_100.0, 2_460_100.0
        fx, fy = Transformer.from_crs(3035, 2154, always_xy=True).transform(cx, cy)
        fac = gpd.GeoDataFrame({"typequ": ["F121"]}, geometry=[shapely.Point(fx, fy)], crs=2154)
        out = add_indicators(g, facilities=fac, radius=450)
        centres = np.column_stack([g["cell_x"] + 100, g["cell_y"] + 100])
        expected = np.hypot(centres[:, 0] - cx, centres[:, 1] - cy)
        np.testing.assert_allclose(out["facility_distance"], expected, atol=1e-3)
        assert out["facility_count"].tolist() == (expected <= 450).astype(int).tolist()
        assert "facility_distance" in out.attrs["indicators"]["isolation_weights"]

    def test_geographic_grid_refused_for_distances(self) -> None:
        g = _grid().to_crs(4326)
        fac = gpd.GeoDataFrame({"typequ": ["F121"]}, geometry=[shapely.Point(-0.57, 44.84)], crs=4326)
        with pytest.raises(CRSError, match="geographic"):
            add_indicators(g, facilities=fac)

    def test_reports_and_confrontation(self) -> None:
        g = _grid()
        # 6 reports in a rich cell (index 15, top right), 1 in a poor one
        pts = [shapely.Point(3_480_700, 2_460_700)] * 6 + [shapely.Point(3_480_050, 2_460_050)]
        rep = gpd.GeoDataFrame({"category": ["safety"] * 6 + ["housing"]}, geometry=pts, crs=3035)
        out = add_indicators(g, reports=rep, stat_quantile=0.5)
        assert out.loc[15, "reports_n"] == 6 and out.loc[15, "reports_safety"] == 6
        assert np.isnan(out.loc[0, "reports_housing"])  # 1 < 5 reports: no breakdown
        assert out.loc[15, "confrontation"] == "residents_only"
        assert out.loc[0, "confrontation"] == "statistics_only"  # 1 report < 3 needed
        assert set(out["confrontation"]) == {"residents_only", "statistics_only", "neither"}

    def test_lisa_option(self) -> None:
        g = _grid(10)
        out = add_indicators(g, lisa=True, permutations=99, rng=7)
        again = add_indicators(g, lisa=True, permutations=99, rng=7)
        assert out["lisa_cluster"].tolist() == again["lisa_cluster"].tolist()  # seeded
        counts = out["lisa_cluster"].value_counts()
        assert counts["high-high"] > 20 and counts["low-low"] > 20
        assert out.attrs["indicators"]["lisa"]["variable"] == "poverty_score"

    def test_lisa_without_any_poverty_score_says_so(self) -> None:
        g = _grid(4).assign(ind=0.0, men=0.0)  # no inhabitants: every ratio, hence the score, undefined
        assert add_indicators(g)["poverty_score"].isna().all()
        with pytest.raises(ValidationError, match="lisa=True: no cell has a poverty_score"):
            add_indicators(g, lisa=True, permutations=9, rng=1)


def test_lille_derived_grid(lille_grid: gpd.GeoDataFrame) -> None:
    out = add_indicators(lille_grid)
    assert [c for c in INDICATORS if c in out.columns] == ["mean_std_living", "poverty_rate"]
    assert out.attrs["indicators"]["poverty_weights"] == {"poverty_rate": 0.4, "mean_std_living": -0.3}
    assert "isolation_score" not in out.columns
    assert any("derived layout" in n for n in out.attrs["indicators"]["notes"])
    pd.testing.assert_series_equal(out["poverty_rate"], lille_grid["poverty_rate"])
    # poorest decile of the score is much poorer than the rest
    top = out["poverty_score"] >= out["poverty_score"].quantile(0.9)
    assert np.average(out.loc[top, "poverty_rate"], weights=out.loc[top, "ind"]) > 0.3


def test_bordeaux_facility_distances_brute_force(bordeaux_grid: gpd.GeoDataFrame, real_data_dir) -> None:
    from cohesion_geo.loaders import load_facilities

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DroppedRowsWarning)
        fac = load_facilities(real_data_dir / REAL_FILES["bordeaux_facilities"])
    out = add_indicators(bordeaux_grid, facilities=fac, facility_types="F1", radius=500)
    f1 = fac[fac["typequ"].str.startswith("F1")].to_crs(bordeaux_grid.crs)
    fx, fy = f1.geometry.x.to_numpy(), f1.geometry.y.to_numpy()
    cx = bordeaux_grid["cell_x"].to_numpy() + 100.0
    cy = bordeaux_grid["cell_y"].to_numpy() + 100.0
    d = np.hypot(cx[:, None] - fx[None, :], cy[:, None] - fy[None, :])
    np.testing.assert_allclose(out["facility_distance"], d.min(axis=1), rtol=1e-9)
    np.testing.assert_array_equal(out["facility_count"], (d <= 500).sum(axis=1))
    assert out["isolation_score"].notna().all()


# ----------------------------------------------------------------------- CLI

@pytest.mark.filterwarnings("ignore::cohesion_geo.errors.DroppedRowsWarning")  # 10 unlocated BPE rows
def test_cli_bordeaux_parquet_and_rasters(real_data_dir: Path, tmp_path: Path, capsys) -> None:
    grid = real_data_dir / REAL_FILES["bordeaux_grid"]
    reports = tmp_path / "reports.csv"
    reports.write_text(
        "lon;lat;category;comment;date\n" + "".join(
            f"{-0.5712 + i * 1e-5:.6f};{44.8378:.6f};Logement;fuite <script>;2023-05-0{1 + i % 9}\n"
            for i in range(7)
        ),
        encoding="utf-8",
    )
    out = tmp_path / "cells.parquet"
    rc = main(["indicators", str(grid), "--facilities", str(real_data_dir / REAL_FILES["bordeaux_facilities"]),
               "--facility-types", "F1", "--reports", str(reports), "--out", str(out),
               "--rasters", str(tmp_path / "rasters")])
    assert rc == 0
    cells = gpd.read_parquet(out)
    assert len(cells) == 6735
    assert {"poverty_score", "isolation_score", "facility_distance", "reports_n", "confrontation"} <= set(cells.columns)
    assert cells["reports_n"].sum() == 7
    assert "comment" not in cells.columns
    assert sorted(p.name for p in (tmp_path / "rasters").iterdir()) == [
        "isolation_score.tif", "mean_std_living.tif", "poverty_rate.tif", "poverty_score.tif",
        "reports_density.tif", "reports_per_1000.tif",
    ]
    with rasterio.open(tmp_path / "rasters" / "poverty_score.tif") as src:
        assert src.crs.to_epsg() == 3035 and src.res == (200.0, 200.0)
        assert src.transform.c == cells["cell_x"].min()
        assert src.transform.f == cells["cell_y"].max() + 200
        assert np.isfinite(src.read(1)).sum() == 6735
    assert "wrote" in capsys.readouterr().out


def test_cli_lille_gpkg_with_areas(real_data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "lille.gpkg"
    rc = main(["indicators", str(real_data_dir / REAL_FILES["lille_grid"]), "--columns",
               "cell_id=id,ind=num_people,mean_std_living=mean_std_living,poverty_rate=poverty_ratio,imputed=imputed",
               "--areas", str(real_data_dir / REAL_FILES["lille_communes"]), "--area-key", "INSEE_COM",
               "--out", str(out)])
    assert rc == 0
    areas = gpd.read_file(out, layer="areas")
    cells = gpd.read_file(out, layer="cells")
    assert len(cells) == 9096 and "poverty_score" in cells.columns
    assert areas["ind"].sum() == pytest.approx(cells["ind"].sum(), rel=0.01)


def test_cli_bad_output_is_a_clear_error(real_data_dir: Path, tmp_path: Path, capsys) -> None:
    rc = main(["indicators", str(real_data_dir / REAL_FILES["bordeaux_grid"]), "--out", str(tmp_path / "x.xlsx")])
    assert rc == 2
    assert "use .gpkg, .parquet" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_bordeaux_lisa_of_poverty_score(bordeaux_grid: gpd.GeoDataFrame) -> None:
    """LISA through add_indicators on the real grid (isolated cells included), seeded."""
    out = add_indicators(bordeaux_grid, lisa=True, permutations=99, rng=3)
    counts = out["lisa_cluster"].value_counts()
    assert counts["high-high"] > 100 and counts["low-low"] > 100
    hh = out["lisa_cluster"] == "high-high"
    assert out.loc[hh, "poverty_rate"].mean() > 2 * out["poverty_rate"].mean()
