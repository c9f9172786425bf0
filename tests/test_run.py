"""Running a project end to end on the synthetic territory: outputs, atomicity, CLI, readjustment.

The readjustment here compares the synthetic 2015 grid with a **simulated**
second vintage built by :func:`cohesion_geo.scenarios.perturb_vintage`
(income perturbed with seed 7): the synthetic territory has one vintage only.
"""

from __future__ import annotations

import warnings
from markupsafe import escape as html_escape
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import rasterio

from cohesion_geo.cli import main
from cohesion_geo.loaders import load_grid
from cohesion_geo.maps import external_resources
from cohesion_geo.scenarios import compare_vintages, load_project, perturb_vintage, project_path
from cohesion_geo.scenarios import run as run_mod
from cohesion_geo.scenarios.run import load_inputs, prepare_grid, run_project, run_scenario
from cohesion_geo.synthetic import synthetic_path

SCENARIOS = ["official", "poverty_bridged", "isolation_residents"]


def _simulated_vintage_csv(folder: Path) -> Path:
    """The synthetic grid with income perturbed (seed 7), written in the canonical layout."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = load_grid(synthetic_path("grid"))
    p = perturb_vintage(g, rng=7, drift=-0.05)
    cols = [c for c in p.columns if c not in ("geometry", "mean_std_living", "poverty_rate",
                                              "cell_x", "cell_y", "cell_size")]
    path = folder / "simulated_2019.csv"
    p[cols].to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def project_file(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("project")
    grid2 = _simulated_vintage_csv(folder)
    text = project_path("synthetic").read_text(encoding="utf-8")
    text += f'\n[readjustment]\ngrid = {{ path = "{grid2.name}", vintage = 2019 }}\nscenarios = ["official"]\n'
    path = folder / "synthetic_readjust.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def run(project_file, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "synthville"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return run_project(project_file, out_dir=out, progress=False)


def test_every_output_is_written(run):
    out = run.out_dir
    for name in SCENARIOS:
        for f in ("cells.gpkg", "quartiers.gpkg", "quartiers.csv", "map.html", "rasters/quartiers.tif"):
            assert (out / name / f).is_file(), f"{name}/{f} missing"
    for f in ("report.html", "project.toml", "summary.csv", "comparison.csv", "robustness.gpkg",
              "robustness.csv", "robustness.html", "rasters/poverty_score.tif", "rasters/robustness.tif",
              "rasters/report_density.tif", "readjustment/summary.csv", "readjustment/changes_official.csv",
              "changes_official_vs_poverty_bridged.csv", "changes_official_vs_isolation_residents.csv"):
        assert (out / f).is_file(), f"{f} missing"
    # nothing left over from the temporary folder
    assert [p.name for p in out.parent.iterdir()] == ["synthville"]


def test_layers_match_the_results(run):
    out = run.out_dir
    summary = pd.read_csv(out / "summary.csv").set_index("scenario")
    for name in SCENARIOS:
        res = run.results[name]
        q = gpd.read_file(out / name / "quartiers.gpkg", layer="quartiers")
        assert len(q) == len(res.quartiers) == summary.loc[name, "quartiers"] > 0
        assert sorted(q["rank"]) == list(range(1, len(q) + 1))
        assert q["ind"].sum() == pytest.approx(summary.loc[name, "ind"])
        assert (q["ind"] >= 1000).all()
        cells = gpd.read_file(out / name / "cells.gpkg", layer="cells")
        assert len(cells) == len(run.grid)
        inq = cells["quartier_id"].notna()
        assert inq.sum() == len(res.cells)
        # statistical secrecy: no statistic for cells of fewer than 11 households
        secret = cells["secret"].astype(bool)
        pop = run.grid.set_index("cell_id")["ind"]
        assert pop.reindex(cells.loc[inq, "cell_id"]).sum() == pytest.approx(q["ind"].sum())
        assert cells.loc[inq & ~secret, "ind"].sum() == pytest.approx(
            pop.reindex(cells.loc[inq & ~secret, "cell_id"]).sum())
        assert secret.any()
        assert cells.loc[secret, ["poverty_rate", "mean_std_living", "men", "ind"]].isna().all().all()
        assert "reports_n" in cells.columns  # a count of reports per cell, never a point


def test_rasters_are_aligned_on_the_grid(run):
    g = run.grid
    with rasterio.open(run.out_dir / "rasters" / "robustness.tif") as r:
        share = r.read(1)
        assert r.res == (200.0, 200.0) and r.crs.to_epsg() == 3035
        assert r.bounds.left == g["cell_x"].min() and r.bounds.top == g["cell_y"].max() + 200
    assert np.nanmax(share) == 1.0
    assert int((share > 0).sum()) == int((run.robustness.cells["share"] > 0).sum())
    with rasterio.open(run.out_dir / "official" / "rasters" / "quartiers.tif") as r:
        ranks = r.read(1)
    assert int(np.isfinite(ranks).sum()) == len(run.results["official"].cells)


def test_robustness_and_comparisons_are_consistent(run):
    rob = run.robustness
    assert rob.scenarios == SCENARIOS
    full = rob.cells[rob.cells["n_scenarios"] == 3]
    assert full["cell_id"].isin(run.results["official"].cells["cell_id"]).all()
    assert rob.core["n_cells"].sum() == len(full)
    layers = set(pyogrio.list_layers(run.out_dir / "robustness.gpkg")[:, 0])
    assert layers == {"cells", "core"}
    assert [(c.a, c.b) for c in run.comparisons] == [("official", "poverty_bridged"),
                                                     ("official", "isolation_residents")]
    for c in run.comparisons:
        a, b = run.results[c.a], run.results[c.b]
        assert c.summary["cells_a"] == len(a.cells) and c.summary["cells_b"] == len(b.cells)


def test_thematic_scenario_blends_themes_into_the_score(run):
    q = run.results["isolation_residents"].quartiers
    contrib = [c for c in q.columns if c.startswith("contrib_")]
    assert "contrib_theme_isolation_of_the_elderly" in contrib
    assert np.allclose(q[contrib].fillna(0).sum(axis=1), q["score"])
    assert q["score"].is_monotonic_decreasing and q["rank"].tolist() == list(range(1, len(q) + 1))
    assert q["theme_youth"].notna().all()
    assert "contrib_theme_youth" not in q.columns  # youth is shown, not scored (weight 0)
    # each quartier counts the reports of its own cells, no more, no less
    res, g = run.results["isolation_residents"], run.grid
    per_cell = res.cells["cell_id"].astype(str).map(g.set_index(g["cell_id"].astype(str))["reports_n"])
    expected = per_cell.groupby(res.cells["quartier_id"].astype(str).to_numpy()).sum()
    got = q.set_index(q["quartier_id"].astype(str))["reports_n"]
    assert expected.sum() > 0 and got.sort_index().tolist() == expected.sort_index().tolist()


def test_readjustment_against_a_simulated_vintage(run):
    (cmp,) = run.readjustment
    assert (cmp.a, cmp.b) == ("2015", "2019")  # the simulated grid was read back from a file
    assert cmp.summary["scenario"] == "official"
    assert cmp.summary["cells_a"] == len(run.results["official"].cells)
    assert len(cmp.changes) > 0
    text = (run.out_dir / "report.html").read_text(encoding="utf-8")
    assert "Readjustment: a newer vintage of the data" in text and "official: 2015 → 2019" in text


def test_report_is_self_contained(run):
    html = (run.out_dir / "report.html").read_text(encoding="utf-8")
    assert external_resources(html) == []
    assert "<script" not in html.lower()
    assert html.count('src="data:image/png;base64,') >= 4 + sum(len(r.quartiers) for r in run.results.values())
    for name in SCENARIOS:
        assert str(html_escape(run.results[name].scenario.title)) in html
    assert "SYNTHETIC" in html or "synthetic" in html


def test_identical_vintage_changes_nothing():
    project = load_project(project_path("synthetic"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        inputs = load_inputs(project)
        same = perturb_vintage(inputs.grid, rng=0, scale=0.0, vintage=2015)
        cmp = compare_vintages(project, inputs.grid, same, scenario="poverty_bridged", inputs=inputs)
    assert set(cmp.changes["status"]) == {"unchanged"}
    assert cmp.summary["jaccard"] == 1.0
    assert cmp.a == "2015" and cmp.b == "2015 (simulated)"


def test_failing_run_leaves_no_output(tmp_path, monkeypatch):
    out = tmp_path / "out"

    def boom(*args, **kwargs):
        raise RuntimeError("injected failure while writing the report")

    monkeypatch.setattr("cohesion_geo.scenarios.report.write_report", boom)
    with warnings.catch_warnings(), pytest.raises(RuntimeError, match="injected"):
        warnings.simplefilter("ignore")
        run_project(project_path("synthetic"), out_dir=out, progress=False, scenarios=["official"])
    assert list(tmp_path.iterdir()) == []  # no output folder, no temporary folder


def test_failing_rerun_keeps_the_previous_output(tmp_path, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    (out / "report.html").write_text("previous run")

    def boom(*args, **kwargs):
        raise RuntimeError("injected failure in a scenario")

    monkeypatch.setattr(run_mod, "write_scenario", boom)
    with warnings.catch_warnings(), pytest.raises(RuntimeError):
        warnings.simplefilter("ignore")
        run_project(project_path("synthetic"), out_dir=out, progress=False, scenarios=["official"])
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
    assert (out / "report.html").read_text() == "previous run"


def test_scenario_steps_are_reusable_in_notebooks():
    project = load_project(project_path("synthetic"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        inputs = load_inputs(project)
        grid = prepare_grid(inputs.grid, inputs, project=project)
        res = run_scenario(project.scenario("poverty_bridged"), grid, inputs)
    assert len(inputs.grid) == len(grid) == 3840
    assert {"poverty_score", "isolation_score", "reports_n", "urban_unit"}.issubset(grid.columns)
    assert res.cells["quartier_id"].isin(res.quartiers["quartier_id"]).all()
    assert set(res.cells["reason"]) <= {"flagged", "grown", "bridged", "filled", "enclave"}


def test_cli_run_and_compare(tmp_path, capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code = main(["run", str(project_path("synthetic")), "--out", str(tmp_path / "r"), "--quiet",
                     "--no-report", "--scenario", "official", "--scenario", "poverty_bridged"])
    assert code == 0
    assert sorted(p.name for p in (tmp_path / "r").iterdir() if p.is_dir()) == [
        "official", "poverty_bridged", "rasters"]
    assert not (tmp_path / "r" / "report.html").exists()
    assert "official:" in capsys.readouterr().out
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code = main(["compare", str(project_path("synthetic")), "official", "isolation_residents",
                     "--out", str(tmp_path / "c"), "--quiet"])
    assert code == 0
    files = {p.name for p in (tmp_path / "c").iterdir()}
    assert files == {"dual.html", "changes.csv", "pairs.csv", "cells.csv", "summary.csv", "robustness.gpkg",
                     "kept_by_every_scenario.csv", "robustness.html"}
    dual = (tmp_path / "c" / "dual.html").read_text(encoding="utf-8")
    assert external_resources(dual) == []
    changes = pd.read_csv(tmp_path / "c" / "changes.csv")
    assert set(changes["status"]) <= {"entering", "leaving", "unchanged", "growing", "shrinking",
                                      "reshaped", "merged", "split", "regrouped"}
    assert "official -> isolation_residents" in capsys.readouterr().out


def test_cli_compare_two_vintages(project_file, tmp_path, capsys):
    after = project_file.parent / "simulated_2019.csv"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code = main(["compare", str(project_file), "official", "--grid-after", str(after), "--vintage", "2019",
                     "--out", str(tmp_path / "v"), "--quiet"])
    assert code == 0
    assert {p.name for p in (tmp_path / "v").iterdir()} == {"dual.html", "changes.csv", "pairs.csv", "cells.csv",
                                                           "summary.csv"}
    summary = pd.read_csv(tmp_path / "v" / "summary.csv")
    assert (str(summary.at[0, "a"]), str(summary.at[0, "b"])) == ("2015", "2019")
    assert capsys.readouterr().out.startswith("2015 -> 2019: ")


def test_cli_reports_every_project_problem(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('[project]\nname = "x"\n[inputs]\ngrid = "nope.csv"\n[[scenario]]\nnme = "a"\n')
    assert main(["run", str(bad), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "line 4: inputs.grid: file not found" in err
    assert "line 6: scenario[1].nme: unknown key in [[scenario]] (did you mean 'name'?)" in err
    assert "line 5: scenario[1]: missing required key 'name'" in err
    assert not (tmp_path / "o").exists()
    assert main(["compare", str(project_path("synthetic")), "official"]) == 2
    assert "give either a second scenario B or --grid-after" in capsys.readouterr().err


@pytest.mark.realdata
def test_bordeaux_project_runs_on_the_real_grid(real_data_dir, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run = run_project(project_path("bordeaux"), out_dir=tmp_path / "bdx", progress=False,
                          data_dir=real_data_dir, report=False)
    assert run.grid["ind"].sum() == pytest.approx(725_085)  # INSEE Filosofi 2015, Bordeaux Métropole
    summary = run.summary().set_index("scenario")
    assert list(summary.index) == ["official", "poverty_bridged", "isolation_residents"]
    # three contrasting but comparable perimeters: each holds 3-20 % of the inhabitants
    assert summary["share_of_population"].between(0.03, 0.20).all()
    for res in run.results.values():
        assert (res.quartiers["ind"] >= 1000).all()
        assert res.quartiers["pfin_ratio"].notna().all()  # every quartier gets its commune's finances
        assert res.quartiers["reports_n"].sum() > 0       # synthetic reports on the real grid
    assert len(run.robustness.core) > 0
    for c in run.comparisons:
        s = c.summary
        assert s["ind_b"] - s["ind_a"] == pytest.approx(s["ind_gained"] - s["ind_lost"])
        assert 0 < s["jaccard"] < 1
    assert (tmp_path / "bdx" / "isolation_residents" / "map.html").is_file()
