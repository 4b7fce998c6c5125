"""Accounts in the browser: login, rate limit, logout, sessions, cookies, CSRF, redirects."""

import html
import re
from datetime import timedelta
from urllib.parse import urlparse

import pytest

from tests.store.conftest import Clock

PASSWORD = "motdepasse-sceaux"
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def app(app_factory, clock):
    return app_factory(CLOCK=clock)


@pytest.fixture
def store(app):
    return app.extensions["qmi_store"]


@pytest.fixture
def editor(store):
    return store.add_user("sceaux-editeur", PASSWORD, role="editeur", commune="92071")


def page_token(client, url: str = "/connexion") -> str:
    """The CSRF token of the hidden input a page renders, as a browser would send it."""
    match = CSRF_INPUT.search(client.get(url).get_data(as_text=True))
    assert match, f"no CSRF field on {url}"
    return match.group(1)


def login(client, username: str, password: str, **extra):
    data = {"csrf_token": page_token(client), "username": username, "password": password, **extra}
    return client.post("/connexion", data=data)


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_login_page_is_french_and_carries_a_token(client):
    r = client.get("/connexion")
    assert r.status_code == 200
    body = text(r)
    assert "Connexion" in body and "Mot de passe" in body
    assert CSRF_INPUT.search(r.get_data(as_text=True))


def test_login_ok_opens_a_session(client, editor):
    r = login(client, "sceaux-editeur", PASSWORD)
    assert r.status_code == 302
    assert r.headers["Location"] == "/"
    with client.session_transaction() as session:
        assert session["user"] == "sceaux-editeur"
    body = text(client.get("/"))
    assert "Bienvenue, sceaux-editeur." in body
    assert "sceaux-editeur (éditeur)" in body and "Déconnexion" in body


@pytest.mark.parametrize(
    "username, password",
    [
        ("sceaux-editeur", "mauvais-mot-de-passe"),
        ("inconnu", PASSWORD),
        ("sceaux-editeur", ""),
    ],
)
def test_login_ko_is_a_french_401(client, editor, username, password):
    r = login(client, username, password)
    assert r.status_code == 401
    body = text(r)
    assert "Identifiant ou mot de passe incorrect." in body
    assert f'value="{username}"' in r.get_data(as_text=True)  # the typed name is kept
    with client.session_transaction() as session:
        assert "user" not in session


def test_an_early_attempt_is_a_french_429_with_retry_after(client, editor, clock):
    for _ in range(4):
        assert login(client, "sceaux-editeur", "mauvais-mot-de-passe").status_code == 401
    r = login(client, "sceaux-editeur", PASSWORD)  # even the right password is refused
    assert r.status_code == 429
    assert r.headers["Retry-After"] == "1"
    body = text(r)
    assert "Trop de tentatives de connexion : réessayez dans 1 seconde." in body
    assert '<html lang="fr">' in body and "Traceback" not in body
    assert 'value="sceaux-editeur"' in body  # the form is there to try again
    with client.session_transaction() as session:
        assert "user" not in session
    clock.advance(seconds=1)
    assert login(client, "sceaux-editeur", PASSWORD).status_code == 302


def test_waits_grow_but_never_lock(client, editor, clock):
    for wait in (0, 0, 0, 1, 2, 4, 8):
        assert login(client, "sceaux-editeur", "mauvais-mot-de-passe").status_code == 401
        if wait:
            early = login(client, "sceaux-editeur", PASSWORD)
            assert (early.status_code, early.headers["Retry-After"]) == (429, str(wait))
            clock.advance(seconds=wait)
    assert login(client, "sceaux-editeur", PASSWORD).status_code == 302


def test_guesses_from_one_address_across_names_slow_that_address(app, client, editor):
    for name in ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot"):
        assert login(client, name, "devine-devine").status_code == 401
    assert login(client, "sceaux-editeur", PASSWORD).status_code == 429
    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "192.0.2.44"
    assert login(elsewhere, "sceaux-editeur", PASSWORD).status_code == 302


def test_forwarded_for_is_ignored_without_a_trusted_proxy(client, editor):
    for n in range(6):
        headers = {"X-Forwarded-For": f"198.51.100.{n}"}
        data = {"csrf_token": page_token(client), "username": f"nom{n}", "password": "x"}
        assert client.post("/connexion", data=data, headers=headers).status_code == 401
    # Six failures from one address, whatever the header claimed.
    assert login(client, "sceaux-editeur", PASSWORD).status_code == 429


def test_forwarded_for_is_the_address_behind_a_trusted_proxy(app_factory, clock):
    app = app_factory(CLOCK=clock, TRUSTED_PROXIES=1)
    app.extensions["qmi_store"].add_user(
        "sceaux-editeur", PASSWORD, role="editeur", commune="92071"
    )
    client = app.test_client()

    def attempt(name, password, address):
        data = {"csrf_token": page_token(client), "username": name, "password": password}
        return client.post("/connexion", data=data, headers={"X-Forwarded-For": address})

    for n in range(6):
        assert attempt(f"nom{n}", "x", "203.0.113.9").status_code == 401
    assert attempt("sceaux-editeur", PASSWORD, "203.0.113.9").status_code == 429
    # The proxy's own address (the test client's) is not the one slowed down.
    assert attempt("sceaux-editeur", PASSWORD, "192.0.2.44").status_code == 302


def test_logout_ends_the_session(client, editor):
    login(client, "sceaux-editeur", PASSWORD)
    token = page_token(client, "/")
    r = client.post("/deconnexion", data={"csrf_token": token})
    assert r.status_code == 302 and r.headers["Location"] == "/"
    with client.session_transaction() as session:
        assert "user" not in session
    body = text(client.get("/"))
    assert "Vous êtes déconnecté." in body
    assert "Déconnexion" not in body


def test_logout_is_post_only(client, editor):
    login(client, "sceaux-editeur", PASSWORD)
    assert client.get("/deconnexion").status_code == 405
    with client.session_transaction() as session:
        assert session["user"] == "sceaux-editeur"


def cookie_attributes(response) -> dict:
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert len(cookies) == 1
    return {part.strip().split("=")[0].lower(): part.strip() for part in cookies[0].split(";")[1:]}


def test_session_cookie_is_httponly_and_samesite_lax(client, editor):
    attributes = cookie_attributes(login(client, "sceaux-editeur", PASSWORD))
    assert "httponly" in attributes
    assert attributes.get("samesite") == "SameSite=Lax"
    assert "secure" not in attributes  # plain HTTP by default (GEOAPP_SECURE_COOKIES=0)


def test_secure_cookies_setting_marks_the_session_cookie_secure(app_factory, editor):
    secure = app_factory(SESSION_COOKIE_SECURE=True)
    secure.extensions["qmi_store"].add_user(
        "sceaux-editeur", PASSWORD, role="editeur", commune="92071"
    )
    client = secure.test_client()
    attributes = cookie_attributes(login(client, "sceaux-editeur", PASSWORD))
    assert "secure" in attributes


def test_session_cookie_expires_with_the_session_lifetime(app, client, editor):
    assert app.permanent_session_lifetime == timedelta(hours=8)
    attributes = cookie_attributes(login(client, "sceaux-editeur", PASSWORD))
    assert "expires" in attributes  # a permanent session, not "until the browser closes"


def logged_in(client) -> bool:
    return "Déconnexion" in text(client.get("/methode"))


def cookie_of(client) -> str:
    return client.get_cookie("session").value


def client_with_cookie(app, value: str):
    other = app.test_client()
    other.set_cookie("session", value)
    return other


def test_login_renews_the_session(client, editor):
    before = page_token(client)
    with client.session_transaction() as session:
        session["planted"] = "par un tiers"
    login(client, "sceaux-editeur", PASSWORD)
    with client.session_transaction() as session:
        assert "planted" not in session
    assert page_token(client, "/methode") != before


def test_logout_ends_every_session_of_the_account(app, client, editor):
    login(client, "sceaux-editeur", PASSWORD)
    laptop = app.test_client()
    login(laptop, "sceaux-editeur", PASSWORD)
    copied = client_with_cookie(app, cookie_of(client))
    assert logged_in(client) and logged_in(laptop) and logged_in(copied)
    stolen = cookie_of(client)
    client.post("/deconnexion", data={"csrf_token": page_token(client, "/methode")})
    assert not logged_in(client)
    assert not logged_in(laptop)
    assert not logged_in(copied)
    assert not logged_in(client_with_cookie(app, stolen))


def test_password_change_ends_every_session(app, client, store, editor):
    login(client, "sceaux-editeur", PASSWORD)
    stolen = cookie_of(client)
    store.set_password("sceaux-editeur", "un-nouveau-mot-de-passe")
    assert not logged_in(client)
    assert not logged_in(client_with_cookie(app, stolen))
    login(client, "sceaux-editeur", "un-nouveau-mot-de-passe")
    assert logged_in(client)


def test_removing_the_account_ends_its_sessions_even_if_the_name_is_reused(
    app, client, store, editor
):
    login(client, "sceaux-editeur", PASSWORD)
    stolen = cookie_of(client)
    store.delete_user("sceaux-editeur")
    assert not logged_in(client_with_cookie(app, stolen))
    store.add_user("sceaux-editeur", PASSWORD, role="administrateur")
    assert not logged_in(client_with_cookie(app, stolen))


def test_a_session_ends_after_its_lifetime_even_when_used(client, editor, clock):
    login(client, "sceaux-editeur", PASSWORD)
    for _ in range(7):
        clock.advance(hours=1)
        assert logged_in(client)  # each request renews the cookie...
    clock.advance(hours=1, seconds=1)
    assert not logged_in(client)  # ...but the login itself is 8 hours old


def test_a_session_without_its_login_stamp_is_refused(client, editor):
    login(client, "sceaux-editeur", PASSWORD)
    with client.session_transaction() as session:
        del session["login_at"]
    assert not logged_in(client)


@pytest.mark.parametrize("token", [None, "", "faux-jeton", "jeton-accentué-é", "\u202e"])
def test_login_without_valid_csrf_is_refused(client, editor, token):
    page_token(client)  # the session has a token; the request does not carry it
    data = {"username": "sceaux-editeur", "password": PASSWORD}
    if token is not None:
        data["csrf_token"] = token
    r = client.post("/connexion", data=data)
    assert r.status_code == 400
    assert "Jeton de sécurité (CSRF) absent ou expiré" in text(r)
    with client.session_transaction() as session:
        assert "user" not in session


def test_non_ascii_csrf_header_is_a_400_not_a_crash(client, editor):
    page_token(client)
    r = client.post(
        "/connexion",
        data={"username": "sceaux-editeur", "password": PASSWORD},
        headers={"X-CSRF-Token": "jeton-\u00e9".encode().decode("latin-1")},
    )
    assert r.status_code == 400


def test_csrf_token_in_header_is_accepted(client, editor):
    token = page_token(client)
    r = client.post(
        "/connexion",
        data={"username": "sceaux-editeur", "password": PASSWORD},
        headers={"X-CSRF-Token": token},
    )
    assert r.status_code == 302


def _sceaux_form(atlas) -> dict:
    lon, lat = atlas.centres_lonlat()["sceaux-les-blagis"]
    return {
        "title": "Jardin sans jeton",
        "organisation": "Association des Blagis",
        "org_kind": "association",
        "theme": "espaces publics",
        "objectives": [atlas.objectives()["sceaux-les-blagis"][0]],
        "description": "Un jardin partagé.",
        "status": "proposée",
        "precision": "exacte",
        "lon": str(lon),
        "lat": str(lat),
    }


@pytest.mark.parametrize("token", [None, "faux-jeton"])
def test_write_without_valid_csrf_is_refused_and_stores_nothing(
    client, store, atlas, editor, token
):
    login(client, "sceaux-editeur", PASSWORD)
    page_token(client, "/quartiers/sceaux-les-blagis")
    before = (store.list_experiments(include_withdrawn=True), store.data_version())
    data = _sceaux_form(atlas)
    if token is not None:
        data["csrf_token"] = token
    r = client.post("/quartiers/sceaux-les-blagis/experimentations", data=data)
    assert r.status_code == 400
    assert "Jeton de sécurité (CSRF) absent ou expiré" in text(r)
    assert (store.list_experiments(include_withdrawn=True), store.data_version()) == before


def test_the_same_form_with_its_token_is_stored(client, store, atlas, editor):
    """Control for the CSRF refusals above: only the token differs."""
    login(client, "sceaux-editeur", PASSWORD)
    token = page_token(client, "/quartiers/sceaux-les-blagis")
    count = len(store.list_experiments())
    r = client.post(
        "/quartiers/sceaux-les-blagis/experimentations",
        data={**_sceaux_form(atlas), "csrf_token": token},
    )
    assert r.status_code == 302
    assert len(store.list_experiments()) == count + 1


def test_a_token_from_another_session_is_refused(app, editor):
    other = app.test_client()
    stolen = page_token(other)
    client = app.test_client()
    page_token(client)
    r = client.post(
        "/connexion",
        data={"csrf_token": stolen, "username": "sceaux-editeur", "password": PASSWORD},
    )
    assert r.status_code == 400


@pytest.mark.parametrize(
    "target",
    [
        "//evil.com",
        "//evil.com/quartiers",
        "https://evil.com/",
        "http://evil.com",
        "/\\evil.com",
        "\\\\evil.com",
        " //evil.com",
        "/\t/evil.com",
        "javascript:alert(1)",
    ],
)
def test_login_refuses_open_redirects(client, editor, target):
    r = login(client, "sceaux-editeur", PASSWORD, next=target)
    assert r.status_code == 302
    location = r.headers["Location"]
    parsed = urlparse(location)
    assert parsed.scheme == "" and parsed.netloc == ""
    assert location.startswith("/") and not location.startswith(("//", "/\\"))
    assert "\\" not in location and "\t" not in location


def test_login_follows_a_local_next(client, editor):
    r = login(client, "sceaux-editeur", PASSWORD, next="/quartiers/sceaux-les-blagis")
    assert r.status_code == 302
    assert r.headers["Location"] == "/quartiers/sceaux-les-blagis"


def test_login_link_of_a_district_page_carries_next(client):
    body = client.get("/quartiers/sceaux-les-blagis").get_data(as_text=True)
    assert "/connexion?next=/quartiers/sceaux-les-blagis" in body
    form = client.get("/connexion?next=/quartiers/sceaux-les-blagis").get_data(as_text=True)
    assert 'name="next" value="/quartiers/sceaux-les-blagis"' in form
