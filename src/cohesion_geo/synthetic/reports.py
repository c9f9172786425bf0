"""SYNTHETIC resident reports (*signalements*), placed on any 200 m grid.

There is no public set of resident reports; this generator makes a plausible
one so the pipeline can be developed and demonstrated. Reports cluster where
real difficulty is plausible (poor cells, social housing, low access to
facilities) but are deliberately **not** a copy of the poverty map:

- *hotspots* unrelated to poverty attract reports: a transport hub (transport,
  safety), a park with safety complaints, a night-life street (noise);
- a *blind spot*: one poor, populated area where residents report little (a
  real pattern: people who expect nothing from institutions report less);
- a smooth random "propensity to report" field and a few odd category labels.

Everything is drawn from a seeded generator; the same seed gives the same set.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from pyproj import Transformer
from scipy import ndimage
from scipy.spatial import cKDTree

from ..cellid import parse_cell_ids
from ..errors import MissingColumnsError
from ._layouts import REPORT_COLUMNS

__all__ = ["CATEGORIES", "ODD_LABELS", "SOURCES", "make_reports"]

RngLike = int | np.random.Generator | None

#: French category labels written by the generator (canonical ones).
CATEGORIES: tuple[str, ...] = (
    "logement", "sécurité", "transport", "espace public", "services", "emploi", "jeunesse", "santé",
)  # fmt: skip
#: Labels deliberately outside the vocabulary or in an odd spelling, so that
#: a loader's mapping (unknown -> ``other``) is exercised. About 5 % of reports.
ODD_LABELS: tuple[str, ...] = (
    "bruit", "propreté", "voirie", "autre", "divers", "Logement", "SECURITE", "Espace public ",
)  # fmt: skip
#: Collection channels and their probabilities.
SOURCES: dict[str, float] = {
    "application": 0.42,
    "réunion publique": 0.20,
    "porte-à-porte": 0.15,
    "permanence": 0.10,
    "marche exploratoire": 0.08,
    "courrier": 0.05,
}

_LIEUX = (
    "près de l'école", "derrière le centre commercial", "au pied des tours", "rue des Lilas",
    "place du Marché", "près de l'arrêt de bus", "dans le square", "au parking souterrain",
    "devant la pharmacie", "avenue de la République", "près de la gare", "le long du canal",
    "rue Jean-Jaurès", "dans le hall du bâtiment B", "sur le terrain de foot", "allée des Érables",
    "près du collège", "à la sortie du tram", "chemin du Moulin", "place de la Mairie",
)  # fmt: skip
_DUREES = ("deux semaines", "un mois", "trois mois", "six mois", "plus d'un an", "la rentrée")
_MOMENTS = ("le soir", "la nuit", "le week-end", "tous les jours", "après 22 h", "en fin d'après-midi")
_LIGNES = ("12", "4", "27", "A", "C", "Citéis 42", "navette 3")

_TEMPLATES: dict[str, tuple[str, ...]] = {
    "logement": (
        "L'ascenseur est en panne depuis {duree}.",
        "Humidité et moisissures dans l'appartement, le bailleur ne répond pas.",
        "Le chauffage collectif est coupé {moment} en plein hiver.",
        "Loyers et charges trop élevés pour les familles du quartier.",
        "Demande de logement social en attente depuis {n} ans.",
        "Infiltrations d'eau dans les caves {lieu}.",
        "Logements suroccupés, trois enfants dans une seule chambre.",
        "Nuisibles (cafards, punaises) dans l'immeuble depuis {duree}.",
    ),
    "sécurité": (
        "Trafic de stupéfiants {lieu}, on a peur de sortir {moment}.",
        "Rodéos de motos {moment}, c'est dangereux pour les enfants.",
        "Éclairage public en panne {lieu}, on ne se sent pas en sécurité.",
        "Agressions signalées {lieu} {moment}.",
        "Regroupements dans les halls, les personnes âgées n'osent plus passer.",
        "Voitures qui roulent trop vite {lieu}.",
    ),
    "transport": (
        "Le bus {ligne} passe trop rarement, surtout {moment}.",
        "Pas de liaison directe vers la zone d'emploi.",
        "Trottoirs trop étroits pour les poussettes {lieu}.",
        "Arrêt de bus sans abri ni banc {lieu}.",
        "Correspondances trop longues à la gare.",
        "Piste cyclable interrompue {lieu}.",
        "Le dernier bus part trop tôt pour ceux qui travaillent tard.",
    ),
    "espace public": (
        "Dépôts sauvages d'encombrants {lieu}.",
        "Aire de jeux dégradée {lieu}.",
        "Manque de bancs et d'ombre {lieu}.",
        "Poubelles qui débordent, ramassage insuffisant.",
        "Espaces verts mal entretenus {lieu}.",
        "Tags & graffitis sur les murs {lieu}.",
    ),
    "services": (
        "Le bureau de poste a fermé, il faut aller au centre-ville.",
        "Plus aucun commerce de proximité {lieu}.",
        "Démarches en ligne difficiles sans accompagnement.",
        "Horaires de la mairie annexe trop réduits.",
        "Pas de distributeur de billets dans le quartier.",
        "La CAF ne reçoit plus que sur rendez-vous, {duree} d'attente.",
    ),
    "emploi": (
        "Beaucoup de jeunes diplômés sans emploi dans le quartier.",
        "Besoin d'une permanence emploi {lieu}.",
        "Discriminations à l'embauche à cause de l'adresse.",
        "Manque de places en crèche pour reprendre un travail.",
        "Formations trop loin et mal desservies.",
    ),
    "jeunesse": (
        "Rien à faire pour les adolescents {moment}.",
        "Le centre social manque d'animateurs.",
        "Demande d'un terrain de sport éclairé {lieu}.",
        "Soutien scolaire insuffisant pour les collégiens.",
        "La maison des jeunes est fermée depuis {duree}.",
    ),
    "santé": (
        "Plus de médecin généraliste qui accepte de nouveaux patients.",
        "Délais de {n} mois pour voir un spécialiste.",
        "Pharmacie fermée le samedi {lieu}.",
        "Besoin d'un centre de santé dans le quartier.",
        "Personnes âgées isolées sans suivi médical.",
    ),
    "bruit": (
        "Musique forte {moment} {lieu}.",
        "Bruit des terrasses de bars {moment}, impossible de dormir.",
        "Klaxons et circulation bruyante {lieu}.",
    ),
    "propreté": ("Déjections canines {lieu}.", "Rue jamais nettoyée {lieu}."),
    "voirie": ("Nids-de-poule {lieu}.", "Chaussée défoncée {lieu} depuis {duree}."),
    "autre": ("Merci de nous écouter enfin.", "Je voudrais être recontacté par la mairie."),
    "divers": ("Plusieurs problèmes, voir la réunion du mois dernier.",),
}
_ODD_CANON = {"Logement": "logement", "SECURITE": "sécurité", "Espace public ": "espace public"}

# Category mixing: rows = contexts, columns = CATEGORIES.
_P_BASE = np.array([0.12, 0.12, 0.14, 0.20, 0.14, 0.08, 0.10, 0.10])
_P_POOR = np.array([0.18, 0.08, 0.00, 0.02, 0.02, 0.12, 0.08, 0.03])  # x poverty_rate / 0.3
_P_SOC = np.array([0.25, 0.05, 0.00, 0.03, 0.00, 0.03, 0.05, 0.00])  # x social-housing share
_P_FAR = np.array([0.00, 0.00, 0.08, 0.00, 0.15, 0.02, 0.02, 0.12])  # x low facility access
_HOTSPOT_P = {
    "transport": np.array([0.02, 0.25, 0.55, 0.10, 0.05, 0.00, 0.03, 0.00]),
    "park": np.array([0.00, 0.50, 0.00, 0.35, 0.00, 0.00, 0.15, 0.00]),
    "nightlife": np.array([0.00, 0.35, 0.05, 0.30, 0.00, 0.00, 0.30, 0.00]),
}
_HOTSPOT_SHARE = {"transport": 0.08, "park": 0.05, "nightlife": 0.04}

_ID_COLUMNS = ("Idcar_200m", "idcar_200m", "IdINSPIRE", "cell_id", "id")


def _pick(frame: pd.DataFrame, names: Sequence[str]) -> pd.Series | None:
    lower = {c.lower(): c for c in frame.columns}
    for name in names:
        if name in frame.columns:
            return frame[name]
        if name.lower() in lower:
            return frame[lower[name.lower()]]
    return None


def _cells(cells: Any) -> tuple[pd.DataFrame, list[dict] | None, list[dict] | None, Any]:
    """Normalise the input to x, y (cell lower-left), size, epsg, ind, poverty, social."""
    hot = blind = fac = None
    if hasattr(cells, "grid") and hasattr(cells, "meta"):  # a Territory
        hot = cells.meta.get("hotspots")
        blind = cells.meta.get("blind_spots")
        fac = cells.bpe
        cells = cells.grid
    frame = pd.DataFrame(cells)
    ids = _pick(frame, _ID_COLUMNS)
    if "cell_x" in frame.columns and "cell_y" in frame.columns:
        size = frame["cell_size"] if "cell_size" in frame.columns else 200
        epsg = 3035
        if ids is not None:
            epsg = int(parse_cell_ids(ids.iloc[:1], source="make_reports")["epsg"].iloc[0])
        pos = pd.DataFrame({"cell_x": frame["cell_x"], "cell_y": frame["cell_y"], "cell_size": size, "epsg": epsg})
    elif ids is not None:
        pos = parse_cell_ids(ids, source="make_reports")
    else:
        raise MissingColumnsError(
            f"make_reports: no cell id column (one of {', '.join(_ID_COLUMNS)}) "
            f"nor cell_x/cell_y; columns are {', '.join(map(str, frame.columns[:12]))}"
        )
    ind = _pick(frame, ["Ind", "num_people"])
    if ind is None:
        raise MissingColumnsError("make_reports: an 'Ind'/'ind' column (inhabitants) is required")
    men = _pick(frame, ["Men"])
    pauv = _pick(frame, ["Men_pauv"])
    if men is not None and pauv is not None:
        m = men.to_numpy(float)
        poverty = np.divide(pauv.to_numpy(float), m, out=np.zeros(len(m)), where=m > 0)
    elif (pr := _pick(frame, ["poverty_rate", "poverty_ratio"])) is not None:
        poverty = pr.to_numpy(float)
        men = None
    else:
        raise MissingColumnsError("make_reports: 'Men' and 'Men_pauv' (or 'poverty_rate') are required")
    soc = _pick(frame, ["Log_soc"])
    if soc is not None and men is not None:
        m = men.to_numpy(float)
        social = np.divide(soc.to_numpy(float), m, out=np.zeros(len(m)), where=m > 0)
    else:
        social = np.zeros(len(frame))
    out = pd.DataFrame(
        {
            "cell_x": pos["cell_x"].to_numpy("int64"),
            "cell_y": pos["cell_y"].to_numpy("int64"),
            "cell_size": np.broadcast_to(np.asarray(pos["cell_size"], dtype="int64"), (len(frame),)),
            "ind": np.nan_to_num(ind.to_numpy(float)),
            "poverty": np.clip(np.nan_to_num(poverty), 0, 1),
            "social": np.clip(social, 0, 1),
        }
    )
    out.attrs["epsg"] = int(np.asarray(pos["epsg"])[0]) if len(pos) else 3035
    return out, hot, blind, fac


def _facility_points(facilities: Any, epsg: int) -> np.ndarray | None:
    """Facility coordinates in the grid's CRS (BPE frame or GeoDataFrame)."""
    if facilities is None:
        return None
    if hasattr(facilities, "geometry") and getattr(facilities, "crs", None) is not None:
        pts = facilities.to_crs(epsg)
        pts = pts[~pts.geometry.is_empty & pts.geometry.notna()]
        return np.column_stack([pts.geometry.x, pts.geometry.y])
    f = pd.DataFrame(facilities)
    xy = f[["LAMBERT_X", "LAMBERT_Y"]].apply(pd.to_numeric, errors="coerce").dropna().to_numpy()
    tr = Transformer.from_crs(2154, epsg, always_xy=True)
    return np.column_stack(tr.transform(xy[:, 0], xy[:, 1]))


def _auto_hotspots(c: pd.DataFrame, local_pop: np.ndarray, gen: np.random.Generator) -> list[dict]:
    """Hotspots unrelated to poverty, chosen on the grid itself."""
    cx = c["cell_x"].to_numpy() + c["cell_size"].to_numpy() / 2
    cy = c["cell_y"].to_numpy() + c["cell_size"].to_numpy() / 2
    pov = c["poverty"].to_numpy()
    med = np.median(pov)
    # Transport hub: the busiest place among cells that are not poor.
    ok = pov <= med
    hub = int(np.flatnonzero(ok)[np.argmax(local_pop[ok])])
    # Park: a populated, well-off place at least 2 km from the hub.
    d_hub = np.hypot(cx - cx[hub], cy - cy[hub])
    cand = np.flatnonzero((pov <= np.quantile(pov, 0.3)) & (local_pop >= np.quantile(local_pop, 0.6)) & (d_hub > 2000))
    if cand.size == 0:
        cand = np.flatnonzero(d_hub > np.quantile(d_hub, 0.5))
    park = int(gen.choice(cand))
    # Night-life street: dense, mid-income, 1-4 km from the hub.
    cand = np.flatnonzero((local_pop >= np.quantile(local_pop, 0.8)) & (d_hub > 800) & (d_hub < 4000))
    night = int(gen.choice(cand)) if cand.size else hub
    return [
        {"kind": "transport", "x": float(cx[hub]), "y": float(cy[hub])},
        {"kind": "park", "x": float(cx[park]), "y": float(cy[park])},
        {"kind": "nightlife", "x": float(cx[night]), "y": float(cy[night])},
    ]


def _auto_blind_spot(c: pd.DataFrame, gen: np.random.Generator) -> list[dict]:
    """A poor and populated place where residents report little."""
    pov, ind = c["poverty"].to_numpy(), c["ind"].to_numpy()
    cand = np.flatnonzero((pov >= np.quantile(pov, 0.9)) & (ind >= np.quantile(ind, 0.75)))
    if cand.size == 0:
        return []
    k = int(gen.choice(cand))
    size = c["cell_size"].to_numpy()
    return [{"x": float(c["cell_x"].iloc[k] + size[k] / 2), "y": float(c["cell_y"].iloc[k] + size[k] / 2), "radius": 500.0}]


def make_reports(
    cells_or_area: Any,
    *,
    n: int = 2_500,
    seed: RngLike = 0,
    start: str = "2022-01-01",
    end: str = "2023-12-31",
    hotspots: Sequence[Mapping[str, Any]] | None = None,
    blind_spots: Sequence[Mapping[str, Any]] | None = None,
    facilities: Any = None,
) -> pd.DataFrame:
    """Generate SYNTHETIC resident reports on a 200 m grid.

    Parameters
    ----------
    cells_or_area : DataFrame or Territory
        A grid: the raw Filosofi layout (``Idcar_200m``/``IdINSPIRE``, ``Ind``,
        ``Men``, ``Men_pauv``, optional ``Log_soc``), the canonical frame
        (``cell_id`` or ``cell_x``/``cell_y``, ``ind``, ``men``, ``men_pauv`` or
        ``poverty_rate``), or a :class:`~cohesion_geo.synthetic.Territory`
        (its grid, facilities, hotspots and blind spots are used).
    n : int
        Number of reports.
    seed : int, Generator or None
        Seed (``np.random.default_rng(seed)``).
    start, end : str
        ISO dates; report dates fall in ``[start, end]``.
    hotspots : sequence of mapping, optional
        ``{"kind": "transport"|"park"|"nightlife", "x": .., "y": ..}`` in the
        grid's CRS (metres); optional ``"share"`` (fraction of reports) and
        ``"radius"`` (metres). Chosen on the grid when omitted.
    blind_spots : sequence of mapping, optional
        ``{"x": .., "y": .., "radius": ..}``: report propensity divided by ~10
        there. One poor populated place is chosen when omitted; pass ``[]``
        for none.
    facilities : DataFrame or GeoDataFrame, optional
        BPE rows (``LAMBERT_X``/``LAMBERT_Y`` in EPSG:2154) or points: cells
        with no facility within 600 m report more (services, health).

    Returns
    -------
    DataFrame
        Columns ``lon``, ``lat`` (WGS84, 6 decimals), ``category`` (French
        label, a few odd ones), ``comment``, ``date`` (ISO ``YYYY-MM-DD``),
        ``source``; sorted by date. ``attrs`` holds ``synthetic=True``,
        ``hotspots``, ``blind_spots`` and ``cell_index`` (row of the grid each
        report was drawn in).

    Examples
    --------
    >>> from cohesion_geo.synthetic import make_grid
    >>> r = make_reports(make_grid(n_cells=3_000, seed=2), n=200, seed=1)
    >>> len(r), list(r.columns)
    (200, ['lon', 'lat', 'category', 'comment', 'date', 'source'])
    """
    gen = np.random.default_rng(seed)
    c, hot_default, blind_default, fac_default = _cells(cells_or_area)
    if facilities is None:
        facilities = fac_default
    epsg = c.attrs["epsg"]
    size = c["cell_size"].to_numpy().astype(float)
    cx = c["cell_x"].to_numpy() + size / 2
    cy = c["cell_y"].to_numpy() + size / 2
    ind = c["ind"].to_numpy()
    pov = c["poverty"].to_numpy()
    soc = c["social"].to_numpy()
    n_cells = len(c)

    # Rasterise on the grid's bounding box: local population (~1 km window)
    # and a smooth propensity-to-report field.
    gx = ((c["cell_x"] - c["cell_x"].min()) // c["cell_size"]).to_numpy()
    gy = ((c["cell_y"] - c["cell_y"].min()) // c["cell_size"]).to_numpy()
    shape = (int(gy.max()) + 1, int(gx.max()) + 1)
    raster = np.zeros(shape)
    np.add.at(raster, (gy, gx), ind)
    local_pop = ndimage.uniform_filter(raster, size=5, mode="constant")[gy, gx] * 25
    if hotspots is None:
        hotspots = hot_default if hot_default is not None else _auto_hotspots(c, local_pop, gen)
    if blind_spots is None:
        blind_spots = blind_default if blind_default is not None else _auto_blind_spot(c, gen)
    field = ndimage.gaussian_filter(gen.standard_normal(shape), 3.0)
    field = (field - field.mean()) / (field.std() or 1.0)
    propensity = np.exp(0.45 * field[gy, gx])

    far = np.zeros(n_cells)
    fac_xy = _facility_points(facilities, epsg)
    if fac_xy is not None and len(fac_xy):
        dist, _ = cKDTree(fac_xy).query(np.column_stack([cx, cy]))
        far = (dist > 600).astype(float)

    need = 0.25 + 3.5 * pov + 0.8 * soc + 0.3 * far
    weight = np.power(ind, 0.9) * need * propensity
    for b in blind_spots:
        inside = np.hypot(cx - b["x"], cy - b["y"]) <= b.get("radius", 500.0)
        weight[inside] *= 0.08
    weight = np.where(ind > 0, weight, 0.0)

    # Reports per context: hotspots first, the rest from the weights.
    kinds = np.full(n, "base", dtype=object)
    cell = np.empty(n, dtype="int64")
    k0 = 0
    for h in hotspots:
        share = h.get("share", _HOTSPOT_SHARE.get(h["kind"], 0.05))
        m = int(round(n * share))
        d = np.hypot(cx - h["x"], cy - h["y"])
        w = np.exp(-0.5 * (d / h.get("radius", 300.0)) ** 2) * (ind > 0)
        if m == 0 or w.sum() == 0:
            continue
        cell[k0 : k0 + m] = gen.choice(n_cells, size=m, p=w / w.sum())
        kinds[k0 : k0 + m] = h["kind"]
        k0 += m
    cell[k0:] = gen.choice(n_cells, size=n - k0, p=weight / weight.sum())

    # Categories: mixture by context, then a few odd labels.
    probs = np.empty((n, len(CATEGORIES)))
    base = kinds == "base"
    cb = cell[base]
    probs[base] = (
        _P_BASE
        + (pov[cb] / 0.3)[:, None] * _P_POOR
        + soc[cb][:, None] * _P_SOC
        + far[cb][:, None] * _P_FAR
    )
    for kind, p in _HOTSPOT_P.items():
        probs[kinds == kind] = p
    probs /= probs.sum(axis=1, keepdims=True)
    cat_idx = (gen.random(n)[:, None] > np.cumsum(probs, axis=1)).sum(axis=1)
    cat_idx = np.minimum(cat_idx, len(CATEGORIES) - 1)
    category = np.array(CATEGORIES, dtype=object)[cat_idx]
    odd = gen.random(n) < 0.05
    night_noise = (kinds == "nightlife") & (gen.random(n) < 0.5)
    category[odd] = np.array(ODD_LABELS, dtype=object)[gen.integers(0, len(ODD_LABELS), odd.sum())]
    category[night_noise] = "bruit"

    # Comments from templates (a loop over reports, not cells: n is small).
    t_pick, lieu, duree, moment, ligne, num = (
        gen.random(n), gen.integers(0, len(_LIEUX), n), gen.integers(0, len(_DUREES), n),
        gen.integers(0, len(_MOMENTS), n), gen.integers(0, len(_LIGNES), n), gen.integers(2, 9, n),
    )  # fmt: skip
    comments = []
    for i in range(n):
        label = category[i]
        templates = _TEMPLATES.get(label) or _TEMPLATES[_ODD_CANON[label]]
        text = templates[int(t_pick[i] * len(templates))]
        comments.append(
            text.format(
                lieu=_LIEUX[lieu[i]], duree=_DUREES[duree[i]], moment=_MOMENTS[moment[i]],
                ligne=_LIGNES[ligne[i]], n=num[i],
            )
        )  # fmt: skip

    # Sources and dates: public meetings happen on a few evenings.
    src_names = np.array(list(SOURCES), dtype=object)
    src_p = np.array(list(SOURCES.values()))
    source = src_names[np.minimum((gen.random(n)[:, None] > np.cumsum(src_p / src_p.sum())).sum(1), len(src_p) - 1)]
    t0, t1 = pd.Timestamp(start), pd.Timestamp(end)
    n_days = (t1 - t0).days + 1
    if n_days < 1:
        raise ValueError(f"make_reports: end {end!r} is before start {start!r}")
    day = gen.integers(0, n_days, n)
    weekday = (t0.day_of_week + day) % 7
    resample = (weekday == 6) & (gen.random(n) < 0.6)  # fewer reports on Sundays
    day[resample] = gen.integers(0, n_days, resample.sum())
    meetings = np.sort(gen.choice(n_days, size=min(10, n_days), replace=False))
    is_meeting = source == "réunion publique"
    day[is_meeting] = meetings[gen.integers(0, len(meetings), is_meeting.sum())]
    dates = (t0 + pd.to_timedelta(day, unit="D")).strftime("%Y-%m-%d")

    # Positions: uniform inside the cell, then WGS84.
    px = c["cell_x"].to_numpy()[cell] + gen.uniform(0.05, 0.95, n) * size[cell]
    py = c["cell_y"].to_numpy()[cell] + gen.uniform(0.05, 0.95, n) * size[cell]
    lon, lat = Transformer.from_crs(epsg, 4326, always_xy=True).transform(px, py)

    out = pd.DataFrame(
        {
            "lon": np.round(lon, 6),
            "lat": np.round(lat, 6),
            "category": category.astype(str),
            "comment": comments,
            "date": np.asarray(dates, dtype=str),
            "source": source.astype(str),
        }
    )
    order = np.lexsort((np.arange(n), out["date"].to_numpy()))
    out = out.iloc[order].reset_index(drop=True)[list(REPORT_COLUMNS)]
    out.attrs.update(
        {
            "synthetic": True,
            "hotspots": [dict(h) for h in hotspots],
            "blind_spots": [dict(b) for b in blind_spots],
            "cell_index": cell[order],
        }
    )
    return out
