"""``cohesion-geo run`` and ``cohesion-geo compare``: projects and scenarios.

Thin over :mod:`cohesion_geo.scenarios`. Every output folder is written
atomically (a failing run leaves nothing behind).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

__all__ = ["register", "run_command", "compare_command"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``run`` and ``compare`` subcommands."""
    from . import add_data_dir_argument, add_grid_arguments

    p = subparsers.add_parser(
        "run",
        help="run every scenario of a project file (TOML) and write maps, layers and report.html",
        description="Load the project's inputs and compute the indicators once, then for each scenario "
        "delineate, weigh and rank the candidate quartiers and write cells.gpkg, quartiers.gpkg/.csv, "
        "rasters and map.html; write one report.html for the project (robustness across scenarios, "
        "comparison tables, quartier profiles). See docs/scenarios.md for the project file.",
    )
    p.add_argument("project", metavar="PROJECT.toml",
                   help="project file, or the name of a ready project shipped with the package (bordeaux, synthetic)")
    p.add_argument("--out", metavar="DIR", default=None,
                   help="output folder, replaced as a whole on success (default: out/<project file name>)")
    p.add_argument("--scenario", action="append", metavar="NAME", default=None,
                   help="run only this scenario (repeatable)")
    p.add_argument("--no-report", action="store_true", help="skip report.html")
    p.add_argument("--check", action="store_true",
                   help="only validate the project file (every problem listed with its line) and exit")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    add_data_dir_argument(p)
    p.set_defaults(func=run_command)

    c = subparsers.add_parser(
        "compare",
        help="compare two scenarios (or one scenario on two data vintages): dual map, change table, robustness",
        description="Compare scenarios A and B of a project: a side-by-side synchronised map (dual.html), the "
        "table of quartiers entering, leaving, growing or shrinking with population and poor households "
        "gained or lost, overlap (Jaccard on cells) and ranks moved (changes.csv, pairs.csv), and across "
        "all scenarios the robustness map and the quartiers every scenario keeps. With --grid-after "
        "instead of B, the same comparison between two vintages of the grid (readjustment).",
    )
    c.add_argument("project", metavar="PROJECT.toml",
                   help="project file, or the name of a ready project (bordeaux, synthetic)")
    c.add_argument("a", metavar="A", help="first scenario (reference)")
    c.add_argument("b", metavar="B", nargs="?", default=None, help="second scenario (omit with --grid-after)")
    c.add_argument("--out", metavar="DIR", default=None,
                   help="output folder (default: out/<project>/compare_<A>_<B>)")
    g = c.add_argument_group("readjustment between vintages")
    g.add_argument("--grid-after", metavar="GRID", default=None,
                   help="another vintage of the grid: run scenario A on both grids and compare")
    add_grid_arguments(g, positional=False)
    c.add_argument("--quiet", action="store_true", help="no progress bars")
    add_data_dir_argument(c)
    c.set_defaults(func=compare_command)


def _default_out(project: str, *parts: str) -> Path:
    return Path("out") / Path(project).stem / Path(*parts) if parts else Path("out") / Path(project).stem


def run_command(args: argparse.Namespace) -> int:
    """``cohesion-geo run``."""
    from ..scenarios import load_project
    from ..scenarios.run import run_project

    project = load_project(args.project, data_dir=args.data_dir)
    if args.check:
        print(f"{args.project}: valid project '{project.name}', {len(project.scenarios)} scenarios: "
              f"{', '.join(project.scenario_names)}")
        return 0
    out = Path(args.out) if args.out else _default_out(args.project)
    run = run_project(project, out_dir=out, progress=not args.quiet, scenarios=args.scenario,
                      report=not args.no_report)
    summary = run.summary()
    for _, row in summary.iterrows():
        pop = f", {row['ind']:,.0f} inhabitants" if "ind" in summary.columns else ""
        print(f"  {row['scenario']}: {row['quartiers']} quartiers{pop}")
    print(f"wrote {out}" + ("" if args.no_report else f" (report: {out / 'report.html'})"))
    return 0


def compare_command(args: argparse.Namespace) -> int:
    """``cohesion-geo compare``."""
    from . import grid_from_args
    from .._io import atomic_dir, write_frame
    from ..errors import ConfigError
    from ..maps import dual_map, save_map
    from ..scenarios import load_project
    from ..scenarios.compare import compare_scenarios, publishable, robustness
    from ..scenarios.run import _safe, _write_robustness, load_inputs, prepare_grid, run_scenario

    if (args.b is None) == (args.grid_after is None):
        raise ConfigError("give either a second scenario B or --grid-after GRID (another vintage), not both")
    project = load_project(args.project, data_dir=args.data_dir)
    sa = project.scenario(args.a)
    label = args.b if args.b else "vintages"
    out = Path(args.out) if args.out else _default_out(args.project, f"compare_{_safe(args.a)}_{_safe(label)}")
    progress = not args.quiet
    inputs = load_inputs(project, progress=progress)
    grid = prepare_grid(inputs.grid, inputs, project=project)
    ra = run_scenario(sa, grid, inputs)
    with atomic_dir(out) as tmp:
        if args.b:
            rb = run_scenario(project.scenario(args.b), grid, inputs)
            cmp = compare_scenarios(ra, rb, grid=grid, names=(args.a, args.b))
            left_title, right_title = sa.title, project.scenario(args.b).title
            left_cells = right_cells = None
        else:
            other = grid_from_args(args, attr="grid_after")
            grid_b = prepare_grid(other, inputs, project=project)
            rb = run_scenario(sa, grid_b, inputs)
            va, vb = grid.attrs.get("vintage"), grid_b.attrs.get("vintage")
            names = (str(va or "before"), str(vb or "after"))
            if names[0] == names[1]:
                names = (names[0] + " (project grid)", names[1] + " (--grid-after)")
            cmp = compare_scenarios(ra, rb, grid=grid, grid_b=grid_b, names=names)
            left_title, right_title = f"{sa.title}: {names[0]}", f"{sa.title}: {names[1]}"
            left_cells, right_cells = grid, grid_b
        m = dual_map(ra.quartiers, rb.quartiers, left_title=left_title, right_title=right_title,
                     left_cells=left_cells, right_cells=right_cells,
                     column="poverty_rate" if left_cells is not None else None)
        save_map(m, tmp / "dual.html")
        write_frame(publishable(cmp.changes), tmp / "changes.csv")
        write_frame(publishable(cmp.pairs), tmp / "pairs.csv")
        write_frame(publishable(cmp.cells), tmp / "cells.csv")
        write_frame(publishable(pd.DataFrame([cmp.summary])), tmp / "summary.csv")
        # across every scenario of the project
        if args.b:
            results = {s.name: (ra if s.name == args.a else rb if s.name == args.b else run_scenario(s, grid, inputs))
                       for s in project.scenarios}
            _write_robustness(robustness(results, grid=grid), tmp, table="kept_by_every_scenario.csv")
    s = cmp.summary
    print(f"{s['a']} -> {s['b']}: {s['quartiers_a']} -> {s['quartiers_b']} quartiers, {s['entering']} entering, "
          f"{s['leaving']} leaving, cell overlap (Jaccard) {s['jaccard']:.2f}")
    if "ind_gained" in s:
        print(f"  inhabitants gained {s['ind_gained']:,.0f}, lost {s['ind_lost']:,.0f}")
    print(f"wrote {out}", file=sys.stdout)
    return 0
