"""Withdrawn means withdrawn: nothing of a withdrawn experiment reaches anyone who may not
restore it (anonymous visitors, editors of other communes), on any page, API or export;
editors of its commune and administrators still see it, and restore it."""

import html
import io
import json

import openpyxl
import pytest

from tests.conftest import TOKEN, client_as
from tests.web.experiments_helpers import SCEAUX, body, stored

TITLE = "Retirée Introuvable Zq"
NOTE = "Note-retirée-Zq"


@pytest.fixture
def withdrawn(store, atlas):
    e = stored(store, atlas, SCEAUX, title=TITLE, location_note=NOTE)
    return store.withdraw_experiment(e["id"], expected_version=1, user="fixture")


def public_urls(experiment_id: int) -> list[str]:
    return [
        "/",
        f"/quartiers/{SCEAUX}",
        "/experimentations",
        f"/experimentations?quartier={SCEAUX}",
        "/api/experimentations.geojson",
        f"/api/quartiers/{SCEAUX}",
        "/api/comparaison",
        "/api/carte/experimentations",
        "/api/recherche.json",
        "/experimentations/export.csv",
        "/experimentations/export.geojson",
        "/exports/all.csv",
        f"/exports/{SCEAUX}.csv",
        "/exports/all.geojson",
        f"/exports/{SCEAUX}.kml",
    ]


def text_of(response) -> str:
    """The body as a person would read it: entities and JSON escapes undone."""
    if "json" in response.mimetype:
        return json.dumps(response.get_json(), ensure_ascii=False)
    return html.unescape(response.get_data(as_text=True))


@pytest.mark.parametrize("who", ["anonymous", "meudon-editor"])
def test_nothing_of_a_withdrawn_experiment_reaches_the_public(app, withdrawn, who):
    client = (
        client_as(app, None)
        if who == "anonymous"
        else client_as(app, "editeur-meudon", "editeur", "92048")
    )
    experiment_id = withdrawn["id"]
    for url in (f"/experimentations/{experiment_id}", f"/api/experimentations/{experiment_id}"):
        r = client.get(url)
        assert r.status_code == 404, url
        assert TITLE not in text_of(r) and "Expérimentation introuvable." in text_of(r)
    popup = client.get(f"/api/carte/experimentations/{experiment_id}")
    assert popup.status_code == 404 and TITLE not in text_of(popup)
    for url in public_urls(experiment_id):
        r = client.get(url)
        assert r.status_code in (200, 304), url
        assert TITLE not in text_of(r) and NOTE not in text_of(r), url
    xlsx = client.get("/experimentations/export.xlsx")
    cells = [c.value for row in openpyxl.load_workbook(io.BytesIO(xlsx.data)).active for c in row]
    assert TITLE not in cells


@pytest.mark.parametrize(
    "login", [("editeur-sceaux", "editeur", "92071"), ("metropole", "administrateur", None)]
)
def test_those_who_may_restore_it_still_see_it(app, store, withdrawn, login):
    client = client_as(app, *login)
    page = client.get(f"/experimentations/{withdrawn['id']}")
    assert page.status_code == 200 and TITLE in text_of(page)
    assert "Rétablir sur les cartes" in text_of(page)
    assert client.get(f"/api/experimentations/{withdrawn['id']}").status_code == 200
    registry = text_of(client.get("/experimentations"))
    assert TITLE in registry.split('id="withdrawn"')[1]
    r = client.post(
        f"/experimentations/{withdrawn['id']}/retablir",
        data={"csrf_token": TOKEN, "version": str(withdrawn["version"])},
    )
    assert r.status_code == 302 and store.get_experiment(withdrawn["id"])["withdrawn"] is False
    assert TITLE in body(client_as(app, None).get(f"/experimentations/{withdrawn['id']}"))


def test_another_communes_editor_does_not_see_the_withdrawn_list(app, withdrawn):
    registry = text_of(
        client_as(app, "editeur-meudon", "editeur", "92048").get("/experimentations")
    )
    assert 'id="withdrawn"' not in registry and TITLE not in registry
