"""Engines and migrations: a new database needs no manual step, an old one upgrades.

The tests that take ``database`` run on each backend; those on ``db_path`` are about
SQLite itself (its PRAGMAs, the files the app made before Alembic) and run once.
"""

import threading
import tomllib
from fnmatch import fnmatch

import pytest
import sqlalchemy as sa

from geoapp.config import PROJECT_ROOT
from geoapp.errors import GeoappError
from geoapp.store import Store, upgrade
from geoapp.store.db import bump_data_version, database_url, make_engine, write
from geoapp.store.migrations import (
    ALEMBIC_DIR,
    LEGACY_REVISIONS,
    current_revision,
    head_revision,
    migrate,
)
from tests.store.legacy_schema import legacy_database

HEAD = "0009_experiment_photos"
TABLES = {
    "meta",
    "experiments",
    "experiment_history",
    "users",
    "crossings",
    "crossing_history",
    "login_attempts",
    "alembic_version",
}


def revision_of(store: Store) -> str | None:
    with store.engine.connect() as conn:
        return current_revision(conn)


# Database addresses ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, backend, database",
    [
        ("instance/qmi.sqlite3", "sqlite", "instance/qmi.sqlite3"),
        ("/srv/qmi/qmi.sqlite3", "sqlite", "/srv/qmi/qmi.sqlite3"),
        ("sqlite:////srv/qmi/qmi.sqlite3", "sqlite", "/srv/qmi/qmi.sqlite3"),
        ("sqlite:///instance/qmi.sqlite3", "sqlite", "instance/qmi.sqlite3"),
        ("postgresql://qmi@db.example.org/qmi", "postgresql", "qmi"),
        ("postgresql+psycopg2://qmi:secret@db:5433/qmi", "postgresql", "qmi"),
        ("postgres://qmi@db/qmi", "postgresql", "qmi"),
        ("postgresql:///qmi?host=/run/postgresql", "postgresql", "qmi"),
    ],
)
def test_database_url_reads_paths_and_urls(value, backend, database):
    url = database_url(value)
    assert (url.get_backend_name(), url.database) == (backend, database)
    if backend == "postgresql":
        assert url.drivername == "postgresql+psycopg"  # the one driver the app ships


def test_a_socket_folder_reaches_the_driver():
    url = database_url("postgresql:///qmi?host=/run/postgresql&user=qmi")
    assert url.query == {"host": "/run/postgresql", "user": "qmi"}


@pytest.mark.parametrize(
    "value", ["mysql://qmi:secret@db/qmi", "sqlite://", "sqlite:///:memory:", "http://x/y"]
)
def test_an_unknown_database_address_is_a_french_error_without_its_password(value):
    with pytest.raises(GeoappError) as caught:
        database_url(value)
    assert caught.value.message.startswith("GEOAPP_DATABASE : « ")
    assert "secret" not in caught.value.message


# SQLite connections -------------------------------------------------------------------------


def test_sqlite_engine_creates_the_folder_and_runs_wal_with_foreign_keys(tmp_path):
    path = tmp_path / "deep" / "er" / "db.sqlite3"
    engine = make_engine(database_url(path))
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert path.exists()
    finally:
        engine.dispose()


def test_sqlite_writes_take_the_write_lock_at_begin(tmp_path):
    """BEGIN IMMEDIATE: a second writer waits for the lock (here: gives up at once) before
    reading anything, instead of failing later when it upgrades a read lock."""
    engine = make_engine(database_url(tmp_path / "db.sqlite3"))
    impatient = sa.create_engine(
        f"sqlite:///{tmp_path / 'db.sqlite3'}", connect_args={"timeout": 0}
    )
    try:
        with engine.connect() as conn, write(conn):
            with impatient.connect() as other:
                with pytest.raises(sa.exc.OperationalError, match="locked"):
                    other.exec_driver_sql("BEGIN IMMEDIATE")
                assert other.exec_driver_sql("SELECT 1").scalar() == 1  # readers go on
    finally:
        engine.dispose()
        impatient.dispose()


# Migrations on each backend -------------------------------------------------------------------


def test_store_upgrades_a_new_database_to_the_latest_revision(database):
    store = Store(database)
    assert revision_of(store) == head_revision() == HEAD
    assert set(sa.inspect(store.engine).get_table_names()) >= TABLES
    assert upgrade(database) == HEAD  # `geoapp db upgrade`: nothing left to do
    assert revision_of(Store(database)) == HEAD  # a second start changes nothing


def test_two_processes_starting_together_upgrade_once(database):
    results: list = []

    def start() -> None:
        try:
            results.append(revision_of(Store(database)))
        except Exception as error:  # collected, so the test sees it
            results.append(error)

    threads = [threading.Thread(target=start) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [HEAD] * 3


def test_a_failing_revision_leaves_the_database_at_the_previous_one(database):
    engine = make_engine(database_url(database))
    try:
        assert migrate(engine, "0001_base") == "0001_base"
        with engine.connect() as conn, write(conn):  # 0002 will fail on its last tables
            conn.exec_driver_sql("CREATE TABLE login_attempts (id INTEGER)")
        with pytest.raises(sa.exc.DatabaseError):
            migrate(engine)
        with engine.connect() as conn:
            assert current_revision(conn) == "0001_base"
            columns = [c["name"] for c in sa.inspect(conn).get_columns("experiments")]
            assert "location_note" not in columns  # 0002's first step was rolled back too
            assert not sa.inspect(conn).has_table("crossings")
    finally:
        engine.dispose()


def test_a_database_from_a_newer_app_is_refused(database):
    store = Store(database)
    with store.engine.connect() as conn, write(conn):
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0099_future'")
    with pytest.raises(GeoappError) as caught:
        Store(database)
    assert caught.value.status == 500
    assert "version plus récente" in caught.value.message


def test_each_table_has_its_own_version_counter(store):
    """Cut reports key on crossings only: an experiment write must not move that counter."""
    before = {t: store.data_version(t) for t in (None, "experiments", "crossings")}
    with store.engine.connect() as conn, write(conn):
        bump_data_version(conn, "experiments")
    assert store.data_version() == before[None] + 1
    assert store.data_version("experiments") == before["experiments"] + 1
    assert store.data_version("crossings") == before["crossings"]


# SQLite files made before Alembic ----------------------------------------------------------------


def _v1_database(path):
    """A database as version 1 of the app left it, with one experiment and its history."""
    conn = legacy_database(path, 1)
    conn.execute(
        "INSERT INTO experiments (district, title, organisation, org_kind, theme, objectives,"
        " description, status, lon, lat, precision, created_at, updated_at, created_by,"
        " updated_by) VALUES ('aulnay-centre-gare', 'Ancienne', 'Org', 'startup',"
        " 'mobilité', '[\"Objectif\"]', 'Texte', 'proposée', 2.49, 48.93, 'exacte',"
        " '2024-01-01T00:00:00+00:00', '2024-01-01T00:00:00+00:00', 'ana', 'ana')"
    )
    conn.execute(
        "INSERT INTO experiment_history (experiment_id, at, author, action, changes)"
        " VALUES (1, '2024-01-01T00:00:00+00:00', 'ana', 'création', '{}')"
    )
    conn.execute("UPDATE meta SET value = 7 WHERE key = 'data_version'")
    conn.close()


def test_v1_database_is_upgraded_in_place_without_data_loss(db_path):
    _v1_database(db_path)
    store = Store(db_path)
    assert revision_of(store) == HEAD
    old = store.get_experiment(1)
    assert (old["title"], old["objectives"], old["version"]) == ("Ancienne", ["Objectif"], 1)
    assert old["location_note"] is None and old["source"] is None
    assert store.history(1)[0]["user"] == "ana"
    assert store.data_version() == 7
    # The version 2 tables are there and usable.
    store.add_crossing(
        {
            "district": "aulnay-centre-gare",
            "kind": "pont",
            "status": "existant",
            "name": None,
            "lon": 2.49,
            "lat": 48.93,
        },
        user="ana",
    )
    assert len(store.list_crossings()) == 1
    assert store.data_version() == 8
    assert store.data_version("crossings") == 1


def test_v2_accounts_get_a_session_epoch(db_path):
    conn = legacy_database(db_path, 2)
    conn.execute(
        "INSERT INTO users (username, password_hash, role, commune, created_at)"
        " VALUES ('ana', 'x', 'editeur', '93005', '2024-01-01T00:00:00+00:00')"
    )
    conn.close()
    store = Store(db_path)
    assert store.get_user("ANA")["commune"] == "93005"
    assert store.session_epoch("ana") == 0  # no session of before the upgrade carries it


@pytest.mark.parametrize("version", sorted(LEGACY_REVISIONS))
def test_a_legacy_database_is_stamped_then_upgraded_to_the_schema_of_a_new_one(tmp_path, version):
    """Revisions 0001-0004 rebuild exactly what the old migrations made: an old file,
    stamped at its revision and upgraded, has the tables, columns, indexes and checks of
    a file created today."""
    legacy_database(tmp_path / "old.sqlite3", version).close()
    engine = make_engine(database_url(tmp_path / "old.sqlite3"))
    try:
        assert migrate(engine, LEGACY_REVISIONS[version]) == LEGACY_REVISIONS[version]
        assert migrate(engine) == HEAD
    finally:
        engine.dispose()
    old, new = Store(tmp_path / "old.sqlite3"), Store(tmp_path / "new.sqlite3")
    assert schema_of(old) == schema_of(new)
    assert old.data_version("experiments") == old.data_version("crossings") == 0


def schema_of(store: Store) -> dict:
    """Every table's columns (name, type, NOT NULL, default, key), indexes and CHECKs.

    A primary key counts as NOT NULL: the old DDL left it implicit, Alembic writes it."""
    with store.engine.connect() as conn:
        tables = {}
        for (table,) in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type='table'"):
            columns = conn.exec_driver_sql(f"PRAGMA table_info({table})").fetchall()
            indexes = conn.exec_driver_sql(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ?",
                (table,),
            ).fetchall()
            sql = conn.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE name = ?", (table,)
            ).scalar()
            checks = sorted(part.strip() for part in sql.split("CHECK")[1:])
            tables[table] = (
                sorted((c[1], c[2].upper(), bool(c[3] or c[5]), c[4], c[5]) for c in columns),
                sorted(indexes),
                len(checks),
            )
        return tables


def test_a_legacy_database_from_a_newer_app_is_refused(db_path):
    legacy_database(db_path, 4).execute("PRAGMA user_version = 99")
    with pytest.raises(GeoappError) as caught:
        Store(db_path)
    assert caught.value.status == 500


def test_the_revisions_ship_with_the_package():
    """A wheel must carry env.py, the template and every revision (package data)."""
    pyproject = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = pyproject["tool"]["setuptools"]["package-data"]["geoapp"]
    files = [
        path.relative_to(PROJECT_ROOT / "geoapp").as_posix()
        for path in ALEMBIC_DIR.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    ]
    assert len(files) == 11  # env.py, script.py.mako, 0001 … 0009
    assert all(any(fnmatch(f, p) for p in patterns) for f in files), files
