"""Importing what French Excel produces: preview, then confirmation, all or nothing.

Each file kind (Windows-1252 CSV with jj/mm/aaaa dates and French headers, the same in
UTF-8 with BOM, .xlsx with Excel date cells, GeoJSON) imports, and importing it again
changes nothing. After every refused request the stored experiments and the data version
are compared with a snapshot (``snapshot``).
"""

import html
import io
from datetime import date

import openpyxl
import pytest
from markupsafe import escape

from geoapp.registry_files import write_csv, write_geojson, write_xlsx
from tests.conftest import TOKEN, client_as
from tests.web.experiments_helpers import (
    IN_SCEAUX,
    MEUDON,
    SCEAUX,
    body,
    confirm,
    confirm_token,
    counts,
    import_and_confirm,
    inside_points,
    rows_for,
    section,
    snapshot,
    upload,
)
from tests.web.test_inert_text import HOSTILE

# What a Sceaux planner types in French Excel: the export's French headers, the commune
# for the district, capitals and no accents in the vocabulary, objectives by number,
# jj/mm/aaaa dates and decimal commas.
FRENCH_HEADERS = [
    "Quartier",
    "Titre",
    "Structure",
    "Type de structure",
    "Thème",
    "Objectifs",
    "Description",
    "Statut",
    "Date de début",
    "Date de fin",
    "Longitude",
    "Latitude",
    "Précision",
    "Passage à l’échelle",
]


def french_rows(atlas) -> list[list[str]]:
    (lon1, lat1), (lon2, lat2) = inside_points(atlas, SCEAUX)
    return [
        [
            "Sceaux",
            "Fresque « Été » des Blagis",
            "Ateliers d’Écoute",
            "Association",
            "LIEN SOCIAL ET CULTURE",
            "1 | 4",
            "Une fresque peinte avec les habitants ; vernissage en juin.",
            "Deployee",
            "12/03/2024",
            "30/06/2024",
            str(lon1).replace(".", ","),
            str(lat1).replace(".", ","),
            "exacte",
            "Oui",
        ],
        [
            "92071",
            "Îlot de fraîcheur",
            "Verdure & Cie",
            "entreprise",
            "Nature en ville et ilots de fraicheur",
            "Développer la nature en ville et les îlots de fraîcheur",
            "Des arbres en pots.",
            "proposée",
            "2024-09-01",
            "",
            str(lon2).replace(".", ","),
            str(lat2).replace(".", ","),
            "Indicative",
            "",
        ],
    ]


def excel_csv(atlas, *, encoding: str, delimiter: str = ";") -> bytes:
    lines = [FRENCH_HEADERS, *french_rows(atlas)]
    text = "\r\n".join(delimiter.join(_quoted(c, delimiter) for c in line) for line in lines)
    return (text + "\r\n").encode(encoding)


def _quoted(cell: str, delimiter: str) -> str:
    return f'"{cell}"' if delimiter in cell else cell


def excel_workbook(atlas) -> bytes:
    """An .xlsx as Excel saves it: dates in date cells, coordinates as numbers."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Feuil1"
    sheet.append(FRENCH_HEADERS)
    for row in french_rows(atlas):
        cells = list(row)
        for i in (8, 9):
            cells[i] = _excel_date(cells[i])
        cells[10], cells[11] = (float(c.replace(",", ".")) for c in cells[10:12])
        sheet.append(cells)
    for cell in sheet["I"][1:] + sheet["J"][1:]:
        cell.number_format = "DD/MM/YYYY"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _excel_date(text: str):
    if not text:
        return None
    if "/" in text:
        day, month, year = map(int, text.split("/"))
        return date(year, month, day)
    return date.fromisoformat(text)


def check_imported(store, atlas) -> None:
    fresque = next(e for e in store.list_experiments() if e["title"].startswith("Fresque"))
    objectives = atlas.objectives()[SCEAUX]
    assert fresque["district"] == SCEAUX
    assert fresque["theme"] == "lien social et culture" and fresque["status"] == "déployée"
    assert fresque["org_kind"] == "association" and fresque["evaluation_scale_up"] is True
    assert fresque["objectives"] == [objectives[0], objectives[3]]
    assert (fresque["start_date"], fresque["end_date"]) == ("2024-03-12", "2024-06-30")
    assert (fresque["lon"], fresque["lat"]) == inside_points(atlas, SCEAUX)[0]
    assert fresque["title"] == "Fresque « Été » des Blagis"  # accents intact
    ilot = next(e for e in store.list_experiments() if e["title"] == "Îlot de fraîcheur")
    assert ilot["precision"] == "indicative" and ilot["start_date"] == "2024-09-01"
    assert ilot["objectives"] == [objectives[1]] and ilot["evaluation_scale_up"] is None
    assert store.history(ilot["id"])[0]["action"] == "import"


def excel_files(atlas) -> dict[str, tuple[bytes, str]]:
    return {
        "csv-windows-1252": (excel_csv(atlas, encoding="cp1252"), "registre.csv"),
        "csv-utf8-bom": (excel_csv(atlas, encoding="utf-8-sig"), "registre.csv"),
        "csv-tabs": (excel_csv(atlas, encoding="utf-8", delimiter="\t"), "registre.txt"),
        "xlsx": (excel_workbook(atlas), "registre.xlsx"),
    }


@pytest.mark.parametrize("kind", ["csv-windows-1252", "csv-utf8-bom", "csv-tabs", "xlsx"])
def test_french_excel_files_import_then_reimport_changes_nothing(sceaux, store, atlas, kind):
    data, filename = excel_files(atlas)[kind]
    count = len(store.list_experiments())
    preview = upload(sceaux, data, filename)
    assert preview.status_code == 200
    assert counts(preview) == {"create": 2, "update": 0, "same": 0, "error": 0}
    assert len(store.list_experiments()) == count  # a preview writes nothing
    done = confirm(sceaux, preview)
    assert done.status_code == 302 and done.headers["Location"] == "/experimentations"
    assert len(store.list_experiments()) == count + 2
    check_imported(store, atlas)
    assert "Import terminé : 2 expérimentation(s) créée(s), 0 modifiée(s)" in html.unescape(
        body(sceaux.get("/experimentations"))
    )
    before = snapshot(store)
    again = upload(sceaux, data, filename)
    assert counts(again) == {"create": 0, "update": 0, "same": 2, "error": 0}
    assert confirm_token(again) is None  # nothing to confirm
    assert "Rien à importer" in html.unescape(body(again))
    assert snapshot(store) == before


def test_geojson_imports_then_reimport_changes_nothing(sceaux, store, atlas):
    rows = rows_for(atlas, SCEAUX, ["Geo Un", "Geo Deux"], evaluation_scale_up=True)
    rows[0]["lon"], rows[0]["lat"] = IN_SCEAUX
    data = write_geojson(rows).encode()
    done = import_and_confirm(sceaux, data, "lot.geojson")
    assert done.status_code == 302
    geo = next(e for e in store.list_experiments() if e["title"] == "Geo Un")
    assert geo["evaluation_scale_up"] is True and (geo["lon"], geo["lat"]) == IN_SCEAUX
    before = snapshot(store)
    again = upload(sceaux, data, "lot.geojson")
    assert counts(again) == {"create": 0, "update": 0, "same": 2, "error": 0}
    assert snapshot(store) == before


@pytest.mark.parametrize("suffix", ["csv", "xlsx", "geojson"])
def test_an_export_imports_back_unchanged(admin, store, suffix):
    with admin.get(f"/experimentations/export.{suffix}") as r:
        exported = r.data
    before = snapshot(store)
    preview = upload(admin, exported, f"export.{suffix}")
    n = len(store.list_experiments())
    assert counts(preview) == {"create": 0, "update": 0, "same": n, "error": 0}
    assert snapshot(store) == before


def test_an_editor_reimports_the_whole_registry_export(sceaux, store):
    """Rows of other communes left as they are do not stop a Sceaux editor's import."""
    exported = sceaux.get("/experimentations/export.xlsx").data
    preview = upload(sceaux, exported, "export.xlsx")
    assert counts(preview)["error"] == 0 and counts(preview)["same"] > 0


def test_an_edited_export_row_updates_that_experiment(sceaux, store, atlas):
    import_and_confirm(sceaux, excel_csv(atlas, encoding="cp1252"), "registre.csv")
    fresque = next(e for e in store.list_experiments() if e["title"].startswith("Fresque"))
    book = openpyxl.load_workbook(io.BytesIO(sceaux.get("/experimentations/export.xlsx").data))
    sheet = book["Expérimentations"]
    headers = [c.value for c in sheet[1]]
    row = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == fresque["id"])
    row[headers.index("Statut")].value = "terminée"
    row[headers.index("Bilan")].value = "Très réussie"
    out = io.BytesIO()
    book.save(out)
    preview = upload(sceaux, out.getvalue(), "export modifié.xlsx")
    assert counts(preview)["update"] == 1 and counts(preview)["create"] == 0
    report = html.unescape(section(body(preview), 'id="import-report"', "</table>"))
    assert "<strong>statut</strong> : déployée → terminée" in report
    assert "<strong>bilan</strong> : (vide) → Très réussie" in report
    assert confirm(sceaux, preview).status_code == 302
    updated = store.get_experiment(fresque["id"])
    assert updated["status"] == "terminée" and updated["version"] == fresque["version"] + 1
    assert [h["action"] for h in store.history(fresque["id"])] == ["import", "import"]
    # The same edited file again: nothing to do, and a stale copy is refused.
    assert counts(upload(sceaux, out.getvalue(), "export modifié.xlsx"))["update"] == 0
    row[headers.index("Bilan")].value = "Autre bilan"
    book.save(out := io.BytesIO())
    stale = upload(sceaux, out.getvalue(), "vieux.xlsx")
    assert stale.status_code == 422
    assert "a été modifiée depuis ce fichier" in html.unescape(body(stale))


def test_one_bad_row_changes_nothing_and_the_report_names_row_and_column(sceaux, store, atlas):
    rows = french_rows(atlas)
    rows.append([*rows[0][:1], "Mauvais thème", *rows[0][2:4], "astrologie", *rows[0][5:]])
    rows.append([*rows[1][:8], "31/02/2024", *rows[1][9:]])
    lines = [FRENCH_HEADERS, *rows]
    data = "\r\n".join(";".join(_quoted(c, ";") for c in line) for line in lines)
    data = data.encode("cp1252")
    before = snapshot(store)
    r = upload(sceaux, data, "registre.csv")
    assert r.status_code == 422
    page = html.unescape(body(r))
    assert "Import refusé : rien n’a été importé" in page and confirm_token(r) is None
    assert counts(r) == {"create": 2, "update": 0, "same": 0, "error": 2}
    report = section(page, 'id="import-report"', "</table>")
    assert '<tr data-action="erreur"><td>4</td><td>Mauvais thème</td>' in report
    assert "<strong>Thème</strong> : « astrologie » n’est pas une valeur possible" in report
    assert '<tr data-action="erreur"><td>5</td>' in report
    assert "<strong>Date de début</strong> : « 31/02/2024 » n’est pas une date" in report
    assert snapshot(store) == before


@pytest.mark.parametrize(
    "column, value, message",
    [
        ("Quartier", "Paris", "« Paris » : quartier inconnu"),
        ("Objectifs", "9", "« 9 » n’est pas un objectif du quartier Les Blagis"),
        ("Statut", "en cours", "« en cours » n’est pas une valeur possible"),
        ("Latitude", "48,9", "Le point est à"),
        ("Passage à l’échelle", "peut-être", "« peut-être » : indiquez « oui », « non »"),
    ],
)
def test_ambiguous_cells_name_the_column_and_what_is_allowed(
    admin, store, atlas, column, value, message
):
    rows = french_rows(atlas)[:1]
    rows[0][FRENCH_HEADERS.index(column)] = value
    lines = [FRENCH_HEADERS, *rows]
    data = "\r\n".join(";".join(_quoted(c, ";") for c in line) for line in lines).encode()
    before = snapshot(store)
    r = upload(admin, data, "registre.csv")
    assert r.status_code == 422
    assert f"<strong>{column}</strong> : {message}" in html.unescape(body(r))
    assert snapshot(store) == before


def test_rows_of_another_commune_are_refused(sceaux, store, atlas):
    rows = rows_for(atlas, SCEAUX, ["Chez moi"]) + rows_for(atlas, MEUDON, ["Chez le voisin"])
    data = write_geojson(rows).encode()
    before = snapshot(store)
    r = upload(sceaux, data, "lot.geojson")
    assert r.status_code == 422
    report = html.unescape(section(body(r), 'id="import-report"', "</table>"))
    assert "<td>2</td><td>Chez le voisin</td>" in report
    assert "Votre compte ne permet pas de modifier le quartier Meudon-la-Forêt" in report
    assert snapshot(store) == before


def test_a_row_twice_in_the_file_is_refused(sceaux, store, atlas):
    rows = rows_for(atlas, SCEAUX, ["Doublon", "Doublon"])
    r = upload(sceaux, write_geojson(rows).encode(), "lot.geojson")
    assert r.status_code == 422
    assert "Déjà présente à la ligne 1 du fichier" in html.unescape(body(r))


def test_confirmation_reads_the_servers_copy_and_checks_the_registry(sceaux, store, atlas):
    preview = upload(sceaux, write_geojson(rows_for(atlas, SCEAUX, ["Lot A"])).encode(), "a.json")
    token = confirm_token(preview)
    # Another account cannot confirm it; a made-up token confirms nothing.
    other = client_as(sceaux.application, "autre-sceaux", "editeur", "92071")
    before = snapshot(store)
    for client, lot in ((other, token), (sceaux, "inventé"), (sceaux, "")):
        r = client.post(
            "/experimentations/import/confirmer", data={"csrf_token": TOKEN, "lot": lot}
        )
        assert r.status_code == 404 and "importez à nouveau le fichier" in html.unescape(body(r))
    assert snapshot(store) == before
    # Someone creates the same experiment in between: the preview no longer holds.
    import_and_confirm(other, write_geojson(rows_for(atlas, SCEAUX, ["Lot A"])).encode(), "b.json")
    before = snapshot(store)
    r = confirm(sceaux, preview)
    assert r.status_code == 409
    assert "Le registre a changé depuis l’aperçu" in html.unescape(body(r))
    assert counts(r) == {"create": 0, "update": 0, "same": 1, "error": 0}
    assert snapshot(store) == before
    # A confirmed preview cannot be applied twice.
    fresh = upload(sceaux, write_geojson(rows_for(atlas, SCEAUX, ["Lot B"])).encode(), "c.json")
    assert confirm(sceaux, fresh).status_code == 302
    again = sceaux.post(
        "/experimentations/import/confirmer",
        data={"csrf_token": TOKEN, "lot": confirm_token(fresh)},
    )
    assert again.status_code == 404


def test_a_file_over_the_row_limit_is_refused_up_front(app_factory, atlas):
    small = app_factory(IMPORT_MAX_ROWS=3)
    store = small.extensions["qmi_store"]
    client = client_as(small, "editeur-sceaux", "editeur", "92071")
    rows = rows_for(atlas, SCEAUX, [f"Ligne {i}" for i in range(4)])
    before = snapshot(store)
    for data, name in ((write_geojson(rows).encode(), "gros.geojson"),):
        r = upload(client, data, name)
        assert r.status_code == 413
        assert "Le fichier compte plus de 3 lignes" in html.unescape(body(r))
    assert snapshot(store) == before


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_hostile_text_in_imported_cells_stays_inert(sceaux, store, atlas, suffix):
    """Template syntax, markup and formula starts: escaped in the preview, stored
    byte-exact, exported as text (CSV apostrophe guard, .xlsx text cells), and the
    export imports back unchanged."""
    others = {f: v for f, v in HOSTILE.items() if f != "title"}
    rows = rows_for(atlas, SCEAUX, [HOSTILE["title"]], **others)
    data = write_csv(rows) if suffix == "csv" else write_xlsx(rows)
    preview = upload(sceaux, data, f"hostile.{suffix}")
    page = body(preview)
    assert str(escape(HOSTILE["title"])) in page and "<b>gras</b>" not in page
    assert confirm(sceaux, preview).status_code == 302
    [saved] = [e for e in store.list_experiments() if e["title"] == HOSTILE["title"]]
    assert {f: saved[f] for f in HOSTILE} == HOSTILE
    exported = sceaux.get(f"/experimentations/export.{suffix}").data
    if suffix == "csv":
        assert b";'=Atelier {{ 7*7 }}" in exported and b";'+Collectif" in exported
    else:
        sheet = openpyxl.load_workbook(io.BytesIO(exported))["Expérimentations"]
        cell = next(r[2] for r in sheet.iter_rows(min_row=2) if r[0].value == saved["id"])
        assert (cell.value, cell.data_type) == (HOSTILE["title"], "s")
    again = upload(sceaux, exported, f"export.{suffix}")
    assert counts(again)["create"] == counts(again)["update"] == counts(again)["error"] == 0
