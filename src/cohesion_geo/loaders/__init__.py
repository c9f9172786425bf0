"""Loaders: INSEE grids, IRIS, residents' reports, facilities, finance, urban units.

Each loader reads a file (never modifying it), validates it through
:mod:`cohesion_geo._validate` (reporting every problem at once) and returns a
frame in a documented canonical schema.
"""

from __future__ import annotations

from .grid import COUNT_COLUMNS, detect_vintage, harmonise_grid, load_grid, parse_columns

__all__ = ["COUNT_COLUMNS", "detect_vintage", "harmonise_grid", "load_grid", "parse_columns"]
