"""An import's writes and its waiting preview, and the registry's pages, on both backends.

`Store.apply_import` creates and updates in ONE transaction: a stale update undoes the
creates before it. Previews wait in ``import_batches`` for their own account for an
hour. `Store.page_experiments` sorts and slices in SQL.
"""

import pytest

from geoapp.errors import ConflictError
from geoapp.store.imports import BATCH_LIFETIME_S
from tests.store.conftest import AULNAY


def test_apply_import_creates_and_updates_with_history(store, make_values):
    first = store.create_experiment(make_values(title="Existante"), district=AULNAY, user="a")
    creates = [(AULNAY, make_values(title=f"Nouvelle {n}")) for n in range(3)]
    updates = [(first["id"], 1, {"status": "déployée"})]
    version = store.data_version()
    assert store.apply_import(creates, updates, user="importeur") == (3, 1)
    titles = sorted(e["title"] for e in store.list_experiments())
    assert titles == ["Existante", "Nouvelle 0", "Nouvelle 1", "Nouvelle 2"]
    assert store.get_experiment(first["id"])["version"] == 2
    assert [h["action"] for h in store.history(first["id"])] == ["création", "import"]
    new = next(e for e in store.list_experiments() if e["title"] == "Nouvelle 1")
    [created] = store.history(new["id"])
    assert created["action"] == "import" and created["user"] == "importeur"
    assert created["changes"]["title"] == [None, "Nouvelle 1"]
    assert created["changes"]["district"] == [None, AULNAY]
    assert store.data_version() > version


def test_apply_import_is_all_or_nothing(store, make_values):
    first = store.create_experiment(make_values(title="Existante"), district=AULNAY, user="a")
    store.update_experiment(first["id"], {"status": "déployée"}, expected_version=1, user="b")
    before = (store.list_experiments(include_withdrawn=True), store.data_version())
    creates = [(AULNAY, make_values(title="Jamais créée"))]
    with pytest.raises(ConflictError):
        store.apply_import(creates, [(first["id"], 1, {"status": "terminée"})], user="c")
    assert (store.list_experiments(include_withdrawn=True), store.data_version()) == before


def test_a_batch_is_kept_for_its_account_only_and_for_an_hour(store, clock):
    store.save_import_batch("jeton", user="Sceaux-Urba", filename="a.csv", data=b"x", digest="d")
    batch = store.load_import_batch("jeton", user="sceaux-urba")  # account names ignore case
    assert (batch["filename"], bytes(batch["data"]), batch["digest"]) == ("a.csv", b"x", "d")
    assert store.load_import_batch("jeton", user="autre") is None
    assert store.load_import_batch("autre-jeton", user="sceaux-urba") is None
    clock.advance(seconds=BATCH_LIFETIME_S + 1)
    assert store.load_import_batch("jeton", user="sceaux-urba") is None


def test_a_new_preview_replaces_the_accounts_previous_one(store, make_values):
    store.save_import_batch("un", user="u", filename="a.csv", data=b"1", digest="d")
    store.save_import_batch("deux", user="u", filename="b.csv", data=b"2", digest="d")
    assert store.load_import_batch("un", user="u") is None
    assert bytes(store.load_import_batch("deux", user="u")["data"]) == b"2"
    store.apply_import([(AULNAY, make_values())], [], user="u", batch="deux")
    assert store.load_import_batch("deux", user="u") is None  # applied: gone


@pytest.fixture
def many(store, make_values):
    creates = [
        (AULNAY, make_values(title=f"Titre {n:03d}", status=("proposée", "déployée")[n % 2]))
        for n in range(250)
    ]
    store.apply_import(creates, [], user="seed")
    return store


def test_pages_slice_and_sort_in_sql(many):
    first, total = many.page_experiments(limit=100, offset=0, sort="titre")
    assert total == 250 and len(first) == 100
    assert [e["title"] for e in first[:2]] == ["Titre 000", "Titre 001"]
    last, _ = many.page_experiments(limit=100, offset=200, sort="titre")
    assert len(last) == 50 and last[-1]["title"] == "Titre 249"
    down, _ = many.page_experiments(limit=3, sort="titre", descending=True)
    assert [e["title"] for e in down] == ["Titre 249", "Titre 248", "Titre 247"]
    deployed, count = many.page_experiments(limit=100, status="déployée")
    assert count == 125 and {e["status"] for e in deployed} == {"déployée"}
    every = [e["id"] for o in (0, 100, 200) for e in many.page_experiments(offset=o)[0]]
    assert len(set(every)) == 250  # pages never overlap


def test_tally_counts_in_one_group_by(many):
    tally = many.experiment_tally()
    assert sum(t["n"] for t in tally) == 250
    assert {(t["status"], t["n"]) for t in tally} == {("proposée", 125), ("déployée", 125)}
