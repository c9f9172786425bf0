"""Scenarios: project files, runs, comparisons and the council report.

- :mod:`.project` -- the TOML project and scenario schema, validated all at once;
- :mod:`.run` -- :func:`run_project`: every scenario of a project, outputs written atomically;
- :mod:`.compare` -- scenario comparison, robustness across scenarios, readjustment between vintages;
- :mod:`.report` -- the self-contained ``report.html`` for elected officials and residents.

See ``docs/scenarios.md``.
"""

from __future__ import annotations

from pathlib import Path

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
    load_project,
    parse_project,
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

#: Folder of the ready project files (``data/projects`` in the source tree).
PROJECTS_DIR = Path(__file__).resolve().parents[3] / "data" / "projects"


def project_path(name: str, /) -> Path:
    """Path of a ready project file shipped in ``data/projects`` (``"bordeaux"``, ``"synthetic"``).

    Examples
    --------
    >>> project_path("synthetic").name
    'synthetic.toml'
    """
    from ..errors import ConfigError

    path = PROJECTS_DIR / f"{name}.toml"
    if not path.is_file():
        known = sorted(p.stem for p in PROJECTS_DIR.glob("*.toml"))
        raise ConfigError(f"no ready project {name!r} in {PROJECTS_DIR}; known: {', '.join(known) or 'none'}")
    return path
