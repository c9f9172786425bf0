"""Commune finance: the real DGCL table (Bordeaux values against the raw file), mappings, bad files."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cohesion_geo.datasets import REAL_FILES
from cohesion_geo.errors import ValidationError
from cohesion_geo.loaders import SIZE_GROUP_BOUNDS, load_finance, size_group


@pytest.fixture(scope="module")
def dgcl_path(real_data_dir: Path) -> Path:
    return real_data_dir / REAL_FILES["finance"]


@pytest.fixture(scope="module")
def finance(dgcl_path: Path) -> pd.DataFrame:
    return load_finance(dgcl_path)


def raw_row(path: Path, code: str) -> dict[str, str]:
    """The commune's row read with the csv module only (independent of the loader)."""
    with path.open(encoding="latin-1", newline="") as fh:
        for row in csv.DictReader(fh, delimiter=";"):
            if row["CodeCom"] == code:
                return row
    raise KeyError(code)


@pytest.mark.realdata
def test_dgcl_table(finance: pd.DataFrame, dgcl_path: Path) -> None:
    f = finance
    assert len(f) == 35_443
    assert f.attrs["year"] == 2018 and f.attrs["pfin_dotation_year"] == 2017
    assert f["commune"].is_unique and f["commune"].str.len().eq(5).all()
    assert list(f.columns[:11]) == [
        "commune", "commune_name", "department", "population", "potentiel_fiscal",
        "dotation_forfaitaire", "potentiel_financier", "pf_per_inhabitant", "pfin_per_inhabitant",
        "size_group", "dsu_group",
    ]  # fmt: skip
    assert f["population"].sum() == 71_836_906  # PopDGF2018, all of France
    assert f["commune_name"].str.contains("É").sum() > 0  # Latin-1 decoded
    assert f.set_index("commune").loc["2A004", "commune_name"] == "AJACCIO"
    # 5 communes with no inhabitants: no per-inhabitant value rather than infinity
    assert (f["population"] == 0).sum() == 5
    assert f["pf_per_inhabitant"].isna().sum() == 5 and np.isfinite(f["pf_per_inhabitant"].dropna()).all()
    assert f["size_group"].value_counts()["200000+"] == 11
    assert f["dsu_group"].value_counts().to_dict() == {"5000-9999": 1274, "10000+": 1109}


@pytest.mark.realdata
def test_bordeaux_against_raw_file(finance: pd.DataFrame, dgcl_path: Path) -> None:
    raw = raw_row(dgcl_path, "33063")
    b = finance.set_index("commune").loc["33063"]
    assert b["commune_name"] == raw["NomCom"] == "BORDEAUX"
    assert b["population"] == int(raw["PopDGF2018"]) == 259_259
    assert b["potentiel_fiscal"] == int(raw["PF4Taxes2018"]) == 321_863_068
    assert b["dotation_forfaitaire"] == int(raw["DF2018"]) == 35_094_247
    assert b["potentiel_financier"] == int(raw["PF4Taxes2018"]) + int(raw["DF2017"]) == 357_097_400
    assert b["pf_per_inhabitant"] == pytest.approx(321_863_068 / 259_259)  # 1,241.47 EUR
    assert b["pfin_per_inhabitant"] == pytest.approx(357_097_400 / 259_259)  # 1,377.38 EUR
    assert b["size_group"] == "200000+" and b["dsu_group"] == "10000+"
    assert b["RRF2018"] == int(raw["RRF2018"])  # other columns kept


@pytest.mark.realdata
def test_earlier_year_and_unknown_year(dgcl_path: Path) -> None:
    f = load_finance(dgcl_path, year=2017)
    b = f.set_index("commune").loc["33063"]
    assert b["population"] == 255_762 and b["potentiel_fiscal"] == 314_437_759
    assert b["potentiel_financier"] == 314_437_759 + 39_901_678  # PF 2017 + DF 2016
    with pytest.raises(ValidationError, match="year 2016 not in the table; .*: 2017, 2018"):
        load_finance(dgcl_path, year=2016)


@pytest.mark.realdata
def test_input_untouched(dgcl_path: Path) -> None:
    before = hashlib.sha1(dgcl_path.read_bytes()).hexdigest()
    load_finance(dgcl_path)
    assert hashlib.sha1(dgcl_path.read_bytes()).hexdigest() == before


DGCL_HEADER = '"CodeCom";"NomCom";"CodeDep";"PopDGF2019";"DF2018";"DF2019";"PF4Taxes2019"\r\n'


def test_latin1_after_a_long_ascii_start(tmp_path: Path) -> None:
    """An accent beyond the sniffed sample must not break decoding (cp1252 fallback)."""
    rows = [f'"{33000 + i:05d}";"COMMUNE {i}";"33";{100 + i};10;11;1000\r\n' for i in range(1, 2500)]
    rows.append('"97411";"SAINT-ÉMILION";"33";1900;5;6;70000\r\n')
    path = tmp_path / "dgcl.csv"
    path.write_bytes((DGCL_HEADER + "".join(rows)).encode("latin-1"))
    assert path.stat().st_size > 65536
    f = load_finance(path)
    assert f["commune_name"].iloc[-1] == "SAINT-ÉMILION"
    assert f.attrs["year"] == 2019
    last = f.iloc[-1]
    assert last["potentiel_financier"] == 70_005  # PF 2019 + DF 2018
    assert last["size_group"] == "1000-1999" and pd.isna(last["dsu_group"])


def test_all_value_problems_at_once(tmp_path: Path) -> None:
    path = tmp_path / "dgcl.csv"
    path.write_text(
        DGCL_HEADER
        + '"33063";"BORDEAUX";"33";259259;1;2;3\r\n'
        + '"33063";"BORDEAUX BIS";"33";-5;1;2;3\r\n'
        + '"330";"X";"33";10;abc;2;3\r\n',
        encoding="latin-1",
    )
    with pytest.raises(ValidationError) as exc:
        load_finance(path)
    text = str(exc.value)
    assert len(exc.value.problems) == 4, text
    assert "column 'CodeCom': malformed commune code" in text and "row 3 ('330')" in text
    assert "duplicate commune codes in 2 rows, e.g. rows 1, 2" in text
    assert "column 'population': negative values in 1 row, e.g. row 2" in text
    assert "column 'DF2018': non-numeric values in 1 row, e.g. row 3 ('abc')" in text


def test_a_bad_value_is_reported_once(tmp_path: Path) -> None:
    # the year's potentiel fiscal feeds the potentiel financier: it was reported twice
    # (as 'PF4Taxes2019' and as 'potentiel_fiscal')
    path = tmp_path / "dgcl.csv"
    path.write_text(DGCL_HEADER + '"33063";"BORDEAUX";"33";259259;1;2;xyz\r\n', encoding="latin-1")
    with pytest.raises(ValidationError) as exc:
        load_finance(path)
    assert exc.value.problems == ["column 'potentiel_fiscal': non-numeric values in 1 row, e.g. row 1 ('xyz')"]
    no_prev = tmp_path / "no_prev.csv"  # without DF2018 the year's own dotation is used, and checked once
    no_prev.write_text(
        '"CodeCom";"PopDGF2019";"DF2019";"PF4Taxes2019"\r\n"33063";259259;-2;3\r\n', encoding="latin-1"
    )
    with pytest.raises(ValidationError) as exc:
        load_finance(no_prev)
    assert exc.value.problems == ["column 'dotation_forfaitaire': negative values in 1 row, e.g. row 1 (-2.0)"]


def test_bad_codes_name_the_file_column(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"  # DGCL-like table keyed by CODGEO: the message said 'CodeCom'
    path.write_text("CODGEO;PopDGF2019;DF2019;PF4Taxes2019\n330;1;2;3\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="column 'CODGEO': malformed commune code"):
        load_finance(path)


def test_no_dgcl_columns_asks_for_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("insee,pop,pfin\n33063,259259,357097400\n", encoding="utf-8")
    with pytest.raises(ValidationError) as exc:
        load_finance(path)
    assert "no commune code column ('CodeCom')" in str(exc.value)
    assert "give a columns= mapping" in str(exc.value)


def test_any_table_through_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text(
        "insee,nom,pop,pfin,other\n33063,Bordeaux,259259,357097400,x\n1001,Abergement,0,1000,y\n",
        encoding="utf-8",
    )
    f = load_finance(path, columns="commune=insee,commune_name=nom,population=pop,potentiel_financier=pfin")
    assert f["commune"].tolist() == ["33063", "01001"]
    assert f.loc[0, "pfin_per_inhabitant"] == pytest.approx(357_097_400 / 259_259)
    assert np.isnan(f.loc[1, "pfin_per_inhabitant"])  # no inhabitants
    assert "pf_per_inhabitant" not in f  # no potentiel fiscal in this table
    assert f["other"].tolist() == ["x", "y"]
    with pytest.raises(ValidationError, match="names no capacity column"):
        load_finance(path, columns={"commune": "insee", "population": "pop"})
    with pytest.raises(ValidationError, match="absent column\\(s\\) 'pfn'"):
        load_finance(path, columns={"commune": "insee", "potentiel_financier": "pfn"})


@settings(max_examples=200, deadline=None)
@given(pop=st.integers(min_value=0, max_value=3_000_000))
def test_size_group_bounds(pop: int) -> None:
    label = str(size_group(pd.Series([pop])).iloc[0])
    if label.endswith("+"):
        assert pop >= int(label[:-1]) == SIZE_GROUP_BOUNDS[-1]
    else:
        lo, hi = (int(v) for v in label.split("-"))
        assert lo <= pop <= hi and lo in SIZE_GROUP_BOUNDS and hi + 1 in SIZE_GROUP_BOUNDS
