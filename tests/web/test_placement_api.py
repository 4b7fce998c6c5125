"""The placement API: what the geometry says about a spot (inside, distance, cuts,
experiments nearby), and its French JSON errors.
"""

import geopandas as gpd
import pytest
from shapely.geometry import Point

from geoapp.analysis import ANALYSIS_CRS, DISPLAY_CRS
from tests.web.experiments_helpers import (
    IN_SCEAUX,
    MEUDON,
    SCEAUX,
    stored,
)


def placement(client, slug: str, lon, lat, **extra):
    return client.get(
        "/api/placement", query_string={"quartier": slug, "lon": lon, "lat": lat, **extra}
    )


def test_placement_inside_sceaux(anon):
    r = placement(anon, SCEAUX, *IN_SCEAUX)
    assert r.status_code == 200
    p = r.get_json()
    assert p["inside"] is True and p["accepted"] is True
    assert p["distance_outside_m"] == 0.0 and p["tolerance_m"] == 50.0
    assert p["nearest_cut"]["names"] == "RER B" and p["nearest_cut"]["kind"] == "voie ferrée"
    assert 100 < p["nearest_cut"]["distance_m"] < 500
    assert p["nearest_station"]["nom"] == "Sceaux" and "RER B" in p["nearest_station"]["ligne"]
    assert p["side_id"] in (1, 2)
    assert p["nearby_experiments"] == []


def test_placement_outside_gives_the_distance(anon, atlas):
    lon, lat = atlas.centres_lonlat()[MEUDON]
    p = placement(anon, SCEAUX, lon, lat).get_json()
    point = gpd.GeoSeries([Point(lon, lat)], crs=DISPLAY_CRS).to_crs(ANALYSIS_CRS).iloc[0]
    expected = round(atlas.district(SCEAUX).geometry.distance(point), 1)
    assert p["inside"] is False and p["accepted"] is False
    assert p["distance_outside_m"] == expected
    assert expected > 4000
    assert p["side_id"] is None


def test_placement_lists_nearby_experiments_within_150_m(anon, store, atlas):
    lon, lat = IN_SCEAUX
    near = stored(store, atlas, SCEAUX, title="Tout près", lat=str(lat + 0.0005))  # ~56 m
    closer = stored(store, atlas, SCEAUX, title="Plus près", lat=str(lat + 0.0002))  # ~22 m
    stored(store, atlas, SCEAUX, title="Trop loin", lat=str(lat + 0.002))  # ~222 m
    found = placement(anon, SCEAUX, lon, lat).get_json()["nearby_experiments"]
    assert [e["title"] for e in found] == ["Plus près", "Tout près"]
    assert [e["id"] for e in found] == [closer["id"], near["id"]]
    assert 15 < found[0]["distance_m"] < 30 and 50 < found[1]["distance_m"] < 62
    moving = placement(anon, SCEAUX, lon, lat, exclure=closer["id"]).get_json()
    assert [e["title"] for e in moving["nearby_experiments"]] == ["Tout près"]


def test_placement_asks_the_store_for_the_nearby_experiments_only(anon, store, atlas, monkeypatch):
    """The 150 m question is a spatial query of the store, not a scan of the district's
    experiments; an id beyond 64 bits to leave out leaves nobody out."""
    lon, lat = IN_SCEAUX
    near = stored(store, atlas, SCEAUX, title="Tout près", lat=str(lat + 0.0005))

    def no_listing(**filters):
        raise AssertionError("placement listed every experiment")

    monkeypatch.setattr(store, "list_experiments", no_listing)
    found = placement(anon, SCEAUX, lon, lat, exclure=str(2**70)).get_json()
    assert [e["id"] for e in found["nearby_experiments"]] == [near["id"]]


@pytest.mark.parametrize(
    "lon, lat", [("2.3", "abc"), ("2.3", ""), ("nan", "48.78"), ("2.3", "40"), ("2.3", "inf")]
)
def test_placement_bad_coordinates_are_400_json(anon, lon, lat):
    r = placement(anon, SCEAUX, lon, lat)
    assert r.status_code == 400
    data = r.get_json()
    assert data["erreur"] == "Coordonnées invalides." and data["statut"] == 400
    assert data["errors"]


def test_placement_unknown_district_is_404_json(anon):
    r = placement(anon, "paris-centre", *IN_SCEAUX)
    assert r.status_code == 404
    assert r.get_json()["erreur"] == "Le quartier « paris-centre » n’existe pas."
