"""Moving and keeping a deployment: copy between backends, backup and restore.

`copy_database` copies every table (experiments, crossings, their history, accounts,
login attempts, the version counters) from one database to another, SQLite or PostGIS,
keeping ids, then checks each table's row count and checksum on both sides: a move
from a laptop to the Métropole's server loses nothing, or says what differs. The PostGIS
geometry columns are computed by the server from lon/lat, so they follow by themselves.

`backup` writes a consistent snapshot while the app runs (SQLite's online backup API;
``pg_dump`` for PostgreSQL) and `restore` brings one back (stop the app first).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from geoapp.errors import GeoappError
from geoapp.store.db import database_url, describe, make_engine
from geoapp.store.migrations import upgrade
from geoapp.store.schema import metadata

BATCH = 1000


def _tables() -> list[sa.Table]:
    """Every table, parents before the history tables whose rows point at them."""
    return sorted(metadata.sorted_tables, key=lambda t: t.name.endswith("_history"))


@dataclass(frozen=True)
class TableCheck:
    """One table after a copy: rows and checksum on each side."""

    table: str
    source_rows: int
    target_rows: int
    source_sum: str
    target_sum: str

    @property
    def ok(self) -> bool:
        return self.source_rows == self.target_rows and self.source_sum == self.target_sum


def _ordered(table: sa.Table) -> sa.Select:
    return sa.select(*table.columns).order_by(*table.primary_key.columns)


def table_checksum(conn: sa.Connection, table: sa.Table) -> tuple[int, str]:
    """(rows, SHA-256) of ``table``'s rows in key order, values as canonical JSON.

    Floats are rounded to 1e-9 (a nanodegree): SQLite's REAL and PostgreSQL's DOUBLE
    PRECISION hold the same doubles, but a printed form must not depend on the driver.
    """
    digest = hashlib.sha256()
    count = 0
    for row in conn.execute(_ordered(table)).mappings():
        clean = {k: round(v, 9) if isinstance(v, float) else v for k, v in row.items()}
        digest.update(json.dumps(clean, sort_keys=True, default=str).encode())
        count += 1
    return count, digest.hexdigest()


def checksums(url: str) -> dict[str, tuple[int, str]]:
    """Every table's (rows, checksum) in the database at ``url``."""
    engine = make_engine(database_url(url))
    try:
        with engine.connect() as conn:
            return {t.name: table_checksum(conn, t) for t in _tables()}
    finally:
        engine.dispose()


def copy_database(source: str, target: str) -> list[TableCheck]:
    """Copy every row of ``source`` into ``target`` (upgraded, and empty of data), then
    compare rows and checksums table by table. French 409 if ``target`` holds data."""
    upgrade(source)
    upgrade(target)
    src, dst = make_engine(database_url(source)), make_engine(database_url(target))
    try:
        with src.connect() as reader, dst.begin() as writer:
            _refuse_if_not_empty(writer, dst.url)
            for table in reversed(_tables()):
                writer.execute(sa.delete(table))  # only the counters' initial rows
            for table in _tables():
                rows = reader.execute(_ordered(table)).mappings()
                while batch := [dict(r) for r in rows.fetchmany(BATCH)]:
                    writer.execute(sa.insert(table), batch)
            if dst.dialect.name == "postgresql":
                _advance_sequences(writer)
        with src.connect() as a, dst.connect() as b:
            return [
                TableCheck(t.name, *_pair(table_checksum(a, t), table_checksum(b, t)))
                for t in _tables()
            ]
    finally:
        src.dispose()
        dst.dispose()


def _pair(source: tuple[int, str], target: tuple[int, str]) -> tuple[int, int, str, str]:
    return source[0], target[0], source[1], target[1]


def _refuse_if_not_empty(conn: sa.Connection, url: sa.URL) -> None:
    for table in metadata.sorted_tables:
        if table.name == "meta":
            continue
        if conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one():
            raise GeoappError(
                f"La base cible « {describe(url)} » contient déjà des données "
                f"(table {table.name}) : la copie exige une base vide.",
                409,
            )


def _advance_sequences(conn: sa.Connection) -> None:
    """Copied ids were given explicitly: move each id sequence past the largest one."""
    for table in metadata.sorted_tables:
        if "id" in table.columns:
            conn.execute(
                sa.text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                    f"coalesce((SELECT max(id) FROM {table.name}), 0) + 1, false)"
                )
            )


def backup(url: str, file: Path) -> None:
    """A consistent snapshot of the database at ``url`` into ``file``, app running."""
    parsed = database_url(url)
    if parsed.get_backend_name() == "sqlite":
        source = sqlite3.connect(parsed.database)
        target = sqlite3.connect(file)
        try:
            source.backup(target)  # SQLite's online backup: a consistent copy
        finally:
            target.close()
            source.close()
        return
    _run_pg(
        "pg_dump", "--format=custom", "--no-owner", f"--file={file}", f"--dbname={_libpq(parsed)}"
    )


def restore(file: Path, url: str) -> None:
    """Replace the database at ``url`` by the snapshot ``file`` (stop the app first)."""
    if not Path(file).is_file():
        raise GeoappError(f"Sauvegarde introuvable : « {file} ».", 404)
    parsed = database_url(url)
    if parsed.get_backend_name() == "sqlite":
        source = sqlite3.connect(f"file:{file}?mode=ro", uri=True)
        target = sqlite3.connect(parsed.database)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
        return
    _run_pg(
        "pg_restore",
        "--clean",
        "--if-exists",
        "--no-owner",
        "--single-transaction",
        f"--dbname={_libpq(parsed)}",
        str(file),
    )


def _libpq(url: sa.URL) -> str:
    """The URL as libpq (pg_dump, pg_restore) reads it: no SQLAlchemy driver name."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _run_pg(program: str, *args: str) -> None:
    path = shutil.which(program) or f"/usr/lib/postgresql/15/bin/{program}"
    try:
        subprocess.run([path, *args], check=True, capture_output=True, text=True)
    except FileNotFoundError as exc:
        raise GeoappError(f"{program} introuvable : installez le client PostgreSQL.", 500) from exc
    except subprocess.CalledProcessError as exc:
        raise GeoappError(f"{program} a échoué : {exc.stderr.strip()[:500]}", 500) from exc
