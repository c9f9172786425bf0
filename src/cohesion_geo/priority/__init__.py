"""Priority module: candidate quartiers from the grid, and how close they come to official ones.

Delineation half (this package's ``threshold``, ``rules``, ``grouping``,
``raster``, ``delineate`` and ``evaluate`` modules):

- :func:`official_threshold`, :data:`NATIONAL_MEDIANS`: the decree's threshold S;
- :func:`delineate`: cells -> candidate quartiers (:class:`DelineationResult`);
- :func:`evaluate`: population-weighted recall / precision / F1 against official
  perimeters.

See ``docs/delineation.md`` for the rules, the calibration on Lille and the
benchmark.
"""

from __future__ import annotations

from .delineate import REASONS, DelineationResult, delineate, resolve_urban_units
from .evaluate import EvaluationResult, evaluate
from .rules import RULES, Rule, get_rule
from .threshold import (
    MAINLAND,
    NATIONAL_MEDIANS,
    NATIONAL_MEDIANS_SOURCE,
    OVERSEAS,
    RuleSet,
    estimate_urban_median,
    national_median,
    official_threshold,
    weighted_median,
)

__all__ = [
    "DelineationResult",
    "EvaluationResult",
    "MAINLAND",
    "NATIONAL_MEDIANS",
    "NATIONAL_MEDIANS_SOURCE",
    "OVERSEAS",
    "REASONS",
    "RULES",
    "Rule",
    "RuleSet",
    "delineate",
    "estimate_urban_median",
    "evaluate",
    "get_rule",
    "national_median",
    "official_threshold",
    "resolve_urban_units",
    "weighted_median",
]
