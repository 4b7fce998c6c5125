"""Moving a deployment SQLite → PostGIS → SQLite, and backups, with identical content."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from geoapp import cli
from geoapp.errors import GeoappError
from geoapp.store import Store
from geoapp.store.transfer import backup, checksums, copy_database, restore
from tests.store.conftest import AULNAY

PASSWORD = "motdepasse-tres-long"


def populate(url: str, make_values, objectives, clock) -> Store:
    """A deployment with every kind of row: experiments (edited, withdrawn), their
    history, a crossing moved then deleted and one kept, accounts, a failed login."""
    store = Store(url, now=clock)
    first = store.create_experiment(
        make_values(title="Jardin « partagé » & co"),
        district=AULNAY,
        user="aulnay-urba",
    )
    store.create_experiment(
        make_values(title="Rue aux écoles"), district=AULNAY, user="aulnay-urba"
    )
    clock.advance(minutes=5)
    store.update_experiment(
        first["id"],
        make_values(title="Jardin {{ 7*7 }}"),
        expected_version=1,
        user="aulnay-urba",
    )
    store.withdraw_experiment(first["id"], expected_version=2, user="aulnay-urba")
    crossing = {
        "district": AULNAY,
        "kind": "passerelle",
        "status": "projeté",
        "name": "Passerelle $x$",
        "lon": 2.4970,
        "lat": 48.9320,
    }
    kept = store.add_crossing(crossing, user="aulnay-urba")
    gone = store.add_crossing({**crossing, "name": None, "lon": 2.4980}, user="aulnay-urba")
    store.move_crossing(gone["id"], 2.4985, 48.9321, expected_version=1, user="aulnay-urba")
    store.delete_crossing(gone["id"], expected_version=2, user="aulnay-urba")
    assert kept["id"]
    store.add_user("aulnay-urba", PASSWORD, role="editeur", commune="93005")
    store.add_user("metropole", PASSWORD, role="administrateur", commune=None)
    assert store.authenticate("aulnay-urba", "mauvais-mot-de-passe", ip="10.0.0.1") is None
    store.save_import_batch(  # an import preview awaiting confirmation: bytes in the table
        "jeton", user="aulnay-urba", filename="lot.xlsx", data=b"PK\x03\x04\x00\xff", digest="d"
    )
    return store


def test_sqlite_to_postgis_and_back_keeps_every_row(
    tmp_path, pg_server, make_values, objectives, clock
):
    source = str(tmp_path / "laptop.sqlite3")
    populate(source, make_values, objectives, clock)
    server = pg_server.new_database()
    back = str(tmp_path / "back.sqlite3")

    to_pg = copy_database(source, server)
    to_sqlite = copy_database(server, back)

    assert all(c.ok for c in to_pg + to_sqlite), [c for c in to_pg + to_sqlite if not c.ok]
    assert checksums(source) == checksums(server) == checksums(back)
    rows = {c.table: c.source_rows for c in to_pg}
    assert rows["experiments"] == 2 and rows["crossings"] == 1 and rows["users"] == 2
    assert rows["import_batches"] == 1
    assert rows["experiment_history"] >= 4 and rows["crossing_history"] == 4
    # The copy is a working deployment: ids continue, spatial questions are asked in SQL.
    moved = Store(server, now=clock)
    new = moved.create_experiment(make_values(), district=AULNAY, user="metropole")
    assert new["id"] == 3
    near = moved.experiments_near(new["lon"], new["lat"], 150, district=AULNAY)
    assert new["id"] in {e["id"] for e in near}
    assert moved.authenticate("aulnay-urba", PASSWORD, ip="10.0.0.2")["role"] == "editeur"


def test_a_copy_into_a_database_holding_data_is_refused(tmp_path, make_values, objectives, clock):
    source, target = str(tmp_path / "a.sqlite3"), str(tmp_path / "b.sqlite3")
    populate(source, make_values, objectives, clock)
    Store(target).create_experiment(make_values(), district=AULNAY, user="x")
    before = checksums(target)
    with pytest.raises(GeoappError) as refused:
        copy_database(source, target)
    assert refused.value.status == 409 and "base vide" in refused.value.message
    assert checksums(target) == before


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_backup_then_restore_brings_the_same_content_back(
    kind, tmp_path, pg_server, make_values, objectives, clock
):
    url = str(tmp_path / "live.sqlite3") if kind == "sqlite" else pg_server.new_database()
    store = populate(url, make_values, objectives, clock)
    saved = checksums(url)
    snapshot = tmp_path / "snapshot.bak"
    backup(url, snapshot)
    store.create_experiment(
        make_values(title="Après la sauvegarde"), district=AULNAY, user="aulnay-urba"
    )
    assert checksums(url) != saved
    restore(snapshot, url)
    assert checksums(url) == saved


def test_the_cli_copies_and_checks(tmp_path, make_values, objectives, clock):
    source, target = str(tmp_path / "a.sqlite3"), str(tmp_path / "b.sqlite3")
    populate(source, make_values, objectives, clock)
    result = CliRunner().invoke(cli.main, ["db", "copy", source, target])
    assert result.exit_code == 0, result.output
    assert "experiments" in result.output and "ok" in result.output
    assert "Copie vérifiée" in result.output
    assert checksums(source) == checksums(target)
