"""INSEE Filosofi gridded income (*données carroyées*), any vintage.

:func:`load_grid` reads a file; :func:`harmonise_grid` does the same on a frame
already in memory (pure: the input is not modified). Both return the
**canonical grid frame** every later stage uses:

========================  ===================================================
column                    meaning
========================  ===================================================
``cell_id``               INSEE id ``CRS3035RES200mN{y}E{x}`` (unique)
``cell_x``, ``cell_y``    lower-left corner in the id's CRS (int, metres)
``cell_size``             side in metres (200 for *carreaux*, 1000 for 1 km)
``ind``                   individuals (*individus*)
``men``                   households (*ménages*)
``men_pauv``              poor households (*ménages pauvres*, < 60 % median)
``ind_snv``               **sum** of individuals' standard of living (EUR)
``mean_std_living``       ``ind_snv / ind``: **mean** standard of living
``poverty_rate``          ``men_pauv / men`` (fraction, 0-1)
``imputed``               INSEE imputed the cell (< 11 households), bool
``commune``               commune code (2015 ``Depcom``; 2019 first code of
                          ``lcog_geo``), when the file has it
other Filosofi variables  lower case (``men_1ind``, ``log_soc``, ``ind_65_79``...)
========================  ===================================================

Vintages differ in column names (domain brief §3): 2015 ``Idcar_200m``/
``IdINSPIRE``, ``I_est_cr`` and capitalised names; 2017 ``Idcar_200m``,
``I_est_200``; 2019 lower case, ``idcar_200m``, ``i_est_200``, ``lcog_geo``.
The vintage is detected from the columns (or given). Derived grids with other
names (a population column, a mean standard of living, a poverty ratio...) are
read through a ``columns={canonical: source}`` mapping.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS

from .._validate import Problems, example_rows, require_columns, to_numeric
from ..cellid import cell_squares, parse_cell_ids
from ..errors import InputFormatError, MissingColumnsError, ValidationError
from ._common import apply_mapping, duplicated_codes, outside_area_of_use
from ._read import read_table

__all__ = ["COUNT_COLUMNS", "detect_vintage", "harmonise_grid", "load_grid", "parse_columns"]

#: Filosofi count variables, canonical (lower-case) names.
COUNT_COLUMNS: tuple[str, ...] = (
    "ind", "men", "men_pauv", "men_1ind", "men_5ind", "men_prop", "men_fmp", "ind_snv",
    "men_surf", "men_coll", "men_mais", "log_av45", "log_45_70", "log_70_90", "log_ap90",
    "log_inc", "log_soc", "ind_0_3", "ind_4_5", "ind_6_10", "ind_11_17", "ind_18_24",
    "ind_25_39", "ind_40_54", "ind_55_64", "ind_65_79", "ind_80p", "ind_inc",
)  # fmt: skip

#: Source column (lower-cased) -> canonical name, by vintage family.
_RENAMES: dict[str, str] = {
    "idcar_200m": "cell_id",
    "idcar_1km": "cell_id",
    "idcar_nat": "cell_id",
    "i_est_cr": "imputed",
    "i_est_200": "imputed",
    "i_est_1km": "imputed_1km",
    "depcom": "commune",
}

_STRING_COLUMNS = (
    "idcar_200m", "idinspire", "id_carr1km", "id_carr_n", "id_car2010", "idcar_1km",
    "idcar_nat", "depcom", "lcog_geo", "groupe", "id", "code_iris", "iris",
)  # fmt: skip


def detect_vintage(columns: list[str]) -> int | None:
    """Guess the Filosofi vintage from column names; ``None`` for derived layouts.

    Examples
    --------
    >>> detect_vintage(["Idcar_200m", "IdINSPIRE", "I_est_cr", "Ind"])
    2015
    >>> detect_vintage(["idcar_200m", "i_est_200", "lcog_geo", "ind"])
    2019
    >>> detect_vintage(["id", "num_people"]) is None
    True
    """
    cols = set(columns)
    if "I_est_cr" in cols or "IdINSPIRE" in cols or "i_est_cr" in cols:
        return 2015
    if "I_est_200" in cols or "Idcar_200m" in cols:
        return 2017
    if "i_est_200" in cols or "idcar_200m" in cols or "lcog_geo" in cols:
        return 2019
    if "I_est_1km" in cols or "i_est_1km" in cols:
        return 2019 if "i_est_1km" in cols else 2015
    return None


def parse_columns(spec: str | Mapping[str, str] | None) -> dict[str, str]:
    """Parse ``"cell_id=id,ind=num_people"`` into ``{"cell_id": "id", "ind": "num_people"}``.

    Examples
    --------
    >>> parse_columns("cell_id=id, ind=num_people")
    {'cell_id': 'id', 'ind': 'num_people'}
    """
    if spec is None:
        return {}
    if isinstance(spec, Mapping):
        return {str(k): str(v) for k, v in spec.items()}
    out: dict[str, str] = {}
    for part in str(spec).split(","):
        part = part.strip()
        if not part:
            continue
        if "=" not in part:
            raise InputFormatError(
                f"column mapping {part!r} is not 'canonical=source' (e.g. ind=num_people)"
            )
        key, value = (p.strip() for p in part.split("=", 1))
        if not key or not value:
            raise InputFormatError(f"column mapping {part!r} has an empty side")
        out[key] = value
    return out


def _check_extent(cells: pd.DataFrame, epsg: int, problems: Problems) -> None:
    """Flag cells whose corner lies outside the CRS's area of use."""
    crs = CRS.from_epsg(epsg)
    out = outside_area_of_use(cells["cell_x"].to_numpy(), cells["cell_y"].to_numpy(), crs)
    if out.any():
        problems.add(
            f"cell coordinates outside the area of use of EPSG:{epsg} ({crs.area_of_use.name}) in "
            + example_rows(out, labels=list(cells["cell_id"].to_numpy()))
        )


def harmonise_grid(
    frame: pd.DataFrame,
    *,
    vintage: int | None = None,
    columns: Mapping[str, str] | str | None = None,
    source: str = "grid",
) -> gpd.GeoDataFrame:
    """Turn a raw or derived Filosofi grid frame into the canonical grid frame.

    Parameters
    ----------
    frame : DataFrame or GeoDataFrame
        Raw INSEE layout of any vintage, or a derived layout with ``columns``.
        It is not modified.
    vintage : int, optional
        Filosofi vintage (2015, 2017, 2019, 2021...); detected when omitted.
    columns : mapping or str, optional
        ``{canonical: source}`` (or ``"canonical=source,..."``); applied
        before the vintage renames, so it wins.
    source : str
        Named in error messages.

    Returns
    -------
    GeoDataFrame
        The canonical grid frame (see module docstring); ``attrs`` holds
        ``vintage`` and ``source``.

    Raises
    ------
    ValidationError
        Listing every problem found (duplicate ids, negative counts,
        ``men_pauv > men``, bad ids, invalid geometry...).

    Examples
    --------
    >>> import pandas as pd
    >>> raw = pd.DataFrame({"Idcar_200m": ["CRS3035RES200mN2466800E3482800"],
    ...                     "I_est_cr": [0], "Ind": [63.5], "Men": [42.0],
    ...                     "Men_pauv": [2.0], "Ind_snv": [1637813.5]})
    >>> g = harmonise_grid(raw)
    >>> round(float(g.loc[0, "mean_std_living"]), 1), g.crs.to_epsg(), g.attrs["vintage"]
    (25792.3, 3035, 2015)
    """
    if len(frame) == 0:
        raise ValidationError(source, ["the grid has no rows"])
    mapping = parse_columns(columns)
    detected = detect_vintage([str(c) for c in frame.columns])
    vintage = vintage if vintage is not None else detected
    geometry = None
    crs = None
    if isinstance(frame, gpd.GeoDataFrame) and frame.geometry.name in frame.columns:
        geometry = frame.geometry.to_numpy()
        crs = frame.crs
        data = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    else:
        data = pd.DataFrame(frame).copy()
    data = apply_mapping(data, mapping, source=source)
    lower = {}
    for col in data.columns:
        name = str(col) if str(col) in mapping else str(col).lower()
        lower[col] = _RENAMES.get(name, name) if str(col) not in mapping else str(col)
    data = data.rename(columns=lower)
    if "cell_id" not in data.columns and "idinspire" in data.columns:
        data["cell_id"] = data["idinspire"]
    if data.columns.duplicated().any():
        dups = sorted(set(data.columns[data.columns.duplicated()]))
        raise ValidationError(source, [f"several source columns map to {', '.join(map(repr, dups))}"])
    try:
        require_columns(data, ["cell_id"], source=source, what="grid")
    except MissingColumnsError as exc:
        raise ValidationError(
            source,
            [
                f"{exc}. Raw INSEE grids carry 'Idcar_200m'/'idcar_200m'; for a derived grid "
                "give a mapping, e.g. columns={'cell_id': 'id', 'ind': 'num_people'} "
                "(CLI: --columns cell_id=id,ind=num_people)"
            ],
        ) from None

    problems = Problems(source)
    ids = data["cell_id"].astype("string").str.strip()
    data["cell_id"] = ids
    try:
        parsed = parse_cell_ids(ids, source=source)
    except ValidationError as exc:
        problems.items.extend(exc.problems)
        parsed = None
    dup = duplicated_codes(ids)
    if dup.any():
        problems.add("duplicate cell ids in " + example_rows(dup, labels=list(ids.to_numpy())))

    numeric = [c for c in (*COUNT_COLUMNS, "mean_std_living", "poverty_rate") if c in data.columns]
    data = to_numeric(data, numeric, problems, nonnegative=True)
    if "men_pauv" in data and "men" in data:
        over = (data["men_pauv"] > data["men"] + 1e-6).to_numpy()
        if over.any():
            problems.add("men_pauv > men (more poor households than households) in " + example_rows(over))
    # no ind >= men check: imputed cells may hold fewer individuals than households after smoothing
    if "poverty_rate" in data and "men_pauv" not in data:
        high = (data["poverty_rate"] > 1).to_numpy()
        if high.any():
            problems.add(
                "poverty_rate above 1 (expected a fraction; divide percentages by 100) in "
                + example_rows(high, labels=list(data["poverty_rate"].to_numpy()))
            )
    if "imputed" in data.columns:
        flag = pd.to_numeric(data["imputed"].astype("string").str.strip().replace(
            {"True": "1", "False": "0", "true": "1", "false": "0"}), errors="coerce")
        bad = ~flag.isin([0, 1]).to_numpy()
        if bad.any():
            problems.add(
                "column 'imputed': values other than 0/1 in "
                + example_rows(bad, labels=list(data["imputed"].to_numpy()))
            )
        data["imputed"] = flag.fillna(0).astype(bool)
    else:
        data["imputed"] = False
    if "commune" not in data.columns and "lcog_geo" in data.columns:
        data["commune"] = data["lcog_geo"].astype("string").str.slice(0, 5)
    if "commune" in data.columns:
        data["commune"] = data["commune"].astype("string").str.strip().str.zfill(5)

    if parsed is not None:
        data["cell_x"] = parsed["cell_x"].to_numpy()
        data["cell_y"] = parsed["cell_y"].to_numpy()
        data["cell_size"] = parsed["cell_size"].to_numpy()
        epsg = int(parsed["epsg"].iloc[0])
        _check_extent(data, epsg, problems)
    else:
        epsg = 3035
    if geometry is not None:
        geoms = gpd.GeoSeries(geometry, crs=crs)
        empty = (geoms.is_empty | geoms.isna()).to_numpy()
        if empty.any():
            problems.add("empty or missing geometries in " + example_rows(empty))
        invalid = (~geoms.is_valid & ~empty).to_numpy()
        if invalid.any():
            problems.add("invalid geometries in " + example_rows(invalid))
        if crs is None:
            problems.add("the file has geometries but no CRS")
    problems.raise_if_any()

    # derived measures: computed from counts when the counts exist
    if "ind_snv" in data and "ind" in data and "mean_std_living" not in mapping:
        with np.errstate(divide="ignore", invalid="ignore"):
            data["mean_std_living"] = np.where(data["ind"] > 0, data["ind_snv"] / data["ind"], np.nan)
    if "men_pauv" in data and "men" in data and "poverty_rate" not in mapping:
        with np.errstate(divide="ignore", invalid="ignore"):
            data["poverty_rate"] = np.where(data["men"] > 0, data["men_pauv"] / data["men"], np.nan)

    if geometry is not None:
        out = gpd.GeoDataFrame(data, geometry=geometry, crs=crs)
        if out.crs is not None and not CRS.from_user_input(out.crs).is_projected:
            out = out.to_crs(epsg)
    else:
        out = gpd.GeoDataFrame(
            data, geometry=cell_squares(data["cell_x"], data["cell_y"], data["cell_size"]), crs=epsg
        )
    first = ["cell_id", "cell_x", "cell_y", "cell_size"]
    derived = [c for c in ("mean_std_living", "poverty_rate", "imputed", "commune") if c in out]
    counts = [c for c in COUNT_COLUMNS if c in out]
    rest = [c for c in out.columns if c not in {*first, *derived, *counts, "geometry"}]
    out = out[[*first, *counts, *derived, *rest, "geometry"]]
    out = out.reset_index(drop=True)
    out.attrs = {"vintage": vintage, "source": source}
    return out


def load_grid(
    path: str | os.PathLike,
    *,
    layer: str | None = None,
    vintage: int | None = None,
    columns: Mapping[str, str] | str | None = None,
) -> gpd.GeoDataFrame:
    """Load an INSEE Filosofi 200 m (or 1 km) grid of any vintage.

    Parameters
    ----------
    path : path
        CSV, GeoPackage, shapefile, GeoJSON or (Geo)Parquet. Without geometry
        the squares are built from the cell ids, in the CRS the ids name.
    layer : str, optional
        Layer of a multi-layer file.
    vintage : int, optional
        Override the vintage detected from the column names.
    columns : mapping or str, optional
        ``{canonical: source}`` for derived layouts, e.g. the Lille grid:
        ``{"cell_id": "id", "ind": "num_people", "mean_std_living":
        "mean_std_living", "poverty_rate": "poverty_ratio", "imputed": "imputed"}``.

    Returns
    -------
    GeoDataFrame
        The canonical grid frame (see :mod:`cohesion_geo.loaders.grid`).

    Examples
    --------
    >>> from cohesion_geo.synthetic import synthetic_path
    >>> grid = load_grid(synthetic_path("grid"))
    >>> grid.crs.to_epsg(), int(grid["cell_size"].iloc[0])
    (3035, 200)
    """
    path = Path(path)
    frame = read_table(path, layer=layer, string_columns=_STRING_COLUMNS)
    return harmonise_grid(frame, vintage=vintage, columns=columns, source=str(path))
