"""Opening SQLite connections, running write transactions, and the data-version counter.

Connections are opened in autocommit mode (``isolation_level=None``) so transactions are
explicit: every write runs inside ``BEGIN IMMEDIATE``, which takes the write lock up
front. Two writers then queue on the busy timeout instead of both reading, both trying to
upgrade to a write lock and one failing with "database is locked".
"""

import errno
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from geoapp.errors import GeoappError

BUSY_TIMEOUT_S = 10.0

# SQLite primary result codes that mean the storage failed, not the statement, and why
# (French, after "La base de données est indisponible :").
_STORAGE_REASONS = {
    sqlite3.SQLITE_FULL: "le disque du serveur est plein",
    sqlite3.SQLITE_READONLY: "la base est en lecture seule",
    sqlite3.SQLITE_CANTOPEN: "le fichier de la base ne peut pas être ouvert ni créé",
    sqlite3.SQLITE_PERM: "l’accès au fichier de la base est refusé",
    sqlite3.SQLITE_IOERR: "le disque renvoie une erreur de lecture ou d’écriture",
    sqlite3.SQLITE_BUSY: "la base est occupée par une autre écriture depuis trop longtemps",
    sqlite3.SQLITE_LOCKED: "la base est occupée par une autre écriture depuis trop longtemps",
    sqlite3.SQLITE_CORRUPT: "le fichier de la base est endommagé",
    sqlite3.SQLITE_NOTADB: "le fichier n’est pas une base SQLite",
}
# The same failures by message, for errors raised without a result code.
_STORAGE_MESSAGES = {
    "database or disk is full": sqlite3.SQLITE_FULL,
    "readonly database": sqlite3.SQLITE_READONLY,
    "unable to open database": sqlite3.SQLITE_CANTOPEN,
    "disk i/o error": sqlite3.SQLITE_IOERR,
    "database is locked": sqlite3.SQLITE_BUSY,
    "file is not a database": sqlite3.SQLITE_NOTADB,
}
_OS_REASONS = {
    errno.ENOSPC: "le disque du serveur est plein",
    errno.EROFS: "le dossier de la base est en lecture seule",
    errno.EACCES: "l’accès au dossier de la base est refusé",
    errno.EPERM: "l’accès au dossier de la base est refusé",
}
_OS_DEFAULT = "le dossier de la base ne peut pas être créé ni ouvert"


class StorageError(GeoappError):
    """The database itself failed (full disk, read-only, unopenable…): a French 503.

    ``reason`` is the French cause alone, for callers that word their own message
    (start-up names the file). Nothing was written: the transaction was rolled back.
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
    if isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.IntegrityError):
        code = getattr(exc, "sqlite_errorcode", None)
        if code is None:
            text = str(exc).lower()
            code = next((c for m, c in _STORAGE_MESSAGES.items() if m in text), None)
        return _STORAGE_REASONS.get(code & 0xFF) if code is not None else None
    if isinstance(exc, OSError):
        return _OS_REASONS.get(exc.errno, _OS_DEFAULT)
    return None


@contextmanager
def storage_errors() -> Iterator[None]:
    """The one place storage failures become `StorageError` (503); others pass through."""
    try:
        yield
    except (sqlite3.DatabaseError, OSError) as exc:
        reason = storage_reason(exc)
        if reason is None:
            raise
        raise StorageError(reason) from exc


def connect(path: str | Path) -> sqlite3.Connection:
    """Open (creating file and folder if needed) a WAL-mode database with foreign keys on.

    WAL lets map pages keep reading while an editor saves; rows come back as
    `sqlite3.Row` so columns are read by name.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA synchronous = NORMAL")  # safe with WAL: no corruption, only durability
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """Run the block as one write transaction: committed if it returns, rolled back if not."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        # SQLite may already have rolled back by itself (a full disk, an I/O error): a
        # second ROLLBACK would then raise and hide the real cause.
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def data_version(conn: sqlite3.Connection, table: str | None = None) -> int:
    """A write counter: of every experiment or crossing write, or of ``table``'s alone.

    Caches key on what they depend on: exports on the whole data, cut reports on
    ``crossings`` only, so a new experiment does not recompute them.
    """
    key = f"{table}_version" if table else "data_version"
    return conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()[0]


def bump_data_version(conn: sqlite3.Connection, table: str) -> None:
    """Mark ``table`` (``experiments`` or ``crossings``) and the data as changed, inside the
    caller's transaction, so a cache keyed on a version never serves data older than a
    committed write."""
    conn.execute(
        "UPDATE meta SET value = value + 1 WHERE key IN ('data_version', ?)", (f"{table}_version",)
    )
