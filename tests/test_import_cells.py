"""What a commune's cells mean (`geoapp.import_cells`), and French dates (`geoapp.french`)."""

from datetime import date, datetime

import pytest

from geoapp.french import fr_date, fr_datetime, human_value
from geoapp.import_cells import CellReader, read_date


@pytest.fixture(scope="module")
def reader(atlas):
    return CellReader(atlas.districts)


@pytest.mark.parametrize(
    "value", ["sceaux-les-blagis", "Les Blagis", "les blagis", "SCEAUX", "92071", " Sceaux "]
)
def test_a_district_by_slug_name_commune_or_insee_code(reader, value):
    assert reader.district(value) == "sceaux-les-blagis"


def test_meudon_la_foret_without_accents(reader):
    assert reader.district("meudon la foret") == "meudon-la-foret"
    assert reader.district("Le Mont d'Est") == "noisy-mont-d-est"  # plain apostrophe


@pytest.mark.parametrize("value", ["Paris", "", "9207"])
def test_an_unknown_district_lists_the_choices(reader, value):
    with pytest.raises(ValueError) as info:
        reader.district(value)
    assert "« Les Blagis »" in str(info.value) and "« Centre Gare »" in str(info.value)


@pytest.mark.parametrize(
    "field, typed, stored",
    [
        ("status", "Déployée", "déployée"),
        ("status", "DEPLOYEE", "déployée"),
        ("theme", "Energie et bati", "énergie et bâti"),
        ("org_kind", "Start-up", None),
        ("org_kind", "STARTUP", "startup"),
        ("precision", "Indicative", "indicative"),
    ],
)
def test_vocabulary_ignores_case_and_accents(reader, field, typed, stored):
    form, errors = reader.read({"district": "Sceaux", field: typed})
    if stored is None:
        assert "n’est pas une valeur possible" in errors[field]
    else:
        assert form[field] == stored and not errors


def test_objectives_by_number_or_text(reader, atlas):
    objectives = atlas.objectives()["sceaux-les-blagis"]
    cell = "2\n" + objectives[0].upper() + " ; n°4"
    form, errors = reader.read({"objectives": cell, "district": "Les Blagis"})
    assert not errors
    assert form["objectives"] == [objectives[1], objectives[0], objectives[3]]
    _, errors = reader.read({"district": "Les Blagis", "objectives": "5"})
    assert "1 = Créer des lieux de convivialité" in errors["objectives"]


@pytest.mark.parametrize(
    "value, iso",
    [
        ("12/03/2024", "2024-03-12"),
        ("1/3/2024", "2024-03-01"),
        ("2024-03-12", "2024-03-12"),
        ("2024-03-12 00:00:00", "2024-03-12"),
        (date(2024, 3, 12), "2024-03-12"),
        (datetime(2024, 3, 12), "2024-03-12"),
        ("", None),
    ],
)
def test_dates_as_french_excel_writes_them(value, iso):
    assert read_date("start_date", value) == iso


@pytest.mark.parametrize("value", ["31/02/2024", "12-2024", "mars 2024", "03/12/24"])
def test_bad_dates_say_the_two_formats(value):
    with pytest.raises(ValueError, match="jj/mm/aaaa"):
        read_date("start_date", value)


def test_numbers_and_scale_up(reader):
    form, errors = reader.read(
        {"lon": "2,303 1", "lat": 48.78, "evaluation_scale_up": "Oui", "title": 2024.0}
    )
    assert not errors
    assert form == {"lon": "2,3031", "lat": 48.78, "evaluation_scale_up": True, "title": "2024"}
    _, errors = reader.read({"id": "douze", "version": "-1"})
    assert set(errors) == {"id", "version"}


def test_french_dates_and_paris_times():
    assert fr_date("2024-03-12") == "12 mars 2024"
    assert fr_date("2024-08-01") == "1er août 2024"
    assert fr_datetime("2024-03-12T13:05:00+00:00") == "12 mars 2024 à 14 h 05"  # UTC+1
    assert fr_datetime("2024-07-12T13:05:00+00:00") == "12 juillet 2024 à 15 h 05"  # UTC+2
    assert human_value(None) == human_value([]) == "(vide)"
    assert human_value(["a", "b"]) == "a ; b" and human_value(False) == "non"
    assert human_value("2025-04-01", "start_date") == "1er avril 2025"
