"""A full disk, a read-only or unopenable database on the web: a French 503 that says so.

The failures are provoked on the store engine's connections like in
``tests/store/test_store_failures.py``, on a SQLite file (they are SQLite's own); every
write refused this way must leave every table as it was. A PostgreSQL server that does
not answer gets the same page (last test).
"""

import html

import pytest

from geoapp.registry import validate_experiment
from geoapp.store.db import database_url, make_engine
from tests.conftest import TOKEN, client_as
from tests.store.test_store_failures import contents, disk_full, opening, read_only

SCEAUX = "sceaux-les-blagis"


@pytest.fixture
def db_path(tmp_path):
    return str(tmp_path / "qmi.sqlite3")


@pytest.fixture
def app(app_factory, db_path):
    """An app on a SQLite file, whatever the backend of the other web tests."""
    return app_factory(DATABASE=db_path)


@pytest.fixture
def admin(app):
    return client_as(app, "admin-mgp", "administrateur")


def failing(app, hook) -> None:
    """Make every later connection of the app's store fail in the given way."""
    engine = app.extensions["qmi_store"].engine
    engine.dispose()
    hook(engine)


def experiment_form(app, **overrides) -> dict:
    atlas = app.extensions["qmi_atlas"]
    return {
        "csrf_token": TOKEN,
        "title": "Jardin partagé",
        "organisation": "Association",
        "org_kind": "association",
        "theme": "espaces publics",
        "objectives": [atlas.objectives()[SCEAUX][0]],
        "description": "x" * 2000,
        "evaluation_outcome": "y" * 2000,
        "status": "proposée",
        "lon": "2.3031",
        "lat": "48.7828",
        "precision": "exacte",
        **overrides,
    }


def page(response) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.mark.parametrize(
    "opener, reason",
    [(disk_full, "le disque du serveur est plein"), (read_only, "la base est en lecture seule")],
    ids=["disk-full", "read-only"],
)
def test_a_write_on_failing_storage_is_a_french_503_page(
    app, admin, db_path, monkeypatch, opener, reason
):
    atlas = app.extensions["qmi_atlas"]
    values = validate_experiment(
        {**experiment_form(app), "description": "Court.", "evaluation_outcome": ""},
        objectives=atlas.objectives()[SCEAUX],
    )
    e = app.extensions["qmi_store"].create_experiment(values, district=SCEAUX, user="fixture")
    before = contents(db_path)
    failing(app, opener)
    writes = [
        (f"/quartiers/{SCEAUX}/experimentations", experiment_form(app)),
        (f"/experimentations/{e['id']}", experiment_form(app, version=str(e["version"]))),
    ]
    if opener is read_only:  # a small write: only a read-only file refuses it
        writes.append(
            (f"/experimentations/{e['id']}/retirer", {"csrf_token": TOKEN, "version": "1"})
        )
    for url, data in writes:
        r = admin.post(url, data=data)
        assert r.status_code == 503, url
        assert '<html lang="fr">' in page(r)
        assert f"La base de données est indisponible : {reason}." in page(r)
        assert "Rien n’a été enregistré" in page(r)
    assert contents(db_path) == before


def test_an_unopenable_database_is_a_french_503_in_html_and_json(app, tmp_path):
    folder = tmp_path / "un-dossier"
    folder.mkdir()
    failing(app, opening(folder))
    client = app.test_client()
    r = client.get("/experimentations")
    assert r.status_code == 503 and '<html lang="fr">' in page(r)
    assert "La base de données est indisponible" in page(r)
    r = client.get("/api/experimentations.geojson")
    assert r.status_code == 503 and r.is_json
    data = r.get_json()
    assert data["statut"] == 503
    assert data["erreur"].startswith("La base de données est indisponible : le fichier de la")


def test_a_postgresql_server_that_does_not_answer_is_the_same_french_503(
    app, tmp_path, monkeypatch
):
    """The mapping is one for both backends: a refused connection (no server behind the
    socket) is the storage 503, in HTML and JSON, and the app answers again once the
    database does (here: the store's engine is given back)."""
    store = app.extensions["qmi_store"]
    nowhere = make_engine(database_url(f"postgresql:///qmi?host={tmp_path}&user=qmi"))
    monkeypatch.setattr(store, "engine", nowhere)
    client = app.test_client()
    r = client.get("/experimentations")
    assert r.status_code == 503 and '<html lang="fr">' in page(r)
    assert "La base de données est indisponible : le serveur de base de données ne répond" in (
        page(r)
    )
    r = client.get("/api/experimentations.geojson")
    assert r.status_code == 503 and r.get_json()["statut"] == 503
    monkeypatch.undo()
    nowhere.dispose()
    assert client.get("/experimentations").status_code == 200
