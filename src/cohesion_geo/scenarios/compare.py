"""Comparing scenarios: what changes, what every scenario keeps, what a new vintage moves.

The debate in a council is about differences: which streets enter, which
leave, who is gained or lost. Everything here works on the *cells* of each
scenario (``cell_id`` -> ``quartier_id``, the ``.cells`` table of
:func:`cohesion_geo.priority.delineate`), so overlaps are exact counts of
200 m cells, never approximations of polygon areas.

- :func:`compare_scenarios`: two scenarios (or two vintages) side by side.
  Quartiers are matched by shared cells; each connected group of
  overlapping quartiers is one *change*:

  ============  =========================================================
  status        meaning
  ============  =========================================================
  ``entering``  a quartier of B sharing no cell with any quartier of A
  ``leaving``   a quartier of A sharing no cell with any quartier of B
  ``unchanged`` one quartier on each side, exactly the same cells
  ``growing``   one on each side, B has more cells than A
  ``shrinking`` one on each side, B has fewer cells than A
  ``reshaped``  one on each side, as many cells but not the same ones
  ``merged``    several quartiers of A become one of B
  ``split``     one quartier of A becomes several of B
  ``regrouped`` several on each side
  ============  =========================================================

  with the population (``ind``) and poor households (``men_pauv``) on each
  side, gained (in B, not in A) and lost (in A, not in B), the Jaccard index
  of the cell sets (shared / union) and the ranks moved.
- :func:`robustness`: for each cell, the share of scenarios that place it in
  a quartier, and the *common core* -- contiguous zones of cells every
  scenario keeps -- with the quartier of each scenario that holds them.
- :func:`compare_vintages` re-runs a scenario on another vintage of the grid
  (readjustment of a six-year contract) and compares.
- :func:`perturb_vintage` builds a **simulated** second vintage from a grid
  (income perturbed with a seed) for tests and demonstrations, and labels it
  so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import ndimage
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from ..errors import CohesionGeoError, MissingColumnsError
from ..indicators.aggregate import SECRET_MIN_HOUSEHOLDS

__all__ = [
    "Comparison",
    "Robustness",
    "compare_scenarios",
    "compare_vintages",
    "membership",
    "perturb_vintage",
    "publishable",
    "robustness",
]

#: Counts summed per side of a change (when present in the grid).
_SUMS = ("ind", "men", "men_pauv")


def publishable(frame: pd.DataFrame, /, *, min_households: int = SECRET_MIN_HOUSEHOLDS) -> pd.DataFrame:
    """Copy of a comparison or robustness table fit to publish (statistical secrecy).

    For each group of count columns -- ``ind``/``men``/``men_pauv``, and the
    same with the suffixes ``_a``, ``_b``, ``_gained``, ``_lost`` -- the three
    counts are blanked (NaN) where the unit holds fewer than
    ``min_households`` households (a 200 m cell of a robustness layer, the
    cells a scenario gains or loses...). Units with no inhabitant and no
    household at all (nothing gained) keep their zeros. Other columns are
    unchanged; the input is not modified.

    Examples
    --------
    >>> t = pd.DataFrame({"ind_gained": [2.5, 0.0, 400.0], "men_gained": [0.9, 0.0, 180.0],
    ...                   "men_pauv_gained": [0.3, 0.0, 40.0]})
    >>> publishable(t)["men_pauv_gained"].tolist()
    [nan, 0.0, 40.0]
    """
    out = frame.copy()
    for suffix in ("", "_a", "_b", "_gained", "_lost"):
        men = f"men{suffix}"
        if men not in out.columns:
            continue
        m = pd.to_numeric(out[men], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        ind_col = f"ind{suffix}"
        ind = (pd.to_numeric(out[ind_col], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
               if ind_col in out.columns else np.zeros(len(out)))
        empty = (m == 0) & (np.nan_to_num(ind) == 0)
        small = ~(m >= min_households) & ~empty
        for col in (ind_col, men, f"men_pauv{suffix}"):
            if col in out.columns:
                out[col] = pd.to_numeric(out[col], errors="coerce").astype("float64").where(~small, np.nan)
    return out


def membership(result: Any, /) -> pd.DataFrame:
    """``cell_id`` -> ``quartier_id`` table of a scenario result.

    Accepts an object with a ``.cells`` table (the result of
    :func:`~cohesion_geo.priority.delineate` or a
    :class:`~cohesion_geo.scenarios.run.ScenarioResult`) or such a table.
    Quartier ids are returned as strings.
    """
    cells = getattr(result, "cells", result)
    if not isinstance(cells, pd.DataFrame):
        raise CohesionGeoError(f"expected a result with a .cells table, got {type(result).__name__}")
    missing = [c for c in ("cell_id", "quartier_id") if c not in cells.columns]
    if missing:
        raise MissingColumnsError(f"scenario cells lack column(s) {missing}; columns: {list(cells.columns)}")
    out = pd.DataFrame({"cell_id": cells["cell_id"].astype(str), "quartier_id": cells["quartier_id"].astype(str)})
    dup = out["cell_id"].duplicated()
    if dup.any():
        raise CohesionGeoError(
            f"scenario cells: {int(dup.sum())} cell(s) belong to several quartiers, e.g. "
            f"{out.loc[dup, 'cell_id'].head(3).tolist()}"
        )
    return out.reset_index(drop=True)


def _ranks(result: Any) -> dict[str, float]:
    q = getattr(result, "quartiers", None)
    if q is None or "quartier_id" not in q.columns or "rank" not in q.columns:
        return {}
    return dict(zip(q["quartier_id"].astype(str), pd.to_numeric(q["rank"], errors="coerce")))


def _cell_values(grid: pd.DataFrame | None, cell_ids: pd.Series) -> pd.DataFrame:
    if grid is None:
        return pd.DataFrame(index=cell_ids.index)
    if "cell_id" not in grid.columns:
        raise MissingColumnsError("grid lacks column 'cell_id'")
    cols = [c for c in _SUMS if c in grid.columns]
    table = pd.DataFrame(grid[["cell_id", *cols]]).drop_duplicates("cell_id").set_index("cell_id")
    vals = table.reindex(cell_ids.to_numpy())
    vals.index = cell_ids.index
    return vals.fillna(0.0)


@dataclass
class Comparison:
    """Result of :func:`compare_scenarios`.

    Attributes
    ----------
    a, b : str
        Names of the two sides.
    changes : DataFrame
        One row per change (connected group of overlapping quartiers):
        ``change_id``, ``status``, ``quartiers_a``, ``quartiers_b`` (ids joined
        by ", "), ``cells_a``, ``cells_b``, ``cells_shared``, ``jaccard``,
        ``ind_a``, ``ind_b``, ``ind_gained``, ``ind_lost`` (and the same for
        ``men_pauv``), ``rank_a``, ``rank_b`` (best rank on each side) and
        ``rank_moved`` (``rank_a - rank_b``: positive = moved up in B).
    pairs : DataFrame
        Per pair of overlapping quartiers: ``quartier_a``, ``quartier_b``,
        ``cells_shared``, ``cells_a``, ``cells_b``, ``jaccard``.
    quartiers_a, quartiers_b : DataFrame
        Per quartier of each side: its ``status``, best match on the other
        side, ``jaccard`` with that match, ``rank`` and ``rank_other``.
    cells : DataFrame
        Per cell in either side: ``cell_id``, ``quartier_a``, ``quartier_b``
        (None when outside), ``change`` in {"both", "only_a", "only_b"}.
    summary : dict
        Totals: quartiers on each side, entering, leaving, population and poor
        households of each side, gained and lost, overall cell Jaccard.
    """

    a: str
    b: str
    changes: pd.DataFrame
    pairs: pd.DataFrame
    quartiers_a: pd.DataFrame
    quartiers_b: pd.DataFrame
    cells: pd.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)

    def table(self) -> pd.DataFrame:
        """The changes table with readable column names, for a report or a notebook."""
        t = self.changes.copy()
        return t.rename(columns={
            "quartiers_a": f"quartiers in {self.a}", "quartiers_b": f"quartiers in {self.b}",
        })  # fmt: skip


def compare_scenarios(
    a: Any,
    b: Any,
    /,
    *,
    grid: pd.DataFrame | None = None,
    grid_b: pd.DataFrame | None = None,
    names: tuple[str, str] = ("A", "B"),
) -> Comparison:
    """Compare two scenarios (or one scenario on two vintages) cell by cell.

    Parameters
    ----------
    a, b : result or DataFrame
        Each with a ``.cells`` table (``cell_id``, ``quartier_id``) and
        optionally ``.quartiers`` (``quartier_id``, ``rank``), or the cells
        table itself.
    grid : DataFrame, optional
        Canonical grid (``cell_id``, ``ind``, ``men_pauv``...) giving the
        population of A's cells (and of B's unless ``grid_b``).
    grid_b : DataFrame, optional
        Grid of B when it is another vintage.
    names : (str, str)
        Names of the two sides (scenario names).

    Returns
    -------
    Comparison

    Examples
    --------
    >>> import pandas as pd
    >>> a = pd.DataFrame({"cell_id": ["c1", "c2", "c3", "c9"], "quartier_id": ["q1", "q1", "q1", "q2"]})
    >>> b = pd.DataFrame({"cell_id": ["c2", "c3", "c4", "c5"], "quartier_id": ["p1"] * 4})
    >>> cmp = compare_scenarios(a, b)
    >>> cmp.changes[["status", "quartiers_a", "quartiers_b", "jaccard"]].values.tolist()
    [['growing', 'q1', 'p1', 0.4], ['leaving', 'q2', '', 0.0]]
    """
    ma, mb = membership(a), membership(b)
    ranks_a, ranks_b = _ranks(a), _ranks(b)
    na, nb = names

    # per-cell table (outer join on cell_id)
    cells = ma.rename(columns={"quartier_id": "quartier_a"}).merge(
        mb.rename(columns={"quartier_id": "quartier_b"}), on="cell_id", how="outer"
    )
    cells = cells.sort_values("cell_id", kind="stable").reset_index(drop=True)
    in_a, in_b = cells["quartier_a"].notna().to_numpy(), cells["quartier_b"].notna().to_numpy()
    cells["change"] = np.where(in_a & in_b, "both", np.where(in_a, "only_a", "only_b"))
    va = _cell_values(grid, cells["cell_id"])
    vb = _cell_values(grid_b if grid_b is not None else grid, cells["cell_id"])
    sums = [c for c in _SUMS if c in va.columns and c in vb.columns]

    # quartiers as nodes of a bipartite overlap graph
    qa = sorted(ma["quartier_id"].unique(), key=_natural_key)
    qb = sorted(mb["quartier_id"].unique(), key=_natural_key)
    ia = {q: i for i, q in enumerate(qa)}
    ib = {q: len(qa) + i for i, q in enumerate(qb)}
    size_a = ma["quartier_id"].value_counts()
    size_b = mb["quartier_id"].value_counts()
    both = cells.loc[in_a & in_b]
    pair_counts = both.groupby(["quartier_a", "quartier_b"]).size()
    pairs = pd.DataFrame(
        {
            "quartier_a": [p[0] for p in pair_counts.index],
            "quartier_b": [p[1] for p in pair_counts.index],
            "cells_shared": pair_counts.to_numpy(dtype=np.int64),
        }
    )
    pairs["cells_a"] = pairs["quartier_a"].map(size_a).astype("int64")
    pairs["cells_b"] = pairs["quartier_b"].map(size_b).astype("int64")
    pairs["jaccard"] = pairs["cells_shared"] / (pairs["cells_a"] + pairs["cells_b"] - pairs["cells_shared"])
    pairs = pairs.sort_values(["quartier_a", "quartier_b"], key=lambda s: s.map(_natural_key)).reset_index(drop=True)

    n = len(qa) + len(qb)
    if n:
        rows = [ia[q] for q in pairs["quartier_a"]]
        cols = [ib[q] for q in pairs["quartier_b"]]
        adj = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
        _, comp = connected_components(adj, directed=False)
    else:
        comp = np.zeros(0, dtype=int)
    comp_of_a = {q: comp[ia[q]] for q in qa}
    comp_of_b = {q: comp[ib[q]] for q in qb}

    comp_arr = np.full(len(cells), -1, dtype=np.int64)
    qa_vals = cells["quartier_a"].to_numpy(dtype=object)
    qb_vals = cells["quartier_b"].to_numpy(dtype=object)
    only_b = in_b & ~in_a
    comp_arr[in_a] = np.array([comp_of_a[q] for q in qa_vals[in_a]], dtype=np.int64)
    comp_arr[only_b] = np.array([comp_of_b[q] for q in qb_vals[only_b]], dtype=np.int64)
    cells["_comp"] = comp_arr

    records = []
    for c in sorted(set(comp.tolist())):
        members_a = [q for q in qa if comp_of_a[q] == c]
        members_b = [q for q in qb if comp_of_b[q] == c]
        sel = (cells["_comp"] == c).to_numpy()
        sa, sb = sel & in_a, sel & in_b
        shared = int((sa & sb).sum())
        union = int((sa | sb).sum())
        n_a, n_b = int(sa.sum()), int(sb.sum())
        if not members_b:
            status = "leaving"
        elif not members_a:
            status = "entering"
        elif len(members_a) == 1 and len(members_b) == 1:
            if n_a == n_b == shared:
                status = "unchanged"
            elif n_b > n_a:
                status = "growing"
            elif n_b < n_a:
                status = "shrinking"
            else:
                status = "reshaped"
        elif len(members_b) == 1:
            status = "merged"
        elif len(members_a) == 1:
            status = "split"
        else:
            status = "regrouped"
        rec: dict[str, Any] = {
            "status": status,
            "quartiers_a": ", ".join(members_a),
            "quartiers_b": ", ".join(members_b),
            "cells_a": n_a,
            "cells_b": n_b,
            "cells_shared": shared,
            "jaccard": shared / union if union else 0.0,
        }
        for col in sums:
            a_val = float(va[col].to_numpy()[sa].sum())
            b_val = float(vb[col].to_numpy()[sb].sum())
            rec[f"{col}_a"] = a_val
            rec[f"{col}_b"] = b_val
            rec[f"{col}_gained"] = float(vb[col].to_numpy()[sb & ~sa].sum())
            rec[f"{col}_lost"] = float(va[col].to_numpy()[sa & ~sb].sum())
        ra = [ranks_a[q] for q in members_a if q in ranks_a and pd.notna(ranks_a[q])]
        rb = [ranks_b[q] for q in members_b if q in ranks_b and pd.notna(ranks_b[q])]
        rec["rank_a"] = min(ra) if ra else np.nan
        rec["rank_b"] = min(rb) if rb else np.nan
        rec["rank_moved"] = rec["rank_a"] - rec["rank_b"] if ra and rb else np.nan
        rec["_key"] = (0, _natural_key(members_a[0])) if members_a else (1, _natural_key(members_b[0]))
        records.append(rec)
    records.sort(key=lambda r: r.pop("_key"))
    changes = pd.DataFrame(records)
    if not len(changes):
        changes = pd.DataFrame(columns=["status", "quartiers_a", "quartiers_b", "cells_a", "cells_b",
                                        "cells_shared", "jaccard", "rank_a", "rank_b", "rank_moved"])
    changes.insert(0, "change_id", [f"C{i + 1}" for i in range(len(changes))])

    quartiers_a = _per_quartier(qa, pairs, "quartier_a", "quartier_b", changes, "quartiers_a", ranks_a, ranks_b)
    quartiers_b = _per_quartier(qb, pairs, "quartier_b", "quartier_a", changes, "quartiers_b", ranks_b, ranks_a)

    cells = cells.drop(columns="_comp")
    cells["quartier_a"] = cells["quartier_a"].astype(object).where(cells["quartier_a"].notna(), None)
    cells["quartier_b"] = cells["quartier_b"].astype(object).where(cells["quartier_b"].notna(), None)

    summary: dict[str, Any] = {
        "a": na,
        "b": nb,
        "quartiers_a": len(qa),
        "quartiers_b": len(qb),
        "entering": int((changes["status"] == "entering").sum()),
        "leaving": int((changes["status"] == "leaving").sum()),
        "kept": int((~changes["status"].isin(["entering", "leaving"])).sum()),
        "cells_a": int(in_a.sum()),
        "cells_b": int(in_b.sum()),
        "cells_shared": int((in_a & in_b).sum()),
        "jaccard": float((in_a & in_b).sum() / max(int((in_a | in_b).sum()), 1)),
    }
    for col in sums:
        summary[f"{col}_a"] = float(va[col].to_numpy()[in_a].sum())
        summary[f"{col}_b"] = float(vb[col].to_numpy()[in_b].sum())
        summary[f"{col}_gained"] = float(vb[col].to_numpy()[in_b & ~in_a].sum())
        summary[f"{col}_lost"] = float(va[col].to_numpy()[in_a & ~in_b].sum())
    return Comparison(a=na, b=nb, changes=changes, pairs=pairs, quartiers_a=quartiers_a,
                      quartiers_b=quartiers_b, cells=cells, summary=summary)  # fmt: skip


def _per_quartier(
    ids: list[str], pairs: pd.DataFrame, mine: str, other: str, changes: pd.DataFrame, changes_col: str,
    ranks_mine: dict[str, float], ranks_other: dict[str, float],
) -> pd.DataFrame:
    rows = []
    status_of: dict[str, tuple[str, str]] = {}
    for _, ch in changes.iterrows():
        for q in filter(None, str(ch[changes_col]).split(", ")):
            status_of[q] = (ch["status"], ch["change_id"])
    for q in ids:
        p = pairs[pairs[mine] == q]
        if len(p):
            best = p.sort_values(["jaccard", "cells_shared"], ascending=False, kind="stable").iloc[0]
            match, jac = best[other], float(best["jaccard"])
        else:
            match, jac = None, 0.0
        st, cid = status_of.get(q, ("", ""))
        rows.append({
            "quartier_id": q, "status": st, "change_id": cid, "match": match, "jaccard": jac,
            "rank": ranks_mine.get(q, np.nan),
            "rank_other": ranks_other.get(match, np.nan) if match is not None else np.nan,
        })  # fmt: skip
    return pd.DataFrame(rows, columns=["quartier_id", "status", "change_id", "match", "jaccard", "rank", "rank_other"])


def _natural_key(value: Any) -> tuple:
    """Sort ``Q2`` before ``Q10``."""
    import re

    parts = re.split(r"(\d+)", str(value))
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in parts)


# ---------------------------------------------------------------------------
# Robustness across scenarios
# ---------------------------------------------------------------------------


@dataclass
class Robustness:
    """Result of :func:`robustness`.

    Attributes
    ----------
    cells : GeoDataFrame or DataFrame
        Every cell placed in a quartier by at least one scenario: ``cell_id``,
        ``n_scenarios`` (how many include it), ``share`` (``n / total``), one
        boolean column per scenario, geometry when the grid has one.
    core : GeoDataFrame or DataFrame
        The quartiers every scenario keeps: contiguous zones (queen) of cells
        included by every scenario, one row each: ``core_id``, ``n_cells``,
        ``ind``, ``men``, ``men_pauv`` (when known), and per scenario the
        quartier(s) holding the zone (column ``in_<scenario>``).
    quartiers : DataFrame
        Per scenario quartier: ``scenario``, ``quartier_id``, ``n_cells``,
        ``robust_share`` (share of its cells that every scenario keeps) and
        ``mean_share`` (mean over its cells of the share of scenarios).
    scenarios : list of str
    """

    cells: pd.DataFrame
    core: pd.DataFrame
    quartiers: pd.DataFrame
    scenarios: list[str]


def robustness(
    results: Mapping[str, Any],
    /,
    *,
    grid: pd.DataFrame | None = None,
    contiguity: str = "queen",
) -> Robustness:
    """Share of scenarios placing each cell in a quartier, and the common core.

    Parameters
    ----------
    results : mapping of str to result
        Scenario name -> result with a ``.cells`` table (or the table).
    grid : DataFrame, optional
        Canonical grid: gives ``cell_x``/``cell_y``/``cell_size`` (needed to
        group the common core into contiguous zones), counts and geometry.
        Without it, cell positions are parsed from INSEE-style ids.
    contiguity : {"queen", "rook"}
        Contiguity of the core zones.

    Examples
    --------
    >>> import pandas as pd
    >>> ids = ["CRS3035RES200mN0E0", "CRS3035RES200mN0E200", "CRS3035RES200mN0E1000"]
    >>> r = robustness({"a": pd.DataFrame({"cell_id": ids, "quartier_id": ["q1", "q1", "q2"]}),
    ...                 "b": pd.DataFrame({"cell_id": ids[:2], "quartier_id": ["p1", "p1"]})})
    >>> r.cells["share"].tolist(), r.core[["core_id", "n_cells", "in_a", "in_b"]].values.tolist()
    ([1.0, 0.5, 1.0], [['K1', 2, 'q1', 'p1']])
    """
    if not results:
        raise CohesionGeoError("robustness needs at least one scenario")
    names = list(results)
    mems = {name: membership(r) for name, r in results.items()}
    all_ids = sorted(set().union(*[set(m["cell_id"]) for m in mems.values()]))
    table = pd.DataFrame({"cell_id": all_ids})
    for name, m in mems.items():
        q = dict(zip(m["cell_id"], m["quartier_id"]))
        table[f"q_{name}"] = table["cell_id"].map(q)
    inc = np.column_stack([table[f"q_{n}"].notna().to_numpy() for n in names]) if len(table) else np.zeros((0, len(names)), bool)
    table["n_scenarios"] = inc.sum(axis=1).astype(np.int64)
    table["share"] = table["n_scenarios"] / len(names)
    for i, name in enumerate(names):
        table[name] = inc[:, i]

    # positions
    if grid is not None and {"cell_x", "cell_y"}.issubset(grid.columns):
        pos = pd.DataFrame(grid).drop_duplicates("cell_id").set_index("cell_id")
        cols = ["cell_x", "cell_y"] + (["cell_size"] if "cell_size" in pos.columns else [])
        xy = pos.reindex(table["cell_id"])[cols]
        known = xy["cell_x"].notna().to_numpy()
        x = np.zeros(len(table), np.int64)
        y = np.zeros(len(table), np.int64)
        size = np.full(len(table), 200, np.int64)
        x[known] = xy["cell_x"].to_numpy()[known].astype(np.int64)
        y[known] = xy["cell_y"].to_numpy()[known].astype(np.int64)
        if "cell_size" in xy.columns:
            size[known] = xy["cell_size"].to_numpy()[known].astype(np.int64)
        if not known.all():
            px, py, ps = _parse_ids(table["cell_id"][~known])
            x[~known], y[~known], size[~known] = px, py, ps
    else:
        x, y, size = _parse_ids(table["cell_id"])

    full = table["n_scenarios"].to_numpy() == len(names)
    core_label = np.zeros(len(table), np.int64)
    if full.any():
        cs = int(size[full][0])
        gx, gy = x[full] // cs, y[full] // cs
        x0, y0 = gx.min(), gy.min()
        ras = np.zeros((int(gy.max() - y0) + 1, int(gx.max() - x0) + 1), bool)
        ras[gy - y0, gx - x0] = True
        st = np.ones((3, 3), bool) if contiguity == "queen" else ndimage.generate_binary_structure(2, 1)
        lab, _ = ndimage.label(ras, structure=st)
        raw = lab[gy - y0, gx - x0]
        # renumber by decreasing size then first cell id, so K1 is the largest core
        uniq, counts = np.unique(raw, return_counts=True)
        first = {u: table["cell_id"].to_numpy()[full][raw == u].min() for u in uniq}
        order = sorted(uniq, key=lambda u: (-counts[list(uniq).index(u)], first[u]))
        remap = {u: i + 1 for i, u in enumerate(order)}
        core_label[full] = [remap[u] for u in raw]
    table["core_id"] = np.where(core_label > 0, np.char.add("K", core_label.astype(str)), None)

    vals = _cell_values(grid, table["cell_id"]) if grid is not None else pd.DataFrame(index=table.index)
    core_rows = []
    for k in range(1, int(core_label.max()) + 1 if len(core_label) else 1):
        sel = core_label == k
        row: dict[str, Any] = {"core_id": f"K{k}", "n_cells": int(sel.sum())}
        for col in vals.columns:
            row[col] = float(vals[col].to_numpy()[sel].sum())
        for name in names:
            qs = sorted(set(table.loc[sel, f"q_{name}"]), key=_natural_key)
            row[f"in_{name}"] = ", ".join(qs)
        core_rows.append(row)
    core = pd.DataFrame(core_rows, columns=["core_id", "n_cells", *vals.columns, *[f"in_{n}" for n in names]])

    qrows = []
    for name in names:
        sub = table[table[f"q_{name}"].notna()]
        for q, g in sub.groupby(f"q_{name}", sort=False):
            qrows.append({
                "scenario": name, "quartier_id": q, "n_cells": len(g),
                "robust_share": float((g["n_scenarios"] == len(names)).mean()),
                "mean_share": float(g["share"].mean()),
            })  # fmt: skip
    quartiers = pd.DataFrame(qrows, columns=["scenario", "quartier_id", "n_cells", "robust_share", "mean_share"])
    if len(quartiers):
        quartiers = quartiers.sort_values(
            ["scenario", "quartier_id"], key=lambda s: s.map(_natural_key) if s.name == "quartier_id" else s.map(names.index)
        ).reset_index(drop=True)

    out_cells = table.drop(columns=[f"q_{n}" for n in names])
    for col in vals.columns:
        out_cells[col] = vals[col].to_numpy()
    geom_crs = None
    if grid is not None and isinstance(grid, gpd.GeoDataFrame):
        geom = gpd.GeoSeries(grid.geometry.values, index=grid["cell_id"].astype(str).to_numpy(), crs=grid.crs)
        geom = geom[~geom.index.duplicated()]
        have = out_cells["cell_id"].isin(geom.index).to_numpy()
        if have.all():
            geom_crs = grid.crs
            out_cells = gpd.GeoDataFrame(out_cells, geometry=geom.reindex(out_cells["cell_id"]).to_numpy(), crs=geom_crs)
    if geom_crs is None and len(out_cells):
        import shapely

        out_cells = gpd.GeoDataFrame(out_cells, geometry=shapely.box(x, y, x + size, y + size), crs=3035)
        geom_crs = 3035
    if len(core) and isinstance(out_cells, gpd.GeoDataFrame):
        dissolved = out_cells[out_cells["core_id"].notna()].dissolve("core_id")
        core = gpd.GeoDataFrame(core, geometry=dissolved.geometry.reindex(core["core_id"]).to_numpy(),
                                crs=out_cells.crs)
    return Robustness(cells=out_cells, core=core, quartiers=quartiers, scenarios=names)


def _parse_ids(ids: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ex = ids.astype(str).str.extract(r"RES(\d+)mN(\d+)E(\d+)")
    if ex.isna().any().any():
        bad = ids[ex.isna().any(axis=1)].head(3).tolist()
        raise CohesionGeoError(
            f"cannot place cells {bad}: pass grid= (with cell_x, cell_y) or use INSEE ids CRS3035RES200mN...E..."
        )
    return (ex[2].astype(np.int64).to_numpy(), ex[1].astype(np.int64).to_numpy(), ex[0].astype(np.int64).to_numpy())


# ---------------------------------------------------------------------------
# Readjustment between vintages
# ---------------------------------------------------------------------------


def perturb_vintage(
    grid: pd.DataFrame,
    /,
    *,
    rng: int | np.random.Generator | None = None,
    scale: float = 0.08,
    drift: float = 0.0,
    sigma: float = 2.0,
    vintage: int | None = None,
) -> pd.DataFrame:
    """A **simulated** later vintage of ``grid``: incomes perturbed with a seed.

    Each cell's standard of living is multiplied by ``exp(drift + scale × z)``,
    ``z`` a spatially smoothed Gaussian field (``sigma`` cells) of unit
    variance, so whole neighbourhoods get richer or poorer together as they do
    between two real vintages. ``ind_snv`` and ``mean_std_living`` follow;
    poor households move the other way (elasticity -3, capped at ``men``) and
    ``poverty_rate`` is recomputed. Population and households are unchanged.
    The result says it is simulated: ``attrs["simulated"] = True`` and
    ``attrs["source"]`` names the original.

    This is for tests and demonstrations of :func:`compare_vintages` when
    only one real vintage is at hand; it is **not** a forecast.

    Examples
    --------
    >>> import pandas as pd
    >>> g = pd.DataFrame({"cell_id": ["a", "b"], "cell_x": [0, 200], "cell_y": [0, 0], "cell_size": [200, 200],
    ...                   "ind": [100.0, 50.0], "ind_snv": [1.5e6, 1.0e6], "men": [40.0, 20.0],
    ...                   "men_pauv": [10.0, 2.0]})
    >>> out = perturb_vintage(g, rng=1, scale=0.0, drift=0.1)
    >>> round(float(out["mean_std_living"][0]), 1), bool(out.attrs["simulated"])
    (16577.6, True)
    """
    gen = np.random.default_rng(rng)
    out = grid.copy()
    n = len(out)
    if {"cell_x", "cell_y"}.issubset(out.columns) and n:
        cs = int(out["cell_size"].iloc[0]) if "cell_size" in out.columns else 200
        gx = (out["cell_x"].to_numpy(np.int64) // cs)
        gy = (out["cell_y"].to_numpy(np.int64) // cs)
        gx, gy = gx - gx.min(), gy - gy.min()
        noise = gen.standard_normal((int(gy.max()) + 1, int(gx.max()) + 1))
        field_ = ndimage.gaussian_filter(noise, sigma=sigma, mode="reflect") if sigma > 0 else noise
        sd = field_.std()
        field_ = (field_ - field_.mean()) / sd if sd > 0 else field_ * 0
        z = field_[gy, gx]
    else:
        z = gen.standard_normal(n)
    factor = np.exp(drift + scale * z)
    if "ind_snv" in out.columns:
        out["ind_snv"] = out["ind_snv"].astype(float) * factor
        if "ind" in out.columns:
            ind = out["ind"].astype(float)
            out["mean_std_living"] = (out["ind_snv"] / ind).where(ind > 0)
    elif "mean_std_living" in out.columns:
        out["mean_std_living"] = out["mean_std_living"].astype(float) * factor
    if "men_pauv" in out.columns:
        pauv = out["men_pauv"].astype(float) * factor ** -3.0
        if "men" in out.columns:
            men = out["men"].astype(float)
            pauv = np.minimum(pauv, men)
            out["men_pauv"] = pauv
            out["poverty_rate"] = (pauv / men).where(men > 0)
        else:
            out["men_pauv"] = pauv
    elif "poverty_rate" in out.columns:
        out["poverty_rate"] = np.clip(out["poverty_rate"].astype(float) * factor ** -3.0, 0, 1)
    out.attrs = dict(grid.attrs)
    base = grid.attrs.get("vintage")
    out.attrs["vintage"] = vintage if vintage is not None else (base + 4 if isinstance(base, int) else None)
    out.attrs["simulated"] = True
    out.attrs["source"] = f"simulated from {grid.attrs.get('source', 'the grid')} (income perturbed, seed {rng})"
    return out


def compare_vintages(
    project: Any,
    grid_before: pd.DataFrame,
    grid_after: pd.DataFrame,
    /,
    *,
    scenario: str | None = None,
    inputs: Any = None,
    names: tuple[str, str] | None = None,
    progress: bool = False,
) -> Comparison:
    """Run one scenario on two vintages of the grid and compare the perimeters.

    Parameters
    ----------
    project : Project
        Gives the scenario (and the other inputs, loaded unless ``inputs``).
    grid_before, grid_after : DataFrame
        Canonical grids of the same territory, two vintages (or a simulated
        one from :func:`perturb_vintage`, which the names then say).
    scenario : str, optional
        Scenario name (default: the project's first).
    inputs : LoadedInputs, optional
        Already loaded inputs (:func:`~cohesion_geo.scenarios.run.load_inputs`).
    names : (str, str), optional
        Default: the vintages (``"2015"``, ``"2019 (simulated)"``).

    Returns
    -------
    Comparison
        Entering quartiers would join the contract at readjustment, leaving
        ones would leave it.
    """
    from .run import load_inputs, prepare_grid, run_scenario

    sc = project.scenario(scenario) if scenario else project.scenarios[0]
    if inputs is None:
        inputs = load_inputs(project, progress=progress, grid=grid_before)

    def label(g: pd.DataFrame, default: str) -> str:
        v = g.attrs.get("vintage")
        text = str(v) if v is not None else default
        return text + (" (simulated)" if g.attrs.get("simulated") else "")

    if names is None:
        names = (label(grid_before, "before"), label(grid_after, "after"))
        if names[0] == names[1]:
            names = (names[0] + " (before)", names[1] + " (after)")
    results = []
    for g in (grid_before, grid_after):
        prepared = prepare_grid(g, inputs, project=project)
        results.append(run_scenario(sc, prepared, inputs))
    return compare_scenarios(results[0], results[1], grid=results[0].grid, grid_b=results[1].grid, names=names)
