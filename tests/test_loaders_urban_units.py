"""Urban units: INSEE composition file, BPE-derived table, single-unit fallback, UU population."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import pandas as pd
import pytest

from cohesion_geo.datasets import REAL_FILES
from cohesion_geo.errors import CohesionGeoWarning, ConfigError, DroppedRowsWarning, ValidationError
from cohesion_geo.loaders import STUDY_AREA_UNIT, load_facilities, load_urban_units, urban_unit_population

COMPOSITION = (
    "Unités urbaines 2020 - composition communale;;;;\r\n"
    "Découpage de la France en unités urbaines 2020 - Géographie au 1er janvier 2023;;;;\r\n"
    "Source : Insee;;;;\r\n"
    ";;;;\r\n"
    "CODGEO;LIBGEO;UU2020;LIBUU2020;TYPE_COMMUNE_UU\r\n"
    "33063;Bordeaux;33701;Bordeaux;Ville-centre\r\n"
    "33318;Pessac;33701;Bordeaux;Banlieue\r\n"
    "1001;L'Abergement-Clémenciat;01000;Communes hors unité urbaine;Hors unité urbaine\r\n"
    "2A004;Ajaccio;2A401;Ajaccio;Ville isolée\r\n"
)


@pytest.fixture()
def composition(tmp_path: Path) -> Path:
    path = tmp_path / "UU2020_composition.csv"
    path.write_bytes(COMPOSITION.encode("latin-1"))
    return path


@pytest.fixture(scope="module")
def bpe(real_data_dir: Path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DroppedRowsWarning)
        return load_facilities(real_data_dir / REAL_FILES["bordeaux_facilities"])


def test_insee_composition_with_title_lines(composition: Path) -> None:
    uu = load_urban_units(composition)
    assert list(uu.columns[:4]) == ["commune", "urban_unit", "urban_unit_name", "rural"]
    assert uu["commune"].tolist() == ["33063", "33318", "01001", "2A004"]
    assert uu["urban_unit"].tolist() == ["33701", "33701", "01000", "2A401"]
    assert uu["urban_unit_name"].tolist() == ["Bordeaux", "Bordeaux", "Communes hors unité urbaine", "Ajaccio"]
    assert uu["rural"].tolist() == [False, False, True, False]
    assert uu["TYPE_COMMUNE_UU"].iloc[0] == "Ville-centre"  # other columns kept
    assert uu.attrs == {"source": str(composition), "vintage": 2020, "assumed_single_unit": False}


def test_restricted_to_the_study_area(composition: Path) -> None:
    with pytest.warns(CohesionGeoWarning, match="1 of the study area's 3 communes have no urban unit .*33999"):
        uu = load_urban_units(composition, communes=["33063", "33318", "33999"])
    assert uu["commune"].tolist() == ["33063", "33318"]


def test_composition_problems(tmp_path: Path) -> None:
    path = tmp_path / "uu.csv"
    path.write_text(
        "CODGEO;UU2020;LIBUU2020\n33063;33701;Bordeaux\n33063;33702;Autre\n330;;X\n", encoding="utf-8"
    )
    with pytest.raises(ValidationError) as exc:
        load_urban_units(path)
    text = str(exc.value)
    assert "communes listed twice in 2 rows, e.g. rows 1, 2" in text
    assert "column 'CODGEO': malformed commune code" in text and "row 3" in text
    assert "column 'UU2020': missing urban-unit code in 1 row, e.g. row 3" in text
    bad = tmp_path / "bad.csv"
    bad.write_text("commune_code;uu\n33063;33701\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="no commune code column \\(CODGEO\\)"):
        load_urban_units(bad)


def test_missing_communes_are_not_also_listed_twice(tmp_path: Path) -> None:
    path = tmp_path / "uu.csv"
    path.write_text("CODGEO;UU2020\n33063;33701\n;33701\n;33702\n", encoding="utf-8")
    with pytest.raises(ValidationError) as exc:
        load_urban_units(path)
    assert exc.value.problems == ["column 'CODGEO': missing commune code in 2 rows, e.g. rows 2, 3"]


@pytest.mark.realdata
def test_derived_from_the_real_bpe(bpe) -> None:
    uu = load_urban_units(facilities=bpe)
    assert len(uu) == 28
    assert uu["urban_unit"].value_counts().to_dict() == {"33701": 26, "33114": 1, "33103": 1}
    lookup = uu.set_index("commune")["urban_unit"]
    assert lookup["33063"] == "33701" and lookup["33004"] == "33114" and lookup["33434"] == "33103"
    assert uu["urban_unit_name"].isna().all()  # BPE carries codes, not names
    assert uu.attrs["vintage"] == 2020 and not uu.attrs["assumed_single_unit"]


def test_conflicting_bpe_rows() -> None:
    bpe = pd.DataFrame({"DEPCOM": ["33063", "33063", "33318"], "UU2020": ["33701", "33702", "33701"]})
    with pytest.raises(ValidationError, match="communes with several urban units in 2 rows"):
        load_urban_units(facilities=bpe)


def test_single_unit_fallback_warns_and_logs(caplog) -> None:
    with caplog.at_level(logging.INFO, logger="cohesion_geo.loaders.urban_units"):
        with pytest.warns(CohesionGeoWarning, match="treated as ONE urban unit"):
            uu = load_urban_units(communes=pd.Series(["33063", "33318", "33063", 1001]))
    assert "treated as ONE urban unit" in caplog.text
    assert uu["commune"].tolist() == ["01001", "33063", "33318"]
    assert set(uu["urban_unit"]) == {STUDY_AREA_UNIT}
    assert uu.attrs["assumed_single_unit"] is True


def test_nothing_or_both_refused(composition: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no urban-unit information"):
        load_urban_units()
    with pytest.raises(ConfigError, match="not both"):
        load_urban_units(composition, facilities=pd.DataFrame({"DEPCOM": ["33063"], "UU2020": ["33701"]}))
    with pytest.raises(ConfigError, match="no 'commune' column"):
        load_urban_units(communes=pd.DataFrame({"x": [1]}))


@pytest.mark.realdata
def test_urban_unit_population_on_the_real_grid(bordeaux_grid, bpe) -> None:
    alone = urban_unit_population(bordeaux_grid)
    assert alone.to_dict() == {STUDY_AREA_UNIT: pytest.approx(725_084.5)}
    uu = load_urban_units(facilities=bpe)
    with pytest.warns(CohesionGeoWarning, match="94 rows.*2,731 inhabitants counted under <NA>"):
        pop = urban_unit_population(bordeaux_grid, uu)
    assert pop["33701"] == pytest.approx(717_101.0)
    assert pop["33114"] == pytest.approx(3_158.5) and pop["33103"] == pytest.approx(2_094.0)
    assert pop.sum() == pytest.approx(725_084.5)  # nothing lost
    assert pop.index[0] == "33701"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CohesionGeoWarning)
        single = load_urban_units(communes=bordeaux_grid)
    assert len(single) == bordeaux_grid["commune"].nunique() == 41
    assert urban_unit_population(bordeaux_grid, single)[STUDY_AREA_UNIT] == pytest.approx(725_084.5)


def test_urban_unit_population_needs_communes() -> None:
    grid = pd.DataFrame({"ind": [1.0]})
    uu = pd.DataFrame({"commune": ["33063"], "urban_unit": ["33701"]})
    with pytest.raises(ValidationError, match="no 'commune' column"):
        urban_unit_population(grid, uu)
    with pytest.raises(ValidationError, match="no 'men' column"):
        urban_unit_population(grid, column="men")
