"""The financial capacity of the communes a candidate quartier lies in.

A poor commune cannot carry the same programme as a rich one (domain brief
§1, §5). Following the logic of the DSU (*dotation de solidarité urbaine*)
index, a commune's financial potential per inhabitant is compared with the
average of the communes of its **size group**:

* ``group_pfin_per_inhabitant`` = ``sum potentiel_financier / sum population``
  over every commune of the group in the finance table (the DGCL's "potentiel
  financier moyen par habitant de la strate" is such a ratio of sums). Pass
  the **national** table (:func:`cohesion_geo.loaders.load_finance` reads all
  35,000 communes): averaging over the communes of one agglomeration would
  measure them against each other, not against their group;
* ``pfin_ratio`` = commune ÷ group (0.7 reads "70 % of its group's average");
* ``financial_fragility`` = group ÷ commune, the first term of the DSU index
  (above 1: less room than its group to fund a programme);
* ``pfin_above_ceiling``: the commune's potential exceeds 2.5 times its
  group's (the DSU excludes such communes);
* when the table holds the real operating revenue (DGCL ``RRF<year>`` or a
  ``real_revenue`` column): ``revenue_per_inhabitant`` and ``revenue_ratio``
  (commune ÷ group, same ratio of sums), what the commune actually spends from.

Size groups default to the 15 DGCL demographic strata (``size_group`` of the
finance loader); ``group="dsu_group"`` uses the two DSU groups (10,000+,
5,000-9,999; smaller communes have no group and get NaN) and ``group=None``
compares every commune with the whole table.

A quartier spanning several communes gets the **population-weighted mean** of
its communes' values, weights being the inhabitants of its cells in each
commune (the grid's ``commune`` column, or commune polygons through
:func:`cell_communes`). If any commune holding some of its inhabitants has no
finance figures, the quartier's values are NaN -- never a silent zero, never
a silent re-weighting -- and a warning names the communes.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely  # noqa: F401 - the doctests build squares with it

from .._validate import Problems, check_same_crs, require_columns
from ..errors import CohesionGeoWarning, ConfigError, MissingColumnsError
from .surroundings import _polygon_of_centres

__all__ = [
    "DSU_CEILING",
    "CAPACITY_OUTPUT_COLUMNS",
    "cell_communes",
    "commune_capacity",
    "quartier_capacity",
]

#: The DSU excludes communes whose potentiel financier per inhabitant exceeds this multiple of their group's.
DSU_CEILING = 2.5

#: Columns added per quartier by :func:`quartier_capacity`.
CAPACITY_OUTPUT_COLUMNS: tuple[str, ...] = (
    "commune_main", "commune_main_name", "commune_shares", "pfin_per_inhabitant",
    "group_pfin_per_inhabitant", "pfin_ratio", "financial_fragility", "revenue_ratio", "finance_missing",
)  # fmt: skip

_REVENUE = re.compile(r"^(real_revenue|RRF\d{4})$", re.IGNORECASE)


def _revenue_column(finance: pd.DataFrame) -> str | None:
    matches = sorted((c for c in finance.columns if _REVENUE.match(str(c))), reverse=True)
    return matches[0] if matches else None


def commune_capacity(
    finance: pd.DataFrame,
    *,
    group: str | None = "size_group",
) -> pd.DataFrame:
    """Financial potential of each commune relative to its size group.

    Parameters
    ----------
    finance : DataFrame
        The finance loader's frame: ``commune`` and ``population`` plus
        ``potentiel_financier`` or ``pfin_per_inhabitant``; ``size_group`` /
        ``dsu_group`` (computed by the loader) for the groups.
    group : str or None, default "size_group"
        Column naming each commune's group (``"size_group"``: 15 DGCL strata;
        ``"dsu_group"``: the DSU groups); ``None`` compares with the whole table.

    Returns
    -------
    DataFrame
        Indexed by ``commune`` (str): ``commune_name``, ``population``,
        ``group``, ``pfin_per_inhabitant``, ``group_pfin_per_inhabitant``,
        ``pfin_ratio`` (commune ÷ group), ``financial_fragility`` (group ÷
        commune), ``pfin_above_ceiling`` (ratio above 2.5), and when the
        table has real operating revenue ``revenue_per_inhabitant``,
        ``group_revenue_per_inhabitant``, ``revenue_ratio``.

    Examples
    --------
    >>> fin = pd.DataFrame({"commune": ["00001", "00002", "00003"], "population": [100.0, 300.0, 50.0],
    ...                     "potentiel_financier": [50_000.0, 90_000.0, 40_000.0],
    ...                     "size_group": ["a", "a", "b"]})
    >>> cap = commune_capacity(fin)
    >>> cap["group_pfin_per_inhabitant"].tolist(), cap["pfin_ratio"].round(3).tolist()
    ([350.0, 350.0, 800.0], [1.429, 0.857, 1.0])
    """
    require_columns(finance, ["commune", "population"], source="finance", what="finance table")
    if "potentiel_financier" not in finance.columns and "pfin_per_inhabitant" not in finance.columns:
        raise MissingColumnsError(
            "finance: the table needs 'potentiel_financier' or 'pfin_per_inhabitant' "
            f"(load it with cohesion_geo.loaders.load_finance); columns present: {', '.join(map(str, finance.columns))}"
        )
    if group is not None and group not in finance.columns:
        raise ConfigError(f"finance: group column {group!r} is not in the table; use 'size_group', "
                          "'dsu_group' (both made by load_finance) or None")
    problems = Problems("finance")
    codes = finance["commune"].astype("string")
    if codes.duplicated().any():
        problems.add(f"duplicated commune codes, e.g. {codes[codes.duplicated()].head(3).tolist()}")
    problems.raise_if_any()
    pop = finance["population"].to_numpy(dtype="float64", na_value=np.nan)
    if "potentiel_financier" in finance.columns:
        pfin = finance["potentiel_financier"].to_numpy(dtype="float64", na_value=np.nan)
    else:
        pfin = finance["pfin_per_inhabitant"].to_numpy(dtype="float64", na_value=np.nan) * pop
    ok = np.isfinite(pop) & (pop > 0) & np.isfinite(pfin)
    per_inh = np.divide(pfin, pop, out=np.full(len(pop), np.nan), where=ok)
    if group is None:
        labels = pd.Series("all communes", index=finance.index, dtype="string")
    else:
        labels = finance[group].astype("string")
    gcodes, guniq = pd.factorize(labels, sort=True)
    has_group = gcodes >= 0
    use = ok & has_group

    def group_ratio(values: np.ndarray) -> np.ndarray:
        valid = use & np.isfinite(values)
        num = np.bincount(gcodes[valid], weights=values[valid], minlength=len(guniq))
        den = np.bincount(gcodes[valid], weights=pop[valid], minlength=len(guniq))
        avg = np.divide(num, den, out=np.full(len(guniq), np.nan), where=den > 0)
        return np.where(has_group, avg[np.maximum(gcodes, 0)], np.nan)

    group_avg = group_ratio(pfin)
    out = pd.DataFrame(index=pd.Index(codes.to_numpy(), name="commune", dtype="string"))
    out["commune_name"] = (finance["commune_name"].astype("string").to_numpy()
                           if "commune_name" in finance.columns else pd.NA)
    out["population"] = pop
    out["group"] = labels.to_numpy()
    out["pfin_per_inhabitant"] = per_inh
    out["group_pfin_per_inhabitant"] = group_avg
    with np.errstate(divide="ignore", invalid="ignore"):
        out["pfin_ratio"] = np.where(group_avg > 0, per_inh / group_avg, np.nan)
        out["financial_fragility"] = np.where(per_inh > 0, group_avg / per_inh, np.nan)
    out["pfin_above_ceiling"] = (out["pfin_ratio"] > DSU_CEILING).to_numpy()
    rev_col = _revenue_column(finance)
    if rev_col is not None:
        rev = pd.to_numeric(finance[rev_col], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        rev_inh = np.divide(rev, pop, out=np.full(len(pop), np.nan), where=ok & np.isfinite(rev))
        rev_avg = group_ratio(rev)
        out["revenue_per_inhabitant"] = rev_inh
        out["group_revenue_per_inhabitant"] = rev_avg
        with np.errstate(divide="ignore", invalid="ignore"):
            out["revenue_ratio"] = np.where(rev_avg > 0, rev_inh / rev_avg, np.nan)
    out.attrs["group"] = group
    out.attrs["revenue_column"] = rev_col
    return out


def cell_communes(
    grid: gpd.GeoDataFrame,
    communes: gpd.GeoDataFrame,
    *,
    code_column: str | None = None,
) -> pd.Series:
    """Commune code of each cell: the commune polygon holding the cell's centre.

    For grids without a ``commune`` column (derived grids such as Lille's).

    Parameters
    ----------
    grid : GeoDataFrame
        Cells with their squares.
    communes : GeoDataFrame
        Commune polygons in the grid's CRS.
    code_column : str, optional
        Column of commune codes; by default the first of ``commune``,
        ``INSEE_COM``, ``insee_com``, ``code_insee``, ``CODGEO``.

    Returns
    -------
    Series of str
        Aligned on ``grid.index``, ``<NA>`` for cells whose centre is in no
        commune (on a shared border: the commune with the smallest code).

    Examples
    --------
    >>> g = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 200, 200), shapely.box(200, 0, 400, 200)], crs=3035)
    >>> c = gpd.GeoDataFrame({"INSEE_COM": ["59350", "59009"]},
    ...                      geometry=[shapely.box(0, 0, 250, 300), shapely.box(250, 0, 600, 300)], crs=3035)
    >>> cell_communes(g, c).tolist()
    ['59350', '59009']
    """
    if code_column is None:
        code_column = next((c for c in ("commune", "INSEE_COM", "insee_com", "code_insee", "CODGEO")
                            if c in communes.columns), None)
        if code_column is None:
            raise MissingColumnsError(
                "communes: no commune code column (commune, INSEE_COM, insee_com, code_insee, CODGEO); "
                f"pass code_column=; columns present: {', '.join(map(str, communes.columns))}"
            )
    require_columns(communes, [code_column], source="communes", what="commune layer")
    check_same_crs(grid.crs, communes.crs, what_a="the grid", what_b="the communes")
    codes = communes[code_column].astype("string").to_numpy(dtype=object, na_value=None)
    pos = _polygon_of_centres(grid, communes, rank=codes.astype(str))
    out = np.where(pos >= 0, codes[np.maximum(pos, 0)], None)
    return pd.Series(pd.array(out, dtype="string"), index=grid.index, name="commune")


def _fmt_share(code: str, share: float) -> str:
    pct = 100 * share
    return f"{code} {pct:.0f} %" if pct >= 0.995 else f"{code} {pct:.1f} %"


def quartier_capacity(
    cell_quartier: np.ndarray,
    grid: pd.DataFrame,
    capacity: pd.DataFrame,
    *,
    quartier_ids: Sequence[object] | None = None,
    index: pd.Index | None = None,
) -> pd.DataFrame:
    """Population-weighted financial capacity of each quartier's communes.

    Parameters
    ----------
    cell_quartier : ndarray of int
        Position of each grid cell's quartier, -1 for none
        (:func:`cohesion_geo.priority.surroundings.assign_cells`).
    grid : DataFrame
        Canonical grid with ``ind`` and ``commune``.
    capacity : DataFrame
        :func:`commune_capacity` output (indexed by commune).
    quartier_ids : sequence, optional
        Quartier ids by position, named in the missing-finance warning.
    index : Index, optional
        Index of the output (the quartiers' index); default 0..n-1.

    Returns
    -------
    DataFrame
        One row per quartier: ``commune_main`` (commune holding most of its
        inhabitants), ``commune_main_name``, ``commune_shares`` (text, e.g.
        ``"33063 80 %; 33039 20 %"``), and the population-weighted
        ``pfin_per_inhabitant``, ``group_pfin_per_inhabitant``,
        ``pfin_ratio``, ``financial_fragility``, ``revenue_ratio`` (NaN when
        the finance table has no revenue), ``finance_missing`` (codes of its
        communes without figures, else ``<NA>``).

    Warns
    -----
    CohesionGeoWarning
        Naming the communes without finance figures and their quartiers.

    Examples
    --------
    >>> grid = pd.DataFrame({"ind": [300.0, 100.0], "commune": ["00001", "00002"]})
    >>> cap = pd.DataFrame({"pfin_ratio": [0.5, 1.5], "financial_fragility": [2.0, 0.5],
    ...                     "pfin_per_inhabitant": [500.0, 1500.0], "group_pfin_per_inhabitant": [1e3, 1e3]},
    ...                    index=pd.Index(["00001", "00002"], name="commune"))
    >>> quartier_capacity(np.array([0, 0]), grid, cap)[["pfin_ratio", "financial_fragility"]].to_dict("list")
    {'pfin_ratio': [0.75], 'financial_fragility': [1.625]}
    """
    cq = np.asarray(cell_quartier, dtype=np.int64)
    if index is not None:
        nq = len(index)
    elif quartier_ids is not None:
        nq = len(quartier_ids)
    else:
        nq = int(cq.max()) + 1 if len(cq) else 0
    if index is None:
        index = pd.RangeIndex(nq)
    if quartier_ids is None:
        quartier_ids = list(range(nq))
    if "commune" not in grid.columns:
        raise MissingColumnsError(
            "grid: financial capacity needs a 'commune' column per cell; the grid has none "
            "(derived grid?): pass commune polygons (weigh_quartiers(..., communes=...) or "
            "cell_communes) to locate the cells"
        )
    members = np.flatnonzero(cq >= 0)
    ind = np.nan_to_num(grid["ind"].to_numpy(dtype="float64", na_value=np.nan))[members]
    com = grid["commune"].astype("string").to_numpy(dtype=object, na_value=None)[members]
    com = np.array(["(no commune)" if c is None else str(c) for c in com], dtype=object)
    table = pd.DataFrame({"q": cq[members], "commune": com, "ind": ind})
    per = table.groupby(["q", "commune"], sort=True)["ind"].sum().reset_index()
    per["total"] = per.groupby("q")["ind"].transform("sum")
    per["share"] = np.where(per["total"] > 0, per["ind"] / per["total"].where(per["total"] > 0), 0.0)
    per = per[per["share"] > 0].copy()
    cap = capacity.copy()
    cap.index = cap.index.astype(str)
    known = per["commune"].isin(cap.index[cap["pfin_ratio"].notna()]) if "pfin_ratio" in cap else False
    per["known"] = known
    value_cols = ["pfin_per_inhabitant", "group_pfin_per_inhabitant", "pfin_ratio", "financial_fragility",
                  "revenue_ratio"]
    out = pd.DataFrame(index=pd.RangeIndex(nq))
    for col in value_cols:
        if col in cap.columns:
            vals = per["commune"].map(cap[col]).to_numpy(dtype="float64", na_value=np.nan)
            weighted = pd.Series(per["share"].to_numpy() * vals).groupby(per["q"].to_numpy()).sum(min_count=1)
            out[col] = weighted.reindex(out.index).to_numpy()
        else:
            out[col] = np.nan
    missing = per.loc[~per["known"]].groupby("q")["commune"].agg(lambda s: ", ".join(sorted(s)))
    out["finance_missing"] = pd.array(missing.reindex(out.index).to_numpy(dtype=object), dtype="string")
    has_missing = out["finance_missing"].notna().to_numpy()
    out.loc[has_missing, value_cols] = np.nan
    ordered = per.sort_values(["q", "share", "commune"], ascending=[True, False, True])
    main = ordered.drop_duplicates("q")
    out["commune_main"] = pd.array(main.set_index("q")["commune"].reindex(out.index).to_numpy(dtype=object),
                                   dtype="string")
    names = cap["commune_name"] if "commune_name" in cap.columns else pd.Series(dtype="string")
    out["commune_main_name"] = pd.array(
        out["commune_main"].map(names).to_numpy(dtype=object, na_value=None), dtype="string")
    labels = pd.Series([_fmt_share(c, v) for c, v in zip(ordered["commune"], ordered["share"], strict=True)],
                       index=ordered.index, dtype=object)
    shares = labels.groupby(ordered["q"].to_numpy(), sort=True).agg("; ".join) if len(per) else \
        pd.Series(dtype=object)
    out["commune_shares"] = pd.array(shares.reindex(out.index).to_numpy(dtype=object), dtype="string")
    if has_missing.any():
        bad = sorted(set(", ".join(out.loc[has_missing, "finance_missing"].tolist()).split(", ")))
        qnames = [str(quartier_ids[i]) for i in np.flatnonzero(has_missing)]
        warnings.warn(
            f"finance: no financial figures for commune{'s' if len(bad) > 1 else ''} {', '.join(bad)}; "
            f"the financial capacity of {len(qnames)} quartier{'s' if len(qnames) > 1 else ''} "
            f"({', '.join(qnames[:10])}{', ...' if len(qnames) > 10 else ''}) is missing (NaN)",
            CohesionGeoWarning, stacklevel=2,
        )
    out = out[list(CAPACITY_OUTPUT_COLUMNS)]
    out.index = index
    return out
