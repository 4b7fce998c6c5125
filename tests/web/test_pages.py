"""Every atlas page and API answers with the right status and content."""

import json

import pytest

from tests.analysis.regenerate_golden import read_golden

SLUGS = ["aulnay-centre-gare", "meudon-la-foret", "noisy-mont-d-est", "sceaux-les-blagis"]


def test_overview_page(client):
    r = client.get("/")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert '<html lang="fr">' in html
    for name in ("Centre Gare", "Meudon-la-Forêt", "Le Mont d’Est", "Les Blagis"):
        assert name in html
    assert "Périmètre indicatif" in html


def test_pages_never_reference_a_cdn(client):
    html = client.get("/").get_data(as_text=True)
    for cdn in ("cdn.jsdelivr", "cdnjs", "code.jquery", "bootstrapcdn", "unpkg"):
        assert cdn not in html
    assert "/vendor/leaflet/leaflet.js" in html


@pytest.mark.parametrize("slug", SLUGS)
def test_district_pages(client, slug):
    r = client.get(f"/quartiers/{slug}")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "Les objectifs" in html
    assert "périmètre indicatif" in html.lower()


def test_unknown_district_is_a_french_404(client):
    r = client.get("/quartiers/paris-centre")
    assert r.status_code == 404
    assert "n’existe pas" in r.get_data(as_text=True)


def test_unknown_api_path_is_json_404(client):
    r = client.get("/api/rien")
    assert r.status_code == 404
    assert r.get_json()["statut"] == 404


def test_sources_page_lists_licences(client):
    html = client.get("/sources").get_data(as_text=True)
    assert "ODbL" in html and "Licence Ouverte" in html


def test_districts_geojson(client):
    r = client.get("/api/quartiers.geojson")
    assert r.status_code == 200
    data = json.loads(r.data)
    assert len(data["features"]) == 4
    props = {f["properties"]["slug"]: f["properties"] for f in data["features"]}
    assert set(props) == set(SLUGS)
    assert props["sceaux-les-blagis"]["maire"] == "Philippe Laurent"
    for slug, golden in read_golden().items():  # tolerances of test_golden_figures.py
        assert props[slug]["area_ha"] == pytest.approx(golden["area_ha"], abs=0.1)
        assert props[slug]["cut_length_in_m"] == pytest.approx(golden["cut_length_in_m"], abs=1)
        assert props[slug]["cut_length_near_m"] == pytest.approx(golden["cut_length_near_m"], abs=1)
    lon, lat = data["features"][0]["geometry"]["coordinates"][0][0]
    assert 2.0 < lon < 2.8 and 48.6 < lat < 49.1


def test_cuts_geojson(client):
    data = json.loads(client.get("/api/coupures.geojson").data)
    names = {f["properties"]["nom"] for f in data["features"]}
    assert {"RER A", "RER B"} <= names
    assert {f["properties"]["kind"] for f in data["features"]} <= {
        "voie ferrée",
        "tramway",
        "route",
    }
    assert "N 118" in names  # the road cut of data/coupures.json


def status(client, url: str) -> int:
    with client.get(url) as response:  # file responses must be closed
        return response.status_code


def test_vendor_assets_are_served_and_confined(client):
    assert status(client, "/vendor/leaflet/leaflet.js") == 200
    assert status(client, "/vendor/fullscreen/Control.FullScreen.js") == 200
    assert status(client, "/vendor/leaflet/../../../../etc/passwd") == 404
    assert status(client, "/vendor/nothing/x.js") == 404


def test_a_page_and_its_api_twin_render_the_same_context(app, client):
    """The district page shows the figures its JSON twin serves (one context, two forms)."""
    from geoapp.web.context import district_context

    slug = "sceaux-les-blagis"
    with client.get(f"/api/quartiers/{slug}") as r:
        assert r.status_code == 200
        twin = r.get_json()
    with app.test_request_context(f"/quartiers/{slug}"):
        assert twin == app.json.loads(app.json.dumps(district_context(slug)))
    with client.get(f"/api/quartiers/{slug}/coupures") as r:
        assert r.get_json() == twin["coupures"]
    page = client.get(f"/quartiers/{slug}").get_data(as_text=True)
    sides = twin["coupures"]["cotes"]["nb_cotes_zone_etude"]
    assert f'<dd id="fig-sides">{sides}</dd>' in page
    with client.get("/api/comparaison") as r:
        rows = r.get_json()["comparaison"]
    assert {row["quartier"]["slug"] for row in rows} == set(app.extensions["qmi_atlas"].slugs)
