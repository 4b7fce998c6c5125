"""SQL for accounts and login attempts, with the brute-force throttle.

Two roles: an ``editeur`` edits the experiments of one commune (INSEE code), an
``administrateur`` edits everything and manages accounts. Passwords are stored only as
werkzeug hashes (scrypt by default). Functions run inside the caller's transaction,
except `authenticate`, which must not hold a transaction open while hashing.

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
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from werkzeug.security import check_password_hash, generate_password_hash

from geoapp.errors import GeoappError
from geoapp.store.db import equals, read, write
from geoapp.store.schema import login_attempts, users
from geoapp.vocabulary import ADMIN, EDITOR, ROLES

MIN_PASSWORD = 12
COMMON_PASSWORDS = Path(__file__).resolve().parent.parent / "data" / "common-passwords.txt.gz"
KEEP_FAILURES_S = 24 * 3600
KEEP_SUCCESSES_S = 30 * 24 * 3600  # how long an address stays "known" for its account
QUIET_S = 3600  # an hour without failure ends a streak
MAX_KEY = 100
_USERNAME = re.compile(r"[A-Za-z0-9._-]{3,40}")
_INSEE = re.compile(r"\d{5}|2[AB]\d{3}")
_PUBLIC = ("username", "role", "commune", "created_at")
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
    conn: sa.Connection,
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
    row = {
        "username": username,
        "password_hash": generate_password_hash(password),
        "role": role,
        "commune": commune,
        "created_at": at,
        "session_epoch": _new_epoch(),
    }
    try:
        conn.execute(sa.insert(users).values(row))
    except sa.exc.IntegrityError as error:  # the primary key: the name is taken
        raise GeoappError(f"L'identifiant « {username} » est déjà utilisé.", 409) from error
    return {"username": username, "role": role, "commune": commune, "created_at": at}


def _public(*where: sa.ColumnElement[bool]) -> sa.Select:
    return sa.select(*(users.c[name] for name in _PUBLIC)).where(*where)


def get(conn: sa.Connection, username: str) -> dict[str, Any] | None:
    """The account without its hash, or ``None`` (names compare case-insensitively)."""
    row = conn.execute(_public(equals(users.c.username, username))).mappings().first()
    return None if row is None else dict(row)


def list_all(conn: sa.Connection) -> list[dict[str, Any]]:
    """All accounts without their hashes, by name."""
    return [dict(r) for r in conn.execute(_public().order_by(users.c.username)).mappings()]


def set_password(conn: sa.Connection, username: str, password: str) -> None:
    """Replace a password and end the account's sessions; 422 if too weak, 404 if unknown."""
    _check_password(password, username)
    result = conn.execute(
        sa.update(users)
        .where(equals(users.c.username, username))
        .values(password_hash=generate_password_hash(password), session_epoch=_new_epoch())
    )
    if result.rowcount != 1:
        raise GeoappError(NOT_FOUND, 404)


def session_epoch(conn: sa.Connection, username: str) -> int | None:
    """The value a new session of ``username`` must carry; ``None`` for no such account."""
    query = sa.select(users.c.session_epoch).where(equals(users.c.username, username))
    return conn.execute(query).scalar()


def session_user(conn: sa.Connection, username: str, epoch: int) -> dict[str, Any] | None:
    """The account if a session carrying ``epoch`` is still valid for it, else ``None``."""
    query = _public(equals(users.c.username, username), users.c.session_epoch == epoch)
    row = conn.execute(query).mappings().first()
    return None if row is None else dict(row)


def end_sessions(conn: sa.Connection, username: str) -> None:
    """Invalidate every session of ``username`` (nothing happens for an unknown name)."""
    conn.execute(
        sa.update(users)
        .where(equals(users.c.username, username))
        .values(session_epoch=_new_epoch())
    )


def _new_epoch() -> int:
    """A fresh random epoch: never one an earlier account of the same name had."""
    return 1 + secrets.randbelow(2**62)


def delete(conn: sa.Connection, username: str) -> None:
    """Remove an account (its name stays in the history it signed); 404 if unknown."""
    if conn.execute(sa.delete(users).where(equals(users.c.username, username))).rowcount != 1:
        raise GeoappError(NOT_FOUND, 404)


def authenticate(
    conn: sa.Connection, username: str, password: str, *, ip: str, now: float
) -> dict[str, Any] | None:
    """The account if the password matches, else ``None``; 429 if the attempt is early.

    ``conn`` is in no transaction: the checks run in a read transaction, the hash outside
    any (it takes a good fraction of a second), the record of the attempt in a short
    write transaction. ``now`` is epoch seconds. An early attempt (see the module doc)
    is refused even with the right password, is not recorded, and its 429 carries
    ``details["retry_after"]`` (whole seconds). Unknown names are hashed against a dummy
    hash so timing does not reveal which exist. Simultaneous guesses may therefore all
    pass the wait check, at most one per server thread.
    """
    username, ip = _key(username), _key(ip)
    with read(conn):
        wait = required_wait(conn, username, ip, now=now)
        if wait > 0:
            raise GeoappError(
                THROTTLED.format(wait=_french_wait(wait)), 429, details={"retry_after": wait}
            )
        query = sa.select(users.c.password_hash).where(equals(users.c.username, username))
        stored = conn.execute(query).scalar()
    ok = check_password_hash(stored or _dummy_hash(), password) and stored is not None
    attempts = login_attempts.c
    with write(conn):
        conn.execute(
            sa.insert(login_attempts).values(username=username, ip=ip, at=now, success=int(ok))
        )
        conn.execute(
            sa.delete(login_attempts).where(
                attempts.at < now - KEEP_FAILURES_S,
                sa.or_(attempts.success == 0, attempts.at < now - KEEP_SUCCESSES_S),
            )
        )
    if not ok:
        return None
    with read(conn):
        return get(conn, username)


def _streak(*where: Callable[[sa.FromClause], Any], same_ip: bool, since: float) -> sa.Select:
    """Instants of the latest failures matching ``where`` that no later success of the
    same account (from the same address if ``same_ip``) forgave, newest first."""
    f, s = login_attempts.alias("f"), login_attempts.alias("s")
    forgiven = sa.exists().where(
        s.c.username == f.c.username,
        s.c.success == 1,
        s.c.at > f.c.at,
        *([s.c.ip == f.c.ip] if same_ip else []),
    )
    return (
        sa.select(f.c.at)
        .where(*(clause(f) for clause in where), f.c.success == 0, f.c.at >= since, ~forgiven)
        .order_by(f.c.at.desc())
        .limit(_STREAK_LIMIT)
    )


def required_wait(conn: sa.Connection, username: str, ip: str, *, now: float) -> int:
    """Whole seconds before ``username`` may try again from ``ip`` (0: now)."""
    username, ip = _key(username), _key(ip)
    since = now - KEEP_FAILURES_S
    by_name, by_ip = (lambda t: t.c.username == username), (lambda t: t.c.ip == ip)
    scopes = [
        (PAIR, _streak(by_name, by_ip, same_ip=True, since=since)),
        (ADDRESS, _streak(by_ip, same_ip=True, since=since)),
    ]
    attempts = login_attempts.c
    known = sa.select(attempts.id).where(
        attempts.username == username, attempts.ip == ip, attempts.success == 1
    )
    if conn.execute(known.limit(1)).first() is None:
        scopes.append((ACCOUNT, _streak(by_name, same_ip=False, since=since)))
    wait = 0.0
    for slowdown, query in scopes:
        times = list(conn.execute(query).scalars())
        wait = max(wait, _remaining(slowdown, times, now))
    return math.ceil(wait)


def _key(text: str | None) -> str:
    """A throttle key as stored: bounded (what a guesser stores), NUL shown as U+FFFD
    (PostgreSQL's text cannot hold NUL; no account name has either)."""
    return (text or "")[:MAX_KEY].replace("\x00", "\ufffd")


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
