"""Engines, transactions and the data-version counters, one code path for both backends.

`database_url` is the one place a ``GEOAPP_DATABASE`` value is understood: a file path or
``sqlite:///…`` is SQLite, ``postgresql://…`` is PostgreSQL (psycopg 3). `make_engine`
turns it into a SQLAlchemy engine set up for that backend:

* SQLite: WAL (map pages keep reading while an editor saves), foreign keys on, a 10 s
  busy timeout, and SQLAlchemy's documented pysqlite recipe for transactions: the
  driver's own BEGIN is switched off and the engine's ``begin`` event emits ours, ``BEGIN
  IMMEDIATE`` for writes (the write lock is taken up front, so two writers queue on the
  busy timeout instead of both reading, both trying to upgrade and one failing with
  "database is locked") and a plain deferred ``BEGIN`` for reads (a snapshot, no lock).
* PostgreSQL: ``pool_pre_ping`` so a connection cut by a server restart is replaced on
  the next checkout instead of failing a request; READ COMMITTED transactions, where the
  ``UPDATE … WHERE version = ?`` of every edit and the row locks of the version counters
  keep concurrent writers (threads or processes) correct.

Every store call runs in one transaction from `read` or `write`; nothing runs in an
implicit one.
"""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

from geoapp.errors import GeoappError
from geoapp.store.schema import meta

BUSY_TIMEOUT_S = 10.0
CONNECT_TIMEOUT_S = 10
POSTGRES_DRIVER = "postgresql+psycopg"
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
_WRITE = "qmi_write"  # execution option read by the SQLite ``begin`` hook
_ASCII_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def database_url(value: str | Path) -> sa.URL:
    """The SQLAlchemy URL of a ``GEOAPP_DATABASE`` value; French 500 if it is neither.

    A value without ``scheme://`` is a SQLite file path. ``postgresql://user@host/db``,
    ``postgresql:///db?host=/run/postgresql`` (a Unix socket folder) and ``postgres://…``
    all select psycopg 3. An in-memory SQLite database is refused: each pooled
    connection would see a different, empty one.
    """
    text = str(value)
    if isinstance(value, Path) or not _SCHEME.match(text):
        return sa.URL.create("sqlite", database=text)
    try:
        url = sa.make_url(text)
    except sa.exc.ArgumentError:
        url = None
    backend = url.get_backend_name() if url is not None else ""
    if backend == "sqlite" and url.database not in (None, "", ":memory:"):
        return url.set(drivername="sqlite")
    if backend in ("postgresql", "postgres"):
        return url.set(drivername=POSTGRES_DRIVER)
    shown = url.render_as_string(hide_password=True) if url is not None else text.split("@")[-1]
    raise GeoappError(
        f"GEOAPP_DATABASE : « {shown} » n’est ni un fichier SQLite (un chemin ou "
        "sqlite:///chemin) ni une base PostgreSQL (postgresql://utilisateur@hôte/base).",
        500,
    )


def describe(url: sa.URL) -> str:
    """What start-up messages call the database: the file, or the URL without password."""
    if url.get_backend_name() == "sqlite":
        return url.database
    return url.render_as_string(hide_password=True)


def make_engine(url: sa.URL) -> sa.Engine:
    """An engine for ``url`` (from `database_url`), configured for its backend."""
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    return sa.create_engine(
        url,
        pool_pre_ping=True,
        connect_args={"connect_timeout": CONNECT_TIMEOUT_S, "application_name": "qmi-atlas"},
    )


def _sqlite_engine(url: sa.URL) -> sa.Engine:
    engine = sa.create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_S})
    path = Path(url.database)

    @event.listens_for(engine, "do_connect")
    def _create_folder(dialect, conn_rec, cargs, cparams) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)  # then the default connect runs

    @event.listens_for(engine, "connect")
    def _configure(dbapi_conn, conn_rec) -> None:
        dbapi_conn.isolation_level = None  # the driver emits no BEGIN: `_begin` does
        cursor = dbapi_conn.cursor()
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA foreign_keys = ON")
            # Safe with WAL: a crash may lose the last commits, never corrupt the file.
            cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: sa.Connection) -> None:
        immediate = conn.get_execution_options().get(_WRITE)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


@contextmanager
def read(conn: sa.Connection) -> Iterator[sa.Connection]:
    """A short read transaction: one consistent snapshot, no write lock."""
    with conn.begin():
        yield conn


@contextmanager
def write(conn: sa.Connection) -> Iterator[sa.Connection]:
    """One write transaction: committed if the block returns, rolled back if it raises.

    On SQLite it starts with ``BEGIN IMMEDIATE``; on PostgreSQL row locks and the version
    checks order concurrent writers.
    """
    conn.execution_options(**{_WRITE: True})  # in place, for this connection's next BEGIN
    try:
        with conn.begin():
            yield conn
    finally:
        conn.execution_options(**{_WRITE: False})


def lock_table(conn: sa.Connection, table: sa.Table) -> None:
    """Make this write transaction the only one writing ``table`` until it ends, for a
    check-then-insert (the first-start seed). SQLite's ``BEGIN IMMEDIATE`` already holds
    the database's write lock; PostgreSQL takes a self-conflicting table lock that
    readers ignore."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"LOCK TABLE {table.name} IN SHARE ROW EXCLUSIVE MODE")


def nocase(conn: sa.Connection, column: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    """``column`` for an ORDER BY that ignores ASCII case, identically on both backends:
    SQLite's NOCASE collation, and on PostgreSQL the same folding (A-Z only) compared
    byte-wise, so the registry lists in the same order whatever the server's locale."""
    if conn.dialect.name == "sqlite":
        return column.collate("NOCASE")
    return sa.func.translate(column, _ASCII_UPPER, _ASCII_UPPER.lower()).collate("C")


def equals(column: sa.ColumnElement[Any], value: Any) -> sa.ColumnElement[bool]:
    """``column = value``, except that a text holding NUL matches no row, on both backends:
    PostgreSQL's text cannot hold NUL (its driver refuses to send one) and the registry
    refuses control characters, so no stored value has one; SQLite would only find
    nothing."""
    if isinstance(value, str) and "\x00" in value:
        return sa.false()
    return column == value


def data_version(conn: sa.Connection, table: str | None = None) -> int:
    """A write counter: of every experiment or crossing write, or of ``table``'s alone.

    Caches key on what they depend on: exports on the whole data, cut reports on
    ``crossings`` only, so a new experiment does not recompute them.
    """
    key = f"{table}_version" if table else "data_version"
    return conn.execute(sa.select(meta.c.value).where(meta.c.key == key)).scalar_one()


def bump_data_version(conn: sa.Connection, table: str) -> None:
    """Mark ``table`` (``experiments`` or ``crossings``) and the data as changed, inside the
    caller's transaction, so a cache keyed on a version never serves data older than a
    committed write.

    Two statements in a fixed order, not one ``WHERE key IN (…)``: on PostgreSQL each
    row stays locked until commit, and one statement could lock the two rows in either
    order, so two writers could deadlock. Counting ``value + 1`` under the row lock
    is exact however many processes write at once.
    """
    for key in ("data_version", f"{table}_version"):
        conn.execute(sa.update(meta).where(meta.c.key == key).values(value=meta.c.value + 1))
