"""When the database itself fails: one mapping to a French 503, for SQLite and PostgreSQL.

A full disk, a read-only file, a server that restarts or refuses connections are not
bugs: the visitor gets a French page saying the database is unavailable and nothing was
saved, and the app carries on (on PostgreSQL the pool drops the dead connections and
``pool_pre_ping`` replaces them, so no restart is needed once the server is back). A
constraint violation or a syntax error is a bug and passes through untouched.
"""

import errno
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import sqlalchemy as sa

from geoapp.errors import GeoappError

# French causes, after "La base de données est indisponible :".
FULL = "le disque du serveur est plein"
READ_ONLY = "la base est en lecture seule"
BUSY = "la base est occupée par une autre écriture depuis trop longtemps"
NOT_ANSWERING = "le serveur de base de données ne répond pas (arrêté, redémarré ou injoignable)"
OVERLOADED = "le serveur de base de données est saturé"
DENIED = "l’accès à la base est refusé"

# SQLite primary result codes that mean the storage failed, not the statement.
_SQLITE_REASONS = {
    sqlite3.SQLITE_FULL: FULL,
    sqlite3.SQLITE_READONLY: READ_ONLY,
    sqlite3.SQLITE_CANTOPEN: "le fichier de la base ne peut pas être ouvert ni créé",
    sqlite3.SQLITE_PERM: "l’accès au fichier de la base est refusé",
    sqlite3.SQLITE_IOERR: "le disque renvoie une erreur de lecture ou d’écriture",
    sqlite3.SQLITE_BUSY: BUSY,
    sqlite3.SQLITE_LOCKED: BUSY,
    sqlite3.SQLITE_CORRUPT: "le fichier de la base est endommagé",
    sqlite3.SQLITE_NOTADB: "le fichier n’est pas une base SQLite",
}
# The same failures by message, for errors raised without a result code.
_SQLITE_MESSAGES = {
    "database or disk is full": sqlite3.SQLITE_FULL,
    "readonly database": sqlite3.SQLITE_READONLY,
    "unable to open database": sqlite3.SQLITE_CANTOPEN,
    "disk i/o error": sqlite3.SQLITE_IOERR,
    "database is locked": sqlite3.SQLITE_BUSY,
    "file is not a database": sqlite3.SQLITE_NOTADB,
}
# PostgreSQL SQLSTATEs (https://www.postgresql.org/docs/current/errcodes-appendix.html);
# a two-character key is a whole class.
_POSTGRES_REASONS = {
    "08": NOT_ANSWERING,  # connection exception
    "57P01": NOT_ANSWERING,  # admin_shutdown: the server is stopping or restarting
    "57P02": NOT_ANSWERING,  # crash_shutdown
    "57P03": NOT_ANSWERING,  # cannot_connect_now: still starting up
    "53100": FULL,  # disk_full
    "53200": OVERLOADED,  # out_of_memory
    "53300": OVERLOADED,  # too_many_connections
    "25006": READ_ONLY,  # read_only_sql_transaction (a hot standby)
    "42501": DENIED,  # insufficient_privilege
    "28": "l’identification auprès du serveur de base de données a échoué",
    "3D000": "cette base n’existe pas sur le serveur",
    "58030": "le disque du serveur renvoie une erreur de lecture ou d’écriture",
    "XX001": "les données de la base sont endommagées",
}
# Connection failures come from libpq without a SQLSTATE: recognised by their message.
_POSTGRES_MESSAGES = {
    "does not exist": "3D000",
    "password authentication failed": "28",
    "no pg_hba.conf entry": "28",
    "too many clients": "53300",
}
_OS_REASONS = {
    errno.ENOSPC: FULL,
    errno.EROFS: "le dossier de la base est en lecture seule",
    errno.EACCES: "l’accès au dossier de la base est refusé",
    errno.EPERM: "l’accès au dossier de la base est refusé",
}
_OS_DEFAULT = "le dossier de la base ne peut pas être créé ni ouvert"
_FAILURES = (sa.exc.DBAPIError, sa.exc.TimeoutError, sqlite3.DatabaseError, psycopg.Error, OSError)


class StorageError(GeoappError):
    """The database itself failed (full disk, read-only, server down…): a French 503.

    ``reason`` is the French cause alone, for callers that word their own message
    (start-up names the database). Nothing was written: the transaction was rolled back.
    """

    def __init__(self, reason: str):
        super().__init__(
            f"La base de données est indisponible : {reason}. Rien n’a été enregistré ; "
            "réessayez plus tard ou prévenez l’administrateur du site.",
            503,
        )
        self.reason = reason


def storage_reason(exc: BaseException) -> str | None:
    """The French cause if ``exc`` is a storage failure, else ``None`` (a real bug)."""
    if isinstance(exc, sa.exc.DBAPIError):
        if exc.connection_invalidated:  # SQLAlchemy saw the connection die
            return NOT_ANSWERING
        exc = exc.orig
    if isinstance(exc, sa.exc.TimeoutError):  # every pooled connection busy for 30 s
        return OVERLOADED
    if isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.IntegrityError):
        return _sqlite_reason(exc)
    if isinstance(exc, psycopg.Error):
        return _postgres_reason(exc)
    if isinstance(exc, OSError):
        return _OS_REASONS.get(exc.errno, _OS_DEFAULT)
    return None


def _sqlite_reason(exc: sqlite3.DatabaseError) -> str | None:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is None:
        text = str(exc).lower()
        code = next((c for m, c in _SQLITE_MESSAGES.items() if m in text), None)
    return _SQLITE_REASONS.get(code & 0xFF) if code is not None else None


def _postgres_reason(exc: psycopg.Error) -> str | None:
    state = exc.sqlstate
    if state is None and isinstance(exc, psycopg.OperationalError):
        text = str(exc).lower()
        state = next((s for m, s in _POSTGRES_MESSAGES.items() if m in text), "08")
    if state is None:
        return None
    return _POSTGRES_REASONS.get(state, _POSTGRES_REASONS.get(state[:2]))


@contextmanager
def storage_errors() -> Iterator[None]:
    """The one place storage failures become `StorageError` (503); others pass through."""
    try:
        yield
    except _FAILURES as exc:
        reason = storage_reason(exc)
        if reason is None:
            raise
        raise StorageError(reason) from exc
