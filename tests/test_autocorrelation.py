"""Spatial autocorrelation: global Moran's I, LISA, Getis-Ord Gi* (indicators.autocorrelation)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cohesion_geo.errors import CohesionGeoError, ValidationError
from cohesion_geo.indicators import _autocorr_kernels as kernels
from cohesion_geo.indicators.autocorrelation import (
    LISA_LABELS,
    benjamini_hochberg,
    getis_ord_star,
    local_moran,
    moran,
)
from cohesion_geo.indicators.graph import graph_csr, grid_graph


def _lattice(nx: int, ny: int) -> tuple[np.ndarray, np.ndarray]:
    gx, gy = np.meshgrid(np.arange(nx), np.arange(ny))
    return gx.ravel(), gy.ravel()


def _field(nx: int, ny: int, *, sigma: float, seed: int, holes: float = 0.0):
    """Gaussian random field on a lattice with random empty cells (continuous values, no ties)."""
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(seed)
    f = gaussian_filter(rng.normal(size=(ny, nx)), sigma)
    gx, gy = _lattice(nx, ny)
    keep = rng.random(gx.size) >= holes
    v = f.ravel()[keep] / f.std() + 0.1 * rng.normal(size=keep.sum())
    return 200 * gx[keep], 200 * gy[keep], v


# --------------------------------------------------------------------------- global Moran


def test_global_moran_3x3_by_hand():
    """3x3 block, y = 1..9 row by row, rook contiguity, binary weights.

    z = y - 5 = [[-4,-3,-2],[-1,0,1],[2,3,4]], sum z^2 = 60. Over the 12 rook
    edges, sum z_i z_j: rows (12+6) + (0+0) + (6+12) = 36, columns
    (4-2) + (0+0) + (-2+4) = 4, total 40; both directions: 80. S0 = 24, so
    I = n/S0 * 80/60 = 9/24 * 4/3 = 0.5; E[I] = -1/8.
    """
    gx, gy = _lattice(3, 3)
    y = (3 * gy + gx + 1).astype(float)
    g = grid_graph(200 * gx, 200 * gy, contiguity="rook")
    res = moran(y, graph=g, transformation="b", permutations=99, rng=0)
    assert res.I == pytest.approx(0.5, abs=1e-12)
    assert res.EI == pytest.approx(-0.125)
    # normality variance from dense matrices, independently of the sparse code
    W = g.sparse.toarray()
    n, s0 = 9, W.sum()
    s1 = 0.5 * ((W + W.T) ** 2).sum()
    s2 = ((W.sum(1) + W.sum(0)) ** 2).sum()
    vi = (n * n * s1 - n * s2 + 3 * s0**2) / ((n * n - 1) * s0**2) - (1 / 8) ** 2
    assert res.z == pytest.approx((0.5 + 0.125) / np.sqrt(vi), rel=1e-12)
    assert res.p_norm == pytest.approx(2 * stats.norm.sf(res.z), rel=1e-12)
    assert (res.n, res.n_isolates, res.permutations) == (9, 0, 99)


def test_global_moran_row_standardised_matches_dense_formula():
    x, y, v = _field(15, 12, sigma=2, seed=4, holes=0.2)
    x, y, v = np.append(x, 10_000), np.append(y, 0), np.append(v, 3.0)  # one isolated cell
    g = grid_graph(x, y)
    W = g.transform("r").sparse.toarray()
    z = v - v.mean()
    expected = len(v) / W.sum() * (z @ W @ z) / (z @ z)
    res = moran(v, graph=g, permutations=0)
    assert res.I == pytest.approx(expected, rel=1e-12)
    assert np.isnan(res.p_sim) and np.isnan(res.z_sim)
    assert res.n_isolates == len(g.isolates) > 0


def test_checkerboard_rook_is_perfectly_negative():
    """On a 6x6 checkerboard every rook neighbour has the other colour: lag = -z, I = -1.

    No random permutation reaches -1, so n_le = 0: two-sided p = 2/1000, esda's
    directed p = 1/1000.
    """
    gx, gy = _lattice(6, 6)
    y = ((gx + gy) % 2).astype(float)
    g = grid_graph(200 * gx, 200 * gy, contiguity="rook")
    res = moran(y, graph=g, permutations=999, rng=11)
    assert res.I == pytest.approx(-1.0, abs=1e-12)
    assert res.p_sim == pytest.approx(0.002)
    assert res.z < -5 and res.z_sim < -5
    assert moran(y, graph=g, permutations=999, rng=11, alternative="directed").p_sim == pytest.approx(0.001)
    # queen adds the 4 same-colour diagonals: much weaker, still negative
    assert -0.6 < moran(y, graph=grid_graph(200 * gx, 200 * gy), permutations=0).I < -0.1
    # LISA: every cell is high-low or low-high, I_i = (n-1) * z_i * (-z_i) / sum z^2 = -35/36
    out = local_moran(y, graph=g, permutations=99, rng=0)
    assert np.allclose(out["lisa_i"], -35 / 36)
    assert set(out["lisa_q"]) == {2, 4}


def test_global_moran_permutations_reproducible_and_thread_independent():
    x, y, v = _field(30, 30, sigma=1.5, seed=5)
    g = grid_graph(x, y)
    a = moran(v, graph=g, permutations=199, rng=3, n_jobs=1)
    b = moran(v, graph=g, permutations=199, rng=3, n_jobs=2)
    assert a == b
    assert a.p_sim == pytest.approx(0.01) and a.I > 0.5
    # under spatial randomness I is near E[I] and not significant
    iid = np.random.default_rng(8).normal(size=v.size)
    r = moran(iid, graph=g, permutations=199, rng=3)
    assert abs(r.I - r.EI) < 0.05 and r.p_sim > 0.05


# --------------------------------------------------------------------------- LISA


def test_lisa_values_by_hand_on_two_halves():
    """10x10 queen grid, left half 1, right half 0: z = +-1, sum z^2 = 100.

    Interior cell (row 5, col 2): lag = 1, I = 99 * 1 * 1 / 100 = 0.99.
    Border cell (row 5, col 4): 5 high and 3 low neighbours, lag = (5-3)/8 = 0.25,
    I = 99 * 0.25 / 100 = 0.2475. Corner (row 0, col 9): lag = -1, I = 0.99, low-low.
    """
    gx, gy = _lattice(10, 10)
    y = pd.Series((gx < 5) * 1.0, index=pd.Index([f"c{i}" for i in range(100)], name="cell_id"))
    g = grid_graph(pd.Series(200 * gx, index=y.index), pd.Series(200 * gy, index=y.index))
    out = local_moran(y, graph=g, permutations=999, rng=1)
    assert out.index.equals(y.index)
    assert list(out.columns) == ["lisa_i", "lisa_p", "lisa_z", "lisa_q", "lisa_cluster"]
    assert out.loc["c52", "lisa_i"] == pytest.approx(0.99)
    assert out.loc["c54", "lisa_i"] == pytest.approx(0.2475)
    assert out.loc["c9", "lisa_i"] == pytest.approx(0.99)
    assert out.loc["c52", "lisa_cluster"] == "high-high"
    assert out.loc["c54", "lisa_cluster"] == "not significant"
    assert out.loc["c9", "lisa_q"] == 3
    assert list(out["lisa_cluster"].cat.categories) == list(LISA_LABELS)
    assert ((out["lisa_p"] > 0) & (out["lisa_p"] <= 1)).all()


def test_alternatives_on_the_same_draws():
    """Continuous values (no ties): two-sided = min(1, 2 x directed); greater/lesser one-sided."""
    x, y, v = _field(20, 20, sigma=2, seed=12)
    g = grid_graph(x, y)
    p = {alt: local_moran(v, graph=g, rng=1, alternative=alt)["lisa_p"].to_numpy()
         for alt in ("two-sided", "directed", "greater", "lesser")}
    assert np.allclose(p["two-sided"], np.minimum(1, 2 * p["directed"]))
    assert np.allclose(p["greater"] + p["lesser"], 1001 / 1000)  # n_ge + n_le = P without ties
    assert np.allclose(p["directed"], np.minimum(p["greater"], p["lesser"]))


def test_same_seed_same_labels_any_thread_count():
    x, y, v = _field(40, 40, sigma=2, seed=2, holes=0.15)
    g = grid_graph(x, y)
    a = local_moran(v, graph=g, rng=123, n_jobs=1)
    b = local_moran(v, graph=g, rng=123, n_jobs=2)
    pd.testing.assert_frame_equal(a, b)
    # "shared"/"cell": an int seed and default_rng(seed) are the same rng; the default
    # "esda" uses an int seed as esda does (numba's np.random.seed), a Generator draws one
    pd.testing.assert_frame_equal(
        local_moran(v, graph=g, rng=123, draws="shared"),
        local_moran(v, graph=g, rng=np.random.default_rng(123), draws="shared"),
    )
    c1 = local_moran(v, graph=g, rng=np.random.default_rng(7))
    pd.testing.assert_frame_equal(c1, local_moran(v, graph=g, rng=np.random.default_rng(7)))
    for draws in ("cell", "shared"):
        pd.testing.assert_frame_equal(
            local_moran(v, graph=g, rng=123, draws=draws, n_jobs=1),
            local_moran(v, graph=g, rng=123, draws=draws, n_jobs=2),
        )
    d = local_moran(v, graph=g, rng=124)
    assert not np.array_equal(a["lisa_p"].to_numpy(), d["lisa_p"].to_numpy(), equal_nan=True)
    assert (a["lisa_cluster"] == d["lisa_cluster"]).mean() > 0.9
    ga = getis_ord_star(v - v.min(), graph=g, rng=5, n_jobs=1)
    pd.testing.assert_frame_equal(ga, getis_ord_star(v - v.min(), graph=g, rng=5, n_jobs=2))


def test_pvalues_uniform_under_spatial_randomness():
    """iid values: the share of cells with p < 0.05 is about 5 % (2,500 cells: 125 +- 11)."""
    gx, gy = _lattice(50, 50)
    g = grid_graph(200 * gx, 200 * gy)
    v = np.random.default_rng(21).normal(size=gx.size)
    for draws in ("shared", "cell", "esda"):
        out = local_moran(v, graph=g, rng=9, draws=draws)
        share = (out["lisa_p"] < 0.05).mean()
        assert 0.03 < share < 0.07, (draws, share)
        assert 0.45 < out["lisa_p"].mean() < 0.56
        sig = out["lisa_cluster"] != "not significant"
        assert (sig == (out["lisa_p"] < 0.05)).all()
    gi = getis_ord_star(v + 5, graph=g, rng=9)
    assert 0.03 < (gi["gi_p"] < 0.05).mean() < 0.07


def test_draws_are_without_replacement_from_the_other_cells():
    """2x2 queen block: each cell's 3 neighbours are all the other cells, so every
    conditional permutation reproduces the observed lag: p = 1, zero spread."""
    gx, gy = _lattice(2, 2)
    g = grid_graph(200 * gx, 200 * gy)
    out = local_moran(np.array([1.0, 2.0, 4.0, 8.0]), graph=g, permutations=199, rng=0)
    assert (out["lisa_p"] == 1.0).all()
    assert out["lisa_z"].isna().all()


def test_esda_table_mode_matches_a_direct_computation():
    """draws="esda": cell i uses table[p, :k] shifted past i, as esda.crand does."""
    x, y, v = _field(9, 8, sigma=1, seed=6, holes=0.1)
    g = grid_graph(x, y)
    P, seed = 199, 77
    out = local_moran(v, graph=g, permutations=P, rng=seed, draws="esda", alternative="directed")
    indptr, indices, w = graph_csr(g)
    k = np.diff(indptr)
    z = (v - v.mean()) / v.std()
    n = v.size
    table = kernels.esda_permutation_table(int(k.max()), n, P, seed)
    scaling = (n - 1) / (z @ z)
    for i in range(n):
        if k[i] == 0:
            assert out["lisa_cluster"].iloc[i] == "isolated" and np.isnan(out["lisa_p"].iloc[i])
            continue
        wi = w[indptr[i]:indptr[i + 1]] / k[i]
        obs = z[i] * (wi @ z[indices[indptr[i]:indptr[i + 1]]]) * scaling
        t = table[:, : k[i]]
        sims = z[i] * ((z[t + (t >= i)]) @ wi) * scaling
        larger = (sims >= obs).sum()
        larger = min(larger, P - larger)
        assert out["lisa_p"].iloc[i] == pytest.approx((larger + 1) / (P + 1)), i


def test_isolated_cells_labelled_and_kept_in_the_moments():
    x = np.array([0, 200, 400, 0, 200, 400, 4000])
    y = np.array([0, 0, 0, 200, 200, 200, 0])
    v = np.array([1.0, 2.0, 3.0, 2.0, 5.0, 1.0, 40.0])
    g = grid_graph(x, y)
    out = local_moran(v, graph=g, permutations=99, rng=0)
    assert out.loc[6, "lisa_cluster"] == "isolated"
    assert np.isnan(out.loc[6, "lisa_i"]) and out.loc[6, "lisa_q"] == 0
    z = (v - v.mean()) / v.std()  # the isolate's 40 is part of mean and variance
    lag0 = (z[1] + z[3] + z[4]) / 3
    assert out.loc[0, "lisa_i"] == pytest.approx(6 * z[0] * lag0 / (z @ z))
    gi = getis_ord_star(v, graph=g, permutations=99, rng=0)
    assert gi.loc[6, "gi_cluster"] == "isolated" and np.isnan(gi.loc[6, "gi_z"])


def test_fdr_benjamini_hochberg():
    p = np.array([0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205, np.nan])
    adj = benjamini_hochberg(p)
    # by hand: m = 8, p_(i) * 8 / i, then running minimum from the top
    expected = [0.008, 0.032, 0.0672, 0.0672, 0.0672, 0.08, 0.0845714, 0.205]
    assert np.allclose(adj[:8], expected, atol=1e-6) and np.isnan(adj[8])
    # rejecting adj < alpha == the step-up rule p_(k) < k alpha / m (esda.fdr)
    rng = np.random.default_rng(0)
    q = np.concatenate([rng.uniform(0, 0.01, 30), rng.uniform(0, 1, 300)])
    srt = np.sort(q)
    ks = np.flatnonzero(srt < np.arange(1, q.size + 1) * 0.05 / q.size)
    cut = (ks.max() + 1) * 0.05 / q.size if ks.size else 0.05 / q.size
    assert ((benjamini_hochberg(q) < 0.05) == (q < cut)).all()
    s = benjamini_hochberg(pd.Series([0.01, 0.5], index=["a", "b"], name="p"))
    assert list(s.index) == ["a", "b"] and s.name == "p"


def test_lisa_fdr_is_stricter():
    x, y, v = _field(30, 30, sigma=1.5, seed=3)
    g = grid_graph(x, y)
    plain = local_moran(v, graph=g, rng=4)
    strict = local_moran(v, graph=g, rng=4, fdr=True)
    assert "lisa_p_fdr" in strict.columns and "lisa_p_fdr" not in plain.columns
    assert np.allclose(strict["lisa_p_fdr"], benjamini_hochberg(plain["lisa_p"].to_numpy()))
    n_plain = (plain["lisa_cluster"] != "not significant").sum()
    n_strict = (strict["lisa_cluster"] != "not significant").sum()
    assert 0 < n_strict < n_plain


def test_getis_ord_star_by_hand():
    """5x5 queen grid of 1 with 10 in the centre: n = 25, mean 1.36, s^2 = 124/25 - 1.36^2 = 3.1104.

    Centre: W = 9 (self + 8), sum = 18, z = (18 - 9 * 1.36) / (s sqrt((25*9 - 81)/24))
    = 5.76 / sqrt(3.1104 * 6) = 5.76 / 4.32 = 4/3; G* = 18 / 34.
    Corner: W = 4, sum = 4, z = (4 - 5.44) / sqrt(3.1104 * (100 - 16) / 24) = -1.44 / sqrt(10.8864).
    """
    gx, gy = _lattice(5, 5)
    y = np.ones(25)
    y[12] = 10.0
    out = getis_ord_star(y, graph=grid_graph(200 * gx, 200 * gy), permutations=99, rng=0)
    assert out.loc[12, "gi_z"] == pytest.approx(4 / 3, rel=1e-12)
    assert out.loc[12, "gi_star"] == pytest.approx(18 / 34)
    assert out.loc[0, "gi_z"] == pytest.approx(-1.44 / np.sqrt(10.8864), rel=1e-12)
    assert out.loc[0, "gi_star"] == pytest.approx(4 / 34)
    assert list(out.columns) == ["gi_star", "gi_z", "gi_p", "gi_cluster"]


def test_invalid_inputs_raise_clear_errors():
    gx, gy = _lattice(4, 4)
    g = grid_graph(200 * gx, 200 * gy)
    v = np.arange(16, dtype=float)
    bad = v.copy()
    bad[[3, 7]] = np.nan
    with pytest.raises(ValidationError, match=r"missing or infinite values in 2 rows, e.g. rows 4, 8"):
        local_moran(bad, graph=g)
    with pytest.raises(ValidationError, match="15 values but the graph has 16 nodes"):
        moran(v[:15], graph=g)
    with pytest.raises(ValidationError, match="empty"):
        getis_ord_star(np.array([]), graph=g)
    with pytest.raises(ValidationError, match="all values are equal"):
        local_moran(np.ones(16), graph=g)
    with pytest.raises(ValidationError, match="libpysal.graph.Graph"):
        local_moran(v, graph="queen")  # type: ignore[arg-type]
    with pytest.raises(ValidationError) as exc:
        local_moran(v, graph=g, permutations=-1, alternative="both", alpha=2.0, draws="fast")  # type: ignore[arg-type]
    assert len(exc.value.problems) == 4
    other = pd.Series(v, index=[f"x{i}" for i in range(16)], name="poverty_rate")
    with pytest.raises(CohesionGeoError, match="ids do not match"):
        local_moran(other, graph=g)
    with pytest.raises(CohesionGeoError, match="transformation"):
        moran(v, graph=g, transformation="q")  # type: ignore[arg-type]
    assert issubclass(ValidationError, CohesionGeoError) and issubclass(CohesionGeoError, ValueError)


def test_series_matched_on_graph_ids_in_any_order():
    x, y, v = _field(12, 10, sigma=1.5, seed=9)
    ids = pd.Index([f"c{i}" for i in range(v.size)])
    g = grid_graph(x, y, ids=ids)
    ref = local_moran(pd.Series(v, index=ids), graph=g, permutations=0)
    order = np.random.default_rng(1).permutation(v.size)
    shuffled = pd.Series(v[order], index=ids[order])
    out = local_moran(shuffled, graph=g, permutations=0)
    assert out.index.equals(shuffled.index)
    pd.testing.assert_frame_equal(out.loc[ids], ref)
    assert moran(shuffled, graph=g, permutations=0).I == pytest.approx(moran(v, graph=g, permutations=0).I)


@pytest.mark.realdata
def test_bordeaux_poverty_rate_clusters(bordeaux_grid):
    """Real Bordeaux 2015 grid: poverty is strongly and significantly clustered."""
    grid = bordeaux_grid.loc[bordeaux_grid["poverty_rate"].notna()]
    g = grid_graph(grid["cell_x"], grid["cell_y"])
    res = moran(grid["poverty_rate"], graph=g, permutations=199, rng=0)
    assert 0.3 < res.I < 0.6
    assert res.p_sim == pytest.approx(0.01) and res.p_norm < 1e-12
    out = local_moran(grid["poverty_rate"], graph=g, rng=0)
    counts = out["lisa_cluster"].value_counts()
    assert counts["high-high"] > 300 and counts["low-low"] > 300
    assert counts["isolated"] == len(g.isolates)
    # high-high cells are poorer than low-low cells
    rate = grid["poverty_rate"]
    assert rate[out["lisa_cluster"] == "high-high"].mean() > 2 * rate[out["lisa_cluster"] == "low-low"].mean()


# --------------------------------------------------------------------------- validation against esda


@pytest.mark.slow
def test_validation_against_esda():
    """The one esda test (its numba kernels compile once, ~20 s): 2,000-cell field with holes.

    - local Moran I_i, Gi* G and z, global Moran I / z / p_norm: equal to 1e-10;
    - draws="esda" (default) with the same seed: esda's p-values exactly, labels 100 %;
    - draws="shared" and "cell": labels agree with esda as well as esda
      agrees with itself under another seed (Monte Carlo noise), and >= 96 %.
    """
    esda = pytest.importorskip("esda")
    x, y, v = _field(50, 50, sigma=2, seed=1, holes=0.2)
    far = 20_000 + 400 * np.arange(3)  # three isolated cells
    x, y, v = np.append(x, far), np.append(y, far), np.append(v, [0.5, -1.0, 2.0])
    g = grid_graph(x, y)
    assert 1900 < v.size < 2100
    gr = g.transform("r")
    has_nb = np.diff(graph_csr(g)[0]) > 0
    assert (~has_nb).sum() > 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lm = esda.Moran_Local(v, gr, permutations=999, seed=42, n_jobs=1)
        lm2 = esda.Moran_Local(v, gr, permutations=999, seed=43, n_jobs=1)
        gl = esda.G_Local(v - v.min() + 1, g, transform="B", star=True, permutations=999, seed=42, n_jobs=1)
        gm = esda.Moran(v, gr, permutations=0)

    def esda_labels(m):
        names = np.array(["not significant", "high-high", "low-high", "low-low", "high-low"], dtype=object)
        return np.where(has_nb, names[np.where(m.p_sim < 0.05, m.q, 0)], "isolated")

    e1, e2 = esda_labels(lm), esda_labels(lm2)

    same = local_moran(v, graph=g, rng=42, draws="esda", alternative="directed")
    assert np.nanmax(np.abs(same["lisa_i"].to_numpy() - lm.Is)[has_nb]) < 1e-10
    assert np.allclose(same["lisa_p"].to_numpy()[has_nb], lm.p_sim[has_nb], rtol=0, atol=1e-12)
    assert (same["lisa_cluster"].astype(str).to_numpy() == e1).mean() >= 0.99

    floor = (e1 == e2).mean()
    for draws in ("shared", "cell"):
        fast = local_moran(v, graph=g, rng=42, alternative="directed", draws=draws)
        agree = (fast["lisa_cluster"].astype(str).to_numpy() == e1).mean()
        assert agree >= min(0.99, floor - 0.01) and agree >= 0.96, (draws, agree, floor)
        r = stats.spearmanr(fast["lisa_p"].to_numpy()[has_nb], lm.p_sim[has_nb]).statistic
        assert r > 0.98, (draws, r)

    gi = getis_ord_star(v - v.min() + 1, graph=g, rng=42, draws="esda", alternative="directed")
    assert np.nanmax(np.abs(gi["gi_star"].to_numpy() - gl.Gs)[has_nb]) < 1e-10
    assert np.nanmax(np.abs(gi["gi_z"].to_numpy() - gl.Zs)[has_nb]) < 1e-10
    assert np.allclose(gi["gi_p"].to_numpy()[has_nb], gl.p_sim[has_nb], rtol=0, atol=1e-6)  # esda stores float32

    ours = moran(v, graph=g, permutations=0)
    assert ours.I == pytest.approx(gm.I, abs=1e-10)
    assert ours.EI == pytest.approx(gm.EI, abs=1e-12)
    assert ours.z == pytest.approx(gm.z_norm, abs=1e-8)
    assert ours.p_norm == pytest.approx(gm.p_norm, abs=1e-10)


def test_esda_table_is_bit_exact_with_esda_vec_permutations():
    """Our local-state Mersenne Twister table == esda.crand.vec_permutations, element for element.

    Covers the edge sizes (n = 2, max_card = n - 1, n - 1 a power of two and one
    above, seeds 0 and 2**32 - 1 and one above 2**32 taken modulo 2**32 as numba
    does), 40 random (max_card, n, permutations, seed) with n <= 2,000 and up to
    999 permutations, and large n with few permutations (n = 300,000).
    vec_permutations alone compiles in ~3 s (not esda's LISA kernels).
    """
    crand = pytest.importorskip("esda.crand")
    gen = np.random.default_rng(2024)
    cases = [
        (1, 2, 999, 0), (1, 3, 50, 5), (2, 3, 50, 7), (2, 4, 30, 1), (8, 9, 100, 2**32 - 1),
        (10, 11, 30, 3), (5, 1025, 30, 2), (5, 1026, 30, 2), (3, 70_000, 5, 2**32 + 17),
        (10, 300_000, 3, 123), (8, 250_000, 4, 1), (1, 300_000, 2, 0),
    ]
    for _ in range(40):
        n = int(gen.integers(2, 2_000))
        cases.append((int(gen.integers(1, min(10, n - 1) + 1)), n, int(gen.integers(1, 1_000)),
                      int(gen.integers(0, 2**32))))
    for max_card, n, perms, seed in cases:
        ours = kernels.esda_permutation_table(max_card, n, perms, seed)
        ref = crand.vec_permutations(max_card, n, perms, seed % 2**32)
        assert ours.shape == (perms, max_card)
        assert np.array_equal(ours, ref), (max_card, n, perms, seed)
    assert set(np.unique(kernels.esda_permutation_table(3, 5, 200, 9))) == {0, 1, 2, 3}
