"""Where the data lives: the real-data directory and the embedded synthetic files.

Real public extracts (INSEE, IGN, DGCL) are never copied into this project;
they are read from a *data directory*, found in this order:

1. the ``data_dir`` argument (CLI: ``--data-dir``);
2. the ``COHESION_GEO_DATA`` environment variable;
3. ``../shared/data`` relative to the current directory, when it exists
   (also tried relative to the source checkout).

The project's own synthetic territory ships with the package
(:func:`cohesion_geo.synthetic.synthetic_dir`), so a bare clone still runs.
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import DataDirectoryError

__all__ = ["REAL_FILES", "data_dir", "real_path", "has_real_data"]

ENV_VAR = "COHESION_GEO_DATA"

#: Known real files, relative to the data directory (see data/README.md).
REAL_FILES: dict[str, str] = {
    "bordeaux_grid": "bordeaux/filosofi2015_200m_bordeaux_metropole.csv",
    "bordeaux_iris": "bordeaux/iris_contours_bordeaux_2019.geojson",
    "bordeaux_iris_income": "bordeaux/filosofi2018_iris_disp_extract.csv",
    "bordeaux_facilities": "bordeaux/bpe2020_sport_loisir_bordeaux_metropole.csv",
    "finance": "finance/dgcl_communes_2018_dotation_forfaitaire_inputs.csv",
    "lille_grid": "lille/filosofi2017_200m_lille_derived.gpkg",
    "lille_qpv": "lille/qpv2015_lille.gpkg",
    "lille_communes": "lille/communes_lille.gpkg",
}

#: Column mapping for the derived Lille grid (``{canonical: source}``).
LILLE_GRID_COLUMNS: dict[str, str] = {
    "cell_id": "id",
    "ind": "num_people",
    "mean_std_living": "mean_std_living",
    "poverty_rate": "poverty_ratio",
    "imputed": "imputed",
}


def _candidates() -> list[Path]:
    here = Path(__file__).resolve()
    return [Path.cwd() / ".." / "shared" / "data", here.parents[3] / "shared" / "data"]


def data_dir(data_dir: str | os.PathLike | None = None, *, required: bool = False) -> Path | None:
    """Return the real-data directory, or ``None`` when there is none.

    Parameters
    ----------
    data_dir : path, optional
        Explicit directory; it must exist.
    required : bool, default False
        Raise :class:`~cohesion_geo.errors.DataDirectoryError` instead of
        returning ``None`` when no directory is found.

    Examples
    --------
    >>> d = data_dir()
    >>> d is None or d.is_dir()
    True
    """
    if data_dir is not None:
        path = Path(data_dir).expanduser()
        if not path.is_dir():
            raise DataDirectoryError(f"data directory {path} does not exist")
        return path.resolve()
    env = os.environ.get(ENV_VAR)
    if env:
        path = Path(env).expanduser()
        if not path.is_dir():
            raise DataDirectoryError(f"{ENV_VAR}={env} is not a directory")
        return path.resolve()
    for cand in _candidates():
        if cand.is_dir():
            return cand.resolve()
    if required:
        raise DataDirectoryError(
            "no data directory: pass --data-dir / data_dir=..., set "
            f"{ENV_VAR}, or place the data in ../shared/data"
        )
    return None


def has_real_data(data_dir_: str | os.PathLike | None = None) -> bool:
    """True when the data directory exists and holds the Bordeaux grid."""
    d = data_dir(data_dir_)
    return d is not None and (d / REAL_FILES["bordeaux_grid"]).is_file()


def real_path(key: str, *, data_dir_: str | os.PathLike | None = None) -> Path:
    """Path of a known real file (see :data:`REAL_FILES`) in the data directory.

    Raises
    ------
    DataDirectoryError
        When the directory or the file is missing; the message says where it
        was looked for.
    """
    if key not in REAL_FILES:
        raise KeyError(f"unknown data set {key!r}; known: {', '.join(sorted(REAL_FILES))}")
    root = data_dir(data_dir_, required=True)
    assert root is not None
    path = root / REAL_FILES[key]
    if not path.is_file():
        raise DataDirectoryError(f"{path} not found in data directory {root}")
    return path
