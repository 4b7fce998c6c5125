"""The first-start seed: real experiments only, loaded once into an empty table."""

import json
from pathlib import Path

import pytest

from geoapp.errors import GeoappError
from tests.store.conftest import NOISY, NOISY_CENTRE, noisy_objectives

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "data" / "experiments_seed.json"
CHEFS_LIEUX = ROOT / "data" / "geo" / "chefs_lieux_communes.geojson"
AULNAY = "aulnay-centre-gare"
SOURCE = "Rapports publics du programme QMI (Métropole du Grand Paris)"
SENATE = (
    "Audition de la Métropole du Grand Paris au Sénat (solutions d’intelligence artificielle "
    "du programme QMI)"
)
CENTRE = (2.495, 48.938)  # stands in for the centre the app computes
AULNAY_TITLES = {"Purple Alternative Surface", "Soy PV", "Istya"}


@pytest.fixture
def seed(store, objectives):
    return lambda path=SEED: store.seed_if_empty(
        path,
        anchors={AULNAY: CENTRE, NOISY: NOISY_CENTRE},
        objectives={AULNAY: objectives, NOISY: noisy_objectives()},
    )


def test_seed_loads_the_four_documented_experiments(store, seed):
    assert seed() == 4
    experiments = {e["title"]: e for e in store.list_experiments()}
    assert set(experiments) == AULNAY_TITLES | {"EcoFlow"}
    ecoflow = experiments.pop("EcoFlow")
    assert ecoflow["district"] == NOISY and (ecoflow["lon"], ecoflow["lat"]) == NOISY_CENTRE
    assert ecoflow["organisation"] == "Ecomesure avec Floware"
    assert ecoflow["source"] == SENATE and ecoflow["precision"] == "indicative"
    assert "qualité de vie urbaine" in ecoflow["description"]
    assert "Sénat" in ecoflow["description"] and ecoflow["status"] == "sélectionnée"
    assert "crèche du Onze Novembre" in experiments["Soy PV"]["location_note"]
    assert "non géocodée" in experiments["Soy PV"]["location_note"]
    for experiment in experiments.values():
        assert experiment["district"] == AULNAY
        assert experiment["precision"] == "indicative"
        assert experiment["org_kind"] == "startup"
        assert experiment["start_date"] is None and experiment["end_date"] is None
        assert experiment["source"] == SOURCE
        assert experiment["location_note"].startswith("Site")
        assert store.history(experiment["id"])[0]["action"] == "import"
        assert store.history(experiment["id"])[0]["user"] == "seed"
    assert (experiments["Soy PV"]["lon"], experiments["Soy PV"]["lat"]) == CENTRE
    assert (experiments["Istya"]["lon"], experiments["Istya"]["lat"]) == CENTRE


def test_purple_sits_on_the_ign_town_hall_point(store, seed):
    seed()
    features = json.loads(CHEFS_LIEUX.read_text(encoding="utf-8"))["features"]
    (mairie,) = [f for f in features if f["properties"]["code_insee"] == "93005"]
    (purple,) = store.list_experiments(theme="nature en ville et îlots de fraîcheur")
    assert [purple["lon"], purple["lat"]] == mairie["geometry"]["coordinates"]


def test_seed_runs_only_once(store, seed):
    assert seed() == 4
    version = store.data_version()
    assert seed() == 0
    assert seed(SEED.with_name("absent.json")) == 0  # the file is not even read again
    assert len(store.list_experiments()) == 4 and store.data_version() == version


def test_seed_skips_a_table_holding_only_withdrawn_experiments(store, seed, make_values):
    store.create_experiment(make_values(), district=AULNAY, user="ana")
    store.withdraw_experiment(1, expected_version=1, user="ana")
    assert seed() == 0
    assert store.list_experiments() == []


def test_missing_anchor_is_a_clear_error(store, objectives):
    with pytest.raises(GeoappError) as caught:
        store.seed_if_empty(SEED, anchors={}, objectives={AULNAY: objectives})
    assert "district_centre" in caught.value.message
    assert store.list_experiments() == []


def test_an_invalid_seed_row_loads_nothing(store, seed, tmp_path):
    rows = json.loads(SEED.read_text(encoding="utf-8"))["experiments"]
    rows[2]["theme"] = "astronomie"
    bad = tmp_path / "seed.json"
    bad.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(GeoappError) as caught:
        seed(bad)
    assert "n° 3" in caught.value.message and "astronomie" in caught.value.message
    assert store.list_experiments() == []


@pytest.mark.parametrize(
    "text, reason",
    [
        ("[" * 100_000 + "]" * 100_000, "imbriqué"),
        ('{"experiments": [', "JSON illisible"),
    ],
    ids=["deep", "truncated"],
)
def test_unreadable_seed_file_is_a_clear_error(store, objectives, tmp_path, text, reason):
    path = tmp_path / "amorce.json"
    path.write_text(text)
    with pytest.raises(GeoappError, match=f"amorce.json : .*{reason}"):
        store.seed_if_empty(path, anchors={AULNAY: CENTRE}, objectives={AULNAY: objectives})
    assert store.list_experiments(include_withdrawn=True) == []
