"""Text from users and data is inert everywhere: stored byte-exact, shown literally.

Every text field of an experiment, a crossing's name, imported names and the district facts
of the data files hold template syntax (Jinja/branca ``{{ }}``, ``{% %}``, ``{#``, ``#}``),
JS template syntax ``${…}``, matplotlib mathtext ``$…$``, markup, ``&`` and spreadsheet
formula starts. Each view and each export format must answer 200 and show them as text.
Before the fix, branca rendered the map script as a template: ``{{ 7*7 }}`` became 49 and
``{#`` made every map page a 500.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import xml.etree.ElementTree as ET

import geopandas as gpd
import pytest
from markupsafe import escape

from geoapp.atlas import build_atlas
from geoapp.config import PROJECT_ROOT
from geoapp.registry_files import read_csv
from tests.conftest import (
    TOKEN,
    client_as,
    experiment_titles,
    fetched_experiments,
    inline_experiments,
    map_properties,
)

SCEAUX = "sceaux-les-blagis"
IN_SCEAUX = (2.3031, 48.7828)  # lon, lat
SYNTAX = "{{ 7*7 }} {% if 1 %}x{% endif %} {# ${7*7} $\\frac{1}{2}$ <b>gras</b> & #}"
# One value per field, each with its own formula start, so a mix-up shows.
HOSTILE = {
    "title": "=Atelier " + SYNTAX,
    "organisation": "+Collectif " + SYNTAX,
    "description": "-Description " + SYNTAX + "\nligne 2 {#",
    "location_note": "@Note " + SYNTAX,
    "evaluation_outcome": "'=Bilan " + SYNTAX,
}
LONE_COMMENT = "Atelier {# 3"  # the persistent denial of service: an unclosed comment
CROSSING = "Passerelle " + SYNTAX
EXPORT_SUFFIXES = ["png", "svg", "pdf", "fiche.pdf", "html", "gpkg", "geojson", "csv", "kml"]


def experiment_form(atlas, **values) -> dict:
    lon, lat = IN_SCEAUX
    return {
        "csrf_token": TOKEN,
        "org_kind": "association",
        "theme": "espaces publics",
        "objectives": [atlas.objectives()[SCEAUX][0]],
        "status": "déployée",
        "start_date": "2025-04-01",
        "end_date": "",
        "lat": str(lat),
        "lon": str(lon),
        "precision": "exacte",
        "evaluation_scale_up": "",
        "location_note": "",
        "evaluation_outcome": "",
        "description": "",
        **values,
    }


@pytest.fixture(scope="module")
def hostile(app_factory, atlas):
    """An app holding the hostile experiment, the lone-comment one and a hostile crossing."""
    app = app_factory()
    editor = client_as(app, "sceaux-inerte", commune="92071")
    for values in (
        HOSTILE,
        {"title": LONE_COMMENT, "organisation": "Org {#", "description": "Texte {# sans fin"},
    ):
        with editor.post(
            f"/quartiers/{SCEAUX}/experimentations", data=experiment_form(atlas, **values)
        ) as r:
            assert r.status_code == 302, re.findall(
                r"field-error[^>]*>([^<]*)", r.get_data(as_text=True)
            )
    line = atlas.corridors[SCEAUX].geometry.iloc[0]
    point = (
        gpd.GeoSeries([line.interpolate(0.5, normalized=True)], crs=atlas.corridors[SCEAUX].crs)
        .to_crs(4326)
        .iloc[0]
    )
    with editor.post(
        f"/quartiers/{SCEAUX}/franchissements",
        data={
            "csrf_token": TOKEN,
            "kind": "passerelle",
            "status": "projeté",
            "name": CROSSING,
            "lon": str(point.x),
            "lat": str(point.y),
        },
    ) as r:
        assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    store = app.extensions["qmi_store"]
    stored = {e["title"]: e for e in store.list_experiments(district=SCEAUX)}
    return {
        "app": app,
        "editor": editor,
        "experiment": stored[HOSTILE["title"]],
        "lone": stored[LONE_COMMENT],
    }


def page(client, url: str) -> str:
    with client.get(url) as r:
        assert r.status_code == 200, url
        return r.get_data(as_text=True)


def test_every_field_is_stored_byte_exact(hostile):
    stored = hostile["app"].extensions["qmi_store"].get_experiment(hostile["experiment"]["id"])
    for field, value in HOSTILE.items():
        assert stored[field] == value, field
    names = [c["name"] for c in hostile["app"].extensions["qmi_store"].list_crossings(SCEAUX)]
    assert CROSSING in names


@pytest.mark.parametrize("who", ["anonymous", "editor"])
def test_every_page_shows_the_text_literally(hostile, who):
    client = hostile["editor"] if who == "editor" else hostile["app"].test_client()
    e = hostile["experiment"]
    pages = {
        "/": [],
        f"/quartiers/{SCEAUX}": ["title"],
        "/experimentations": ["title"],
        f"/experimentations/{e['id']}": list(HOSTILE),
        f"/experimentations/{hostile['lone']['id']}": [],
    }
    for url, fields in pages.items():
        text = page(client, url)
        for field in fields:
            assert str(escape(HOSTILE[field])) in text, (url, field)


def test_the_maps_carry_the_text_as_data(hostile):
    client = hostile["app"].test_client()
    e = hostile["experiment"]
    for url in ("/", f"/quartiers/{SCEAUX}", f"/experimentations/{e['id']}"):
        text = page(client, url)
        assert "<b>gras</b>" not in text  # neither as markup nor in the map's JSON
        points = fetched_experiments(client, text)
        assert experiment_titles(points)[e["id"]].startswith(HOSTILE["title"]), url
    popup = client.get(f"/api/carte/experimentations/{e['id']}").get_json()
    assert popup["title"] == HOSTILE["title"]
    rows = dict(popup["rows"])
    assert rows["Structure"] == f"{HOSTILE['organisation']} (association)"
    assert popup["note"] == HOSTILE["location_note"]
    district = page(client, f"/quartiers/{SCEAUX}")
    names = [p["popup"]["title"] for p in map_properties(district, "franchissement")]
    assert CROSSING in names


def test_the_history_shows_the_text_literally(hostile):
    e = hostile["experiment"]
    text = page(hostile["app"].test_client(), f"/experimentations/{e['id']}")
    assert text.count(str(escape(HOSTILE["title"]))) >= 2  # heading and history


def test_the_apis_return_the_text_unchanged(hostile):
    client = hostile["app"].test_client()
    e = hostile["experiment"]
    with client.get(f"/api/experimentations/{e['id']}") as r:
        assert r.status_code == 200
        body = r.get_json()
    found = body.get("experimentation", body)
    assert found["title"] == HOSTILE["title"]
    with client.get(f"/api/experimentations.geojson?quartier={SCEAUX}") as r:
        titles = [f["properties"]["title"] for f in r.get_json()["features"]]
    assert HOSTILE["title"] in titles and LONE_COMMENT in titles
    lon, lat = IN_SCEAUX
    with client.get(f"/api/placement?quartier={SCEAUX}&lat={lat}&lon={lon}") as r:
        assert r.status_code == 200
        near = [n["title"] for n in r.get_json()["nearby_experiments"]]
    assert HOSTILE["title"] in near


@pytest.mark.parametrize("target", [SCEAUX, "all"])
@pytest.mark.parametrize("suffix", EXPORT_SUFFIXES)
def test_every_export_answers(hostile, target, suffix):
    with hostile["app"].test_client().get(f"/exports/{target}.{suffix}") as r:
        assert r.status_code == 200, (target, suffix, r.get_data(as_text=True)[:500])
        assert len(r.data) > 100


def export(hostile, name: str) -> bytes:
    with hostile["app"].test_client().get(f"/exports/{name}") as r:
        assert r.status_code == 200, name
        return r.data


@pytest.mark.parametrize("target", [SCEAUX, "all"])
def test_data_exports_keep_the_text_exact(hostile, target, tmp_path):
    features = json.loads(export(hostile, f"{target}.geojson"))["features"]
    titles = {f["properties"].get("title") for f in features}
    assert HOSTILE["title"] in titles and LONE_COMMENT in titles
    rows = read_csv(export(hostile, f"{target}.csv"))
    mine = [r for r in rows if r.get("title") == HOSTILE["title"]]
    assert len(mine) == 1
    for field, value in HOSTILE.items():
        assert mine[0][field].replace("\r\n", "\n") == value, field
    raw = export(hostile, f"{target}.csv").decode("utf-8-sig")
    for line in csv.reader(io.StringIO(raw), delimiter=";"):
        assert not any(cell[:1] in "=+-@" for cell in line if cell), line  # formulas guarded
    texts = [el.text for el in ET.fromstring(export(hostile, f"{target}.kml")).iter() if el.text]
    assert HOSTILE["title"] in texts
    assert any(HOSTILE["location_note"] in t for t in texts)
    path = tmp_path / "x.gpkg"
    path.write_bytes(export(hostile, f"{target}.gpkg"))
    experiments = gpd.read_file(path, layer="experimentations")
    assert HOSTILE["title"] in set(experiments["title"])


@pytest.mark.parametrize("target", [SCEAUX, "all"])
def test_the_offline_map_carries_the_text_as_data(hostile, target):
    html = export(hostile, f"{target}.html").decode("utf-8")
    assert "<b>gras</b>" not in html
    titles = [p["title"] for p in inline_experiments(html)["popups"]]
    assert HOSTILE["title"] in titles and LONE_COMMENT in titles


def test_the_import_report_shows_names_literally(hostile):
    header = (
        "title;organisation;org_kind;theme;objectives;description;status;start_date;"
        "end_date;lat;lon;precision;location_note;evaluation_outcome;"
        "evaluation_scale_up;district\n"
    )
    lon, lat = IN_SCEAUX
    good = (
        f"{SYNTAX};{SYNTAX};association;espaces publics;;{SYNTAX};proposée;;;"
        f"{lat};{lon};exacte;;;;{SCEAUX}\n"
    )
    bad = (
        f"Sans thème {SYNTAX};Org;association;inconnu;;;proposée;;;{lat};{lon};exacte;;;;{SCEAUX}\n"
    )
    body = (header + good + bad).encode("utf-8")
    store = hostile["app"].extensions["qmi_store"]
    before = store.data_version()
    with hostile["editor"].post(
        "/experimentations/import",
        data={"csrf_token": TOKEN, "fichier": (io.BytesIO(body), "import.csv")},
    ) as r:
        assert r.status_code == 422
        text = r.get_data(as_text=True)
    assert str(escape(f"Sans thème {SYNTAX}")) in text
    assert "<b>gras</b>" not in text
    assert store.data_version() == before


def test_district_facts_from_data_files_are_inert(app_factory, tmp_path):
    """A data file's facts (name, mayor, context…) with the same syntax: pages stay 200."""
    data = tmp_path / "data"
    shutil.copytree(PROJECT_ROOT / "data", data)
    path = data / "quartiers.json"
    facts = json.loads(path.read_text(encoding="utf-8"))
    entries = facts if isinstance(facts, list) else facts.get("quartiers", facts)
    entry = next(iter(entries.values())) if isinstance(entries, dict) else entries[0]
    entry["nom"] = "Quartier " + SYNTAX
    entry["maire"] = "Maire {# " + SYNTAX
    entry["contexte"] = "Contexte " + SYNTAX
    path.write_text(json.dumps(facts, ensure_ascii=False), encoding="utf-8")
    app = app_factory(ATLAS=build_atlas(data))
    client = app.test_client()
    slug = entry["slug"]
    for url in ("/", f"/quartiers/{slug}"):
        text = page(client, url)
        assert str(escape(entry["nom"])) in text
        names = [p["popup"]["title"] for p in map_properties(text, "quartier")]
        assert any(n.startswith(entry["nom"]) for n in names)
    assert str(escape(entry["contexte"])) in page(client, f"/quartiers/{slug}")
    for suffix in ("html", "png", "fiche.pdf", "kml"):
        with client.get(f"/exports/{slug}.{suffix}") as r:
            assert r.status_code == 200, suffix
    html = export({"app": app}, f"{slug}.html").decode("utf-8")
    assert str(escape(entry["nom"])) in html
