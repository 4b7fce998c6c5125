"""Theme, status and district filters on the maps, the API and the registry, and the
registry downloads (CSV, GeoJSON) they narrow.
"""

import csv
import io
import json
import re

import pytest

from geoapp.registry_files import COLUMNS
from tests.conftest import fetched_experiments
from tests.web.experiments_helpers import (
    IN_SCEAUX,
    MEUDON,
    SCEAUX,
    body,
    geojson_titles,
    section,
    stored,
)


@pytest.fixture
def filtered(store, atlas):
    stored(store, atlas, SCEAUX, title="Filtre Mobilite Alpha", theme="mobilité", status="proposée")
    stored(
        store,
        atlas,
        SCEAUX,
        title="Filtre Culture Bravo",
        theme="lien social et culture",
        status="déployée",
    )
    stored(store, atlas, MEUDON, title="Filtre Meudon Charlie", theme="mobilité", status="déployée")
    return store


AULNAY_SEEDS = {"Purple Alternative Surface", "Soy PV", "Istya"}
SEEDS = AULNAY_SEEDS | {"EcoFlow"}  # EcoFlow: Noisy-le-Grand
ALPHA, BRAVO, CHARLIE = "Filtre Mobilite Alpha", "Filtre Culture Bravo", "Filtre Meudon Charlie"


@pytest.mark.parametrize(
    "query, expected",
    [
        ("", SEEDS | {ALPHA, BRAVO, CHARLIE}),
        ("?quartier=sceaux-les-blagis", {ALPHA, BRAVO}),
        ("?theme=mobilité", {ALPHA, CHARLIE}),
        ("?statut=déployée", {"Purple Alternative Surface", "Soy PV", BRAVO, CHARLIE}),
        ("?quartier=meudon-la-foret&theme=mobilité&statut=déployée", {CHARLIE}),
        ("?quartier=aulnay-centre-gare", AULNAY_SEEDS),
        ("?quartier=paris&theme=astrologie&statut=rêvée", SEEDS | {ALPHA, BRAVO, CHARLIE}),
    ],
)
def test_filters_on_geojson_overview_and_registry(anon, filtered, query, expected):
    assert set(geojson_titles(anon, query)) == expected
    overview = body(anon.get("/" + query))
    assert f"{len(expected)} expérimentation(s) affichée(s)" in overview
    assert set(fetched_experiments(anon, overview)["title"]) == expected  # what the map draws
    registry = body(anon.get("/experimentations" + query))
    listed = set(
        re.findall(
            r'<a href="/experimentations/\d+">([^<]+)</a>',
            section(registry, 'id="experiments"', "</table>"),
        )
    )
    assert listed == expected


def test_filters_on_the_district_page(anon, filtered):
    page = body(anon.get(f"/quartiers/{SCEAUX}?theme=mobilité"))
    assert ALPHA in page and BRAVO not in page
    assert "Expérimentations (1)" in page
    empty = body(anon.get(f"/quartiers/{SCEAUX}?statut=terminée"))
    assert "Aucune expérimentation enregistrée pour ces filtres" in empty


def test_csv_export(anon, filtered):
    with anon.get("/experimentations/export.csv") as r:
        assert r.status_code == 200
        assert r.mimetype == "text/csv"
        assert r.headers["Content-Type"] == "text/csv; charset=utf-8"  # one charset
        assert "attachment" in r.headers["Content-Disposition"]
        assert r.headers["Content-Disposition"].endswith(".csv")
        data = r.data
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    lines = text.split("\r\n")
    assert lines[0] == (
        "Identifiant;Quartier;Titre;Structure;Type de structure;Thème;Objectifs;Description;"
        "Statut;Date de début;Date de fin;Longitude;Latitude;Tracé ou zone (WKT);Précision;"
        "Note de localisation;Bilan;Passage à l’échelle;Liens;Version"
    )
    rows = list(csv.DictReader(io.StringIO(text, newline=""), delimiter=";"))
    assert {r["Titre"] for r in rows} == SEEDS | {ALPHA, BRAVO, CHARLIE}
    assert all(len(r) == len(COLUMNS) for r in rows)
    alpha = next(r for r in rows if r["Titre"] == ALPHA)
    assert alpha["Quartier"] == "Les Blagis" and alpha["Thème"] == "mobilité"
    assert "\n" in alpha["Description"]  # multi-line text survives, quoted
    with anon.get("/experimentations/export.csv?quartier=aulnay-centre-gare") as r:
        assert len(r.data.decode("utf-8-sig").strip().split("\r\n")) == 1 + len(AULNAY_SEEDS)


def test_geojson_export(anon, filtered):
    with anon.get("/experimentations/export.geojson?theme=mobilité") as r:
        assert r.status_code == 200
        assert r.mimetype == "application/geo+json"
        assert "attachment" in r.headers["Content-Disposition"]
        data = json.loads(r.data)
    assert data["type"] == "FeatureCollection"
    assert {f["properties"]["title"] for f in data["features"]} == {ALPHA, CHARLIE}
    alpha = next(f for f in data["features"] if f["properties"]["title"] == ALPHA)
    assert alpha["geometry"] == {"type": "Point", "coordinates": list(IN_SCEAUX)}
    assert alpha["properties"]["objectives"] == [alpha["properties"]["objectives"][0]]
