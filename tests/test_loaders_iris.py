"""IRIS contours and IRIS income: real Bordeaux numbers, crafted layouts and bad files."""

from __future__ import annotations

import hashlib
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from cohesion_geo.datasets import REAL_FILES
from cohesion_geo.errors import CohesionGeoWarning, CRSError, InputFormatError, ValidationError
from cohesion_geo.loaders import load_iris, load_iris_income
from cohesion_geo.loaders._common import COMMUNE_PATTERN, normalise_codes
from cohesion_geo._validate import Problems
from cohesion_geo.loaders.iris import iris_type_letter


def sha1(path: Path) -> str:
    return hashlib.sha1(path.read_bytes()).hexdigest()


def square(x: float, y: float, size: float = 100.0) -> shapely.Polygon:
    return shapely.box(x, y, x + size, y + size)


def write_contours(path: Path, props: dict[str, list], geoms: list, crs: int | None = 2154) -> Path:
    gdf = gpd.GeoDataFrame(props, geometry=geoms, crs=crs)
    gdf.to_file(path, engine="pyogrio")
    return path


# --- real data -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_iris(real_data_dir: Path) -> gpd.GeoDataFrame:
    return load_iris(real_data_dir / REAL_FILES["bordeaux_iris"])


@pytest.fixture(scope="module")
def real_income(real_data_dir: Path) -> pd.DataFrame:
    return load_iris_income(real_data_dir / REAL_FILES["bordeaux_iris_income"])


@pytest.mark.realdata
def test_bordeaux_contours(real_iris: gpd.GeoDataFrame) -> None:
    iris = real_iris
    assert len(iris) == 88
    assert iris.crs.to_epsg() == 2154  # reprojected from WGS84
    assert list(iris.columns[:5]) == ["iris", "commune", "name", "commune_name", "iris_type"]
    assert iris["iris"].is_unique
    assert iris["iris"].str.len().eq(9).all()
    assert set(iris["commune"]) == {"33063"}
    assert set(iris["commune_name"]) == {"Bordeaux"}
    assert iris["iris_type"].value_counts().to_dict() == {"H": 85, "A": 3}
    assert sorted(iris.loc[iris["iris_type"] == "A", "iris"]) == ["330630101", "330630201", "330631002"]
    # Bordeaux commune covers about 49.6 km2 (Lambert-93 areas are close to true areas)
    assert iris.area.sum() / 1e6 == pytest.approx(49.64, abs=0.01)
    xmin, ymin, xmax, ymax = iris.total_bounds
    assert 412_000 < xmin < xmax < 421_500 and 6_418_000 < ymin < ymax < 6_431_000
    assert iris.is_valid.all()
    row = iris.set_index("iris").loc["330631104"]
    assert row["name"] == "Capucins-Victoire 4" and row["iris_type"] == "H"


@pytest.mark.realdata
def test_bordeaux_income(real_income: pd.DataFrame, real_data_dir: Path) -> None:
    inc = real_income
    assert len(inc) == 107
    assert inc.attrs["year"] == 2018 and inc.attrs["kind"] == "DISP"
    assert inc["iris"].is_unique
    assert inc["commune"].value_counts().to_dict() == {
        "33063": 88, "33069": 9, "33056": 5, "33051": 3, "33075": 2,
    }  # fmt: skip
    row = inc.set_index("iris").loc["330631104"]
    assert row["median_income"] == 18600  # DISP_MED18
    assert row["poverty_rate"] == pytest.approx(0.281)  # DISP_TP6018 = 28.1 %
    assert row["income_q1"] == 12280  # DISP_Q118
    # secrecy: 22 empty poverty rates are missing, never zero
    assert inc["poverty_rate"].isna().sum() == 22
    assert inc["DISP_TP6018"].isna().sum() == 22
    assert not (inc["poverty_rate"] == 0).any()
    assert np.isnan(inc.set_index("iris").loc["330630309", "poverty_rate"])  # empty in the file
    assert inc["median_income"].between(13_900, 33_910).all()
    # tax share is negative by design and kept
    assert (inc["DISP_PIMPOT18"] < 0).all()
    raw = pd.read_csv(real_data_dir / REAL_FILES["bordeaux_iris_income"], sep=";", dtype={"IRIS": str})
    assert inc["median_income"].sum() == raw["DISP_MED18"].sum()


@pytest.mark.realdata
def test_every_bordeaux_iris_joins_its_income(real_iris, real_income) -> None:
    joined = real_iris.merge(real_income, on="iris", how="left", validate="one_to_one")
    assert len(joined) == 88
    assert joined["median_income"].notna().all()
    assert joined["poverty_rate"].isna().sum() == 16  # secrecy, kept missing


@pytest.mark.realdata
def test_loaders_never_modify_inputs(real_data_dir: Path) -> None:
    paths = [real_data_dir / REAL_FILES[k] for k in ("bordeaux_iris", "bordeaux_iris_income")]
    before = [sha1(p) for p in paths]
    load_iris(paths[0])
    load_iris_income(paths[1])
    assert [sha1(p) for p in paths] == before


@pytest.mark.realdata
def test_upper_case_lambert93_shapefile_equals_lower_case_geojson(real_iris, real_data_dir, tmp_path) -> None:
    """The IGN delivery (upper case, Lambert-93 shapefile) loads like the open-data export."""
    raw = gpd.read_file(real_data_dir / REAL_FILES["bordeaux_iris"]).to_crs(2154)
    ign = gpd.GeoDataFrame(
        {
            "INSEE_COM": raw["insee_com"],
            "NOM_COM": raw["nom_com"],
            "IRIS": raw["code_iris"].str.slice(5),
            "CODE_IRIS": raw["code_iris"],
            "NOM_IRIS": raw["nom_iris"],
            "TYP_IRIS": raw["typ_iris"].map({"Iris d'habitat": "H", "Iris d'activité": "A"}),
        },
        geometry=raw.geometry,
        crs=2154,
    )
    ign.to_file(tmp_path / "CONTOURS-IRIS.shp", engine="pyogrio", encoding="utf-8")
    shp = load_iris(tmp_path / "CONTOURS-IRIS.shp")
    cols = ["iris", "commune", "name", "commune_name", "iris_type"]
    pd.testing.assert_frame_equal(pd.DataFrame(shp[cols]), pd.DataFrame(real_iris[cols]))
    assert shp.geom_equals_exact(real_iris.geometry, tolerance=0.01).all()


# --- crafted layouts -----------------------------------------------------------------


def test_long_type_labels_codes_and_corsica(tmp_path: Path) -> None:
    path = write_contours(
        tmp_path / "iris.gpkg",
        {
            "insee_com": ["2A004", "01001", "33063", "33063"],
            "code_iris": ["2A0040101", "010010000", "330630101", "330630102"],
            "nom_iris": ["Ajaccio 1", "L'Abergement", "Centre", "Port"],
            "nom_com": ["Ajaccio", "L'Abergement-Clémenciat", "Bordeaux", "Bordeaux"],
            "typ_iris": ["IRIS D'HABITAT", "Commune non irisée", "Iris divers", "iris d'activite"],
        },
        [square(0, 0), square(200, 0), square(400, 0), square(600, 0)],
    )
    iris = load_iris(path)
    assert iris["iris"].tolist() == ["2A0040101", "010010000", "330630101", "330630102"]
    assert iris["commune"].tolist() == ["2A004", "01001", "33063", "33063"]
    assert iris["iris_type"].tolist() == ["H", "Z", "D", "A"]
    assert iris.crs.to_epsg() == 2154


def test_code_built_from_commune_and_iris_and_leading_zeros(tmp_path: Path) -> None:
    """No CODE_IRIS: code = INSEE_COM + IRIS; numeric codes get their zeros back."""
    path = tmp_path / "iris.geojson"
    gpd.GeoDataFrame(
        {"INSEE_COM": [1001, 33063], "IRIS": [0, 101], "TYP_IRIS": ["Z", "H"]},
        geometry=[square(0, 0), square(200, 0)],
        crs=2154,
    ).to_file(path, engine="pyogrio")
    iris = load_iris(path)
    assert iris["iris"].tolist() == ["010010000", "330630101"]
    assert iris["commune"].tolist() == ["01001", "33063"]
    assert iris["name"].isna().all()


def test_wgs84_reprojected_to_requested_crs(tmp_path: Path) -> None:
    path = write_contours(
        tmp_path / "iris.geojson",
        {"code_iris": ["330630101"], "typ_iris": ["H"]},
        [square(-0.58, 44.84, 0.01)],
        crs=4326,
    )
    l93 = load_iris(path)
    laea = load_iris(path, crs=3035)
    assert l93.crs.to_epsg() == 2154 and laea.crs.to_epsg() == 3035
    # ~0.01 degree x 0.01 degree at 44.8 N: 1.11 km x 0.79 km
    assert l93.area.iloc[0] / 1e6 == pytest.approx(0.877, abs=0.01)
    assert laea.area.iloc[0] == pytest.approx(l93.area.iloc[0], rel=2e-3)


def test_missing_type_field_flags_undivided_communes(tmp_path: Path) -> None:
    path = write_contours(
        tmp_path / "iris.gpkg", {"CODE_IRIS": ["330630101", "010010000"]}, [square(0, 0), square(200, 0)]
    )
    iris = load_iris(path)
    assert iris["iris_type"].isna().tolist() == [True, False]
    assert iris["iris_type"].iloc[1] == "Z"


# --- validation ----------------------------------------------------------------------


def test_all_contour_problems_reported_at_once(tmp_path: Path) -> None:
    bowtie = shapely.Polygon([(0, 0), (100, 100), (100, 0), (0, 100)])
    path = write_contours(
        tmp_path / "bad.gpkg",
        {
            "INSEE_COM": ["33063", "33063", "33063", "33069", "33063", "33063"],
            "CODE_IRIS": ["330630101", "330630101", "3306301", "330630104", "330630105", "330630106"],
            "TYP_IRIS": ["H", "H", "H", "H", "Iris bizarre", "H"],
        },
        [square(0, 0), square(200, 0), square(400, 0), square(600, 0), shapely.Polygon(), bowtie],
    )
    with pytest.raises(ValidationError) as exc:
        load_iris(path)
    err = exc.value
    text = str(err)
    assert err.source == str(path)
    assert len(err.problems) == 6, text
    assert "duplicate IRIS codes in 2 rows, e.g. rows 1, 2" in text
    assert "column 'CODE_IRIS': malformed IRIS code" in text and "'3306301'" in text
    assert "does not start with its commune code ('INSEE_COM') in 1 row, e.g. row 4" in text
    assert "column 'TYP_IRIS': unknown IRIS type" in text and "'Iris bizarre'" in text
    assert "empty or missing geometries in 1 row, e.g. row 5" in text
    assert "invalid polygons" in text and "row 6" in text and "fix_invalid=True" in text


def test_fix_invalid_repairs_with_a_warning(tmp_path: Path) -> None:
    bowtie = shapely.Polygon([(0, 0), (100, 100), (100, 0), (0, 100)])
    path = write_contours(tmp_path / "b.gpkg", {"CODE_IRIS": ["330630101"], "TYP_IRIS": ["H"]}, [bowtie])
    with pytest.warns(CohesionGeoWarning, match="repaired 1 row"):
        iris = load_iris(path, fix_invalid=True)
    assert iris.is_valid.all()
    assert iris.area.iloc[0] == pytest.approx(5000.0)


def test_missing_code_fields(tmp_path: Path) -> None:
    path = write_contours(tmp_path / "n.gpkg", {"NOM_IRIS": ["x"]}, [square(0, 0)])
    with pytest.raises(ValidationError, match="no IRIS code: expected 'CODE_IRIS'.*fields present: NOM_IRIS"):
        load_iris(path)


def test_not_polygons_and_degrees_out_of_range(tmp_path: Path) -> None:
    path = write_contours(
        tmp_path / "p.geojson",
        {"code_iris": ["330630101", "330630102"]},
        [shapely.Point(0.5, 44.8), square(418_000, 6_420_000)],  # Lambert-93 numbers labelled WGS84
        crs=4326,
    )
    with pytest.raises(ValidationError) as exc:
        load_iris(path)
    assert "geometries that are not polygons in 1 row, e.g. row 1 ('Point')" in str(exc.value)
    assert "coordinates out of range for the declared geographic CRS EPSG:4326" in str(exc.value)
    assert "row 2" in str(exc.value)


def test_crs_missing_or_geographic_target(tmp_path: Path) -> None:
    path = tmp_path / "nocrs.shp"
    with pytest.warns(UserWarning, match="'crs' was not provided"):
        gpd.GeoDataFrame({"CODE_IRIS": ["330630101"]}, geometry=[square(0, 0)]).to_file(path, engine="pyogrio")
    with pytest.raises(CRSError, match="no CRS"):
        load_iris(path)
    good = write_contours(tmp_path / "g.gpkg", {"CODE_IRIS": ["330630101"]}, [square(0, 0)])
    with pytest.raises(CRSError, match="geographic CRS"):
        load_iris(good, crs=4326)


def test_table_without_geometry_refused(tmp_path: Path) -> None:
    path = tmp_path / "iris.csv"
    path.write_text("CODE_IRIS;NOM_IRIS\n330630101;Centre\n", encoding="utf-8")
    with pytest.raises(InputFormatError, match="need a geometry"):
        load_iris(path)


# --- income --------------------------------------------------------------------------


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_text(text, encoding=encoding)
    return path


def test_secrecy_markers_are_missing_never_zero(tmp_path: Path) -> None:
    path = write(
        tmp_path / "inc.csv",
        "IRIS;DISP_TP6019;DISP_MED19;DISP_D119;DISP_GI19\n"
        "330630101;12,5;21000;11000;0,25\n"
        "330630102;s;s;s;s\n"
        "330630103;nd;ns;so;\n"
        "2A0040101;0;19800;10500;0.3\n",
    )
    inc = load_iris_income(path)
    assert inc.attrs["year"] == 2019
    assert inc["iris"].tolist() == ["330630101", "330630102", "330630103", "2A0040101"]
    assert inc["median_income"].isna().tolist() == [False, True, True, False]
    assert inc["poverty_rate"].tolist()[0] == pytest.approx(0.125)  # decimal comma
    assert inc["poverty_rate"].isna().tolist() == [False, True, True, False]
    assert inc["poverty_rate"].iloc[3] == 0.0  # a real zero stays zero
    assert inc["income_d1"].isna().sum() == 2 and inc["gini"].isna().sum() == 2
    assert inc["commune"].tolist() == ["33063", "33063", "33063", "2A004"]


def test_declared_income_file_and_year_choice(tmp_path: Path) -> None:
    path = write(
        tmp_path / "dec.csv",
        "IRIS;DEC_MED17;DEC_TP6017;DEC_MED18;DEC_TP6018\n330630101;20000;10;20500;11\n",
    )
    with pytest.raises(ValidationError, match="several years present \\(2017, 2018\\)"):
        load_iris_income(path)
    inc = load_iris_income(path, year=2017)
    assert inc.attrs == {"year": 2017, "kind": "DEC", "source": str(path)}
    assert inc.loc[0, "median_income"] == 20000 and inc.loc[0, "poverty_rate"] == pytest.approx(0.10)
    both = write(tmp_path / "both.csv", "IRIS;DEC_MED18;DISP_MED18\n330630101;1;2\n")
    with pytest.raises(ValidationError, match="kind='disp' or 'dec'"):
        load_iris_income(both)
    assert load_iris_income(both, kind="disp").loc[0, "median_income"] == 2


def test_income_problems_reported_at_once(tmp_path: Path) -> None:
    path = write(
        tmp_path / "bad.csv",
        "IRIS;DISP_TP6018;DISP_MED18;DISP_D118\n"
        "330630101;12;21000;11000\n"
        "330630101;130;abc;-5\n"
        "3306301;10;20000;x\n",
    )
    with pytest.raises(ValidationError) as exc:
        load_iris_income(path)
    text = str(exc.value)
    assert len(exc.value.problems) == 6, text
    assert "duplicate IRIS codes in 2 rows, e.g. rows 1, 2" in text
    assert "column 'IRIS': malformed IRIS code" in text and "row 3" in text
    assert "column 'DISP_MED18': non-numeric values in 1 row, e.g. row 2 ('abc')" in text
    assert "column 'DISP_D118': non-numeric values in 1 row, e.g. row 3 ('x')" in text
    assert "column 'DISP_D118': negative values in 1 row, e.g. row 2" in text
    assert "column 'DISP_TP6018': poverty rate above 100 % in 1 row, e.g. row 2" in text


def test_income_without_median_or_iris_column(tmp_path: Path) -> None:
    path = write(tmp_path / "x.csv", "CODE;DISP_Q118\n330630101;1\n")
    with pytest.raises(ValidationError) as exc:
        load_iris_income(path)
    assert "missing IRIS code column 'IRIS'" in str(exc.value)
    assert "no median income column" in str(exc.value) and "DISP_MED18" in str(exc.value)


# --- properties ----------------------------------------------------------------------

TYPE_LABELS = {
    "Iris d'habitat": "H", "Iris d'activité": "A", "Iris divers": "D", "Commune non irisée": "Z",
    "H": "H", "A": "A", "D": "D", "Z": "Z",
}  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(
    label=st.sampled_from(sorted(TYPE_LABELS)),
    upper=st.lists(st.booleans(), min_size=30, max_size=30),
    pad=st.sampled_from(["", " ", "  "]),
)
def test_type_labels_ignore_case_and_spacing(label: str, upper: list[bool], pad: str) -> None:
    varied = "".join(c.upper() if u else c.lower() for c, u in zip(label, upper + [False] * 30, strict=False))
    assert iris_type_letter(pd.Series([pad + varied + pad])).iloc[0] == TYPE_LABELS[label]


@settings(max_examples=100, deadline=None)
@given(number=st.integers(min_value=1001, max_value=97_699), as_text=st.booleans())
def test_commune_codes_regain_leading_zeros(number: int, as_text: bool) -> None:
    values = pd.Series([str(number) if as_text else number])
    p = Problems("t")
    code = normalise_codes(values, width=5, pattern=COMMUNE_PATTERN, column="c", problems=p).iloc[0]
    assert not p and len(code) == 5 and int(code) == number


def test_warnings_free_real_like_load(tmp_path: Path) -> None:
    path = write_contours(tmp_path / "ok.gpkg", {"CODE_IRIS": ["330630101"], "TYP_IRIS": ["H"]}, [square(0, 0)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        iris = load_iris(path)
    assert np.isclose(iris.area.iloc[0], 10_000.0)
