"""Scenario comparison, robustness and readjustment, on constructed scenarios checked by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cohesion_geo.errors import CohesionGeoError
from cohesion_geo.scenarios import compare_scenarios, perturb_vintage, robustness


class _Result:
    """A stand-in for a scenario result: ``.cells`` and ``.quartiers`` (ranks)."""

    def __init__(self, members: dict[str, list[int]], ranks: dict[str, int] | None = None) -> None:
        rows = [(f"c{c:02d}", q) for q, cs in members.items() for c in cs]
        self.cells = pd.DataFrame(rows, columns=["cell_id", "quartier_id"])
        ranks = ranks or {q: i + 1 for i, q in enumerate(members)}
        self.quartiers = pd.DataFrame({"quartier_id": list(ranks), "rank": list(ranks.values())})


# cell cNN has NN inhabitants and NN / 10 poor households: gains and losses are checkable by eye
GRID = pd.DataFrame({"cell_id": [f"c{i:02d}" for i in range(50)], "ind": np.arange(50, dtype=float),
                     "men_pauv": np.arange(50) / 10.0})
A = _Result({"q1": [1, 2, 3, 4], "q2": [10, 11], "q3": [20, 21, 22], "q4": [30, 31]})
B = _Result({"p1": [2, 3, 4, 5, 6], "p2": [20, 21, 30, 31], "p3": [40, 41]}, ranks={"p2": 1, "p1": 2, "p3": 3})


def test_changes_entering_leaving_growing_merged_by_hand():
    cmp = compare_scenarios(A, B, grid=GRID, names=("A", "B"))
    t = cmp.changes.set_index("change_id")
    assert t["status"].tolist() == ["growing", "leaving", "merged", "entering"]
    assert t["quartiers_a"].tolist() == ["q1", "q2", "q3, q4", ""]
    assert t["quartiers_b"].tolist() == ["p1", "", "p2", "p3"]
    # q1 {1,2,3,4} -> p1 {2,...,6}: 3 shared of 6 -> Jaccard 0.5; gained c05 + c06, lost c01
    g = t.loc["C1"]
    assert (g["cells_a"], g["cells_b"], g["cells_shared"], g["jaccard"]) == (4, 5, 3, 0.5)
    assert (g["ind_a"], g["ind_b"], g["ind_gained"], g["ind_lost"]) == (10.0, 20.0, 11.0, 1.0)
    assert (g["rank_a"], g["rank_b"], g["rank_moved"]) == (1, 2, -1)
    # q2 leaves with its 21 inhabitants and 2.1 poor households
    assert (t.loc["C2", "ind_lost"], t.loc["C2", "men_pauv_lost"], t.loc["C2", "jaccard"]) == (21.0, pytest.approx(2.1), 0)
    # q3 + q4 merge into p2: 4 shared of 5 cells, c22 lost; best rank 3 -> 1 (moved up 2)
    m = t.loc["C3"]
    assert (m["cells_shared"], m["jaccard"], m["ind_lost"], m["ind_gained"]) == (4, 0.8, 22.0, 0.0)
    assert (m["rank_a"], m["rank_b"], m["rank_moved"]) == (3, 1, 2)
    # p3 enters with c40 + c41
    assert (t.loc["C4", "ind_gained"], t.loc["C4", "ind_b"]) == (81.0, 81.0)


def test_summary_pairs_and_per_quartier_tables():
    cmp = compare_scenarios(A, B, grid=GRID, names=("A", "B"))
    s = cmp.summary
    assert (s["quartiers_a"], s["quartiers_b"], s["entering"], s["leaving"], s["kept"]) == (4, 3, 1, 1, 2)
    assert (s["cells_a"], s["cells_b"], s["cells_shared"]) == (11, 11, 7)
    assert s["jaccard"] == pytest.approx(7 / 15)
    assert s["ind_gained"] == 11 + 81 and s["ind_lost"] == 1 + 21 + 22
    assert s["ind_b"] - s["ind_a"] == s["ind_gained"] - s["ind_lost"]
    pairs = cmp.pairs.set_index(["quartier_a", "quartier_b"])
    assert pairs.loc[("q3", "p2"), "jaccard"] == pytest.approx(2 / 5)
    assert pairs.loc[("q4", "p2"), "jaccard"] == pytest.approx(2 / 4)
    qa = cmp.quartiers_a.set_index("quartier_id")
    assert qa.loc["q3", ["status", "match"]].tolist() == ["merged", "p2"]
    assert qa.loc["q2", "status"] == "leaving" and pd.isna(qa.loc["q2", "match"])
    qb = cmp.quartiers_b.set_index("quartier_id")
    assert (qb.loc["p1", "rank"], qb.loc["p1", "rank_other"]) == (2, 1)
    cells = cmp.cells.set_index("cell_id")
    assert cells.loc["c01", "change"] == "only_a" and cells.loc["c05", "change"] == "only_b"
    assert cells.loc["c02", ["quartier_a", "quartier_b", "change"]].tolist() == ["q1", "p1", "both"]


@pytest.mark.parametrize(
    ("a", "b", "status"),
    [
        ({"q": [1, 2, 3]}, {"p": [1, 2, 3]}, "unchanged"),
        ({"q": [1, 2, 3]}, {"p": [1, 2]}, "shrinking"),
        ({"q": [1, 2, 3]}, {"p": [2, 3, 4]}, "reshaped"),
        ({"q": [1, 2, 3, 4]}, {"p": [1, 2], "r": [3, 4]}, "split"),
        ({"q": [1, 2], "s": [3, 4]}, {"p": [2, 3], "r": [4, 5]}, "regrouped"),
    ],
)
def test_other_statuses(a, b, status):
    cmp = compare_scenarios(_Result(a), _Result(b))
    assert cmp.changes["status"].tolist() == [status]


def test_comparison_is_symmetric_in_cells_and_swaps_entering_and_leaving():
    ab = compare_scenarios(A, B, grid=GRID)
    ba = compare_scenarios(B, A, grid=GRID)
    assert ab.summary["jaccard"] == ba.summary["jaccard"]
    assert (ab.summary["entering"], ab.summary["leaving"]) == (ba.summary["leaving"], ba.summary["entering"])
    assert ab.summary["ind_gained"] == ba.summary["ind_lost"]


def test_empty_side_and_bad_input():
    empty = pd.DataFrame({"cell_id": pd.Series(dtype=str), "quartier_id": pd.Series(dtype=str)})
    cmp = compare_scenarios(A, empty, grid=GRID)
    assert cmp.changes["status"].tolist() == ["leaving"] * 4
    assert cmp.summary["jaccard"] == 0.0
    with pytest.raises(CohesionGeoError, match="several quartiers"):
        compare_scenarios(pd.DataFrame({"cell_id": ["c1", "c1"], "quartier_id": ["a", "b"]}), A)


def _ids(xy):
    return [f"CRS3035RES200mN{200 * y}E{200 * x}" for x, y in xy]


def test_robustness_shares_and_common_core():
    a = pd.DataFrame({"cell_id": _ids([(0, 0), (1, 0), (5, 5), (9, 9), (3, 3), (4, 4)]),
                      "quartier_id": ["a1", "a1", "a2", "a3", "a4", "a4"]})
    b = pd.DataFrame({"cell_id": _ids([(0, 0), (1, 0), (2, 0), (9, 9), (3, 3), (4, 4)]),
                      "quartier_id": ["b1", "b1", "b1", "b2", "b3", "b3"]})
    c = pd.DataFrame({"cell_id": _ids([(0, 0), (1, 0), (5, 5), (9, 9), (3, 3), (4, 4)]),
                      "quartier_id": ["c1", "c2", "c3", "c4", "c5", "c5"]})
    r = robustness({"a": a, "b": b, "c": c})
    share = dict(zip(r.cells["cell_id"], r.cells["share"]))
    assert share[_ids([(2, 0)])[0]] == pytest.approx(1 / 3)
    assert share[_ids([(5, 5)])[0]] == pytest.approx(2 / 3)
    assert share[_ids([(0, 0)])[0]] == 1.0
    core = r.core.set_index("core_id")
    # queen: the diagonal pair (3,3)-(4,4) is one zone; ordered by size, then first cell id
    assert core["n_cells"].tolist() == [2, 2, 1]
    assert core.loc["K1", ["in_a", "in_b", "in_c"]].tolist() == ["a1", "b1", "c1, c2"]
    assert core.loc["K2", ["in_a", "in_b", "in_c"]].tolist() == ["a4", "b3", "c5"]
    assert core.loc["K3", "in_b"] == "b2"
    rook = robustness({"a": a, "b": b, "c": c}, contiguity="rook")
    assert rook.core["n_cells"].tolist() == [2, 1, 1, 1]
    q = r.quartiers.set_index(["scenario", "quartier_id"])
    assert q.loc[("b", "b1"), "robust_share"] == pytest.approx(2 / 3)
    assert q.loc[("a", "a2"), ["n_cells", "robust_share"]].tolist() == [1, 0.0]
    assert r.cells.crs.to_epsg() == 3035 and r.core.geometry.iloc[0].area == 2 * 200 * 200


def test_robustness_counts_population_from_the_grid():
    ids = _ids([(0, 0), (1, 0)])
    grid = pd.DataFrame({"cell_id": ids, "cell_x": [0, 200], "cell_y": [0, 0], "cell_size": 200,
                         "ind": [120.0, 80.0], "men": [50.0, 30.0], "men_pauv": [20.0, 6.0]})
    r = robustness({"x": pd.DataFrame({"cell_id": ids, "quartier_id": ["q", "q"]}),
                    "y": pd.DataFrame({"cell_id": ids[:1], "quartier_id": ["p"]})}, grid=grid)
    assert r.core[["core_id", "ind", "men", "men_pauv"]].values.tolist() == [["K1", 120.0, 50.0, 20.0]]


def _grid(n=12, seed=0):
    rng = np.random.default_rng(seed)
    xs, ys = np.meshgrid(np.arange(n), np.arange(n))
    g = pd.DataFrame({"cell_x": xs.ravel() * 200, "cell_y": ys.ravel() * 200, "cell_size": 200})
    g["cell_id"] = _ids(zip(xs.ravel(), ys.ravel()))
    g["ind"] = rng.integers(20, 200, len(g)).astype(float)
    g["men"] = (g["ind"] / 2.2).round()
    g["ind_snv"] = g["ind"] * rng.uniform(12000, 30000, len(g))
    g["men_pauv"] = (g["men"] * rng.uniform(0, 0.5, len(g))).round()
    g.attrs = {"vintage": 2015, "source": "constructed"}
    return g


def test_perturbed_vintage_is_seeded_labelled_and_keeps_population():
    g = _grid()
    a = perturb_vintage(g, rng=3)
    b = perturb_vintage(g, rng=3)
    c = perturb_vintage(g, rng=4)
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a["ind_snv"], c["ind_snv"])
    assert a.attrs["simulated"] is True and a.attrs["vintage"] == 2019
    assert "simulated" in a.attrs["source"] and "seed 3" in a.attrs["source"]
    assert (a["ind"] == g["ind"]).all() and (a["men"] == g["men"]).all()
    assert (a["men_pauv"] <= a["men"]).all()
    assert np.allclose(a["mean_std_living"], a["ind_snv"] / a["ind"])
    # a uniform 10 % fall of income: every mean falls by exp(-0.1), poor households rise (capped)
    d = perturb_vintage(g, rng=0, scale=0.0, drift=-0.1)
    assert np.allclose(d["ind_snv"] / g["ind_snv"], np.exp(-0.1))
    assert (d["men_pauv"] >= g["men_pauv"]).all()
    assert g.attrs == {"vintage": 2015, "source": "constructed"}  # input untouched
