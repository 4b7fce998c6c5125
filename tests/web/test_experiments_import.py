"""Importing the registry from CSV or GeoJSON: all or nothing, per-commune rights,
unreadable or oversized files refused in French.

After every refused request the stored experiments and the data version are
compared with a snapshot (``snapshot``).
"""

import html
import json
import re

import pytest

from geoapp.registry_files import COLUMNS, write_csv, write_geojson
from tests.conftest import TOKEN, client_as
from tests.web.experiments_helpers import (
    IN_SCEAUX,
    MEUDON,
    SCEAUX,
    body,
    rows_for,
    section,
    snapshot,
    upload,
)


def test_import_good_csv(sceaux, store, atlas):
    count = len(store.list_experiments())
    r = upload(sceaux, write_csv(rows_for(atlas, SCEAUX, ["Import Un", "Import Deux"])), "lot.csv")
    assert r.status_code == 302 and r.headers["Location"] == "/experimentations"
    assert len(store.list_experiments()) == count + 2
    one = next(e for e in store.list_experiments() if e["title"] == "Import Un")
    assert one["district"] == SCEAUX and one["objectives"] == [atlas.objectives()[SCEAUX][1]]
    assert store.history(one["id"])[0]["action"] == "import"
    assert "2 expérimentation(s) importée(s)." in html.unescape(
        body(sceaux.get("/experimentations"))
    )


def test_import_good_geojson(sceaux, store, atlas):
    count = len(store.list_experiments())
    rows = rows_for(atlas, SCEAUX, ["Geo Un"], evaluation_scale_up=True)
    rows[0]["lon"], rows[0]["lat"] = IN_SCEAUX
    r = upload(sceaux, write_geojson(rows).encode(), "lot.geojson")
    assert r.status_code == 302
    assert len(store.list_experiments()) == count + 1
    geo = next(e for e in store.list_experiments() if e["title"] == "Geo Un")
    assert geo["evaluation_scale_up"] is True and (geo["lon"], geo["lat"]) == IN_SCEAUX


def test_exported_csv_imports_back(admin, store):
    with admin.get("/experimentations/export.csv") as r:
        exported = r.data
    before = store.list_experiments()
    r = upload(admin, exported, "export.csv")
    assert r.status_code == 302
    after = store.list_experiments()
    assert len(after) == 2 * len(before)
    keep = [c for c in COLUMNS if c != "id"]
    assert sorted(json.dumps([e[c] for c in keep], sort_keys=True) for e in before * 2) == sorted(
        json.dumps([e[c] for c in keep], sort_keys=True) for e in after
    )


def test_import_with_one_bad_row_imports_nothing(sceaux, store, atlas):
    rows = rows_for(atlas, SCEAUX, ["Bon Un", "", "Bon Deux"])
    rows.append({**rows[0], "title": "Mauvais thème", "theme": "astrologie"})
    before = snapshot(store)
    r = upload(sceaux, write_csv(rows), "lot.csv")
    assert r.status_code == 422
    page = html.unescape(body(r))
    assert "Import refusé : rien n’a été importé" in page
    assert "2 ligne(s) sur 4 comportent des erreurs." in page
    report = section(page, 'id="import-report"', "</table>")
    lines = re.findall(r"<tr><td>(\d+)</td>", report)
    assert lines == ["3", "5"]  # the header is line 1
    assert "<strong>title</strong> : Le titre est obligatoire." in report
    assert "<strong>theme</strong> : Thème inconnu : « astrologie »." in report
    assert snapshot(store) == before


def test_import_rows_of_another_commune_imports_nothing(sceaux, store, atlas):
    rows = rows_for(atlas, SCEAUX, ["Chez moi"]) + rows_for(atlas, MEUDON, ["Chez le voisin"])
    before = snapshot(store)
    r = upload(sceaux, write_csv(rows), "lot.csv")
    assert r.status_code == 422
    report = section(html.unescape(body(r)), 'id="import-report"', "</table>")
    assert re.findall(r"<tr><td>(\d+)</td><td>([^<]*)</td>", report) == [("3", "Chez le voisin")]
    assert "Votre compte ne permet pas de modifier le quartier Meudon-la-Forêt" in report
    assert snapshot(store) == before


def test_import_unknown_district_is_reported(admin, store, atlas):
    rows = rows_for(atlas, SCEAUX, ["Ailleurs"])
    rows[0]["district"] = "paris-centre"
    before = snapshot(store)
    r = upload(admin, write_csv(rows), "lot.csv")
    assert r.status_code == 422
    assert "Quartier inconnu : « paris-centre »." in html.unescape(body(r))
    assert snapshot(store) == before


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
            "district;title\nsceaux-les-blagis;Été".encode("latin-1"),
            "lot.csv",
            "Le fichier CSV n’est pas encodé en UTF-8.",
        ),
        (
            b"district,title\nsceaux-les-blagis,Virgules",
            "lot.csv",
            "Colonnes obligatoires absentes du CSV : district, title",
        ),
        ("\ufeffdistrict;title\r\n".encode(), "lot.csv", "Le fichier ne contient aucune ligne."),
        (b"[" * 100_000 + b"]" * 100_000, "profond.geojson", "GeoJSON illisible"),
        (
            f"district;title\n{SCEAUX};{'x' * 131_073}\n".encode(),
            "cellule.csv",
            "CSV illisible à la ligne 2 : une cellule dépasse 131\u202f072 caractères.",
        ),
    ],
    ids=["null-geometry", "not-json", "latin-1", "commas", "no-rows", "deep-json", "huge-cell"],
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
    assert "Choisissez un fichier CSV ou GeoJSON à importer." in body(r)


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
