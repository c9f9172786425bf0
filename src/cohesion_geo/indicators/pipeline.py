"""Convenience: add every indicator column to a grid GeoDataFrame.

:func:`add_indicators` chains the pure functions of this package on the
canonical grid frame and returns a new frame (the input is not modified). The
columns it adds are listed in ``docs/indicators.md`` and in
``result.attrs["indicators"]``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .._validate import require_projected
from ..errors import ConfigError, MissingColumnsError, ValidationError
from .access import DEFAULT_RADIUS, facility_access
from .aggregate import SECRET_MIN_HOUSEHOLDS, secret_flag
from .cell import INDICATORS, cell_indicators
from .residents import CATEGORIES, MIN_REPORTS, cell_reports, confront
from .scores import ISOLATION_WEIGHTS, isolation_score, poverty_score

__all__ = ["INDICATOR_COLUMNS", "add_indicators", "urban_unit_groups"]

#: Every column :func:`add_indicators` can add (those whose inputs exist are added).
INDICATOR_COLUMNS: tuple[str, ...] = (
    *INDICATORS,
    "secret",
    "urban_unit",
    "facility_distance",
    "facility_count",
    "poverty_score",
    "isolation_score",
    "reports_n",
    *(f"reports_{c}" for c in CATEGORIES),
    "reports_per_1000",
    "confrontation",
    "lisa_i",
    "lisa_p",
    "lisa_q",
    "lisa_cluster",
)


def urban_unit_groups(
    grid: pd.DataFrame,
    urban_units: pd.DataFrame | pd.Series,
) -> pd.Series:
    """Urban unit of each cell, for standardising scores within urban units.

    Parameters
    ----------
    grid : DataFrame
        Cells; needs ``commune`` unless ``urban_units`` is already per cell.
    urban_units : DataFrame or Series
        Either the table of :func:`cohesion_geo.loaders.load_urban_units`
        (``commune`` -> ``urban_unit``), a Series mapping commune codes to
        urban units (indexed by commune), or a Series already aligned on
        ``grid.index`` (one label per cell).

    Returns
    -------
    Series
        ``urban_unit`` per cell (string, missing outside any urban unit).

    Examples
    --------
    >>> g = pd.DataFrame({"commune": ["33063", "33999"]})
    >>> uu = pd.DataFrame({"commune": ["33063"], "urban_unit": ["33701"]})
    >>> urban_unit_groups(g, uu).tolist()
    ['33701', <NA>]
    """
    if isinstance(urban_units, pd.DataFrame):
        missing = [c for c in ("commune", "urban_unit") if c not in urban_units.columns]
        if missing:
            raise MissingColumnsError(f"urban units table lacks {', '.join(map(repr, missing))}")
        mapping = urban_units.drop_duplicates("commune").set_index("commune")["urban_unit"]
    elif isinstance(urban_units, pd.Series):
        if urban_units.index.equals(grid.index) and len(urban_units) == len(grid):
            return urban_units.astype("string").rename("urban_unit")
        mapping = urban_units
    else:
        raise ConfigError("urban_units must be a DataFrame (commune, urban_unit) or a Series")
    if "commune" not in grid.columns:
        raise MissingColumnsError("the grid has no 'commune' column to match urban units on")
    return grid["commune"].map(mapping).astype("string").rename("urban_unit")


def add_indicators(
    grid: gpd.GeoDataFrame,
    *,
    facilities: gpd.GeoDataFrame | None = None,
    reports: gpd.GeoDataFrame | None = None,
    urban_units: pd.DataFrame | pd.Series | None = None,
    facility_types: Sequence[str] | str | None = None,
    radius: float = DEFAULT_RADIUS,
    poverty_weights: Mapping[str, float] | None = None,
    isolation_weights: Mapping[str, float] | None = None,
    standardization: str = "z",
    population_weighted: bool = True,
    min_reports: int = MIN_REPORTS,
    stat_quantile: float = 0.8,
    resident_quantile: float = 0.8,
    confront_min_reports: int = 3,
    lisa: bool = False,
    permutations: int = 999,
    alpha: float = 0.05,
    fdr: bool = False,
    rng: int | np.random.Generator | None = None,
    suppress_secret: bool = False,
    min_households: int = SECRET_MIN_HOUSEHOLDS,
) -> gpd.GeoDataFrame:
    """Add all indicator columns to a grid (a new frame; the input is untouched).

    Parameters
    ----------
    grid : GeoDataFrame
        Canonical grid frame (:func:`cohesion_geo.loaders.load_grid`).
    facilities : GeoDataFrame, optional
        BPE facility points (``typequ``). They are **reprojected to the grid's
        CRS** (which must be projected) before measuring distances.
    reports : GeoDataFrame, optional
        Resident reports (``category``); counted per cell (privacy rules of
        :mod:`cohesion_geo.indicators.residents`).
    urban_units : DataFrame or Series, optional
        Urban unit per commune (or per cell, see :func:`urban_unit_groups`):
        scores are standardised within each urban unit; over the whole grid
        otherwise.
    facility_types : str or sequence of str, optional
        BPE codes or prefixes for the facility distance/count (all by default).
    radius : float, default 500
        Walking radius in metres for ``facility_count``.
    poverty_weights, isolation_weights : mapping, optional
        Score components and weights (defaults: :data:`~cohesion_geo.indicators.scores.POVERTY_WEIGHTS`,
        :data:`~cohesion_geo.indicators.scores.ISOLATION_WEIGHTS`, restricted to the columns available).
    standardization : {"z", "rank"}
        Standardisation of score components.
    population_weighted : bool, default True
        Standardise with population-weighted means and standard deviations
        (the average *inhabitant* of the urban unit is the reference, not the
        average cell).
    min_reports : int, default 5
        Cells with fewer reports show no per-category breakdown.
    stat_quantile, resident_quantile, confront_min_reports
        Thresholds of the confrontation layer (:func:`~cohesion_geo.indicators.residents.confront`),
        applied to ``poverty_score`` and ``reports_per_1000``.
    lisa : bool, default False
        Add the local Moran's I of ``poverty_score`` over the queen grid graph
        (``lisa_i``, ``lisa_p``, ``lisa_q``, ``lisa_cluster``), with
        ``permutations``, ``alpha``, ``fdr`` and the seed ``rng``.
    suppress_secret : bool, default False
        Blank the indicators and scores of cells with fewer than
        ``min_households`` households (they are flagged in ``secret`` either way).

    Returns
    -------
    GeoDataFrame
        The grid with the indicator columns (see ``docs/indicators.md``);
        ``attrs["indicators"]`` records the columns added and the weights used.

    Examples
    --------
    >>> import shapely
    >>> g = gpd.GeoDataFrame({"cell_x": [0, 200], "cell_y": [0, 0], "cell_size": [200, 200],
    ...     "ind": [100.0, 40.0], "men": [40.0, 20.0], "men_pauv": [4.0, 10.0],
    ...     "ind_snv": [2.5e6, 6e5], "imputed": [False, True]},
    ...     geometry=[shapely.box(0, 0, 200, 200), shapely.box(200, 0, 400, 200)], crs=3035)
    >>> out = add_indicators(g)
    >>> out[["poverty_rate", "mean_std_living", "secret"]].values.tolist()
    [[0.1, 25000.0, False], [0.5, 15000.0, False]]
    >>> bool(out.poverty_score.iloc[1] > out.poverty_score.iloc[0])
    True
    """
    out = grid.copy()
    meta: dict[str, Any] = {"columns": [], "notes": []}

    def put(name: str, values: pd.Series | np.ndarray) -> None:
        out[name] = values
        if name not in meta["columns"]:
            meta["columns"].append(name)

    ind = cell_indicators(grid, source=str(grid.attrs.get("source", "grid")))
    for c in ind.columns:
        put(c, ind[c])
    derived = [c for c in ("mean_std_living", "poverty_rate") if c in ind.columns
               and not INDICATORS[c].available(grid.columns)]
    if derived:
        meta["notes"].append(
            f"{', '.join(derived)} taken from the grid as given (derived layout: no counts behind them)"
        )
    put("secret", secret_flag(grid, min_households=min_households))

    groups = None
    if urban_units is not None:
        uu = urban_unit_groups(grid, urban_units)
        put("urban_unit", uu)
        groups = pd.factorize(uu.to_numpy(), use_na_sentinel=False)[0]  # once for both scores
    population = grid["ind"].to_numpy(dtype="float64") if population_weighted and "ind" in grid.columns else None

    if facilities is not None:
        crs = require_projected(grid.crs, what="grid")
        fac = facilities if facilities.crs is not None and crs.equals(facilities.crs) else (
            facilities.to_crs(crs) if facilities.crs is not None else facilities)
        acc = facility_access(out, fac, types=facility_types, radius=radius)
        put("facility_distance", acc["facility_distance"])
        put("facility_count", acc["facility_count"])
        meta["facilities"] = {"types": facility_types, "radius": radius}

    pov = poverty_score(out, weights=poverty_weights, groups=groups, population=population,
                        method=standardization)
    put("poverty_score", pov)
    meta["poverty_weights"] = pov.attrs.get("components")
    iso_w = isolation_weights
    if iso_w is None:
        iso_w = {k: v for k, v in ISOLATION_WEIGHTS.items() if k in out.columns} or None
    if iso_w is not None:
        iso = isolation_score(out, weights=iso_w, groups=groups, population=population,
                              method=standardization)
        put("isolation_score", iso)
        meta["isolation_weights"] = iso.attrs.get("components")
    else:
        meta["notes"].append("no isolation score: none of its components is available")

    if reports is not None:
        rep = cell_reports(grid, reports, min_reports=min_reports)
        for c in rep.columns:
            put(c, rep[c])
        conf = confront(out["poverty_score"], out["reports_per_1000"], reports_n=rep["reports_n"],
                        stat_quantile=stat_quantile, resident_quantile=resident_quantile,
                        min_reports=confront_min_reports)
        put("confrontation", conf)
        meta["confrontation"] = conf.attrs.get("thresholds")

    if lisa:
        from .autocorrelation import local_moran
        from .graph import grid_graph

        ok = out["poverty_score"].notna().to_numpy()
        if not ok.any():
            raise ValidationError("grid", [
                f"lisa=True: no cell has a poverty_score (its components are undefined in all {len(out)} "
                "cells, e.g. no inhabitants or households): nothing to test for clusters"])
        sub = out.loc[ok]
        size = int(sub["cell_size"].iloc[0]) if "cell_size" in sub.columns else 200
        graph = grid_graph(sub["cell_x"].to_numpy(), sub["cell_y"].to_numpy(), cell_size=size)
        res = local_moran(sub["poverty_score"].to_numpy(), graph=graph, permutations=permutations,
                          rng=rng, alpha=alpha, fdr=fdr)
        for c in ("lisa_i", "lisa_p", "lisa_q", "lisa_cluster"):
            put(c, res[c].set_axis(sub.index).reindex(out.index))  # categorical stays categorical
        meta["lisa"] = {"variable": "poverty_score", "permutations": permutations, "alpha": alpha,
                        "fdr": fdr, "graph": "queen"}

    if suppress_secret:
        blank = [c for c in meta["columns"] if c in INDICATORS or c in ("poverty_score", "isolation_score")]
        out.loc[out["secret"].to_numpy(), blank] = np.nan
    out.attrs = dict(grid.attrs)
    out.attrs["indicators"] = meta
    return out
