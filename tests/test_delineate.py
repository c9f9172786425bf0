"""Delineation on constructed grids whose right answer is known."""

from __future__ import annotations


import numpy as np
import pandas as pd
import pytest
import shapely

from cohesion_geo.errors import CohesionGeoWarning, ConfigError, MissingColumnsError
from cohesion_geo.priority import REASONS, delineate
from cohesion_geo.priority import grouping as G

POOR, RICH = 9_000.0, 30_000.0
S = 12_000.0  # threshold passed explicitly in most tests


def picture_grid(picture: str, *, pop: float = 100.0, unit: str = "U1", origin=(3_800_000, 3_000_000)) -> pd.DataFrame:
    """Grid from a picture: 'P' poor cell, 'R' rich cell, '.' no cell; first line is the north.

    Every cell holds ``pop`` inhabitants; the urban unit is big enough to be searched.
    """
    lines = [line.strip() for line in picture.splitlines() if line.strip()]
    rows = []
    for r, line in enumerate(reversed(lines)):
        for c, ch in enumerate(line.strip()):
            if ch == ".":
                continue
            x, y = origin[0] + 200 * c, origin[1] + 200 * r
            rows.append(
                {
                    "cell_id": f"CRS3035RES200mN{y}E{x}",
                    "cell_x": x,
                    "cell_y": y,
                    "cell_size": 200,
                    "ind": pop,
                    "mean_std_living": POOR if ch == "P" else RICH,
                    "poverty_rate": 0.45 if ch == "P" else 0.05,
                    "imputed": False,
                    "urban_unit": unit,
                }
            )
    return pd.DataFrame(rows)


def run(grid: pd.DataFrame, **kw) -> object:
    kw.setdefault("rule", "official")
    kw.setdefault("threshold", S)
    kw.setdefault("national_median", 20_000)
    kw.setdefault("urban_unit_population", 50_000)
    return delineate(grid, **kw)


def ringed_core(*, pop: float) -> pd.DataFrame:
    """A 3x3 poor core (9,000 EUR) inside a ring of 16 cells at 16,000 EUR; poverty 0.1 everywhere."""
    grid = picture_grid(
        """
        RRRRR
        RPPPR
        RPPPR
        RPPPR
        RRRRR
        """,
        pop=pop,
    )
    grid.loc[grid.mean_std_living == RICH, "mean_std_living"] = 16_000.0
    grid["poverty_rate"] = 0.1
    return grid


TWO_BLOCKS = """
PPPRPPP
PPPRPPP
PPPRPPP
"""


def test_two_blocks_one_cell_apart_separate_without_bridging() -> None:
    res = run(picture_grid(TWO_BLOCKS, pop=120), bridge=0)
    assert len(res.quartiers) == 2
    assert sorted(res.quartiers["ind"]) == [1080.0, 1080.0]
    assert set(res.cells["reason"]) == {"flagged"}


def test_two_blocks_one_cell_apart_merged_with_bridging() -> None:
    res = run(picture_grid(TWO_BLOCKS, pop=120), bridge=1)
    assert len(res.quartiers) == 1
    q = res.quartiers.iloc[0]
    assert q["n_cells"] == 21 and q["ind"] == 21 * 120
    assert (res.cells["reason"] == "bridged").sum() == 3
    assert q.geometry.geom_type == "Polygon" and q.geometry.area == pytest.approx(21 * 40_000)


def test_bridging_through_uninhabited_gap_builds_one_polygon() -> None:
    res = run(picture_grid(TWO_BLOCKS.replace("R", "."), pop=120), bridge=1)
    assert len(res.quartiers) == 1
    q = res.quartiers.iloc[0]
    assert q["n_cells"] == 18  # the gap holds no cell ...
    assert q.geometry.area == pytest.approx(21 * 40_000)  # ... but its pixels join the polygon
    assert "bridged" not in set(res.cells["reason"])


def test_population_floor_999_dropped_1000_kept() -> None:
    pic = """
    PPPRRRPPP
    PPPRRRPPP
    PPPRRRPPP
    """
    grid = picture_grid(pic, pop=111.0)
    grid.loc[(grid.mean_std_living == POOR) & (grid.cell_x == 3_800_000) & (grid.cell_y == 3_000_000), "ind"] = 112.0
    # left block: 8 x 111 + 112 = 1,000; right block: 9 x 111 = 999
    res = run(grid)
    assert len(res.quartiers) == 1
    assert res.quartiers["ind"].iloc[0] == 1_000.0
    assert res.quartiers.geometry.iloc[0].bounds[0] == 3_800_000  # the left one
    assert len(run(grid, min_population=999).quartiers) == 2


HOLE = """
PPPPP
PPRPP
PPPPP
"""


def test_hole_filled() -> None:
    res = run(picture_grid(HOLE))
    assert len(res.quartiers) == 1
    q = res.quartiers.iloc[0]
    assert q["n_cells"] == 15 and q["ind"] == 1_500
    filled = res.cells[res.cells["reason"] == "filled"]
    assert filled["cell_id"].tolist() == ["CRS3035RES200mN3000200E3800400"]
    assert q.geometry.geom_type == "Polygon" and len(q.geometry.interiors) == 0
    assert q["mean_std_living"] == pytest.approx((14 * POOR + RICH) / 15)


def test_hole_kept_open_when_filling_is_off() -> None:
    res = run(picture_grid(HOLE, pop=80), fill_holes=False)
    q = res.quartiers.iloc[0]
    assert q["n_cells"] == 14
    assert len(q.geometry.interiors) == 1 and q.geometry.area == pytest.approx(14 * 40_000)


def test_enclave_absorbed_only_under_its_population_cap() -> None:
    pic = """
    PPPPPP
    PRRRRP
    PRRRRP
    PPPPPP
    """
    grid = picture_grid(pic, pop=100)
    res = run(grid)
    assert (res.cells["reason"] == "enclave").sum() == 8
    capped = run(grid, enclave_max_population=500)  # the enclave holds 800
    assert capped.quartiers["n_cells"].iloc[0] == 16
    assert "enclave" not in set(capped.cells["reason"])


def test_prune_drops_single_cell_appendage() -> None:
    pic = """
    PPPP.
    PPPPP
    PPPP.
    """
    res = run(picture_grid(pic), prune=1)
    assert res.quartiers["n_cells"].iloc[0] == 12
    assert "CRS3035RES200mN3000200E3800800" not in set(res.cells["cell_id"])
    assert run(picture_grid(pic), prune=0).quartiers["n_cells"].iloc[0] == 13


def test_queen_joins_diagonal_blocks_rook_does_not() -> None:
    pic = """
    PPP...
    PPP...
    PPP...
    ...PPP
    ...PPP
    ...PPP
    """
    grid = picture_grid(pic, pop=120)
    assert len(run(grid, contiguity="queen").quartiers) == 1
    assert len(run(grid, contiguity="rook").quartiers) == 2
    queen = run(grid, contiguity="queen").quartiers.geometry.iloc[0]
    assert queen.is_valid and queen.geom_type == "MultiPolygon"


def test_growth_stops_when_zone_mean_would_cross_the_line() -> None:
    # 3x3 core at 9,000 (900 inhabitants), ring of 16 neighbours at 14,000 with 100 each.
    # Zone mean below 12,000 allows k neighbours while (9 * 9,000 + 14,000 k) / (9 + k) < 12,000:
    # 81,000 + 14,000 k < 108,000 + 12,000 k  <=>  k < 13.5  -> 13 neighbours taken.
    pic = """
    RRRRR
    RPPPR
    RPPPR
    RPPPR
    RRRRR
    """
    grid = picture_grid(pic, pop=100)
    grid.loc[grid.mean_std_living == RICH, "mean_std_living"] = 14_000.0
    res = run(grid, grow=1, contiguity="queen", grow_factor=2.0, proxy_factor=1.0, fill_holes=False)
    q = res.quartiers.iloc[0]
    assert (res.cells["reason"] == "grown").sum() == 13
    assert q["n_cells"] == 22
    assert q["mean_std_living"] < S
    no_growth = run(grid, grow=0, min_population=0)
    assert no_growth.quartiers["n_cells"].iloc[0] == 9


def test_default_rule_growth_uses_zone_mean_against_k_times_s() -> None:
    grid = ringed_core(pop=100)
    # default: line = 1.25 x 12,000 = 15,000 (the ring at 16,000 is above it: not a core);
    # neighbours below 1.45 x 12,000 = 17,400 may join while the zone mean stays below 15,000:
    # (81,000 + 16,000 k) / (9 + k) < 15,000 <=> k < 54, so the whole rook ring (12 cells,
    # corners excluded: one ring only) joins.
    res = run(grid, rule="default")
    assert (res.cells["reason"] == "grown").sum() == 12
    assert res.quartiers["line"].iloc[0] == 15_000.0
    assert res.quartiers["mean_std_living"].iloc[0] == pytest.approx((9 * 9_000 + 12 * 16_000) / 21)
    tight = run(grid, rule="default", proxy_factor=11_000 / 12_000, grow_factor=1.45)
    # line 11,000: (81,000 + 16,000 k) / (9 + k) < 11,000 <=> k < 3.6: three neighbours
    assert (tight.cells["reason"] == "grown").sum() == 3
    assert res.params["contiguity"] == "rook" and res.params["grow"] == 1


def test_zones_never_cross_urban_units_and_small_units_skipped() -> None:
    left = picture_grid("PPP\nPPP\nPPP\nPPP", pop=100, unit="A")
    right = picture_grid("PPP\nPPP\nPPP\nPPP", pop=100, unit="B", origin=(3_800_600, 3_000_000))
    grid = pd.concat([left, right], ignore_index=True)
    res = delineate(grid, rule="official", threshold=S, national_median=20_000,
                    urban_unit_population={"A": 50_000, "B": 50_000})
    assert sorted(res.quartiers["urban_unit"]) == ["A", "B"]
    assert res.quartiers["ind"].tolist() == [1_200.0, 1_200.0]
    small = delineate(grid, rule="official", threshold=S, national_median=20_000,
                      urban_unit_population={"A": 50_000, "B": 9_999})
    assert small.quartiers["urban_unit"].tolist() == ["A"]
    assert small.params["eligible_units"] == ["A"]


def test_commune_to_urban_unit_table_and_rural_communes() -> None:
    grid = picture_grid("PPPP\nPPPP\nPPPP", pop=100).drop(columns="urban_unit")
    grid["commune"] = np.where(grid.cell_x < 3_800_400, "59350", "59999")
    table = pd.DataFrame({"commune": ["59350", "59999"], "urban_unit": ["59702", "59000"],
                          "rural": [False, True]})
    res = delineate(grid, rule="official", threshold=S, national_median=20_000, urban_units=table,
                    urban_unit_population={"59702": 1_000_000}, min_population=500)
    assert res.quartiers["urban_unit"].tolist() == ["59702"]
    assert res.quartiers["communes"].tolist() == ["59350"]
    assert res.quartiers["n_cells"].tolist() == [6]


def test_no_urban_units_warns_and_uses_one_unit() -> None:
    grid = picture_grid(HOLE, pop=1_000).drop(columns="urban_unit")
    with pytest.warns(CohesionGeoWarning, match="one urban unit"):
        res = delineate(grid, rule="official", threshold=S, national_median=20_000)
    assert res.quartiers["urban_unit"].tolist() == ["study_area"]
    assert "one urban unit" in res.params["urban_units"]


def test_threshold_from_formula_and_estimated_median() -> None:
    grid = picture_grid(HOLE, pop=1_000)
    res = delineate(grid, rule="official", national_median=20_000)
    # median of cell means (pop-weighted) = 9,000; S = 0.6 * (14,000 + 2,700) = 10,020 -> 10,100
    assert res.params["urban_medians"] == {"U1": 9_000.0}
    assert res.params["thresholds"] == {"U1": 10_100.0}
    assert res.quartiers["threshold"].tolist() == [10_100.0]
    assert res.params["national_median_source"] == "given"


def test_vintage_selects_the_built_in_national_median() -> None:
    grid = picture_grid(HOLE, pop=1_000)
    res = delineate(grid, rule="official", vintage=2017, urban_median=21_000)
    assert res.params["national_median"] == 20_820
    assert res.params["thresholds"]["U1"] == 12_600.0  # 0.6 * (14,574 + 6,300) = 12,524.4
    with pytest.warns(CohesionGeoWarning, match="vintage unknown"):
        delineate(grid, rule="official", urban_median=21_000)


def test_overseas_variant_uses_communes_and_each_departements_median() -> None:
    # La Réunion (974): 8 cells at 6,000 EUR and 4 at 12,000 -> département median 6,000;
    # Martinique (972): 12 cells at 10,000 -> 10,000. The grid-wide median would be 10,000 for both.
    gp = picture_grid("PPPP\nPPPP\nRRRR", pop=150).drop(columns="urban_unit")
    gp["mean_std_living"] = np.where(gp.mean_std_living == POOR, 6_000.0, 12_000.0)
    gp["commune"] = "97411"
    mq = picture_grid("PPPP\nPPPP\nPPPP", pop=150, origin=(3_810_000, 3_000_000)).drop(columns="urban_unit")
    mq["mean_std_living"] = 10_000.0
    mq["commune"] = "97209"
    grid = pd.concat([gp, mq], ignore_index=True)
    res = delineate(grid, rule="official", variant="overseas", national_median=20_000,
                    urban_unit_population={"97411": 20_000, "97209": 20_000})
    assert res.params["urban_medians"] == {"97411": 6_000.0, "97209": 10_000.0}
    # 0.6 * (0.3 * 20,000 + 0.7 * 6,000) = 6,120 -> 6,200; 0.6 * (6,000 + 7,000) = 7,800
    assert res.params["thresholds"] == {"97411": 6_200.0, "97209": 7_800.0}
    assert res.quartiers["urban_unit"].tolist() == ["97411"]
    assert res.quartiers["n_cells"].tolist() == [8]
    # communes under 15,000 inhabitants are not searched overseas
    small = delineate(grid, rule="official", variant="overseas", national_median=20_000,
                      urban_unit_population={"97411": 14_999, "97209": 20_000})
    assert small.quartiers.empty


def test_imputed_options() -> None:
    grid = picture_grid("PPPP\nPPPP\nPPPP", pop=100)
    grid["imputed"] = grid.cell_x == 3_800_000  # the western column (3 cells) is imputed
    core = run(grid, imputed="core", min_population=0)
    assert core.quartiers["n_cells"].tolist() == [12]
    assert core.quartiers["imputed_share"].iloc[0] == pytest.approx(0.25)
    excluded = run(grid, imputed="exclude", min_population=0)
    assert excluded.quartiers["n_cells"].tolist() == [9]
    joined = run(grid, imputed="join", min_population=0, grow=1)
    assert joined.quartiers["n_cells"].tolist() == [12]
    assert (joined.cells["reason"] == "grown").sum() == 3


def test_result_contract() -> None:
    grid = picture_grid(HOLE, pop=100)
    grid["men"] = 40.0
    grid["men_pauv"] = np.where(grid.mean_std_living == POOR, 20.0, 2.0)
    grid["commune"] = "59350"
    res = run(grid)
    q = res.quartiers
    for col in ("quartier_id", "ind", "men", "men_pauv", "mean_std_living", "poverty_rate",
                "imputed_share", "n_cells", "communes", "threshold", "rule", "geometry"):
        assert col in q.columns, col
    assert q["quartier_id"].tolist() == ["CQ0001"]
    assert q["men"].iloc[0] == 600 and q["men_pauv"].iloc[0] == 14 * 20 + 2
    assert q["poverty_rate"].iloc[0] == pytest.approx(282 / 600)
    assert q["communes"].iloc[0] == "59350"
    assert q.crs.to_epsg() == 3035 and q.is_valid.all()
    assert list(res.cells.columns) == ["cell_id", "quartier_id", "reason"]
    assert set(res.cells["reason"].cat.categories) == set(REASONS)
    assert res.params["rule"] == "official" and res.params["min_population"] == 1_000


def test_lisa_and_composite_rules_use_the_same_machinery() -> None:
    grid = picture_grid(TWO_BLOCKS, pop=120)
    hh = pd.Series(np.where(grid.mean_std_living == POOR, "HH", "ns"), index=grid.index)
    res = run(grid, rule="lisa_hh", labels=hh, bridge=1)
    assert len(res.quartiers) == 1 and res.quartiers["n_cells"].iloc[0] == 21
    score = pd.Series(np.where(grid.mean_std_living == POOR, 2.0, -1.0), index=grid.index)
    # 3 of 21 cells (14 %) score -1: the 10th population-weighted percentile is -1
    comp = run(grid, rule="composite", score=score, percentile=10)
    assert comp.quartiers["n_cells"].tolist() == [9, 9]
    assert run(grid, rule="composite", score=score, percentile=50).quartiers.empty  # nothing above 2
    with pytest.raises(ConfigError, match="labels"):
        run(grid, rule="lisa_hh")
    with pytest.raises(ConfigError, match="cannot grow"):
        run(grid, rule="lisa_hh", labels=hh, grow=1)


def test_poverty_rate_rule() -> None:
    grid = picture_grid(TWO_BLOCKS, pop=120)
    res = run(grid, rule="poverty_rate", poverty_level=0.4)
    assert len(res.quartiers) == 2
    assert res.quartiers["poverty_rate"].tolist() == pytest.approx([0.45, 0.45])
    assert run(grid, rule="poverty_rate", poverty_level=0.5).quartiers.empty


def test_errors_name_the_problem() -> None:
    grid = picture_grid(HOLE)
    with pytest.raises(ConfigError, match="unknown rule"):
        run(grid, rule="magic")
    with pytest.raises(ConfigError, match="contiguity"):
        run(grid, contiguity="bishop")
    with pytest.raises(MissingColumnsError, match="ind"):
        run(grid.drop(columns="ind"))


def test_input_not_modified_and_row_order_irrelevant() -> None:
    grid = picture_grid(TWO_BLOCKS + "RRRRRRR\nPPPPPPP\n", pop=120)
    before = grid.copy()
    a = run(grid, bridge=1, rule="default")
    pd.testing.assert_frame_equal(grid, before)
    shuffled = grid.sample(frac=1.0, random_state=5)
    b = run(shuffled, bridge=1, rule="default")
    pd.testing.assert_frame_equal(a.cells, b.cells)
    pd.testing.assert_frame_equal(
        a.quartiers.drop(columns="geometry"), b.quartiers.drop(columns="geometry")
    )
    assert all(x.equals(y) for x, y in zip(a.quartiers.geometry, b.quartiers.geometry))


def test_grouping_primitives() -> None:
    m = np.zeros((5, 7), dtype=bool)
    m[1:4, 1:3] = m[1:4, 4:6] = True
    assert G.label_zones(m)[1] == 2
    assert G.label_zones(G.bridge_gaps(m, gap=1))[1] == 1
    assert G.zone_sums(G.label_zones(m)[0], np.ones_like(m, dtype=float)).tolist() == [0.0, 6.0, 6.0]
    ring = np.ones((4, 4), dtype=bool)
    ring[1:3, 1:3] = False
    padded = np.pad(ring, 1)
    assert G.fill_holes(padded).sum() == 16
    pop = np.zeros_like(padded, dtype=float)
    pop[2:4, 2:4] = 10.0
    assert G.fill_holes(padded, population=pop, max_population=39).sum() == 12
    assert G.fill_holes(padded, population=pop, max_population=40).sum() == 16


def test_iris_touched_listed() -> None:
    import geopandas as gpd

    grid = picture_grid(TWO_BLOCKS, pop=120)
    x0, y0 = 3_800_000, 3_000_000
    iris = gpd.GeoDataFrame(
        {"iris": ["593500101", "593500102", "593500103"]},
        geometry=[shapely.box(x0, y0, x0 + 700, y0 + 600), shapely.box(x0 + 700, y0, x0 + 1400, y0 + 600),
                  shapely.box(x0, y0 + 600, x0 + 1400, y0 + 1200)],  # the third only touches the edge
        crs=3035,
    )
    res = run(grid, iris=iris)
    assert res.quartiers["iris"].tolist() == ["593500101", "593500102"]


# --- zone-level options (off by default; measured on Lille in docs/delineation.md §7) ---


def test_peel_boundary_drops_only_rich_edge_cells() -> None:
    # 4 x 4 zone; one edge cell and one interior cell above the limit: only the edge one goes
    m = np.ones((4, 4), dtype=bool)
    v = np.full((4, 4), 1.0)
    v[0, 1] = v[1, 1] = 9.0
    out = G.peel_boundary(m, value=v, limit=5.0)
    assert not out[0, 1] and out[1, 1] and int(out.sum()) == 15
    # NaN is never above the limit; keep= protects cells; two passes reach the newly exposed cell
    v[0, 1] = np.nan
    assert G.peel_boundary(m, value=v, limit=5.0).all()
    v[0, 1] = 9.0
    assert G.peel_boundary(m, value=v, limit=5.0, keep=v > 5).all()
    assert int(G.peel_boundary(m, value=v, limit=5.0, passes=2).sum()) == 14


def test_peel_option_removes_better_off_fringe() -> None:
    # 3x3 poor core (9,000) with a rook ring at 16,000 grown in by the default rule (line 15,000);
    # peel=1.3 (15,600 EUR) drops the grown ring again: its cells are all on the edge
    grid = ringed_core(pop=120)
    assert run(grid, rule="default").quartiers["n_cells"].iloc[0] == 21
    peeled = run(grid, rule="default", peel=1.3)
    assert peeled.quartiers["n_cells"].iloc[0] == 9 and set(peeled.cells["reason"]) == {"flagged"}
    assert peeled.params["peel"] == 1.3
    assert run(grid, rule="default", peel=1.4).quartiers["n_cells"].iloc[0] == 21  # 16,800 > 16,000


def test_poverty_cap_keeps_only_poverty_seeds_below_the_cap() -> None:
    # two blocks of 9 cells, both with 45 % poor households; means 16,000 and 20,000.
    # default: both seed (poverty >= 0.30); cap 1.5 x 12,000 = 18,000 keeps only the first
    grid = picture_grid(TWO_BLOCKS.replace("R", "."), pop=120)
    left = grid.cell_x < 3_800_000 + 600
    grid.loc[left, "mean_std_living"] = 16_000.0
    grid.loc[~left, "mean_std_living"] = 20_000.0
    assert len(run(grid, rule="default", grow=0).quartiers) == 2
    capped = run(grid, rule="default", grow=0, poverty_cap=1.5)
    assert len(capped.quartiers) == 1 and capped.quartiers["mean_std_living"].iloc[0] == 16_000.0
    assert capped.params["poverty_cap"] == 1.5


def test_zone_tests_mean_median_poverty_and_density() -> None:
    # one zone of 9 poverty-seeded cells: 5 at 14,000 (100 inh.) and 4 at 17,000 (200 inh.);
    # line 1.25 x 12,000 = 15,000. Zone mean (5 x 1.4M + 4 x 3.4M) / 1,300 = 15,846 > line;
    # zone median of cell means (population-weighted): 17,000 (800 of 1,300 inhabitants) > line.
    grid = picture_grid("PPP\nPPP\nPPP", pop=100)
    rich = grid.index[:4]
    grid.loc[:, "mean_std_living"] = 14_000.0
    grid.loc[rich, ["mean_std_living", "ind"]] = [17_000.0, 200.0]
    base = dict(rule="default", grow=0)
    assert len(run(grid, **base).quartiers) == 1
    assert len(run(grid, **base, zone_test="mean").quartiers) == 0
    assert len(run(grid, **base, zone_test="median").quartiers) == 0
    assert len(run(grid, **base, zone_test="mean", proxy_factor=16_000 / 12_000).quartiers) == 1  # 15,846 < 16,000
    # median 17,000 is not below 17,000, but below 17,001
    assert len(run(grid, **base, zone_test="median", proxy_factor=17_000 / 12_000).quartiers) == 0
    assert len(run(grid, **base, zone_test="median", proxy_factor=17_001 / 12_000).quartiers) == 1
    # poverty rate 0.45 everywhere: a 0.45 floor keeps the zone, 0.46 drops it
    assert len(run(grid, **base, min_zone_poverty=0.45).quartiers) == 1
    assert len(run(grid, **base, min_zone_poverty=0.46).quartiers) == 0
    # density: 1,300 inhabitants on 9 x 0.04 km2 = 3,611 inh./km2
    assert len(run(grid, **base, min_density=3_600).quartiers) == 1
    assert len(run(grid, **base, min_density=3_700).quartiers) == 0
    with pytest.raises(ConfigError):
        run(grid, **base, zone_test="mode")


def test_quartier_statistics_blanked_under_secrecy_on_a_grid_without_households() -> None:
    # derived layout (no 'men'): 2 poor cells of 10 inhabitants = 20 < 11 x 2.2 households' worth
    grid = picture_grid("PP", pop=10.0)
    res = run(grid, min_population=0)
    row = res.quartiers.iloc[0]
    assert row["ind"] == 20.0 and row["n_cells"] == 2
    assert np.isnan(row["mean_std_living"]) and np.isnan(row["poverty_rate"])
    big = run(picture_grid("PP", pop=13.0), min_population=0).quartiers.iloc[0]  # 26 inhabitants: shown
    assert big["mean_std_living"] == POOR
