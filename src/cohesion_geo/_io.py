"""Private I/O layer: atomic writes and format detection.

Every output of cohesion-geo is written to a temporary file or folder next to
its destination, then moved into place, so a failing run never leaves a partly
written output behind.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

import geopandas as gpd
import pandas as pd

from .errors import InputFormatError

__all__ = [
    "for_file",
    "atomic_dir",
    "atomic_path",
    "write_frame",
    "write_layers",
    "write_text",
]


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, *, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it onto ``path`` on success.

    The temporary file keeps the destination's suffix so drivers that infer the
    format from the name (GPKG, GeoJSON, Parquet) behave the same.
    """
    dest = Path(path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{dest.stem}.", suffix=suffix or dest.suffix, dir=dest.parent
    )
    os.close(fd)
    os.unlink(tmp)  # drivers such as GPKG refuse to open an empty existing file
    # files are created by the writers themselves, with the usual umask-derived mode
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, dest)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary folder beside ``path``; it replaces ``path`` on success."""
    dest = Path(path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes 0700; give the folder the usual mode
    try:
        yield tmp
        if dest.exists():
            old = dest.with_name(f".{dest.name}.old")
            if old.exists():
                shutil.rmtree(old)
            os.replace(dest, old)
            os.replace(tmp, dest)
            shutil.rmtree(old)
        else:
            os.replace(tmp, dest)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


def for_file(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` that every output driver (GPKG, CSV, Parquet) accepts.

    Categoricals become strings, lists/tuples/sets are joined with ``"; "``,
    dicts become text, timezone-aware datetimes are converted to UTC, and
    ``attrs`` (which some writers try to serialise) are dropped. The geometry
    column is left alone. Every writer of this module applies it.
    """
    out = frame.copy()
    geometry = getattr(out, "_geometry_column_name", None)
    for col in out.columns:
        if col == geometry:
            continue
        s = out[col]
        if isinstance(s.dtype, pd.CategoricalDtype):
            out[col] = s.astype("string")
        elif isinstance(s.dtype, pd.DatetimeTZDtype):
            out[col] = s.dt.tz_convert("UTC")
        elif s.dtype == object:
            nested = s.map(lambda v: isinstance(v, (list, tuple, set, dict)))
            if nested.any():
                out[col] = s.map(
                    lambda v: "; ".join(map(str, v)) if isinstance(v, (list, tuple, set))
                    else (str(v) if isinstance(v, dict) else v)
                )
    out.attrs = {}
    return out


def write_text(text: str, path: str | os.PathLike, *, encoding: str = "utf-8") -> Path:
    """Write ``text`` atomically to ``path`` and return the path."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding=encoding)
    return Path(path)


def write_frame(
    frame: pd.DataFrame | gpd.GeoDataFrame,
    path: str | os.PathLike,
    *,
    layer: str | None = None,
) -> Path:
    """Write a (Geo)DataFrame atomically; the format follows the suffix.

    ``.gpkg`` (with ``layer``), ``.geojson``, ``.parquet`` (GeoParquet when the
    frame has geometry) and ``.csv`` (geometry dropped) are supported.
    """
    dest = Path(path)
    suffix = dest.suffix.lower()
    frame = for_file(frame)
    with atomic_path(dest) as tmp:
        if suffix == ".csv":
            out = pd.DataFrame(frame.drop(columns="geometry", errors="ignore"))
            out.to_csv(tmp, index=False)
        elif suffix in {".parquet", ".geoparquet"}:
            frame.to_parquet(tmp, index=False)
        elif suffix in {".gpkg", ".geojson", ".json", ".fgb", ".shp"}:
            if not isinstance(frame, gpd.GeoDataFrame):
                raise InputFormatError(f"{dest}: a {suffix} file needs a GeoDataFrame")
            kwargs = {"layer": layer} if layer and suffix == ".gpkg" else {}
            frame.to_file(tmp, engine="pyogrio", **kwargs)
        else:
            raise InputFormatError(
                f"{dest}: unknown output format {suffix!r}; use .gpkg, .parquet, .geojson or .csv"
            )
    return dest


def write_layers(layers: Mapping[str, gpd.GeoDataFrame], path: str | os.PathLike) -> Path:
    """Write several layers into one GeoPackage atomically (all or nothing)."""
    dest = Path(path)
    with atomic_path(dest) as tmp:
        for name, frame in layers.items():
            frame = for_file(frame)
            if isinstance(frame, gpd.GeoDataFrame):
                frame.to_file(tmp, layer=name, engine="pyogrio")
            else:  # attribute-only table: GPKG supports it through pyogrio
                import pyogrio

                pyogrio.write_dataframe(pd.DataFrame(frame), tmp, layer=name)
    return dest
