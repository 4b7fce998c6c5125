"""The map search's index (/api/recherche.json): every commune, district and station of
the atlas and every experiment still on the maps, with where to zoom; withdrawn
experiments never; rebuilt when the experiments change, revalidated by ETag."""

from __future__ import annotations

import pytest

from tests.web.experiments_helpers import SCEAUX, stored

URL = "/api/recherche.json"


def entries(client) -> list[dict]:
    """The index's entries as dicts, each experiment with the page its id names."""
    data = client.get(URL).get_json()
    listed = [dict(zip(data["colonnes"], e, strict=True)) for e in data["entrees"]]
    for e in listed:
        if e["type"] == "experimentation":
            assert e["url"] is None  # the id says it, in fewer bytes
            e["url"] = f"{data['url_experimentation']}{e['id']}"
    return listed


def test_every_place_of_the_atlas_is_listed_once_with_where_to_zoom(client, atlas):
    listed = entries(client)
    by_kind = {}
    for e in listed:
        by_kind.setdefault(e["type"], []).append(e)
    assert sorted(e["nom"] for e in by_kind["quartier"]) == sorted(atlas.districts["nom"])
    assert len(by_kind["commune"]) == len(atlas.layers["communes"])
    assert len(by_kind["gare"]) == len(atlas.stations)
    assert {e["url"] for e in by_kind["quartier"]} == {f"/quartiers/{s}" for s in atlas.slugs}
    blagis = next(e for e in by_kind["quartier"] if e["nom"] == "Les Blagis")
    (south, west), (north, east) = blagis["emprise"]
    lon, lat = atlas.centres_lonlat()[SCEAUX]
    assert south < lat < north and west < lon < east
    for station in by_kind["gare"]:
        assert 48.5 < station["lat"] < 49.2 and 1.9 < station["lon"] < 2.9  # Grand Paris
        assert station["emprise"] is None


def test_experiments_are_listed_but_never_withdrawn_ones(client, app, atlas):
    store = app.extensions["qmi_store"]
    kept = stored(store, atlas, SCEAUX, title="Composteur {{ 7*7 }} <b>gras</b> & Cie")
    gone = stored(store, atlas, SCEAUX, title="Banc retiré des cartes")
    store.withdraw_experiment(gone["id"], expected_version=gone["version"], user="fixture")
    found = {e["nom"]: e for e in entries(client) if e["type"] == "experimentation"}
    assert "Banc retiré des cartes" not in found
    mine = found["Composteur {{ 7*7 }} <b>gras</b> & Cie"]  # the text, byte for byte
    assert mine["url"] == f"/experimentations/{kept['id']}"
    assert (mine["lat"], mine["lon"]) == (round(kept["lat"], 5), round(kept["lon"], 5))


def test_the_index_follows_the_experiments_and_answers_304_when_unchanged(client, app, atlas):
    first = client.get(URL)
    assert first.status_code == 200 and first.headers["Cache-Control"] == "no-cache"
    etag = first.headers["ETag"]
    again = client.get(URL, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    stored(app.extensions["qmi_store"], atlas, SCEAUX, title="Nouvelle expérimentation indexée")
    changed = client.get(URL, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert client.get(URL, headers={"Accept-Encoding": "br"}).headers["Content-Encoding"] == "br"
    assert "Nouvelle expérimentation indexée" in [e[1] for e in changed.get_json()["entrees"]]


@pytest.mark.parametrize("who", ["anon", "admin"])
def test_logged_in_or_not_the_index_is_the_same(request, who, client):
    other = request.getfixturevalue(who)
    assert other.get(URL).get_json() == client.get(URL).get_json()
