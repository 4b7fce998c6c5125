"""Spatial questions asked of the store: experiments near a point, inside a box.

Points are placed by hand at known Lambert-93 offsets from a centre in Aulnay, so the
expected answers are literal; each backend must give them (PostGIS in SQL, SQLite through
its lon/lat index and a vectorised distance).
"""

import geopandas as gpd
import pytest
from pyproj import Transformer
from shapely import Point

from geoapp.analysis import ANALYSIS_CRS
from geoapp.layers import experiments_frame

AULNAY, SCEAUX = "aulnay-centre-gare", "sceaux-les-blagis"
CENTRE = (2.4953, 48.9381)
_TO_LONLAT = Transformer.from_crs(ANALYSIS_CRS, "EPSG:4326", always_xy=True)
_TO_METRIC = Transformer.from_crs("EPSG:4326", ANALYSIS_CRS, always_xy=True)


def offset(dx: float, dy: float) -> tuple[float, float]:
    """WGS84 (lon, lat) of the point ``dx``, ``dy`` metres (Lambert-93) from CENTRE."""
    x, y = _TO_METRIC.transform(*CENTRE)
    return _TO_LONLAT.transform(x + dx, y + dy)


@pytest.fixture
def place(store, make_values):
    """Store an experiment ``dx``, ``dy`` metres from CENTRE; its id."""

    def add(title, dx, dy, *, district=AULNAY, withdrawn=False):
        lon, lat = offset(dx, dy)
        values = make_values(title=title, lon=repr(lon), lat=repr(lat))
        created = store.create_experiment(values, district=district, user="ana")
        if withdrawn:
            store.withdraw_experiment(created["id"], expected_version=1, user="ana")
        return created["id"]

    return add


@pytest.fixture
def scattered(place):
    return {
        "east_100": place("Est 100 m", 100, 0),
        "north_149": place("Nord 149,9 m", 0, 149.9),
        "west_150": place("Ouest 150,1 m", -150.1, 0),
        "south_40": place("Sud 40 m", 0, -40),
        "withdrawn_10": place("Retirée 10 m", 10, 0, withdrawn=True),
        "sceaux_20": place("Autre quartier 20 m", 20, 0, district=SCEAUX),
        "far": place("Loin", 2000, 2000),
    }


def test_experiments_near_are_the_ones_within_the_radius_nearest_first(store, scattered):
    near = store.experiments_near(*CENTRE, 150)
    assert [r["title"] for r in near] == [
        "Autre quartier 20 m",
        "Sud 40 m",
        "Est 100 m",
        "Nord 149,9 m",
    ]
    # the registry keeps 6 decimals of a degree: a position is good to 0.06 m
    assert [r["distance_m"] for r in near] == pytest.approx([20, 40, 100, 149.9], abs=0.06)
    assert all(r["withdrawn"] is False and isinstance(r["objectives"], list) for r in near)


def test_experiments_near_filter_by_district_and_leave_one_out(store, scattered):
    near = store.experiments_near(*CENTRE, 150, district=AULNAY, exclude=scattered["south_40"])
    assert [r["id"] for r in near] == [scattered["east_100"], scattered["north_149"]]
    assert store.experiments_near(*CENTRE, 150, exclude=2**70)  # no such id: nobody left out
    assert store.experiments_near(*CENTRE, 10, district=AULNAY) == []
    assert [r["id"] for r in store.experiments_near(*CENTRE, 0, district=SCEAUX)] == []


def test_experiments_near_agree_with_the_analysis_measure(store, scattered):
    """The store's distances are the ones a GeoDataFrame in Lambert-93 measures, so the
    placement analysis, given the store's answer, finds what it found in every row."""
    everything = experiments_frame(store.list_experiments())
    centre = gpd.GeoSeries([Point(CENTRE)], crs="EPSG:4326").to_crs(ANALYSIS_CRS).iloc[0]
    distances = everything.distance(centre)
    expected = everything[distances <= 150].assign(d=distances).sort_values(["d", "id"])
    near = store.experiments_near(*CENTRE, 150)
    assert [r["id"] for r in near] == list(expected["id"])
    assert [r["distance_m"] for r in near] == pytest.approx(list(expected["d"]), abs=1e-6)


def test_experiments_in_bbox_include_the_edges_and_follow_the_filters(store, scattered):
    by_id = {r["id"]: r for r in store.list_experiments(include_withdrawn=True)}
    east = by_id[scattered["east_100"]]["lon"]  # two points sit exactly on the edges
    north = by_id[scattered["north_149"]]["lat"]
    west, south = CENTRE[0] - 0.001, by_id[scattered["south_40"]]["lat"] - 0.0001
    inside = store.experiments_in_bbox(west, south, east, north)
    assert [r["title"] for r in inside] == [
        "Est 100 m",
        "Nord 149,9 m",
        "Sud 40 m",
        "Autre quartier 20 m",
    ]  # the registry's order: district, then title
    assert [
        r["title"] for r in store.experiments_in_bbox(west, south, east, north, district=SCEAUX)
    ] == ["Autre quartier 20 m"]
    titles = [
        r["title"]
        for r in store.experiments_in_bbox(west, south, east, north, include_withdrawn=True)
    ]
    assert "Retirée 10 m" in titles
    assert store.experiments_in_bbox(west, south, east, north, theme="mobilité") == []
    shrunk = store.experiments_in_bbox(west, south, east - 1e-9, north - 1e-9)
    assert [r["title"] for r in shrunk] == ["Sud 40 m", "Autre quartier 20 m"]  # edges out


@pytest.mark.parametrize(
    "call",
    [
        lambda s: s.experiments_near(2.49, 48.93, -1),
        lambda s: s.experiments_near(2.49, 48.93, float("nan")),
        lambda s: s.experiments_near(200, 48.93, 10),
        lambda s: s.experiments_in_bbox(2.5, 48.9, 2.4, 49.0),
        lambda s: s.experiments_in_bbox(2.4, 48.9, float("inf"), 49.0),
    ],
    ids=["negative-radius", "nan-radius", "lon", "west-of-east", "infinite"],
)
def test_spatial_questions_refuse_bad_arguments(store, call):
    with pytest.raises(ValueError):
        call(store)


def test_map_points_are_the_listed_experiments_as_columns(store, scattered):
    points = store.experiment_map_points()
    listed = sorted(store.list_experiments(), key=lambda r: r["id"])
    assert points["id"] == [r["id"] for r in listed]
    assert scattered["withdrawn_10"] not in points["id"]
    for name in ("lon", "lat", "theme", "status", "title"):
        assert points[name] == [r[name] for r in listed]
    assert store.experiment_map_points(district=SCEAUX)["title"] == ["Autre quartier 20 m"]
    assert store.experiment_map_points(theme="mobilité")["id"] == []


def test_count_experiments_follows_the_filters(store, scattered):
    assert store.count_experiments() == len(store.list_experiments()) == 6
    assert store.count_experiments(district=AULNAY) == 5
    assert store.count_experiments(include_withdrawn=True) == 7
    assert store.count_experiments(theme="mobilité") == 0


def test_experiments_nearest_names_a_few_and_counts_them_all(store, scattered):
    rows, total = store.experiments_nearest(*CENTRE, 150, 2)
    assert [r["title"] for r in rows] == ["Autre quartier 20 m", "Sud 40 m"]
    assert [r["distance_m"] for r in rows] == pytest.approx([20, 40], abs=0.06)
    assert total == len(store.experiments_near(*CENTRE, 150)) == 4
    rows, total = store.experiments_nearest(
        *CENTRE, 150, 5, district=AULNAY, exclude=scattered["south_40"]
    )
    assert [r["id"] for r in rows] == [scattered["east_100"], scattered["north_149"]]
    assert total == 2 and all(isinstance(r["objectives"], list) for r in rows)
    assert store.experiments_nearest(*CENTRE, 10, 3, district=AULNAY) == ([], 0)
