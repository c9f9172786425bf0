"""Loaders: INSEE grids, IRIS, residents' reports, facilities, finance, urban units.

Each loader reads a file (never modifying it), validates it through
:mod:`cohesion_geo._validate` (reporting every problem at once) and returns a
frame in a documented canonical schema (see docs/loaders.md).
"""

from __future__ import annotations

from .facilities import load_facilities
from .finance import SIZE_GROUP_BOUNDS, load_finance, size_group
from .grid import COUNT_COLUMNS, detect_vintage, harmonise_grid, load_grid, parse_columns
from .iris import IRIS_TYPES, load_iris, load_iris_income
from .reports import CATEGORIES, CATEGORY_LABELS, coarsen_reports, load_reports, map_categories
from .urban_units import STUDY_AREA_UNIT, load_urban_units, urban_unit_population

__all__ = [
    "CATEGORIES",
    "CATEGORY_LABELS",
    "COUNT_COLUMNS",
    "IRIS_TYPES",
    "SIZE_GROUP_BOUNDS",
    "STUDY_AREA_UNIT",
    "coarsen_reports",
    "detect_vintage",
    "harmonise_grid",
    "load_facilities",
    "load_finance",
    "load_grid",
    "load_iris",
    "load_iris_income",
    "load_reports",
    "load_urban_units",
    "map_categories",
    "parse_columns",
    "size_group",
    "urban_unit_population",
]
