"""Grid loader and cell ids: real numbers on the real grids, crafted bad files."""

from __future__ import annotations

import hashlib
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from cohesion_geo.cellid import cell_ids, cell_squares, parse_cell_ids
from cohesion_geo.datasets import REAL_FILES
from cohesion_geo.errors import InputFormatError, ValidationError
from cohesion_geo.loaders import detect_vintage, harmonise_grid, load_grid, parse_columns

RAW_2015 = pd.DataFrame(
    {
        "Idcar_200m": ["CRS3035RES200mN2466800E3482800", "CRS3035RES200mN2466800E3483000",
                       "CRS3035RES200mN2467000E3482800"],
        "IdINSPIRE": ["CRS3035RES200mN2466800E3482800", "CRS3035RES200mN2466800E3483000",
                      "CRS3035RES200mN2467000E3482800"],
        "I_est_cr": [0, 0, 1],
        "Depcom": ["33192", "33192", "02001"],
        "Ind": [63.5, 124.0, 2.0],
        "Men": [42.0, 68.0, 1.0],
        "Men_pauv": [2.0, 5.0, 0.2],
        "Ind_snv": [1637813.5, 2594665.6, 48167.1],
        "Log_soc": [0.0, 1.0, 0.0],
    }
)


def sha1(path: Path) -> str:
    return hashlib.sha1(path.read_bytes()).hexdigest()


# --- real data -----------------------------------------------------------------------


@pytest.mark.realdata
def test_bordeaux_grid_counts(bordeaux_grid):
    g = bordeaux_grid
    assert len(g) == 6735
    assert g["ind"].sum() == pytest.approx(725084.5)  # 725,085 inhabitants, rounded
    assert g.attrs["vintage"] == 2015
    assert g.crs.to_epsg() == 3035
    assert g["cell_id"].is_unique
    assert (g["cell_size"] == 200).all()
    assert g.geometry.area.eq(40000).all()
    # 2015 imputed flag: about a third of the cells here, carried as bool
    assert g["imputed"].dtype == bool
    assert g["imputed"].sum() == 2159
    # derived measures from counts, never averaged ratios
    first = g.iloc[0]
    assert first["mean_std_living"] == pytest.approx(1637813.5 / 63.5)
    assert first["poverty_rate"] == pytest.approx(2.0 / 42.0)
    assert g["commune"].str.len().eq(5).all()
    assert g["commune"].nunique() == 41
    # every other source column is kept, lower-cased
    assert {"idinspire", "id_carr1km", "groupe", "i_pauv"} <= set(g.columns)


@pytest.mark.realdata
def test_lille_derived_grid_through_mapping(lille_grid):
    g = lille_grid
    assert len(g) == 9096
    assert g["ind"].sum() == pytest.approx(1099836.5)  # 1,099,837 inhabitants, rounded
    assert g.crs.to_epsg() == 2154  # squares kept from the file
    assert g.attrs["vintage"] is None
    assert {"cell_x", "cell_y", "mean_std_living", "poverty_rate", "imputed"} <= set(g.columns)
    assert g["poverty_rate"].between(0, 1).all()
    # the id's LAEA corner lies inside the (reprojected) square
    corner = gpd.GeoSeries(
        shapely.points(g["cell_x"] + 100, g["cell_y"] + 100), crs=3035
    ).to_crs(2154)
    assert corner.within(g.geometry.buffer(1)).mean() > 0.999


@pytest.mark.realdata
def test_2019_layout_loads_identical_to_2015(real_data_dir, tmp_path, bordeaux_grid):
    raw = pd.read_csv(real_data_dir / REAL_FILES["bordeaux_grid"], dtype={"Depcom": str})
    v2019 = raw.drop(columns=["IdINSPIRE", "Id_carr1km", "Id_carr_n", "Groupe", "I_pauv",
                              "Id_car2010", "I_est_1km"])
    v2019 = v2019.rename(columns={"Idcar_200m": "idcar_200m", "I_est_cr": "i_est_200",
                                  "Depcom": "lcog_geo"})
    v2019.columns = [c.lower() for c in v2019.columns]
    path = tmp_path / "filosofi2019_like.csv"
    v2019.to_csv(path, index=False)
    g19 = load_grid(path)
    assert g19.attrs["vintage"] == 2019
    cols = [c for c in g19.columns if c != "lcog_geo"]
    pd.testing.assert_frame_equal(
        pd.DataFrame(g19[cols]).drop(columns="geometry"),
        pd.DataFrame(bordeaux_grid[cols]).drop(columns="geometry"),
    )
    assert g19.geometry.geom_equals(bordeaux_grid.geometry).all()


@pytest.mark.realdata
@pytest.mark.parametrize("suffix", [".gpkg", ".parquet", ".shp"])
def test_formats_round_trip(bordeaux_grid, tmp_path, suffix):
    sub = bordeaux_grid.iloc[:200][["cell_id", "ind", "men", "men_pauv", "ind_snv", "imputed", "geometry"]]
    sub = sub.rename(columns={"cell_id": "Idcar_200m", "ind": "Ind", "men": "Men",
                              "men_pauv": "Men_pauv", "ind_snv": "Ind_snv"})
    sub = sub.assign(I_est_cr=sub.pop("imputed").astype(int))
    path = tmp_path / f"grid{suffix}"
    if suffix == ".parquet":
        sub.to_parquet(path)
    else:
        sub.to_file(path)
    g = load_grid(path)
    assert len(g) == 200
    assert g["ind"].sum() == pytest.approx(bordeaux_grid["ind"].iloc[:200].sum())
    assert g["imputed"].sum() == bordeaux_grid["imputed"].iloc[:200].sum()
    assert g.crs.to_epsg() == 3035


@pytest.mark.realdata
def test_input_file_not_modified(real_data_dir):
    path = real_data_dir / REAL_FILES["bordeaux_grid"]
    before = sha1(path)
    load_grid(path)
    assert sha1(path) == before


# --- constructed data ----------------------------------------------------------------


def test_vintage_detection_and_mapping_parse():
    assert detect_vintage(list(RAW_2015.columns)) == 2015
    assert detect_vintage(["Idcar_200m", "I_est_200", "Ind"]) == 2017
    assert detect_vintage(["idcar_200m", "i_est_200", "ind"]) == 2019
    assert detect_vintage(["id", "num_people"]) is None
    assert parse_columns("cell_id=id,ind=num_people") == {"cell_id": "id", "ind": "num_people"}
    with pytest.raises(InputFormatError, match="canonical=source"):
        parse_columns("cell_id")


def test_harmonise_keeps_commune_leading_zeros_and_does_not_modify_input():
    before = RAW_2015.copy()
    g = harmonise_grid(RAW_2015)
    pd.testing.assert_frame_equal(RAW_2015, before)
    assert g["commune"].tolist() == ["33192", "33192", "02001"]
    assert g["imputed"].tolist() == [False, False, True]
    assert g["cell_x"].tolist() == [3482800, 3483000, 3482800]
    assert g.total_bounds.tolist() == [3482800, 2466800, 3483200, 2467200]


def test_zero_denominators_give_missing_not_infinity():
    raw = RAW_2015.copy()
    raw.loc[0, ["Ind", "Men", "Men_pauv", "Ind_snv"]] = 0
    g = harmonise_grid(raw)
    assert np.isnan(g.loc[0, "mean_std_living"]) and np.isnan(g.loc[0, "poverty_rate"])
    assert np.isfinite(g.loc[1:, "mean_std_living"]).all()


def test_all_problems_reported_at_once(tmp_path):
    bad = RAW_2015.copy()
    bad = pd.concat([bad, bad.iloc[[0]]], ignore_index=True)  # duplicate id on row 4
    bad["Ind"] = bad["Ind"].astype(object)
    bad.loc[1, "Ind"] = "abc"
    bad.loc[2, "Men"] = -1.0
    bad.loc[0, "Men_pauv"] = 50.0  # > Men (42)
    bad.loc[2, "Idcar_200m"] = "CRS3035RES200mX12"
    path = tmp_path / "bad.csv"
    bad.to_csv(path, index=False)
    with pytest.raises(ValidationError) as info:
        load_grid(path)
    err = info.value
    text = str(err)
    assert str(path) in text
    assert len(err.problems) == 5
    assert "unparseable cell ids" in text and "'CRS3035RES200mX12'" in text
    assert "duplicate cell ids in 2 rows, e.g. rows 1, 4" in text
    assert "column 'ind': non-numeric values in 1 row, e.g. row 2 ('abc')" in text
    assert "column 'men': negative values in 1 row, e.g. row 3 (-1.0)" in text
    assert "men_pauv > men (more poor households than households) in 2 rows, e.g. rows 1, 3" in text


def test_missing_ids_are_not_also_duplicates():
    raw = pd.DataFrame({"Idcar_200m": ["CRS3035RES200mN2466800E3482800", None, None], "Ind": [1.0, 2.0, 3.0]})
    with pytest.raises(ValidationError) as info:
        harmonise_grid(raw)
    assert len(info.value.problems) == 1 and "unparseable cell ids" in info.value.problems[0], info.value.problems


def test_missing_id_column_suggests_a_mapping(tmp_path):
    path = tmp_path / "derived.csv"
    pd.DataFrame({"id": RAW_2015["Idcar_200m"], "num_people": [1, 2, 3]}).to_csv(path, index=False)
    with pytest.raises(ValidationError, match="--columns cell_id=id"):
        load_grid(path)
    g = load_grid(path, columns="cell_id=id,ind=num_people")
    assert g["ind"].tolist() == [1.0, 2.0, 3.0]
    with pytest.raises(ValidationError, match="absent column"):
        load_grid(path, columns="cell_id=id,ind=population")


def test_poverty_rate_in_percent_is_refused():
    frame = pd.DataFrame({"id": RAW_2015["Idcar_200m"], "pr": [12.0, 0.3, 0.1]})
    with pytest.raises(ValidationError, match="divide percentages by 100"):
        harmonise_grid(frame, columns={"cell_id": "id", "poverty_rate": "pr"})


def test_multilayer_file_needs_a_layer(tmp_path):
    g = harmonise_grid(RAW_2015)
    path = tmp_path / "two.gpkg"
    g[["cell_id", "geometry"]].to_file(path, layer="a")
    g[["cell_id", "geometry"]].to_file(path, layer="b")
    with pytest.raises(InputFormatError, match="several layers"):
        load_grid(path)
    assert len(load_grid(path, layer="b")) == 3
    with pytest.raises(InputFormatError, match="no layer 'c'"):
        load_grid(path, layer="c")


def test_empty_and_unknown_files(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(InputFormatError, match="empty"):
        load_grid(empty)
    header_only = tmp_path / "header.csv"
    header_only.write_text("Idcar_200m,Ind\n")
    with pytest.raises(ValidationError, match="no rows"):
        load_grid(header_only)
    xlsx = tmp_path / "grid.xlsx"
    xlsx.write_text("x")
    with pytest.raises(InputFormatError, match="unknown format '.xlsx'"):
        load_grid(xlsx)


def test_one_km_grid_and_geographic_geometry_reprojected():
    ids = ["CRS3035RES1000mN2466000E3482000", "CRS3035RES1000mN2467000E3482000"]
    g = harmonise_grid(pd.DataFrame({"Idcar_1km": ids, "Ind": [10, 20]}))
    assert g["cell_size"].tolist() == [1000, 1000]
    assert g.geometry.area.tolist() == [1e6, 1e6]
    wgs = gpd.GeoDataFrame({"id": ids}, geometry=list(g.geometry), crs=3035).to_crs(4326)
    back = harmonise_grid(wgs, columns={"cell_id": "id"})
    assert back.crs.to_epsg() == 3035
    assert back.geometry.area.round(0).tolist() == [1e6, 1e6]


def test_mixed_crs_ids_and_out_of_area_coordinates():
    with pytest.raises(ValidationError, match="several CRS"):
        parse_cell_ids(["CRS3035RES200mN2466800E3482800", "CRS2154RES200mN6466800E482800"])
    far = pd.DataFrame({"Idcar_200m": ["CRS3035RES200mN99466800E3482800"], "Ind": [1]})
    with pytest.raises(ValidationError, match="outside the area of use of EPSG:3035"):
        harmonise_grid(far)


@settings(max_examples=200, deadline=None)
@given(
    gx=st.lists(st.integers(min_value=-50_000, max_value=50_000), min_size=1, max_size=30),
    gy=st.integers(min_value=-50_000, max_value=50_000),
    size=st.sampled_from([100, 200, 1000]),
    epsg=st.sampled_from([3035, 2154, 32631]),
)
def test_cell_id_geometry_round_trip(gx, gy, size, epsg):
    x = np.asarray(gx, dtype=np.int64) * size
    y = np.full(len(gx), gy, dtype=np.int64) * size
    ids = cell_ids(x, y, cell_size=size, epsg=epsg)
    parsed = parse_cell_ids(ids)
    assert parsed["cell_x"].tolist() == x.tolist()
    assert parsed["cell_y"].tolist() == y.tolist()
    assert set(parsed["epsg"]) == {epsg} and set(parsed["cell_size"]) == {size}
    squares = cell_squares(parsed["cell_x"], parsed["cell_y"], parsed["cell_size"])
    minx, miny, _, _ = shapely.bounds(squares).T
    assert (minx == x).all() and (miny == y).all()
    assert np.allclose(shapely.area(squares), size * size)
    assert (cell_ids(minx.astype(np.int64), miny.astype(np.int64), cell_size=size, epsg=epsg) == ids).all()
