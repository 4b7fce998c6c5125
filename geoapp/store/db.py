"""Opening SQLite connections, running write transactions, and the data-version counter.

Connections are opened in autocommit mode (``isolation_level=None``) so transactions are
explicit: every write runs inside ``BEGIN IMMEDIATE``, which takes the write lock up
front. Two writers then queue on the busy timeout instead of both reading, both trying to
upgrade to a write lock and one failing with "database is locked".
"""

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

BUSY_TIMEOUT_S = 10.0


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
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def data_version(conn: sqlite3.Connection) -> int:
    """The write counter: it changes whenever experiments or crossings change."""
    return conn.execute("SELECT value FROM meta WHERE key = 'data_version'").fetchone()[0]


def bump_data_version(conn: sqlite3.Connection) -> None:
    """Mark the data as changed, inside the caller's transaction, so caches keyed on the
    version (exports) can never serve data older than a committed write."""
    conn.execute("UPDATE meta SET value = value + 1 WHERE key = 'data_version'")
