"""Project files: schema, placeholders, and validation that lists every problem with its line."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from cohesion_geo.errors import ConfigError
from cohesion_geo.scenarios import load_project, parse_project, project_path
from cohesion_geo.scenarios._tomlpos import key_lines
from cohesion_geo.synthetic import synthetic_dir


def _write(tmp_path: Path, text: str, name: str = "p.toml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


GOOD = """
[project]
name = "demo"

[inputs]
grid = "${synthetic_dir}/synthetic_filosofi2015_200m.csv"

[[scenario]]
name = "official"
rule = "default"
"""


def test_minimal_project_resolves_placeholder_and_defaults(tmp_path):
    p = load_project(_write(tmp_path, GOOD))
    assert p.name == "demo"
    assert p.inputs.grid.path == synthetic_dir() / "synthetic_filosofi2015_200m.csv"
    assert p.scenario_names == ["official"]
    sc = p.scenario("official")
    assert sc.title == "official"  # title defaults to the name
    assert sc.delineate_options() == {"rule": "default"}
    assert p.inputs.iris is None and p.readjustment is None


def test_relative_paths_start_at_the_project_file(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "cells.csv").write_text("x\n")
    p = load_project(_write(tmp_path, GOOD.replace("${synthetic_dir}/synthetic_filosofi2015_200m.csv",
                                                   "sub/cells.csv")))
    assert p.inputs.grid.path == tmp_path / "sub" / "cells.csv"


def test_data_dir_placeholder_uses_argument_then_project_key(tmp_path):
    data = tmp_path / "data"
    (data / "x").mkdir(parents=True)
    (data / "x" / "grid.csv").write_text("a\n")
    text = GOOD.replace("${synthetic_dir}/synthetic_filosofi2015_200m.csv", "${data_dir}/x/grid.csv")
    p = load_project(_write(tmp_path, text), data_dir=data)
    assert p.inputs.grid.path == data.resolve() / "x" / "grid.csv"
    text2 = text.replace('name = "demo"', 'name = "demo"\ndata_dir = "data"')
    p2 = load_project(_write(tmp_path, text2, "q.toml"))
    assert p2.inputs.grid.path == data.resolve() / "x" / "grid.csv"


def test_every_problem_listed_once_with_its_line(tmp_path):
    bad = """
    [project]
    nmae = "typo in the key"
    description = 3

    [inputs]
    grid = { path = "missing.csv", vintage = "2015", layr = "grid" }
    iris = "${data_dri}/iris.gpkg"
    reports = "nowhere.csv"

    [[scenario]]
    name = "a"
    rul = "default"
    [scenario.grouping]
    bridge = "one"
    contiguity = "qeen"
    [scenario.themes]
    youth = ["childrens_share"]

    [[scenario]]
    name = "a"
    rule = "povrety_rate"
    [scenario.score]
    povrety = 1.0
    """
    path = _write(tmp_path, bad)
    with pytest.raises(ConfigError) as exc:
        load_project(path)
    problems = exc.value.problems
    text = str(exc.value)
    assert str(path) in text
    expected = [
        ("line 2:", "project.nmae", "did you mean 'name'?"),
        ("line 1:", "project", "missing required key 'name'"),
        ("line 3:", "project.description", "expected a string, got an integer"),
        ("line 6:", "inputs.grid.layr", "did you mean 'layer'?"),
        ("line 6:", "inputs.grid.vintage", "expected an integer, got a string"),
        ("line 6:", "inputs.grid.path", "file not found"),
        ("line 7:", "inputs.iris", "unknown placeholder ${data_dri} (did you mean 'data_dir'?)"),
        ("line 8:", "inputs.reports", "file not found"),
        ("line 12:", "scenario[1].rul", "did you mean 'rule'?"),
        ("line 14:", "scenario[1].grouping.bridge", "expected an integer"),
        ("line 15:", "scenario[1].grouping.contiguity", "did you mean 'queen'?"),
        ("line 17:", "scenario[1].themes.youth", "unknown indicator (did you mean 'children_share'?)"),
        ("line 21:", "scenario[2].rule", "unknown rule 'povrety_rate' (did you mean 'poverty_rate'?)"),
        ("line 20:", "scenario[2].name", "duplicate scenario name 'a' (first in scenario 1)"),
        ("line 23:", "scenario[2].score.povrety", "did you mean 'poverty'?"),
    ]
    for line, where, what in expected:
        hits = [p for p in problems if p.startswith(f"{line} {where}") and what in p]
        assert len(hits) == 1, f"expected one problem '{line} {where}: ...{what}...' in:\n{text}"
    assert len(problems) == len(expected)
    # sorted by line, so the user reads the file top to bottom
    lines = [int(p.split(":")[0].split()[1]) for p in problems]
    assert lines == sorted(lines)


def test_toml_syntax_error_names_the_line(tmp_path):
    path = _write(tmp_path, '[project]\nname = "x"\n[inputs\ngrid = "a"\n')
    with pytest.raises(ConfigError, match=r"not valid TOML: .*line 3"):
        load_project(path)


def test_missing_sections_and_scenarios(tmp_path):
    with pytest.raises(ConfigError) as exc:
        parse_project('title = "x"\n', check_files=False)
    msgs = exc.value.problems
    assert any("unknown key in the project file" in m and "title" in m for m in msgs)
    assert any("missing [project] table" in m for m in msgs)
    assert any("missing [inputs] table" in m for m in msgs)
    assert any("no [[scenario]] block" in m for m in msgs)


def test_theme_and_weights_forms(tmp_path):
    text = GOOD + textwrap.dedent("""
    [scenario.indicators]
    poverty = { poverty_rate = 0.6, mean_std_living = -0.4 }
    [scenario.score]
    poverty = 0.5
    reports = 0.5
    [scenario.themes]
    youth = ["children_share", "single_parent_share"]
    "isolation of the elderly" = { indicators = { elderly_share = 2, one_person_share = 1 }, weight = 0.25 }
    """)
    p = load_project(_write(tmp_path, text))
    sc = p.scenario("official")
    assert sc.indicators == {"poverty": {"poverty_rate": 0.6, "mean_std_living": -0.4}}
    assert sc.score == {"poverty": 0.5, "reports": 0.5}
    youth, elderly = sc.themes
    assert (youth.name, youth.indicators, youth.weight, youth.column) == (
        "youth", {"children_share": 1.0, "single_parent_share": 1.0}, 0.0, "theme_youth")
    assert (elderly.indicators, elderly.weight, elderly.column) == (
        {"elderly_share": 2.0, "one_person_share": 1.0}, 0.25, "theme_isolation_of_the_elderly")


def test_theme_weights_must_leave_room_for_the_score(tmp_path):
    text = GOOD + textwrap.dedent("""
    [scenario.themes]
    a = { indicators = ["elderly_share"], weight = 0.6 }
    b = { indicators = ["children_share"], weight = 0.5 }
    """)
    with pytest.raises(ConfigError, match="theme weights sum to 1.1"):
        load_project(_write(tmp_path, text))


def test_unknown_scenario_suggests_the_closest(tmp_path):
    p = load_project(_write(tmp_path, GOOD))
    with pytest.raises(ConfigError, match=r"no scenario named 'oficial' \(did you mean 'official'\?\)"):
        p.scenario("oficial")


def test_key_lines_scanner_handles_arrays_inline_tables_and_multiline_strings():
    text = textwrap.dedent('''
    [project]
    description = """
    fake = "not a key"
    """
    [[scenario]]
    name = "a"
    [[scenario]]
    name = "b"
    themes = { youth = ["x"], "old age" = { weight = 1 } }
    ''').lstrip("\n")
    lines = key_lines(text)
    assert ("project", "fake") not in lines
    assert lines[("scenario", 0, "name")] == 6
    assert lines[("scenario", 1, "name")] == 8
    assert lines[("scenario", 1, "themes", "old age", "weight")] == 9


def test_shipped_synthetic_project_is_valid():
    p = load_project(project_path("synthetic"))
    assert p.scenario_names == ["official", "poverty_bridged", "isolation_residents"]
    assert all(v is not None for v in (p.inputs.iris, p.inputs.reports, p.inputs.finance, p.inputs.urban_units))
    thematic = p.scenario("isolation_residents")
    assert thematic.rule == "composite" and thematic.score["reports"] == 0.4
    assert {t.name for t in thematic.themes} == {"isolation of the elderly", "youth"}


@pytest.mark.realdata
def test_shipped_bordeaux_project_points_at_the_real_files(real_data_dir):
    p = load_project(project_path("bordeaux"), data_dir=real_data_dir)
    assert p.inputs.grid.path == real_data_dir / "bordeaux" / "filosofi2015_200m_bordeaux_metropole.csv"
    assert p.inputs.grid.vintage == 2015
    assert len(p.scenarios) >= 3
    assert {s.rule for s in p.scenarios} == {"default", "poverty_rate", "composite"}
    # reports are the synthetic ones shipped with the package, never copied real data
    assert p.inputs.reports.path.parent == synthetic_dir()


def test_bordeaux_project_without_data_dir_says_how_to_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("COHESION_GEO_DATA", str(tmp_path / "nowhere"))
    with pytest.raises(ConfigError) as exc:
        load_project(project_path("bordeaux"))
    assert "COHESION_GEO_DATA" in str(exc.value)
    assert all(p.startswith("line ") for p in exc.value.problems)


def test_options_passed_to_other_stages_are_checked_against_their_signatures(tmp_path):
    text = GOOD.replace("[[scenario]]", '[indicators]\nradius = "500"\nradiuss = 3\n\n[[scenario]]') + textwrap.dedent("""
    [scenario.weighing]
    ring_distanse = 300
    normalise = "rank"
    [scenario.thresholds]
    poverty_level = 0.35
    labels = "x"
    """)
    with pytest.raises(ConfigError) as exc:
        load_project(_write(tmp_path, text))
    problems = exc.value.problems
    assert len(problems) == 4, problems
    assert problems[0].startswith("line 8: indicators.radius: expected a number")
    assert problems[1].startswith("line 9: indicators.radiuss: unknown option of add_indicators() "
                                  "(did you mean 'radius'?)")
    assert problems[2].startswith("line 16: scenario[1].weighing.ring_distanse: unknown option of "
                                  "weigh_quartiers() (did you mean 'ring_distance'?)")
    # labels is set by the run (LISA), never by hand
    assert problems[3].startswith("line 20: scenario[1].thresholds.labels: unknown option of delineate()")


def test_ready_projects_ship_inside_the_package_and_load_by_name(tmp_path, monkeypatch):
    import cohesion_geo
    from cohesion_geo.cli import main
    from cohesion_geo.scenarios import PROJECTS_DIR

    # installed or not, the ready projects live in the package (package data), not in the checkout
    assert Path(cohesion_geo.__file__).resolve().parent in PROJECTS_DIR.parents
    assert sorted(p.stem for p in PROJECTS_DIR.glob("*.toml")) == ["bordeaux", "synthetic"]
    by_name = load_project("synthetic")
    assert by_name.scenario_names == load_project(project_path("synthetic")).scenario_names
    # a name is only a ready project when no such file exists: a local file wins
    monkeypatch.chdir(tmp_path)
    (tmp_path / "synthetic").write_text(GOOD, encoding="utf-8")
    assert load_project("synthetic").name == parse_project(GOOD).name
    with pytest.raises(ConfigError, match=r"nope: project file not found \(ready projects, usable by name: "
                                          r"bordeaux, synthetic\)"):
        load_project("nope")
    assert main(["run", "synthetic", "--check"]) == 0
