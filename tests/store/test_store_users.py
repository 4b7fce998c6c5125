"""Accounts: hashing, roles, duplicates and the login rate limit (with a moved clock)."""

import pytest
import sqlalchemy as sa

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


def test_password_is_stored_hashed(store, editor):
    with store.engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT password_hash FROM users")).scalar_one()
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


def refused_password(call) -> str:
    with pytest.raises(GeoappError) as caught:
        call()
    assert caught.value.status == 422
    return caught.value.message


def test_passwords_need_12_characters(store, editor):
    message = refused_password(lambda: store.add_user("bob", "k7#vQ2!mZp4", role="administrateur"))
    assert message == "Le mot de passe doit contenir au moins 12 caractères."
    assert refused_password(lambda: store.set_password("ana", "k7#vQ2!mZp4")) == message
    store.add_user("bob", "k7#vQ2!mZp4w", role="administrateur")  # 12 is enough


@pytest.mark.parametrize("password", ["ana-est-la-meilleure", "mot de passe d'ANA", "xxxAnaxxxxxx"])
def test_passwords_must_not_contain_the_username(store, editor, password):
    message = refused_password(lambda: store.set_password("ana", password))
    assert message == "Le mot de passe ne doit pas contenir l’identifiant."
    message = refused_password(
        lambda: store.add_user("Ana-93", f"{password}-ana-93", role="editeur", commune="93005")
    )
    assert message == "Le mot de passe ne doit pas contenir l’identifiant."


@pytest.mark.parametrize(
    "password",
    ["password1234", "PassWord1234", "123456789abc", "1234567890qwertyuiop", " 000000000000 "],
)
def test_common_passwords_are_refused(store, editor, password):
    message = refused_password(lambda: store.set_password("ana", password))
    assert message == (
        "Ce mot de passe fait partie des plus courants : choisissez-en un autre, par exemple "
        "une phrase de plusieurs mots."
    )
    assert store.authenticate("ana", PASSWORD, ip="10.0.0.1") == editor  # unchanged


def test_the_common_password_list_ships_with_the_package():
    import gzip
    import tomllib
    from importlib.resources import files

    from geoapp.config import PROJECT_ROOT

    bundled = files("geoapp") / "data" / "common-passwords.txt.gz"
    with gzip.open(bundled, "rt", encoding="utf-8") as handle:
        words = {line.strip() for line in handle}
    assert len(words) > 19000 and "password1234" in words
    assert "motdepasse-tres-long" not in words  # tests/conftest.py's password is valid
    pyproject = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    data = pyproject["tool"]["setuptools"]["package-data"]["geoapp"]
    assert "data/common-passwords.txt.gz" in data and "data/common-passwords.LICENSE" in data


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


def fail(store, times=1, *, username="ana", ip="10.0.0.1"):
    for _ in range(times):
        assert store.authenticate(username, "wrong password", ip=ip) is None


def wait_of(store, *, username="ana", ip="10.0.0.1") -> int:
    """The seconds the next attempt must wait (asking changes nothing)."""
    return store.login_wait(username, ip=ip)


def waits(store, clock, count, **where) -> list[int]:
    """Fail ``count`` times, each as soon as allowed: the wait imposed after each one."""
    imposed = []
    for _ in range(count):
        clock.advance(seconds=wait_of(store, **where))
        fail(store, **where)
        imposed.append(wait_of(store, **where))
    return imposed


def refusal(store, *, username="ana", ip="10.0.0.1", password=PASSWORD) -> GeoappError:
    with pytest.raises(GeoappError) as caught:
        store.authenticate(username, password, ip=ip)
    assert caught.value.status == 429
    return caught.value


def test_three_failures_cost_nothing_then_waits_double_up_to_15_minutes(store, editor, clock):
    assert waits(store, clock, 16) == [0, 0, 0] + [2**k for k in range(10)] + [900] * 3


def test_an_early_attempt_is_refused_in_french_and_not_checked(store, editor, clock):
    waits(store, clock, 6)
    error = refusal(store)  # even with the right password
    assert error.message == "Trop de tentatives de connexion : réessayez dans 4 secondes."
    assert error.details == {"retry_after": 4}
    clock.advance(seconds=3)
    assert refusal(store).details == {"retry_after": 1}  # refusals did not add to the wait
    clock.advance(seconds=1)
    assert store.authenticate("ana", PASSWORD, ip="10.0.0.1") == editor


def test_wait_messages_say_minutes_when_long(store, editor, clock):
    waits(store, clock, 14)
    error = refusal(store)
    assert error.message == "Trop de tentatives de connexion : réessayez dans 15 minutes."
    assert error.details == {"retry_after": 900}
    clock.advance(minutes=13, seconds=30)
    assert refusal(store).message == ("Trop de tentatives de connexion : réessayez dans 2 minutes.")
    clock.advance(seconds=89)
    assert refusal(store).message == ("Trop de tentatives de connexion : réessayez dans 1 seconde.")


def test_a_stranger_cannot_lock_the_real_user_out(store, editor, clock):
    """A guesser on one address, then a botnet of 40: the user waits 30 s at most."""
    assert waits(store, clock, 30, ip="203.0.113.9")[-1] == 900  # the guesser is slowed
    botnet = [waits(store, clock, 1, ip=f"198.51.100.{n}")[0] for n in range(40)]
    assert max(botnet) == 30  # the account's own wait is capped at 30 s
    assert wait_of(store, ip="10.0.0.1") == 30  # so is the user's
    clock.advance(seconds=30)
    assert store.authenticate("ana", PASSWORD, ip="10.0.0.1") == editor


def test_an_address_the_account_logged_in_from_skips_the_account_wait(store, editor, clock):
    assert store.authenticate("ana", PASSWORD, ip="10.0.0.1") == editor
    clock.advance(days=6)
    for n in range(40):
        waits(store, clock, 1, ip=f"198.51.100.{n}")
    assert wait_of(store, ip="192.0.2.7") == 30  # an address never seen waits 30 s
    assert wait_of(store, ip="10.0.0.1") == 0  # the user's usual address does not
    assert store.authenticate("ana", PASSWORD, ip="10.0.0.1") == editor


def test_one_address_guessing_many_names_is_slowed_for_all_names(store, editor, clock):
    for n in range(5):
        fail(store, username=f"guess{n}", ip="203.0.113.9")
    assert wait_of(store, ip="203.0.113.9") == 0  # five free guesses per address
    fail(store, username="guess5", ip="203.0.113.9")
    assert wait_of(store, ip="203.0.113.9") == 1  # then the waits double
    assert wait_of(store, username="guess6", ip="203.0.113.9") == 1
    assert store.authenticate("ana", PASSWORD, ip="10.0.0.1") == editor  # others are not


def test_a_successful_login_clears_the_account_and_pair_counts(store, editor, clock):
    waits(store, clock, 5)
    clock.advance(seconds=2)
    assert store.authenticate("ana", PASSWORD, ip="10.0.0.1") == editor
    assert waits(store, clock, 4) == [0, 0, 0, 1]


def test_failures_older_than_an_hour_do_not_count(store, editor, clock):
    waits(store, clock, 6)
    clock.advance(hours=1, seconds=1)
    assert waits(store, clock, 4) == [0, 0, 0, 1]


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


def test_names_holding_nul_match_no_account_and_are_throttled_like_others(store, editor, clock):
    """PostgreSQL's text cannot hold NUL: such a name finds nothing on both backends, and
    failed logins with it still count, instead of a driver error."""
    assert store.get_user("ana\x00") is None and store.session_epoch("\x00") is None
    assert store.session_user("ana\x00", 1) is None
    store.end_sessions("ana\x00")
    assert waits(store, clock, 4, username="ana\x00", ip="10.0.0.\x00") == [0, 0, 0, 1]
    assert store.authenticate("ana", PASSWORD, ip="10.0.0.1") == editor
