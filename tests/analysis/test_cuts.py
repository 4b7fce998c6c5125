"""Urban cuts and detours on hand-made geometry with literal expected values (EPSG:2154)."""

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal
from shapely.geometry import LineString, Point, box

from geoapp.analysis import ANALYSIS_CRS, RefusedInputError
from geoapp.analysis.cuts import (
    assign_crossings,
    assign_sides,
    corridor_exposure,
    cut_corridors,
    split_sides,
    station_crossings,
)
from geoapp.analysis.detour import detour_factors, pair_detours, what_if_crossing

SQUARE = box(0, 0, 1000, 1000)  # 100 ha


def lines(*specs, crs=ANALYSIS_CRS):
    """Rail lines from (ligne, mode, coordinates) triples."""
    return gpd.GeoDataFrame(
        {"ligne": [s[0] for s in specs], "mode": [s[1] for s in specs]},
        geometry=[LineString(s[2]) for s in specs],
        crs=crs,
    )


def crossings(*points, corridor_ids=None, kind="passerelle", status="existant"):
    return gpd.GeoDataFrame(
        {
            "corridor_id": pd.array(corridor_ids or [None] * len(points), dtype="Int64"),
            "kind": [kind] * len(points),
            "status": [status] * len(points),
        },
        geometry=[Point(p) for p in points],
        crs=ANALYSIS_CRS,
    )


ACROSS = lines(("RER B", "RER", [(-2000, 500), (3000, 500)]))


# --- corridors ------------------------------------------------------------------------


def test_identical_lines_make_one_corridor_counted_once():
    rail = lines(
        ("TRAIN K", "TRAIN", [(-2000, 500), (3000, 500)]),
        ("RER B", "RER", [(-2000, 500), (3000, 500)]),
    )
    corridors = cut_corridors(rail, SQUARE)
    assert corridors["corridor_id"].tolist() == [1]
    assert corridors["names"].tolist() == ["RER B, TRAIN K"]
    assert corridors["kind"].tolist() == ["voie ferrée"]
    assert corridors["length_in_m"].iloc[0] == pytest.approx(1000.0)
    assert corridors["length_near_m"].iloc[0] == pytest.approx(2000.0)  # square + 500 m


def test_parallel_lines_10_m_apart_make_one_corridor_with_joined_names():
    rail = lines(
        ("TRAIN K", "TRAIN", [(-2000, 510), (3000, 510)]),
        ("RER B", "RER", [(-2000, 500), (3000, 500)]),
    )
    corridors = cut_corridors(rail, SQUARE)
    assert len(corridors) == 1
    assert corridors["names"].iloc[0] == "RER B, TRAIN K"
    assert corridors["length_in_m"].iloc[0] == pytest.approx(1000.0)


def test_segments_of_one_line_are_merged_without_gaps():
    rail = lines(
        ("RER B", "RER", [(-2000, 500), (400, 500)]), ("RER B", "RER", [(400, 500), (3000, 500)])
    )
    corridors = cut_corridors(rail, SQUARE)
    assert corridors["length_in_m"].tolist() == pytest.approx([1000.0])


def test_distant_lines_are_separate_corridors_ordered_by_length_inside():
    rail = lines(
        ("TRAM 6", "TRAMWAY", [(-2000, 900), (300, 900)]),
        ("RER A", "RER", [(-2000, 100), (3000, 100)]),
    )
    corridors = cut_corridors(rail, SQUARE)
    assert corridors[["corridor_id", "kind", "names"]].values.tolist() == [
        [1, "voie ferrée", "RER A"],
        [2, "tramway", "TRAM 6"],
    ]
    assert corridors["length_in_m"].tolist() == pytest.approx([1000.0, 300.0])


def test_metro_lines_far_lines_and_no_lines_give_an_empty_frame():
    rail = lines(
        ("METRO 4", "METRO", [(-2000, 500), (3000, 500)]),
        ("RER E", "RER", [(-2000, 5000), (3000, 5000)]),
    )
    for data in (rail, rail.iloc[:0]):
        corridors = cut_corridors(data, SQUARE)
        assert corridors.empty
        assert corridors.crs == ANALYSIS_CRS
        assert {"corridor_id", "kind", "names", "length_in_m"} <= set(corridors.columns)


def test_kind_column_overrides_mode():
    rail = lines(("A86", "ROUTE", [(-2000, 500), (3000, 500)])).assign(kind="route")
    assert cut_corridors(rail, SQUARE)["kind"].tolist() == ["route"]


def test_branch_leaving_a_shared_corridor_stays_connected():
    rail = lines(
        ("RER B", "RER", [(-2000, 500), (3000, 500)]),
        ("TRAIN K", "TRAIN", [(-2000, 505), (300, 505), (1000, 900), (3000, 900)]),
    )
    corridors = cut_corridors(rail, SQUARE)
    assert corridors["names"].tolist() == ["RER B, TRAIN K"]
    assert shapely.get_num_geometries(corridors.geometry.iloc[0].buffer(0.01)) == 1
    assert split_sides(SQUARE, corridors)["side_id"].tolist() == [1, 2, 3]


def test_cut_corridors_leaves_its_input_unchanged():
    rail = lines(
        ("RER B", "RER", [(-2000, 500), (3000, 500)]),
        ("TRAIN K", "TRAIN", [(-2000, 510), (3000, 510)]),
    )
    before = rail.copy()
    cut_corridors(rail, SQUARE)
    assert_geodataframe_equal(rail, before)


# --- sides ----------------------------------------------------------------------------


def test_square_crossed_by_a_line_gives_two_sides_of_50_ha():
    sides = split_sides(SQUARE, cut_corridors(ACROSS, SQUARE))
    assert sides["side_id"].tolist() == [1, 2]
    assert sides["area_ha"].tolist() == pytest.approx([50.0, 50.0], abs=1e-6)
    assert sides.crs == ANALYSIS_CRS


def test_line_stopping_5_m_short_of_the_boundary_still_splits():
    short = lines(("RER B", "RER", [(5, 500), (995, 500)]))
    sides = split_sides(SQUARE, short)
    assert sides["area_ha"].tolist() == pytest.approx([50.0, 50.0], abs=1e-6)


def test_dead_end_does_not_split():
    dead_end = lines(("RER B", "RER", [(-500, 500), (600, 500)]))
    assert split_sides(SQUARE, dead_end)["area_ha"].tolist() == pytest.approx([100.0])


def test_small_piece_is_merged_into_its_neighbour():
    corner = lines(("RER B", "RER", [(-100, 200), (200, -100)]))  # cuts off 0.5 ha
    sides = split_sides(SQUARE, corner)
    assert sides["area_ha"].tolist() == pytest.approx([100.0])


def test_assign_sides_gives_nullable_side_ids():
    sides = split_sides(SQUARE, ACROSS)
    points = gpd.GeoDataFrame(
        geometry=[Point(500, 100), Point(500, 900), Point(5000, 0)],
        index=[10, 20, 30],
        crs=ANALYSIS_CRS,
    )
    got = assign_sides(points, sides)
    south = int(sides.loc[sides.contains(Point(500, 100)), "side_id"].iloc[0])
    expected = pd.Series(
        [south, 3 - south, pd.NA], index=[10, 20, 30], dtype="Int64", name="side_id"
    )
    pd.testing.assert_series_equal(got, expected)


# --- exposure -------------------------------------------------------------------------


def test_exposure_of_a_square_with_a_line_through_the_middle():
    assert corridor_exposure(SQUARE, ACROSS) == pytest.approx({100: 0.2, 250: 0.5, 500: 1.0})
    assert corridor_exposure(SQUARE, ACROSS.iloc[:0], distances=(50,)) == {50: 0.0}


# --- crossings ------------------------------------------------------------------------


def test_station_crossings_keep_stations_of_the_corridor_lines_once_per_stop_area():
    corridors = cut_corridors(
        lines(
            ("RER B", "RER", [(-2000, 500), (3000, 500)]),
            ("TRAIN K", "TRAIN", [(-2000, 510), (3000, 510)]),
        ),
        SQUARE,
    )
    stations = gpd.GeoDataFrame(
        {
            "nom": ["Gare A", "Gare A", "Gare B", "Gare C"],
            "ligne": ["RER B", "TRAIN K", "METRO 4", "RER B"],
            "id_zdc": [1, 1, 2, 3],
        },
        geometry=[Point(500, 520), Point(500, 505), Point(200, 500), Point(800, 900)],
        crs=ANALYSIS_CRS,
    )
    expected = gpd.GeoDataFrame(
        {
            "corridor_id": [1],
            "name": ["Gare A"],
            "kind": ["gare"],
            "status": ["existant"],
            "source": ["IDFM gares"],
            "id_zdc": [1],
            "offset_m": [5.0],
        },
        geometry=[Point(500, 500)],
        crs=ANALYSIS_CRS,
    )
    assert_geodataframe_equal(station_crossings(stations, corridors), expected)


def test_assign_crossings_fills_missing_corridor_with_the_nearest_one():
    corridors = cut_corridors(
        lines(
            ("RER A", "RER", [(-2000, 100), (3000, 100)]),
            ("TRAM 6", "TRAMWAY", [(-2000, 900), (300, 900)]),
        ),
        SQUARE,
    )
    given = crossings((50, 880), (50, 120), corridor_ids=[None, 2])
    before = given.copy()
    assert assign_crossings(given, corridors)["corridor_id"].tolist() == [2, 2]
    assert_geodataframe_equal(given, before)
    with pytest.raises(ValueError, match="kind"):
        assign_crossings(given.assign(kind="tunnel"), corridors)


# --- detours --------------------------------------------------------------------------


def test_pair_detours_known_answers():
    o, d = [(0, -100)], [(0, 100)]
    assert pair_detours(o, d, [(0, 0)]) == pytest.approx([1.0])
    assert pair_detours(o, d, [(300, 0)]) == pytest.approx([2 * math.hypot(300, 100) / 200])
    assert pair_detours(o, d, [(300, 0), (-50, 0)]) == pytest.approx(
        [2 * math.hypot(50, 100) / 200]
    )
    per_trip = np.array([[[300, 0], [np.nan, np.nan]], [[np.nan, np.nan]] * 2])
    got = pair_detours([(0, -100)] * 2, [(0, 100)] * 2, per_trip)
    assert got[0] == pytest.approx(2 * math.hypot(300, 100) / 200)
    assert got[1] == np.inf
    assert pair_detours(o, d, np.empty((0, 2))) == np.inf


def test_detour_factors_known_answer_on_a_two_node_grid():
    area = box(-100, -200, 100, 200)  # grid of 200 m: nodes (0, -100) and (0, 100)
    corridor = lines(("RER B", "RER", [(-500, 0), (500, 0)])).assign(corridor_id=1)
    stats = detour_factors(area, corridor, crossings((300, 0)), spacing_m=200)
    expected = 2 * math.hypot(300, 100) / 200
    assert (stats.n_pairs, stats.n_pairs_total, stats.n_pairs_no_crossing) == (1, 1, 0)
    assert (stats.median, stats.p90) == pytest.approx((expected, expected))
    assert stats.share_over_1_5 == 1.0
    assert stats.by_corridor == pytest.approx({1: expected})


def test_trips_across_a_corridor_without_crossing_are_counted_apart():
    corridors = cut_corridors(
        lines(
            ("RER B", "RER", [(-2000, 300), (3000, 300)]),
            ("RER C", "RER", [(-2000, 700), (3000, 700)]),
        ),
        SQUARE,
    )
    stats = detour_factors(SQUARE, corridors, crossings((500, 300)))  # 10 x 10 nodes
    assert stats.n_pairs_total == 100 * 99 // 2
    assert stats.n_pairs_no_crossing == 30 * 70  # nodes above y=700 x nodes below
    assert stats.n_pairs == 30 * 40  # below y=300 x between the lines
    assert stats.median >= 1.0
    assert list(stats.by_corridor) == [1]


def test_a_crossing_serves_only_the_sides_it_borders():
    # A T: the main line y=500 and a branch going north from (500, 500). Pieces: south (50
    # nodes), north-west and north-east (25 each). A footbridge on the branch only.
    tee = gpd.GeoDataFrame(
        {"corridor_id": [1]},
        geometry=[
            shapely.MultiLineString([[(-2000, 500), (3000, 500)], [(500, 500), (500, 3000)]])
        ],
        crs=ANALYSIS_CRS,
    )
    stats = detour_factors(SQUARE, tee, crossings((500, 800)))
    assert (stats.n_pairs, stats.n_pairs_no_crossing) == (25 * 25, 2 * 50 * 25)
    result = what_if_crossing(SQUARE, tee, crossings((500, 800)), Point(200, 505))
    assert (result.after.n_pairs, result.after.n_pairs_no_crossing) == (25 * 25 + 50 * 25, 50 * 25)


def test_trips_across_a_dead_end_go_round_its_end():
    # Three single-node squares; the line y=500 ends at (600, 500) inside their hull.
    area = shapely.MultiPolygon(
        [box(520, 420, 580, 480), box(520, 520, 580, 580), box(1400, 0, 1460, 60)]
    )
    dead_end = lines(("RER B", "RER", [(-500, 500), (600, 500)])).assign(corridor_id=1)
    stats = detour_factors(area, dead_end, crossings((0, 500)), spacing_m=60)
    # (550, 450) -> (550, 570) goes round the end; (550, 570) -> (1450, 30) passes beyond it.
    assert (stats.n_pairs_total, stats.n_pairs) == (3, 1)
    assert stats.median == pytest.approx((math.hypot(50, 50) + math.hypot(50, 70)) / 120)


def test_no_corridor_or_nothing_to_cross_gives_nan_stats():
    for corridors in (
        ACROSS.iloc[:0].assign(corridor_id=1),
        lines(("RER B", "RER", [(-500, 1500), (600, 1500)])).assign(corridor_id=1),
    ):
        stats = detour_factors(SQUARE, corridors, crossings((0, 500)))
        assert stats.n_pairs == 0
        assert math.isnan(stats.median) and math.isnan(stats.p90)


def test_adding_a_crossing_never_increases_a_detour():
    corridors = cut_corridors(ACROSS, SQUARE)
    existing = crossings((100, 500), (900, 500))
    rng = np.random.default_rng(7)
    for x in rng.uniform(-200, 1200, size=5):
        result = what_if_crossing(SQUARE, corridors, existing, Point(x, 510))
        before, after = result.before, result.after
        assert after.factors.shape == before.factors.shape
        assert np.all(after.factors <= before.factors)
        assert after.median <= before.median
        assert after.p90 <= before.p90
        assert after.share_over_1_5 <= before.share_over_1_5
        plain = detour_factors(SQUARE, corridors, existing)
        np.testing.assert_array_equal(plain.factors, before.factors)


def test_what_if_snaps_onto_the_corridor_and_helps():
    corridors = cut_corridors(ACROSS, SQUARE)
    result = what_if_crossing(SQUARE, corridors, crossings((100, 500)), Point(600, 520))
    assert (result.snapped.x, result.snapped.y) == pytest.approx((600, 500))
    assert result.offset_m == pytest.approx(20.0)
    assert result.corridor_id == 1
    assert result.after.median < result.before.median


def test_what_if_far_from_any_corridor_is_refused_and_leaves_inputs_unchanged():
    corridors = cut_corridors(ACROSS, SQUARE)
    existing = crossings((100, 500))
    kept = corridors.copy(), existing.copy()
    with pytest.raises(RefusedInputError) as caught:
        what_if_crossing(SQUARE, corridors, existing, Point(500, 920))
    assert isinstance(caught.value, ValueError)  # analysis knows no HTTP status
    assert str(caught.value) == (
        "Le franchissement est à 420 m de la coupure la "
        "plus proche : placez-le sur une voie (50 m au plus)."
    )
    assert_geodataframe_equal(corridors, kept[0])
    assert_geodataframe_equal(existing, kept[1])


def test_what_if_without_any_corridor_is_refused():
    corridors = cut_corridors(ACROSS, SQUARE).iloc[:0]
    with pytest.raises(RefusedInputError, match="^Aucune coupure cartographiée ici"):
        what_if_crossing(SQUARE, corridors, crossings((100, 500)).iloc[:0], Point(500, 500))


def test_subsampling_is_deterministic_and_capped():
    corridors = cut_corridors(ACROSS, SQUARE)
    first, second = (
        detour_factors(SQUARE, corridors, crossings((100, 500)), spacing_m=25, max_pairs=1000)
        for _ in range(2)
    )
    assert first.n_pairs_total <= 1000
    np.testing.assert_array_equal(first.factors, second.factors)


# --- argument checks ------------------------------------------------------------------


def test_wrong_crs_raises_value_error_naming_the_argument():
    corridors = cut_corridors(ACROSS, SQUARE)
    with pytest.raises(ValueError, match="^lines"):
        cut_corridors(ACROSS.set_crs("EPSG:4326", allow_override=True), SQUARE)
    with pytest.raises(ValueError, match="^corridors"):
        split_sides(SQUARE, corridors.to_crs("EPSG:3857"))
    with pytest.raises(ValueError, match="^crossings"):
        detour_factors(SQUARE, corridors, crossings((0, 500)).to_crs("EPSG:3857"))
    with pytest.raises(ValueError, match="^points"):
        assign_sides(gpd.GeoDataFrame(geometry=[Point(0, 0)]), split_sides(SQUARE, corridors))


def test_bad_area_and_distances_raise_value_error():
    with pytest.raises(ValueError, match="^area"):
        cut_corridors(ACROSS, LineString([(0, 0), (1, 1)]))
    with pytest.raises(ValueError, match="^merge_distance_m"):
        cut_corridors(ACROSS, SQUARE, merge_distance_m=-1)
    with pytest.raises(ValueError, match="^proposed"):
        what_if_crossing(SQUARE, cut_corridors(ACROSS, SQUARE), crossings((0, 500)), (500, 500))


def test_two_carriageways_of_one_road_form_one_corridor_counted_once():
    road = gpd.GeoDataFrame(
        {"ligne": ["N 118", "N 118"], "mode": ["ROUTE", "ROUTE"], "kind": ["route", "route"]},
        geometry=[LineString([(500, -200), (500, 1200)]), LineString([(512, 1200), (512, -200)])],
        crs=ANALYSIS_CRS,
    ).assign(strand=[0, 1])
    corridors = cut_corridors(road, SQUARE, study_buffer_m=0)
    assert len(corridors) == 1 and corridors["names"].iloc[0] == "N 118"
    assert corridors["kind"].iloc[0] == "route"
    assert corridors["length_in_m"].iloc[0] == pytest.approx(1000.0)  # not 2000: once
    sides = split_sides(SQUARE, corridors)
    assert sorted(sides["area_ha"].round(3)) == [50.0, 50.0]  # no strip between them
