"""``cohesion-geo inputs load``: summaries, harmonised outputs, privacy, clear errors."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from cohesion_geo.cli import main
from cohesion_geo.datasets import REAL_FILES


def run(capsys, *argv: str) -> tuple[int, str, str]:
    """Run the CLI; warnings are printed by it (even when the test run turns them into errors)."""
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.realdata
def test_grid_summary_and_parquet(real_data_dir: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "grid.parquet"
    code, stdout, _ = run(capsys, "inputs", "load", "grid", str(real_data_dir / REAL_FILES["bordeaux_grid"]),
                          "--out", str(out))  # fmt: skip
    assert code == 0
    assert "6,735 cells (vintage 2015), CRS EPSG:3035" in stdout
    assert "inhabitants: 725,085" in stdout
    g = gpd.read_parquet(out)
    assert len(g) == 6735 and g.crs.to_epsg() == 3035


@pytest.mark.realdata
def test_iris_income_facilities_finance(real_data_dir: Path, tmp_path: Path, capsys) -> None:
    d = real_data_dir
    code, stdout, _ = run(capsys, "inputs", "load", "iris", str(d / REAL_FILES["bordeaux_iris"]),
                          "--out", str(tmp_path / "iris.gpkg"))  # fmt: skip
    assert code == 0 and "88 IRIS in 1 communes, CRS EPSG:2154" in stdout and "types: A 3, H 85" in stdout
    assert len(gpd.read_file(tmp_path / "iris.gpkg")) == 88

    code, stdout, _ = run(capsys, "inputs", "load", "iris-income", str(d / REAL_FILES["bordeaux_iris_income"]),
                          "--out", str(tmp_path / "income.csv"))  # fmt: skip
    assert code == 0 and "107 IRIS, DISP income 2018" in stdout and "poverty rate missing 22" in stdout
    written = pd.read_csv(tmp_path / "income.csv", dtype={"iris": str})
    assert written["poverty_rate"].isna().sum() == 22

    code, stdout, err = run(capsys, "inputs", "load", "facilities", str(d / REAL_FILES["bordeaux_facilities"]),
                            "--types", "F1", "--out", str(tmp_path / "bpe.gpkg"))  # fmt: skip
    assert code == 0 and "758 facilities located (of 870 rows)" in stdout
    assert "warning:" in err and "dropped 10 rows" in err

    code, stdout, _ = run(capsys, "inputs", "load", "finance", str(d / REAL_FILES["finance"]),
                          "--out", str(tmp_path / "finance.gpkg"))  # fmt: skip
    assert code == 0 and "35,443 communes, year 2018" in stdout
    fin = gpd.read_file(tmp_path / "finance.gpkg")  # attribute-only layer
    assert len(fin) == 35_443 and "size_group" in fin.columns


@pytest.mark.realdata
def test_urban_units_from_bpe(real_data_dir: Path, tmp_path: Path, capsys) -> None:
    code, stdout, _ = run(capsys, "inputs", "load", "urban-units", "--facilities",
                          str(real_data_dir / REAL_FILES["bordeaux_facilities"]), "--out", str(tmp_path / "uu.csv"))  # fmt: skip
    assert code == 0 and "28 communes in 3 urban units" in stdout
    assert pd.read_csv(tmp_path / "uu.csv", dtype=str)["urban_unit"].value_counts()["33701"] == 26


def test_single_urban_unit_says_so(capsys) -> None:
    code, stdout, err = run(capsys, "inputs", "load", "urban-units", "--communes", "33063,33318")
    assert code == 0
    assert "2 communes in 1 urban units" in stdout and "treated as ONE urban unit" in stdout
    assert "warning:" in err


def test_reports_written_at_cell_centres(tmp_path: Path, capsys) -> None:
    src = tmp_path / "r.csv"
    src.write_text(
        "lon;lat;category;comment;date;source\n-0.5792;44.8378;logement;Fuite <b>eau</b>;2024-01-01;app\n",
        encoding="utf-8",
    )
    out = tmp_path / "reports.gpkg"
    code, stdout, _ = run(capsys, "inputs", "load", "reports", str(src), "--out", str(out))
    assert code == 0 and "1 reports, CRS EPSG:2154" in stdout and "categories: housing 1" in stdout
    assert "(reports at their 200 m cell centre)" in stdout
    written = gpd.read_file(out)
    assert written["category"].tolist() == ["housing"]
    assert written["comment"].tolist() == ["Fuite <b>eau</b>"]
    cell = written["cell_id"].iloc[0]
    x, y = written.to_crs(3035).geometry.iloc[0].coords[0]
    assert cell == f"CRS3035RES200mN{int(round(y - 100))}E{int(round(x - 100))}"
    assert round(x - 100) % 200 == 0 and round(y - 100) % 200 == 0


def test_reports_bbox_and_option_checks(tmp_path: Path, capsys) -> None:
    src = tmp_path / "r.csv"
    src.write_text("x;y;category;comment;date\n417000;6422000;emploi;;2024-01-01\n500000;6422000;emploi;;2024-01-01\n",
                   encoding="utf-8")  # fmt: skip
    code, stdout, err = run(capsys, "inputs", "load", "reports", str(src), "--crs", "2154",
                            "--bbox", "410000,6410000,430000,6430000")  # fmt: skip
    assert code == 0 and "1 reports" in stdout and "outside the bbox" in err
    code, _, err = run(capsys, "inputs", "load", "reports", str(src))
    assert code == 2 and "error:" in err and "need their CRS" in err
    code, _, err = run(capsys, "inputs", "load", "reports", str(src), "--types", "F1")
    assert code == 2 and "--types do not apply to 'reports' inputs" in err
    code, _, err = run(capsys, "inputs", "load", "reports", str(src), "--crs", "2154", "--bbox", "1,2,3")
    assert code == 2 and "expected XMIN,YMIN,XMAX,YMAX" in err


def test_missing_file_and_validation_errors_are_one_message(tmp_path: Path, capsys) -> None:
    code, _, err = run(capsys, "inputs", "load", "iris-income", str(tmp_path / "absent.csv"))
    assert code == 2 and "file not found" in err and "Traceback" not in err
    code, _, err = run(capsys, "inputs", "load", "finance")
    assert code == 2 and "give the input FILE" in err
    bad = tmp_path / "inc.csv"
    bad.write_text("IRIS;DISP_MED18\n330630101;abc\n330630101;1\n", encoding="utf-8")
    code, _, err = run(capsys, "inputs", "load", "iris-income", str(bad))
    assert code == 2 and "2 problems found" in err and "duplicate IRIS codes" in err and "'abc'" in err


def test_failed_write_leaves_no_partial_output(tmp_path: Path, capsys) -> None:
    src = tmp_path / "r.csv"
    src.write_text("lon;lat;category;comment;date\n-0.57;44.84;x;;2024-01-01\n", encoding="utf-8")
    out = tmp_path / "reports.xyz"
    code, _, err = run(capsys, "inputs", "load", "reports", str(src), "--out", str(out))
    assert code == 2 and "unknown output format" in err
    assert list(tmp_path.iterdir()) == [src]
