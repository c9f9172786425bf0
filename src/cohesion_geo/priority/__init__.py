"""Priority module: candidate quartiers from the grid, and how close they come to official ones.

Delineation (``threshold``, ``rules``, ``grouping``, ``raster``, ``perimeter``, ``delineate``
and ``evaluate`` modules):

- :func:`official_threshold`, :data:`NATIONAL_MEDIANS`: the decree's threshold S;
- :func:`delineate`: cells -> candidate quartiers (:class:`DelineationResult`);
  ``perimeter="interpolated"`` draws their edges between cell centres
  (``perimeter`` module);
- :func:`evaluate`: population-weighted recall / precision / F1 against official
  perimeters.

Weighing (``surroundings``, ``capacity``, ``weigh`` and ``score`` modules):

- :func:`surroundings`: each quartier against its ring and its urban unit;
- :func:`commune_capacity`, :func:`quartier_capacity`: financial potential
  per inhabitant against the commune's size group (DSU logic);
- :func:`weigh_quartiers`: all of it plus residents, then :func:`priority_score`
  (score, rank and each component's contribution, with plain-language reasons).

See ``docs/delineation.md`` and ``docs/weighing.md``.
"""

from __future__ import annotations

from .delineate import REASONS, DelineationResult, delineate, resolve_urban_units
from .capacity import cell_communes, commune_capacity, quartier_capacity
from .evaluate import EvaluationResult, evaluate
from .rules import RULES, Rule, get_rule
from .score import DEFAULT_WEIGHTS, parse_weights, priority_score, validate_weights
from .surroundings import SituationThresholds, classify_situation, surroundings
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
from .weigh import quartier_residents, weigh_quartiers

__all__ = [
    "DEFAULT_WEIGHTS",
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
    "SituationThresholds",
    "cell_communes",
    "classify_situation",
    "commune_capacity",
    "delineate",
    "estimate_urban_median",
    "evaluate",
    "get_rule",
    "national_median",
    "official_threshold",
    "parse_weights",
    "priority_score",
    "quartier_capacity",
    "quartier_residents",
    "resolve_urban_units",
    "surroundings",
    "validate_weights",
    "weigh_quartiers",
    "weighted_median",
]
