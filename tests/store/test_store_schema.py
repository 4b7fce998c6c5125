"""Connections and migrations: a fresh file needs no manual step, an old one upgrades."""

import sqlite3

import pytest

from geoapp.errors import GeoappError
from geoapp.store import Store, migrations
from geoapp.store.db import bump_data_version, connect, transaction
from geoapp.store.migrations import MIGRATIONS, migrate, schema_version


def test_connect_creates_folder_file_wal_and_foreign_keys(tmp_path):
    path = tmp_path / "deep" / "er" / "db.sqlite3"
    conn = connect(path)
    try:
        assert path.exists()
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert isinstance(conn.execute("SELECT 1 AS one").fetchone(), sqlite3.Row)
    finally:
        conn.close()


def test_store_migrates_a_new_database_to_the_latest_version(db_path):
    Store(db_path)
    conn = connect(db_path)
    try:
        assert schema_version(conn) == len(MIGRATIONS) == 4
        assert migrate(conn) == 4  # idempotent
    finally:
        conn.close()
    Store(db_path)  # a second start changes nothing


def _v1_database(path):
    """A database as version 1 of the app left it, with one experiment and its history."""
    conn = connect(path)
    migrate(conn, target=1)
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


def test_v2_accounts_get_a_session_epoch(db_path):
    conn = connect(db_path)
    migrate(conn, target=2)
    conn.execute(
        "INSERT INTO users (username, password_hash, role, commune, created_at)"
        " VALUES ('ana', 'x', 'editeur', '93005', '2024-01-01T00:00:00+00:00')"
    )
    conn.close()
    store = Store(db_path)
    assert store.get_user("ana")["commune"] == "93005"
    assert store.session_epoch("ana") == 0  # no session of before the upgrade carries it


def test_a_failing_migration_leaves_the_previous_version(db_path, monkeypatch):
    _v1_database(db_path)
    broken = (MIGRATIONS[1][0], "CREATE TABLE broken (")
    monkeypatch.setattr(migrations, "MIGRATIONS", [MIGRATIONS[0], broken])
    conn = connect(db_path)
    try:
        with pytest.raises(sqlite3.OperationalError):
            migrate(conn)
        assert schema_version(conn) == 1
        columns = [row["name"] for row in conn.execute("PRAGMA table_info(experiments)")]
        assert "location_note" not in columns  # the first statement was rolled back too
    finally:
        conn.close()


def test_a_database_from_a_newer_app_is_refused(db_path):
    Store(db_path)
    conn = connect(db_path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(GeoappError) as caught:
        Store(db_path)
    assert caught.value.status == 500


def test_each_table_has_its_own_version_counter(db_path):
    """Cut reports key on crossings only: an experiment write must not move that counter."""
    store = Store(db_path)
    before = {t: store.data_version(t) for t in (None, "experiments", "crossings")}
    conn = connect(db_path)
    try:
        with transaction(conn):
            bump_data_version(conn, "experiments")
    finally:
        conn.close()
    assert store.data_version() == before[None] + 1
    assert store.data_version("experiments") == before["experiments"] + 1
    assert store.data_version("crossings") == before["crossings"]
