"""PostgreSQL/PostGIS only: the geometry columns, their indexes, and a server that fails.

The store tests run on both backends (see tests/conftest.py); these are about what only
PostgreSQL has: PostGIS points the server keeps in step with lon/lat, the GiST index the
150 m question goes through, and connections that die under the app (an administrator's
shutdown, a restart, no server at all), which must give the French 503 and heal without
restarting the app.
"""

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from geoapp.errors import GeoappError
from geoapp.store import Store

AULNAY = "aulnay-centre-gare"
NOT_ANSWERING = "le serveur de base de données ne répond pas"


@pytest.fixture
def pg_store(pg_server, clock) -> Store:
    return Store(pg_server.new_database(), now=clock)


def database_of(store: Store) -> str:
    return store.url.database


def test_no_server_behind_the_socket_stops_start_up_in_french(tmp_path):
    """No server at all (nothing listens in that folder): the start-up message names the
    database, without its password."""
    url = f"postgresql://qmi:motdepasse@/qmi?host={tmp_path}"
    with pytest.raises(GeoappError) as caught:
        Store(url)
    message = caught.value.message
    assert caught.value.status == 503
    assert message.startswith("La base de données « postgresql+psycopg://qmi:***@/qmi?host=")
    assert NOT_ANSWERING in message and "motdepasse" not in message


def test_the_postgis_point_follows_lon_lat(pg_store, make_values):
    created = pg_store.create_experiment(make_values(), district=AULNAY, user="ana")
    pg_store.move_experiment(created["id"], 2.5, 48.94, expected_version=1, user="ana")
    crossing = pg_store.add_crossing(
        {"district": AULNAY, "kind": "pont", "status": "existant", "lon": 2.49, "lat": 48.93},
        user="ana",
    )
    with pg_store.engine.connect() as conn:
        point = (
            "SELECT ST_X(geom), ST_Y(geom), ST_SRID(geom), GeometryType(geom) FROM {} WHERE id = %s"
        )
        assert conn.exec_driver_sql(point.format("experiments"), (created["id"],)).one() == (
            2.5,
            48.94,
            4326,
            "POINT",
        )
        assert conn.exec_driver_sql(point.format("crossings"), (crossing["id"],)).one() == (
            2.49,
            48.93,
            4326,
            "POINT",
        )
        gist = conn.exec_driver_sql(
            "SELECT indexname FROM pg_indexes WHERE indexdef LIKE '%%USING gist%%' ORDER BY 1"
        )
        assert list(gist.scalars()) == [
            "crossings_geog",
            "crossings_geom",
            "experiments_footprint",
            "experiments_geog",
            "experiments_geom",
        ]
    assert "geom" not in pg_store.get_experiment(created["id"])  # rows carry lon/lat only


def test_the_150_m_question_goes_through_the_gist_index(pg_store, make_values):
    pg_store.create_experiment(make_values(), district=AULNAY, user="ana")
    asked = []

    @event.listens_for(pg_store.engine, "before_cursor_execute")
    def keep(conn, cursor, statement, parameters, context, executemany):
        if "ST_DWithin" in statement:
            asked.append((statement, parameters))

    assert len(pg_store.experiments_near(2.4953, 48.9381, 150)) == 1
    ((statement, parameters),) = asked
    with pg_store.engine.connect() as conn:
        conn.exec_driver_sql("SET enable_seqscan = off")  # a 1-row table: force the choice
        # The registry's B-tree indexes (revision 0006) start with "withdrawn", which this
        # question also tests: on one row the planner may take one of them. Without them
        # (dropped in this transaction, rolled back) it must find the GiST index usable.
        conn.exec_driver_sql(
            "DROP INDEX experiments_tally, experiments_registry_order, experiments_by_title"
        )
        plan = conn.exec_driver_sql(f"EXPLAIN {statement}", parameters).scalars().all()
        conn.rollback()
    assert any("experiments_geog" in line for line in plan), plan


def test_an_administrator_shutdown_is_a_french_503_then_the_store_heals(pg_server, pg_store):
    with pg_store.connection_scope():
        assert pg_store.list_experiments() == []
        killed = pg_server.psql(
            "postgres",
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            f" WHERE datname = '{database_of(pg_store)}'",
        )
        assert int(killed) >= 1
        with pytest.raises(GeoappError) as caught:
            pg_store.list_experiments()
        assert caught.value.status == 503 and NOT_ANSWERING in caught.value.message
    assert pg_store.list_experiments() == []  # the next request gets a live connection


def test_a_server_restart_needs_no_app_restart(pg_server, pg_store, make_values):
    pg_store.create_experiment(make_values(), district=AULNAY, user="ana")
    pg_server.restart()
    assert len(pg_store.list_experiments()) == 1  # pre-ping replaced the dead connection
    pg_store.create_experiment(make_values(title="Après"), district=AULNAY, user="ana")
    assert pg_store.data_version() == 2


def test_account_names_ignore_case_in_the_database_too(pg_store):
    """citext: the unique key itself refuses ANA beside ana, not only the app's lookup."""
    pg_store.add_user("ana", "correct horse battery", role="editeur", commune="93005")
    with pg_store.engine.connect() as conn, pytest.raises(sa.exc.IntegrityError):
        conn.exec_driver_sql(
            "INSERT INTO users (username, password_hash, role, commune, created_at)"
            " VALUES ('ANA', 'x', 'editeur', '93005', 'now')"
        )
