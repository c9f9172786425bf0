"""Synthville: a SYNTHETIC agglomeration with every input layer of the toolkit.

:func:`make_territory` draws, from one seed, a fictional agglomeration of seven
communes placed in a rural part of central France (around 46.45 N, 2.25 E, so
that every projection is valid; nothing there resembles it):

- the INSEE Filosofi 2015 200 m grid in the exact raw CSV layout;
- IRIS-like contours (IGN field names, EPSG:2154) tiling the communes, and an
  IRIS income table in the Filosofi IRIS layout, with secrecy markers;
- BPE-like facility points (schools, health, shops, sports, services...);
- a commune finance table in the DGCL layout;
- a commune -> urban unit table in the layout of INSEE's composition file;
- resident reports (:func:`~cohesion_geo.synthetic.make_reports`).

Commune codes use département ``00``, which does not exist (``"00101"`` to
``"00107"``): they cannot collide with a real commune and they keep a leading
zero, as Ain's do, so readers must treat codes as strings. Urban units are
``"99901"`` (Synthville, >= 10,000 inhabitants), ``"99902"`` (Bourg-Factice, a
small separate town) and ``"00000"`` (*commune hors unité urbaine*).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from affine import Affine
from pyproj import Transformer
from rasterio import features
from scipy import ndimage
from scipy.special import ndtr, ndtri

from ._layouts import (
    BPE_2020_COLUMNS,
    DGCL_FINANCE_COLUMNS,
    FILOSOFI_IRIS_2018_COLUMNS,
    IRIS_CONTOUR_COLUMNS,
    URBAN_UNIT_COLUMNS,
)
from .grid import grid_frame, smooth_field
from .reports import make_reports

__all__ = ["COMMUNES", "ESTATES", "Territory", "make_territory"]

RngLike = int | np.random.Generator | None

#: Centre of the territory (EPSG:3035), near 46.45 N, 2.25 E.
CENTRE_3035 = (3_726_000, 2_624_000)


@dataclass(frozen=True)
class _Commune:
    code: str
    name: str
    upper: str
    u: float  # relative position of the town centre (0-1, west->east)
    v: float  # (0-1, south->north)
    amp: float  # density peak
    sigma: float  # spread (cells at the default size)
    weight: float  # weighted-Voronoi weight of the commune seat
    uu: str


#: The seven synthetic communes (names are invented; département ``00`` does not exist).
COMMUNES: tuple[_Commune, ...] = (
    _Commune("00101", "Synthville", "SYNTHVILLE", 0.50, 0.52, 1.00, 9.0, 1.4, "99901"),
    _Commune("00102", "Fauxbourg-les-Données", "FAUXBOURG-LES-DONNÉES", 0.24, 0.70, 0.60, 5.0, 1.0, "99901"),
    _Commune("00103", "Montfictif", "MONTFICTIF", 0.76, 0.30, 0.60, 5.0, 1.0, "99901"),
    _Commune("00104", "Val-Simulé", "VAL-SIMULÉ", 0.72, 0.78, 0.50, 4.5, 1.0, "99901"),
    _Commune("00105", "Saint-Aléa-sur-Grille", "SAINT-ALÉA-SUR-GRILLE", 0.28, 0.26, 0.45, 4.5, 1.0, "99901"),
    _Commune("00106", "Pseudoville-la-Rivière", "PSEUDOVILLE-LA-RIVIÈRE", 0.08, 0.90, 0.20, 2.0, 0.8, "00000"),
    _Commune("00107", "Bourg-Factice", "BOURG-FACTICE", 0.92, 0.09, 0.40, 3.0, 0.6, "99902"),
)  # fmt: skip

_UU_NAMES = {
    "99901": "Synthville (unité urbaine synthétique)",
    "99902": "Bourg-Factice (unité urbaine synthétique)",
    "00000": "Commune hors unité urbaine",
}

#: Poor areas: (name, u, v, n cells at default size, people per cell, mean standard of living, social).
#: The first six are social-housing estates; "Résidence des Lilas" is too small
#: (< 1,000 inhabitants) to be a priority quartier; the old-centre pocket is a
#: near miss (poor, but above the usual threshold).
ESTATES: tuple[tuple[str, float, float, int, tuple[int, int], tuple[int, int], float], ...] = (
    ("Les Tours du Nord", 0.50, 0.67, 14, (250, 600), (11_100, 12_100), 1.0),
    ("Cité des Peupliers", 0.62, 0.46, 10, (250, 550), (11_100, 12_100), 1.0),
    ("La Grande Barre", 0.38, 0.50, 7, (250, 550), (11_200, 12_100), 1.0),
    ("Les Hauts de Fauxbourg", 0.21, 0.65, 9, (220, 500), (11_100, 12_100), 1.0),
    ("Quartier du Moulin", 0.80, 0.25, 6, (220, 450), (11_300, 12_100), 1.0),
    ("Cité Jardin", 0.915, 0.10, 4, (280, 400), (11_300, 12_100), 1.0),
    ("Résidence des Lilas", 0.69, 0.76, 2, (200, 300), (11_400, 12_100), 0.9),
    ("Vieux Quartier Saint-Jacques", 0.47, 0.545, 6, (450, 900), (12_900, 13_800), 0.3),
)  # fmt: skip

_QUARTIER_NAMES = (
    "Centre", "Gare", "Les Tilleuls", "Le Pré Vert", "La Fontaine", "Les Chênes", "Bel-Air",
    "La Croix Blanche", "Les Vignes", "Le Moulin Neuf", "Saint-Martin", "Les Acacias", "Beauséjour",
    "La Plaine", "Le Bourg", "Les Rosiers", "Champ-Fleuri", "La Forge", "Les Peupliers Sud",
    "Le Parc", "Les Hauts", "La Prairie", "Les Marronniers", "Mont-Joli", "La Garenne",
    "Les Sablons", "Le Clos", "La Source", "Les Bruyères", "Le Port", "La Butte", "Les Pins",
    "Petit-Bois", "Les Lavandières", "La Tuilerie", "Les Fleurs", "Le Canal", "Les Jardins",
)  # fmt: skip

# Facility types: (TYPEQU, inhabitants per facility, placement).
_FACILITIES: tuple[tuple[str, int, str], ...] = (
    ("A101", 40_000, "core"),  # police
    ("A203", 4_000, "shop"),  # bank
    ("A206", 9_000, "core"),  # post office
    ("B101", 60_000, "periph"),  # hypermarket
    ("B102", 8_000, "shop"),  # supermarket
    ("B201", 6_000, "shop"),  # small supermarket
    ("B202", 6_000, "shop"),  # grocery
    ("B203", 2_500, "shop"),  # bakery
    ("C101", 3_000, "pop"),  # nursery school
    ("C104", 2_500, "pop"),  # primary school
    ("C201", 12_000, "pop"),  # lower secondary school
    ("C301", 25_000, "core"),  # upper secondary school
    ("D106", 150_000, "core"),  # emergency department
    ("D201", 1_100, "health"),  # general practitioner
    ("D307", 3_000, "health"),  # pharmacy
    ("F101", 30_000, "sport"),  # swimming pool
    ("F103", 6_000, "sport"),  # tennis
    ("F111", 3_000, "sport"),  # outdoor sports ground
    ("F113", 4_000, "sport"),  # football pitch
    ("F121", 5_000, "sport"),  # multi-sports hall
    ("F303", 60_000, "core"),  # cinema
    ("F307", 15_000, "core"),  # library
    ("E109", 80_000, "pop"),  # local station
)  # fmt: skip


@dataclass
class Territory:
    """A SYNTHETIC agglomeration: every input layer of the toolkit, raw layouts.

    Attributes
    ----------
    grid : DataFrame
        Filosofi 2015 200 m grid, raw layout (``Idcar_200m`` ... ``I_est_1km``).
    iris : GeoDataFrame
        IRIS contours, EPSG:2154, fields ``INSEE_COM``, ``NOM_COM``, ``IRIS``,
        ``CODE_IRIS``, ``NOM_IRIS``, ``TYP_IRIS``.
    iris_income : DataFrame
        Filosofi IRIS income, raw layout (``IRIS;DISP_TP6018;DISP_MED18;...``);
        secrecy markers ``"s"``/``"nd"`` as strings.
    bpe : DataFrame
        BPE-like facilities, raw layout (``TYPEQU``, ``LAMBERT_X``, ...), NaN
        where the file has ``NA``.
    finance : DataFrame
        DGCL commune table, raw layout (``CodeCom``, ``PopDGF2018``, ``DF2018``,
        ``PF4Taxes2018``...).
    urban_units : DataFrame
        Commune -> urban unit (``CODGEO``, ``LIBGEO``, ``UU2020``, ``LIBUU2020``...).
    reports : DataFrame
        Resident reports (``lon``, ``lat``, ``category``, ``comment``, ``date``, ``source``).
    communes : GeoDataFrame
        Commune polygons (``INSEE_COM``, ``NOM_COM``), EPSG:2154 (not written).
    meta : dict
        Seed, origin, estates (name, commune, cell ids, inhabitants), hotspots
        and blind spots of the reports (EPSG:3035 metres), ``synthetic=True``.
    """

    grid: pd.DataFrame
    iris: gpd.GeoDataFrame
    iris_income: pd.DataFrame
    bpe: pd.DataFrame
    finance: pd.DataFrame
    urban_units: pd.DataFrame
    reports: pd.DataFrame
    communes: gpd.GeoDataFrame
    meta: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------- helpers


def _kernel(ii: np.ndarray, jj: np.ndarray, ci: float, cj: float, sigma: float) -> np.ndarray:
    return np.exp(-0.5 * ((ii - ci) ** 2 + (jj - cj) ** 2) / sigma**2)


def _segment_distance(ii, jj, a: tuple[float, float], b: tuple[float, float]) -> np.ndarray:
    ax, ay = a
    bx, by = b
    dx, dy = bx - ax, by - ay
    t = np.clip(((ii - ax) * dx + (jj - ay) * dy) / (dx * dx + dy * dy), 0, 1)
    return np.hypot(ii - (ax + t * dx), jj - (ay + t * dy))


def _polygons(labels: np.ndarray, x0: int, y0: int, n_labels: int) -> list[Any]:
    """Polygons (EPSG:3035) of each label 0..n-1 of a south-up label raster.

    Built by :func:`rasterio.features.shapes`, so neighbours share exactly the
    same boundary vertices and the polygons tile the raster.
    """
    rows = labels.shape[0]
    north_up = np.ascontiguousarray(labels[::-1].astype("int32"))
    transform = Affine(200.0, 0.0, float(x0), 0.0, -200.0, float(y0 + 200 * rows))
    parts: list[list[Any]] = [[] for _ in range(n_labels)]
    for geom, value in features.shapes(north_up, transform=transform, connectivity=4):
        parts[int(value)].append(shapely.geometry.shape(geom))
    out = []
    for p in parts:
        if len(p) == 1:
            out.append(p[0])
        else:
            out.append(shapely.MultiPolygon(sorted(p, key=lambda g: -g.area)))
    return out


def _round10(x: np.ndarray) -> np.ndarray:
    return (np.rint(np.nan_to_num(np.asarray(x, dtype=float)) / 10) * 10).astype("int64")


# --------------------------------------------------------------------------- main


def make_territory(
    *,
    seed: RngLike = 0,
    n_cols: int = 120,
    n_rows: int = 100,
    occupancy: float = 0.32,
    n_reports: int = 2_500,
) -> Territory:
    """Generate the SYNTHETIC agglomeration "Synthville" (all layers, one seed).

    Parameters
    ----------
    seed : int, Generator or None
        Seed; the same seed gives identical frames.
    n_cols, n_rows : int
        Size of the territory in 200 m cells (default 24 km x 20 km). Towns,
        estates and radii scale with the size.
    occupancy : float
        Share of cells that are inhabited (default 0.32: about 3,800 cells).
    n_reports : int
        Number of resident reports.

    Returns
    -------
    Territory
        Frames in the raw layouts of the real files (see :class:`Territory`).

    Examples
    --------
    >>> t = make_territory(seed=0, n_cols=60, n_rows=50, n_reports=100)
    >>> bool((t.grid["Men_pauv"] <= t.grid["Men"]).all()), t.grid["Depcom"].str.len().eq(5).all()
    (True, np.True_)
    """
    gen = np.random.default_rng(seed)
    scale = min(n_cols, n_rows) / 100.0
    x0 = CENTRE_3035[0] - 1000 * int(np.ceil(n_cols * 100 / 1000))
    y0 = CENTRE_3035[1] - 1000 * int(np.ceil(n_rows * 100 / 1000))
    jj, ii = np.mgrid[0:n_rows, 0:n_cols].astype(float) + 0.5  # cell centres, south-up rows
    U, V = n_cols, n_rows

    # ---- land: density of the urban fabric
    dens = np.zeros((n_rows, n_cols))
    for c in COMMUNES:
        dens += c.amp * _kernel(ii, jj, c.u * U, c.v * V, c.sigma * scale)
    main = COMMUNES[0]
    for c in COMMUNES[1:5]:  # corridors joining the suburbs to Synthville
        d = _segment_distance(ii, jj, (main.u * U, main.v * V), (c.u * U, c.v * V))
        dens += 0.22 * np.exp(-0.5 * (d / (2.2 * scale)) ** 2)
    dens = np.clip(dens, 0, 1)

    # ---- empty land: river, park, industrial zone, forest ring round Bourg-Factice
    river_v = V * (0.40 + 0.05 * np.sin(2 * np.pi * 1.2 * ii / U))
    river = np.abs(jj - river_v) < 0.75
    park = ((ii - 0.58 * U) / (4.0 * scale)) ** 2 + ((jj - 0.60 * V) / (2.5 * scale)) ** 2 <= 1
    industry = (np.abs(ii - 0.53 * U) <= 3.5 * scale) & (np.abs(jj - 0.42 * V) <= 2.0 * scale) & ~river
    bourg = COMMUNES[6]
    d_bourg = np.hypot(ii - bourg.u * U, jj - bourg.v * V)
    forest = (d_bourg > 5.5 * scale) & (d_bourg < 9.5 * scale)
    empty = river | park | industry | forest

    # ---- estates and the poor old-centre pocket
    estate_id = np.full((n_rows, n_cols), -1)
    for k, (_, eu, ev, ncell, *_rest) in enumerate(ESTATES):
        m = max(2, int(round(ncell * scale * scale)))
        theta = gen.uniform(0, np.pi)
        dx, dy = ii - eu * U, jj - ev * V
        a = (dx * np.cos(theta) + dy * np.sin(theta)) / 1.5
        b = -dx * np.sin(theta) + dy * np.cos(theta)
        score = a * a + b * b + gen.uniform(0, 0.3, a.shape)
        score[empty | (estate_id >= 0)] = np.inf
        pick = np.argsort(score, axis=None, kind="stable")[:m]
        estate_id.flat[pick] = k
    in_estate = estate_id >= 0
    # Two inhabited cells inside the industrial zone (caretakers, a travellers' site).
    ind_cells = np.flatnonzero(industry.ravel())
    lodge = np.zeros(industry.size, bool)
    if ind_cells.size:
        lodge[gen.choice(ind_cells, size=min(2, ind_cells.size), replace=False)] = True
    lodge = lodge.reshape(industry.shape)

    # ---- which cells are inhabited
    score = np.log(dens + 0.015) + 0.9 * smooth_field(dens.shape, sigma=1.5, rng=gen)
    score += 0.3 * gen.standard_normal(dens.shape)
    score[empty] = -np.inf
    score[in_estate | lodge] = np.inf
    n_inh = int(round(occupancy * n_rows * n_cols))
    inhabited = np.zeros(score.size, bool)
    inhabited[np.argsort(-score, axis=None, kind="stable")[:n_inh]] = True
    inhabited = inhabited.reshape(score.shape) & np.isfinite(score) | in_estate | lodge

    # ---- communes: weighted Voronoi of the seats, boundaries warped by noise
    cost = np.stack(
        [
            np.hypot(ii - c.u * U, jj - c.v * V) / c.weight + 2.0 * scale * smooth_field(dens.shape, sigma=6 * scale, rng=gen)
            for c in COMMUNES
        ]
    )
    commune_idx = np.argmin(cost, axis=0)
    commune_idx[forest | (d_bourg <= 5.5 * scale)] = 6  # Bourg-Factice keeps its forest ring

    # ---- people and income
    g_inc = smooth_field(dens.shape, sigma=4 * scale, rng=gen)
    ring = 4 * dens * (1 - dens)  # wealthy suburbs at medium density
    west = (0.5 - ii / U) * 2  # the west is better off
    living = 21_500 * np.exp(0.19 * np.clip(g_inc, -2.0, 3) + 0.15 * ring + 0.06 * west)
    urban = dens**0.8
    social = np.zeros_like(dens)
    pop = np.minimum(np.exp(np.log(6.0) + 5.0 * dens**0.9 + gen.normal(0, 0.55, dens.shape)), 1_600)
    # Rims of the estates: partly social, poorer than their surroundings.
    social_ids = [k for k, e in enumerate(ESTATES) if e[6] >= 0.8]
    dist_estate = ndimage.distance_transform_cdt(~np.isin(estate_id, social_ids), metric="chessboard")
    rim1, rim2 = (dist_estate == 1) & ~in_estate, (dist_estate == 2) & ~in_estate
    living = np.where(rim1, living * 0.80, np.where(rim2, living * 0.90, living))
    social = np.where(rim1, 0.35, np.where(rim2, 0.15, social))
    for k, (_, _, _, _, (p_lo, p_hi), (l_lo, l_hi), soc) in enumerate(ESTATES):
        sel = estate_id == k
        cnt = int(sel.sum())
        pop[sel] = gen.uniform(p_lo, p_hi, cnt)
        living[sel] = gen.uniform(l_lo, l_hi, cnt)
        social[sel] = soc
        urban[sel] = np.maximum(urban[sel], 0.6 if soc >= 0.8 else 1.0)
    pop[lodge] = gen.uniform(12, 25, int(lodge.sum()))

    codes = np.array([c.code for c in COMMUNES], dtype=object)
    rows, cols = np.nonzero(inhabited)  # row-major: sorted by (y, x) like the ids
    grid = grid_frame(
        x0 + 200 * cols,
        cell_y=y0 + 200 * rows,
        pop=pop[rows, cols],
        mean_living=living[rows, cols],
        urban=urban[rows, cols],
        social=social[rows, cols],
        commune=codes[commune_idx[rows, cols]],
        rng=gen,
    )

    # ---- IRIS
    iris_idx, iris_table = _make_iris(
        commune_idx, inhabited, pop, park, industry, estate_id, grid, rows, cols, gen, U, V
    )
    iris_geoms = _polygons(iris_idx, x0, y0, len(iris_table))
    iris = gpd.GeoDataFrame(iris_table[list(IRIS_CONTOUR_COLUMNS)], geometry=iris_geoms, crs=3035).to_crs(2154)
    com_geoms = _polygons(commune_idx, x0, y0, len(COMMUNES))
    communes = gpd.GeoDataFrame(
        {"INSEE_COM": [c.code for c in COMMUNES], "NOM_COM": [c.name for c in COMMUNES]},
        geometry=com_geoms,
        crs=3035,
    ).to_crs(2154)
    cell_iris = iris_idx[rows, cols]
    iris_income = _iris_income(iris_table, grid, cell_iris, gen)

    # ---- facilities
    station = (0.53 * U, 0.42 * V + 2.0 * scale + 0.5)
    bpe = _make_bpe(grid, rows, cols, dens, social, commune_idx, iris_idx, iris_table, x0, y0, station, gen)

    # ---- finance and urban units
    finance = _make_finance(grid, industry, commune_idx, gen)
    urban_units = _make_urban_units(grid)

    # ---- reports: hotspots at the station, the park's edge, the old centre's bars
    to_m = lambda i, j: {"x": float(x0 + 200 * i), "y": float(y0 + 200 * j)}  # noqa: E731
    hotspots = [
        {"kind": "transport", **to_m(*station), "radius": 350.0},
        {"kind": "park", **to_m(0.58 * U, 0.60 * V - 2.5 * scale - 0.5), "radius": 300.0},
        {"kind": "nightlife", **to_m(0.49 * U, 0.535 * V), "radius": 250.0},
    ]
    moulin = ESTATES[4]
    blind_spots = [{**to_m(moulin[1] * U, moulin[2] * V), "radius": 500.0}]
    estates_meta = []
    ids = grid["Idcar_200m"].to_numpy()
    est_cells = estate_id[rows, cols]
    for k, e in enumerate(ESTATES):
        sel = est_cells == k
        estates_meta.append(
            {
                "name": e[0],
                "commune": str(grid["Depcom"][sel].mode().iloc[0]) if sel.any() else None,
                "cell_ids": [str(v) for v in ids[sel]],
                "ind": float(grid["Ind"][sel].sum()),
                "kind": "estate" if e[6] >= 0.8 else "old centre",
            }
        )
    meta: dict[str, Any] = {
        "synthetic": True,
        "name": "Synthville",
        "seed": seed if isinstance(seed, int) else None,
        "origin_3035": (x0, y0),
        "shape": (n_rows, n_cols),
        "estates": estates_meta,
        "hotspots": hotspots,
        "blind_spots": blind_spots,
        "station_3035": to_m(*station),
    }
    territory = Territory(
        grid=grid,
        iris=iris,
        iris_income=iris_income,
        bpe=bpe,
        finance=finance,
        urban_units=urban_units,
        reports=pd.DataFrame(),
        communes=communes,
        meta=meta,
    )
    territory.reports = make_reports(territory, n=n_reports, seed=gen)
    return territory


def _make_iris(commune_idx, inhabited, pop, park, industry, estate_id, grid, rows, cols, gen, U, V):
    """IRIS label raster and attribute table (one row per IRIS, label order)."""
    n_rows, n_cols = commune_idx.shape
    jj, ii = np.mgrid[0:n_rows, 0:n_cols].astype(float) + 0.5
    people = np.zeros((n_rows, n_cols))
    people[rows, cols] = grid["Ind"].to_numpy()
    labels = np.full((n_rows, n_cols), -1)
    records: list[dict[str, Any]] = []

    def add(mask: np.ndarray, com: int, typ: str, name: str | None) -> None:
        labels[mask] = len(records)
        cj, ci = jj[mask].mean(), ii[mask].mean()
        records.append({"com": com, "typ": typ, "name": name, "cj": cj, "ci": ci})

    for k, c in enumerate(COMMUNES):
        in_com = commune_idx == k
        total = people[in_com].sum()
        if total < 5_000:
            add(in_com, k, "Z", c.name)
            continue
        rest = in_com.copy()
        for zone, typ, name in ((industry, "A", "Zone d'activités des Rails"), (park, "D", "Bois de la Source")):
            z = zone & in_com
            if z.sum() >= 4 and (zone & in_com).sum() >= 0.5 * zone.sum():
                add(z, k, typ, name)
                rest &= ~z
        # Weighted k-means on inhabited cells, then every cell to its nearest centre.
        pts_mask = rest & (people > 0)
        pi, pj, w = ii[pts_mask], jj[pts_mask], people[pts_mask]
        n_iris = max(2, int(round(total / 2_300)))
        centres = np.column_stack(
            [pi, pj]
        )[gen.choice(len(pi), size=n_iris, replace=False, p=w / w.sum())].astype(float)
        for _ in range(20):
            d = np.hypot(pi[:, None] - centres[None, :, 0], pj[:, None] - centres[None, :, 1])
            lab = np.argmin(d, axis=1)
            ws = np.bincount(lab, weights=w, minlength=n_iris)
            keep = ws > 0
            centres[keep, 0] = np.bincount(lab, weights=w * pi, minlength=n_iris)[keep] / ws[keep]
            centres[keep, 1] = np.bincount(lab, weights=w * pj, minlength=n_iris)[keep] / ws[keep]
        ri, rj = ii[rest], jj[rest]
        lab_all = np.argmin(np.hypot(ri[:, None] - centres[None, :, 0], rj[:, None] - centres[None, :, 1]), axis=1)
        order = np.lexsort((centres[:, 0], -np.round(centres[:, 1] / 5)))  # north to south, west to east
        flat_rest = np.flatnonzero(rest.ravel())
        for q in order:
            mask = np.zeros(rest.size, bool)
            mask[flat_rest[lab_all == q]] = True
            mask = mask.reshape(rest.shape)
            if mask.any():
                add(mask, k, "H", None)

    # Codes and names.
    table = pd.DataFrame(records)
    names_left = list(gen.permutation(np.array(_QUARTIER_NAMES, dtype=object)))
    est_centres = [(e[0], e[1] * U, e[2] * V) for e in ESTATES]
    out_rows = []
    for k, c in enumerate(COMMUNES):
        sub = table.index[table["com"] == k]
        used: set[str] = set()
        pool = [n for n in names_left]
        for rank, idx in enumerate(sub):
            rec = table.loc[idx]
            if rec["typ"] == "Z":
                code4, name = "0000", c.name
            else:
                code4 = f"{rank // 9 + 1:02d}{rank % 9 + 1:02d}"
                name = rec["name"] if isinstance(rec["name"], str) else None
                if name is None:
                    here = labels == idx
                    for ename, ei, ej in est_centres:
                        i_, j_ = int(min(max(ei, 0), n_cols - 1)), int(min(max(ej, 0), n_rows - 1))
                        if here[j_, i_] and ename not in used:
                            name = ename
                            break
                if name is None:
                    cands = [n for n in pool if n not in used]
                    name = cands[0] if cands else f"Quartier {rank + 1}"
                    if k == 0 and rank == 0:
                        name = "Centre-Ville" if "Centre-Ville" not in used else name
                used.add(name)
            out_rows.append(
                {
                    "label": idx,
                    "INSEE_COM": c.code,
                    "NOM_COM": c.name,
                    "IRIS": code4,
                    "CODE_IRIS": c.code + code4,
                    "NOM_IRIS": name,
                    "TYP_IRIS": rec["typ"],
                }
            )
    table = pd.DataFrame(out_rows).sort_values("label").reset_index(drop=True)
    return labels, table


def _iris_income(iris_table: pd.DataFrame, grid: pd.DataFrame, cell_iris: np.ndarray, gen) -> pd.DataFrame:
    """Filosofi IRIS income table (2018 layout) derived from the grid, with secrecy."""
    n = len(iris_table)
    agg = pd.DataFrame({k: np.bincount(cell_iris, weights=grid[k].to_numpy(), minlength=n) for k in ("Ind", "Men", "Men_pauv", "Ind_snv", "Ind_65_79", "Ind_80p")})
    mean = np.divide(agg["Ind_snv"], agg["Ind"], out=np.full(n, np.nan), where=agg["Ind"] > 0)
    pov = np.divide(agg["Men_pauv"], agg["Men"], out=np.full(n, np.nan), where=agg["Men"] > 0)
    old = np.divide(agg["Ind_65_79"] + agg["Ind_80p"], agg["Ind"], out=np.zeros(n), where=agg["Ind"] > 0)
    sigma = np.clip(0.38 + 0.12 * np.nan_to_num(pov) + 0.004 * np.nan_to_num(mean / 1000 - 20) + gen.normal(0, 0.02, n), 0.3, 0.6)
    med = mean * np.exp(-0.5 * sigma**2)  # lognormal: median = mean * exp(-s^2/2)
    q = {p: _round10(med * np.exp(sigma * ndtri(p))) for p in (0.1, 0.2, 0.25, 0.3, 0.4, 0.6, 0.7, 0.75, 0.8, 0.9)}
    med_r = _round10(med)
    s80s20 = (1 - ndtr(ndtri(0.8) - sigma)) / ndtr(ndtri(0.2) - sigma)
    gini = 2 * ndtr(sigma / np.sqrt(2)) - 1
    p_soc = np.round(np.clip(1.5 + 45 * np.nan_to_num(pov), 1, 30), 1)
    p_fam = np.round(p_soc * 0.36, 1)
    p_mini = np.round(p_soc * 0.33, 1)
    p_logt = np.round(p_soc - p_fam - p_mini, 1)
    p_pen = np.round(np.clip(14 + 60 * old + gen.normal(0, 2, n), 8, 45), 1)
    p_pat = np.round(np.clip(4 + 0.5 * np.nan_to_num(mean / 1000 - 15), 2, 20), 1)
    p_imp = np.round(-np.clip(8 + 0.6 * np.nan_to_num(mean / 1000 - 15), 5, 30), 1)
    p_act = np.round(100 - p_soc - p_pen - p_pat - p_imp, 1)
    p_cho = np.round(np.clip(2 + 12 * np.nan_to_num(pov), 1, 9), 1)
    p_ben = np.round(np.clip(4 + gen.normal(0, 1, n), 1, 9), 1)
    p_tsa = np.round(p_act - p_cho - p_ben, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        eq = np.round((q[0.75] - q[0.25]) / med_r, 2)
        rd = np.round(q[0.9] / q[0.1], 1)
    values = {
        "DISP_TP6018": np.round(100 * pov, 1),
        "DISP_Q118": q[0.25],
        "DISP_MED18": med_r,
        "DISP_Q318": q[0.75],
        "DISP_EQ18": eq,
        "DISP_D118": q[0.1],
        "DISP_D218": q[0.2],
        "DISP_D318": q[0.3],
        "DISP_D418": q[0.4],
        "DISP_D618": q[0.6],
        "DISP_D718": q[0.7],
        "DISP_D818": q[0.8],
        "DISP_D918": q[0.9],
        "DISP_RD18": rd,
        "DISP_S80S2018": np.round(s80s20, 1),
        "DISP_GI18": np.round(gini, 3),
        "DISP_PACT18": p_act,
        "DISP_PTSA18": p_tsa,
        "DISP_PCHO18": p_cho,
        "DISP_PBEN18": p_ben,
        "DISP_PPEN18": p_pen,
        "DISP_PPAT18": p_pat,
        "DISP_PPSOC18": p_soc,
        "DISP_PPFAM18": p_fam,
        "DISP_PPMINI18": p_mini,
        "DISP_PPLOGT18": p_logt,
        "DISP_PIMPOT18": p_imp,
        "DISP_NOTE18": np.zeros(n, dtype="int64"),
    }
    out = pd.DataFrame({"IRIS": iris_table["CODE_IRIS"].to_numpy(dtype=object)})
    for col in FILOSOFI_IRIS_2018_COLUMNS[1:]:
        out[col] = pd.Series(values[col]).astype(object)
    # Secrecy: fewer than 200 households -> "s"; no resident (activity, parks) -> "nd";
    # fewer than 15 poor households -> poverty rate "s".
    small = (agg["Men"] < 200).to_numpy()
    empty = (agg["Ind"] == 0).to_numpy()
    cols = list(FILOSOFI_IRIS_2018_COLUMNS[1:-1])
    out.loc[small & ~empty, cols] = "s"
    out.loc[empty, cols] = "nd"
    out.loc[(agg["Men_pauv"] < 15).to_numpy() & ~small & ~empty, "DISP_TP6018"] = "s"
    out.loc[small | empty, "DISP_NOTE18"] = 1
    return out[list(FILOSOFI_IRIS_2018_COLUMNS)]


def _make_bpe(grid, rows, cols, dens, social, commune_idx, iris_idx, iris_table, x0, y0, station, gen):
    """BPE-like facility points (2020 layout), denser in cores, scarcer in estates."""
    ind = grid["Ind"].to_numpy()
    d = dens[rows, cols]
    s = social[rows, cols]
    total = ind.sum()
    weights = {
        "pop": ind,
        "core": ind * (0.2 + d) ** 3,
        "shop": ind * (0.3 + d) ** 2 * (1 - 0.75 * s),
        "health": ind * (0.3 + d) ** 2 * (1 - 0.6 * s),
        "sport": np.sqrt(ind) * (1.2 - 0.5 * d),
        "periph": ind * np.exp(-(((d - 0.35) / 0.12) ** 2)),
    }
    types, cells = [], []
    for typequ, per, kind in _FACILITIES:
        k = max(1, int(gen.poisson(total / per)))
        w = weights[kind]
        types += [typequ] * k
        cells.append(gen.choice(len(ind), size=k, p=w / w.sum()))
    cell = np.concatenate(cells)
    r, c = rows[cell], cols[cell]
    # The main station (E108) sits at the hub; its cell is not inhabited.
    types.append("E108")
    si, sj = int(station[0]), int(station[1])
    r = np.append(r, sj)
    c = np.append(c, si)
    n = len(types)
    x = x0 + 200.0 * c + gen.uniform(10, 190, n)
    y = y0 + 200.0 * r + gen.uniform(10, 190, n)
    lx, ly = Transformer.from_crs(3035, 2154, always_xy=True).transform(x, y)
    quality = np.where(gen.random(n) < 0.10, "Acceptable", "Bonne").astype(object)
    quality[gen.random(n) < 0.02] = "Non géolocalisé"
    lx = np.where(quality == "Acceptable", np.rint(lx / 50) * 50, np.round(lx, 1))
    ly = np.where(quality == "Acceptable", np.rint(ly / 50) * 50, np.round(ly, 1))
    nogeo = quality == "Non géolocalisé"
    lx[nogeo] = np.nan
    ly[nogeo] = np.nan
    com = np.array([cc.code for cc in COMMUNES], dtype=object)[commune_idx[r, c]]
    uu = np.array([cc.uu for cc in COMMUNES], dtype=object)[commune_idx[r, c]]
    iris_rows = iris_table.iloc[iris_idx[r, c]]
    dciris = np.where(
        iris_rows["TYP_IRIS"].to_numpy() == "Z",
        com,
        com + "_" + iris_rows["IRIS"].to_numpy(dtype=object),
    )
    typequ = np.array(types, dtype=object)
    sport = np.char.startswith(typequ.astype(str), "F1")
    flag = lambda: np.where(sport, gen.integers(0, 2, n).astype(str), "X").astype(object)  # noqa: E731
    cinema = typequ == "F303"
    out = pd.DataFrame(
        {
            "AAV2020": "999",
            "AN": 2020,
            "BV2012": COMMUNES[0].code,
            "COUVERT": flag(),
            "DCIRIS": dciris,
            "DEP": "00",
            "DEPCOM": com,
            "ECLAIRE": flag(),
            "EPCI": "999999999",
            "LAMBERT_X": lx,
            "LAMBERT_Y": ly,
            "NBSALLES": np.where(cinema, gen.integers(1, 9, n), -1),
            "NB_AIREJEU": np.where(sport, gen.integers(1, 4, n), -1),
            "QUALITE_XY": quality,
            "REG": "00",
            "TYPEQU": typequ,
            "UU2020": uu,
        }
    )
    for col in ("NBSALLES", "NB_AIREJEU"):
        out[col] = out[col].astype("Int64").mask(out[col] < 0)
    out = out.sort_values(["DEPCOM", "TYPEQU", "LAMBERT_X"], kind="stable").reset_index(drop=True)
    return out[list(BPE_2020_COLUMNS)]


def _make_finance(grid: pd.DataFrame, industry: np.ndarray, commune_idx: np.ndarray, gen) -> pd.DataFrame:
    """DGCL-layout commune table; poorer communes have less fiscal capacity."""
    pop = grid.groupby("Depcom")["Ind"].sum()
    snv = grid.groupby("Depcom")["Ind_snv"].sum()
    soc = grid.groupby("Depcom")["Log_soc"].sum() / grid.groupby("Depcom")["Men"].sum()
    ind_share = np.bincount(commune_idx[industry], minlength=len(COMMUNES)) / max(1, industry.sum())
    rows = []
    for k, c in enumerate(COMMUNES):
        p = float(pop.get(c.code, 0.0))
        mean = float(snv.get(c.code, 0.0)) / p if p else 20_000.0
        # Potentiel fiscal per inhabitant: household wealth, business bases (industrial zone).
        pf_hab = 520 + 0.022 * (mean - 15_000) + 900 * ind_share[k] + gen.normal(0, 25) - 250 * float(soc.get(c.code, 0))
        df_hab = 150 + 0.002 * (mean - 20_000) + gen.normal(0, 10) + (60 if k == 0 else 0)
        pop18 = int(round(p * 1.02))
        dgf18 = int(round(pop18 * (1.01 + 0.02 * (k == 5))))
        dgf17 = int(round(dgf18 * (1 - gen.uniform(0.0, 0.012))))
        df18 = int(round(dgf18 * df_hab))
        df17 = int(round(df18 * gen.uniform(1.03, 1.08)))
        df16 = int(round(df17 * gen.uniform(1.06, 1.12)))
        pf18 = int(round(dgf18 * pf_hab))
        pf17 = int(round(pf18 * gen.uniform(0.97, 1.01)))
        rrf = int(round(pop18 * (pf_hab * 0.9 + df_hab + 350 + gen.normal(0, 30))))
        part_dyn = int(round((dgf18 - dgf17) * gen.uniform(40, 70)))
        ecret = int(round(max(0.0, pf_hab - 750) * pop18 * 0.004))
        rows.append([c.code, c.upper, "00", 2014, dgf17, dgf18, pop18, df16, df17, df18, pf17, pf18, rrf, part_dyn, ecret])
    return pd.DataFrame(rows, columns=list(DGCL_FINANCE_COLUMNS))


def _make_urban_units(grid: pd.DataFrame) -> pd.DataFrame:
    """Commune -> urban unit, layout of INSEE's composition file."""
    pop = grid.groupby("Depcom")["Ind"].sum()
    rows = []
    for c in COMMUNES:
        members = [o for o in COMMUNES if o.uu == c.uu]
        if c.uu == "00000":
            typ = "H"
        elif len(members) == 1:
            typ = "I"
        else:
            top = max(members, key=lambda o: pop.get(o.code, 0))
            typ = "C" if top.code == c.code else "B"
        rows.append([c.code, c.name, c.uu, _UU_NAMES[c.uu], typ, "00", "00"])
    return pd.DataFrame(rows, columns=list(URBAN_UNIT_COLUMNS))
