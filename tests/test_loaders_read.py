"""The shared reading layer: pyarrow fast path parity, encodings, title lines."""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
import pytest

from cohesion_geo.datasets import REAL_FILES
from cohesion_geo.errors import InputFormatError
from cohesion_geo.loaders import _read
from cohesion_geo.loaders import load_facilities, load_finance, load_grid, load_iris_income
from cohesion_geo.loaders._read import read_table


@pytest.mark.realdata
@pytest.mark.parametrize(
    ("loader", "key"),
    [
        (load_grid, "bordeaux_grid"),
        (load_facilities, "bordeaux_facilities"),
        (load_finance, "finance"),
        (load_iris_income, "bordeaux_iris_income"),
    ],
)
def test_arrow_fast_path_gives_the_same_frames(loader, key, real_data_dir: Path, monkeypatch) -> None:
    """Large CSVs go through pyarrow; forcing it on the real files changes nothing."""
    path = real_data_dir / REAL_FILES[key]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        slow = loader(path)
        monkeypatch.setattr(_read, "ARROW_MIN_BYTES", 0)
        fast = loader(path)
    pd.testing.assert_frame_equal(pd.DataFrame(fast), pd.DataFrame(slow))


def test_arrow_path_keeps_codes_text_and_dates_untyped(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(_read, "ARROW_MIN_BYTES", 0)
    path = tmp_path / "t.csv"
    path.write_text("code;when;n;x\n01001;2024-01-01;NA;1,5\n2A004;2024-01-02 10:00;3;2\n", encoding="utf-8")
    frame = read_table(path, string_columns=["CODE"])
    assert frame["code"].tolist() == ["01001", "2A004"] and frame["code"].dtype == "string"
    assert frame["when"].tolist() == ["2024-01-01", "2024-01-02 10:00"]  # text, as with pandas
    assert frame["n"].isna().tolist() == [True, False]
    assert frame["x"].tolist() == ["1,5", "2"]  # decimal commas left to the loaders


def test_arrow_falls_back_on_inconsistent_columns(tmp_path: Path, monkeypatch) -> None:
    """A column numeric in the first block but text later is read by pandas instead."""
    monkeypatch.setattr(_read, "ARROW_MIN_BYTES", 0)
    lines = ["a;b"] + [f"{i};{i}" for i in range(300_000)] + ["x;1"]
    path = tmp_path / "mixed.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    frame = read_table(path)
    assert len(frame) == 300_001 and frame["a"].iloc[-1] == "x"


def test_title_lines_skipped(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("Titre\nSource : Insee\nCODGEO;UU2020\n33063;33701\n", encoding="utf-8")
    frame = read_table(path, skiprows=2, string_columns=["CODGEO"])
    assert list(frame.columns) == ["CODGEO", "UU2020"] and frame["CODGEO"].tolist() == ["33063"]
    with pytest.raises(InputFormatError, match="no header line after skipping 9 lines"):
        read_table(path, skiprows=9)
