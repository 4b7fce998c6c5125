"""Rail-corridor crossings: add, move, update, delete with version checks and history."""

import pytest
import sqlalchemy as sa

from geoapp.errors import ConflictError, GeoappError
from geoapp.registry import validate_crossing

AULNAY = "aulnay-centre-gare"


@pytest.fixture
def footbridge(store):
    values = validate_crossing(
        {
            "kind": "passerelle",
            "status": "projeté",
            "name": "Passerelle de la gare",
            "lon": "2.4950",
            "lat": "48.9380",
        }
    )
    return store.add_crossing({**values, "district": AULNAY}, user="ana")


def test_add_and_list(store, footbridge):
    assert footbridge["id"] == 1 and footbridge["version"] == 1
    assert (footbridge["kind"], footbridge["status"]) == ("passerelle", "projeté")
    assert store.list_crossings() == [footbridge]
    assert store.list_crossings(AULNAY) == [footbridge]
    assert store.list_crossings("sceaux-les-blagis") == []
    assert store.data_version() == 1


def test_move_and_update(store, footbridge):
    moved = store.move_crossing(1, 2.496, 48.939, expected_version=1, user="bob")
    assert (moved["lon"], moved["lat"], moved["version"]) == (2.496, 48.939, 2)
    built = store.update_crossing(1, {"status": "existant"}, expected_version=2, user="bob")
    assert built["status"] == "existant" and built["version"] == 3
    actions = [h["action"] for h in store.crossing_history(1)]
    assert actions == ["création", "déplacement", "modification"]


def test_stale_move_is_409(store, footbridge):
    store.move_crossing(1, 2.496, 48.939, expected_version=1, user="a")
    with pytest.raises(ConflictError) as caught:
        store.move_crossing(1, 2.1, 48.1, expected_version=1, user="b")
    assert caught.value.status == 409
    assert "version 2" in caught.value.message
    assert caught.value.details == {"version": 2}
    assert store.get_crossing(1)["lon"] == 2.496


def test_delete_keeps_history_and_checks_version(store, footbridge):
    with pytest.raises(ConflictError) as caught:
        store.delete_crossing(1, expected_version=7, user="bob")
    assert caught.value.status == 409
    store.delete_crossing(1, expected_version=1, user="bob")
    assert store.list_crossings() == []
    with pytest.raises(GeoappError) as caught:
        store.get_crossing(1)
    assert (caught.value.status, caught.value.message) == (404, "Franchissement introuvable.")
    last = store.crossing_history(1)[-1]
    assert (last["action"], last["user"]) == ("suppression", "bob")
    assert last["changes"]["kind"] == ["passerelle", None]


def test_database_refuses_an_unknown_kind(store):
    with pytest.raises(sa.exc.IntegrityError, match="(?i)check"):
        store.add_crossing(
            {"district": AULNAY, "kind": "tunnel", "status": "existant", "lon": 2.4, "lat": 48.9},
            user="ana",
        )
    assert store.list_crossings() == [] and store.data_version() == 0
