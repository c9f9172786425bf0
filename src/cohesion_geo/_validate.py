"""One validation layer: collect every problem of an input, then report them all.

Loaders build a :class:`Problems` collector, run the checks they need and call
:meth:`Problems.raise_if_any`, so a user sees every missing column, duplicate id
and bad value of a file in one message instead of fixing them one at a time.
Recoverable row-level problems (a few bad points) are dropped by
:func:`drop_rows` (or :func:`drop_for_reasons`, one warning per reason) with a
:class:`~cohesion_geo.errors.DroppedRowsWarning`.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from pyproj import CRS

from .errors import CRSError, DroppedRowsWarning, MissingColumnsError, ValidationError

__all__ = [
    "Problems",
    "check_same_crs",
    "drop_for_reasons",
    "drop_rows",
    "example_rows",
    "require_columns",
    "require_projected",
    "to_numeric",
]


def example_rows(mask: np.ndarray | pd.Series, *, labels: Sequence[Any] | None = None, n: int = 3) -> str:
    """Describe the rows where ``mask`` is true: ``'3 rows, e.g. rows 4, 10, 11'``.

    Row numbers are 1-based data rows (the header line is not counted), so they
    match a spreadsheet's numbering minus one.
    """
    mask = np.asarray(mask, dtype=bool)
    idx = np.flatnonzero(mask)
    count = idx.size
    shown = ", ".join(str(i + 1) for i in idx[:n])
    extra = ""
    if labels is not None:
        vals = [repr(getattr(labels[i], "item", lambda v=labels[i]: v)()) for i in idx[:n]]
        extra = f" ({', '.join(vals)})"
    more = ", ..." if count > n else ""
    return f"{count} row{'s' if count != 1 else ''}, e.g. row{'s' if count != 1 else ''} {shown}{more}{extra}"


class Problems:
    """Collector of validation problems for one input.

    Examples
    --------
    >>> p = Problems("cells.csv")
    >>> p.add("column 'ind': 2 negative values")
    >>> p.add("duplicate cell ids")
    >>> try:
    ...     p.raise_if_any()
    ... except ValidationError as e:
    ...     print(len(e.problems))
    2
    """

    def __init__(self, source: str) -> None:
        self.source = str(source)
        self.items: list[str] = []

    def add(self, message: str) -> None:
        self.items.append(message)

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self) -> None:
        if self.items:
            raise ValidationError(self.source, self.items)


def require_columns(
    frame: pd.DataFrame, required: Iterable[str], *, source: str, what: str = "table"
) -> None:
    """Raise :class:`MissingColumnsError` listing every missing column at once."""
    missing = [c for c in required if c not in frame.columns]
    if missing:
        present = ", ".join(map(str, frame.columns[:25]))
        raise MissingColumnsError(
            f"{source}: {what} lacks required column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(repr(m) for m in missing)}; columns present: {present}"
            + (" ..." if len(frame.columns) > 25 else "")
        )


def to_numeric(
    frame: pd.DataFrame,
    columns: Iterable[str],
    problems: Problems,
    *,
    nonnegative: bool = True,
    missing_markers: Iterable[str] = (),
) -> pd.DataFrame:
    """Return a copy of ``frame`` with ``columns`` as float64, noting bad values.

    Non-numeric strings (other than ``missing_markers``, read as missing) and,
    when ``nonnegative``, negative values are added to ``problems`` with
    example rows.
    """
    out = frame.copy(deep=False)  # columns are replaced, never modified in place (copy-on-write)
    markers = set(missing_markers)
    for col in columns:
        if col not in out.columns:
            continue
        raw = out[col]
        if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
            values = raw.astype("float64")
        else:
            text = raw.astype("string").str.strip()
            if markers:
                text = text.mask(text.isin(markers))
            text = text.str.replace(",", ".", regex=False)
            values = pd.to_numeric(text, errors="coerce").astype("float64")
            bad = values.isna() & text.notna() & (text != "")
            if bad.any():
                problems.add(
                    f"column {col!r}: non-numeric values in "
                    f"{example_rows(bad.to_numpy(), labels=list(text.to_numpy()))}"
                )
        if nonnegative:
            neg = (values < 0).to_numpy()
            if neg.any():
                problems.add(
                    f"column {col!r}: negative values in "
                    f"{example_rows(neg, labels=list(values.to_numpy()))}"
                )
        out[col] = values
    return out


def drop_rows(frame: pd.DataFrame, bad: np.ndarray | pd.Series, *, source: str, reason: str) -> pd.DataFrame:
    """Drop recoverable bad rows with a warning that counts them and names examples."""
    return drop_for_reasons(frame, [(np.asarray(bad, dtype=bool), reason)], source=source, stacklevel=4)


def drop_for_reasons(
    frame: pd.DataFrame, reasons: Sequence[tuple[np.ndarray, str]], *, source: str, stacklevel: int = 3
) -> pd.DataFrame:
    """Drop rows flagged by several masks, one counted warning per reason.

    Each mask is over the rows of ``frame`` (so the example row numbers are the
    file's); a row flagged by an earlier reason is not counted again.
    """
    taken = np.zeros(len(frame), dtype=bool)
    for mask, reason in reasons:
        mask = np.asarray(mask, dtype=bool) & ~taken
        if mask.any():
            warnings.warn(
                f"{source}: dropped {example_rows(mask)}: {reason}", DroppedRowsWarning, stacklevel=stacklevel
            )
        taken |= mask
    if taken.any():
        return frame.loc[~taken].reset_index(drop=True)
    return frame


def require_projected(crs: Any, *, what: str) -> CRS:
    """Return ``crs`` as a :class:`pyproj.CRS`; raise if missing or geographic.

    Distances and areas in cohesion-geo are Euclidean metres: a geographic CRS
    (degrees) is refused with a message saying what to do.
    """
    if crs is None:
        raise CRSError(f"{what} has no CRS; set one (e.g. EPSG:2154 for mainland France)")
    crs = CRS.from_user_input(crs)
    if not crs.is_projected:
        raise CRSError(
            f"{what} is in a geographic CRS ({crs.to_string()}), distances would be in "
            "degrees; reproject it first, e.g. .to_crs(2154) (Lambert-93) or .to_crs(3035)"
        )
    unit = crs.axis_info[0].unit_name if crs.axis_info else "metre"
    if unit not in ("metre", "meter"):
        raise CRSError(f"{what} CRS {crs.to_string()} is in {unit}, not metres")
    return crs


def check_same_crs(a: Any, b: Any, *, what_a: str, what_b: str) -> None:
    """Raise :class:`CRSError` naming both CRS when ``a`` and ``b`` differ."""
    ca = CRS.from_user_input(a) if a is not None else None
    cb = CRS.from_user_input(b) if b is not None else None
    if ca is None or cb is None or not ca.equals(cb):
        sa = ca.to_string() if ca is not None else "no CRS"
        sb = cb.to_string() if cb is not None else "no CRS"
        raise CRSError(
            f"CRS mismatch: {what_a} is in {sa} but {what_b} is in {sb}; "
            f"reproject one with .to_crs()"
        )
