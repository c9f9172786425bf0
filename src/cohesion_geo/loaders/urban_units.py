"""Urban units (*unités urbaines*): which commune belongs to which agglomeration.

The QPV rule works inside an INSEE urban unit of 10,000+ inhabitants, and the
income threshold mixes the national median with the urban unit's own.
:func:`load_urban_units` returns the commune -> urban unit table from

1. an INSEE composition file (``CODGEO``, ``UU2020``, ``LIBUU2020``; the CSV
   export of the xlsx keeps title lines above the header: they are skipped), or
2. the ``UU2020`` column of a BPE facilities frame (no names there), or
3. nothing: the study area is then treated as **one** urban unit, with a
   warning saying so (``urban_unit = "study_area"``).

Canonical columns
=================
``commune``          5-char commune code, str, unique
``urban_unit``       urban unit code (``UU2020``: 5 characters, ``dd000`` / ``9A000``...
                     for communes outside any urban unit), str
``urban_unit_name``  name (``LIBUU2020``), str or ``<NA>``
``rural``            bool: the commune lies outside any urban unit (code ending in ``000``)
other columns        kept under their source names
``attrs``            ``source``, ``vintage`` (e.g. 2020), ``assumed_single_unit`` (bool)

:func:`urban_unit_population` sums the grid's inhabitants by urban unit.
"""

from __future__ import annotations

import logging
import os
import re
import warnings
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from .._validate import Problems, example_rows
from ..errors import CohesionGeoWarning, ConfigError, ValidationError
from ._common import COMMUNE_PATTERN, duplicated_codes, find_column, normalise_codes, text
from ._read import read_table, sniff_csv

__all__ = ["STUDY_AREA_UNIT", "load_urban_units", "urban_unit_population"]

logger = logging.getLogger(__name__)

#: Code given to the study area when no urban-unit table is available.
STUDY_AREA_UNIT = "study_area"

_COMMUNE = ("CODGEO", "DEPCOM", "COM", "INSEE_COM", "CODE_COMMUNE", "commune")


def _header_row(path: Path, *, max_lines: int = 30) -> int:
    """Index of the header line (the first naming a commune column) of a CSV."""
    enc, sep, _ = sniff_csv(path)
    with path.open("r", encoding=enc, errors="replace") as fh:
        for i, line in enumerate(fh):
            if i >= max_lines:
                break
            cells = [c.strip().strip('"').upper() for c in re.split(r"[;,\t|]", line)]
            if any(c in {n.upper() for n in _COMMUNE} for c in cells) and any(
                re.fullmatch(r"UU\d{4}|UU", c) for c in cells
            ):
                return i
    return 0


def _uu_column(frame: pd.DataFrame) -> tuple[str | None, str | None, int | None]:
    """``(code column, name column, vintage)``: the latest ``UU<year>`` present."""
    found = []
    for col in frame.columns:
        m = re.fullmatch(r"UU(\d{4})", str(col), flags=re.IGNORECASE)
        if m:
            found.append((int(m.group(1)), str(col)))
    if not found:
        code = find_column(frame, ("urban_unit", "UU"))
        name = find_column(frame, ("urban_unit_name", "LIBUU"))
        return code, name, None
    vintage, code = max(found)
    name = find_column(frame, (f"LIBUU{vintage}", f"LIB_UU{vintage}", "LIBUU", "urban_unit_name"))
    return code, name, vintage


def _communes_list(communes: Iterable[str] | pd.DataFrame | pd.Series | None) -> pd.Series | None:
    if communes is None:
        return None
    if isinstance(communes, pd.DataFrame):
        if "commune" not in communes.columns:
            raise ConfigError(
                "communes: the frame has no 'commune' column (the canonical grid has one when the "
                "source carries Depcom/lcog_geo)"
            )
        values = communes["commune"]
    else:
        values = pd.Series(list(communes) if not isinstance(communes, pd.Series) else communes)
    codes = text(values).dropna().str.upper().str.zfill(5)
    return pd.Series(sorted(codes.unique()), dtype="string")


def load_urban_units(
    path: str | os.PathLike | None = None,
    *,
    communes: Iterable[str] | pd.DataFrame | pd.Series | None = None,
    facilities: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Commune -> urban unit table.

    Parameters
    ----------
    path : path, optional
        INSEE composition of urban units (``CODGEO``, ``UU2020``,
        ``LIBUU2020``...; CSV, title lines above the header skipped) or any
        table with a commune code and a ``UU<year>`` column.
    communes : iterable of str, Series or DataFrame with ``commune``, optional
        The study area's communes (e.g. the canonical grid). With ``path`` or
        ``facilities`` the table is restricted to them (those absent are
        reported in a warning); alone, they form one urban unit.
    facilities : DataFrame, optional
        A BPE frame (:func:`~cohesion_geo.loaders.load_facilities` output, or
        raw with ``DEPCOM`` and ``UU2020``): the table is derived from it.

    Returns
    -------
    DataFrame
        ``commune``, ``urban_unit``, ``urban_unit_name``, ``rural``, other
        source columns. ``attrs["assumed_single_unit"]`` is True when the study
        area was taken as one urban unit.

    Raises
    ------
    ConfigError
        Nothing to build the table from, or both ``path`` and ``facilities``.
    ValidationError
        Missing columns, malformed codes, a commune listed twice with
        different urban units.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     uu = load_urban_units(communes=["33063", "33318"])
    >>> uu["urban_unit"].tolist(), uu.attrs["assumed_single_unit"]
    (['study_area', 'study_area'], True)
    """
    wanted = _communes_list(communes)
    if path is not None and facilities is not None:
        raise ConfigError("give either an urban-unit file (path) or a facilities frame, not both")
    if path is not None:
        table = _from_file(Path(path))
    elif facilities is not None:
        table = _from_facilities(facilities)
    else:
        if wanted is None or len(wanted) == 0:
            raise ConfigError(
                "no urban-unit information: give an INSEE composition file, a BPE facilities frame "
                "(UU2020 column) or the study area's communes (communes=grid)"
            )
        message = (
            f"no urban-unit table given: the study area ({len(wanted)} communes) is treated as ONE "
            "urban unit; give the INSEE composition of urban units for the official rule"
        )
        warnings.warn(message, CohesionGeoWarning, stacklevel=2)
        logger.info(message)
        table = pd.DataFrame(
            {
                "commune": wanted.to_numpy(),
                "urban_unit": STUDY_AREA_UNIT,
                "urban_unit_name": "study area (assumed one urban unit)",
            }
        )
        table["rural"] = False
        for col in ("commune", "urban_unit", "urban_unit_name"):
            table[col] = table[col].astype("string")
        table.attrs = {"source": None, "vintage": None, "assumed_single_unit": True}
        return table

    if wanted is not None:
        absent = wanted[~wanted.isin(table["commune"])]
        if len(absent):
            warnings.warn(
                f"{table.attrs['source']}: {len(absent)} of the study area's {len(wanted)} communes have "
                f"no urban unit in the table (e.g. {', '.join(absent.head(5))}); they are left out",
                CohesionGeoWarning,
                stacklevel=2,
            )
        attrs = table.attrs
        table = table[table["commune"].isin(wanted)].reset_index(drop=True)
        table.attrs = attrs
    return table


def _finish(
    commune: pd.Series, code: pd.Series, name: pd.Series | None, rest: pd.DataFrame | None
) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            "commune": commune.astype("string").to_numpy(),
            "urban_unit": code.astype("string").to_numpy(),
            "urban_unit_name": name.astype("string").to_numpy() if name is not None else pd.NA,
        }
    )
    out["urban_unit_name"] = out["urban_unit_name"].astype("string")
    out["rural"] = out["urban_unit"].str.endswith("000").fillna(False).astype(bool)
    if rest is not None:
        rest = rest.reset_index(drop=True)
        out = pd.concat([out, rest.drop(columns=[c for c in rest.columns if c in out.columns])], axis=1)
    return out


def _from_file(path: Path) -> pd.DataFrame:
    source = str(path)
    skip = 0
    if path.suffix.lower() in {".csv", ".txt", ".tsv"}:
        skip = _header_row(path)
    frame = read_table(path, skiprows=skip, string_columns=(*_COMMUNE, "UU2020", "UU2010", "UU"))
    frame = pd.DataFrame(frame.drop(columns="geometry", errors="ignore"))
    com_col = find_column(frame, _COMMUNE)
    code_col, name_col, vintage = _uu_column(frame)
    problems = Problems(source)
    if com_col is None:
        problems.add(f"no commune code column (CODGEO); columns present: {', '.join(map(str, frame.columns))}")
    if code_col is None:
        problems.add(f"no urban-unit column (UU2020); columns present: {', '.join(map(str, frame.columns))}")
    problems.raise_if_any()
    assert com_col is not None and code_col is not None
    if len(frame) == 0:
        raise ValidationError(source, ["the urban-unit table has no rows"])
    commune = normalise_codes(
        frame[com_col], width=5, pattern=COMMUNE_PATTERN, column=com_col, problems=problems, what="commune code"
    )
    code = text(frame[code_col]).str.upper()
    missing = code.isna().to_numpy()
    if missing.any():
        problems.add(f"column {code_col!r}: missing urban-unit code in {example_rows(missing)}")
    dup = duplicated_codes(commune)
    if dup.any():
        problems.add(f"communes listed twice in {example_rows(dup, labels=list(commune.to_numpy()))}")
    problems.raise_if_any()
    rest = frame.drop(columns=[c for c in (com_col, code_col, name_col) if c is not None])
    out = _finish(commune, code, text(frame[name_col]) if name_col else None, rest)
    out.attrs = {"source": source, "vintage": vintage, "assumed_single_unit": False}
    return out


def _from_facilities(facilities: pd.DataFrame) -> pd.DataFrame:
    source = str(facilities.attrs.get("source", "facilities frame"))
    frame = pd.DataFrame(facilities.drop(columns="geometry", errors="ignore"))
    if "urban_unit" in frame.columns and "commune" in frame.columns:
        com_col, code_col, vintage = "commune", "urban_unit", None
    else:
        com_col = find_column(frame, _COMMUNE)
        code_col, _, vintage = _uu_column(frame)
    if com_col is None or code_col is None:
        raise ValidationError(
            source,
            [
                "the facilities frame has no commune and urban-unit columns ('commune'/'urban_unit' "
                f"from load_facilities, or DEPCOM/UU2020); columns: {', '.join(map(str, frame.columns))}"
            ],
        )
    problems = Problems(source)
    commune = normalise_codes(
        frame[com_col], width=5, pattern=COMMUNE_PATTERN, column=com_col, problems=problems, what="commune code"
    )
    code = text(frame[code_col]).str.upper()
    pairs = pd.DataFrame({"commune": commune, "urban_unit": code}).dropna().drop_duplicates()
    conflict = pairs["commune"].duplicated(keep=False).to_numpy()
    if conflict.any():
        labels = list((pairs["commune"] + "->" + pairs["urban_unit"]).to_numpy())
        problems.add("communes with several urban units in " + example_rows(conflict, labels=labels))
    problems.raise_if_any()
    if pairs.empty:
        raise ValidationError(source, [f"column {code_col!r}: no urban-unit code in the facilities frame"])
    pairs = pairs.sort_values("commune").reset_index(drop=True)
    out = _finish(pairs["commune"], pairs["urban_unit"], None, None)
    out.attrs = {"source": source, "vintage": vintage or 2020, "assumed_single_unit": False}
    return out


def urban_unit_population(
    grid: pd.DataFrame,
    urban_units: pd.DataFrame | None = None,
    *,
    column: str = "ind",
) -> pd.Series:
    """Inhabitants of each urban unit, summed over the grid's cells.

    Cells are matched to urban units through their ``commune``. Without
    ``urban_units`` (or when the table assumed a single unit) the whole grid is
    one unit, ``"study_area"``. **The sum only covers the grid**: when the grid
    is cut to a study area (e.g. Bordeaux Métropole) it under-counts urban
    units that extend beyond it; use INSEE's legal populations for the 10,000
    inhabitants test when the grid does not cover the whole unit.

    Parameters
    ----------
    grid : DataFrame
        Canonical grid frame (``column`` and, with ``urban_units``, ``commune``).
    urban_units : DataFrame, optional
        Output of :func:`load_urban_units`.
    column : str, default "ind"
        Count to sum.

    Returns
    -------
    Series
        Indexed by ``urban_unit`` (name ``column``), sorted by decreasing
        population; cells whose commune has no urban unit are counted under
        ``<NA>`` and reported in a warning.

    Examples
    --------
    >>> g = pd.DataFrame({"ind": [10.0, 20.0, 5.0], "commune": ["33063", "33063", "33318"]})
    >>> uu = pd.DataFrame({"commune": ["33063", "33318"], "urban_unit": ["33701", "33701"]})
    >>> urban_unit_population(g, uu).to_dict()
    {'33701': 35.0}
    """
    if column not in grid.columns:
        raise ValidationError("grid", [f"the grid has no {column!r} column to sum"])
    values = pd.to_numeric(grid[column], errors="coerce").astype("float64")
    single = urban_units is None or bool(urban_units.attrs.get("assumed_single_unit", False))
    if single:
        return pd.Series({STUDY_AREA_UNIT: float(values.sum())}, name=column).rename_axis("urban_unit")
    assert urban_units is not None
    if "commune" not in grid.columns:
        raise ValidationError(
            "grid",
            ["the grid has no 'commune' column: cannot match cells to urban units (pass urban_units=None)"],
        )
    lookup = urban_units.drop_duplicates("commune").set_index("commune")["urban_unit"]
    unit = grid["commune"].astype("string").map(lookup)
    unmatched = unit.isna().to_numpy()
    if unmatched.any():
        warnings.warn(
            f"grid: {example_rows(unmatched)} have a commune without urban unit "
            f"({float(values[unmatched].sum()):,.0f} inhabitants counted under <NA>)",
            CohesionGeoWarning,
            stacklevel=2,
        )
    out = values.groupby(unit.to_numpy(), dropna=False).sum()
    out.index = pd.Index(out.index, dtype="string", name="urban_unit")
    out.name = column
    return out.sort_values(ascending=False)
