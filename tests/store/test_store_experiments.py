"""Experiments: CRUD, version conflicts, withdrawal, history and all-or-nothing import."""

import pytest

from geoapp.errors import ConflictError, GeoappError
from geoapp.registry import ValidationError

AULNAY = "aulnay-centre-gare"


@pytest.fixture
def created(store, make_values):
    return store.create_experiment(make_values(), district=AULNAY, user="ana")


def test_create_and_get(store, created, clock):
    assert created["id"] == 1 and created["version"] == 1
    assert created["district"] == AULNAY and created["withdrawn"] is False
    assert created["created_by"] == created["updated_by"] == "ana"
    assert created["created_at"] == "2025-03-01T09:00:00+00:00"
    assert store.get_experiment(1) == created


def test_unknown_experiment_is_404(store):
    with pytest.raises(GeoappError) as caught:
        store.get_experiment(42)
    assert (caught.value.status, caught.value.message) == (404, "Expérimentation introuvable.")
    for call in (
        lambda: store.history(42),
        lambda: store.update_experiment(42, {"title": "x"}, expected_version=1, user="ana"),
        lambda: store.withdraw_experiment(42, expected_version=1, user="ana"),
    ):
        with pytest.raises(GeoappError) as caught:
            call()
        assert caught.value.status == 404


def test_list_filters(store, make_values):
    store.create_experiment(make_values(title="B", theme="mobilité"), district=AULNAY, user="a")
    store.create_experiment(make_values(title="a", status="déployée"), district=AULNAY, user="a")
    store.create_experiment(make_values(title="C"), district="sceaux-les-blagis", user="a")
    assert [e["title"] for e in store.list_experiments()] == ["a", "B", "C"]
    assert [e["title"] for e in store.list_experiments(district=AULNAY)] == ["a", "B"]
    assert [e["title"] for e in store.list_experiments(theme="mobilité")] == ["B"]
    assert [e["title"] for e in store.list_experiments(status="déployée")] == ["a"]
    assert store.list_experiments(district="meudon-la-foret") == []


def test_update_changes_fields_version_and_history(store, created, make_values, clock):
    clock.advance(minutes=5)
    values = make_values(title="Bancs ombragés v2", evaluation_scale_up="oui")
    updated = store.update_experiment(1, values, expected_version=1, user="bob")
    assert updated["title"] == "Bancs ombragés v2" and updated["evaluation_scale_up"] is True
    assert (updated["version"], updated["updated_by"]) == (2, "bob")
    assert updated["updated_at"] == "2025-03-01T09:05:00+00:00"
    assert updated["created_by"] == "ana"
    last = store.history(1)[-1]
    assert last == {
        "at": "2025-03-01T09:05:00+00:00",
        "user": "bob",
        "action": "modification",
        "changes": {
            "title": ["Bancs ombragés", "Bancs ombragés v2"],
            "evaluation_scale_up": [None, True],
        },
    }


def test_saving_an_unchanged_form_writes_nothing(store, created, make_values):
    before = store.data_version()
    assert store.update_experiment(1, make_values(), expected_version=1, user="bob") == created
    assert len(store.history(1)) == 1 and store.data_version() == before


def test_stale_update_is_refused_and_first_save_kept(store, created, make_values):
    first = store.update_experiment(1, make_values(title="Premier"), expected_version=1, user="a")
    with pytest.raises(ConflictError) as caught:
        store.update_experiment(1, make_values(title="Second"), expected_version=1, user="b")
    assert caught.value.status == 409
    assert caught.value.message == (
        "Cette expérimentation a été modifiée par quelqu'un d'autre depuis que vous l'avez "
        "ouverte (version 2). Rechargez la page : vos modifications n'ont pas été enregistrées."
    )
    assert store.get_experiment(1) == first
    actions = [h["action"] for h in store.history(1)]
    assert actions == ["création", "modification"]


def test_update_rejects_fields_that_are_not_editable(store, created):
    with pytest.raises(ValueError, match="withdrawn"):
        store.update_experiment(1, {"withdrawn": True}, expected_version=1, user="a")


def test_move(store, created):
    moved = store.move_experiment(1, "2,5", 48.94, expected_version=1, user="bob")
    assert (moved["lon"], moved["lat"], moved["version"]) == (2.5, 48.94, 2)
    last = store.history(1)[-1]
    assert last["action"] == "déplacement"
    assert last["changes"] == {"lon": [2.4953, 2.5], "lat": [48.9381, 48.94]}


def test_move_outside_france_is_422_and_changes_nothing(store, created):
    with pytest.raises(ValidationError) as caught:
        store.move_experiment(1, 48.94, 2.5, expected_version=1, user="bob")
    assert caught.value.status == 422
    assert store.get_experiment(1) == created


def test_withdrawal_is_reversible(store, created):
    withdrawn = store.withdraw_experiment(1, expected_version=1, user="admin")
    assert withdrawn["withdrawn"] is True and withdrawn["version"] == 2
    assert store.list_experiments() == []
    assert [e["id"] for e in store.list_experiments(include_withdrawn=True)] == [1]
    assert store.get_experiment(1)["withdrawn"] is True  # still reachable by id

    with pytest.raises(ConflictError) as caught:
        store.withdraw_experiment(1, expected_version=2, user="admin")
    assert caught.value.status == 409

    restored = store.restore_experiment(1, expected_version=2, user="admin")
    assert restored["withdrawn"] is False and restored["version"] == 3
    assert [e["id"] for e in store.list_experiments()] == [1]
    assert [h["action"] for h in store.history(1)] == ["création", "retrait", "rétablissement"]
    assert store.history(1)[1]["changes"] == {"withdrawn": [False, True]}


def test_withdraw_with_stale_version_is_409(store, created, make_values):
    store.update_experiment(1, make_values(title="Nouveau"), expected_version=1, user="a")
    with pytest.raises(ConflictError) as caught:
        store.withdraw_experiment(1, expected_version=1, user="b")
    assert caught.value.status == 409
    assert store.get_experiment(1)["withdrawn"] is False


def test_creation_history_lists_every_set_field(store, created):
    (entry,) = store.history(1)
    assert (entry["action"], entry["user"]) == ("création", "ana")
    assert entry["changes"]["title"] == [None, "Bancs ombragés"]
    assert entry["changes"]["district"] == [None, AULNAY]
    assert "evaluation_outcome" not in entry["changes"]  # left empty


def test_every_write_bumps_data_version(store, created, make_values):
    versions = [store.data_version()]
    store.update_experiment(1, make_values(title="x"), expected_version=1, user="a")
    versions.append(store.data_version())
    store.move_experiment(1, 2.5, 48.9, expected_version=2, user="a")
    versions.append(store.data_version())
    store.withdraw_experiment(1, expected_version=3, user="a")
    versions.append(store.data_version())
    assert versions == sorted(set(versions)) and len(versions) == 4


def test_import_is_all_or_nothing(store, created, make_values):
    good = {**make_values(title="Import 1"), "district": AULNAY}
    bad = {**make_values(title="Import 2"), "district": AULNAY, "title": None}
    before = (store.list_experiments(include_withdrawn=True), store.data_version())
    with pytest.raises(GeoappError) as caught:
        store.import_experiments([good, good, bad], user="admin")
    assert caught.value.status == 422
    assert caught.value.details["row"] == 3
    assert (store.list_experiments(include_withdrawn=True), store.data_version()) == before
    assert len(store.history(1)) == 1


def test_import_inserts_rows_with_import_history(store, make_values):
    rows = [{**make_values(title=f"Import {n}"), "district": AULNAY} for n in range(3)]
    assert store.import_experiments(rows, user="admin") == 3
    assert len(store.list_experiments()) == 3
    assert store.history(2)[0]["action"] == "import"
    assert store.history(2)[0]["user"] == "admin"


def test_filters_holding_nul_match_nothing(store, created):
    """PostgreSQL's text cannot hold NUL: such a filter finds nothing, as on SQLite."""
    assert store.list_experiments(district=AULNAY + "\x00") == []
    assert store.list_experiments(theme="\x00") == []
    assert store.list_crossings(district="\x00") == []
    assert store.experiments_near(2.4953, 48.9381, 150, district="\x00") == []
