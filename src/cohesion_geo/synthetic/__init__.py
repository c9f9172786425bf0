"""SYNTHETIC data: the project's own seeded generators (no real person described).

A clone with no real-data directory still runs the demo and the core tests on
"Synthville", a fictional agglomeration generated here in the exact raw layouts
of the real INSEE / IGN / DGCL files. Everything is drawn from
``np.random.default_rng(seed)``: the same seed gives the same frames and
byte-identical files.

- :func:`make_territory` -> :class:`Territory`: Filosofi 2015 grid (raw CSV
  layout), IRIS contours and IRIS income, BPE facilities, DGCL finance table,
  urban units and resident reports.
- :func:`make_reports`: synthetic resident reports on any 200 m grid (the
  synthetic one or the real Bordeaux grid).
- :func:`make_grid`: a national-size raw grid (2.3 million cells) for benchmarks.
- :func:`write_territory`: write every layer; :func:`synthetic_dir`: where the
  shipped files are (``python -m cohesion_geo.synthetic`` regenerates them).

Examples
--------
>>> from cohesion_geo.synthetic import synthetic_path
>>> synthetic_path("grid").name
'synthetic_filosofi2015_200m.csv'
"""

from __future__ import annotations

from pathlib import Path

from ._layouts import (
    BPE_2020_COLUMNS,
    DGCL_FINANCE_COLUMNS,
    FILOSOFI_2015_COLUMNS,
    FILOSOFI_IRIS_2018_COLUMNS,
    IRIS_CONTOUR_COLUMNS,
    REPORT_COLUMNS,
    URBAN_UNIT_COLUMNS,
)
from ._write import BORDEAUX_REPORTS, FILES, bordeaux_reports, write_reports, write_territory
from .grid import grid_frame, make_grid
from .reports import CATEGORIES, ODD_LABELS, make_reports
from .territory import COMMUNES, ESTATES, Territory, make_territory

__all__ = [
    "BORDEAUX_REPORTS",
    "BPE_2020_COLUMNS",
    "CATEGORIES",
    "COMMUNES",
    "DGCL_FINANCE_COLUMNS",
    "ESTATES",
    "FILES",
    "FILOSOFI_2015_COLUMNS",
    "FILOSOFI_IRIS_2018_COLUMNS",
    "IRIS_CONTOUR_COLUMNS",
    "ODD_LABELS",
    "REPORT_COLUMNS",
    "Territory",
    "URBAN_UNIT_COLUMNS",
    "bordeaux_reports",
    "grid_frame",
    "make_grid",
    "make_reports",
    "make_territory",
    "synthetic_dir",
    "synthetic_path",
    "write_reports",
    "write_territory",
]


def synthetic_dir() -> Path:
    """Folder of the shipped SYNTHETIC files (package data; works installed or from a checkout).

    Examples
    --------
    >>> (synthetic_dir() / "synthetic_filosofi2015_200m.csv").is_file()
    True
    """
    return Path(__file__).resolve().parent / "data"


def synthetic_path(key: str) -> Path:
    """Path of one shipped synthetic file: a key of :data:`FILES` or ``"bordeaux_reports"``.

    Examples
    --------
    >>> synthetic_path("iris").suffix
    '.gpkg'
    """
    if key == "bordeaux_reports":
        return synthetic_dir() / BORDEAUX_REPORTS
    if key not in FILES:
        raise KeyError(f"unknown synthetic file {key!r}; known: {', '.join(sorted(FILES))}, bordeaux_reports")
    return synthetic_dir() / FILES[key]
