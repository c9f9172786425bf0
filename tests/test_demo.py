"""The main job: ``cohesion-geo demo`` on the synthetic territory and on real Bordeaux."""

from __future__ import annotations

import geopandas as gpd
import pyogrio
import pytest

from cohesion_geo.cli import main
from cohesion_geo.demo import run_demo


@pytest.fixture()
def no_real_data(tmp_path, monkeypatch):
    """Point the data directory at an empty folder: the demo must fall back to synthetic."""
    empty = tmp_path / "empty-data"
    empty.mkdir()
    monkeypatch.setenv("COHESION_GEO_DATA", str(empty))
    return empty


def test_demo_falls_back_to_the_synthetic_territory(no_real_data, tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "Synthville, the embedded SYNTHETIC territory" in printed
    layers = dict(pyogrio.list_layers(out / "inputs.gpkg"))
    assert {"cells", "iris", "facilities", "reports_by_cell", "finance", "urban_units"} <= set(layers)
    cells = gpd.read_file(out / "inputs.gpkg", layer="cells")
    reports = gpd.read_file(out / "inputs.gpkg", layer="reports_by_cell")
    # reports are written at their cell centre only, and without their comment
    assert "comment" not in reports.columns
    centres = reports.to_crs(3035).geometry
    for coord in (centres.x, centres.y):  # cell centres, up to the reprojection round trip
        steps = (coord - 100) / 200
        assert (steps - steps.round()).abs().max() < 1e-4
    assert len(cells) == len(set(cells["cell_id"]))
    assert (out / "report.html").is_file()
    for name in ("official", "poverty_bridged", "isolation_residents"):
        assert (out / name / "quartiers.gpkg").is_file() and (out / name / "map.html").is_file()


@pytest.mark.realdata
@pytest.mark.filterwarnings("ignore:.*facilities without coordinates:cohesion_geo.errors.DroppedRowsWarning")
def test_demo_on_real_bordeaux(real_data_dir, tmp_path):
    result = run_demo(tmp_path / "demo", data_dir=real_data_dir, progress=False, echo=lambda s: None)
    assert result.territory == "bordeaux" and result.real_data
    counts = dict(zip(result.summary["layer"], result.summary["count"], strict=True))
    assert counts["grid cells"] == 6735
    assert counts["population"] == 725085
    assert counts["IRIS"] == 88
    assert counts["facilities"] == 860
    assert counts["communes in the grid"] == 41
    summary = result.run.summary().set_index("scenario")
    assert list(summary.index) == ["official", "poverty_bridged", "isolation_residents"]
    assert (summary["quartiers"] > 5).all()
    # every candidate quartier holds at least 1,000 inhabitants (the official floor)
    for r in result.run.results.values():
        assert (r.quartiers["ind"] >= 1000).all()
