"""Synthetic, precisely constructed layers for the map tests (owned by the maps helper).

A 12 x 10 block of 200 m INSEE cells (EPSG:3035) near Bordeaux, three
candidate quartiers made of whole cells, and resident reports (EPSG:2154).
Every number is set by construction so tests can assert exact values.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Point

X0, Y0, SIZE = 3482800, 2466800, 200
NX, NY = 12, 10
XSS = [
    "<script>window.__xss=1</script>",
    '<img src=x onerror="window.__xss=1">',
    '" onmouseover="window.__xss=1',
]
LISA = ["high-high", "low-low", "high-low", "low-high", "not significant"]
CONFRONTATION = ["both", "statistics_only", "residents_only", "neither"]


def make_cells(nx: int = NX, ny: int = NY) -> gpd.GeoDataFrame:
    """Cells with deterministic values; cells with i % 7 == 3 have 5 households (secret)."""
    ii, jj = np.meshgrid(np.arange(nx), np.arange(ny), indexing="xy")
    ii, jj = ii.ravel(), jj.ravel()
    n = ii.size
    k = np.arange(n)
    x = X0 + ii * SIZE
    y = Y0 + jj * SIZE
    men = np.where(k % 7 == 3, 5.0, 20.0 + (k % 13) * 10.0)
    poverty = np.round(0.05 + 0.5 * (ii / max(nx - 1, 1)) * (1 - 0.5 * jj / max(ny - 1, 1)), 4)
    df = pd.DataFrame(
        {
            "cell_id": [f"CRS3035RES200mN{yy}E{xx}" for xx, yy in zip(x, y)],
            "cell_x": x.astype(np.int64),
            "cell_y": y.astype(np.int64),
            "cell_size": np.full(n, SIZE, dtype=np.int64),
            "ind": men * 2.2,
            "men": men,
            "men_pauv": np.round(men * poverty, 3),
            "poverty_rate": poverty,
            "mean_std_living": 24000.0 - 20000.0 * poverty,
            "imputed": men < 11,
            "lisa_cluster": [LISA[v % 5] for v in k],
            "confrontation": [CONFRONTATION[v % 4] for v in k],
        }
    )
    geom = shapely.box(x, y, x + SIZE, y + SIZE)
    return gpd.GeoDataFrame(df, geometry=geom, crs=3035)


QUARTIER_BLOCKS = [  # (i0, i1, j0, j1) inclusive ranges of cell indices
    (8, 11, 0, 2),
    (8, 10, 5, 8),
    (1, 3, 6, 8),
]


def make_quartiers(names: list[str] | None = None) -> gpd.GeoDataFrame:
    """Three rectangular quartiers (unions of whole cells) in EPSG:3035."""
    names = names or ["Les Aubiers", "Saige", "Benauge"]
    rows = []
    for q, (i0, i1, j0, j1) in enumerate(QUARTIER_BLOCKS):
        geom = shapely.box(X0 + i0 * SIZE, Y0 + j0 * SIZE, X0 + (i1 + 1) * SIZE, Y0 + (j1 + 1) * SIZE)
        ncell = (i1 - i0 + 1) * (j1 - j0 + 1)
        rows.append(
            {
                "quartier_id": f"Q{q + 1}",
                "name": names[q],
                "ind": 1000.0 + 500 * q,
                "men": 450.0 + 200 * q,
                "men_pauv": 180.0 + 40 * q,
                "poverty_rate": (180.0 + 40 * q) / (450.0 + 200 * q),
                "mean_std_living": 11000.0 + 300 * q,
                "score": 0.9 - 0.2 * q,
                "rank": q + 1,
                "n_cells": ncell,
                "geometry": geom,
            }
        )
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=3035)


def make_reports(comments: list[str] | None = None, categories: list[str] | None = None) -> gpd.GeoDataFrame:
    """Report points (EPSG:2154): 6 in cell (0, 0), 2 in cell (5, 5), 1 in cell (11, 9).

    The 6 reports of cell (0, 0) are 4 'housing' + 2 'safety' unless
    ``categories`` (length 6) is given.
    """
    cats = categories or ["housing"] * 4 + ["safety"] * 2
    comm = comments or [f"comment {i}" for i in range(9)]
    pts = [(X0 + 20 + 25 * i, Y0 + 30 + 20 * i) for i in range(6)]
    pts += [(X0 + 5 * SIZE + 50, Y0 + 5 * SIZE + 50), (X0 + 5 * SIZE + 150, Y0 + 5 * SIZE + 120)]
    pts += [(X0 + 11 * SIZE + 100, Y0 + 9 * SIZE + 100)]
    df = pd.DataFrame(
        {
            "category": cats + ["transport", "youth", "health"],
            "category_raw": cats + ["bus", "jeunes", "santé"],
            "comment": (comm * 9)[:9],
            "date": pd.to_datetime(["2024-01-01"] * 9),
            "source": ["test"] * 9,
        }
    )
    g = gpd.GeoDataFrame(df, geometry=[Point(p) for p in pts], crs=3035)
    return g.to_crs(2154)
