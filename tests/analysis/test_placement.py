"""`assess_placement` on hand-made geometry (EPSG:2154, metres) with literal answers.

The district is a 1 km square; a rail corridor runs north-south through it at x = 500,
a tramway east-west at y = 900; two stations sit on the rail line outside the square.
"""

import json

import geopandas as gpd
import pytest
from geopandas.testing import assert_geodataframe_equal
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, box

from geoapp.analysis import ANALYSIS_CRS, DISPLAY_CRS
from geoapp.analysis.placement import DUPLICATE_RADIUS_M, NEARBY_LIMIT, Placement, assess_placement

SQUARE = box(0, 0, 1000, 1000)


def frame(data: dict, geometry: list, crs=ANALYSIS_CRS) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(data, geometry=geometry, crs=crs)


@pytest.fixture
def corridors():
    return frame(
        {"corridor_id": [1, 2], "names": ["RER Z", "TRAM 99"], "kind": ["voie ferrée", "tramway"]},
        [LineString([(500, -500), (500, 1500)]), LineString([(-500, 900), (1500, 900)])],
    )


@pytest.fixture
def stations():
    return frame(
        {"nom": ["Gare Sud", "Gare Nord"], "ligne": ["RER Z, TRAM 99", "RER Z"]},
        [Point(500, -200), Point(500, 1100)],
    )


@pytest.fixture
def experiments():
    # Listed out of distance order on purpose: the answer must be sorted.
    return frame(
        {
            "id": [10, 11, 12, 13],
            "title": ["Loin", "Voisine", "Collée", "Limite"],
            "theme": ["mobilité"] * 4,
        },
        [Point(900, 900), Point(680, 500), Point(550, 530), Point(550, 651)],
    )


@pytest.fixture
def sides():
    return frame({"side_id": [1, 2]}, [box(-500, -500, 500, 1500), box(500, -500, 1500, 1500)])


@pytest.fixture
def assess(corridors, stations, experiments, sides):
    def run(x, y, *, tolerance_m=50.0, **frames):
        args = {
            "corridors": corridors,
            "stations": stations,
            "experiments": experiments,
            "sides": sides,
            **frames,
        }
        return assess_placement(Point(x, y), SQUARE, tolerance_m=tolerance_m, **args)

    return run


def test_point_inside_the_district(assess):
    assert assess(550, 500) == Placement(
        inside=True,
        distance_outside_m=0.0,
        accepted=True,
        tolerance_m=50.0,
        nearest_cut={"names": "RER Z", "kind": "voie ferrée", "distance_m": 50.0},
        side_id=2,
        side_ids=[2],
        nearest_station={"nom": "Gare Nord", "ligne": "RER Z", "distance_m": 602.1},
        nearby_experiments=[
            {"id": 12, "title": "Collée", "distance_m": 30.0},
            {"id": 11, "title": "Voisine", "distance_m": 130.0},
        ],
        nearby_count=2,
    )


def test_the_answer_is_plain_json(assess):
    """The API returns it as is: no numpy scalars may leak."""
    data = json.loads(json.dumps(assess(550, 500).to_dict()))
    assert data["nearby_experiments"][0] == {"id": 12, "title": "Collée", "distance_m": 30.0}
    assert data["nearest_station"]["distance_m"] == 602.1


def test_point_outside_gives_its_distance_and_the_nearest_cut(assess):
    p = assess(1100, 500)
    assert (p.inside, p.distance_outside_m, p.accepted, p.tolerance_m) == (
        False,
        100.0,
        False,
        50.0,
    )
    assert p.nearest_cut == {"names": "TRAM 99", "kind": "tramway", "distance_m": 400.0}
    assert p.side_id == 2
    assert p.nearest_station == {"nom": "Gare Nord", "ligne": "RER Z", "distance_m": 848.5}
    assert p.nearby_experiments == []


def test_tolerance_accepts_points_just_outside(assess):
    near = assess(1030, 500)
    assert (near.inside, near.distance_outside_m, near.accepted) == (False, 30.0, True)
    corner = assess(1030, 1040)  # 30-40-50 triangle off the north-east corner
    assert (corner.distance_outside_m, corner.accepted) == (50.0, True)  # limit included
    assert assess(1100, 500, tolerance_m=100.0).accepted is True
    assert assess(1100, 500, tolerance_m=99.9).accepted is False


def test_zero_tolerance_accepts_only_the_perimeter(assess):
    assert assess(1000, 500, tolerance_m=0.0).accepted is True  # on the boundary
    assert assess(1000, 500, tolerance_m=0.0).inside is True
    assert assess(1000.5, 500, tolerance_m=0.0).accepted is False


def test_side_of_the_cut(assess):
    assert assess(450, 500).side_id == 1
    assert assess(550, 500).side_id == 2
    assert assess(2000, 500).side_id is None  # beyond the split study area
    assert assess(450, 500, sides=None).side_id is None


def test_nearby_experiments_stop_at_150_m(assess):
    assert DUPLICATE_RADIUS_M == 150.0
    found = assess(550, 500).nearby_experiments
    assert [e["title"] for e in found] == ["Collée", "Voisine"]  # "Limite" is 151 m away
    assert [e["title"] for e in assess(550, 502).nearby_experiments] == [
        "Collée",
        "Voisine",
        "Limite",
    ]


def test_the_experiment_being_moved_is_left_out_by_the_caller(assess, experiments):
    others = experiments[experiments["id"] != 12]
    assert assess(550, 500, experiments=others).nearby_experiments == [
        {"id": 11, "title": "Voisine", "distance_m": 130.0}
    ]


def test_multipolygon_district(corridors, stations, experiments):
    two = MultiPolygon([box(0, 0, 100, 100), box(300, 0, 400, 100)])
    p = assess_placement(
        Point(180, 50),
        two,
        tolerance_m=50.0,
        corridors=corridors,
        stations=stations,
        experiments=experiments,
    )
    assert (p.inside, p.distance_outside_m, p.accepted) == (False, 80.0, False)
    assert (
        assess_placement(
            Point(350, 50),
            two,
            tolerance_m=0.0,
            corridors=corridors,
            stations=stations,
            experiments=experiments,
        ).inside
        is True
    )


def test_empty_frames_give_empty_answers(assess, corridors, stations, experiments, sides):
    p = assess(
        550,
        500,
        corridors=corridors.iloc[0:0],
        stations=stations.iloc[0:0],
        experiments=experiments.iloc[0:0],
        sides=sides.iloc[0:0],
    )
    assert p == Placement(
        inside=True,
        distance_outside_m=0.0,
        accepted=True,
        tolerance_m=50.0,
        nearest_cut=None,
        side_id=None,
        nearest_station=None,
        nearby_experiments=[],
    )


def test_inputs_are_not_mutated(assess, corridors, stations, experiments, sides):
    copies = [gdf.copy() for gdf in (corridors, stations, experiments, sides)]
    assess(550, 500)
    for before, after in zip(copies, (corridors, stations, experiments, sides), strict=True):
        assert_geodataframe_equal(before, after)


@pytest.mark.parametrize("name", ["corridors", "stations", "experiments", "sides"])
def test_wrong_crs_is_a_value_error_naming_the_argument(assess, request, name):
    wrong = request.getfixturevalue(name).to_crs(DISPLAY_CRS)
    with pytest.raises(ValueError, match=name):
        assess(550, 500, **{name: wrong})


def test_missing_crs_is_a_value_error(assess, stations):
    with pytest.raises(ValueError, match="stations"):
        assess(550, 500, stations=stations.set_crs(None, allow_override=True))


@pytest.mark.parametrize("tolerance", [-1.0, float("nan")])
def test_bad_tolerance_is_a_value_error(assess, tolerance):
    with pytest.raises(ValueError, match="^tolerance_m : une distance positive ou nulle"):
        assess(550, 500, tolerance_m=tolerance)


@pytest.mark.parametrize(
    "name, column",
    [("corridors", "names"), ("stations", "nom"), ("experiments", "title"), ("sides", "side_id")],
)
def test_missing_column_is_a_value_error_naming_the_argument(assess, request, name, column):
    lacking = request.getfixturevalue(name).drop(columns=[column])
    with pytest.raises(ValueError, match=f"{name} : colonne"):
        assess(550, 500, **{name: lacking})


def test_a_crowded_spot_names_the_nearest_few_and_counts_the_rest(assess):
    crowd = frame(
        {"id": list(range(8)), "title": [f"E{i}" for i in range(8)]},
        [Point(550 + 10 * i, 500) for i in range(8)],
    )
    p = assess(550, 500, experiments=crowd)
    assert [e["id"] for e in p.nearby_experiments] == list(range(NEARBY_LIMIT))
    assert p.nearby_count == 8
    told = assess_placement(
        Point(550, 500),
        SQUARE,
        tolerance_m=50.0,
        corridors=crowd.iloc[0:0].assign(names="", kind=""),
        stations=crowd.iloc[0:0].assign(nom="", ligne=""),
        experiments=crowd.iloc[:2],
        nearby_count=40,
    )
    assert len(told.nearby_experiments) == 2 and told.nearby_count == 40


# Lines and areas --------------------------------------------------------------------------


@pytest.fixture
def assess_place(corridors, stations, experiments, sides):
    def run(place, *, tolerance_m=50.0):
        return assess_placement(
            place,
            SQUARE,
            tolerance_m=tolerance_m,
            corridors=corridors,
            stations=stations,
            experiments=experiments,
            sides=sides,
        )

    return run


def test_a_path_across_the_cut_touches_both_sides(assess_place):
    path = LineString([(300, 400), (800, 400)])  # crosses the rail at x = 500
    p = assess_place(path)
    assert (p.inside, p.distance_outside_m, p.accepted) == (True, 0.0, True)
    assert p.side_ids == [1, 2]
    assert p.side_id == 2  # its middle (550, 400), where the registry keeps its anchor
    assert p.nearest_cut == {"names": "RER Z", "kind": "voie ferrée", "distance_m": 0.0}
    # duplicates are measured from the whole line: "Voisine" (680, 500) is 100 m off it
    assert {e["title"]: e["distance_m"] for e in p.nearby_experiments} == {
        "Collée": 130.0,
        "Voisine": 100.0,
    }


def test_a_line_is_as_far_outside_as_its_farthest_part(assess_place):
    p = assess_place(LineString([(800, 500), (1100, 500)]))
    assert (p.inside, p.distance_outside_m, p.accepted) == (False, 100.0, False)
    assert assess_place(LineString([(800, 500), (1040, 500)])).accepted is True


def test_an_area_is_as_far_outside_as_its_farthest_point(assess_place):
    # the east tip (1090, 500) is 90 m beyond the square's east edge
    area = Polygon([(900, 100), (960, 100), (1090, 500), (960, 900), (900, 900)])
    p = assess_place(area)
    assert p.inside is False and p.distance_outside_m == pytest.approx(90.0, abs=0.1)
    inside = assess_place(Polygon([(600, 100), (900, 100), (900, 300), (600, 300)]))
    assert (inside.inside, inside.side_ids, inside.side_id) == (True, [2], 2)
