"""A full disk, a read-only or unopenable SQLite file: a French 503, nothing half-written.

The failures are real SQLite ones, provoked on the store engine's new connections (its
pool is emptied first): ``PRAGMA max_page_count`` caps the file at its current size
(SQLITE_FULL as soon as a write needs a new page), and a ``mode=ro`` URI opens the file
read-only (SQLITE_READONLY on any write; tests run as root, for whom file permissions
would not stop a write). These are about SQLite files: they run on SQLite only (the
PostgreSQL failures are in test_store_postgres.py).
"""

import sqlite3

import pytest
import sqlalchemy as sa
from sqlalchemy import event

import geoapp.store
from geoapp.errors import GeoappError
from geoapp.store import Store
from geoapp.store.db import make_engine

BIG = "x" * 2000  # a row this long needs new pages (overflow pages), so a full file fails


def disk_full(engine: sa.Engine) -> None:
    """The engine's new connections may not grow the file by a single page."""

    @event.listens_for(engine, "connect")
    def cap(dbapi_conn, record):
        pages = dbapi_conn.execute("PRAGMA page_count").fetchone()[0]
        dbapi_conn.execute(f"PRAGMA max_page_count = {max(pages, 1)}")


def read_only(engine: sa.Engine) -> None:
    """The engine's new connections may read the file but not write it."""

    @event.listens_for(engine, "do_connect")
    def open_read_only(dialect, record, cargs, cparams):
        cargs[0] = f"file:{cargs[0]}?mode=ro"
        cparams["uri"] = True


def opening(path):
    """The engine's new connections open ``path`` instead of the store's file."""

    def hook(engine: sa.Engine) -> None:
        @event.listens_for(engine, "do_connect")
        def elsewhere(dialect, record, cargs, cparams):
            cargs[0] = str(path)

    return hook


@pytest.fixture
def failing():
    """Make every later connection of ``store`` fail in the given way."""

    def fail(store: Store, hook) -> None:
        store.engine.dispose()  # pooled connections were opened before the failure
        hook(store.engine)

    return fail


@pytest.fixture
def failing_at_start(monkeypatch):
    """Make the engines of the stores created from now on fail in the given way."""

    def fail(hook) -> None:
        def make(url):
            engine = make_engine(url)
            hook(engine)
            return engine

        monkeypatch.setattr(geoapp.store, "make_engine", make)

    return fail


def contents(db_path):
    """Every row of every table, read by a plain connection of its own."""
    conn = sqlite3.connect(db_path)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {t: conn.execute(f"SELECT * FROM {t} ORDER BY rowid").fetchall() for t in tables}
    finally:
        conn.close()


@pytest.mark.parametrize(
    "opener, reason",
    [(disk_full, "le disque du serveur est plein"), (read_only, "en lecture seule")],
    ids=["disk-full", "read-only"],
)
def test_a_failed_write_is_a_french_503_and_changes_nothing(
    sqlite_store, db_path, make_values, failing, opener, reason
):
    store = sqlite_store
    kept = store.create_experiment(make_values(), district="aulnay-centre-gare", user="a")
    before = contents(db_path)
    failing(store, opener)
    writes = [
        lambda: store.create_experiment(
            make_values(description=BIG, evaluation_outcome=BIG),
            district="aulnay-centre-gare",
            user="a",
        ),
        lambda: store.update_experiment(
            kept["id"],
            make_values(description=BIG, evaluation_outcome=BIG),
            expected_version=1,
            user="a",
        ),
    ]
    for write in writes:
        with pytest.raises(GeoappError) as caught:
            write()
        assert caught.value.status == 503
        assert reason in caught.value.message
        assert "Rien n’a été enregistré" in caught.value.message
    assert contents(db_path) == before


def test_reads_still_work_on_a_read_only_database(sqlite_store, make_values, failing):
    sqlite_store.create_experiment(make_values(), district="aulnay-centre-gare", user="a")
    failing(sqlite_store, read_only)
    assert [e["title"] for e in sqlite_store.list_experiments()] == ["Bancs ombragés"]


def test_an_unopenable_database_is_a_french_503(sqlite_store, tmp_path, failing):
    folder = tmp_path / "un-dossier"
    folder.mkdir()
    failing(sqlite_store, opening(folder))  # a folder is no database file
    with pytest.raises(GeoappError) as caught:
        sqlite_store.list_experiments()
    assert caught.value.status == 503
    assert "ne peut pas être ouvert" in caught.value.message


def test_constraint_errors_are_not_taken_for_storage_failures(store, make_values):
    """Only the storage's own failures become 503: a bug stays a bug (both backends)."""
    values = {**make_values(), "lon": 500.0}  # past the table's CHECK constraint
    with pytest.raises(sa.exc.IntegrityError):
        store.create_experiment(values, district="aulnay-centre-gare", user="a")


# Start-up ----------------------------------------------------------------------------------


def test_a_database_path_under_a_file_stops_start_up_in_french(tmp_path):
    blocker = tmp_path / "fichier"
    blocker.write_text("pas un dossier")
    path = blocker / "qmi.sqlite3"
    with pytest.raises(GeoappError) as caught:
        Store(path)
    assert caught.value.status == 503
    assert caught.value.message.startswith(f"La base de données « {path} » ne peut pas être")


@pytest.mark.parametrize(
    "prepare, reason",
    [
        (lambda path: path.mkdir(), "ne peut pas être ouvert"),
        (lambda path: path.write_bytes(b"ceci n'est pas une base SQLite" * 100), "pas une base"),
    ],
    ids=["folder", "not-sqlite"],
)
def test_an_unusable_database_file_stops_start_up_in_french(tmp_path, prepare, reason):
    path = tmp_path / "qmi.sqlite3"
    prepare(path)
    with pytest.raises(GeoappError) as caught:
        Store(path)
    assert caught.value.message.startswith(f"La base de données « {path} » ne peut pas être")
    assert reason in caught.value.message


@pytest.mark.parametrize(
    "opener, reason",
    [(disk_full, "disque du serveur est plein"), (read_only, "ne peut pas être ouvert")],
    ids=["disk-full", "read-only"],
)
def test_a_database_that_cannot_be_created_or_migrated_stops_start_up(
    tmp_path, failing_at_start, opener, reason
):
    path = tmp_path / "qmi.sqlite3"
    if opener is disk_full:
        sqlite3.connect(path).close()  # an empty file: the migrations need pages
    failing_at_start(opener)
    with pytest.raises(GeoappError) as caught:
        Store(path)
    assert caught.value.message.startswith(f"La base de données « {path} » ne peut pas être")
    assert reason in caught.value.message
