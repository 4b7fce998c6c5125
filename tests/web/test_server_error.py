"""An unexpected failure is a French 500: the error page, or JSON under /api/, never a
traceback nor the exception's own text."""

from __future__ import annotations

import logging

import pytest

SECRET = "détail interne /srv/qmi/secret.sqlite3"


class BrokenAtlas:
    """An atlas whose every attribute fails, as a programming error would."""

    def __getattr__(self, name):
        raise RuntimeError(f"{SECRET} ({name})")


@pytest.fixture
def app(app_factory):
    """Served as in production: exceptions are handled, not propagated to the test."""
    app = app_factory(TESTING=False, PROPAGATE_EXCEPTIONS=False)

    def fail():
        raise RuntimeError(SECRET)

    app.add_url_rule("/essai-panne", "essai_panne", fail)
    app.add_url_rule("/api/essai-panne", "api_essai_panne", fail)
    return app


def assert_clean(text: str) -> None:
    for leak in ("Traceback", "RuntimeError", SECRET, 'File "'):
        assert leak not in text


def test_html_page_is_the_french_error_page(app, caplog):
    with caplog.at_level(logging.ERROR):
        r = app.test_client().get("/essai-panne")
    assert r.status_code == 500
    assert r.mimetype == "text/html"
    html = r.get_data(as_text=True)
    assert '<html lang="fr">' in html
    assert "Erreur du serveur" in html and "Une erreur interne est survenue." in html
    assert "Retour à la carte" in html
    assert_clean(html)
    assert SECRET in caplog.text  # the operator's log keeps what the user is not shown


def test_api_path_is_json_with_erreur(app):
    r = app.test_client().get("/api/essai-panne")
    assert r.status_code == 500
    assert r.mimetype == "application/json"
    assert r.get_json() == {"erreur": "Une erreur interne est survenue.", "statut": 500}
    assert_clean(r.get_data(as_text=True))


def test_json_is_given_to_a_client_asking_for_it(app):
    r = app.test_client().get("/essai-panne", headers={"Accept": "application/json"})
    assert r.status_code == 500
    assert r.get_json()["erreur"] == "Une erreur interne est survenue."


@pytest.mark.parametrize(
    "path, mimetype",
    [
        ("/", "text/html"),
        ("/quartiers/sceaux-les-blagis", "text/html"),
        ("/api/quartiers.geojson", "application/json"),
    ],
)
def test_a_real_page_failing_inside_is_a_clean_500(app, path, mimetype):
    app.extensions["qmi_atlas"] = BrokenAtlas()
    r = app.test_client().get(path)
    assert r.status_code == 500
    assert r.mimetype == mimetype
    text = r.get_data(as_text=True)
    assert "Une erreur interne est survenue." in text
    assert_clean(text)
