"""Resident reports: layouts, category vocabulary, dates, positions, study area, privacy."""

from __future__ import annotations

import unicodedata
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Transformer

from cohesion_geo.errors import (
    CohesionGeoWarning,
    CRSError,
    DroppedRowsWarning,
    InputFormatError,
    ValidationError,
)
from cohesion_geo.loaders import CATEGORIES, CATEGORY_LABELS, coarsen_reports, load_reports, map_categories

HEADER = "lon;lat;category;comment;date;source\n"


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_text(text, encoding=encoding)
    return path


def load_quiet(path: Path, **kwargs) -> gpd.GeoDataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CohesionGeoWarning)
        return load_reports(path, **kwargs)


# --- layouts -------------------------------------------------------------------------


def test_lonlat_csv_canonical_frame(tmp_path: Path) -> None:
    path = write(
        tmp_path / "r.csv",
        HEADER
        + "-0.5792;44.8378;Logement;\"Fuite d'eau; plafond\";2023-05-02;atelier\n"
        + "-0.5600;44.8300;SÉCURITÉ;<script>alert(1)</script> deal;12/03/2024;\n",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a clean file raises no warning
        r = load_reports(path)
    assert list(r.columns) == ["category", "category_raw", "comment", "date", "source", "geometry"]
    assert r.crs.to_epsg() == 2154
    assert r["category"].astype(str).tolist() == ["housing", "safety"]
    assert r["category_raw"].tolist() == ["Logement", "SÉCURITÉ"]
    # comments kept verbatim, never interpreted (escaping is the output layer's job)
    assert r["comment"].tolist() == ["Fuite d'eau; plafond", "<script>alert(1)</script> deal"]
    assert r["date"].dt.strftime("%Y-%m-%d").tolist() == ["2023-05-02", "2024-03-12"]  # day first
    assert r["date"].dtype == "datetime64[ns]"
    assert r["source"].iloc[0] == "atelier" and pd.isna(r["source"].iloc[1])
    x, y = Transformer.from_crs(4326, 2154, always_xy=True).transform(-0.5792, 44.8378)
    assert r.geometry.iloc[0].x == pytest.approx(x) and r.geometry.iloc[0].y == pytest.approx(y)
    assert r.attrs["n_read"] == 2


def test_xy_columns_need_a_crs(tmp_path: Path) -> None:
    path = write(tmp_path / "xy.csv", "x,y,category,comment,date\n417000,6422000,emploi,,2024-01-01\n")
    with pytest.raises(CRSError, match="need their CRS: pass crs="):
        load_reports(path)
    r = load_reports(path, crs=2154)
    assert r.geometry.iloc[0].coords[0] == (417000.0, 6422000.0)
    assert r["category"].iloc[0] == "employment" and r["comment"].iloc[0] == ""
    laea = load_reports(path, crs=2154, to_crs=3035)
    assert laea.crs.to_epsg() == 3035
    with pytest.raises(CRSError, match="geographic"):
        load_reports(path, crs=2154, to_crs=4326)


def test_configurable_column_names_and_latin1(tmp_path: Path) -> None:
    path = write(
        tmp_path / "export.csv",
        "Longitude;Latitude;Thème;Texte;Quand;Canal;quartier\n"
        "-0,57;44,84;Propreté;Dépôts sauvages;05/01/2024;appli;Bastide\n",  # decimal commas
        encoding="latin-1",
    )
    r = load_reports(path, category="thème", comment="TEXTE", date="Quand", source="canal")
    assert r["category"].iloc[0] == "public_space"
    assert r["comment"].iloc[0] == "Dépôts sauvages"
    assert r["date"].iloc[0] == pd.Timestamp("2024-01-05")
    assert r["source"].iloc[0] == "appli"
    assert r["quartier"].iloc[0] == "Bastide"  # other columns kept
    assert "Longitude" not in r.columns
    assert r.to_crs(4326).geometry.iloc[0].coords[0] == pytest.approx((-0.57, 44.84))


def test_explicit_coordinate_names_and_optional_fields(tmp_path: Path) -> None:
    path = write(tmp_path / "p.csv", "px;py;cat\n-0.57;44.84;jeunesse\n")
    with pytest.raises(CRSError):
        load_reports(path, x="px", y="py", category="cat", comment=None, date=None)
    r = load_reports(path, x="px", y="py", crs=4326, category="cat", comment=None, date=None)
    assert r["category"].iloc[0] == "youth" and r["comment"].iloc[0] == "" and pd.isna(r["date"].iloc[0])
    with pytest.raises(InputFormatError, match="both x= and y="):
        load_reports(path, x="px", crs=4326)


def test_geojson_and_geopackage_points(tmp_path: Path) -> None:
    gdf = gpd.GeoDataFrame(
        {"category": ["santé", "transports"], "comment": ["a", "b"], "date": ["2024-02-01", "2024-02-02"]},
        geometry=[shapely.Point(-0.57, 44.84), shapely.Point(-0.58, 44.85)],
        crs=4326,
    )
    gdf.to_file(tmp_path / "r.geojson", engine="pyogrio")
    gdf.to_crs(2154).to_file(tmp_path / "r.gpkg", layer="reports", engine="pyogrio")
    a = load_reports(tmp_path / "r.geojson")
    b = load_reports(tmp_path / "r.gpkg", layer="reports")
    assert a["category"].astype(str).tolist() == ["health", "transport"]
    assert (a.geometry.distance(b.geometry) < 1e-6).all()
    assert b["date"].tolist() == [pd.Timestamp("2024-02-01"), pd.Timestamp("2024-02-02")]


def test_layer_must_be_points(tmp_path: Path) -> None:
    gpd.GeoDataFrame(
        {"category": ["x"], "comment": [""], "date": ["2024-01-01"]}, geometry=[shapely.box(0, 0, 1, 1)], crs=2154
    ).to_file(tmp_path / "poly.gpkg", engine="pyogrio")
    with pytest.raises(ValidationError, match="not points in 1 row, e.g. row 1 \\('Polygon'\\)"):
        load_reports(tmp_path / "poly.gpkg")


# --- categories ----------------------------------------------------------------------

FRENCH = {
    "logement": "housing", "Sécurité": "safety", "transports": "transport", "Espace public": "public_space",
    "propreté": "public_space", "services publics": "services", "Emploi": "employment",
    "jeunesse": "youth", "santé": "health", "Autre": "other", "Tranquillité publique": "safety",
    "cadre de vie": "public_space", "Accès aux soins": "health", "insertion": "employment",
    "PUBLIC SPACE": "public_space", "public_space": "public_space", "Crime and safety": "safety",
}  # fmt: skip


@pytest.mark.parametrize(("label", "category"), sorted(FRENCH.items()))
def test_french_and_english_labels(label: str, category: str) -> None:
    assert map_categories([label]).iloc[0] == category


def test_unknown_labels_kept_as_other_and_counted(tmp_path: Path) -> None:
    rows = "".join(
        f"-0.57;44.84;{c};;2024-01-0{i + 1};\n" for i, c in enumerate(["nids de poule", "Nids de poule", "", "Vie du quartier", "logement"])
    )
    path = write(tmp_path / "r.csv", HEADER + rows)
    with pytest.warns(CohesionGeoWarning) as rec:
        r = load_reports(path)
    msg = str(rec[0].message)
    assert "3 report(s) with unknown category labels kept as 'other'" in msg
    assert "'nids de poule' (1)" in msg and "'Vie du quartier' (1)" in msg
    assert "1 report(s) without category" in msg
    assert r["category"].astype(str).tolist() == ["other", "other", "other", "other", "housing"]
    assert r["category_raw"].tolist()[:2] == ["nids de poule", "Nids de poule"]
    assert r.attrs["n_unknown_category"] == 3 and r.attrs["n_no_category"] == 1
    mapped = load_quiet(path, categories={"nids de poule": "public_space", "vie du quartier": "services"})
    assert mapped["category"].astype(str).tolist()[:4] == ["public_space", "public_space", "other", "services"]
    with pytest.raises(InputFormatError, match="unknown categories"):
        load_reports(path, categories={"x": "potholes"})


@settings(max_examples=80, deadline=None)
@given(
    label=st.sampled_from(sorted(CATEGORY_LABELS)),
    flips=st.lists(st.booleans(), min_size=40, max_size=40),
    accent=st.booleans(),
    punct=st.sampled_from(["", " ", "  ", ".", " / ", "-"]),
)
def test_mapping_ignores_case_accents_and_punctuation(label, flips, accent, punct) -> None:
    varied = "".join(c.upper() if f else c for c, f in zip(label, flips + [False] * 40, strict=False))
    if accent:  # e -> é where possible: the mapping must fold it back
        varied = varied.replace("e", "\u00e9", 1)
    varied = punct + varied.replace(" ", punct or " ") + punct if punct.strip() else punct + varied + punct
    assert map_categories([varied]).iloc[0] == CATEGORY_LABELS[label]


def test_vocabulary_is_the_documented_one() -> None:
    assert CATEGORIES == ("housing", "safety", "transport", "public_space", "services", "employment",
                          "youth", "health", "other")  # fmt: skip
    assert set(CATEGORY_LABELS.values()) == set(CATEGORIES)
    # every key is already normalised (lower case, no accents, single spaces)
    for key in CATEGORY_LABELS:
        folded = unicodedata.normalize("NFKD", key)
        assert key == key.lower().strip() and "  " not in key and folded == key


# --- dates and positions -------------------------------------------------------------


def test_recoverable_rows_dropped_and_counted_with_file_row_numbers(tmp_path: Path) -> None:
    path = write(
        tmp_path / "r.csv",
        HEADER
        + "-0.57;44.84;logement;ok;2024-01-01;\n"  # 1 ok
        + ";44.84;logement;no lon;2024-01-01;\n"  # 2 no coordinates
        + "44.84;-0.57;logement;swapped?;2024-01-01;\n"  # 3 in range (Gulf of Guinea): kept
        + "200;44.84;logement;out of range;2024-01-01;\n"  # 4 out of range
        + "-0.57;44.84;logement;bad date;31/02/2024;\n"  # 5 unparseable date
        + "-0.57;44.84;logement;bad date 2;hier;\n"  # 6 unparseable date
        + "-0.57;44.84;logement;ok;2024-01-01T10:00:00+01:00;\n",  # 7 ok, tz-aware
    )
    with pytest.warns(DroppedRowsWarning) as rec:
        r = load_reports(path)
    messages = [str(w.message) for w in rec if issubclass(w.category, DroppedRowsWarning)]
    assert any("dropped 1 row, e.g. row 2: reports without coordinates" in m for m in messages)
    assert any("dropped 1 row, e.g. row 4: coordinates out of range for EPSG:4326" in m for m in messages)
    assert any("dropped 2 rows, e.g. rows 5, 6: unparseable dates in column 'date'" in m and "'hier'" in m
               for m in messages)  # fmt: skip
    assert r["comment"].tolist() == ["ok", "swapped?", "ok"]
    assert r["date"].iloc[2] == pd.Timestamp("2024-01-01 10:00")  # Europe/Paris wall time
    assert r.attrs["n_no_coordinates"] == 1 and r.attrs["n_out_of_range"] == 1 and r.attrs["n_bad_date"] == 2


def test_date_format_option(tmp_path: Path) -> None:
    path = write(tmp_path / "r.csv", HEADER + "-0.57;44.84;emploi;;04/03/2024 08h30;\n")
    assert load_reports(path)["date"].iloc[0] == pd.Timestamp("2024-03-04 08:30")  # French day first
    assert load_reports(path, dayfirst=False)["date"].iloc[0] == pd.Timestamp("2024-04-03 08:30")
    r = load_reports(path, date_format="%m/%d/%Y %Hh%M")
    assert r["date"].iloc[0] == pd.Timestamp("2024-04-03 08:30")
    bad = write(tmp_path / "bad.csv", HEADER + "-0.57;44.84;emploi;;hier;\n")
    with pytest.raises(ValidationError, match="no usable report: unparseable dates in column 'date'.*'hier'"):
        load_reports(bad)


def test_structural_problems_reported_at_once(tmp_path: Path) -> None:
    path = write(tmp_path / "r.csv", "lon;lat;theme\nabc;44.8;logement\n-0.5;north;logement\n")
    with pytest.raises(ValidationError) as exc:
        load_reports(path)
    text = str(exc.value)
    assert "missing category column 'category'" in text
    assert "missing date column 'date'" in text and "date=None" in text
    assert "missing comment column 'comment'" in text
    with pytest.raises(ValidationError) as exc:
        load_reports(path, category="theme", comment=None, date=None)
    text = str(exc.value)
    assert "column 'lon': non-numeric values in 1 row, e.g. row 1 ('abc')" in text
    assert "column 'lat': non-numeric values in 1 row, e.g. row 2 ('north')" in text


def test_no_coordinate_columns(tmp_path: Path) -> None:
    path = write(tmp_path / "r.csv", "where;category;comment;date\nici;logement;;2024-01-01\n")
    with pytest.raises(ValidationError, match="no coordinate columns: expected lon/lat.*columns present: where"):
        load_reports(path)


def test_every_row_unusable_raises(tmp_path: Path) -> None:
    path = write(tmp_path / "r.csv", HEADER + "200;95;logement;;2024-01-01;\n300;-95;logement;;2024-01-01;\n")
    with pytest.raises(ValidationError, match="no usable report: coordinates missing or out of range.*swapped"):
        load_reports(path)


# --- study area ----------------------------------------------------------------------


def square_grid(x0: int, y0: int, n: int) -> gpd.GeoDataFrame:
    xs, ys = np.meshgrid(np.arange(n) * 200 + x0, np.arange(n) * 200 + y0)
    return gpd.GeoDataFrame(
        {"cell_id": [f"c{i}" for i in range(n * n)]},
        geometry=shapely.box(xs.ravel(), ys.ravel(), xs.ravel() + 200, ys.ravel() + 200),
        crs=3035,
    )


def test_area_from_a_grid_bbox_and_polygon(tmp_path: Path) -> None:
    to_lonlat = Transformer.from_crs(3035, 4326, always_xy=True)
    inside = to_lonlat.transform(3_500_100, 2_500_100)  # in the 3x3 block
    outside = to_lonlat.transform(3_510_000, 2_500_100)  # 10 km east
    path = write(
        tmp_path / "r.csv",
        HEADER + f"{inside[0]};{inside[1]};logement;in;2024-01-01;\n{outside[0]};{outside[1]};logement;out;2024-01-01;\n",
    )
    grid = square_grid(3_500_000, 2_500_000, 3)
    with pytest.warns(DroppedRowsWarning, match="dropped 1 row, e.g. row 2: reports outside the area \\(9 polygons\\)"):
        r = load_reports(path, area=grid)
    assert r["comment"].tolist() == ["in"] and r.attrs["n_outside_area"] == 1
    l93 = grid.to_crs(2154)
    with pytest.warns(DroppedRowsWarning, match="outside the bbox"):
        assert load_reports(path, area=tuple(l93.total_bounds))["comment"].tolist() == ["in"]
    with pytest.warns(DroppedRowsWarning, match="outside the area polygon"):
        assert load_reports(path, area=l93.union_all())["comment"].tolist() == ["in"]
    with pytest.raises(ValidationError, match="all 2 usable reports lie outside"):
        load_reports(path, area=square_grid(3_600_000, 2_600_000, 2))
    with pytest.raises(InputFormatError, match="area must be"):
        load_reports(path, area="Bordeaux")


@pytest.mark.realdata
def test_reports_inside_the_real_bordeaux_grid(bordeaux_grid, tmp_path: Path) -> None:
    """Points in Bordeaux are kept, one in Paris is dropped, all snap to real cells."""
    path = write(
        tmp_path / "r.csv",
        HEADER
        + "-0.5792;44.8378;logement;centre;2024-01-01;\n"  # Bordeaux, place Gambetta area
        + "-0.6370;44.8080;jeunesse;Pessac;2024-01-02;\n"
        + "2.3522;48.8566;logement;Paris;2024-01-03;\n",
    )
    with pytest.warns(DroppedRowsWarning, match="row 3: reports outside the area \\(6735 polygons\\)"):
        r = load_reports(path, area=bordeaux_grid)
    assert r["comment"].tolist() == ["centre", "Pessac"]
    cells = coarsen_reports(r)
    assert cells["cell_id"].isin(bordeaux_grid["cell_id"]).all()


# --- privacy -------------------------------------------------------------------------


@settings(max_examples=50, deadline=None)
@given(
    x=st.floats(min_value=3_400_000, max_value=3_600_000, allow_nan=False),
    y=st.floats(min_value=2_400_000, max_value=2_600_000, allow_nan=False),
)
def test_coarsened_point_is_its_cell_centre(x: float, y: float) -> None:
    pts = gpd.GeoDataFrame({"category": ["housing"]}, geometry=[shapely.Point(x, y)], crs=3035)
    out = coarsen_reports(pts)
    cx, cy = out.geometry.iloc[0].coords[0]
    assert (cx - 100) % 200 == 0 and (cy - 100) % 200 == 0
    assert abs(cx - x) <= 100 and abs(cy - y) <= 100
    ex, ey = int(cx - 100), int(cy - 100)
    assert out["cell_id"].iloc[0] == f"CRS3035RES200mN{ey}E{ex}"


def test_coarsen_keeps_crs_and_columns(tmp_path: Path) -> None:
    path = write(tmp_path / "r.csv", HEADER + "-0.5792;44.8378;logement;x;2024-01-01;app\n")
    r = load_reports(path)
    c = coarsen_reports(r)
    assert c.crs.to_epsg() == 2154 and c["comment"].tolist() == ["x"]
    assert 0 < c.geometry.distance(r.geometry).iloc[0] <= 142  # half the cell diagonal
    assert r.geometry.iloc[0] != c.geometry.iloc[0]  # the input frame is untouched
