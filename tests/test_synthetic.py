"""The SYNTHETIC data generators: layouts, invariants, determinism, realism."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import ndimage

from cohesion_geo.cellid import parse_cell_ids
from cohesion_geo.datasets import REAL_FILES
from cohesion_geo.synthetic import (
    BPE_2020_COLUMNS,
    CATEGORIES,
    DGCL_FINANCE_COLUMNS,
    FILES,
    FILOSOFI_2015_COLUMNS,
    FILOSOFI_IRIS_2018_COLUMNS,
    ODD_LABELS,
    REPORT_COLUMNS,
    make_grid,
    make_reports,
    make_territory,
    synthetic_dir,
    synthetic_path,
    write_territory,
)
from cohesion_geo.synthetic._layouts import AGE_COLUMNS, DWELLING_AGE_COLUMNS

SMALL = {"n_cols": 50, "n_rows": 40, "n_reports": 200}


@pytest.fixture(scope="module")
def territory():
    return make_territory(seed=0)


def _header(path: Path, sep: str, encoding: str = "utf-8") -> list[str]:
    with open(path, encoding=encoding, newline="") as f:
        return [c.strip().strip('"') for c in f.readline().rstrip("\r\n").split(sep)]


def _ratios(grid: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    pov = (grid["Men_pauv"] / grid["Men"]).to_numpy()
    return pov, grid["Ind"].to_numpy()


def _candidates(grid: pd.DataFrame, threshold: float) -> list[float]:
    """Populations of 8-connected groups of cells under ``threshold``, >= 1,000 inhabitants."""
    p = parse_cell_ids(grid["Idcar_200m"])
    gx = ((p["cell_x"] - p["cell_x"].min()) // 200).to_numpy()
    gy = ((p["cell_y"] - p["cell_y"].min()) // 200).to_numpy()
    low = np.zeros((gy.max() + 1, gx.max() + 1), bool)
    people = np.zeros(low.shape)
    low[gy, gx] = (grid["Ind_snv"] / grid["Ind"]).to_numpy() < threshold
    people[gy, gx] = grid["Ind"].to_numpy()
    lab, n = ndimage.label(low, structure=np.ones((3, 3)))
    pops = ndimage.sum(people, lab, range(1, n + 1))
    return sorted((float(v) for v in pops if v >= 1_000), reverse=True)


def check_grid_invariants(g: pd.DataFrame) -> None:
    assert list(g.columns) == list(FILOSOFI_2015_COLUMNS)
    assert g["Idcar_200m"].is_unique
    assert (g["Idcar_200m"] == g["IdINSPIRE"]).all()
    assert g["Idcar_200m"].str.fullmatch(r"CRS3035RES200mN\d{7}E\d{7}").all()
    assert g["Idcar_200m"].is_monotonic_increasing
    p = parse_cell_ids(g["Idcar_200m"])
    km = parse_cell_ids(g["Id_carr1km"])
    assert (km["cell_size"] == 1000).all()
    assert ((p["cell_x"] // 1000) * 1000 == km["cell_x"]).all()
    assert (g["Men_pauv"] <= g["Men"]).all()
    assert (g["Men_1ind"] + g["Men_5ind"] <= g["Men"] + 1e-9).all()
    for col in ("Men_prop", "Men_fmp", "Log_soc"):
        assert (g[col] <= g["Men"]).all(), col
    assert (g["Ind"] >= g["Men"]).all()
    assert np.allclose(g[list(AGE_COLUMNS)].sum(axis=1), g["Ind"], rtol=0, atol=1e-9)
    assert np.allclose(g[list(DWELLING_AGE_COLUMNS)].sum(axis=1), g["Men"], rtol=0, atol=1e-9)
    assert np.allclose(g["Men_coll"] + g["Men_mais"], g["Men"], rtol=0, atol=1e-9)
    assert (g.select_dtypes("number") >= 0).all().all()
    imputed = g["I_est_cr"] == 1
    assert (imputed == (g["Men"] < 11)).all()
    # measured cells: whole households; imputed cells: fractional values exist
    assert (g.loc[~imputed, "Men"] % 1 == 0).all()
    assert (g.loc[imputed, "Men"] % 1 != 0).mean() > 0.5
    assert (g["Ind"] > 0).all()  # every cell has a standard of living
    living = g["Ind_snv"] / g["Ind"]
    assert living.min() >= 10_990 and living.max() <= 40_010


# ---------------------------------------------------------------- grid layout


def test_grid_layout_constant_is_the_insee_2015_header():
    assert FILOSOFI_2015_COLUMNS[:4] == ("Idcar_200m", "IdINSPIRE", "Id_carr1km", "I_est_cr")
    assert len(FILOSOFI_2015_COLUMNS) == 38 and FILOSOFI_2015_COLUMNS[-1] == "I_est_1km"


@pytest.mark.realdata
def test_layouts_equal_real_headers(real_data_dir: Path):
    assert _header(real_data_dir / REAL_FILES["bordeaux_grid"], ",") == list(FILOSOFI_2015_COLUMNS)
    assert _header(real_data_dir / REAL_FILES["bordeaux_facilities"], ";") == list(BPE_2020_COLUMNS)
    assert _header(real_data_dir / REAL_FILES["bordeaux_iris_income"], ";") == list(FILOSOFI_IRIS_2018_COLUMNS)
    assert _header(real_data_dir / REAL_FILES["finance"], ";", "latin-1") == list(DGCL_FINANCE_COLUMNS)


def test_shipped_files_have_the_real_layouts():
    assert _header(synthetic_path("grid"), ",") == list(FILOSOFI_2015_COLUMNS)
    assert _header(synthetic_path("bpe"), ";") == list(BPE_2020_COLUMNS)
    assert _header(synthetic_path("iris_income"), ";") == list(FILOSOFI_IRIS_2018_COLUMNS)
    assert _header(synthetic_path("finance"), ";", "latin-1") == list(DGCL_FINANCE_COLUMNS)
    assert _header(synthetic_path("reports"), ",") == list(REPORT_COLUMNS)
    raw = synthetic_path("finance").read_bytes()
    assert raw.count(b"\r\n") == 8 and b"DONN\xc9ES" in raw  # Latin-1, CRLF
    text = synthetic_path("bpe").read_text(encoding="utf-8")
    assert ";NA;" in text and "Non géolocalisé" in text


# ---------------------------------------------------------------- territory


def test_same_seed_same_territory_different_seed_differs():
    a, b, c = make_territory(seed=3, **SMALL), make_territory(seed=3, **SMALL), make_territory(seed=4, **SMALL)
    for name in ("grid", "iris_income", "bpe", "finance", "urban_units", "reports"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))
    assert a.iris.geometry.equals(b.iris.geometry)
    assert not a.grid["Ind"].equals(c.grid["Ind"])
    assert not a.reports["lon"].equals(c.reports["lon"])


def test_territory_grid_invariants(territory):
    g = territory.grid
    check_grid_invariants(g)
    assert 3_000 <= len(g) <= 5_000
    assert 0.4 < g["I_est_cr"].mean() < 0.8
    assert set(g["Depcom"]) == {f"0010{k}" for k in range(1, 8)}
    # a few % of cells were not inhabited in 2010
    assert 0 < g["Id_car2010"].isna().mean() < 0.1
    # spatial autocorrelation of income: neighbours resemble each other
    p = parse_cell_ids(g["Idcar_200m"])
    key = dict(zip(zip(p["cell_x"], p["cell_y"]), range(len(g))))
    living = (g["Ind_snv"] / g["Ind"]).to_numpy()
    pairs = [(i, key[(x + 200, y)]) for i, (x, y) in enumerate(zip(p["cell_x"], p["cell_y"])) if (x + 200, y) in key]
    i, j = np.array(pairs).T
    assert np.corrcoef(living[i], living[j])[0, 1] > 0.5


def test_territory_has_qpv_like_candidates(territory):
    g = territory.grid
    living = (g["Ind_snv"] / g["Ind"]).to_numpy()
    order = np.argsort(living)
    w = g["Ind"].to_numpy()[order]
    median = living[order][np.searchsorted(np.cumsum(w), w.sum() / 2)]
    s = np.ceil(0.6 * (0.7 * 20_300 + 0.3 * median) / 100) * 100
    for threshold in (s, s + 1_500):
        found = _candidates(g, threshold)
        assert 3 <= len(found) <= 8, (threshold, found)
    estates = {e["name"]: e for e in territory.meta["estates"]}
    assert estates["Résidence des Lilas"]["ind"] < 1_000  # too small to qualify
    assert estates["Les Tours du Nord"]["ind"] > 2_000
    est = g["Idcar_200m"].isin(estates["Les Tours du Nord"]["cell_ids"])
    assert (g.loc[est, "Log_soc"] / g.loc[est, "Men"]).mean() > 0.5


def test_iris_tile_the_communes_and_income_joins(territory):
    iris, inc = territory.iris, territory.iris_income
    assert iris.crs.to_epsg() == 2154
    assert list(iris.columns[:6]) == ["INSEE_COM", "NOM_COM", "IRIS", "CODE_IRIS", "NOM_IRIS", "TYP_IRIS"]
    assert iris["CODE_IRIS"].is_unique and iris["CODE_IRIS"].str.len().eq(9).all()
    assert (iris["CODE_IRIS"] == iris["INSEE_COM"] + iris["IRIS"]).all()
    assert iris.is_valid.all() and iris["NOM_IRIS"].notna().all()
    assert set(iris["TYP_IRIS"]) == {"H", "A", "D", "Z"}
    # tiling: no overlap, and the union equals the communes
    assert iris.union_all().area == pytest.approx(iris.area.sum(), rel=1e-6)
    assert iris.area.sum() == pytest.approx(territory.communes.area.sum(), rel=1e-6)
    assert set(inc["IRIS"]) <= set(iris["CODE_IRIS"])
    values = inc.drop(columns=["IRIS", "DISP_NOTE18"])
    assert (values == "s").any(axis=1).sum() >= 2
    assert (values == "nd").any(axis=1).sum() >= 1
    numeric = pd.to_numeric(inc["DISP_MED18"], errors="coerce").dropna()
    assert 9_000 < numeric.min() < 14_000 and numeric.max() < 45_000


def test_bpe_finance_urban_units(territory):
    bpe, fin, uu = territory.bpe, territory.bpe, territory.urban_units
    bpe = territory.bpe
    assert list(bpe.columns) == list(BPE_2020_COLUMNS)
    groups = set(bpe["TYPEQU"].str[:2])
    assert {"C1", "D2", "B1", "F1", "A2"} <= groups
    assert bpe["DEPCOM"].isin(territory.grid["Depcom"]).all()
    located = bpe["LAMBERT_X"].notna()
    assert 0.9 < located.mean() < 1.0
    assert ((bpe["QUALITE_XY"] == "Non géolocalisé") == ~located).all()
    fin = territory.finance
    assert list(fin.columns) == list(DGCL_FINANCE_COLUMNS)
    assert fin["CodeCom"].tolist() == [f"0010{k}" for k in range(1, 8)]
    pf = fin["PF4Taxes2018"] / fin["PopDGF2018"]
    assert pf.between(300, 2_500).all() and pf.max() / pf.min() > 1.5
    assert set(uu["UU2020"]) == {"99901", "99902", "00000"}


# ---------------------------------------------------------------- reports


def _report_checks(reports: pd.DataFrame, grid: pd.DataFrame, start: str, end: str) -> None:
    assert list(reports.columns) == list(REPORT_COLUMNS)
    assert set(reports["category"]) <= set(CATEGORIES) | set(ODD_LABELS)
    assert set(CATEGORIES) <= set(reports["category"])
    assert reports["category"].isin(ODD_LABELS).sum() > 0
    assert reports["date"].min() >= start and reports["date"].max() <= end
    assert pd.to_datetime(reports["date"]).dt.year.nunique() >= 2
    assert reports["comment"].str.len().gt(10).all() and reports["comment"].nunique() > 50
    cell = reports.attrs["cell_index"]
    counts = np.bincount(cell, minlength=len(grid))
    pov, ind = _ratios(grid)
    ok = grid["Men"].to_numpy() > 0
    lo, hi = np.quantile(pov[ok], [0.1, 0.9])
    poor, rich = ok & (pov >= hi), ok & (pov <= lo)
    rate_poor = counts[poor].sum() / ind[poor].sum()
    rate_rich = counts[rich].sum() / ind[rich].sum()
    assert rate_poor >= 2 * rate_rich, (rate_poor, rate_rich)
    # ...but not a copy of the poverty map: some of the busiest cells are not poor
    top = np.argsort(-counts, kind="stable")[: max(10, len(grid) // 100)]
    assert (pov[top] < np.median(pov[ok])).sum() >= 2
    # and a poor blind spot reports less than poor cells in general
    p = parse_cell_ids(grid["Idcar_200m"])
    b = reports.attrs["blind_spots"][0]
    inside = np.hypot(p["cell_x"] + 100 - b["x"], p["cell_y"] + 100 - b["y"]).to_numpy() <= b["radius"]
    assert counts[inside].sum() / ind[inside].sum() < 0.5 * rate_poor


def test_reports_on_territory(territory):
    _report_checks(territory.reports, territory.grid, "2022-01-01", "2023-12-31")
    kinds = {h["kind"] for h in territory.reports.attrs["hotspots"]}
    assert kinds == {"transport", "park", "nightlife"}
    lon, lat = territory.reports["lon"], territory.reports["lat"]
    assert lon.between(2.0, 2.6).all() and lat.between(46.2, 46.7).all()


def test_reports_seeded_and_dates_configurable(territory):
    a = make_reports(territory.grid, n=300, seed=5, start="2021-03-01", end="2021-08-31")
    b = make_reports(territory.grid, n=300, seed=5, start="2021-03-01", end="2021-08-31")
    c = make_reports(territory.grid, n=300, seed=6, start="2021-03-01", end="2021-08-31")
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)
    assert a["date"].min() >= "2021-03-01" and a["date"].max() <= "2021-08-31"


@pytest.mark.realdata
def test_reports_on_real_bordeaux_grid(real_data_dir: Path):
    grid = pd.read_csv(real_data_dir / REAL_FILES["bordeaux_grid"], dtype={"Depcom": str})
    reports = make_reports(grid, n=3_000, seed=0)
    assert len(reports) == 3_000
    _report_checks(reports, grid, "2022-01-01", "2023-12-31")
    assert reports["lon"].between(-0.9, -0.3).all() and reports["lat"].between(44.6, 45.2).all()
    shipped = pd.read_csv(synthetic_path("bordeaux_reports"))
    assert len(shipped) == 3_000 and list(shipped.columns) == list(REPORT_COLUMNS)


@pytest.mark.realdata
def test_reports_accept_the_canonical_grid(bordeaux_grid):
    reports = make_reports(bordeaux_grid, n=500, seed=1)
    assert len(reports) == 500 and reports["lat"].between(44.6, 45.2).all()


# ---------------------------------------------------------------- national grid


def test_make_grid_exact_size_and_invariants():
    g = make_grid(n_cells=20_000, seed=7)
    assert len(g) == 20_000
    check_grid_invariants(g)
    assert g["Depcom"].str.fullmatch(r"00\d{3}").all()
    assert 0.5 < g["I_est_cr"].mean() < 0.95
    pd.testing.assert_frame_equal(g, make_grid(n_cells=20_000, seed=7))


# ---------------------------------------------------------------- files


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_write_territory_is_byte_reproducible(tmp_path: Path):
    t = make_territory(seed=1, **SMALL)
    write_territory(tmp_path / "a", territory=t)
    write_territory(tmp_path / "b", territory=t)
    a, b = _digest(tmp_path / "a"), _digest(tmp_path / "b")
    assert a == b and set(a) == set(FILES.values())
    assert not any(p.name.startswith(".") for p in (tmp_path / "a").iterdir())  # no temp left


def test_shipped_files_match_the_generator(territory):
    d = synthetic_dir()
    assert {p.name for p in d.iterdir()} >= set(FILES.values()) | {"synthetic_reports_bordeaux.csv"}
    assert sum(p.stat().st_size for p in d.iterdir()) < 5_000_000
    shipped = pd.read_csv(synthetic_path("grid"), dtype={"Depcom": str})
    assert shipped["Idcar_200m"].tolist() == territory.grid["Idcar_200m"].tolist()
    assert shipped["Depcom"].tolist() == territory.grid["Depcom"].tolist()
    assert shipped["Ind"].sum() == pytest.approx(territory.grid["Ind"].sum(), rel=1e-6)
    reports = pd.read_csv(synthetic_path("reports"))
    assert len(reports) == len(territory.reports)
    assert "SYNTHETIC" in synthetic_path("readme").read_text(encoding="utf-8")
