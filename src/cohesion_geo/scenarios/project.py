"""Project and scenario files (TOML): schema, placeholders and validation.

A *project* names a territory's inputs and one or more *scenarios*, each a
way of drawing and ranking priority quartiers that a council may want to
debate. The file is read with the standard library's :mod:`tomllib` and
validated in one pass: every unknown key (with a "did you mean"), wrong type
and missing file is reported at once, with its line number, in a single
:class:`~cohesion_geo.errors.ConfigError`.

Schema (every table but ``[project]``, ``[inputs]`` and one ``[[scenario]]``
is optional)::

    [project]
    name = "Bordeaux Métropole"         # required
    description = "..."                 # plain words, shown in the report
    data_dir = "../shared/data"         # default: cohesion_geo.datasets.data_dir()

    [inputs]                            # paths: relative to this file, or placeholders
    grid = "${data_dir}/bordeaux/filosofi2015_200m_bordeaux_metropole.csv"
    # or a table: grid = { path = "...", layer = "grid", vintage = 2017,
    #                      columns = { cell_id = "id", ind = "num_people" } }
    iris = "${data_dir}/bordeaux/iris_contours_bordeaux_2019.geojson"
    iris_income = "..."                 # also: reports, facilities, finance, urban_units
                                        # each a path or { path = "...", <loader options> }

    [indicators]                        # options of cohesion_geo.indicators.add_indicators

    [readjustment]                      # optional: the same scenarios on another vintage
    grid = { path = "...", vintage = 2019 }
    scenarios = ["official"]            # default: every scenario

    [report]
    title = "..."
    introduction = "..."

    [[scenario]]
    name = "official"                   # required, unique, [A-Za-z0-9_-]
    title = "Official rule"             # shown to the council
    description = "..."
    rule = "official"                   # a rule of cohesion_geo.priority.delineate
    [scenario.thresholds]               # rule thresholds  } both passed to delineate()
    [scenario.grouping]                 # grouping options }
    [scenario.indicators]               # indicator weights of the composite scores
    poverty = { poverty_rate = 0.5, mean_std_living = -0.5 }
    isolation = { one_person_share = 0.5, elderly_share = 0.5 }
    [scenario.weighing]                 # options of cohesion_geo.priority.weigh_quartiers
    [scenario.score]                    # priority-score weights (component = weight)
    [scenario.themes]                   # what the council cares about
    youth = ["children_share", "single_parent_share"]
    "isolation of the elderly" = { indicators = { elderly_share = 1, one_person_share = 1 }, weight = 0.3 }

Placeholders in paths: ``${data_dir}`` (the real-data directory),
``${synthetic_dir}`` (the embedded synthetic territory), ``${project_dir}``
(the folder of the project file) and ``${env:NAME}`` (an environment
variable). A path without placeholder is relative to the project file.
"""

from __future__ import annotations

import difflib
import inspect
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ._tomlpos import key_lines, line_of

__all__ = [
    "GridInput",
    "Inputs",
    "InputFile",
    "Project",
    "Readjustment",
    "Scenario",
    "Theme",
    "INPUT_KEYS",
    "PROJECTS_DIR",
    "load_project",
    "parse_project",
    "project_path",
]

#: Optional input layers besides the grid, in the order they are loaded.
INPUT_KEYS: tuple[str, ...] = ("iris", "iris_income", "reports", "facilities", "finance", "urban_units")

#: Folder of the ready project files, shipped inside the package (``cohesion_geo/scenarios/projects``).
PROJECTS_DIR = Path(__file__).resolve().parent / "projects"

#: Indicator columns a weight or theme may name when the indicator engine is
#: not importable (it normally provides the list).
_FALLBACK_INDICATORS: tuple[str, ...] = (
    "mean_std_living", "poverty_rate", "social_housing_share", "one_person_share",
    "single_parent_share", "large_household_share", "owner_share", "elderly_share",
    "children_share", "pre1970_housing_share", "floor_area_per_person",
    "facility_distance", "facility_count", "poverty_score", "isolation_score",
    "reports_per_1000", "reports_count",
)  # fmt: skip

_NAME_RE = re.compile(r"^[A-Za-z0-9_-]+$")
_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")


# ---------------------------------------------------------------------------
# The validated project
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class InputFile:
    """An optional input layer: a resolved path and the loader's options."""

    path: Path
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class GridInput:
    """The Filosofi grid: path and the options of :func:`~cohesion_geo.loaders.load_grid`."""

    path: Path
    layer: str | None = None
    vintage: int | None = None
    columns: dict[str, str] | None = None

    def load(self):
        """Read the grid (canonical grid frame)."""
        from ..loaders import load_grid

        return load_grid(self.path, layer=self.layer, vintage=self.vintage, columns=self.columns)


@dataclass(frozen=True)
class Inputs:
    """Every input of a project; layers not given are ``None``."""

    grid: GridInput
    iris: InputFile | None = None
    iris_income: InputFile | None = None
    reports: InputFile | None = None
    facilities: InputFile | None = None
    finance: InputFile | None = None
    urban_units: InputFile | None = None

    def files(self) -> dict[str, Path]:
        """Every input path, by key (``grid`` first)."""
        out = {"grid": self.grid.path}
        for key in INPUT_KEYS:
            item = getattr(self, key)
            if item is not None:
                out[key] = item.path
        return out


@dataclass(frozen=True)
class Theme:
    """A theme the council cares about: indicator columns and their weights.

    ``weight`` is the theme's weight in the priority score (0: shown in the
    quartier profiles, not scored).
    """

    name: str
    indicators: dict[str, float]
    weight: float = 0.0

    @property
    def column(self) -> str:
        """Column of the theme score in the quartiers table."""
        slug = re.sub(r"[^a-z0-9]+", "_", self.name.lower()).strip("_") or "theme"
        return f"theme_{slug}"


@dataclass(frozen=True)
class Scenario:
    """One way of delineating and ranking quartiers."""

    name: str
    title: str
    rule: str | None = None
    description: str = ""
    thresholds: dict[str, Any] = field(default_factory=dict)
    grouping: dict[str, Any] = field(default_factory=dict)
    indicators: dict[str, dict[str, float]] = field(default_factory=dict)
    weighing: dict[str, Any] = field(default_factory=dict)
    score: dict[str, float] = field(default_factory=dict)
    themes: tuple[Theme, ...] = ()

    def delineate_options(self) -> dict[str, Any]:
        """Keyword arguments for :func:`cohesion_geo.priority.delineate`."""
        opts: dict[str, Any] = {}
        if self.rule is not None:
            opts["rule"] = self.rule
        opts.update(self.thresholds)
        opts.update(self.grouping)
        return opts

    def parameters(self) -> dict[str, Any]:
        """Flat parameters for the side-by-side table of the report."""
        out: dict[str, Any] = {"rule": self.rule or "default"}
        out.update(self.thresholds)
        out.update(self.grouping)
        for score, weights in self.indicators.items():
            out[f"{score} score weights"] = ", ".join(f"{k} {v:+g}" for k, v in weights.items())
        out.update(self.weighing)
        if self.score:
            out["priority score weights"] = ", ".join(f"{k} {v:g}" for k, v in self.score.items())
        if self.themes:
            out["themes"] = "; ".join(
                f"{t.name} ({', '.join(t.indicators)}{f', weight {t.weight:g}' if t.weight else ''})"
                for t in self.themes
            )
        return out


@dataclass(frozen=True)
class Readjustment:
    """Another vintage of the grid, to revisit a contract's perimeters."""

    grid: GridInput
    scenarios: tuple[str, ...] = ()


@dataclass(frozen=True)
class Project:
    """A validated project file (see the module docstring for the schema)."""

    name: str
    path: Path | None
    inputs: Inputs
    scenarios: tuple[Scenario, ...]
    description: str = ""
    data_dir: Path | None = None
    indicators: dict[str, Any] = field(default_factory=dict)
    readjustment: Readjustment | None = None
    report: dict[str, str] = field(default_factory=dict)

    @property
    def root(self) -> Path:
        """Folder of the project file (relative paths start there)."""
        return self.path.parent if self.path is not None else Path.cwd()

    def scenario(self, name: str) -> Scenario:
        """The scenario called ``name``; :class:`ConfigError` with a suggestion otherwise."""
        for s in self.scenarios:
            if s.name == name:
                return s
        names = [s.name for s in self.scenarios]
        raise ConfigError(
            f"{self.path or self.name}: no scenario named {name!r}{_did_you_mean(name, names)}; "
            f"scenarios: {', '.join(names)}"
        )

    @property
    def scenario_names(self) -> list[str]:
        return [s.name for s in self.scenarios]


# ---------------------------------------------------------------------------
# Validation machinery
# ---------------------------------------------------------------------------


def _did_you_mean(word: str, choices: Any) -> str:
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _fmt_path(path: tuple[str | int, ...]) -> str:
    out = ""
    for p in path:
        if isinstance(p, int):
            out += f"[{p + 1}]"
        else:
            key = p if _NAME_RE.match(p) else f'"{p}"'
            out += f".{key}" if out else key
    return out


class _Checker:
    """Collects problems with their lines; every check goes through it."""

    def __init__(self, source: str, text: str) -> None:
        self.source = source
        self.lines = key_lines(text)
        self.problems: list[tuple[int, str]] = []

    def add(self, path: tuple[str | int, ...], message: str) -> None:
        line = line_of(self.lines, path)
        where = f"line {line}: " if line else ""
        self.problems.append((line or 0, f"{where}{_fmt_path(path)}: {message}" if path else f"{where}{message}"))

    def raise_if_any(self) -> None:
        if not self.problems:
            return
        items = [m for _, m in sorted(self.problems, key=lambda t: t[0])]
        n = len(items)
        body = "\n".join(f"  - {m}" for m in items)
        err = ConfigError(f"{self.source}: {n} problem{'s' if n > 1 else ''} found:\n{body}")
        err.problems = items  # type: ignore[attr-defined]
        err.source = self.source  # type: ignore[attr-defined]
        raise err

    # --- typed getters: return the value when valid, else None (problem noted)
    def unknown_keys(self, table: Mapping[str, Any], allowed: Any, path: tuple[str | int, ...], what: str) -> None:
        allowed = list(allowed)
        for key in table:
            if key not in allowed:
                self.add(
                    (*path, key),
                    f"unknown key in {what}{_did_you_mean(key, allowed)}; allowed: {', '.join(allowed)}",
                )

    def get(
        self,
        table: Mapping[str, Any],
        key: str,
        types: type | tuple[type, ...],
        path: tuple[str | int, ...],
        *,
        required: bool = False,
        what: str | None = None,
    ) -> Any:
        if key not in table:
            if required:
                self.add(path, f"missing required key {key!r}" + (f" ({what})" if what else ""))
            return None
        value = table[key]
        if not _isinstance(value, types):
            self.add((*path, key), f"expected {_type_name(types)}, got {_type_name(type(value))} {value!r}")
            return None
        return value


def _isinstance(value: Any, types: type | tuple[type, ...]) -> bool:
    types = types if isinstance(types, tuple) else (types,)
    if isinstance(value, bool) and bool not in types:
        return False  # TOML true is not a number
    if float in types and isinstance(value, int) and not isinstance(value, bool):
        return True
    return isinstance(value, types)


def _type_name(types: Any) -> str:
    names = {str: "a string", int: "an integer", float: "a number", bool: "true/false",
             dict: "a table", list: "an array"}  # fmt: skip
    if isinstance(types, tuple):
        if float in types and int in types:
            types = tuple(t for t in types if t is not int)
        return " or ".join(names.get(t, t.__name__) for t in types)
    return names.get(types, getattr(types, "__name__", str(types)))


def _keyword_options(func: Callable | None) -> dict[str, inspect.Parameter] | None:
    """Keyword options of ``func`` (None when it cannot be introspected)."""
    if func is None:
        return None
    try:
        sig = inspect.signature(func)
    except (TypeError, ValueError):
        return None
    params = list(sig.parameters.values())
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return None
    return {
        p.name: p
        for p in params[1:]
        if p.kind in (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    }


def _import(module: str, name: str) -> Any:
    try:
        mod = __import__(f"cohesion_geo.{module}", fromlist=[name])
    except ImportError:
        return None
    return getattr(mod, name, None)


def _check_options(
    c: _Checker,
    table: Mapping[str, Any],
    func: Callable | None,
    path: tuple[str | int, ...],
    what: str,
    *,
    exclude: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Options passed through to ``func``: names and scalar types checked by introspection."""
    params = _keyword_options(func)
    out: dict[str, Any] = {}
    for key, value in table.items():
        if params is not None and (key not in params or key in exclude):
            allowed = [p for p in params if p not in exclude]
            c.add((*path, key), f"unknown option of {what}{_did_you_mean(key, allowed)}; "
                                f"allowed: {', '.join(allowed)}")
            continue
        if params is not None:
            problem = _check_value(value, params[key])
            if problem:
                c.add((*path, key), problem)
                continue
        out[key] = value
    return out


_LITERAL = re.compile(r"Literal\[([^\]]*)\]")


def _check_value(value: Any, param: inspect.Parameter) -> str | None:
    """Problem with ``value`` for ``param`` (from its default and annotation), or None."""
    default = param.default
    ann = param.annotation if isinstance(param.annotation, str) else getattr(param.annotation, "__name__", "")
    ann = str(ann)
    allowed: list[type] = []
    choices: list[str] = []
    if default is not inspect.Parameter.empty and default is not None:
        if isinstance(default, bool):
            allowed.append(bool)
        elif isinstance(default, (int, float)):
            allowed += [int, float]
        elif isinstance(default, str):
            allowed.append(str)
    for m in _LITERAL.finditer(ann):
        choices += [x.strip().strip("'\"") for x in m.group(1).split(",")]
    words = set(re.findall(r"[A-Za-z_]+", _LITERAL.sub("", ann)))
    if "bool" in words:
        allowed.append(bool)
    if "float" in words:
        allowed += [int, float]
    if "int" in words:
        allowed.append(int)
    if "str" in words:
        allowed.append(str)
    if words & {"Mapping", "dict", "Series"}:
        allowed.append(dict)
    if words & {"Sequence", "list", "tuple"}:
        allowed.append(list)
    if not allowed and not choices:
        return None  # cannot tell: let the function check it
    if choices and isinstance(value, str) and str not in allowed:
        if value in choices:
            return None
        return f"expected one of {', '.join(map(repr, choices))}, got {value!r}{_did_you_mean(value, choices)}"
    if allowed and _isinstance(value, tuple(dict.fromkeys(allowed))):
        return None
    if choices and not allowed:
        return f"expected one of {', '.join(map(repr, choices))}, got {value!r}"
    what = _type_name(tuple(dict.fromkeys(allowed)))
    if choices:
        what += " or one of " + ", ".join(map(repr, choices))
    return f"expected {what}, got {_type_name(type(value))} {value!r}"


def _known_indicators() -> list[str]:
    names = list(_FALLBACK_INDICATORS)
    cells = _import("indicators.cell", "INDICATORS")
    if cells:
        names = list(dict.fromkeys([*cells, *names]))
    extra = _import("indicators", "INDICATOR_COLUMNS")
    if extra:
        names = list(dict.fromkeys([*names, *extra]))
    return names


# ---------------------------------------------------------------------------
# Placeholders and paths
# ---------------------------------------------------------------------------


class _Resolver:
    def __init__(self, root: Path, data_dir: Path | None, data_dir_error: str | None) -> None:
        self.root = root
        self.data_dir = data_dir
        self.data_dir_error = data_dir_error
        self._synthetic: Path | None | str = "unset"

    def synthetic_dir(self) -> Path | None:
        if self._synthetic == "unset":
            func = _import("synthetic", "synthetic_dir")
            self._synthetic = Path(func()) if func else None
        return self._synthetic  # type: ignore[return-value]

    def resolve(self, raw: str, c: _Checker, path: tuple[str | int, ...]) -> Path | None:
        problems: list[str] = []

        def sub(m: re.Match) -> str:
            name = m.group(1).strip()
            if name == "data_dir":
                if self.data_dir is None:
                    problems.append(self.data_dir_error or "no data directory found")
                    return m.group(0)
                return str(self.data_dir)
            if name == "synthetic_dir":
                d = self.synthetic_dir()
                if d is None:
                    problems.append("${synthetic_dir}: the synthetic territory (cohesion_geo.synthetic) is not installed")
                    return m.group(0)
                return str(d)
            if name == "project_dir":
                return str(self.root)
            if name.startswith("env:"):
                var = name[4:]
                if var not in os.environ:
                    problems.append(f"environment variable {var} is not set")
                    return m.group(0)
                return os.environ[var]
            problems.append(
                f"unknown placeholder ${{{name}}}{_did_you_mean(name, ['data_dir', 'synthetic_dir', 'project_dir'])}; "
                "use ${data_dir}, ${synthetic_dir}, ${project_dir} or ${env:NAME}"
            )
            return m.group(0)

        text = _PLACEHOLDER.sub(sub, raw)
        if problems:
            for p in problems:
                c.add(path, p)
            return None
        p = Path(text).expanduser()
        if not p.is_absolute():
            p = self.root / p
        return p


# ---------------------------------------------------------------------------
# Sections
# ---------------------------------------------------------------------------

_TOP_KEYS = ("project", "inputs", "indicators", "readjustment", "report", "scenario")
_PROJECT_KEYS = ("name", "description", "data_dir")
_GRID_KEYS = ("path", "layer", "vintage", "columns")
_REPORT_KEYS = ("title", "introduction")
_SCENARIO_KEYS = ("name", "title", "description", "rule", "thresholds", "grouping",
                  "indicators", "weighing", "score", "themes")  # fmt: skip
_SCORE_TABLES = ("poverty", "isolation", "composite")
#: delineate() arguments the run sets itself (from the inputs), never from a scenario.
_DELINEATE_RESERVED = ("rule", "urban_units", "labels", "score", "iris")
#: weigh_quartiers() arguments the run sets itself.
_WEIGH_RESERVED = ("weights", "assignment", "finance", "urban_units", "residents", "communes")
_LOADERS = {
    "iris": "load_iris",
    "iris_income": "load_iris_income",
    "reports": "load_reports",
    "facilities": "load_facilities",
    "finance": "load_finance",
    "urban_units": "load_urban_units",
}


def _grid(c: _Checker, value: Any, path: tuple[str | int, ...], res: _Resolver, check_files: bool) -> GridInput | None:
    as_text = isinstance(value, str)
    if as_text:
        value = {"path": value}
    if not isinstance(value, dict):
        c.add(path, f"expected a path or a table {{ path = ..., layer = ..., vintage = ..., columns = ... }}, "
                    f"got {_type_name(type(value))}")
        return None
    c.unknown_keys(value, _GRID_KEYS, path, "the grid input")
    raw = c.get(value, "path", str, path, required=True, what="the grid file")
    layer = c.get(value, "layer", str, path)
    vintage = c.get(value, "vintage", int, path)
    if vintage is not None and not 2000 <= vintage <= 2100:
        c.add((*path, "vintage"), f"vintage {vintage} is not a year")
    columns = c.get(value, "columns", dict, path)
    if columns:
        for k, v in columns.items():
            if not isinstance(v, str):
                c.add((*path, "columns", k), f"expected a source column name (string), got {v!r}")
        canonical = _import("loaders.grid", "COUNT_COLUMNS")
        if canonical:
            allowed = ["cell_id", "mean_std_living", "poverty_rate", "imputed", "commune", *canonical]
            for k in columns:
                if k not in allowed:
                    c.add((*path, "columns", k),
                          f"{k!r} is not a canonical grid column{_did_you_mean(k, allowed)}")
    where = path if as_text else (*path, "path")
    p = res.resolve(raw, c, where) if raw is not None else None
    if p is not None and check_files and not p.is_file():
        c.add(where, f"file not found: {p}")
    if p is None:
        return None
    return GridInput(path=p, layer=layer, vintage=vintage, columns=dict(columns) if columns else None)


def _input_file(c: _Checker, key: str, value: Any, path: tuple[str | int, ...], res: _Resolver,
                check_files: bool) -> InputFile | None:
    options: dict[str, Any] = {}
    if isinstance(value, dict):
        raw = c.get(value, "path", str, path, required=True, what=f"the {key} file")
        rest = {k: v for k, v in value.items() if k != "path"}
        loader = _import("loaders", _LOADERS[key])
        options = _check_options(c, rest, loader, path, f"{_LOADERS[key]}()")
    elif isinstance(value, str):
        raw = value
    else:
        c.add(path, f"expected a path or a table {{ path = ..., <options> }}, got {_type_name(type(value))}")
        return None
    if raw is None:
        return None
    p = res.resolve(raw, c, path)
    if p is None:
        return None
    if check_files and not p.exists():
        c.add(path, f"file not found: {p}")
    return InputFile(path=p, options=options)


def _weights(c: _Checker, table: Any, path: tuple[str | int, ...], known: list[str], what: str) -> dict[str, float]:
    if not isinstance(table, dict):
        c.add(path, f"expected a table of {what} = weight, got {_type_name(type(table))}")
        return {}
    out: dict[str, float] = {}
    for k, v in table.items():
        if known and k not in known:
            c.add((*path, k), f"unknown {what}{_did_you_mean(k, known)}")
            continue
        if not _isinstance(v, float):
            c.add((*path, k), f"a weight must be a number, got {_type_name(type(v))} {v!r}")
            continue
        out[k] = float(v)
    return out


def _score_components() -> list[str]:
    comp = _import("priority.score", "COMPONENTS")
    return list(comp) if comp else []


def _scenario(c: _Checker, raw: Any, i: int, indicators: list[str]) -> Scenario | None:
    path: tuple[str | int, ...] = ("scenario", i)
    if not isinstance(raw, dict):
        c.add(path, "each [[scenario]] must be a table")
        return None
    c.unknown_keys(raw, _SCENARIO_KEYS, path, "[[scenario]]")
    name = c.get(raw, "name", str, path, required=True, what="a short id such as 'official'")
    if name is not None and not _NAME_RE.match(name):
        c.add((*path, "name"), f"{name!r}: use only letters, digits, '_' and '-' (it names a folder)")
        name = None
    title = c.get(raw, "title", str, path)
    description = c.get(raw, "description", str, path) or ""
    rule = c.get(raw, "rule", str, path)
    delineate = _import("priority", "delineate")
    rules = _import("priority", "RULES")
    if rule is not None and rules:
        if rule not in rules:
            c.add((*path, "rule"), f"unknown rule {rule!r}{_did_you_mean(rule, list(rules))}; "
                                   f"rules: {', '.join(map(str, rules))}")
    thresholds = c.get(raw, "thresholds", dict, path) or {}
    grouping = c.get(raw, "grouping", dict, path) or {}
    thresholds = _check_options(c, thresholds, delineate, (*path, "thresholds"), "delineate()",
                                exclude=_DELINEATE_RESERVED)
    grouping = _check_options(c, grouping, delineate, (*path, "grouping"), "delineate()",
                              exclude=_DELINEATE_RESERVED)
    for k in set(thresholds) & set(grouping):
        c.add((*path, "grouping", k), f"{k!r} is set in both [scenario.thresholds] and [scenario.grouping]")

    ind_table = c.get(raw, "indicators", dict, path) or {}
    c.unknown_keys(ind_table, _SCORE_TABLES, (*path, "indicators"), "[scenario.indicators] (composite scores)")
    ind_weights = {
        k: _weights(c, v, (*path, "indicators", k), indicators, "indicator")
        for k, v in ind_table.items()
        if k in _SCORE_TABLES
    }
    weigh = _import("priority.weigh", "weigh_quartiers")
    weighing = _check_options(c, c.get(raw, "weighing", dict, path) or {}, weigh, (*path, "weighing"),
                              "weigh_quartiers()", exclude=_WEIGH_RESERVED)
    themes: list[Theme] = []
    theme_table = c.get(raw, "themes", dict, path) or {}
    for tname, tval in theme_table.items():
        tpath = (*path, "themes", tname)
        weight = 0.0
        if isinstance(tval, str):
            tval = [tval]
        if isinstance(tval, dict):
            c.unknown_keys(tval, ("indicators", "weight"), tpath, "a theme")
            weight = c.get(tval, "weight", float, tpath) or 0.0
            if weight < 0:
                c.add((*tpath, "weight"), f"a theme weight must be >= 0, got {weight}")
            inds = tval.get("indicators")
            if inds is None:
                c.add(tpath, "missing required key 'indicators' (a list of indicator columns or a table of weights)")
                continue
            ipath = (*tpath, "indicators")
        else:
            inds, ipath = tval, tpath
        if isinstance(inds, list):
            bad = [x for x in inds if not isinstance(x, str)]
            if bad:
                c.add(ipath, f"indicator names must be strings, got {bad[0]!r}")
                continue
            inds = {x: 1.0 for x in inds}
        w = _weights(c, inds, ipath, indicators, "indicator")
        if not w and isinstance(inds, dict) and not inds:
            c.add(ipath, "a theme needs at least one indicator")
        if w:
            themes.append(Theme(name=str(tname), indicators=w, weight=float(weight)))
    columns = [t.column for t in themes]
    for col in {x for x in columns if columns.count(x) > 1}:
        c.add((*path, "themes"), f"two themes map to the same column {col!r}; rename one")
    score_table = c.get(raw, "score", dict, path) or {}
    score = _weights(c, score_table, (*path, "score"), _score_components(), "priority-score component")
    if score and not any(v > 0 for v in score.values()):
        c.add((*path, "score"), "at least one priority-score weight must be positive")
    total = sum(t.weight for t in themes)
    if total >= 1:
        c.add((*path, "themes"), f"theme weights sum to {total:g}; they must stay below 1 "
                                 "(the rest goes to the priority score's components)")
    for k, v in score.items():
        if v < 0:
            c.add((*path, "score", k), f"priority-score weights must be >= 0, got {v}")
    if name is None:
        return None
    return Scenario(
        name=name, title=title or name, rule=rule, description=description,
        thresholds=thresholds, grouping=grouping, indicators=ind_weights, weighing=weighing,
        score=score, themes=tuple(themes),
    )  # fmt: skip


def parse_project(
    text: str,
    *,
    source: str = "<project>",
    base_dir: str | os.PathLike | None = None,
    data_dir: str | os.PathLike | None = None,
    check_files: bool = True,
    path: str | os.PathLike | None = None,
) -> Project:
    """Validate the TOML ``text`` of a project and return a :class:`Project`.

    Parameters
    ----------
    text : str
        The TOML text.
    source : str
        Named in error messages (the file path).
    base_dir : path, optional
        Folder relative paths start from (default: the current directory).
    data_dir : path, optional
        Real-data directory for ``${data_dir}``; overrides ``[project] data_dir``.
    check_files : bool, default True
        Report input files that do not exist.

    Raises
    ------
    ConfigError
        Listing every problem, each with its line number (``.problems``).

    Examples
    --------
    >>> text = '''
    ... [project]
    ... name = "demo"
    ... [inputs]
    ... grid = "cells.csv"
    ... [[scenario]]
    ... name = "official"
    ... rule = "official"
    ... '''
    >>> parse_project(text, check_files=False).scenario_names
    ['official']
    """
    c = _Checker(source, text)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    root = Path(base_dir) if base_dir is not None else Path.cwd()

    c.unknown_keys(raw, _TOP_KEYS, (), "the project file")
    proj = raw.get("project")
    if not isinstance(proj, dict):
        c.add(("project",), "missing [project] table (with at least name = \"...\")")
        proj = {}
    c.unknown_keys(proj, _PROJECT_KEYS, ("project",), "[project]")
    name = c.get(proj, "name", str, ("project",), required=True)
    description = c.get(proj, "description", str, ("project",)) or ""

    # data directory: argument > [project] data_dir > cohesion_geo.datasets.data_dir()
    from ..datasets import data_dir as find_data_dir

    ddir: Path | None = None
    derr: str | None = None
    try:
        if data_dir is not None:
            ddir = find_data_dir(data_dir)
        elif isinstance(proj.get("data_dir"), str):
            raw_dd = Path(_PLACEHOLDER.sub(lambda m: os.environ.get(m.group(1)[4:], m.group(0))
                                          if m.group(1).startswith("env:") else m.group(0),
                                          proj["data_dir"])).expanduser()
            cand = raw_dd if raw_dd.is_absolute() else root / raw_dd
            if cand.is_dir():
                ddir = cand.resolve()
            else:
                derr = f"data directory {cand} (from [project] data_dir) does not exist"
                c.add(("project", "data_dir"), derr)
                derr = None
        else:
            ddir = find_data_dir(None)
            if ddir is None:
                derr = ("${data_dir} is used but no data directory was found: pass --data-dir DIR "
                        "(data_dir= in Python), set COHESION_GEO_DATA, or place the data in ../shared/data")
    except Exception as exc:  # DataDirectoryError from an explicit argument or env var
        derr = str(exc)
    c.get(proj, "data_dir", str, ("project",))
    res = _Resolver(root, ddir, derr or "${data_dir}: no data directory")

    # inputs
    inputs_raw = raw.get("inputs")
    grid: GridInput | None = None
    files: dict[str, InputFile | None] = {}
    if not isinstance(inputs_raw, dict):
        c.add(("inputs",), "missing [inputs] table (with at least grid = \"path\")")
        inputs_raw = {}
    c.unknown_keys(inputs_raw, ("grid", *INPUT_KEYS), ("inputs",), "[inputs]")
    if "grid" in inputs_raw:
        grid = _grid(c, inputs_raw["grid"], ("inputs", "grid"), res, check_files)
    elif isinstance(raw.get("inputs"), dict):
        c.add(("inputs",), "missing required key 'grid' (the Filosofi grid file)")
    for key in INPUT_KEYS:
        if key in inputs_raw:
            files[key] = _input_file(c, key, inputs_raw[key], ("inputs", key), res, check_files)

    # indicator options (project level)
    add_ind = _import("indicators", "add_indicators")
    ind_opts = raw.get("indicators", {})
    if not isinstance(ind_opts, dict):
        c.add(("indicators",), "expected a table")
        ind_opts = {}
    ind_opts = _check_options(c, ind_opts, add_ind, ("indicators",), "add_indicators()")

    # report texts
    report = raw.get("report", {})
    if not isinstance(report, dict):
        c.add(("report",), "expected a table")
        report = {}
    c.unknown_keys(report, _REPORT_KEYS, ("report",), "[report]")
    report_texts = {k: v for k in _REPORT_KEYS if (v := c.get(report, k, str, ("report",))) is not None}

    # scenarios
    known = _known_indicators()
    scen_raw = raw.get("scenario")
    scenarios: list[Scenario] = []
    if scen_raw is None:
        c.add((), "no [[scenario]] block: a project needs at least one scenario")
    elif not isinstance(scen_raw, list):
        c.add(("scenario",), "scenarios are written [[scenario]] (an array of tables)")
    else:
        for i, s in enumerate(scen_raw):
            sc = _scenario(c, s, i, known)
            if sc is not None:
                scenarios.append(sc)
        seen: dict[str, int] = {}
        for i, s in enumerate(scen_raw):
            n = s.get("name") if isinstance(s, dict) else None
            if isinstance(n, str):
                if n in seen:
                    c.add(("scenario", i, "name"), f"duplicate scenario name {n!r} (first in scenario {seen[n] + 1})")
                else:
                    seen[n] = i

    # readjustment
    readj: Readjustment | None = None
    rj = raw.get("readjustment")
    if rj is not None:
        if not isinstance(rj, dict):
            c.add(("readjustment",), "expected a table")
        else:
            c.unknown_keys(rj, ("grid", "scenarios"), ("readjustment",), "[readjustment]")
            rgrid = None
            if "grid" not in rj:
                c.add(("readjustment",), "missing required key 'grid' (the other vintage)")
            else:
                rgrid = _grid(c, rj["grid"], ("readjustment", "grid"), res, check_files)
            rsc = c.get(rj, "scenarios", list, ("readjustment",)) or []
            names = [s.get("name") for s in scen_raw if isinstance(s, dict)] if isinstance(scen_raw, list) else []
            for s in rsc:
                if s not in names:
                    c.add(("readjustment", "scenarios"), f"unknown scenario {s!r}{_did_you_mean(s, names)}")
            if rgrid is not None:
                readj = Readjustment(grid=rgrid, scenarios=tuple(rsc))

    c.raise_if_any()
    assert grid is not None and name is not None
    return Project(
        name=name,
        path=Path(path) if path is not None else None,
        inputs=Inputs(grid=grid, **{k: v for k, v in files.items()}),
        scenarios=tuple(scenarios),
        description=description,
        data_dir=ddir,
        indicators=ind_opts,
        readjustment=readj,
        report=report_texts,
    )


def load_project(
    path: str | os.PathLike,
    *,
    data_dir: str | os.PathLike | None = None,
    check_files: bool = True,
) -> Project:
    """Read and validate a project file.

    Parameters
    ----------
    path : path or str
        The ``.toml`` file, or the name of a ready project shipped with the
        package (``"bordeaux"``, ``"synthetic"``; see :func:`project_path`).
    data_dir : path, optional
        Real-data directory for ``${data_dir}`` (default: ``[project] data_dir``,
        else :func:`cohesion_geo.datasets.data_dir`).
    check_files : bool, default True
        Report input files that do not exist.

    Raises
    ------
    ConfigError
        Every problem at once, each with its line (``err.problems``).

    Examples
    --------
    >>> from cohesion_geo.scenarios import load_project, project_path
    >>> p = load_project(project_path("synthetic"))
    >>> len(p.scenarios) >= 3
    True
    """
    p = Path(path)
    if not p.is_file():
        name = str(path)
        if p.suffix == "" and p.name == name and (PROJECTS_DIR / f"{name}.toml").is_file():
            p = PROJECTS_DIR / f"{name}.toml"
        else:
            known = ", ".join(sorted(q.stem for q in PROJECTS_DIR.glob("*.toml")))
            raise ConfigError(f"{p}: project file not found (ready projects, usable by name: {known})")
    text = p.read_text(encoding="utf-8")
    return parse_project(
        text, source=str(p), base_dir=p.resolve().parent, data_dir=data_dir, check_files=check_files, path=p
    )



def project_path(name: str, /) -> Path:
    """Path of a ready project file shipped with the package (``"bordeaux"``, ``"synthetic"``).

    :func:`load_project` and ``cohesion-geo run`` also accept these names
    directly in place of a path.

    Examples
    --------
    >>> project_path("synthetic").name
    'synthetic.toml'
    """
    path = PROJECTS_DIR / f"{name}.toml"
    if not path.is_file():
        known = sorted(p.stem for p in PROJECTS_DIR.glob("*.toml"))
        raise ConfigError(f"no ready project {name!r} in {PROJECTS_DIR}; known: {', '.join(known) or 'none'}")
    return path
