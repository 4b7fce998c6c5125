"""Shared fixtures: the app on a temporary database, its clients, a live server, Chromium."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

import pytest
from werkzeug.serving import make_server

from geoapp import create_app
from geoapp.atlas import build_atlas
from geoapp.config import PROJECT_ROOT
from tests.postgres import TestServer

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CHROMIUM = os.environ.get("GEOAPP_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


@pytest.fixture(scope="session")
def atlas():
    """The real atlas, built once for the whole session (it is read-only)."""
    return build_atlas(PROJECT_ROOT / "data")


# Every test using a store or an app runs on both: SQLite (the default) and PostgreSQL/PostGIS
# (a throwaway server the session starts itself, see tests/postgres.py).
BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(scope="session")
def pg_server():
    """The session's PostgreSQL/PostGIS server; the suite fails loudly if it cannot start."""
    why = TestServer.available()
    if why:
        pytest.fail(why)
    server = TestServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture(scope="session")
def new_database(backend, tmp_path_factory, request):
    """Make a fresh, empty database of the test's backend: a SQLite path or a URL."""
    server = request.getfixturevalue("pg_server") if backend == "postgresql" else None

    def make(*, migrated: bool = True) -> str:
        """``migrated=False``: no table yet (PostgreSQL), for the migration tests."""
        if server is None:
            return str(tmp_path_factory.mktemp("db") / "test.sqlite3")
        return server.new_database(migrated=migrated)

    return make


def _app_maker(tmp_path_factory, atlas, new_database):
    def make(**config):
        instance = tmp_path_factory.mktemp("instance")
        return create_app(
            {
                "TESTING": True,
                "ATLAS": atlas,
                "DATABASE": new_database(),
                "EXPORT_CACHE_DIR": str(instance / "exports"),
                "PHOTOS": str(instance / "photos"),
                "EXPORT_WAIT": None,  # downloads wait for their build (geoapp.web.exports)
                "SECRET_KEY": "test-secret",
                **config,
            }
        )

    return make


@pytest.fixture(scope="session")
def app_factory(tmp_path_factory, atlas, new_database):
    """Make apps on fresh databases (of each backend) and instance folders."""
    return _app_maker(tmp_path_factory, atlas, new_database)


@pytest.fixture
def app(app_factory):
    return app_factory()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


_MAP_DATA = re.compile(r'<script type="application/json" id="qmi-map-data">(.*?)</script>', re.S)


def map_data(page_html: str) -> dict:
    """The layers a map page hands to qmi-map.js, parsed from its JSON data block."""
    found = _MAP_DATA.search(page_html)
    assert found, "no map data block in the page"
    return json.loads(found.group(1))


def map_properties(page_html: str, couche: str) -> list[dict]:
    """The properties of every feature of one layer tag (``couche``) on a map page."""
    return [
        f["properties"]
        for layer in map_data(page_html)["layers"]
        if "features" in layer
        for f in layer["features"]["features"]
        if f["properties"].get("couche") == couche
    ]


def inline_experiments(page_html: str) -> dict:
    """The experiments' columns a map carries inline (the offline files)."""
    [layer] = [
        layer for layer in map_data(page_html)["layers"] if layer["key"] == "experimentations"
    ]
    assert layer["points"] is not None, "the experiments are fetched, not inline"
    return layer["points"]


_EXPERIMENTS_URL = re.compile(r'data-experiments="([^"]*)"')


def fetched_experiments(client, page_html: str) -> dict:
    """The experiments' columns a map page fetches, asked of its data endpoint by
    ``client`` as the page's JS does."""
    found = _EXPERIMENTS_URL.search(page_html)
    assert found, "no experiments source on the map frame"
    response = client.get(html.unescape(found.group(1)))
    assert response.status_code == 200, response.status_code
    return response.get_json()


def experiment_titles(points: dict) -> dict[int, str]:
    """``{id: "title — status"}`` of a map's experiments' columns (what a hover shows)."""
    return {
        i: f"{t} — {points['statuses'][s]}"
        for i, t, s in zip(points["id"], points["title"], points["status"], strict=True)
    }


TOKEN = "jeton-csrf-de-test"
PASSWORD = "motdepasse-tres-long"


def client_as(app, username: str | None = None, role: str = "editeur", commune: str | None = None):
    """A client logged in through /connexion (or anonymous), holding the CSRF token TOKEN."""
    client = app.test_client()
    if username:
        app.extensions["qmi_store"].add_user(username, PASSWORD, role=role, commune=commune)
        with client.session_transaction() as session:
            session["csrf"] = TOKEN
        r = client.post(
            "/connexion", data={"csrf_token": TOKEN, "username": username, "password": PASSWORD}
        )
        assert r.status_code == 302
    with client.session_transaction() as session:
        session["csrf"] = TOKEN  # login starts a new session: pin its token again
    return client


@pytest.fixture(scope="session")
def live_app(tmp_path_factory, atlas):
    """The browser tests' app, on SQLite: the web layer is backend-blind (the web tests
    through the test client run on both backends)."""
    return _app_maker(
        tmp_path_factory, atlas, lambda: str(tmp_path_factory.mktemp("live") / "live.sqlite3")
    )()


@contextmanager
def served(app) -> Iterator[str]:
    """``app`` served on a loopback port in a thread: its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


@pytest.fixture(scope="session")
def live_server(live_app):
    """The app served on a loopback port in a thread, for the browser tests."""
    with served(live_app) as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright; the suite fails loudly if it is missing."""
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.fail(
            f"Chromium introuvable ({CHROMIUM}) : installez le paquet Debian "
            "« chromium » (voir scripts/install-test-deps.sh)."
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class PageWatch:
    """Console errors, page errors, dialogs and blocked requests seen by one page."""

    def __init__(self):
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.blocked: list[str] = []


@pytest.fixture
def page(browser):
    """A fresh page whose requests to any non-loopback host are blocked and recorded.

    Tiles are the one expected outside request: blocking them must not break the page,
    so their failed loads are not counted as console errors; anything else is.
    """
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="fr-FR")
    page = context.new_page()
    watch = PageWatch()

    def route(r):
        host = urlparse(r.request.url).hostname or ""
        if r.request.url.startswith(("data:", "blob:", "file:")) or host in LOOPBACK:
            return r.continue_()
        watch.blocked.append(r.request.url)
        return r.abort("internetdisconnected")

    context.route("**/*", route)

    def on_console(msg):
        if msg.type != "error":
            return
        url = (msg.location or {}).get("url", "")
        if "tile.openstreetmap.org" in url or "tile.openstreetmap.org" in msg.text:
            return
        watch.errors.append(f"{msg.text} @ {url}")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: watch.errors.append(f"pageerror: {exc}"))

    def on_dialog(dialog):
        watch.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.watch = watch
    yield page
    context.close()


_CAPTURES: list[Path] = []


def screenshot(page, name: str) -> Path:
    """Keep a screenshot as a test artifact; its path is listed at the end of the run."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    _CAPTURES.append(path)
    return path


def pytest_terminal_summary(terminalreporter) -> None:
    """List the browser screenshots kept by this run, so they can be looked at."""
    if _CAPTURES:
        terminalreporter.section("captures d’écran (test-artifacts)")
        for path in _CAPTURES:
            terminalreporter.write_line(str(path))
