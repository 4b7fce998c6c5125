"""The registry as files: CSV (French Excel) and GeoJSON, written then read back."""

import json

import pytest

from geoapp.errors import GeoappError
from geoapp.registry import validate_experiment
from geoapp.registry_files import (
    COLUMNS,
    HEADERS,
    read_csv,
    read_geojson,
    write_csv,
    write_geojson,
)

OBJECTIVES = [
    "Créer des lieux de convivialité et de rencontre",
    "Développer la nature en ville et les îlots de fraîcheur",
    "S’appuyer sur le tissu associatif et culturel pour animer le quartier",
]
BOM = b"\xef\xbb\xbf"


def row(**overrides) -> dict:
    """An experiment as the store returns it."""
    return {
        "id": 7,
        "district": "sceaux-les-blagis",
        "title": "Îlot « frais » ; n°1",
        "organisation": 'Les "Jardiniers" des Blagis',
        "org_kind": "association",
        "theme": "nature en ville et îlots de fraîcheur",
        "objectives": [OBJECTIVES[1], OBJECTIVES[2]],
        "description": "Plantations ; arrosage partagé.\nDeuxième ligne, avec « guillemets ».",
        "status": "déployée",
        "start_date": "2024-05-02",
        "end_date": None,
        "lon": 2.3031,
        "lat": 48.7828,
        "precision": "indicative",
        "location_note": "Square des Blagis",
        "evaluation_outcome": "Très fréquenté.",
        "evaluation_scale_up": True,
        "version": 3,
        "withdrawn": False,
        **overrides,
    }


ROWS = [
    row(),
    row(
        id=8,
        title="Sans bilan",
        objectives=[OBJECTIVES[0]],
        evaluation_outcome=None,
        evaluation_scale_up=None,
        start_date=None,
        precision="exacte",
    ),
    row(id=9, title="Bilan négatif", evaluation_scale_up=False, lon=2.30312345),
]


def cleaned(rows: list[dict]) -> list[dict]:
    """What an import keeps of each row: the validator's output."""
    return [validate_experiment(r, objectives=OBJECTIVES) for r in rows]


def test_csv_starts_with_a_bom_and_uses_semicolons():
    data = write_csv(ROWS)
    assert data.startswith(BOM)
    text = data[len(BOM) :].decode("utf-8")
    header, first = text.split("\r\n")[:2]
    assert header == ";".join(HEADERS)
    assert header.startswith("Identifiant;Quartier;Titre;Structure;Type de structure;Thème;")
    # a cell holding the separator or quotes is quoted, quotes doubled (RFC 4180, Excel)
    assert first.startswith(
        '7;sceaux-les-blagis;"Îlot « frais » ; n°1";"Les ""Jardiniers"" des Blagis";association;'
    )
    # a point has an empty shape cell; no links, the last cell before the version
    assert first.endswith(";2.3031;48.7828;;indicative;Square des Blagis;Très fréquenté.;oui;;3")


def test_csv_round_trip_gives_the_same_values():
    back = read_csv(write_csv(ROWS))
    assert len(back) == 3
    assert back[0]["objectives"] == [OBJECTIVES[1], OBJECTIVES[2]]
    assert back[1]["objectives"] == [OBJECTIVES[0]]
    assert [r["evaluation_scale_up"] for r in back] == ["oui", "", "non"]
    assert back[0]["description"] == ROWS[0]["description"]
    assert back[0]["organisation"] == 'Les "Jardiniers" des Blagis'
    assert [r["district"] for r in back] == ["sceaux-les-blagis"] * 3
    assert cleaned(back) == cleaned(ROWS)
    assert [c["evaluation_scale_up"] for c in cleaned(back)] == [True, None, False]
    assert cleaned(back)[2]["lon"] == 2.303123  # the registry keeps 6 decimals (~0.1 m)


# What a user may type: formula starts, apostrophes of their own, CSV syntax, line breaks.
TRICKY = [
    "=1+1",
    "'=1+1",
    "''x",
    "-3",
    "@a",
    "'quote",
    "+33 1 23",
    "'",
    "''",
    "'-3",
    "texte simple",
    "a ; b",
    'dit "bonjour"',
    "ligne 1\nligne 2",
    "ligne 1\r\nligne 2",
    '=A1;"x"\n\'y',
    "\tindenté",
    "fin\r",
]
TEXT_FIELDS = ["title", "organisation", "description", "location_note", "evaluation_outcome"]


@pytest.mark.parametrize("value", TRICKY)
def test_csv_text_round_trips_byte_exact(value):
    back = read_csv(write_csv([row(**{field: value for field in TEXT_FIELDS})]))
    assert [{field: r[field] for field in TEXT_FIELDS} for r in back] == [
        dict.fromkeys(TEXT_FIELDS, value)
    ]


@pytest.mark.parametrize(
    "value, cell",
    [
        ("=1+1", "'=1+1"),
        ("@a", "'@a"),
        ("-3", "'-3"),
        ("+33 1 23", "'+33 1 23"),
        ("'quote", "''quote"),
        ("'=1+1", "''=1+1"),
        ("texte", "texte"),
    ],
)
def test_csv_export_protects_formula_and_apostrophe_starts(value, cell):
    text = write_csv([row(title=value)])[len(BOM) :].decode("utf-8")
    assert text.split("\r\n")[1].split(";")[2] == cell


@pytest.mark.parametrize(
    "cell, value",
    [
        ("'=1+1", "=1+1"),
        ("''quote", "'quote"),
        ("'quote", "'quote"),
        ("'", "'"),
        ("'3 rue", "'3 rue"),
        ("=1+1", "=1+1"),
    ],
)
def test_csv_import_removes_only_the_apostrophe_an_export_adds(cell, value):
    data = f"district;title\r\nsceaux-les-blagis;{cell}\r\n".encode()
    assert read_csv(data)[0]["title"] == value


def test_geojson_round_trip_gives_the_same_values():
    text = write_geojson(ROWS)
    data = json.loads(text)
    assert data["type"] == "FeatureCollection"
    assert data["features"][0]["geometry"] == {"type": "Point", "coordinates": [2.3031, 48.7828]}
    assert set(data["features"][0]["properties"]) == set(COLUMNS) - {"lon", "lat", "shape"}
    back = read_geojson(text.encode("utf-8"))
    assert [r["evaluation_scale_up"] for r in back] == [True, None, False]
    assert back[0]["objectives"] == [OBJECTIVES[1], OBJECTIVES[2]]
    assert cleaned(back) == cleaned(ROWS)


def test_empty_registry_files():
    assert read_csv(write_csv([])) == []
    assert read_geojson(write_geojson([]).encode()) == []


def test_csv_without_bom_and_with_excel_line_endings_is_read():
    data = "district;title;objectives\r\nsceaux-les-blagis;Été;a | b\r\n".encode()
    assert read_csv(data) == [
        {"district": "sceaux-les-blagis", "title": "Été", "objectives": ["a", "b"]}
    ]


def test_csv_in_windows_1252_is_read():
    data = "district;title\nsceaux-les-blagis;Été à Sceaux\n".encode("cp1252")
    assert read_csv(data) == [
        {"district": "sceaux-les-blagis", "title": "Été à Sceaux", "objectives": []}
    ]


def test_csv_in_neither_utf8_nor_windows_1252_is_a_400():
    data = b"district;title\nsceaux-les-blagis;\x81\xe9\n"  # 0x81 is undefined in cp1252
    with pytest.raises(GeoappError) as info:
        read_csv(data)
    assert info.value.status == 400
    assert info.value.message.startswith("Le fichier CSV n’est ni en UTF-8 ni en Windows-1252")


@pytest.mark.parametrize(
    "data, missing",
    [
        (b"quartier;nom\nsceaux-les-blagis;x\n", "« Titre »"),
        ("Titre;Statut\nx;proposée\n".encode(), "« Quartier »"),
        (b"a\tb\n1\t2\n", "« Quartier », « Titre »"),
    ],
)
def test_csv_without_required_columns_is_a_400(data, missing):
    with pytest.raises(GeoappError) as info:
        read_csv(data)
    assert info.value.status == 400
    assert info.value.message == (
        f"Colonnes obligatoires absentes : {missing} (la première ligne du fichier doit "
        "porter les en-têtes du modèle d’import)."
    )


@pytest.mark.parametrize("delimiter", [";", ",", "\t"])
def test_csv_separator_is_detected(delimiter):
    data = delimiter.join(["Quartier", "Titre", "Objectifs"])
    data += "\r\n" + delimiter.join(["Sceaux", '"a, b ; c"', "1"]) + "\r\n"
    assert read_csv(data.encode()) == [
        {"district": "Sceaux", "title": "a, b ; c", "objectives": ["1"]}
    ]


def test_empty_csv_is_a_400():
    with pytest.raises(GeoappError) as info:
        read_csv(b"")
    assert info.value.status == 400 and info.value.message == "Le fichier est vide."


@pytest.mark.parametrize(
    "data",
    [
        b"pas du json",
        b"[]",
        b'{"type": "FeatureCollection"}',
        b'{"features": 3}',
        b'{"features": [{"geometry": null, "properties": {}}]}',
        b'{"features": [{"geometry": {"type": "Point", "coordinates": [2.3]}}]}',
        '{"features": []}'.encode("utf-16"),
    ],
)
def test_malformed_geojson_is_a_400(data):
    with pytest.raises(GeoappError) as info:
        read_geojson(data)
    assert info.value.status == 400
    assert info.value.message.startswith("GeoJSON illisible")


DEEP = 100_000


@pytest.mark.parametrize(
    "data",
    [
        b"[" * DEEP + b"]" * DEEP,
        b'{"features": ' + b'{"a": ' * DEEP + b"1" + b"}" * DEEP + b"}",
        b'{"features": [{"geometry": {"type": "Point", "coordinates": [2.3, 48.8]}, '
        b'"properties": {"title": ' + b"[" * DEEP + b"]" * DEEP + b"}}]}",
        # 900 levels still parse: they must not reach the validators' str().
        b'{"features": [{"geometry": {"type": "Point", "coordinates": [2.3, 48.8]}, '
        b'"properties": {"title": ' + b"[" * 900 + b"]" * 900 + b"}}]}",
        b'{"features": [{"geometry": {"type": "Point", "coordinates": ['
        + b"[" * 900
        + b"]" * 900
        + b', 48.8]}, "properties": {}}]}',
    ],
    ids=["arrays", "objects", "property", "parsable-property", "parsable-coordinate"],
)
def test_deeply_nested_geojson_is_a_400(data):
    with pytest.raises(GeoappError) as info:
        read_geojson(data)
    assert info.value.status == 400
    assert info.value.message.startswith("GeoJSON illisible")


def test_csv_cell_over_the_field_limit_is_a_400():
    data = ("district;title\nsceaux-les-blagis;" + "x" * 131_073 + "\n").encode()
    with pytest.raises(GeoappError) as info:
        read_csv(data)
    assert info.value.status == 400
    assert info.value.message == (
        "CSV illisible à la ligne 2 : une cellule dépasse 131\u202f072 caractères."
    )
