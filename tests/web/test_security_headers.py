"""Security headers on every response: CSP with a per-request nonce, frames, caching."""

import re

import pytest

from tests.conftest import client_as

PAGES = [
    "/",
    "/quartiers/sceaux-les-blagis",
    "/experimentations/1",
    "/experimentations",
    "/methode",
    "/sources",
    "/connexion",
]
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)([^>]*)>")
EXPORT_CSP = (
    "sandbox allow-scripts; default-src 'none'; script-src 'unsafe-inline'; "
    "style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'"
)


def headers_of(client, url: str):
    """The headers of GET ``url`` (the response is closed: file downloads hold a file)."""
    with client.get(url) as response:
        return response.headers


def policy(response) -> dict[str, str]:
    """The Content-Security-Policy header as ``{directive: sources}``."""
    header = response.headers.get("Content-Security-Policy")
    assert header, f"no CSP on {response.request.path}"
    directives = [part.strip().split(" ", 1) for part in header.split(";") if part.strip()]
    return {d[0]: d[1] if len(d) > 1 else "" for d in directives}


def nonce_of(response) -> str:
    match = re.fullmatch(r"'self' 'nonce-([A-Za-z0-9_-]{20,})'", policy(response)["script-src"])
    assert match, policy(response)["script-src"]
    return match.group(1)


@pytest.mark.parametrize(
    "url", [*PAGES, "/api/quartiers.geojson", "/nulle-part", "/vendor/qmi/css/app.css"]
)
def test_every_response_carries_the_security_headers(client, url):
    with client.get(url) as r:
        csp = policy(r)
    assert csp["default-src"] == "'self'"
    assert csp["script-src"].startswith("'self' 'nonce-")
    assert "'unsafe-inline'" not in csp["script-src"] and "'unsafe-eval'" not in csp["script-src"]
    assert csp["style-src"] == "'self' 'unsafe-inline'"  # Leaflet positions with style=
    assert csp["img-src"] == "'self' data: https://tile.openstreetmap.org"
    assert csp["connect-src"] == "'self'"
    assert csp["object-src"] == "'none'"
    assert csp["base-uri"] == "'self'"
    assert csp["form-action"] == "'self'"
    assert csp["frame-ancestors"] == "'self'"
    assert r.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "Strict-Transport-Security" not in r.headers  # plain HTTP: no HSTS


@pytest.mark.parametrize("url", PAGES)
def test_every_inline_script_carries_the_request_nonce(client, url):
    r = client.get(url)
    assert r.status_code == 200
    body = r.get_data(as_text=True)
    nonce = nonce_of(r)
    for attributes in INLINE_SCRIPT.findall(body):
        if 'type="application/json"' in attributes:
            continue  # data, never run
        assert f'nonce="{nonce}"' in attributes, f"inline script without nonce on {url}"


def test_map_pages_run_their_inline_map_script_with_the_nonce(client):
    for url in PAGES[:3]:
        r = client.get(url)
        assert f'<script nonce="{nonce_of(r)}">' in r.get_data(as_text=True)


def test_the_nonce_is_new_on_every_request(client):
    assert nonce_of(client.get("/")) != nonce_of(client.get("/"))


def test_no_tiles_no_tile_server_in_the_policy(app_factory):
    client = app_factory(TILES=False).test_client()
    assert policy(client.get("/"))["img-src"] == "'self' data:"


def test_frame_ancestors_setting(app_factory):
    client = app_factory(
        FRAME_ANCESTORS="'self' https://intranet.grand-paris.example"
    ).test_client()
    r = client.get("/")
    assert policy(r)["frame-ancestors"] == "'self' https://intranet.grand-paris.example"
    assert "X-Frame-Options" not in r.headers  # it cannot say "these origins": CSP does
    r = app_factory(FRAME_ANCESTORS="'none'").test_client().get("/methode")
    assert policy(r)["frame-ancestors"] == "'none'" and r.headers["X-Frame-Options"] == "DENY"


def test_hsts_when_served_over_tls_with_secure_cookies(app_factory):
    client = app_factory(SESSION_COOKIE_SECURE=True).test_client()
    r = client.get("/methode", base_url="https://localhost")
    assert r.headers["Strict-Transport-Security"] == "max-age=31556926"


def test_pages_for_logged_in_users_are_not_stored(app):
    editor = client_as(app, "sceaux-editeur", commune="92071")
    for url in PAGES[:-1] + ["/api/experimentations/1", "/exports/sceaux-les-blagis.csv"]:
        assert headers_of(editor, url)["Cache-Control"] == "no-store", url
    # Vendored JS/CSS are the same for everyone: still cached.
    assert "max-age=86400" in headers_of(editor, "/vendor/qmi/css/app.css")["Cache-Control"]


def test_pages_for_anonymous_visitors_may_be_cached(client):
    assert "no-store" not in client.get("/methode").headers.get("Cache-Control", "")
    assert client.get("/connexion").headers["Cache-Control"] == "no-store"  # its CSRF token


@pytest.mark.parametrize("name", ["sceaux-les-blagis.csv", "all.geojson", "inconnu.csv"])
def test_exports_have_their_own_isolating_policy(client, name):
    r = client.get(f"/exports/{name}")
    assert r.headers["Content-Security-Policy"] == EXPORT_CSP
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["X-Content-Type-Options"] == "nosniff"


def test_the_standalone_html_export_gets_the_sandbox_not_the_nonce(client):
    r = client.get("/exports/sceaux-les-blagis.html")
    assert r.status_code == 200 and r.mimetype == "text/html"
    assert r.headers["Content-Security-Policy"] == EXPORT_CSP
    assert b"<script>" in r.data  # its inline scripts run only under that sandbox
