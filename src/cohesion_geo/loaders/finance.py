"""Municipal financial capacity: the DGCL commune table, or any commune table.

Canonical columns
=================
``commune``               5-char commune code, str, unique
``commune_name``          commune name, str
``department``            department code (DGCL ``CodeDep``), str, when present
``population``            population DGF of the year (DGCL ``PopDGF<year>``), inhabitants
``potentiel_fiscal``      potentiel fiscal (DGCL ``PF4Taxes<year>``), EUR
``dotation_forfaitaire``  dotation forfaitaire of the year (DGCL ``DF<year>``), EUR
``potentiel_financier``   potentiel fiscal of the year + dotation forfaitaire of the
                          **previous** year (``DF<year-1>``), EUR — see below
``pf_per_inhabitant``     ``potentiel_fiscal / population``, EUR/inhabitant
``pfin_per_inhabitant``   ``potentiel_financier / population``, EUR/inhabitant
``size_group``            DGCL demographic stratum of ``population`` (ordered categorical)
``dsu_group``             ``"10000+"``, ``"5000-9999"`` or ``<NA>`` (DSU eligibility groups)
other columns             kept under their source names

*Potentiel financier.* The DGCL defines it (CGCT art. L2334-4) as the potentiel
fiscal plus the dotation forfaitaire received the previous year, excluding its
*compensation part salaires* and net of some levies. The table has neither the
CPS part nor the levies, so ``potentiel_financier`` here is the **approximation
PF(year) + DF(year - 1)**; when ``DF<year-1>`` is absent, ``DF<year>`` is used
(``attrs["pfin_dotation_year"]`` says which). Per-inhabitant measures are NaN
for communes with a population of 0.

*Size groups* (``size_group``): the 15 DGCL demographic strata used for the
average potentiel financier per inhabitant — 0-499, 500-999, 1,000-1,999,
2,000-3,499, 3,500-4,999, 5,000-7,499, 7,500-9,999, 10,000-14,999,
15,000-19,999, 20,000-34,999, 35,000-49,999, 50,000-74,999, 75,000-99,999,
100,000-199,999, 200,000 and more (lower bound included). ``dsu_group``
splits communes for the DSU index: 10,000 inhabitants and more, 5,000-9,999.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from .._validate import Problems, example_rows, to_numeric
from ..errors import ValidationError
from ._common import COMMUNE_PATTERN, apply_mapping, duplicated_codes, find_column, normalise_codes, text
from ._read import read_table
from .grid import parse_columns

__all__ = ["CAPACITY_COLUMNS", "SIZE_GROUP_BOUNDS", "load_finance", "size_group"]

#: Lower bounds of the DGCL demographic strata (inhabitants).
SIZE_GROUP_BOUNDS: tuple[int, ...] = (
    0, 500, 1_000, 2_000, 3_500, 5_000, 7_500, 10_000, 15_000, 20_000, 35_000, 50_000,
    75_000, 100_000, 200_000,
)  # fmt: skip

#: Canonical capacity columns (any one is enough with a ``columns`` mapping).
CAPACITY_COLUMNS: tuple[str, ...] = (
    "potentiel_fiscal", "dotation_forfaitaire", "potentiel_financier", "pf_per_inhabitant",
    "pfin_per_inhabitant",
)  # fmt: skip

_NUMERIC = ("population", *CAPACITY_COLUMNS)
#: Commune code column of a DGCL-like table (first found).
_CODE = ("CodeCom", "CODGEO", "DEPCOM", "INSEE_COM", "commune")


def _labels() -> list[str]:
    bounds = SIZE_GROUP_BOUNDS
    out = [f"{lo}-{hi - 1}" for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)]
    return [*out, f"{bounds[-1]}+"]


def size_group(population: pd.Series) -> pd.Series:
    """DGCL demographic stratum of each population (ordered categorical).

    Examples
    --------
    >>> size_group(pd.Series([120, 9_999, 10_000, 259_259])).astype(str).tolist()
    ['0-499', '7500-9999', '10000-14999', '200000+']
    """
    bins = [*SIZE_GROUP_BOUNDS, np.inf]
    cat = pd.cut(population.astype("float64"), bins=bins, right=False, labels=_labels())
    return cat.astype(pd.CategoricalDtype(_labels(), ordered=True))


def dsu_group(population: pd.Series) -> pd.Series:
    """``"10000+"``, ``"5000-9999"`` or ``<NA>`` (below 5,000 inhabitants)."""
    pop = population.astype("float64")
    out = pd.Series(pd.NA, index=population.index, dtype="string")
    out = out.mask(pop >= 5_000, "5000-9999").mask(pop >= 10_000, "10000+")
    return out


def _dgcl_years(columns: list[str]) -> dict[str, dict[int, str]]:
    found: dict[str, dict[int, str]] = {"pop": {}, "pf": {}, "df": {}}
    patterns = {"pop": r"PopDGF(\d{4})", "pf": r"PF(?:4Taxes)?(\d{4})", "df": r"DF(\d{4})"}
    for col in columns:
        for key, pat in patterns.items():
            m = re.fullmatch(pat, col, flags=re.IGNORECASE)
            if m:
                found[key][int(m.group(1))] = col
    return found


def load_finance(
    path: str | os.PathLike,
    *,
    year: int | None = None,
    columns: Mapping[str, str] | str | None = None,
) -> pd.DataFrame:
    """Load commune financial capacity (DGCL table or any commune table).

    Parameters
    ----------
    path : path
        The DGCL table (``CodeCom``, ``NomCom``, ``CodeDep``, ``PopDGF<year>``,
        ``PF4Taxes<year>``, ``DF<year>``...; Latin-1, ``;``, CRLF, quoted) or
        any CSV/table with a ``columns`` mapping.
    year : int, optional
        Year of the DGCL columns; the latest year with population, potentiel
        fiscal and dotation forfaitaire is used by default.
    columns : mapping or str, optional
        ``{canonical: source}`` for other tables, e.g.
        ``{"commune": "insee", "population": "pop", "potentiel_financier": "pfin"}``
        (CLI ``--columns commune=insee,...``). ``commune`` and at least one
        capacity column (``potentiel_fiscal``, ``dotation_forfaitaire``,
        ``potentiel_financier``, ``pf_per_inhabitant``, ``pfin_per_inhabitant``)
        are required; missing derived columns are computed when possible.

    Returns
    -------
    DataFrame
        The canonical columns (module docstring), then the other source
        columns. ``attrs``: ``year``, ``source``, ``pfin_dotation_year``.

    Raises
    ------
    ValidationError
        Missing columns or year, malformed or duplicate commune codes,
        non-numeric or negative values.

    Examples
    --------
    >>> from cohesion_geo.datasets import real_path
    >>> fin = load_finance(real_path("finance"))  # doctest: +SKIP
    >>> len(fin), fin.attrs["year"]  # doctest: +SKIP
    (35443, 2018)
    """
    path = Path(path)
    source = str(path)
    mapping = parse_columns(columns)
    strings = ("CodeCom", "CodeDep", "NomCom", "CODGEO", "DEPCOM", "INSEE_COM", "LIBGEO",
               *(v for k, v in mapping.items() if k in ("commune", "commune_name", "department")))  # fmt: skip
    frame = read_table(path, string_columns=strings)
    frame = pd.DataFrame(frame.drop(columns="geometry", errors="ignore"))
    if len(frame) == 0:
        raise ValidationError(source, ["the finance table has no rows"])
    problems = Problems(source)
    attrs: dict[str, object] = {"source": source, "year": year, "pfin_dotation_year": None}
    prev_dotation = None
    if mapping:
        data = apply_mapping(frame, mapping, source=source)
        if "commune" not in data.columns:
            problems.add("the column mapping must name 'commune' (e.g. commune=CODGEO)")
        if not any(c in data.columns for c in CAPACITY_COLUMNS):
            problems.add(
                "the column mapping names no capacity column; give one of "
                + ", ".join(CAPACITY_COLUMNS)
                + " (e.g. potentiel_financier=PFIN)"
            )
        problems.raise_if_any()
    else:
        data, chosen, prev_dotation = _dgcl_frame(frame, year=year, source=source)
        attrs["year"] = chosen
        attrs["pfin_dotation_year"] = chosen - 1 if prev_dotation is not None else chosen

    commune = normalise_codes(
        data["commune"], width=5, pattern=COMMUNE_PATTERN, column=mapping.get("commune") or find_column(frame, _CODE),
        problems=problems, what="commune code",
    )  # fmt: skip
    dup = duplicated_codes(commune)
    if dup.any():
        problems.add(f"duplicate commune codes in {example_rows(dup, labels=list(commune.to_numpy()))}")
    data = data.copy()
    data["commune"] = commune.astype("string")
    data = to_numeric(data, [c for c in _NUMERIC if c in data.columns], problems, nonnegative=True)
    if prev_dotation is not None:  # PF(year) + DF(year - 1): DF(year - 1) checked under its name, kept as read
        dotation = to_numeric(data[[prev_dotation]], [prev_dotation], problems, nonnegative=True)[prev_dotation]
        data["potentiel_financier"] = data["potentiel_fiscal"] + dotation
    problems.raise_if_any()

    pop = data["population"] if "population" in data.columns else None
    with np.errstate(divide="ignore", invalid="ignore"):
        if "potentiel_financier" not in data and {"potentiel_fiscal", "dotation_forfaitaire"} <= set(data):
            data["potentiel_financier"] = data["potentiel_fiscal"] + data["dotation_forfaitaire"]
        if pop is not None:
            safe = pop.where(pop > 0)
            if "pf_per_inhabitant" not in data and "potentiel_fiscal" in data:
                data["pf_per_inhabitant"] = data["potentiel_fiscal"] / safe
            if "pfin_per_inhabitant" not in data and "potentiel_financier" in data:
                data["pfin_per_inhabitant"] = data["potentiel_financier"] / safe
            data["size_group"] = size_group(pop)
            data["dsu_group"] = dsu_group(pop)
    for col in ("commune_name", "department"):
        if col in data.columns:
            data[col] = text(data[col])
    if "commune_name" not in data.columns:
        data["commune_name"] = pd.Series(pd.NA, index=data.index, dtype="string")
    first = [c for c in ("commune", "commune_name", "department", *_NUMERIC, "size_group", "dsu_group")
             if c in data.columns]  # fmt: skip
    out = data[[*first, *(c for c in data.columns if c not in first)]].reset_index(drop=True)
    out.attrs = attrs
    return out


def _dgcl_frame(frame: pd.DataFrame, *, year: int | None, source: str) -> tuple[pd.DataFrame, int, str | None]:
    """Rename the DGCL columns of ``year`` (or the latest complete year) to canonical names.

    Returns the renamed frame, the year and the previous year's dotation column
    (``DF<year-1>``, ``None`` when absent). Structural problems raise here;
    values are checked by :func:`load_finance`.
    """
    problems = Problems(source)
    cols = [str(c) for c in frame.columns]
    code = find_column(frame, _CODE)
    if code is None:
        problems.add(
            "no commune code column ('CodeCom'); for another layout give a mapping, e.g. "
            "columns={'commune': 'insee', 'potentiel_financier': 'pfin', 'population': 'pop'}"
        )
    years = _dgcl_years(cols)
    complete = sorted(set(years["pop"]) & set(years["pf"]) & set(years["df"]))
    if not complete:
        problems.add(
            "no year with population DGF, potentiel fiscal and dotation forfaitaire columns "
            "(PopDGF<year>, PF4Taxes<year>, DF<year>); for another layout give a columns= mapping; "
            f"columns present: {', '.join(cols[:20])}"
        )
        problems.raise_if_any()
    chosen = complete[-1] if year is None else year
    if chosen not in complete:
        problems.add(
            f"year {year} not in the table; years with population, potentiel fiscal and dotation "
            f"forfaitaire: {', '.join(map(str, complete))}"
        )
    problems.raise_if_any()
    assert code is not None
    rename = {
        code: "commune",
        years["pop"][chosen]: "population",
        years["pf"][chosen]: "potentiel_fiscal",
        years["df"][chosen]: "dotation_forfaitaire",
    }
    name = find_column(frame, ("NomCom", "LIBGEO", "NOM_COM"))
    dep = find_column(frame, ("CodeDep", "DEP"))
    if name:
        rename[name] = "commune_name"
    if dep:
        rename[dep] = "department"
    data = frame.rename(columns=rename)
    # keep the year's source columns under their own names as well (for traceability)
    for src in (years["pop"][chosen], years["pf"][chosen], years["df"][chosen]):
        data[src] = frame[src].to_numpy()
    return data, chosen, years["df"].get(chosen - 1)
