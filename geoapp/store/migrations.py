"""Schema migrations with Alembic, on SQLite and PostgreSQL alike.

The revisions live in ``alembic/versions/`` (``0001_base`` … ``0007_place_index``),
written with ``op.*`` so one file serves both backends. Rules: never edit a revision that
has shipped; append a new one (``alembic/script.py.mako`` is its template).

`migrate` runs every missing revision in ONE transaction that first takes the
migration lock (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: an advisory lock), then reads
the current revision: two processes starting together upgrade once, and a failure
leaves the database at the revision it had.

Databases made before Alembic recorded their version as ``PRAGMA user_version`` 1 to 4
(one per migration then, the same four as revisions 0001 to 0004) and have no
``alembic_version`` table: they are stamped at the matching revision, then upgraded.
"""

from functools import cache
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError

from geoapp.errors import GeoappError
from geoapp.store.db import database_url, make_engine, write
from geoapp.store.failures import storage_errors

ALEMBIC_DIR = Path(__file__).resolve().parent / "alembic"
# ``PRAGMA user_version`` of a pre-Alembic database -> the revision it is at.
LEGACY_REVISIONS = {
    1: "0001_base",
    2: "0002_crossings_and_login",
    3: "0003_session_epoch",
    4: "0004_table_versions",
}
# pg_advisory_xact_lock key of the migrations (any constant the app uses for nothing else).
_POSTGRES_LOCK = 0x514D_4941  # "QMIA"
NEWER = "La base de données a été créée par une version plus récente de QMI Atlas."

__all__ = ["upgrade", "migrate", "current_revision", "head_revision"]


def alembic_config(connection: sa.Connection | None = None) -> Config:
    """Alembic's configuration, built in code (no ``alembic.ini``) around ``connection``."""
    config = Config()
    config.set_main_option("script_location", str(ALEMBIC_DIR))
    config.attributes["connection"] = connection
    return config


@cache
def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    """The latest revision this version of the app knows."""
    return _scripts().get_current_head()


def current_revision(conn: sa.Connection) -> str | None:
    """The revision the database is at (``None``: empty, or pre-Alembic and unstamped)."""
    return MigrationContext.configure(conn).get_current_revision()


def upgrade(url: str | Path, revision: str = "head") -> str | None:
    """Bring the database at ``url`` (a `geoapp.store.db.database_url` value) to
    ``revision``; return the revision it is at. For ``geoapp db upgrade``; `Store`
    does the same on start. Storage failures are the French 503 `StorageError`.
    """
    engine = make_engine(database_url(url))
    try:
        with storage_errors():
            return migrate(engine, revision)
    finally:
        engine.dispose()


def migrate(engine: sa.Engine, revision: str = "head") -> str | None:
    """Apply the missing revisions up to ``revision`` (default: all) in one transaction;
    return the revision reached. ``revision`` lets tests build an old database."""
    with engine.connect() as conn, write(conn):
        if conn.dialect.name == "postgresql":
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_POSTGRES_LOCK)))
        _stamp_legacy(conn)
        current = current_revision(conn)
        if current is not None:
            try:
                _scripts().get_revision(current)
            except CommandError as exc:
                raise GeoappError(NEWER, 500) from exc
        if current != _scripts().get_revision(revision).revision:
            command.upgrade(alembic_config(conn), revision)
        return current_revision(conn)


def _stamp_legacy(conn: sa.Connection) -> None:
    """Record a pre-Alembic SQLite database's ``user_version`` as its revision."""
    if conn.dialect.name != "sqlite" or sa.inspect(conn).has_table("alembic_version"):
        return
    version = conn.exec_driver_sql("PRAGMA user_version").scalar_one()
    if version == 0:
        return  # a new file: every revision will run
    if version not in LEGACY_REVISIONS:
        raise GeoappError(NEWER, 500)
    MigrationContext.configure(conn).stamp(_scripts(), LEGACY_REVISIONS[version])
