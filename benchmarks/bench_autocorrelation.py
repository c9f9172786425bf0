"""Benchmark of the grid graph and LISA kernel against esda (SYNTHETIC grids).

Usage::

    python benchmarks/bench_autocorrelation.py [--cells 250000] [--national 2313783]
        [--permutations 999] [--seed 1] [--skip-esda] [--skip-national] [--skip-esda-baseline]
        [--national-cell]

Prints a Markdown table: grid-graph build time (250,000 and 2.3 million cells),
numba compilation and cache-load time of our kernels, the esda-exact
permutation table alone, LISA with 999 permutations on the 250,000-cell grid
for cohesion-geo (``draws="esda"``, ``"shared"``, ``"cell"``) and for
``esda.Moran_Local`` (numba, ``n_jobs=2``, ``keep_simulations=False``: its best
setting on 2 cores; its compilation/warm-up on a small grid is a separate
line), the speed ratio, the share of cells whose cluster label (p < 0.05)
agrees, the same share between two esda runs with different seeds (the Monte
Carlo noise floor), and our LISA on the national size (``draws="shared"`` and
``"esda"``) with its peak memory.

Both sides use esda's p-value definition (``alternative="directed"``) so that
labels are comparable. Grids come from :func:`cohesion_geo.synthetic.make_grid`
(seeded; towns, autocorrelated incomes, empty cells); the variable is the mean
standard of living ``Ind_snv / Ind``. The machine is shared: the load average
is printed at start and end, timings under load are pessimistic.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np

ROWS: list[tuple[str, str, str]] = []


def _row(what: str, value: str, note: str = "") -> None:
    ROWS.append((what, value, note))
    print(f"  {what}: {value} {note}", flush=True)


def _load() -> str:
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return -1


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def _grid(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """SYNTHETIC grid: integer corners and mean standard of living."""
    try:
        from cohesion_geo.cellid import parse_cell_ids
        from cohesion_geo.synthetic import make_grid

        raw = make_grid(n_cells=n, seed=seed)
        xy = parse_cell_ids(raw["Idcar_200m"])
        value = (raw["Ind_snv"] / raw["Ind"]).to_numpy()
        return xy["cell_x"].to_numpy(), xy["cell_y"].to_numpy(), value
    except ImportError:  # pragma: no cover - fallback when the synthetic package is absent
        from scipy.ndimage import gaussian_filter

        gen = np.random.default_rng(seed)
        side = int(np.ceil(np.sqrt(n / 0.45)))
        dens = gaussian_filter(gen.normal(size=(side, side)), 8)
        inc = gaussian_filter(gen.normal(size=(side, side)), 3)
        flat = (dens / dens.std() + gen.normal(size=dens.shape)).ravel()
        keep = np.sort(np.argpartition(flat, flat.size - n)[flat.size - n :])
        r, c = np.divmod(keep, side)
        value = 21_000 * np.exp(0.2 * inc.ravel()[keep] / inc.std() + 0.05 * gen.normal(size=n))
        return 3_200_000 + 200 * c, 2_100_000 + 200 * r, value


def _labels_esda(lm: object, alpha: float = 0.05) -> np.ndarray:
    q = np.asarray(lm.q)  # type: ignore[attr-defined]
    p = np.asarray(lm.p_sim)  # type: ignore[attr-defined]
    names = np.array(["not significant", "high-high", "low-high", "low-low", "high-low"], dtype=object)
    out = names[np.where(p < alpha, q, 0)]
    return out


def _compile_times() -> tuple[float, float]:
    """(cold compile + cache write, cache load) of our kernels in fresh processes."""
    code = (
        "import time, warnings; t=time.perf_counter();"
        "import numpy as np;"
        "from cohesion_geo.indicators.graph import grid_graph;"
        "from cohesion_geo.indicators.autocorrelation import local_moran, getis_ord_star, moran;"
        "gx, gy = np.meshgrid(np.arange(20), np.arange(20));"
        "g = grid_graph(gx.ravel()*200, gy.ravel()*200);"
        "y = np.sin(gx.ravel()/3.0) + gy.ravel();"
        "t0 = time.perf_counter();"
        "local_moran(y, graph=g, permutations=9, rng=0);"
        "local_moran(y, graph=g, permutations=9, rng=0, draws='cell');"
        "getis_ord_star(y, graph=g, permutations=9, rng=0);"
        "moran(y, graph=g, permutations=9, rng=0);"
        "print(time.perf_counter() - t0)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, NUMBA_CACHE_DIR=tmp)
        out = []
        for _ in range(2):
            res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
            out.append(float(res.stdout.strip().splitlines()[-1]))
    return out[0], out[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cells", type=int, default=250_000)
    ap.add_argument("--national", type=int, default=2_313_783)
    ap.add_argument("--permutations", type=int, default=999)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--skip-esda", action="store_true")
    ap.add_argument("--skip-esda-baseline", action="store_true")
    ap.add_argument("--skip-national", action="store_true")
    ap.add_argument("--national-cell", action="store_true", help='also time draws="cell" at national size (slow)')
    args = ap.parse_args()
    warnings.simplefilter("ignore", DeprecationWarning)
    warnings.simplefilter("ignore", FutureWarning)

    import numba

    from cohesion_geo.indicators.autocorrelation import getis_ord_star, local_moran, moran
    from cohesion_geo.indicators.graph import grid_graph

    P = args.permutations
    print(
        f"# bench_autocorrelation: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"numba {numba.__version__} ({numba.config.NUMBA_NUM_THREADS} threads), load {_load()}",
        flush=True,
    )

    t = time.perf_counter()
    x, y, v = _grid(args.cells, args.seed)
    _row(f"SYNTHETIC grid generation, {len(v):,} cells", f"{time.perf_counter() - t:.1f} s", "(not timed below)")

    t = time.perf_counter()
    g = grid_graph(x, y)
    _row(f"grid_graph queen, {len(v):,} cells", f"{time.perf_counter() - t:.2f} s",
         f"{int((g.cardinalities > 0).sum()):,} with neighbours, {len(g.isolates):,} isolated")

    cold, warm = _compile_times()
    _row("numba compile + cache write (fresh cache, all kernels but esda's table)", f"{cold:.1f} s",
         "once per machine")
    _row("numba cache load (later processes, first calls)", f"{warm:.2f} s", "once per process")
    # Load (or compile) every kernel here so that no timing below includes it.
    g_small = grid_graph(x[:1000], y[:1000])
    local_moran(v[:1000], graph=g_small, permutations=9, rng=0)
    local_moran(v[:1000], graph=g_small, permutations=9, rng=0, draws="esda")
    local_moran(v[:1000], graph=g_small, permutations=9, rng=0, draws="cell")
    getis_ord_star(v[:1000], graph=g_small, permutations=9, rng=0)
    moran(v[:1000], graph=g_small, permutations=9, rng=0)

    t, c = time.perf_counter(), time.process_time()
    ours = local_moran(v, graph=g, permutations=P, rng=args.seed, alternative="directed", draws="shared", n_jobs=2)
    t_ours = time.perf_counter() - t
    _row(f'cohesion-geo local_moran draws="shared", {len(v):,} cells, {P} perm., 2 threads', f"{t_ours:.2f} s",
         f"CPU {time.process_time() - c:.1f} s")
    ours_lab = ours["lisa_cluster"].astype(str).to_numpy()

    t = time.perf_counter()
    ours1 = local_moran(v, graph=g, permutations=P, rng=args.seed, alternative="directed", draws="shared", n_jobs=1)
    _row("  same, 1 thread", f"{time.perf_counter() - t:.2f} s",
         "identical labels: " + str(bool((ours1["lisa_cluster"].astype(str).to_numpy() == ours_lab).all())))

    from cohesion_geo.indicators import _autocorr_kernels as kernels

    max_card = int(g.cardinalities.max())
    t = time.perf_counter()
    kernels.esda_permutation_table(max_card, len(v), P, args.seed)
    _row(f"esda-exact permutation table, {len(v):,} cells x {P} perm. (max_card {max_card})",
         f"{time.perf_counter() - t:.2f} s", "serial, bit-exact with esda.crand.vec_permutations")
    t, c = time.perf_counter(), time.process_time()
    oe = local_moran(v, graph=g, permutations=P, rng=args.seed, alternative="directed", draws="esda", n_jobs=2)
    t_oe = time.perf_counter() - t
    o_lab = oe["lisa_cluster"].astype(str).to_numpy()
    _row(f'cohesion-geo local_moran draws="esda", {len(v):,} cells, {P} perm., 2 threads', f"{t_oe:.2f} s",
         f"table included; CPU {time.process_time() - c:.1f} s")

    t, c = time.perf_counter(), time.process_time()
    cell = local_moran(v, graph=g, permutations=P, rng=args.seed, alternative="directed", draws="cell", n_jobs=2)
    t_cell = time.perf_counter() - t
    _row(f'cohesion-geo local_moran draws="cell", {len(v):,} cells, 2 threads', f"{t_cell:.2f} s",
         f"independent draws per cell; CPU {time.process_time() - c:.1f} s")
    cell_lab = cell["lisa_cluster"].astype(str).to_numpy()

    t, c = time.perf_counter(), time.process_time()
    gi = getis_ord_star(v, graph=g, permutations=P, rng=args.seed, n_jobs=2)
    _row(f"cohesion-geo getis_ord_star, {len(v):,} cells, {P} perm.", f"{time.perf_counter() - t:.2f} s",
         f"{int((gi['gi_cluster'] == 'hot spot').sum()):,} hot spots; CPU {time.process_time() - c:.1f} s")

    t, c = time.perf_counter(), time.process_time()
    gm = moran(v, graph=g, permutations=P, rng=args.seed, n_jobs=2)
    _row(f"cohesion-geo moran (global), {len(v):,} cells, {P} perm.", f"{time.perf_counter() - t:.2f} s",
         f"I = {gm.I:.3f}, p_sim = {gm.p_sim:.3f}; CPU {time.process_time() - c:.1f} s")

    if not args.skip_esda:
        import esda

        gr = g.transform("r")
        small = grid_graph(x[:2000], y[:2000]).transform("r")
        t = time.perf_counter()
        esda.Moran_Local(v[:2000], small, permutations=P, n_jobs=2, keep_simulations=False, seed=0)
        _row("esda compile / worker warm-up (2,000 cells, n_jobs=2)", f"{time.perf_counter() - t:.1f} s")
        t = time.perf_counter()
        lm = esda.Moran_Local(v, gr, permutations=P, n_jobs=2, keep_simulations=False, seed=args.seed)
        t_esda = time.perf_counter() - t
        _row(f"esda.Moran_Local, {len(v):,} cells, {P} perm., n_jobs=2", f"{t_esda:.2f} s", "keep_simulations=False")
        _row('speed ratio esda / cohesion-geo draws="esda"', f"{t_esda / t_oe:.1f}x", "target >= 10x")
        _row('speed ratio esda / cohesion-geo draws="shared"', f"{t_esda / t_ours:.1f}x", "")
        diff = np.abs(ours["lisa_i"].to_numpy() - lm.Is)
        _row("max |I_i(ours) - I_i(esda)|", f"{np.nanmax(diff):.1e}", "target 1e-10")
        e_lab = _labels_esda(lm)
        has_nb = ours_lab != "isolated"
        e_lab = np.where(has_nb, e_lab, "isolated")
        agree = (e_lab == ours_lab).mean()
        _row("label agreement cohesion-geo (shared) vs esda (p < 0.05)", f"{100 * agree:.2f} %",
             f"cells with neighbours only: {100 * (e_lab == ours_lab)[has_nb].mean():.2f} %")
        _row('label agreement cohesion-geo draws="cell" vs esda', f"{100 * (e_lab == cell_lab).mean():.2f} %",
             f"cells with neighbours only: {100 * (e_lab == cell_lab)[has_nb].mean():.2f} %; "
             f"esda / cell time {t_esda / t_cell:.1f}x")
        if not args.skip_esda_baseline:
            lm2 = esda.Moran_Local(v, gr, permutations=P, n_jobs=2, keep_simulations=False, seed=args.seed + 1)
            e2 = np.where(has_nb, _labels_esda(lm2), "isolated")
            _row("label agreement esda vs esda, other seed (noise floor)", f"{100 * (e2 == e_lab).mean():.2f} %",
                 f"cells with neighbours only: {100 * (e2 == e_lab)[has_nb].mean():.2f} %")
        same_p = np.isclose(oe["lisa_p"].to_numpy(), lm.p_sim, rtol=0, atol=1e-6)[has_nb].mean()
        _row('label agreement cohesion-geo draws="esda" (same seed) vs esda', f"{100 * (o_lab == e_lab).mean():.2f} %",
             f"p-values equal {100 * same_p:.2f} %; esda / ours time {t_esda / t_oe:.1f}x")

    if not args.skip_national:
        t = time.perf_counter()
        x, y, v = _grid(args.national, args.seed)
        _row(f"SYNTHETIC grid generation, {len(v):,} cells", f"{time.perf_counter() - t:.1f} s", "(not timed below)")
        t = time.perf_counter()
        g = grid_graph(x, y)
        _row(f"grid_graph queen, {len(v):,} cells", f"{time.perf_counter() - t:.2f} s",
             f"{g.n_edges:,} directed edges, {len(g.isolates):,} isolated")
        t = time.perf_counter()
        grook = grid_graph(x, y, contiguity="rook")
        _row(f"grid_graph rook, {len(v):,} cells", f"{time.perf_counter() - t:.2f} s")
        del grook
        rss0 = _status_kb("VmRSS")
        exact = _reset_peak()
        t, c = time.perf_counter(), time.process_time()
        out = local_moran(v, graph=g, permutations=P, rng=args.seed, draws="shared", n_jobs=2)
        t_nat = time.perf_counter() - t
        peak = _status_kb("VmHWM") if exact else -1
        _row(f'cohesion-geo local_moran draws="shared", {len(v):,} cells, {P} perm., 2 threads', f"{t_nat:.1f} s",
             f"CPU {time.process_time() - c:.1f} s")
        if exact:
            _row("  peak RSS during that call (VmHWM)", f"{peak / 1024:.0f} MB",
                 f"{(peak - rss0) / 1024:.0f} MB above the {rss0 / 1024:.0f} MB held before (data + graph)")
        _row("  clusters", ", ".join(f"{k} {c:,}" for k, c in out["lisa_cluster"].value_counts().items()))
        t = time.perf_counter()
        kernels.esda_permutation_table(int(g.cardinalities.max()), len(v), P, args.seed)
        _row(f"esda-exact permutation table, {len(v):,} cells x {P} perm.", f"{time.perf_counter() - t:.1f} s", "serial")
        del out
        rss0 = _status_kb("VmRSS")
        exact = _reset_peak()
        t, c = time.perf_counter(), time.process_time()
        out = local_moran(v, graph=g, permutations=P, rng=args.seed, draws="esda", n_jobs=2)
        peak = _status_kb("VmHWM") if exact else -1
        _row(f'cohesion-geo local_moran draws="esda", {len(v):,} cells, {P} perm., 2 threads',
             f"{time.perf_counter() - t:.1f} s", f"target < 60 s; CPU {time.process_time() - c:.1f} s")
        if exact:
            _row("  peak RSS during that call (VmHWM)", f"{peak / 1024:.0f} MB",
                 f"{(peak - rss0) / 1024:.0f} MB above the {rss0 / 1024:.0f} MB held before (data + graph)")
        t, c = time.perf_counter(), time.process_time()
        gi = getis_ord_star(v, graph=g, permutations=P, rng=args.seed, n_jobs=2)
        _row(f"cohesion-geo getis_ord_star, {len(v):,} cells, {P} perm.", f"{time.perf_counter() - t:.1f} s",
             f"CPU {time.process_time() - c:.1f} s")
        if args.national_cell:
            t, c = time.perf_counter(), time.process_time()
            local_moran(v, graph=g, permutations=P, rng=args.seed, draws="cell", n_jobs=2)
            _row(f'cohesion-geo local_moran draws="cell", {len(v):,} cells', f"{time.perf_counter() - t:.1f} s",
                 f"CPU {time.process_time() - c:.1f} s (memory bound)")

    print(f"\n# load average at end: {_load()}\n")
    print("| measure | value | note |\n|---|---|---|")
    for what, value, note in ROWS:
        print(f"| {what} | {value} | {note} |")


if __name__ == "__main__":
    main()
