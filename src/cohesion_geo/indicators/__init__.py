"""Indicator engine: the few indicators a debate needs, where they cluster, what residents say.

One module per family of measures (momepy manner), pure functions taking
Series/DataFrames (and an explicit graph where needed) and returning pandas
objects aligned on the input index:

- :mod:`.cell` -- cell indicators, ratios of counts (poverty rate, social housing...);
- :mod:`.scores` -- composite poverty and isolation scores, standardised within urban units;
- :mod:`.access` -- distance to the nearest facility and count within a walking radius;
- :mod:`.aggregate` -- aggregation to IRIS, communes, quartiers or any polygons (area-weighted);
- :mod:`.residents` -- resident reports per cell/area, density raster, confrontation layer;
- :mod:`.graph`, :mod:`.autocorrelation` -- grid contiguity graph, Moran's I, LISA, Gi*;
- :mod:`.pipeline` -- :func:`add_indicators`, everything at once on a grid.

Column names and formulas: ``docs/indicators.md``.
"""

from __future__ import annotations

from .access import facilities_within, facility_access, nearest_facility_distance, select_facilities
from .aggregate import aggregate, apportion, secret_flag, sum_by
from .cell import (
    INDICATORS,
    available_indicators,
    cell_indicators,
    children_share,
    dwellings,
    elderly_share,
    floor_area_per_person,
    large_household_share,
    mean_std_living,
    one_person_share,
    owner_share,
    poverty_rate,
    pre1970_housing_share,
    ratio,
    single_parent_share,
    social_housing_share,
)
from .pipeline import INDICATOR_COLUMNS, add_indicators, urban_unit_groups
from .residents import (
    CATEGORIES,
    CONFRONTATION_CLASSES,
    area_reports,
    cell_raster,
    cell_reports,
    confront,
    report_density,
    write_raster,
    write_report_density,
)
from .scores import ISOLATION_WEIGHTS, POVERTY_WEIGHTS, composite_score, isolation_score, poverty_score, standardize

#: Names served lazily from the graph / autocorrelation modules (numba loads on first use).
_LAZY = {
    "grid_graph": "graph",
    "moran": "autocorrelation",
    "local_moran": "autocorrelation",
    "getis_ord_star": "autocorrelation",
}


def __getattr__(name: str):  # PEP 562
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CATEGORIES",
    "CONFRONTATION_CLASSES",
    "INDICATORS",
    "INDICATOR_COLUMNS",
    "ISOLATION_WEIGHTS",
    "POVERTY_WEIGHTS",
    "add_indicators",
    "aggregate",
    "apportion",
    "area_reports",
    "available_indicators",
    "cell_indicators",
    "cell_raster",
    "cell_reports",
    "children_share",
    "composite_score",
    "confront",
    "dwellings",
    "elderly_share",
    "facilities_within",
    "facility_access",
    "floor_area_per_person",
    "isolation_score",
    "large_household_share",
    "mean_std_living",
    "nearest_facility_distance",
    "one_person_share",
    "owner_share",
    "poverty_rate",
    "poverty_score",
    "pre1970_housing_share",
    "ratio",
    "report_density",
    "secret_flag",
    "select_facilities",
    "single_parent_share",
    "social_housing_share",
    "standardize",
    "sum_by",
    "urban_unit_groups",
    "write_raster",
    "write_report_density",
    *_LAZY,
]
