"""The map pages' data: a cached shell, the experiments as compressed columns with a
version validator, their popups on demand, and compression of every textual response."""

import gzip
import json

import brotli
import pytest

from geoapp.registry import validate_crossing
from geoapp.web.context import LIST_LIMIT
from tests.conftest import fetched_experiments, map_data
from tests.web.experiments_helpers import SCEAUX, stored

AULNAY = "aulnay-centre-gare"
DATA = "/api/carte/experimentations"


@pytest.fixture
def three(app, atlas):
    store = app.extensions["qmi_store"]
    return {
        "sceaux": stored(store, atlas, SCEAUX, title="Bancs & {{ 7*7 }}", status="déployée"),
        "aulnay": stored(store, atlas, AULNAY, title="Vélos", theme="mobilité"),
        "gone": stored(store, atlas, SCEAUX, title="Retirée"),
    }


def withdraw(app, experiment):
    app.extensions["qmi_store"].withdraw_experiment(
        experiment["id"], expected_version=experiment["version"], user="fixture"
    )


def test_the_experiments_are_columns_of_the_stored_ones(app, client, three):
    withdraw(app, three["gone"])
    points = client.get(DATA).get_json()
    stored_rows = sorted(app.extensions["qmi_store"].list_experiments(), key=lambda r: r["id"])
    assert points["id"] == [r["id"] for r in stored_rows]
    assert three["gone"]["id"] not in points["id"]
    i = points["id"].index(three["sceaux"]["id"])
    assert points["title"][i] == "Bancs & {{ 7*7 }}"  # data, as typed
    assert points["statuses"][points["status"][i]] == "déployée"
    assert points["themes"][points["theme"][i]] == three["sceaux"]["theme"]
    assert points["lon"][i] == pytest.approx(three["sceaux"]["lon"], abs=1e-5)
    assert points["lat"][i] == pytest.approx(three["sceaux"]["lat"], abs=1e-5)
    assert len(points["colours"]) == len(points["themes"])
    assert "description" not in points and "popups" not in points  # only what drawing needs


def test_the_experiments_follow_the_page_filters(client, three):
    page = client.get(f"/quartiers/{SCEAUX}?theme=mobilit%C3%A9").get_data(as_text=True)
    assert fetched_experiments(client, page)["id"] == []
    page = client.get(f"/quartiers/{SCEAUX}").get_data(as_text=True)
    assert set(fetched_experiments(client, page)["id"]) == {
        three["sceaux"]["id"],
        three["gone"]["id"],
    }
    overview = client.get("/?theme=mobilit%C3%A9").get_data(as_text=True)
    assert fetched_experiments(client, overview)["id"] == [three["aulnay"]["id"]]
    assert client.get(DATA + "?quartier=nulle-part&statut=%7B%7B").get_json()["id"]  # ignored


def test_an_unchanged_version_is_a_304_and_a_write_a_new_one(app, client, atlas, three):
    first = client.get(DATA, headers={"Accept-Encoding": "br"})
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "no-cache"
    again = client.get(DATA, headers={"If-None-Match": etag, "Accept-Encoding": "br"})
    assert again.status_code == 304 and again.data == b""
    # the version, not the encoding, decides: a gzip client holding the br copy is current
    other = client.get(DATA, headers={"If-None-Match": etag, "Accept-Encoding": "gzip"})
    assert other.status_code == 304
    stored(app.extensions["qmi_store"], atlas, SCEAUX, title="Nouvelle")
    changed = client.get(DATA, headers={"If-None-Match": etag, "Accept-Encoding": "br"})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    titles = json.loads(brotli.decompress(changed.data))["title"]
    assert "Nouvelle" in titles


@pytest.mark.parametrize("encoding", ["br", "gzip", "identity"])
def test_the_experiments_are_sent_compressed_once(client, three, encoding):
    response = client.get(DATA, headers={"Accept-Encoding": encoding})
    decode = {"br": brotli.decompress, "gzip": gzip.decompress, "identity": bytes}[encoding]
    assert response.headers.get("Content-Encoding", "identity") == encoding
    assert "Accept-Encoding" in response.headers["Vary"]
    assert json.loads(decode(response.data))["id"] == client.get(DATA).get_json()["id"]


def test_a_popup_loads_its_details(client, three):
    e = three["sceaux"]
    popup = client.get(f"{DATA}/{e['id']}").get_json()
    assert popup["title"] == "Bancs & {{ 7*7 }}"
    rows = dict(popup["rows"])
    assert rows["Statut"] == "déployée" and rows["Structure"].startswith(e["organisation"])
    assert popup["link"]["href"] == f"/experimentations/{e['id']}"


def test_a_withdrawn_or_unknown_experiment_has_no_popup(app, client, three):
    withdraw(app, three["gone"])
    for url in (f"{DATA}/{three['gone']['id']}", f"{DATA}/999999", f"{DATA}/{2**70}"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert response.get_json()["statut"] == 404
        assert "Retirée" not in response.get_data(as_text=True)


def test_the_map_shell_is_built_once_per_crossings_version(app, client):
    first = map_data(client.get(f"/quartiers/{SCEAUX}").get_data(as_text=True))
    cache = app.extensions["qmi_map_shells"]
    version = cache.versions()[("district", SCEAUX)]
    assert map_data(client.get(f"/quartiers/{SCEAUX}").get_data(as_text=True)) == first
    assert cache.versions()[("district", SCEAUX)] == version  # served, not rebuilt
    values = validate_crossing(
        {"kind": "passerelle", "status": "projeté", "name": "Passerelle test"}
        | {"lon": "2.30296", "lat": "48.78181"}
    )
    app.extensions["qmi_store"].add_crossing({**values, "district": SCEAUX}, user="fixture")
    after = map_data(client.get(f"/quartiers/{SCEAUX}").get_data(as_text=True))
    assert cache.versions()[("district", SCEAUX)] != version
    names = [
        f["properties"]["popup"]["title"]
        for layer in after["layers"]
        if layer["key"] == "franchissements"
        for f in layer["features"]["features"]
    ]
    assert "Passerelle test" in names


def test_the_map_shell_carries_no_experiment(client, three):
    for url in ("/", f"/quartiers/{SCEAUX}", f"/experimentations/{three['sceaux']['id']}"):
        page = client.get(url).get_data(as_text=True)
        [layer] = [x for x in map_data(page)["layers"] if x["key"] == "experimentations"]
        assert layer["points"] is None, url
        assert "Bancs" not in json.dumps(map_data(page), ensure_ascii=False), url


@pytest.mark.parametrize("url", ["/", f"/quartiers/{SCEAUX}", "/api/comparaison"])
def test_pages_and_json_are_compressed(client, url):
    plain = client.get(url).data
    response = client.get(url, headers={"Accept-Encoding": "gzip, br"})
    assert response.headers["Content-Encoding"] == "br"
    assert len(response.data) < len(plain) / 3
    assert brotli.decompress(response.data) != b""


def test_vendored_scripts_are_compressed_and_revalidated(client):
    url = "/vendor/leaflet/leaflet.js"
    response = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert b"Leaflet" in gzip.decompress(response.data)
    etag = response.headers["ETag"]
    again = client.get(url, headers={"Accept-Encoding": "gzip", "If-None-Match": etag})
    assert again.status_code == 304


def test_a_crowded_district_lists_its_first_experiments_and_links_the_rest(app, client, atlas):
    store = app.extensions["qmi_store"]
    for n in range(LIST_LIMIT + 2):
        stored(store, atlas, SCEAUX, title=f"Atelier {n:03d}")
    page = client.get(f"/quartiers/{SCEAUX}").get_data(as_text=True)
    total = store.count_experiments(district=SCEAUX)
    assert page.count('<li><a href="/experimentations/') == LIST_LIMIT
    assert f"Voir les {total} dans le registre" in page
    assert 'href="/experimentations?quartier=sceaux-les-blagis"' in page
    data = client.get(f"/api/quartiers/{SCEAUX}").get_json()
    assert len(data["experimentations"]) == LIST_LIMIT and data["n_experimentations"] == total
    assert len(fetched_experiments(client, page)["id"]) == total  # the map shows them all
