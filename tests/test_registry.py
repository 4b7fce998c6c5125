"""Field validation against the vocabulary, deployment rate and summaries."""

import math

import pytest
from werkzeug.datastructures import MultiDict

from geoapp.errors import GeoappError
from geoapp.registry import (
    ValidationError,
    deployment_rate,
    summarise,
    validate_crossing,
    validate_experiment,
    validate_position,
)
from geoapp.vocabulary import STATUSES, THEMES

OBJECTIVES = [
    "Renforcer l’attractivité du quartier en tant que centralité économique et résidentielle.",
    "Réduire les coupures urbaines entre le nord et le sud de la gare.",
    "Valoriser le patrimoine et les commerces tout en intégrant des usages festifs et culturels",
]
NOT_A_DATE = "doit être une date valide au format AAAA-MM-JJ."
LON_RANGE = "doit être comprise entre -5,5 et 10 (France métropolitaine)."
LAT_RANGE = "doit être comprise entre 41 et 51,5 (France métropolitaine)."


def form(**overrides):
    values = {
        "title": "Purple Alternative Surface",
        "organisation": "Purple",
        "org_kind": "startup",
        "theme": "nature en ville et îlots de fraîcheur",
        "objectives": [OBJECTIVES[0]],
        "description": "Revêtement perméable.",
        "status": "déployée",
        "start_date": "2024-03-01",
        "end_date": "2024-09-30",
        "lon": "2.5001",
        "lat": "48.93423",
        "precision": "indicative",
        "location_note": "",
        "evaluation_outcome": "",
        "evaluation_scale_up": "",
    }
    values.update(overrides)
    return values


def errors_of(data, objectives=OBJECTIVES):
    with pytest.raises(ValidationError) as caught:
        validate_experiment(data, objectives=objectives)
    return caught.value.errors


def test_valid_form_is_cleaned():
    values = validate_experiment(
        form(title="  Purple  ", lon="2,5001", evaluation_scale_up="oui"), objectives=OBJECTIVES
    )
    assert values["title"] == "Purple"
    assert values["lon"] == 2.5001 and values["lat"] == 48.93423
    assert values["objectives"] == [OBJECTIVES[0]]
    assert values["evaluation_scale_up"] is True
    assert values["evaluation_outcome"] is None and values["location_note"] is None
    assert values["start_date"] == "2024-03-01"


def test_text_is_kept_as_typed_for_display_time_escaping():
    values = validate_experiment(form(title="<b>Rue & Cie</b>"), objectives=OBJECTIVES)
    assert values["title"] == "<b>Rue & Cie</b>"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("title", "", "Le titre est obligatoire."),
        ("title", "   ", "Le titre est obligatoire."),
        ("title", "x" * 121, "Le titre dépasse 120 caractères."),
        ("title", "a\x07b", "Le titre contient des caractères de contrôle interdits."),
        ("title", "deux\nlignes", "Le titre contient des caractères de contrôle interdits."),
        ("organisation", "", "La structure est obligatoire."),
        ("organisation", "o" * 121, "La structure dépasse 120 caractères."),
        ("org_kind", "coopérative", "Type de structure inconnu : « coopérative »."),
        ("org_kind", "", "Le type de structure est obligatoire."),
        ("theme", "x", "Thème inconnu : « x »."),
        ("theme", "", "Le thème est obligatoire."),
        ("description", "", "La description est obligatoire."),
        ("description", "d" * 2001, "La description dépasse 2000 caractères."),
        ("status", "en cours", "Statut inconnu : « en cours »."),
        ("precision", "approx", "Précision inconnue : « approx »."),
        ("precision", "", "La précision du point est obligatoire."),
        ("evaluation_outcome", "b" * 2001, "Le bilan dépasse 2000 caractères."),
        ("evaluation_scale_up", "peut-être", "Le passage à l'échelle attend « oui » ou « non »."),
        ("location_note", "n" * 501, "La note de localisation dépasse 500 caractères."),
        ("start_date", "01/03/2024", f"La date de début {NOT_A_DATE}"),
        ("start_date", "2024-02-30", f"La date de début {NOT_A_DATE}"),
        ("end_date", "20240930", f"La date de fin {NOT_A_DATE}"),
        ("start_date", "0224-03-01", "La date de début doit être comprise entre 2000 et 2100."),
        ("lon", "", "La longitude est obligatoire."),
        ("lon", "est", "La longitude doit être un nombre en degrés décimaux."),
        ("lon", "٣", "La longitude doit être un nombre en degrés décimaux."),  # Arabic-Indic 3
        ("lat", "4_8", "La latitude doit être un nombre en degrés décimaux."),
        ("lat", "nan", f"La latitude {LAT_RANGE}"),
        ("lon", "inf", f"La longitude {LON_RANGE}"),
        # Swapped lon/lat: 48.9 is no longitude in France.
        ("lon", "48.93", f"La longitude {LON_RANGE}"),
        ("lat", "2.5", f"La latitude {LAT_RANGE}"),
    ],
)
def test_each_field_error(field, value, message):
    assert errors_of(form(**{field: value})) == {field: message}


def test_all_errors_are_reported_at_once():
    errors = errors_of({})
    assert set(errors) == {
        "title",
        "organisation",
        "org_kind",
        "theme",
        "objectives",
        "description",
        "status",
        "lon",
        "lat",
        "precision",
    }


def test_validation_error_is_a_422_geoapp_error():
    with pytest.raises(GeoappError) as caught:
        validate_experiment(form(title=""), objectives=OBJECTIVES)
    assert caught.value.status == 422
    assert caught.value.details["errors"] == {"title": "Le titre est obligatoire."}


def test_objectives_must_come_from_the_district_list():
    other_district = "Renaturer et désimperméabiliser les espaces publics"
    assert errors_of(form(objectives=[OBJECTIVES[0], other_district])) == {
        "objectives": f"Objectif inconnu pour ce quartier : « {other_district} »."
    }
    # Straight apostrophe instead of the programme's typographic one: not the same objective.
    assert "objectives" in errors_of(form(objectives=[OBJECTIVES[0].replace("’", "'")]))


def test_at_least_one_objective():
    assert errors_of(form(objectives=[])) == {
        "objectives": "Choisissez au moins un objectif du quartier."
    }


def test_objectives_from_a_multidict_form_are_all_read_and_deduplicated():
    data = MultiDict(form(objectives=OBJECTIVES[0]))
    data.add("objectives", OBJECTIVES[2])
    data.add("objectives", OBJECTIVES[0])
    values = validate_experiment(data, objectives=OBJECTIVES)
    assert values["objectives"] == [OBJECTIVES[0], OBJECTIVES[2]]


def test_end_date_may_not_precede_start_date():
    assert errors_of(form(start_date="2024-09-30", end_date="2024-03-01")) == {
        "end_date": "La date de fin doit être postérieure ou égale à la date de début."
    }
    same_day = validate_experiment(form(end_date="2024-03-01"), objectives=OBJECTIVES)
    assert same_day["end_date"] == "2024-03-01"


def test_dates_are_optional():
    values = validate_experiment(form(start_date="", end_date=None), objectives=OBJECTIVES)
    assert values["start_date"] is None and values["end_date"] is None


def test_multiline_fields_keep_line_breaks_and_count_crlf_once():
    values = validate_experiment(
        form(description="a\r\n" * 1000), objectives=OBJECTIVES
    )  # 3000 chars as sent, 1999 once CRLF is normalised and stripped
    assert values["description"] == ("a\n" * 1000).strip()


def test_numbers_and_booleans_from_json_are_accepted():
    values = validate_experiment(
        form(lon=2.5, lat=48.9, evaluation_scale_up=False), objectives=OBJECTIVES
    )
    assert (values["lon"], values["lat"], values["evaluation_scale_up"]) == (2.5, 48.9, False)


def test_scale_up_answers():
    for answer, expected in (("", None), ("oui", True), ("non", False), ("NON", False)):
        values = validate_experiment(form(evaluation_scale_up=answer), objectives=OBJECTIVES)
        assert values["evaluation_scale_up"] is expected


def test_validate_position():
    assert validate_position("2,4953", 48.9381) == (2.4953, 48.9381)
    with pytest.raises(ValidationError) as caught:
        validate_position(-74.0, 40.7)  # New York
    assert set(caught.value.errors) == {"lon", "lat"}


def test_validate_crossing():
    values = validate_crossing(
        {"kind": "passerelle", "status": "projeté", "name": "", "lon": "2.49", "lat": "48.93"}
    )
    assert values == {
        "kind": "passerelle",
        "status": "projeté",
        "name": None,
        "lon": 2.49,
        "lat": 48.93,
    }
    with pytest.raises(ValidationError) as caught:
        validate_crossing({"kind": "tunnel", "status": "", "lon": "x", "lat": ""})
    assert set(caught.value.errors) == {"kind", "status", "lon", "lat"}


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([], None),
        (["proposée", "proposée"], None),
        (["sélectionnée", "déployée"], 0.5),
        (["déployée", "terminée", "proposée"], 1.0),
        # An abandoned experiment was selected then dropped: it lowers the rate.
        (["déployée", "abandonnée"], 0.5),
        (["abandonnée"], 0.0),
        (["déployée"] * 7 + ["sélectionnée", "abandonnée", "abandonnée", "proposée"], 0.7),
    ],
)
def test_deployment_rate(statuses, expected):
    rate = deployment_rate(statuses)
    assert rate == expected if expected is None else math.isclose(rate, expected)


def test_deployment_rate_rejects_unknown_status():
    with pytest.raises(ValueError, match="statuses"):
        deployment_rate(["déployée", "en cours"])


def test_summarise_counts_per_district_and_status():
    experiments = [
        {"district": "aulnay", "status": "déployée", "theme": "énergie et bâti"},
        {"district": "aulnay", "status": "sélectionnée", "theme": "énergie et bâti"},
        {"district": "aulnay", "status": "proposée", "theme": "mobilité"},
        {"district": "sceaux", "status": "abandonnée", "theme": "espaces publics"},
    ]
    summary = summarise(experiments, districts=["aulnay", "meudon", "sceaux"])
    assert summary["total"] == 4
    assert list(summary["by_status"]) == STATUSES
    aulnay = summary["districts"]["aulnay"]
    assert aulnay["total"] == 3
    assert aulnay["by_status"] == {
        "proposée": 1,
        "sélectionnée": 1,
        "déployée": 1,
        "terminée": 0,
        "abandonnée": 0,
    }
    assert aulnay["themes"] == ["mobilité", "énergie et bâti"]  # vocabulary order
    assert aulnay["deployment_rate"] == 0.5
    assert summary["districts"]["meudon"] == {
        "total": 0,
        "by_status": dict.fromkeys(STATUSES, 0),
        "themes": [],
        "deployment_rate": None,
    }
    assert summary["districts"]["sceaux"]["deployment_rate"] == 0.0
    assert set(summary["themes"]) <= set(THEMES)


INVISIBLE = "Le titre ne contient que des caractères invisibles."
BIDI = "Le titre contient des caractères qui inversent le sens d’écriture (interdits)."


@pytest.mark.parametrize(
    "title",
    [
        "\u200b",
        "\u200b\u200c\u200d",
        " \u2060 \ufeff ",
        "\u00ad\u00ad",
        "\u00a0\u200b\u3000",
        "\u3164",
        "\u2800\u2800",
        "\u200e\u200f",
        "\t\u200b",
    ],
    ids=[
        "zwsp",
        "zw-joiners",
        "word-joiner-bom",
        "soft-hyphens",
        "nbsp-ideographic",
        "hangul-filler",
        "braille-blank",
        "lrm-rlm",
        "tab",
    ],
)
def test_a_title_of_invisible_characters_is_refused(title):
    assert errors_of(form(title=title)) == {"title": INVISIBLE}


@pytest.mark.parametrize("char", list("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))
def test_bidirectional_overrides_and_isolates_are_refused(char):
    assert errors_of(form(title=f"Jardin{char}nidraj")) == {"title": BIDI}
    assert errors_of(form(description=f"Un {char}jardin.")) == {
        "description": BIDI.replace("Le titre", "La description")
    }


def test_the_same_rules_hold_for_organisation_and_crossing_names():
    assert errors_of(form(organisation="\u200b\u200b")) == {
        "organisation": "La structure ne contient que des caractères invisibles."
    }
    assert errors_of(form(organisation="Purple\u202e")) == {
        "organisation": BIDI.replace("Le titre", "La structure")
    }
    crossing = {"kind": "passerelle", "status": "existant", "lon": "2.49", "lat": "48.93"}
    for name, message in (
        ("\ufeff", "ne contient que des caractères invisibles."),
        ("Pont\u2067", "contient des caractères qui inversent"),
    ):
        with pytest.raises(ValidationError) as caught:
            validate_crossing({**crossing, "name": name})
        assert caught.value.errors["name"].startswith(f"Le nom {message}")


def test_invisible_characters_inside_visible_text_are_kept():
    """Joiners in emoji, soft hyphens in long words: legitimate inside a real title."""
    for title in ("Atelier 👩\u200d💻 numérique", "Anti\u00adconstitutionnellement", "Café\u200b"):
        assert validate_experiment(form(title=title), objectives=OBJECTIVES)["title"] == title
