"""Grouping flagged cells into zones on the integer-grid raster.

Every function works on 2-D numpy rasters (see :mod:`.raster`) and returns new
arrays; nothing is modified in place. The operations, in the order
:func:`cohesion_geo.priority.delineate` applies them:

- :func:`grow_zones`: extend zones ring by ring with neighbouring cells,
  poorest first, while each zone's aggregate (a ratio of sums, e.g. the
  population-weighted mean standard of living) stays on the right side of the
  line. The official test is on a zone's median, not on each cell.
- :func:`bridge_gaps`: morphological closing, so zones separated by a gap of
  up to ``gap`` cells merge.
- :func:`fill_holes`: enclosed pixels join the zone surrounding them (all of
  them, or only enclaves of at most ``max_population`` inhabitants).
- :func:`prune_appendages`: drop cells hanging on a zone by a single side.
- :func:`peel_boundary` (option, off by default): drop edge cells whose value
  is above a limit (the better-off fringe of a zone).
- :func:`label_zones` and :func:`zone_sums`: connected components and per-zone
  totals.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from scipy import ndimage

from ..errors import CohesionGeoError

__all__ = [
    "Contiguity",
    "bridge_gaps",
    "fill_holes",
    "grow_zones",
    "label_zones",
    "peel_boundary",
    "prune_appendages",
    "structure",
    "zone_sums",
]

Contiguity = Literal["queen", "rook"]


def structure(contiguity: Contiguity = "queen") -> np.ndarray:
    """3x3 neighbourhood: 8 neighbours (queen) or 4 (rook).

    Examples
    --------
    >>> int(structure("queen").sum()), int(structure("rook").sum())
    (9, 5)
    """
    if contiguity == "queen":
        return np.ones((3, 3), dtype=bool)
    if contiguity == "rook":
        return ndimage.generate_binary_structure(2, 1)
    raise CohesionGeoError(f"contiguity must be 'queen' or 'rook', not {contiguity!r}")


def label_zones(mask: np.ndarray, *, contiguity: Contiguity = "queen") -> tuple[np.ndarray, int]:
    """Connected components of ``mask``: labels 1..n (0 outside) and n.

    Labels are numbered in raster order (south-west first), so they do not
    depend on the order of the input rows.

    Examples
    --------
    >>> m = np.array([[1, 0, 1], [0, 0, 1]], dtype=bool)
    >>> label_zones(m, contiguity="rook")[1], label_zones(m, contiguity="queen")[1]
    (2, 2)
    """
    labels, n = ndimage.label(np.asarray(mask, dtype=bool), structure=structure(contiguity))
    return labels.astype(np.int32, copy=False), int(n)


def zone_sums(labels: np.ndarray, values: np.ndarray, n: int | None = None) -> np.ndarray:
    """Sum of ``values`` per label; index 0 (outside any zone) is always 0.

    Only labelled pixels are read, so sparse zones on a large raster are cheap.
    """
    flat = labels.ravel()
    n = int(flat.max(initial=0)) if n is None else n
    nz = np.flatnonzero(flat)
    vals = np.asarray(values).ravel()[nz].astype(float)
    return np.bincount(flat[nz], weights=vals, minlength=n + 1)


def bridge_gaps(
    mask: np.ndarray,
    *,
    gap: int = 1,
    contiguity: Contiguity = "queen",
    allowed: np.ndarray | None = None,
) -> np.ndarray:
    """Close gaps of up to ``gap`` cells between (and inside) zones.

    A morphological closing with a square (queen) or diamond (rook) element of
    radius ``ceil(gap / 2)``; pixels it adds outside ``allowed`` are dropped.

    Examples
    --------
    >>> m = np.zeros((5, 7), dtype=bool); m[1:4, 1:3] = m[1:4, 4:6] = True
    >>> int(bridge_gaps(m, gap=1).sum() - m.sum())
    3
    """
    if gap <= 0:
        return mask.copy()
    radius = (gap + 1) // 2
    s = structure(contiguity)
    closed = ndimage.binary_closing(mask, structure=s, iterations=radius, border_value=0)
    closed |= mask
    if allowed is not None:
        closed &= allowed | mask
    return closed


def fill_holes(
    mask: np.ndarray,
    *,
    contiguity: Contiguity = "queen",
    population: np.ndarray | None = None,
    max_population: float | None = None,
    allowed: np.ndarray | None = None,
) -> np.ndarray:
    """Fill pixels enclosed by a zone.

    Holes are the components of the complement that do not reach the raster's
    border (with the dual contiguity: rook holes for queen zones). With
    ``max_population`` only holes holding at most that many inhabitants
    (``population`` raster) are filled: low-population enclaves are absorbed,
    a populous better-off enclave stays out. Holes touching a pixel outside
    ``allowed`` (another urban unit) are never filled.

    Examples
    --------
    >>> m = np.ones((3, 3), dtype=bool); m[1, 1] = False
    >>> bool(fill_holes(m)[1, 1])
    True
    """
    dual = structure("rook" if contiguity == "queen" else "queen")
    background = ~mask
    holes_lab, n = ndimage.label(background, structure=dual)
    if n == 0:
        return mask.copy()
    border = np.unique(
        np.concatenate([holes_lab[0], holes_lab[-1], holes_lab[:, 0], holes_lab[:, -1]])
    )
    keep = np.ones(n + 1, dtype=bool)
    keep[0] = False
    keep[border] = False
    if not keep.any():
        return mask.copy()
    hole_lab = np.where(keep[holes_lab], holes_lab, 0)  # enclosed pixels only (few)
    if max_population is not None and population is not None:
        pop = zone_sums(hole_lab, population, n)
        keep &= pop <= max_population
    if allowed is not None:
        bad = zone_sums(hole_lab, ~allowed, n) > 0
        keep &= ~bad
    keep[0] = False
    return mask | keep[hole_lab]


def prune_appendages(mask: np.ndarray, *, passes: int = 1) -> np.ndarray:
    """Remove cells joined to their zone by at most one side (slivers).

    Each pass drops the pixels of ``mask`` with at most one rook neighbour in
    ``mask`` -- single-cell spurs, one-cell-wide tails and cells touching the
    zone by a corner only. Isolated zones of one or two cells vanish too (they
    are below any sensible population floor anyway).

    Examples
    --------
    >>> m = np.zeros((4, 5), dtype=bool); m[1:3, 1:3] = True; m[1, 3] = True
    >>> int(prune_appendages(m).sum())
    4
    """
    out = mask.copy()
    s = structure("rook").astype(np.int32)
    s[1, 1] = 0
    for _ in range(passes):
        count = ndimage.convolve(out.astype(np.int32), s, mode="constant", cval=0)
        new = out & (count >= 2)
        if np.array_equal(new, out):
            break
        out = new
    return out


def peel_boundary(
    mask: np.ndarray,
    *,
    value: np.ndarray,
    limit: float,
    passes: int = 1,
    keep: np.ndarray | None = None,
) -> np.ndarray:
    """Remove the zone's edge pixels whose ``value`` is above ``limit``.

    An edge pixel has at least one rook neighbour outside ``mask``. Each pass
    drops the edge pixels with ``value > limit`` (NaN never above), except
    those in ``keep``. A zone may split or shrink below a population floor:
    label and filter it afterwards.

    Examples
    --------
    >>> m = np.ones((3, 4), dtype=bool)
    >>> v = np.array([[1.0, 1.0, 1.0, 9.0], [1.0, 1.0, 1.0, 9.0], [1.0, 9.0, 1.0, 1.0]])
    >>> peel_boundary(m, value=v, limit=5.0).astype(int).tolist()
    [[1, 1, 1, 0], [1, 1, 1, 0], [1, 0, 1, 1]]
    """
    out = mask.copy()
    rich = np.nan_to_num(np.asarray(value, dtype=float), nan=-np.inf) > limit
    if keep is not None:
        rich &= ~keep
    for _ in range(passes):
        inner = ndimage.binary_erosion(out, structure=structure("rook"), border_value=0)
        new = out & ~(~inner & rich)
        if np.array_equal(new, out):
            break
        out = new
    return out


def grow_zones(
    labels: np.ndarray,
    *,
    numerator: np.ndarray,
    denominator: np.ndarray,
    limit: float,
    below: bool = True,
    allowed: np.ndarray,
    order: np.ndarray,
    rings: int = 2,
    contiguity: Contiguity = "queen",
) -> np.ndarray:
    """Grow zones ring by ring while their aggregate stays on the right side of ``limit``.

    The aggregate of a zone is ``sum(numerator) / sum(denominator)`` over its
    cells (e.g. population-weighted mean standard of living with numerator
    ``ind * mean_std_living`` and denominator ``ind``). At each ring every
    zone considers its neighbouring ``allowed`` pixels, sorted by ``order``
    (smallest first: the poorest), and takes the longest run of them that
    keeps its aggregate below ``limit`` (above it when ``below`` is false). A
    pixel touching two zones goes to the one with the larger label; zones that
    touch after growing merge later, and since both aggregates are below the
    limit, so is the merged one.

    Parameters
    ----------
    labels : ndarray of int
        Zone labels (0 = no zone).
    numerator, denominator : ndarray of float
        Per-pixel terms of the aggregate (0 outside cells).
    limit : float
        The line the aggregate must stay under (or over).
    below : bool
        Keep ``aggregate < limit`` (True) or ``aggregate > limit``.
    allowed : ndarray of bool
        Pixels a zone may take.
    order : ndarray of float
        Priority of the pixels (smaller first).
    rings : int
        Maximum number of rings added around the initial zones.
    contiguity : {"queen", "rook"}
        Which pixels count as neighbours.

    Returns
    -------
    ndarray of int
        New labels (initial zones keep their label).
    """
    out = labels.copy()
    n = int(out.max())
    if n == 0 or rings <= 0:
        return out
    num_flat = numerator.ravel()
    den_flat = denominator.ravel()
    order_flat = order.ravel()
    znum = zone_sums(out, numerator, n)
    zden = zone_sums(out, denominator, n)
    footprint = structure(contiguity)
    for _ in range(rings):
        neigh = ndimage.grey_dilation(out, footprint=footprint, mode="constant", cval=0)
        cand = (out == 0) & (neigh > 0) & allowed
        idx = np.flatnonzero(cand)
        if idx.size == 0:
            break
        z = neigh.ravel()[idx]
        srt = np.lexsort((idx, order_flat[idx], z))  # by zone, then poorest, ties by position
        idx, z = idx[srt], z[srt]
        cnum = np.cumsum(num_flat[idx])
        cden = np.cumsum(den_flat[idx])
        starts = np.flatnonzero(np.r_[True, z[1:] != z[:-1]])
        seg = np.repeat(starts, np.diff(np.r_[starts, z.size]))
        base_num = cnum[seg] - num_flat[idx][seg]
        base_den = cden[seg] - den_flat[idx][seg]
        tot_num = znum[z] + cnum - base_num
        tot_den = zden[z] + cden - base_den
        if below:
            ok = tot_num < limit * tot_den
        else:
            ok = tot_num > limit * tot_den
        # keep the longest prefix of each zone's sorted run where ok holds
        bad_cum = np.cumsum(~ok)
        bad_before = bad_cum - (~ok) - (bad_cum[seg] - (~ok)[seg])
        take = ok & (bad_before == 0)
        if not take.any():
            break
        taken, tz = idx[take], z[take]
        out.ravel()[taken] = tz
        znum += np.bincount(tz, weights=num_flat[taken], minlength=n + 1)
        zden += np.bincount(tz, weights=den_flat[taken], minlength=n + 1)
    return out
