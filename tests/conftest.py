"""Shared fixtures. Real-data tests skip, with the reason shown, without the data directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from cohesion_geo.datasets import REAL_FILES, data_dir


@pytest.fixture(scope="session")
def real_data_dir() -> Path:
    """The real-data directory (../shared/data or $COHESION_GEO_DATA), else skip."""
    d = data_dir()
    if d is None:
        pytest.skip("real data directory absent (../shared/data or COHESION_GEO_DATA): real-data test skipped")
    missing = [p for p in REAL_FILES.values() if not (d / p).is_file()]
    if missing:
        pytest.skip(f"real data directory {d} lacks {', '.join(missing)}")
    return d


@pytest.fixture(scope="session")
def bordeaux_grid(real_data_dir: Path):
    """The real Bordeaux Métropole Filosofi 2015 grid, canonical frame (read once)."""
    from cohesion_geo.loaders import load_grid

    return load_grid(real_data_dir / REAL_FILES["bordeaux_grid"])


@pytest.fixture(scope="session")
def lille_grid(real_data_dir: Path):
    """The real Lille Filosofi 2017 derived grid, canonical frame (read once)."""
    from cohesion_geo.datasets import LILLE_GRID_COLUMNS
    from cohesion_geo.loaders import load_grid

    return load_grid(real_data_dir / REAL_FILES["lille_grid"], columns=LILLE_GRID_COLUMNS)
