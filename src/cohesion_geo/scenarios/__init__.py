"""Scenarios: project files, runs, comparisons and the council report.

- :mod:`.project` -- the TOML project and scenario schema, validated all at once;
- :mod:`.run` -- :func:`run_project`: every scenario of a project, outputs written atomically;
- :mod:`.compare` -- scenario comparison, robustness across scenarios, readjustment between vintages;
- :mod:`.report` -- the self-contained ``report.html`` for elected officials and residents.

See ``docs/scenarios.md``.
"""

from __future__ import annotations

from .compare import (
    Comparison,
    Robustness,
    compare_scenarios,
    compare_vintages,
    membership,
    perturb_vintage,
    robustness,
)
from .project import (
    GridInput,
    InputFile,
    Inputs,
    Project,
    Readjustment,
    Scenario,
    Theme,
    PROJECTS_DIR,
    load_project,
    parse_project,
    project_path,
)
from .report import build_report, render_report, write_report
from .run import (
    LoadedInputs,
    ProjectRun,
    ScenarioResult,
    load_inputs,
    prepare_grid,
    quartier_reports,
    run_project,
    run_scenario,
)

__all__ = [
    "PROJECTS_DIR",
    "Comparison",
    "LoadedInputs",
    "ProjectRun",
    "ScenarioResult",
    "build_report",
    "load_inputs",
    "prepare_grid",
    "quartier_reports",
    "render_report",
    "run_project",
    "run_scenario",
    "write_report",
    "GridInput",
    "InputFile",
    "Inputs",
    "Project",
    "Readjustment",
    "Robustness",
    "Scenario",
    "Theme",
    "compare_scenarios",
    "compare_vintages",
    "load_project",
    "membership",
    "parse_project",
    "perturb_vintage",
    "project_path",
    "robustness",
]
