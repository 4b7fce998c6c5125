"""SQL for accounts and login attempts, with the brute-force throttle.

Two roles: an ``editeur`` edits the experiments of one commune (INSEE code), an
``administrateur`` edits everything and manages accounts. Passwords are stored only as
werkzeug hashes (scrypt by default). Write functions run inside the caller's
transaction, except `authenticate`, which must not hold the write lock while hashing.

Failed logins slow down further attempts; nothing ever locks an account. Each failure
belongs to three scopes: its (account, address) pair, its address (whatever the name)
and its account (whatever the address). In each scope the failures of the current
streak (no quiet hour between them, none followed by a success of the same account —
from the same address for the pair and address scopes) ask for a wait after the latest:

* pair: 3 free, then 1 s, 2 s, 4 s… up to 15 minutes;
* address: 5 free, then the same doubling up to 15 minutes;
* account: 3 free, then the same doubling up to **30 s** only, and not at all from an
  address the account logged in from within 30 days: failures made by strangers
  elsewhere cannot keep the real user out.

An attempt that comes before the longest wait is over is refused with a 429 that says
how long to wait, without checking the password nor being recorded. Nothing sleeps.
"""

import gzip
import math
import re
import secrets
import sqlite3
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from werkzeug.security import check_password_hash, generate_password_hash

from geoapp.errors import GeoappError
from geoapp.store.db import transaction
from geoapp.vocabulary import ADMIN, EDITOR, ROLES

MIN_PASSWORD = 12
COMMON_PASSWORDS = Path(__file__).resolve().parent.parent / "data" / "common-passwords.txt.gz"
KEEP_FAILURES_S = 24 * 3600
KEEP_SUCCESSES_S = 30 * 24 * 3600  # how long an address stays "known" for its account
QUIET_S = 3600  # an hour without failure ends a streak
MAX_KEY = 100
_USERNAME = re.compile(r"[A-Za-z0-9._-]{3,40}")
_INSEE = re.compile(r"\d{5}|2[AB]\d{3}")
_PUBLIC = "username, role, commune, created_at"
NOT_FOUND = "Utilisateur introuvable."
THROTTLED = "Trop de tentatives de connexion : réessayez dans {wait}."


@dataclass(frozen=True)
class Slowdown:
    """Waits asked by one scope: ``free`` failures cost nothing, then 1 s doubling."""

    free: int
    cap_s: float

    def wait_after(self, failures: int) -> float:
        if failures <= self.free:
            return 0.0
        return min(self.cap_s, 2.0 ** (failures - self.free - 1))


PAIR = Slowdown(free=3, cap_s=15 * 60)
ADDRESS = Slowdown(free=5, cap_s=15 * 60)
ACCOUNT = Slowdown(free=3, cap_s=30)
# Enough failures of a streak to reach every cap (2**10 s > 15 minutes).
_STREAK_LIMIT = 20


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
    _check_password(password, username)
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
    """Replace a password and end the account's sessions; 422 if too weak, 404 if unknown."""
    _check_password(password, username)
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
    """The account if the password matches, else ``None``; 429 if the attempt is early.

    ``now`` is epoch seconds. An early attempt (see the module doc) is refused even with
    the right password, is not recorded, and its 429 carries ``details["retry_after"]``
    (whole seconds). Unknown names are hashed against a dummy hash so timing does not
    reveal which exist. The hash is checked outside any transaction; simultaneous
    guesses may therefore all pass the wait check, at most one per server thread.
    """
    username, ip = username[:MAX_KEY], (ip or "")[:MAX_KEY]  # bound what a guesser stores
    wait = required_wait(conn, username, ip, now=now)
    if wait > 0:
        raise GeoappError(
            THROTTLED.format(wait=_french_wait(wait)), 429, details={"retry_after": wait}
        )
    row = conn.execute("SELECT password_hash FROM users WHERE username = ?", (username,)).fetchone()
    ok = check_password_hash(row[0] if row else _dummy_hash(), password) and row is not None
    with transaction(conn):
        conn.execute(
            "INSERT INTO login_attempts (username, ip, at, success) VALUES (?, ?, ?, ?)",
            (username, ip, now, int(ok)),
        )
        conn.execute(
            "DELETE FROM login_attempts WHERE at < ? AND (success = 0 OR at < ?)",
            (now - KEEP_FAILURES_S, now - KEEP_SUCCESSES_S),
        )
    return get(conn, username) if ok else None


def required_wait(conn: sqlite3.Connection, username: str, ip: str, *, now: float) -> int:
    """Whole seconds before ``username`` may try again from ``ip`` (0: now)."""
    username, ip = username[:MAX_KEY], (ip or "")[:MAX_KEY]
    since = now - KEEP_FAILURES_S
    # Failures not followed by a success of the same account (from the same address
    # for the pair and the address scopes): a user who got it right is forgiven.
    pair = conn.execute(
        "SELECT f.at FROM login_attempts f WHERE f.username = ? AND f.ip = ?"
        " AND f.success = 0 AND f.at >= ? AND NOT EXISTS (SELECT 1 FROM login_attempts s"
        "  WHERE s.username = f.username AND s.ip = f.ip AND s.success = 1 AND s.at > f.at)"
        " ORDER BY f.at DESC LIMIT ?",
        (username, ip, since, _STREAK_LIMIT),
    )
    address = conn.execute(
        "SELECT f.at FROM login_attempts f WHERE f.ip = ?"
        " AND f.success = 0 AND f.at >= ? AND NOT EXISTS (SELECT 1 FROM login_attempts s"
        "  WHERE s.username = f.username AND s.ip = f.ip AND s.success = 1 AND s.at > f.at)"
        " ORDER BY f.at DESC LIMIT ?",
        (ip, since, _STREAK_LIMIT),
    )
    scopes = [(PAIR, pair), (ADDRESS, address)]
    known = conn.execute(
        "SELECT 1 FROM login_attempts WHERE username = ? AND ip = ? AND success = 1",
        (username, ip),
    ).fetchone()
    if not known:
        account = conn.execute(
            "SELECT f.at FROM login_attempts f WHERE f.username = ?"
            " AND f.success = 0 AND f.at >= ? AND NOT EXISTS (SELECT 1 FROM login_attempts s"
            "  WHERE s.username = f.username AND s.success = 1 AND s.at > f.at)"
            " ORDER BY f.at DESC LIMIT ?",
            (username, since, _STREAK_LIMIT),
        )
        scopes.append((ACCOUNT, account))
    wait = 0.0
    for slowdown, rows in scopes:
        times = [r[0] for r in rows]
        wait = max(wait, _remaining(slowdown, times, now))
    return math.ceil(wait)


def _remaining(slowdown: Slowdown, times: list[float], now: float) -> float:
    """Seconds left of the wait that the streak ending at ``times[0]`` asks for."""
    if not times or now - times[0] >= QUIET_S:
        return 0.0
    streak = 1
    while streak < len(times) and times[streak - 1] - times[streak] < QUIET_S:
        streak += 1
    return max(0.0, times[0] + slowdown.wait_after(streak) - now)


def _french_wait(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} seconde{'s' if seconds > 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'s' if minutes > 1 else ''}"


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
    if role == EDITOR and not _INSEE.fullmatch(commune or ""):
        raise GeoappError("Un éditeur doit être rattaché à une commune (code INSEE).", 422)
    if role == ADMIN and commune is not None:
        raise GeoappError("Un administrateur n'est rattaché à aucune commune.", 422)


def _check_password(password: str, username: str) -> None:
    """ASVS level 1: 12 characters or more, not the name, not a common password."""
    password = password or ""
    if len(password) < MIN_PASSWORD:
        raise GeoappError(f"Le mot de passe doit contenir au moins {MIN_PASSWORD} caractères.", 422)
    if username and username.casefold() in password.casefold():
        raise GeoappError("Le mot de passe ne doit pas contenir l’identifiant.", 422)
    if password.strip().lower() in _common_passwords():
        raise GeoappError(
            "Ce mot de passe fait partie des plus courants : choisissez-en un autre, par exemple "
            "une phrase de plusieurs mots.",
            422,
        )


@cache
def _common_passwords() -> frozenset[str]:
    """Django's list of about 20,000 common passwords, lowercased (see its LICENSE file)."""
    with gzip.open(COMMON_PASSWORDS, "rt", encoding="utf-8") as handle:
        return frozenset(line.strip() for line in handle)
