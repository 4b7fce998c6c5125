"""Accounts: hashing, roles, duplicates and the login rate limit (with a moved clock)."""

import sqlite3

import pytest

from geoapp.errors import GeoappError

PASSWORD = "correct horse battery"


@pytest.fixture
def editor(store):
    return store.add_user("ana", PASSWORD, role="editeur", commune="93005")


def test_add_and_read_users(store, editor):
    assert editor == {
        "username": "ana",
        "role": "editeur",
        "commune": "93005",
        "created_at": "2025-03-01T09:00:00+00:00",
    }
    store.add_user("admin", PASSWORD, role="administrateur")
    assert [u["username"] for u in store.list_users()] == ["admin", "ana"]
    assert store.get_user("ANA") == editor  # names compare case-insensitively
    assert store.get_user("nobody") is None
    assert all("password_hash" not in u for u in store.list_users())


def test_password_is_stored_hashed(store, editor, db_path):
    conn = sqlite3.connect(db_path)
    try:
        (stored,) = conn.execute("SELECT password_hash FROM users").fetchone()
    finally:
        conn.close()
    assert PASSWORD not in stored and stored.startswith(("scrypt:", "pbkdf2:"))


@pytest.mark.parametrize(
    ("username", "password", "role", "commune", "status"),
    [
        ("ana", PASSWORD, "editeur", "93005", 409),
        ("ANA", PASSWORD, "editeur", "93005", 409),
        ("bob", "court", "editeur", "93005", 422),
        ("bob", PASSWORD, "editeur", None, 422),
        ("bob", PASSWORD, "editeur", "Aulnay", 422),
        ("bob", PASSWORD, "administrateur", "93005", 422),
        ("bob", PASSWORD, "superviseur", None, 422),
        ("b", PASSWORD, "administrateur", None, 422),
        ("bob bob", PASSWORD, "administrateur", None, 422),
    ],
)
def test_add_user_refusals(store, editor, username, password, role, commune, status):
    with pytest.raises(GeoappError) as caught:
        store.add_user(username, password, role=role, commune=commune)
    assert caught.value.status == status


def test_short_password_message(store):
    with pytest.raises(GeoappError) as caught:
        store.add_user("bob", "123456789", role="administrateur")
    assert caught.value.message == "Le mot de passe doit contenir au moins 10 caractères."


def test_authenticate(store, editor):
    assert store.authenticate("ana", PASSWORD, ip="10.0.0.1") == editor
    assert store.authenticate("ana", "wrong password", ip="10.0.0.1") is None
    assert store.authenticate("ghost", PASSWORD, ip="10.0.0.1") is None


def test_set_password_and_delete_user(store, editor):
    store.set_password("ana", "another long secret")
    assert store.authenticate("ana", PASSWORD, ip="10.0.0.1") is None
    assert store.authenticate("ana", "another long secret", ip="10.0.0.1") == editor
    with pytest.raises(GeoappError) as caught:
        store.set_password("ana", "short")
    assert caught.value.status == 422
    store.delete_user("ana")
    assert store.get_user("ana") is None
    for call in (lambda: store.delete_user("ana"), lambda: store.set_password("ana", PASSWORD)):
        with pytest.raises(GeoappError) as caught:
            call()
        assert caught.value.status == 404


def fail(store, times, *, username="ana", ip="10.0.0.1"):
    for _ in range(times):
        assert store.authenticate(username, "wrong password", ip=ip) is None


def test_five_failures_lock_the_account_even_for_the_right_password(store, editor, clock):
    fail(store, 5)
    clock.advance(minutes=14)
    with pytest.raises(GeoappError) as caught:
        store.authenticate("ana", PASSWORD, ip="10.0.0.2")  # another IP: still locked
    assert caught.value.status == 429
    assert caught.value.message == "Trop de tentatives de connexion. Réessayez dans 15 minutes."


def test_lock_lifts_after_15_minutes(store, editor, clock):
    fail(store, 5)
    clock.advance(minutes=15, seconds=1)
    assert store.authenticate("ana", PASSWORD, ip="10.0.0.1") == editor


def test_four_failures_do_not_lock(store, editor):
    fail(store, 4)
    assert store.authenticate("ana", PASSWORD, ip="10.0.0.1") == editor


def test_failures_older_than_the_window_do_not_count(store, editor, clock):
    fail(store, 3)
    clock.advance(minutes=16)
    fail(store, 4)
    assert store.authenticate("ana", PASSWORD, ip="10.0.0.1") == editor


def test_a_successful_login_clears_the_username_count(store, editor):
    fail(store, 4, ip="10.0.0.1")
    assert store.authenticate("ana", PASSWORD, ip="10.0.0.2") == editor
    fail(store, 4, ip="10.0.0.3")
    assert store.authenticate("ana", PASSWORD, ip="10.0.0.4") == editor


def test_five_failures_from_one_ip_lock_that_ip(store, editor):
    for n in range(5):
        fail(store, 1, username=f"guess{n}", ip="203.0.113.9")
    with pytest.raises(GeoappError) as caught:
        store.authenticate("ana", PASSWORD, ip="203.0.113.9")
    assert caught.value.status == 429
    assert store.authenticate("ana", PASSWORD, ip="10.0.0.1") == editor


def test_session_epoch_changes_when_sessions_must_end(store, editor):
    first = store.session_epoch("ana")
    assert isinstance(first, int)
    assert store.session_user("ANA", first) == editor
    assert store.session_user("ana", first + 1) is None
    store.end_sessions("ana")
    second = store.session_epoch("ana")
    assert second != first and store.session_user("ana", first) is None
    store.set_password("ana", "another long secret")
    third = store.session_epoch("ana")
    assert third not in (first, second) and store.session_user("ana", second) is None
    store.delete_user("ana")
    assert store.session_epoch("ana") is None and store.session_user("ana", third) is None
    store.add_user("ana", PASSWORD, role="editeur", commune="93005")
    assert store.session_epoch("ana") not in (first, second, third)
    store.end_sessions("personne")  # an account removed meanwhile: nothing to end
