"""CLI options the decree needs (review audit)."""

from __future__ import annotations

import json
import warnings

import pandas as pd
import pyogrio

from cohesion_geo.cli import main
from cohesion_geo.synthetic import synthetic_path


def _thresholds(tmp_path, extra, capsys):
    out = tmp_path / "q.gpkg"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code = main(["delineate", str(synthetic_path("grid")), "--national-median", "20000",
                     "--urban-median", "18000", *extra, "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    params = pyogrio.read_dataframe(out, layer="params", read_geometry=False).set_index("key")["value"]
    return json.loads(params["thresholds"])


def test_urban_unit_population_switches_the_weights_from_five_million(tmp_path, capsys):
    # a grid cut out of a larger unit (Paris) must be able to say how big the unit is
    assert _thresholds(tmp_path, [], capsys) == {"study_area": 11_700.0}        # 0.6 * (14,000 + 5,400)
    assert _thresholds(tmp_path, ["--urban-unit-population", "6000000"], capsys) == {"study_area": 11_200.0}
    assert _thresholds(tmp_path, ["--urban-unit-population", "4999999"], capsys) == {"study_area": 11_700.0}


def test_weigh_reads_a_semicolon_assignment_csv(tmp_path, capsys):
    # the cell -> quartier table was read with pd.read_csv (',' only): a French ';' file was refused
    grid, out = str(synthetic_path("grid")), tmp_path / "q.gpkg"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(["delineate", grid, "--out", str(out)]) == 0
        cells = pyogrio.read_dataframe(out, layer="cells", read_geometry=False)[["cell_id", "quartier_id"]]
        cells.to_csv(tmp_path / "a.csv", sep=";", index=False)
        code = main(["weigh", str(out), "--grid", grid, "--assignment", str(tmp_path / "a.csv"),
                     "--out", str(tmp_path / "r.csv")])
    assert code == 0, capsys.readouterr().err
    ranked = pd.read_csv(tmp_path / "r.csv")
    assert sorted(ranked["quartier_id"]) == sorted(cells["quartier_id"].unique())


def test_weigh_communes_file_without_crs_is_named(tmp_path, capsys):
    import geopandas as gpd
    import shapely

    grid, out = str(synthetic_path("grid")), tmp_path / "q.gpkg"
    communes = tmp_path / "communes.gpkg"  # GeoJSON would default to WGS84
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # writing a layer without CRS warns: that is the point
        gpd.GeoDataFrame({"commune": ["00101"]}, geometry=[shapely.box(0, 0, 1, 1)]).to_file(communes)
        assert main(["delineate", grid, "--out", str(out)]) == 0
        code = main(["weigh", str(out), "--grid", grid, "--communes", str(communes),
                     "--out", str(tmp_path / "r.csv")])
    assert code == 2
    assert f"{communes}: the commune layer has no CRS" in capsys.readouterr().err
    assert not (tmp_path / "r.csv").exists()
