"""`geoapp.shapes`: what a line or area must be to enter the registry, its anchor and its
measures (Lambert-93 metres and hectares), read from GeoJSON or WKT."""

import json

import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, Point, Polygon

from geoapp.shapes import (
    MAX_VERTICES,
    ShapeError,
    anchor_of,
    from_stored,
    measures,
    parse_shape,
    place_geometry,
    shape_json,
    shape_wkt,
    to_lambert93,
)

LON, LAT = 2.3031, 48.7828  # Les Blagis


def near(*steps: tuple[float, float], unit: float = 0.001) -> list[list[float]]:
    """Coordinates ``unit`` degrees apart around Les Blagis (0.001° ~ 73 m east, 111 m
    north)."""
    return [[round(LON + x * unit, 6), round(LAT + y * unit, 6)] for x, y in steps]


def line(*steps, unit=0.001) -> dict:
    return {"type": "LineString", "coordinates": near(*steps, unit=unit)}


def area(*steps, unit=0.001) -> dict:
    ring = near(*steps, unit=unit)
    return {"type": "Polygon", "coordinates": [ring + [ring[0]]]}


def test_a_line_reads_from_geojson_text_dict_feature_and_wkt():
    shape = line((0, 0), (2, 1))
    expected = LineString(shape["coordinates"])
    text = json.dumps(shape)
    feature = {"type": "Feature", "geometry": shape, "properties": {}}
    for value in (shape, text, json.dumps(feature), expected.wkt, "  " + expected.wkt):
        assert parse_shape(value).equals(expected)
    assert parse_shape("") is None and parse_shape(None) is None and parse_shape("  ") is None


def test_a_stored_shape_round_trips_through_wkt_and_geojson():
    shape = shape_json(parse_shape(area((0, 0), (3, 0), (3, 2), (0, 2))))
    assert shape_json(parse_shape(shape_wkt(shape))) == shape
    assert shape_json(parse_shape(json.dumps(shape))) == shape
    assert shape_wkt(None) == ""


def test_coordinates_are_kept_to_six_decimals():
    shape = shape_json(parse_shape(line((0, 0), (1, 1), unit=0.0012345678)))
    assert shape["coordinates"][1] == [round(LON + 0.0012345678, 6), round(LAT + 0.0012345678, 6)]


def test_a_line_is_anchored_at_its_middle_and_measured_in_metres():
    geometry = parse_shape(line((0, 0), (4, 0)))
    lon, lat = anchor_of(geometry)
    metric = to_lambert93(geometry)
    anchor = to_lambert93(Point(lon, lat))
    assert metric.distance(anchor) < 0.1  # on the line
    assert metric.project(anchor) == pytest.approx(metric.length / 2, abs=0.1)
    found = measures(geometry)
    assert found["type"] == "ligne" and found["sommets"] == 2
    assert found["longueur_m"] == pytest.approx(metric.length, abs=0.1)
    assert 280 < found["longueur_m"] < 320  # 0.004° of longitude at 48.8° N is ~294 m


def test_an_area_is_anchored_inside_even_when_its_centre_is_not():
    # a U: its centroid falls in the notch, outside the area
    u = area((0, 0), (6, 0), (6, 6), (4, 6), (4, 2), (2, 2), (2, 6), (0, 6))
    geometry = parse_shape(u)
    assert not geometry.contains(geometry.centroid)
    assert geometry.contains(Point(anchor_of(geometry)))
    found = measures(geometry)
    metric = to_lambert93(geometry)
    assert found["type"] == "zone" and found["sommets"] == 8  # its closing point not again
    assert found["surface_ha"] == pytest.approx(metric.area / 10_000, abs=0.001)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"type": "Point", "coordinates": [LON, LAT]}, "une ligne (LineString) ou un polygone"),
        ({"type": "MultiLineString", "coordinates": [near((0, 0), (1, 1))]}, "une ligne"),
        ("pas une géométrie", "n’est pas une géométrie GeoJSON lisible"),
        ('{"type": "LineString", "coordinates": [[2.3, "x"]]}', "lisible"),
        ("[1, 2]", "lisible"),
        ("LINESTRING (2.3 48.7", "lisible"),
        ({"type": "LineString", "coordinates": []}, "est vide"),
        ({"type": "LineString", "coordinates": [[LON, LAT], [LON, LAT]]}, "ligne valide"),
        (line((0, 0), (60, 0)), "Le tracé mesure 4,4 km : 3 km au plus."),  # 60 x 73.4 m
        (area((0, 0), (10, 0), (10, 7), (0, 7)), " ha : 50 ha au plus."),  # 734 x 778 m
        ({"type": "LineString", "coordinates": [[LON, LAT], [LAT, LON]]}, "France métropolitaine"),
        ({"type": "LineString", "coordinates": [[LON, LAT], [12.0, LAT]]}, "France métropolitaine"),
        (area((0, 0), (4, 0), (0, 4), (4, 4)), "se recoupe elle-même"),  # a bow tie
        (area((0, 0), (1, 1), (2, 2)), "n’a pas de surface"),
    ],
)
def test_refusals_say_why_in_french(value, message):
    with pytest.raises(ShapeError) as caught:
        parse_shape(value)
    assert message in str(caught.value)


def test_an_oversized_area_gives_its_own_size():
    shape = area((0, 0), (10, 0), (10, 7), (0, 7))
    hectares = shapely.from_geojson(json.dumps(shape))
    expected = f"{to_lambert93(hectares).area / 10_000:.1f}".replace(".", ",")
    with pytest.raises(ShapeError, match=f"La zone couvre {expected} ha : 50 ha au plus."):
        parse_shape(shape)


def test_vertex_limit():
    steps = [(i * 0.01, (i % 2) * 0.01) for i in range(MAX_VERTICES)]
    assert measures(parse_shape(line(*steps)))["sommets"] == MAX_VERTICES
    with pytest.raises(ShapeError, match="2001 sommets : 2000 au plus"):
        parse_shape(line(*steps, (MAX_VERTICES * 0.01, 0)))


def test_a_self_touching_area_is_repaired_when_it_stays_one_polygon():
    # the ring touches itself at (2, 4): repaired as the square with a triangular hole
    touching = area((0, 0), (4, 0), (4, 4), (2, 4), (3, 2), (1, 2), (2, 4), (0, 4))
    repaired = parse_shape(touching)
    assert repaired.is_valid and repaired.geom_type == "Polygon"
    assert len(repaired.interiors) == 1


def test_stored_shapes_are_read_in_order_from_dicts_and_text():
    shapes = [line((0, 0), (1, 0)), json.dumps(area((0, 0), (1, 0), (1, 1))), line((0, 1), (2, 2))]
    found = from_stored(shapes)
    assert [g.geom_type for g in found] == ["LineString", "Polygon", "LineString"]
    assert found[0].equals(LineString(shapes[0]["coordinates"]))
    assert found[1].equals(Polygon(json.loads(shapes[1])["coordinates"][0]))
    assert len(from_stored([])) == 0
    point = {"lon": LON, "lat": LAT, "shape": None}
    assert place_geometry(point).equals(Point(LON, LAT))
    assert place_geometry({**point, "shape": shapes[0]}).equals(found[0])


def test_lambert93_is_the_metric_frame():
    metric = to_lambert93(Point(LON, LAT))
    assert 640_000 < metric.x < 660_000 and 6_850_000 < metric.y < 6_860_000
    many = to_lambert93(np.array([Point(LON, LAT), Point(LON, LAT + 0.001)]))
    assert shapely.distance(many[0], many[1]) == pytest.approx(111.2, abs=0.5)
