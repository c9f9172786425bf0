"""Constructed grids with known answers for the weighing tests (not a test module)."""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import ndimage

from cohesion_geo.loaders import harmonise_grid

X0, Y0, SIZE = 3_000_000, 2_000_000, 200


def cell_id(col: int, row: int) -> str:
    return f"CRS3035RES200mN{Y0 + row * SIZE}E{X0 + col * SIZE}"


def make_grid(cells: Mapping[tuple[int, int], Mapping[str, float | str]]) -> gpd.GeoDataFrame:
    """Canonical grid (harmonised by the loader) from :func:`make_raw`'s input."""
    return harmonise_grid(make_raw(cells), vintage=2019)


def make_raw(cells: Mapping[tuple[int, int], Mapping[str, float | str]]) -> pd.DataFrame:
    """Raw 2019 INSEE layout from ``{(col, row): {"ind", "men", "rate", "snv", "soc", "commune"}}``.

    ``rate`` is the poverty rate (men_pauv = rate x men), ``snv`` the mean
    standard of living (ind_snv = snv x ind), ``soc`` the number of social
    dwellings.
    """
    rows = []
    for (c, r), v in cells.items():
        ind, men = float(v.get("ind", 100.0)), float(v.get("men", 50.0))
        rows.append({
            "idcar_200m": cell_id(c, r),
            "ind": ind,
            "men": men,
            "men_pauv": float(v.get("rate", 0.1)) * men,
            "ind_snv": float(v.get("snv", 20_000.0)) * ind,
            "log_soc": float(v.get("soc", 0.0)),
            "i_est_200": 0,
            "lcog_geo": str(v.get("commune", "00001")),
        })
    return pd.DataFrame(rows)


def dissolve(grid: gpd.GeoDataFrame, cells: pd.DataFrame) -> gpd.GeoDataFrame:
    """Candidate quartiers by dissolving the cells of a (cell_id, quartier_id) table."""
    sel = grid.merge(cells, on="cell_id")
    q = sel.dissolve("quartier_id", aggfunc={"ind": "sum", "men": "sum", "men_pauv": "sum"}).reset_index()
    q["poverty_rate"] = q["men_pauv"] / q["men"]
    return q


def block(col0: int, row0: int, w: int = 2, h: int = 2) -> list[tuple[int, int]]:
    return [(c, r) for c in range(col0, col0 + w) for r in range(row0, row0 + h)]


POCKET, BELT = block(3, 5), block(15, 5)


def pocket_and_belt_cells() -> dict[tuple[int, int], dict[str, float]]:
    """21 x 11 cells: a rich west (x 0-10) holding quartier A, a poor-belt east holding B.

    Every cell: 100 inhabitants, 50 households. West cells: poverty 5 %,
    25,000 EUR; east cells: 30 %, 15,000 EUR, 10 social dwellings; quartier
    cells (2 x 2 blocks at columns 3-4 and 15-16, rows 5-6): 40 %, 12,000 EUR,
    40 social dwellings. All in commune 00001.
    """
    cells: dict[tuple[int, int], dict[str, float]] = {}
    for c in range(21):
        for r in range(11):
            if (c, r) in POCKET or (c, r) in BELT:
                cells[(c, r)] = {"rate": 0.40, "snv": 12_000.0, "soc": 40.0}
            elif c <= 10:
                cells[(c, r)] = {"rate": 0.05, "snv": 25_000.0, "soc": 0.0}
            else:
                cells[(c, r)] = {"rate": 0.30, "snv": 15_000.0, "soc": 10.0}
    return cells


def pocket_and_belt_table() -> pd.DataFrame:
    return pd.DataFrame({
        "cell_id": [cell_id(*p) for p in POCKET] + [cell_id(*p) for p in BELT],
        "quartier_id": ["A"] * 4 + ["B"] * 4,
    })


def pocket_and_belt() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, pd.DataFrame]:
    """Grid, quartiers (A: isolated pocket, B: in a poor belt) and the cell table."""
    grid = make_grid(pocket_and_belt_cells())
    table = pocket_and_belt_table()
    return grid, dissolve(grid, table), table


def components(grid: gpd.GeoDataFrame, *, level: float = 0.30, floor: float = 1000.0) -> pd.DataFrame:
    """Test-only candidates: queen components of cells with poverty >= level, >= floor inhabitants.

    Deterministic (ids ``Q<label>`` in raster order), independent of the
    delineation module's defaults, so real-data figures stay fixed.
    """
    gx = (grid["cell_x"] // grid["cell_size"]).to_numpy()
    gy = (grid["cell_y"] // grid["cell_size"]).to_numpy()
    x0, y0 = gx.min(), gy.min()
    raster = np.zeros((gy.max() - y0 + 1, gx.max() - x0 + 1), bool)
    flag = (grid["poverty_rate"] >= level).to_numpy()
    raster[gy[flag] - y0, gx[flag] - x0] = True
    labels, _ = ndimage.label(raster, structure=np.ones((3, 3)))
    lab = labels[gy - y0, gx - x0]
    lab[~flag] = 0
    pop = np.bincount(lab, weights=grid["ind"].to_numpy())
    keep = np.flatnonzero(pop >= floor)
    keep = keep[keep > 0]
    sel = np.isin(lab, keep)
    return pd.DataFrame({"cell_id": grid["cell_id"].astype(str).to_numpy()[sel],
                         "quartier_id": [f"Q{v:03d}" for v in lab[sel]]})
