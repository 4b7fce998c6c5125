"""Street networks on hand-made geometry with known answers (EPSG:2154, metres)."""

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import LineString, box

from geoapp.analysis import ANALYSIS_CRS
from geoapp.analysis.cuts import cut_corridors
from geoapp.analysis.network import (
    network_crossings,
    network_detour,
    network_factors,
    street_graph,
)


def frame(geoms, **columns):
    return gpd.GeoDataFrame(columns, geometry=list(geoms), crs=ANALYSIS_CRS)


def road_corridor():
    """A north-south road at x = 500 with both carriageways, across a 1 km square."""
    road = frame(
        [LineString([(500, -200), (500, 1200)]), LineString([(510, 1200), (510, -200)])],
        ligne=["N 1", "N 1"],
        mode=["ROUTE", "ROUTE"],
        kind=["route", "route"],
        strand=[0, 1],
    )
    return cut_corridors(road, box(0, 0, 1000, 1000), study_buffer_m=0)


def test_bridges_and_tunnels_crossing_a_road_are_its_crossings():
    corridors = road_corridor()
    network = frame(
        [
            LineString([(450, 300), (560, 300)]),  # bridge over both carriageways
            LineString([(450, 306), (560, 306)]),  # the other way's bridge: same crossing
            LineString([(450, 800), (560, 800)]),  # tunnel under
            LineString([(450, 600), (560, 600)]),  # building passage: not a crossing
            LineString([(100, 100), (200, 100)]),  # a bridge elsewhere
        ],
        bridge=["yes", "yes", None, None, "yes"],
        tunnel=[None, None, "yes", "building_passage", None],
        name=["Pont A", "Pont A", "Passage B", "Galerie", "Loin"],
    )
    found = network_crossings(network, corridors)
    assert found["name"].tolist() == ["Pont A", "Passage B"]
    assert found["kind"].tolist() == ["pont", "souterrain"]
    assert set(found["status"]) == {"existant"} and set(found["corridor_id"]) == {1}
    assert found.geometry.distance(corridors.geometry.iloc[0]).max() < 1e-6  # on the line
    assert sorted(found.geometry.y.round()) == [300.0, 800.0]


def test_graph_detours_follow_the_streets():
    # A ladder: two north-south streets 100 m apart joined only at y = 0 and y = 400.
    network = frame(
        [
            LineString([(0, 0), (0, 400)]),
            LineString([(100, 0), (100, 400)]),
            LineString([(0, 0), (100, 0)]),
            LineString([(0, 400), (100, 400)]),
            LineString([(0, 400), (0, 0)]),  # a duplicate edge is harmless
        ]
    )
    graph = street_graph(network)
    assert len(graph.nodes) == 4 and graph.matrix.nnz == 8  # 4 streets, both ways
    origins = np.array([[0, 200], [0, 0], [0, 0]])
    destinations = np.array([[100, 200], [100, 400], [100, 0]])
    factors = network_factors(graph, origins, destinations)
    # (0, 200) is on the west street: 200 m down it, 100 m across, 200 m up: 500 m for 100.
    assert factors[0] == pytest.approx(5.0)
    assert factors[1] == pytest.approx(500 / np.hypot(100, 400))
    assert factors[2] == pytest.approx(1.0)


def test_graph_detours_leave_out_far_or_unconnected_ends():
    network = frame([LineString([(0, 0), (100, 0)]), LineString([(500, 0), (600, 0)])])
    graph = street_graph(network)
    factors = network_factors(
        graph, np.array([[0, 0], [0, 0]]), np.array([[600, 0], [0, 1000]]), max_snap_m=150
    )
    assert np.isnan(factors).all()  # not connected; too far from any street


def test_the_road_itself_is_not_walked():
    road = LineString([(0, 0), (1000, 0)])
    network = frame(
        [
            road,
            LineString([(0, 0), (0, 300)]),
            LineString([(0, 300), (1000, 300)]),
            LineString([(1000, 300), (1000, 0)]),
        ]
    )
    graph = street_graph(network, exclude=road.buffer(5))
    factor = network_factors(graph, np.array([[0, 0]]), np.array([[1000, 0]]))
    assert factor[0] == pytest.approx(1.6)


def test_network_detour_measures_the_same_trips_beside_the_straight_line():
    corridors = road_corridor()  # the road at x = 500..510, kind "route"
    network = frame(
        [
            LineString([(250, 0), (250, 500)]),
            LineString([(250, 500), (750, 500)]),  # the one bridge over the road
            LineString([(750, 500), (750, 0)]),
            LineString([(505, 0), (505, 1000)]),  # the road itself: not a street
        ]
    )
    origins = np.array([[250.0, 0.0], [250.0, 900.0]])
    destinations = np.array([[750.0, 0.0], [750.0, 900.0]])
    found = network_detour(
        network, corridors, origins, destinations, np.array([1.2, np.inf]), max_snap_m=50
    )
    # (250, 0) -> (750, 0): 500 m up, 500 across, 500 down for 500 m; the second trip
    # has no crossing in the straight-line model and an end 400 m from any street.
    assert found.n_measured == 1 and found.n_trips == 1
    assert found.median == pytest.approx(3.0) and found.share_over_1_5 == 1.0
    assert found.straight_median == pytest.approx(1.2) and found.straight_share_over_1_5 == 0.0
