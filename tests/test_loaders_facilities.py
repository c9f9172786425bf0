"""BPE facilities: real Bordeaux Métropole extract, crafted layouts and bad files."""

from __future__ import annotations

import hashlib
import warnings
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from cohesion_geo.datasets import REAL_FILES
from cohesion_geo.errors import DroppedRowsWarning, MissingColumnsError, ValidationError
from cohesion_geo.loaders import load_facilities
from cohesion_geo.loaders.facilities import parse_types


@pytest.fixture(scope="module")
def bpe_path(real_data_dir: Path) -> Path:
    return real_data_dir / REAL_FILES["bordeaux_facilities"]


@pytest.fixture(scope="module")
def bpe(bpe_path: Path) -> gpd.GeoDataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DroppedRowsWarning)
        return load_facilities(bpe_path)


@pytest.mark.realdata
def test_bordeaux_bpe_counts(bpe_path: Path) -> None:
    before = hashlib.sha1(bpe_path.read_bytes()).hexdigest()
    with pytest.warns(DroppedRowsWarning, match="dropped 10 rows, e.g. rows 160, 286, 394, ...: facilities without coordinates"):
        f = load_facilities(bpe_path)
    assert hashlib.sha1(bpe_path.read_bytes()).hexdigest() == before
    assert len(f) == 860
    assert f.attrs["n_read"] == 870 and f.attrs["n_unlocated"] == 10
    assert f.crs.to_epsg() == 2154
    assert list(f.columns[:5]) == ["typequ", "commune", "quality", "urban_unit", "iris"]
    assert f["urban_unit"].value_counts().to_dict() == {"33701": 834, "33114": 15, "33103": 11}
    assert f["quality"].value_counts().to_dict() == {"Bonne": 854, "Acceptable": 6}
    assert f["commune"].nunique() == 28  # the 28 communes of Bordeaux Métropole
    assert f["commune"].value_counts().head(3).to_dict() == {"33063": 184, "33522": 52, "33318": 51}
    assert f["typequ"].str.fullmatch(r"F\d{3}").all()
    first = f.iloc[0]
    assert (first["typequ"], first["commune"], first["iris"]) == ("F121", "33003", "330030104")
    assert first.geometry.coords[0] == (425352.2, 6431533.0)
    xmin, ymin, xmax, ymax = f.total_bounds
    assert (xmin, ymin, xmax, ymax) == pytest.approx((400843.5, 6412569.0, 426822.4, 6441024.0))
    assert f["aav2020"].iloc[0] == "006"  # other codes kept as text


@pytest.mark.realdata
def test_type_filter(bpe: gpd.GeoDataFrame, bpe_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DroppedRowsWarning)
        sport = load_facilities(bpe_path, types="F1")
        pools = load_facilities(bpe_path, types=["f101", "F102"])
    assert len(sport) == 758 == bpe["typequ"].str.startswith("F1").sum()
    assert set(pools["typequ"]) <= {"F101", "F102"}
    assert len(pools) == bpe["typequ"].isin(["F101", "F102"]).sum()
    assert sport.attrs["types"] == ["F1"]


def test_parse_types() -> None:
    assert parse_types(" F1 , f303,,") == ("F1", "F303")
    assert parse_types([]) is None


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_missing_columns_named(tmp_path: Path) -> None:
    path = write(tmp_path / "b.csv", "TYPE;DEPCOM;X_L93\nF121;33063;1\n")
    with pytest.raises(MissingColumnsError) as exc:
        load_facilities(path)
    assert "'TYPEQU', 'LAMBERT_X', 'LAMBERT_Y'" in str(exc.value)


def test_all_problems_at_once(tmp_path: Path) -> None:
    path = write(
        tmp_path / "b.csv",
        "TYPEQU;DEPCOM;LAMBERT_X;LAMBERT_Y;QUALITE_XY\n"
        "F121;33063;417000;6422000;Bonne\n"
        "piscine;33063;417000;6422000;Bonne\n"
        "F121;330;417000;6422000;Bonne\n"
        "F121;33063;4170OO;6422000;Bonne\n",
    )
    with pytest.raises(ValidationError) as exc:
        load_facilities(path)
    text = str(exc.value)
    assert len(exc.value.problems) == 3, text
    assert "column 'TYPEQU': malformed facility type" in text and "row 2 ('piscine')" in text
    assert "column 'DEPCOM': malformed commune code" in text and "row 3 ('330')" in text
    assert "column 'LAMBERT_X': non-numeric values in 1 row, e.g. row 4 ('4170OO')" in text


def test_codes_padded_and_out_of_area_dropped(tmp_path: Path) -> None:
    path = write(
        tmp_path / "b.csv",
        "TYPEQU,DEPCOM,LAMBERT_X,LAMBERT_Y,UU2010,UU2020\n"
        "F121,1001,870000,6570000,01000,01000\n"
        "F121,2A004,1180000,6110000,2A401,2A401\n"
        "F121,33063,417000,99999999,33701,33701\n"
        "F121,33063,,,33701,33701\n",
    )
    with pytest.warns(DroppedRowsWarning) as rec:
        f = load_facilities(path)
    msgs = [str(w.message) for w in rec]
    assert any("dropped 1 row, e.g. row 4: facilities without coordinates" in m for m in msgs)
    assert any("dropped 1 row, e.g. row 3: coordinates outside the area of use of EPSG:2154" in m for m in msgs)
    assert f["commune"].tolist() == ["01001", "2A004"]
    assert f["urban_unit"].tolist() == ["01000", "2A401"]  # latest UU vintage
    assert f["quality"].isna().all()


def test_overseas_crs_option(tmp_path: Path) -> None:
    # La Réunion, Saint-Denis, in UTM 40S (EPSG:2975)
    path = write(tmp_path / "b.csv", "TYPEQU;DEPCOM;LAMBERT_X;LAMBERT_Y\nF121;97411;338000;7690000\n")
    with pytest.raises(ValidationError, match="every facility lies outside the area of use of EPSG:2154"):
        load_facilities(path)
    f = load_facilities(path, crs=2975)
    assert f.crs.to_epsg() == 2975 and f["commune"].iloc[0] == "97411"
    lon, lat = f.to_crs(4326).geometry.iloc[0].coords[0]
    assert 55.2 < lon < 55.8 and -21.2 < lat < -20.8


def test_point_layer_input(tmp_path: Path) -> None:
    gdf = gpd.GeoDataFrame(
        {"TYPEQU": ["F121", "F303"], "DEPCOM": ["33063", "33318"], "QUALITE_XY": ["Bonne", "Mauvaise"]},
        geometry=[shapely.Point(-0.57, 44.84), None],
        crs=4326,
    )
    gdf.to_file(tmp_path / "bpe.gpkg", engine="pyogrio")
    with pytest.warns(DroppedRowsWarning, match="row 2: facilities without coordinates"):
        f = load_facilities(tmp_path / "bpe.gpkg")
    assert f.crs.to_epsg() == 2154  # geographic layers are projected
    assert f["typequ"].tolist() == ["F121"] and f["quality"].tolist() == ["Bonne"]
    assert pd.isna(f["urban_unit"].iloc[0])


def test_non_point_layer_refused(tmp_path: Path) -> None:
    gdf = gpd.GeoDataFrame(
        {"TYPEQU": ["F121", "F303"], "DEPCOM": ["33063", "33318"]},
        geometry=[shapely.Point(-0.57, 44.84), shapely.box(-0.6, 44.8, -0.5, 44.9)],
        crs=4326,
    )
    gdf.to_file(tmp_path / "bpe.gpkg", engine="pyogrio")
    with pytest.raises(ValidationError, match="not points in 1 row, e.g. row 2 \\('Polygon'\\)"):
        load_facilities(tmp_path / "bpe.gpkg")
