"""Privacy of every file the Bordeaux demo publishes (review audit).

Statistical secrecy (no count of poor households, no inhabitants or
households, for a unit of fewer than 11 households) applies to the
robustness layer and to the comparison tables as much as to ``cells.gpkg``;
resident comments are quoted in ``report.html`` only when asked.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pyogrio
import pytest

from cohesion_geo.demo import run_demo
from cohesion_geo.scenarios.compare import publishable


def test_publishable_blanks_small_units_only():
    t = pd.DataFrame({
        "change_id": ["C1", "C2", "C3"],
        "ind_gained": [2.5, 0.0, 400.0], "men_gained": [0.9, 0.0, 180.0], "men_pauv_gained": [0.3, 0.0, 40.0],
        "ind_a": [1999.5, 30.0, 800.0], "men_a": [915.0, 10.0, 300.0], "men_pauv_a": [288.0, 4.0, 90.0],
    })  # fmt: skip
    out = publishable(t)
    assert out["men_pauv_gained"].tolist()[1:] == [0.0, 40.0] and np.isnan(out.loc[0, "men_pauv_gained"])
    assert np.isnan(out.loc[0, "ind_gained"]) and np.isnan(out.loc[0, "men_gained"])
    assert out["men_pauv_a"].tolist()[0::2] == [288.0, 90.0] and np.isnan(out.loc[1, "men_pauv_a"])
    assert t.loc[0, "men_pauv_gained"] == 0.3  # input untouched


@pytest.fixture(scope="module")
def demo(real_data_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "bdx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = run_demo(out, data_dir=real_data_dir, progress=False, echo=lambda s: None)
    return res, out


def test_robustness_layer_hides_cells_under_eleven_households(demo):
    res, out = demo
    cells = pyogrio.read_dataframe(out / "robustness.gpkg", layer="cells")
    grid = pd.DataFrame(res.run.grid)[["cell_id", "men", "men_pauv"]].set_index("cell_id")
    men = cells["cell_id"].map(grid["men"])
    small = (men < 11).to_numpy()
    assert len(cells) == 364 and int(small.sum()) == 48  # Bordeaux 2015: 48 cells of some quartier are secret
    assert cells.loc[small, ["ind", "men", "men_pauv"]].isna().all().all()
    big = ~small
    np.testing.assert_allclose(cells.loc[big, "men_pauv"], cells.loc[big, "cell_id"].map(grid["men_pauv"]))


def test_change_tables_hide_gains_under_eleven_households(demo):
    _, out = demo
    ch = pd.read_csv(out / "changes_official_vs_poverty_bridged.csv").set_index("change_id")
    # C13: official -> poverty_bridged gains 2.5 inhabitants in 0.9 households (0.3 poor ones)
    assert ch.loc["C13", "status"] == "shrinking"
    assert ch.loc["C13", ["ind_gained", "men_gained", "men_pauv_gained"]].isna().all()
    assert ch.loc["C13", "men_pauv_lost"] > 0
    for suffix in ("a", "b", "gained", "lost"):
        m = ch[f"men_{suffix}"]
        assert not ((m > 0) & (m < 11)).any()
        assert ch.loc[m.isna(), f"men_pauv_{suffix}"].isna().all()


def test_report_quotes_no_comment_by_default(demo):
    _, out = demo
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "What residents report" in html  # the residents' section is there ...
    assert "<blockquote>" not in html and "rue des Lilas" not in html  # ... without quoting anyone


def test_mask_secret_blanks_the_rate_that_gives_the_population_back():
    from cohesion_geo.maps import mask_secret

    cells = pd.DataFrame({"cell_id": ["a", "b"], "ind": [8.0, 400.0], "men": [4.0, 180.0],
                          "reports_n": [1.0, 6.0], "reports_per_1000": [125.0, 15.0], "reports_housing": [np.nan, 6.0]})
    out = mask_secret(cells)
    assert np.isnan(out.loc[0, "reports_per_1000"]) and out.loc[1, "reports_per_1000"] == 15.0
    assert out["reports_n"].tolist() == [1.0, 6.0]  # the count itself stays (5-report rule for categories)


def test_cells_layer_gives_no_population_of_secret_cells_back(demo):
    _, out = demo
    cells = pyogrio.read_dataframe(out / "official" / "cells.gpkg", read_geometry=False)
    secret = cells["secret"].astype(bool) & (cells["reports_n"] > 0)
    assert int(cells["secret"].astype(bool).sum()) == 2041 and int(secret.sum()) == 78  # Bordeaux 2015
    assert cells.loc[secret, ["ind", "men", "reports_per_1000"]].isna().all().all()
    shown = ~cells["secret"].astype(bool) & (cells["reports_n"] > 0)
    np.testing.assert_allclose(cells.loc[shown, "reports_per_1000"],
                               1000 * cells.loc[shown, "reports_n"] / cells.loc[shown, "ind"])


def test_demo_inputs_follow_the_publication_rules(demo):
    res, out = demo
    cells = pyogrio.read_dataframe(out / "inputs.gpkg", layer="cells", read_geometry=False)
    secret = cells["secret"].astype(bool).to_numpy()
    assert int(secret.sum()) == 2041 and len(cells) == 6735
    assert cells.loc[secret, ["ind", "men", "men_pauv", "ind_snv", "poverty_rate", "mean_std_living"]].isna().all().all()
    assert cells.loc[secret, "cell_id"].notna().all() and cells.loc[secret, "commune"].notna().all()
    assert cells.loc[~secret, "ind"].sum() == pytest.approx(725_085 - 20_138.5, abs=1)
    by_cell = pyogrio.read_dataframe(out / "inputs.gpkg", layer="reports_by_cell")
    assert "comment" not in by_cell.columns and "date" not in by_cell.columns
    assert by_cell["reports_n"].sum() == 3000 and len(by_cell) == 1440 and by_cell["cell_id"].is_unique
    cats = [c for c in by_cell.columns if c.startswith("reports_") and c != "reports_n"]
    few = (by_cell["reports_n"] < 5).to_numpy()
    assert int(few.sum()) == 1309 and by_cell.loc[few, cats].isna().all().all()
    np.testing.assert_allclose(by_cell.loc[~few, cats].sum(axis=1), by_cell.loc[~few, "reports_n"])


def test_report_change_table_gives_no_count_for_a_tiny_gain(demo):
    from cohesion_geo.scenarios.report import build_report

    res, _ = demo
    ctx = build_report(res.run, maps=False, profiles=False)
    rows = {r["id"]: r for c in ctx["comparisons"] for r in c["rows"] if c["b"] == "poverty_bridged"}
    assert rows["C13"]["ind_gained"] == "–" and rows["C13"]["pauv_gained"] == "–"  # 0.9 household gained
    assert rows["C13"]["pauv_lost"] != "–"
    assert rows["C1"]["ind_gained"] == "153" and rows["C1"]["pauv_gained"] == "12"  # 64 households: shown


def test_one_secrecy_rule_for_maps_indicators_and_grids_without_households() -> None:
    import pandas as pd

    from cohesion_geo.indicators.aggregate import secret_flag
    from cohesion_geo.maps import secret_mask

    # Lille-like derived cells: no household count; imputed flag and inhabitants both count
    cells = pd.DataFrame({"ind": [20.0, 30.0, 300.0, None], "imputed": [False, False, True, False]})
    assert secret_mask(cells).tolist() == [True, False, True, True]
    assert secret_flag(cells).tolist() == secret_mask(cells).tolist()
    assert secret_mask(cells.drop(columns="imputed")).tolist() == [True, False, False, True]
    # a household count, when there is one, decides alone
    assert secret_mask(cells.assign(men=[12.0, 12.0, 12.0, 12.0])).tolist() == [False] * 4
