"""Synthetic INSEE Filosofi 2015 grid in the exact raw layout (SYNTHETIC DATA).

:func:`grid_frame` turns a few per-cell fields (population, mean standard of
living, urban intensity, social-housing intensity, commune) into the raw 2015
CSV layout, with INSEE's secrecy rule emulated: cells with fewer than 11
households are *imputed* (``I_est_cr = 1``) and carry values smoothed over a
"natural square" (1, 2, 4, ... km) holding at least 11 households, so their
counts are fractional. Every count is consistent by construction:

- ``Men_pauv``, ``Men_1ind + Men_5ind``, ``Men_prop``, ``Men_fmp``, ``Log_soc`` <= ``Men``;
- ``Men_coll + Men_mais == Men`` and the five ``Log_*`` age classes sum to ``Men``;
- the eleven age bands (``Ind_0_3`` ... ``Ind_inc``) sum to ``Ind``, and ``Ind >= Men``;
- ``Ind_snv == Ind * mean standard of living`` (rounded to 0.1 EUR);
- measured cells have whole households (``Men >= 11``) and half-person
  precision, imputed cells a 0.1 precision.

:func:`make_grid` builds a national-size grid (2.3 million cells by default)
quickly, for benchmarks. Everything is vectorised (no per-cell Python loop).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from scipy import ndimage

from ._layouts import AGE_COLUMNS, DWELLING_AGE_COLUMNS, FILOSOFI_2015_COLUMNS

__all__ = ["grid_frame", "make_grid", "poverty_from_income", "smooth_field"]

RngLike = int | np.random.Generator | None

#: Mean standard of living clipped to this range (EUR/year), as in real cities.
LIVING_RANGE = (11_000.0, 40_000.0)
#: Natural-square sizes (metres) tried, smallest first, for imputed cells.
_NATURAL_SQUARES = (1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 64_000)


def smooth_field(shape: tuple[int, int], *, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Gaussian random field of unit variance (white noise smoothed by a Gaussian).

    Examples
    --------
    >>> f = smooth_field((50, 60), sigma=3, rng=np.random.default_rng(0))
    >>> f.shape, round(float(f.std()), 6)
    ((50, 60), 1.0)
    """
    noise = rng.standard_normal(shape).astype("float64")
    field = ndimage.gaussian_filter(noise, sigma=sigma, mode="reflect")
    field -= field.mean()
    sd = field.std()
    return field / sd if sd > 0 else field


def poverty_from_income(mean_living: np.ndarray, *, social: np.ndarray | float = 0.0) -> np.ndarray:
    """Share of poor households implied by a mean standard of living (logistic).

    About 45 % at 12,000 EUR, 10 % at 20,000 EUR, 2 % at 30,000 EUR; a social-
    housing intensity adds a little. Noise is added by the caller.

    Examples
    --------
    >>> np.round(poverty_from_income(np.array([12_000.0, 20_000.0, 30_000.0])), 2).tolist()
    [0.45, 0.1, 0.02]
    """
    logit = -2.2 - 3.9 * np.log(np.asarray(mean_living, dtype="float64") / 20_000.0) + 0.2 * np.asarray(social)
    return 1.0 / (1.0 + np.exp(-logit))


def _split(total_q: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """Split integer totals into integer parts following ``shares`` (rows sum exactly).

    Rounds the cumulative sums, so every part is >= 0 and the parts add up to
    the total exactly (no float drift).
    """
    shares = np.clip(shares, 0.0, None)
    norm = shares.sum(axis=1, keepdims=True)
    norm[norm == 0] = 1.0
    cum = np.cumsum(shares / norm, axis=1)
    cum_q = np.rint(cum[:, :-1] * total_q[:, None]).astype("int64")
    cum_q = np.minimum(cum_q, total_q[:, None])
    cum_q = np.maximum.accumulate(cum_q, axis=1)
    edges = np.concatenate([np.zeros((len(total_q), 1), "int64"), cum_q, total_q[:, None]], axis=1)
    return np.diff(edges, axis=1)


def _group_mean(values: np.ndarray, weights: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Weighted mean of each column of ``values`` over ``groups`` (0..g-1), broadcast back."""
    n_groups = int(groups.max()) + 1 if len(groups) else 0
    wsum = np.bincount(groups, weights=weights, minlength=n_groups)
    wsum[wsum == 0] = 1.0
    out = np.empty_like(values)
    for j in range(values.shape[1]):  # loop over ~30 columns, not over cells
        out[:, j] = (np.bincount(groups, weights=values[:, j] * weights, minlength=n_groups) / wsum)[groups]
    return out


def _str(values: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(np.asarray(values, dtype="int64")), pa.string())


def _ids(x: np.ndarray, y: np.ndarray, size: int | np.ndarray) -> pa.Array:
    """INSEE ids ``CRS3035RES{size}mN{y}E{x}`` built in Arrow (no Python objects)."""
    size_s = _str(np.broadcast_to(np.asarray(size, dtype="int64"), np.shape(x)))
    return pc.binary_join_element_wise(
        "CRS3035RES", size_s, "mN", _str(y), "E", _str(x), ""
    )


def _text(values: pa.Array | np.ndarray) -> pd.Series:
    """A pandas ``str`` Series (Arrow-backed in pandas >= 3)."""
    arr = values if isinstance(values, pa.Array) else pa.array(values, type=pa.string())
    return pd.Series(pd.array(arr, dtype=pd.StringDtype("pyarrow", na_value=np.nan)))


def commune_codes(numbers: np.ndarray) -> pa.Array:
    """Zero-padded 5-character codes from integers (``7`` -> ``"00007"``)."""
    return pc.utf8_lpad(_str(numbers), 5, "0")


def _square_key(x: np.ndarray, y: np.ndarray, size: int) -> np.ndarray:
    return (y // size) * 10_000_000 + (x // size)


def _natural_squares(
    x: np.ndarray, y: np.ndarray, men: np.ndarray, imputed: np.ndarray
) -> np.ndarray:
    """Side (metres) of the smallest square holding >= 11 households of imputed cells."""
    size = np.full(len(x), _NATURAL_SQUARES[-1], dtype="int64")
    todo = imputed.copy()
    for side in _NATURAL_SQUARES:
        if not todo.any():
            break
        key = _square_key(x, y, side)
        uniq, inv = np.unique(key[imputed], return_inverse=True)
        totals = np.bincount(inv, weights=men[imputed], minlength=len(uniq))
        pos = np.searchsorted(uniq, key)
        pos = np.clip(pos, 0, len(uniq) - 1)
        total_here = np.where(uniq[pos] == key, totals[pos], 0.0)
        ok = todo & (total_here >= 11)
        size[ok] = side
        todo &= ~ok
    return size


def grid_frame(
    cell_x: np.ndarray,
    *,
    cell_y: np.ndarray,
    pop: np.ndarray,
    mean_living: np.ndarray,
    urban: np.ndarray,
    social: np.ndarray,
    commune: np.ndarray | pa.Array,
    rng: RngLike = None,
    new_since_2010: float = 0.02,
) -> pd.DataFrame:
    """Build the raw Filosofi 2015 layout from per-cell fields (SYNTHETIC).

    Parameters
    ----------
    cell_x : array of int
        Lower-left easting (EPSG:3035, metres, multiple of 200).
    cell_y : array of int
        Lower-left northing.
    pop : array of float
        Target number of inhabitants (> 0).
    mean_living : array of float
        Target mean standard of living (EUR/year) before secrecy smoothing.
    urban : array of float in [0, 1]
        Urban intensity (1 = dense historic core): smaller households, flats,
        old dwellings, young adults.
    social : array of float in [0, 1]
        Social-housing intensity (1 = a large estate): social dwellings,
        single parents, children, large households, 1945-1990 blocks.
    commune : array of str or pyarrow string array
        5-character commune code of each cell (``Depcom``).
    rng : int, Generator or None
        Seed or generator.
    new_since_2010 : float
        Share of cells (mostly low density) with no 2010 id (``Id_car2010`` empty).

    Returns
    -------
    DataFrame
        Columns :data:`FILOSOFI_2015_COLUMNS`, one row per cell, sorted by id;
        text columns have the pandas ``str`` dtype.

    Examples
    --------
    >>> g = grid_frame(np.array([3714000, 3714200]), cell_y=np.array([2614000, 2614000]),
    ...                pop=np.array([500.0, 8.0]), mean_living=np.array([15000.0, 25000.0]),
    ...                urban=np.array([0.8, 0.1]), social=np.array([0.5, 0.0]),
    ...                commune=np.array(["00101", "00101"]), rng=0)
    >>> g["I_est_cr"].tolist(), bool((g["Men_pauv"] <= g["Men"]).all())
    ([0, 1], True)
    """
    gen = np.random.default_rng(rng)
    x = np.asarray(cell_x, dtype="int64")
    y = np.asarray(cell_y, dtype="int64")
    n = len(x)
    order = np.lexsort((x, y))  # == lexicographic order of the ids (fixed-width digits)
    x, y = x[order], y[order]
    pop = np.asarray(pop, dtype="float64")[order]
    u = np.clip(np.asarray(urban, dtype="float64")[order], 0, 1)
    s = np.clip(np.asarray(social, dtype="float64")[order], 0, 1)
    ml = np.clip(np.asarray(mean_living, dtype="float64")[order], *LIVING_RANGE)
    commune_arr = commune if isinstance(commune, pa.Array) else pa.array(np.asarray(commune, dtype=object), type=pa.string())
    commune_arr = commune_arr.take(pa.array(order))
    z = np.log(ml / 21_000.0) / 0.25

    def noise(sd: float) -> np.ndarray:
        return gen.normal(0.0, sd, n)

    # Household structure.
    s1 = np.clip(0.20 + 0.38 * u - 0.08 * s + 0.04 * z + noise(0.04), 0.03, 0.80)
    s5 = np.clip(0.025 + 0.02 * (1 - u) + 0.10 * s - 0.005 * z + noise(0.01), 0.0, 0.30)
    s5 = np.minimum(s5, 0.95 - s1)
    mid = np.clip(2.45 + 0.35 * s - 0.25 * u + noise(0.12), 2.0, 3.6)
    prop = np.clip(0.15 + 0.55 * (1 - u) + 0.10 * z - 0.45 * s + noise(0.06), 0.01, 0.97)
    fmp = np.clip(0.05 + 0.03 * u + 0.17 * s - 0.02 * z + noise(0.02), 0.0, 0.5)
    coll = np.clip(0.02 + 1.1 * u**0.8 + 0.5 * s + noise(0.06), 0.0, 1.0)
    soc = np.clip(0.01 + 0.06 * u + 0.85 * s + noise(0.03), 0.0, 1.0)
    scattered = (gen.random(n) < 0.04) & (u > 0.2)  # small social programmes here and there
    soc = np.where(scattered, np.clip(soc + gen.uniform(0.1, 0.4, n), 0, 1), soc)
    soc = np.where(s >= 0.8, gen.uniform(0.6, 0.95, n), soc)
    surf = np.clip(100 - 40 * u - 25 * s + 10 * z + noise(6), 30, 160)
    dwell = np.column_stack(
        [
            0.08 + 0.55 * u**2 - 0.05 * s,
            0.10 + 0.10 * u + 0.60 * s,
            0.25 + 0.20 * s - 0.10 * u,
            0.08 + 0.35 * (1 - u) + 0.05 * np.clip(z, -2, 2),
            np.full(n, 0.005),
        ]
    )
    dwell = np.clip(dwell, 0.001, None) * np.exp(gen.normal(0, 0.3, dwell.shape))
    base_age = np.array([0.045, 0.023, 0.058, 0.078, 0.065, 0.20, 0.20, 0.12, 0.12, 0.055, 0.026])
    young = np.array([0.02, 0.01, 0.03, 0.04, 0.03, 0.02, -0.02, -0.03, -0.05, -0.02, 0.0])
    city = np.array([0.0, 0.0, -0.01, -0.02, 0.08, 0.06, -0.04, -0.02, -0.03, 0.0, 0.0])
    rural = np.array([-0.005, 0.0, 0.0, 0.0, -0.02, -0.04, 0.0, 0.03, 0.04, 0.02, 0.0])
    ages = base_age + s[:, None] * young + u[:, None] * city + (1 - u)[:, None] * rural
    ages = np.clip(ages, 0.001, None) * np.exp(gen.normal(0, 0.2, ages.shape))

    # Poverty follows income, with noise on the logit scale.
    logit_p = np.log(poverty_from_income(ml, social=s)) - np.log1p(-poverty_from_income(ml, social=s))
    p = np.clip(1.0 / (1.0 + np.exp(-(logit_p + noise(0.3)))), 0.0, 0.8)

    hh_size = s1 + 5.6 * s5 + (1 - s1 - s5) * mid
    men_raw = pop / hh_size
    imputed = men_raw < 10.95

    # INSEE secrecy: imputed cells get values smoothed over their natural square.
    side = _natural_squares(x, y, men_raw, imputed)
    ratios = np.column_stack([ml, p, s1, s5, mid, prop, fmp, coll, soc, surf, dwell, ages])
    if imputed.any():
        key = _square_key(x, y, side) * 100 + np.searchsorted(_NATURAL_SQUARES, side)
        _, grp = np.unique(key[imputed], return_inverse=True)
        ratios[imputed] = _group_mean(ratios[imputed], men_raw[imputed], grp)
    ml, p, s1, s5, mid, prop, fmp, coll, soc, surf = ratios[:, :10].T
    dwell = ratios[:, 10:15]
    ages = ratios[:, 15:]
    s5 = np.minimum(s5, 0.95 - s1)

    # Integer quanta: households in units of 1 (measured) or 0.1 (imputed);
    # persons in units of 0.5 (measured) or 0.1 (imputed).
    k_m = np.where(imputed, 10, 1).astype("int64")
    k_p = np.where(imputed, 10, 2).astype("int64")
    q_men = np.where(imputed, np.clip(np.rint(men_raw * 10), 3, 109), np.maximum(np.rint(men_raw), 11))
    q_men = q_men.astype("int64")
    men = q_men / k_m

    def share_of_men(share: np.ndarray) -> np.ndarray:
        return np.minimum(np.rint(q_men * np.clip(share, 0, 1)).astype("int64"), q_men)

    q_pauv = share_of_men(p)
    q_hh = _split(q_men, np.column_stack([s1, s5, 1 - s1 - s5]))
    q_prop = share_of_men(prop)
    q_fmp = np.minimum(share_of_men(fmp), q_men - q_hh[:, 0])
    q_type = _split(q_men, np.column_stack([coll, 1 - coll]))
    q_dwell = _split(q_men, dwell)
    q_soc = share_of_men(soc)
    q_surf = np.rint(q_men * surf).astype("int64")

    ind_raw = men * (s1 + 5.6 * s5 + (1 - s1 - s5) * mid)
    q_ind = np.rint(ind_raw * k_p).astype("int64")
    q_ind = np.maximum(q_ind, q_men * (k_p // k_m))
    q_ind = np.maximum(q_ind, k_p)  # at least one person
    q_ages = _split(q_ind, ages)
    ind = q_ind / k_p
    ind_snv = np.round(ind * ml, 1)

    # Identifiers.
    ids = _ids(x, y, 200)
    ids_1km = _ids((x // 1000) * 1000, (y // 1000) * 1000, 1000)
    nat = _ids((x // side) * side, (y // side) * side, side)
    id_n = pc.if_else(pa.array(imputed), nat, ids)
    nat_key = np.where(imputed, _square_key(x, y, side) * 100 + np.searchsorted(_NATURAL_SQUARES, side), -1 - np.arange(n))
    grp_codes, _ = pd.factorize(nat_key)
    groupe = 500_001 + grp_codes.astype("int64")
    _, inv1 = np.unique(_square_key(x, y, 1000), return_inverse=True)
    men_1km = np.bincount(inv1, weights=men)[inv1]
    new_p = new_since_2010 * 2 * (1 - u)
    id_2010 = pc.if_else(pa.array(gen.random(n) < new_p), pa.scalar(None, pa.string()), ids)

    counts = {
        "Ind": ind,
        "Men": men,
        "Men_pauv": q_pauv / k_m,
        "Men_1ind": q_hh[:, 0] / k_m,
        "Men_5ind": q_hh[:, 1] / k_m,
        "Men_prop": q_prop / k_m,
        "Men_fmp": q_fmp / k_m,
        "Ind_snv": ind_snv,
        "Men_surf": q_surf / k_m,
        "Men_coll": q_type[:, 0] / k_m,
        "Men_mais": q_type[:, 1] / k_m,
    }
    counts.update({c: q_dwell[:, j] / k_m for j, c in enumerate(DWELLING_AGE_COLUMNS)})
    counts["Log_soc"] = q_soc / k_m
    counts.update({c: q_ages[:, j] / k_p for j, c in enumerate(AGE_COLUMNS)})
    frame = pd.DataFrame(
        {
            "Idcar_200m": _text(ids),
            "IdINSPIRE": _text(ids),
            "Id_carr1km": _text(ids_1km),
            "I_est_cr": imputed.astype("int64"),
            "Id_carr_n": _text(id_n),
            "Groupe": groupe,
            "Depcom": _text(commune_arr),
            "I_pauv": np.zeros(n, dtype="int64"),
            "Id_car2010": _text(id_2010),
            **counts,
            "I_est_1km": (men_1km < 11).astype("int64"),
        }
    )
    return frame[list(FILOSOFI_2015_COLUMNS)]


def make_grid(
    *,
    n_cells: int = 2_313_783,
    seed: RngLike = 0,
    origin: tuple[int, int] = (3_200_000, 2_100_000),
    occupancy: float = 0.17,
) -> pd.DataFrame:
    """A national-size SYNTHETIC grid in the raw Filosofi 2015 layout (benchmarks).

    Towns of lognormal size are scattered over a square of about
    ``n_cells / occupancy`` 200 m cells; the ``n_cells`` cells with the highest
    settlement score are inhabited. Incomes are spatially autocorrelated,
    dense low-income areas get social housing. Commune codes are ``"00000"``
    to ``"00999"`` (département ``00`` does not exist; codes repeat over
    distant blocks, acceptable for benchmarks only).

    Parameters
    ----------
    n_cells : int
        Number of inhabited cells (rows); 2,313,783 as in Filosofi 2019.
    seed : int, Generator or None
        Seed.
    origin : (int, int)
        Lower-left corner (EPSG:3035, multiple of 1000).
    occupancy : float
        Share of the square's cells that are inhabited.

    Returns
    -------
    DataFrame
        Raw 2015 layout, exactly ``n_cells`` rows.

    Examples
    --------
    >>> g = make_grid(n_cells=2_000, seed=1)
    >>> len(g), g["Idcar_200m"].is_unique
    (2000, True)
    """
    gen = np.random.default_rng(seed)
    side = int(np.ceil(np.sqrt(n_cells / occupancy)))
    coarse_f = 5  # fields at 1 km, sampled per 200 m cell
    cs = side // coarse_f + 1
    # Settlement: towns as point masses blurred at two scales, plus regional trend.
    n_towns = max(3, int(cs * cs / 120))
    tr, tc = gen.integers(0, cs, n_towns), gen.integers(0, cs, n_towns)
    mass = gen.lognormal(0.0, 1.4, n_towns)
    towns = np.zeros((cs, cs))
    np.add.at(towns, (tr, tc), mass)
    dens = ndimage.gaussian_filter(towns, 1.2) + 0.3 * ndimage.gaussian_filter(towns, 4.0)
    dens = dens / np.quantile(dens, 0.995)
    regional = smooth_field((cs, cs), sigma=25, rng=gen)
    log_d = np.log(dens + 0.01) + 0.4 * regional
    inc_field = 0.7 * smooth_field((cs, cs), sigma=3, rng=gen) + 0.5 * regional
    # Score every fine cell, keep the n_cells best.
    score = np.repeat(np.repeat(log_d.astype("float32"), coarse_f, 0), coarse_f, 1)[:side, :side]
    score = score + gen.standard_normal((side, side), dtype="float32") * np.float32(1.2)
    flat = score.ravel()
    keep = np.argpartition(flat, flat.size - n_cells)[flat.size - n_cells :]
    keep.sort()
    rows, cols = np.divmod(keep, side)
    cr, cc = rows // coarse_f, cols // coarse_f
    d = np.clip(dens[cr, cc], 0, 1.5)
    urban = np.clip(d, 0, 1) ** 0.7
    pop = np.minimum(np.exp(np.log(3.0) + 5.0 * urban + gen.normal(0, 0.6, n_cells)), 1_800.0)
    inc = inc_field[cr, cc] + gen.normal(0, 0.35, n_cells)
    social = np.clip((urban - 0.55) * 2.5, 0, 1) * (inc < -0.6)
    living = 21_000 * np.exp(0.16 * np.clip(inc, -2.2, 3) + 0.06 * (1 - urban)) * np.exp(-0.45 * social)
    pop = np.minimum(pop * (1 + 1.5 * social), 2_500.0)
    commune = commune_codes(((cr // 6) * 1000 + cc // 6) % 1000)
    return grid_frame(
        origin[0] + 200 * cols.astype("int64"),
        cell_y=origin[1] + 200 * rows.astype("int64"),
        pop=pop,
        mean_living=living,
        urban=urban,
        social=social,
        commune=commune,
        rng=gen,
    )
