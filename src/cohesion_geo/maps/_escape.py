"""The one HTML-escaping helper every map, legend and tooltip goes through.

folium's ``GeoJsonTooltip``/``GeoJsonPopup`` and Leaflet's layer control insert
strings as raw HTML: a quartier named ``<img src=x onerror=...>`` would run
script in the reader's browser. Every text that comes from a user file (names,
categories, comments, column labels, layer names, titles) is passed through
:func:`escape_text` before it reaches a map.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable
from typing import Any

import pandas as pd

__all__ = ["escape_text", "escape_frame"]


def escape_text(value: Any, /) -> str:
    """Return ``value`` as a string safe to insert into HTML (text or attribute).

    ``None`` and NaN become the empty string; everything else goes through
    ``str`` then :func:`html.escape` with ``quote=True`` (``<``, ``>``, ``&``,
    ``"`` and ``'`` are replaced by entities). Escaping also keeps a
    ``</script>`` inside a value from closing the script block in which folium
    embeds the GeoJSON.

    Examples
    --------
    >>> escape_text('<script>alert(1)</script>')
    '&lt;script&gt;alert(1)&lt;/script&gt;'
    >>> escape_text('" onmouseover="x')
    '&quot; onmouseover=&quot;x'
    >>> escape_text(None)
    ''
    """
    if value is None:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    try:
        if pd.isna(value) is True:
            return ""
    except (TypeError, ValueError):
        pass
    return html.escape(str(value), quote=True)


def escape_frame(frame: pd.DataFrame, /, *, columns: Iterable[str] | None = None) -> pd.DataFrame:
    """Return a copy of ``frame`` whose text columns are HTML-escaped.

    Only object, string and categorical columns are touched (numbers cannot
    carry markup); ``geometry`` is never touched. Column *names* are escaped
    too, so a column called ``<b>x`` cannot inject markup in a tooltip header.
    """
    out = frame.copy()
    cols = list(out.columns) if columns is None else list(columns)
    for col in cols:
        if col == "geometry" or col not in out.columns:
            continue
        s = out[col]
        if (
            pd.api.types.is_object_dtype(s)
            or pd.api.types.is_string_dtype(s)
            or isinstance(s.dtype, pd.CategoricalDtype)
        ):
            out[col] = s.astype(object).map(escape_text)
    rename = {c: escape_text(c) for c in out.columns if isinstance(c, str) and c != "geometry"}
    if any(k != v for k, v in rename.items()):
        out = out.rename(columns=rename)
    return out
