"""SQL for accounts and login attempts, with the brute-force limit.

Two roles: an ``editeur`` edits the experiments of one commune (INSEE code), an
``administrateur`` edits everything and manages accounts. Passwords are stored only as
werkzeug hashes (scrypt by default). Write functions run inside the caller's
transaction, except `authenticate`, which must not hold the write lock while hashing.
"""

import re
import secrets
import sqlite3
from functools import cache
from typing import Any

from werkzeug.security import check_password_hash, generate_password_hash

from geoapp.errors import GeoappError
from geoapp.store.db import transaction

ROLES = ("editeur", "administrateur")
MIN_PASSWORD = 10
MAX_FAILURES = 5
WINDOW_S = 15 * 60
KEEP_ATTEMPTS_S = 24 * 3600
MAX_KEY = 100
_USERNAME = re.compile(r"[A-Za-z0-9._-]{3,40}")
_INSEE = re.compile(r"\d{5}|2[AB]\d{3}")
_PUBLIC = "username, role, commune, created_at"
NOT_FOUND = "Utilisateur introuvable."
LOCKED = "Trop de tentatives de connexion. Réessayez dans 15 minutes."


def add(
    conn: sqlite3.Connection,
    username: str,
    password: str,
    *,
    role: str,
    commune: str | None,
    at: str,
) -> dict[str, Any]:
    """Create an account; 422 for a bad name, role, commune or password, 409 if taken."""
    _check_account(username, role, commune)
    _check_password(password)
    try:
        conn.execute(
            "INSERT INTO users (username, password_hash, role, commune, created_at,"
            " session_epoch) VALUES (?, ?, ?, ?, ?, ?)",
            (username, generate_password_hash(password), role, commune, at, _new_epoch()),
        )
    except sqlite3.IntegrityError as error:  # the primary key: the name is taken
        raise GeoappError(f"L'identifiant « {username} » est déjà utilisé.", 409) from error
    return {"username": username, "role": role, "commune": commune, "created_at": at}


def get(conn: sqlite3.Connection, username: str) -> dict[str, Any] | None:
    """The account without its hash, or ``None`` (names compare case-insensitively)."""
    row = conn.execute(f"SELECT {_PUBLIC} FROM users WHERE username = ?", (username,)).fetchone()
    return None if row is None else dict(row)


def list_all(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """All accounts without their hashes, by name."""
    return [dict(r) for r in conn.execute(f"SELECT {_PUBLIC} FROM users ORDER BY username")]


def set_password(conn: sqlite3.Connection, username: str, password: str) -> None:
    """Replace a password and end the account's sessions; 422 if too short, 404 if unknown."""
    _check_password(password)
    cursor = conn.execute(
        "UPDATE users SET password_hash = ?, session_epoch = ? WHERE username = ?",
        (generate_password_hash(password), _new_epoch(), username),
    )
    if cursor.rowcount != 1:
        raise GeoappError(NOT_FOUND, 404)


def session_epoch(conn: sqlite3.Connection, username: str) -> int | None:
    """The value a new session of ``username`` must carry; ``None`` for no such account."""
    row = conn.execute("SELECT session_epoch FROM users WHERE username = ?", (username,))
    found = row.fetchone()
    return None if found is None else found[0]


def session_user(conn: sqlite3.Connection, username: str, epoch: int) -> dict[str, Any] | None:
    """The account if a session carrying ``epoch`` is still valid for it, else ``None``."""
    row = conn.execute(
        f"SELECT {_PUBLIC} FROM users WHERE username = ? AND session_epoch = ?",
        (username, epoch),
    ).fetchone()
    return None if row is None else dict(row)


def end_sessions(conn: sqlite3.Connection, username: str) -> None:
    """Invalidate every session of ``username`` (nothing happens for an unknown name)."""
    conn.execute("UPDATE users SET session_epoch = ? WHERE username = ?", (_new_epoch(), username))


def _new_epoch() -> int:
    """A fresh random epoch: never one an earlier account of the same name had."""
    return 1 + secrets.randbelow(2**62)


def delete(conn: sqlite3.Connection, username: str) -> None:
    """Remove an account (its name stays in the history it signed); 404 if unknown."""
    if conn.execute("DELETE FROM users WHERE username = ?", (username,)).rowcount != 1:
        raise GeoappError(NOT_FOUND, 404)


def authenticate(
    conn: sqlite3.Connection, username: str, password: str, *, ip: str, now: float
) -> dict[str, Any] | None:
    """The account if the password matches, else ``None``; 429 while locked out.

    Locked when, within the last 15 minutes, 5 attempts failed for this username (counting
    only failures after its last successful login) or 5 failed from this IP address.
    A locked attempt is refused even with the right password and is not recorded, so
    the lock lifts 15 minutes after the failures that caused it. ``now`` is epoch seconds.
    Unknown names are hashed against a dummy hash so timing does not reveal which exist.
    The hash is checked outside any transaction; two simultaneous guesses may therefore
    both pass the check, which bounds the overshoot to the number of parallel requests.
    """
    username, ip = username[:MAX_KEY], (ip or "")[:MAX_KEY]  # bound what a guesser stores
    if _recent_failures(conn, username, ip, since=now - WINDOW_S) >= MAX_FAILURES:
        raise GeoappError(LOCKED, 429)
    row = conn.execute("SELECT password_hash FROM users WHERE username = ?", (username,)).fetchone()
    ok = check_password_hash(row[0] if row else _dummy_hash(), password) and row is not None
    with transaction(conn):
        conn.execute(
            "INSERT INTO login_attempts (username, ip, at, success) VALUES (?, ?, ?, ?)",
            (username, ip, now, int(ok)),
        )
        conn.execute("DELETE FROM login_attempts WHERE at < ?", (now - KEEP_ATTEMPTS_S,))
    return get(conn, username) if ok else None


def _recent_failures(conn: sqlite3.Connection, username: str, ip: str, *, since: float) -> int:
    """The larger of the username's and the IP's failure counts since ``since``."""
    by_user = conn.execute(
        "SELECT count(*) FROM login_attempts WHERE username = ? AND success = 0 AND at >= ?"
        " AND at > coalesce((SELECT max(at) FROM login_attempts"
        "                    WHERE username = ? AND success = 1), 0)",
        (username, since, username),
    ).fetchone()[0]
    by_ip = conn.execute(
        "SELECT count(*) FROM login_attempts WHERE ip = ? AND success = 0 AND at >= ?",
        (ip, since),
    ).fetchone()[0]
    return max(by_user, by_ip)


@cache
def _dummy_hash() -> str:
    return generate_password_hash("compte inexistant")


def _check_account(username: str, role: str, commune: str | None) -> None:
    if not _USERNAME.fullmatch(username or ""):
        raise GeoappError(
            "L'identifiant doit compter 3 à 40 caractères : lettres sans accent, chiffres, "
            "point, tiret ou tiret bas.",
            422,
        )
    if role not in ROLES:
        raise GeoappError(f"Rôle inconnu : « {role} ».", 422)
    if role == "editeur" and not _INSEE.fullmatch(commune or ""):
        raise GeoappError("Un éditeur doit être rattaché à une commune (code INSEE).", 422)
    if role == "administrateur" and commune is not None:
        raise GeoappError("Un administrateur n'est rattaché à aucune commune.", 422)


def _check_password(password: str) -> None:
    if len(password or "") < MIN_PASSWORD:
        raise GeoappError(f"Le mot de passe doit contenir au moins {MIN_PASSWORD} caractères.", 422)
