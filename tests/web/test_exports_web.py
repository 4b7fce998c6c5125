"""The export routes: every format for a district and the programme, filters, errors."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from flask import render_template_string
from PIL import Image

from geoapp.registry import validate_experiment
from geoapp.registry_files import read_csv

EXPECTED = {
    "png": ("image/png", "qmi-{t}-carte-diapo.png"),
    "svg": ("image/svg+xml", "qmi-{t}-carte-diapo.svg"),
    "pdf": ("application/pdf", "qmi-{t}-carte-a4.pdf"),
    "fiche.pdf": ("application/pdf", "qmi-{t}-fiche.pdf"),
    "html": ("text/html", "qmi-{t}-carte-interactive.html"),
    "gpkg": ("application/geopackage+sqlite3", "qmi-{t}-donnees-lambert93.gpkg"),
    "geojson": ("application/geo+json", "qmi-{t}-donnees.geojson"),
    "csv": ("text/csv", "qmi-{t}-experimentations.csv"),
    "kml": ("application/vnd.google-earth.kml+xml", "qmi-{t}-donnees.kml"),
}
MAGIC = {
    "png": b"\x89PNG",
    "svg": b"<?xml",
    "pdf": b"%PDF",
    "fiche.pdf": b"%PDF",
    "html": b"<!DOCTYPE html>",
    "gpkg": b"SQLite format 3",
    "geojson": b"{",
    "csv": "\ufeffIdentifiant;".encode(),
    "kml": b"<?xml",
}


def store_of(app):
    return app.extensions["qmi_store"]


def add_experiment(app, slug: str, **overrides):
    atlas = app.extensions["qmi_atlas"]
    lon, lat = atlas.centres_lonlat()[slug]
    form = {
        "title": "Jardin partagé",
        "organisation": "Les Amis du Parc",
        "org_kind": "association",
        "theme": "nature en ville et îlots de fraîcheur",
        "objectives": [atlas.objectives()[slug][0]],
        "description": "Un jardin.",
        "status": "déployée",
        "lon": lon,
        "lat": lat,
        "precision": "exacte",
        **overrides,
    }
    values = validate_experiment(form, objectives=atlas.objectives()[slug])
    return store_of(app).create_experiment(values, district=slug, user="test")


@pytest.mark.parametrize("target", ["sceaux-les-blagis", "all"])
@pytest.mark.parametrize("suffix", list(EXPECTED))
def test_every_format_downloads(client, target, suffix):
    response = client.get(f"/exports/{target}.{suffix}")
    assert response.status_code == 200
    mimetype, name = EXPECTED[suffix]
    assert response.mimetype == mimetype
    assert response.headers["Content-Type"].count("charset") <= 1, response.headers
    label = "programme" if target == "all" else target
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="{name.format(t=label)}"'
    )
    assert response.data.startswith(MAGIC[suffix])


def test_size_and_crs_parameters(client):
    a4 = client.get("/exports/noisy-mont-d-est.png?taille=a4")
    assert Image.open(io.BytesIO(a4.data)).size == (3508, 2480)
    assert "carte-a4.png" in a4.headers["Content-Disposition"]
    wgs84 = client.get("/exports/noisy-mont-d-est.gpkg?crs=4326")
    assert wgs84.status_code == 200 and "wgs84.gpkg" in wgs84.headers["Content-Disposition"]


def test_filters_export_what_the_page_shows(app, client):
    add_experiment(app, "sceaux-les-blagis")
    add_experiment(app, "sceaux-les-blagis", title="Navette", theme="mobilité", status="proposée")
    rows = read_csv(client.get("/exports/all.csv").data)
    # The file names districts as people do; the seed has Aulnay's three and EcoFlow (Noisy).
    assert {r["district"] for r in rows} == {"Centre Gare", "Le Mont d’Est", "Les Blagis"}
    rows = read_csv(client.get("/exports/all.csv?theme=mobilité").data)
    assert [r["title"] for r in rows] == ["Navette"]
    rows = read_csv(client.get("/exports/all.csv?statut=déployée&quartier=sceaux-les-blagis").data)
    assert [r["title"] for r in rows] == ["Jardin partagé"]
    rows = read_csv(client.get("/exports/aulnay-centre-gare.csv").data)
    assert rows and {r["district"] for r in rows} == {"Centre Gare"}
    svg = client.get("/exports/sceaux-les-blagis.svg?theme=mobilité").data.decode()
    assert "Navette" in svg and "Jardin partagé" not in svg


@pytest.mark.parametrize(
    "url, status, message",
    [
        ("/exports/lyon.png", 404, "Le quartier « lyon » n’existe pas."),
        ("/exports/all.docx", 404, "Format d’export inconnu : « docx »"),
        ("/exports/all", 404, "Format d’export inconnu"),
        ("/exports/all.png?taille=a0", 400, "Taille inconnue : « a0 »"),
        ("/exports/all.gpkg?crs=3857", 400, "Système de coordonnées inconnu : « 3857 »"),
        ("/exports/all.csv?theme=cuisine", 400, "Thème inconnu : « cuisine »"),
        ("/exports/all.csv?statut=rêvée", 400, "Statut inconnu : « rêvée »"),
        ("/exports/all.csv?quartier=lyon", 404, "Le quartier « lyon » n’existe pas."),
    ],
)
def test_bad_parameters_are_french_errors(client, url, status, message):
    response = client.get(url)
    assert response.status_code == status
    assert response.mimetype == "text/html"
    assert message in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)


def test_a_new_experiment_invalidates_the_cache(app, client):
    first = client.get("/exports/meudon-la-foret.png").data
    assert client.get("/exports/meudon-la-foret.png").data == first  # served from cache
    assert len(list(Path(app.config["EXPORT_CACHE_DIR"]).iterdir())) == 1
    add_experiment(app, "meudon-la-foret")
    assert client.get("/exports/meudon-la-foret.png").data != first


def test_csv_export_imports_back_into_an_empty_registry(app, app_factory, client):
    """Export the registry, import it into a fresh app: the same experiments."""
    add_experiment(
        app,
        "noisy-mont-d-est",
        start_date="2024-01-15",
        end_date="2024-12-31",
        location_note="Parvis; « côté » gare\nsortie 2",
        evaluation_outcome="Bilan positif",
        evaluation_scale_up="oui",
    )
    rows = read_csv(client.get("/exports/all.csv").data)
    other = app_factory()
    store = store_of(other)
    atlas = other.extensions["qmi_atlas"]
    for row in store.list_experiments():
        store.withdraw_experiment(row["id"], expected_version=row["version"], user="test")
    slugs = dict(zip(atlas.districts["nom"], atlas.districts["slug"], strict=True))
    for r in rows:  # the file names districts as people do
        r["district"] = slugs[r["district"]]
    cleaned = [
        {
            **validate_experiment(r, objectives=atlas.objectives()[r["district"]]),
            "district": r["district"],
        }
        for r in rows
    ]
    store.import_experiments(cleaned, user="test")
    fields = [
        "district",
        "title",
        "organisation",
        "org_kind",
        "theme",
        "objectives",
        "description",
        "status",
        "start_date",
        "end_date",
        "lon",
        "lat",
        "precision",
        "location_note",
        "evaluation_outcome",
        "evaluation_scale_up",
    ]

    def registry(s):
        return sorted(tuple(str(e[f]) for f in fields) for e in s.list_experiments())

    assert registry(store) == registry(store_of(app))


def test_menu_lists_every_format_and_keeps_the_filters(app):
    with app.test_request_context("/quartiers/sceaux-les-blagis?theme=mobilité&statut=proposée"):
        html = render_template_string(
            '{% with export_target="sceaux-les-blagis" %}'
            '{% include "exports/_menu.html" %}{% endwith %}'
        )
    # 11 exports, and the cut view as a slide and an A4 map (a district's only)
    assert html.count("<li>") == 13
    assert html.count("vue=coupure") == 2
    assert '<details class="export-menu">' in html and "Exporter" in html
    for suffix in EXPECTED:
        assert (
            f"/exports/sceaux-les-blagis.{suffix}?" in html
            or f'/exports/sceaux-les-blagis.{suffix}"' in html
        )
    assert html.count("theme=mobilit%C3%A9") == 13 and html.count("statut=propos%C3%A9e") == 13
    with app.test_request_context("/?quartier=meudon-la-foret"):
        html = render_template_string(
            '{% with export_target="all" %}{% include "exports/_menu.html" %}{% endwith %}'
        )
    assert "Fiche programme" in html and html.count("quartier=meudon-la-foret") == 11
    assert "vue=coupure" not in html
