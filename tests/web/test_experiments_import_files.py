"""Import and export files around the import: unreadable or oversized uploads refused in
French before anything is stored, anonymous uploads refused before they are read, the
« Modèle d’import.xlsx » template and the registry's .xlsx export.
"""

import html
import io

import openpyxl
import pytest

from geoapp.registry_files import HEADERS, write_csv
from tests.conftest import TOKEN, client_as
from tests.web.experiments_helpers import SCEAUX, body, rows_for, snapshot, stored, upload


@pytest.mark.parametrize(
    "content, filename, message",
    [
        (
            b'{"type": "FeatureCollection", "features": [{"geometry": null}]}',
            "lot.geojson",
            "GeoJSON illisible",
        ),
        (b"{ceci n'est pas du json", "lot.json", "GeoJSON illisible"),
        (
            b"district;title\nsceaux-les-blagis;\x81t\xe9",
            "lot.csv",
            "Le fichier CSV n’est ni en UTF-8 ni en Windows-1252",
        ),
        (
            b"nom,lieu\nx,Sceaux",
            "lot.csv",
            "Colonnes obligatoires absentes : « Quartier », « Titre »",
        ),
        (b"PK\x03\x04 pas un classeur", "lot.xlsx", "Classeur Excel illisible"),
        (b"quartier;titre\n", "lot.ods", "Type de fichier non pris en charge"),
        ("\ufeffdistrict;title\r\n".encode(), "lot.csv", "Le fichier ne contient aucune ligne."),
        (b"[" * 100_000 + b"]" * 100_000, "profond.geojson", "GeoJSON illisible"),
        (
            f"district;title\n{SCEAUX};{'x' * 131_073}\n".encode(),
            "cellule.csv",
            "CSV illisible à la ligne 2 : une cellule dépasse 131\u202f072 caractères.",
        ),
    ],
    ids=[
        "null-geometry",
        "not-json",
        "not-cp1252",
        "no-headers",
        "bad-xlsx",
        "ods",
        "no-rows",
        "deep-json",
        "huge-cell",
    ],
)
def test_unreadable_uploads_are_400_in_french(sceaux, store, content, filename, message):
    before = snapshot(store)
    r = upload(sceaux, content, filename)
    assert r.status_code == 400
    assert message in html.unescape(body(r))
    assert snapshot(store) == before


def test_import_without_a_file_is_400(sceaux, store):
    r = sceaux.post("/experimentations/import", data={"csrf_token": TOKEN})
    assert r.status_code == 400
    assert (
        "Choisissez un fichier à importer : Excel (.xlsx), CSV, GeoJSON, GeoPackage ou KML."
        in body(r)
    )


def test_oversized_upload_is_413_in_french(app_factory, atlas):
    small = app_factory(MAX_CONTENT_LENGTH=4096)
    store = small.extensions["qmi_store"]
    client = client_as(small, "editeur-sceaux", "editeur", "92071")
    rows = rows_for(atlas, SCEAUX, [f"Ligne {i}" for i in range(40)])
    data = write_csv(rows)
    assert len(data) > 4096
    before = snapshot(store)
    r = upload(client, data, "gros.csv")
    assert r.status_code == 413
    page = body(r)
    assert "Le fichier envoyé est trop volumineux." in page and '<html lang="fr">' in page
    assert snapshot(store) == before


@pytest.mark.parametrize(
    "content, filename",
    [
        (b"{ceci n'est pas du json", "lot.json"),
        (b"[" * 100_000 + b"]" * 100_000, "profond.geojson"),
        (f"district;title\n{SCEAUX};{'x' * 131_073}\n".encode(), "cellule.csv"),
    ],
    ids=["malformed", "deep", "huge-cell"],
)
def test_anonymous_import_is_401_before_the_file_is_read(anon, store, content, filename):
    before = snapshot(store)
    r = upload(anon, content, filename)
    assert r.status_code == 401
    assert "Connectez-vous pour importer des expérimentations." in html.unescape(body(r))
    assert snapshot(store) == before


def test_anonymous_import_over_the_size_limit_is_401_not_413(app_factory):
    small = app_factory(MAX_CONTENT_LENGTH=4096)
    store = small.extensions["qmi_store"]
    before = snapshot(store)
    r = upload(client_as(small, None), b"district;title\n" + b"x" * 8192, "gros.csv")
    assert r.status_code == 401
    assert "Connectez-vous pour importer des expérimentations." in html.unescape(body(r))
    assert snapshot(store) == before


def test_import_form_is_only_for_accounts(anon, sceaux):
    assert 'action="/experimentations/import"' not in body(anon.get("/experimentations"))
    assert 'action="/experimentations/import"' in body(sceaux.get("/experimentations"))


def test_anonymous_confirmation_is_401(anon, store):
    before = snapshot(store)
    r = anon.post("/experimentations/import/confirmer", data={"csrf_token": TOKEN, "lot": "x"})
    assert r.status_code == 401
    assert snapshot(store) == before


def workbook(response) -> openpyxl.Workbook:
    assert response.status_code == 200
    assert response.mimetype == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    return openpyxl.load_workbook(io.BytesIO(response.data))


def test_the_import_template_has_french_headers_drop_downs_and_instructions(anon, atlas):
    r = anon.get("/experimentations/modele-import.xlsx")
    assert "Mod%C3%A8le%20d%E2%80%99import.xlsx" in r.headers["Content-Disposition"]
    book = workbook(r)
    sheet = book["Expérimentations"]
    assert [c.value for c in sheet[1]] == HEADERS
    lists = {}
    for check in sheet.data_validations.dataValidation:
        column = str(check.sqref).split(":")[0].rstrip("0123456789")
        header = sheet[f"{column}1"].value
        sheet_name, cells = check.formula1.split("!")
        listed = book[sheet_name.strip("'")][cells.replace("$", "")]
        lists[header] = [row[0].value for row in listed]
    assert lists["Quartier"] == list(atlas.districts["nom"])
    assert lists["Thème"][0] == "mobilité" and "espaces publics" in lists["Thème"]
    assert lists["Statut"] == ["proposée", "sélectionnée", "déployée", "terminée", "abandonnée"]
    assert lists["Type de structure"] == ["startup", "association", "entreprise"]
    instructions = "\n".join(c.value or "" for c in book["Mode d’emploi"]["A"])
    assert "jj/mm/aaaa" in instructions
    assert "1 = Créer des lieux de convivialité et de rencontre" in instructions


def test_the_filled_template_imports(sceaux, store, atlas):
    book = workbook(sceaux.get("/experimentations/modele-import.xlsx"))
    sheet = book["Expérimentations"]
    lon, lat = atlas.centres_lonlat()[SCEAUX]
    values = {
        "Quartier": "Les Blagis",
        "Titre": "Depuis le modèle",
        "Structure": "Asso",
        "Type de structure": "association",
        "Thème": "espaces publics",
        "Objectifs": "3",
        "Description": "Rempli dans Excel.",
        "Statut": "proposée",
        "Longitude": lon,
        "Latitude": lat,
        "Précision": "exacte",
    }
    sheet.append([values.get(h) for h in HEADERS])
    out = io.BytesIO()
    book.save(out)
    preview = upload(sceaux, out.getvalue(), "Modèle d’import.xlsx")
    assert preview.status_code == 200
    assert "1</strong> à créer" in body(preview)


def test_the_xlsx_export_has_french_headers_dates_and_inert_text(admin, store, atlas):
    e = stored(store, atlas, SCEAUX, title='=HYPERLINK("http://x")', start_date="2024-03-12")
    book = workbook(admin.get("/experimentations/export.xlsx"))
    sheet = book["Expérimentations"]
    assert [c.value for c in sheet[1]] == HEADERS
    row = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == e["id"])
    cells = dict(zip(HEADERS, row, strict=True))
    assert cells["Titre"].value == e["title"] and cells["Titre"].data_type == "s"
    assert cells["Quartier"].value == "Les Blagis"
    assert cells["Date de début"].value.date().isoformat() == "2024-03-12"
    assert cells["Date de début"].number_format == "DD/MM/YYYY"
