"""Pages, APIs and downloads name who changed what by role and commune, never by account."""

import html
import json

import pytest

from geoapp.registry import validate_experiment
from tests.conftest import client_as

SCEAUX = "sceaux-les-blagis"
EDITOR = "zorglub-sceaux"  # an account name that appears nowhere else
ADMIN = "zorglub-admin"


@pytest.fixture
def store(app):
    return app.extensions["qmi_store"]


@pytest.fixture
def experiment(app, store, atlas):
    """An experiment created by the Sceaux editor and edited by an administrator."""
    store.add_user(EDITOR, "motdepasse-tres-long", role="editeur", commune="92071")
    store.add_user(ADMIN, "motdepasse-tres-long", role="administrateur")
    lon, lat = atlas.centres_lonlat()[SCEAUX]
    form = {
        "title": "Jardin des Blagis",
        "organisation": "Les Amis du Parc",
        "org_kind": "association",
        "theme": "espaces publics",
        "objectives": [atlas.objectives()[SCEAUX][0]],
        "description": "Un jardin.",
        "status": "proposée",
        "precision": "exacte",
        "lon": lon,
        "lat": lat,
    }
    values = validate_experiment(form, objectives=atlas.objectives()[SCEAUX])
    created = store.create_experiment(values, district=SCEAUX, user=EDITOR)
    store.withdraw_experiment(created["id"], expected_version=1, user=ADMIN)
    store.restore_experiment(created["id"], expected_version=2, user=ADMIN)
    return store.get_experiment(created["id"])


def body(response) -> str:
    assert response.status_code == 200, response.request.path
    return html.unescape(response.get_data(as_text=True))


def test_the_history_page_shows_role_and_commune(client, experiment):
    page = body(client.get(f"/experimentations/{experiment['id']}"))
    assert "<td>éditeur Sceaux</td>" in page
    assert "<td>administrateur Métropole</td>" in page
    assert "zorglub" not in page


def test_the_experiment_api_shows_role_and_commune(client, experiment):
    data = client.get(f"/api/experimentations/{experiment['id']}").get_json()
    assert data["experimentation"]["created_by"] == "éditeur Sceaux"
    assert data["experimentation"]["updated_by"] == "administrateur Métropole"
    assert [h["user"] for h in data["historique"]] == [
        "éditeur Sceaux",
        "administrateur Métropole",
        "administrateur Métropole",
    ]
    assert "zorglub" not in json.dumps(data)


@pytest.mark.parametrize(
    "url",
    [
        "/",
        f"/quartiers/{SCEAUX}",
        "/experimentations",
        "/api/experimentations.geojson",
        "/experimentations/export.csv",
        "/experimentations/export.geojson",
        f"/exports/{SCEAUX}.csv",
        f"/exports/{SCEAUX}.geojson",
        f"/exports/{SCEAUX}.kml",
        f"/exports/{SCEAUX}.html",
        "/exports/all.geojson",
        f"/api/quartiers/{SCEAUX}/coupures",
    ],
)
def test_no_public_output_names_an_account(client, experiment, url):
    with client.get(url) as response:
        assert response.status_code == 200
        assert b"zorglub" not in response.data, url


def test_the_stored_author_stays_the_account(store, experiment):
    assert (experiment["created_by"], experiment["updated_by"]) == (EDITOR, ADMIN)
    assert store.history(experiment["id"])[0]["user"] == EDITOR


def test_administrators_also_see_the_account_in_the_history(app, experiment):
    admin = client_as(app, "admin-mgp", "administrateur")
    page = body(admin.get(f"/experimentations/{experiment['id']}"))
    assert "éditeur Sceaux (zorglub-sceaux)" in page
    editor = client_as(app, "autre-sceaux", "editeur", "92071")
    assert "zorglub-sceaux" not in body(editor.get(f"/experimentations/{experiment['id']}"))


def test_removed_accounts_and_the_seed_have_labels_too(client, store, experiment):
    store.delete_user(EDITOR)
    page = body(client.get(f"/experimentations/{experiment['id']}"))
    assert "<td>compte supprimé</td>" in page and "zorglub" not in page
    seeded = next(e for e in store.list_experiments() if e["created_by"] == "seed")
    assert body(client.get(f"/experimentations/{seeded['id']}")).count("<td>import initial</td>")
