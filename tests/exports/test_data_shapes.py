"""Data exports of experiments that are lines or areas: geometry types, kind and size
columns, each experiment once, and GeoPackage / KML / GeoJSON files that the registry's
import reads back unchanged."""

from __future__ import annotations

import html
import json
import re
import xml.etree.ElementTree as ET

import numpy as np
import pyogrio
import pytest

from geoapp.exports.data import (
    _kml_colour,
    export_layers,
    write_geojson,
    write_geopackage,
    write_kml,
)
from geoapp.exports.scene import make_scene
from geoapp.layers import experiments_frame
from geoapp.registry import validate_experiment
from geoapp.vocabulary import THEME_COLOURS
from tests.conftest import client_as
from tests.exports.conftest import PATH, SQUARE, TODAY, shaped_row
from tests.web.experiments_helpers import confirm_token, form_for, snapshot, upload

KML_NS = {"k": "http://www.opengis.net/kml/2.2"}
HOSTILE = "<b>Rue & {{ 7*7 }} {% if %} {# x ]]> $x^2$ =SUM(A1)"


def _saved(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _kinds(frame) -> dict[str, tuple[str, str]]:
    return {
        t: (g, f) for t, g, f in zip(frame["title"], frame.geom_type, frame["forme"], strict=True)
    }


EXPECTED_KINDS = {
    "Îlot de fraîcheur": ("Point", "point"),
    "Vélos partagés": ("Point", "point"),
    "Parcours des écoles": ("LineString", "tracé"),
    "Placette renaturée": ("Polygon", "zone"),
}


@pytest.mark.parametrize("crs", [2154, 4326])
def test_geopackage_keeps_points_lines_and_areas_in_one_layer(tmp_path, shaped_scene, crs):
    path = _saved(tmp_path, "qmi.gpkg", write_geopackage(shaped_scene, crs=crs))
    info = pyogrio.read_info(path, layer="experimentations")
    assert info["geometry_type"] in ("Unknown", "Geometry")
    layer = pyogrio.read_dataframe(path, layer="experimentations")  # what QGIS reads
    assert layer.crs.to_epsg() == crs
    assert len(layer) == 4 == layer["id_experimentation"].nunique()  # each once
    assert _kinds(layer) == EXPECTED_KINDS
    by_title = layer.set_index("title")
    assert by_title.loc["Parcours des écoles", "longueur_m"] == pytest.approx(417.4, abs=0.2)
    assert by_title.loc["Placette renaturée", "surface_ha"] == pytest.approx(0.49, abs=0.002)
    assert by_title[["longueur_m", "surface_ha"]].loc["Vélos partagés"].isna().all()
    metric = layer.to_crs(2154).set_index("title").geometry
    assert metric["Parcours des écoles"].length == pytest.approx(417.4, abs=0.5)


def test_geojson_features_have_their_own_geometry_and_size(shaped_scene):
    data = json.loads(write_geojson(shaped_scene))
    exps = [f for f in data["features"] if f["properties"]["couche"] == "experimentations"]
    kinds = {
        f["properties"]["title"]: (f["geometry"]["type"], f["properties"]["forme"]) for f in exps
    }
    assert kinds == EXPECTED_KINDS
    line = next(f for f in exps if f["geometry"]["type"] == "LineString")
    np.testing.assert_allclose(line["geometry"]["coordinates"], PATH["coordinates"], atol=1e-6)
    assert line["properties"]["longueur_m"] == pytest.approx(417.4, abs=0.2)
    assert line["properties"]["surface_ha"] is None
    assert "shape" not in line["properties"]  # the geometry is the shape


def test_kml_writes_line_and_polygon_placemarks_in_the_theme_colour(tmp_path, shaped_scene):
    data = write_kml(shaped_scene)
    root = ET.fromstring(data)
    folder = next(
        f
        for f in root.iter(f"{{{KML_NS['k']}}}Folder")
        if f.findtext("k:name", namespaces=KML_NS) == "experimentations"
    )
    marks = {
        p.findtext("k:name", namespaces=KML_NS): p
        for p in folder.iter(f"{{{KML_NS['k']}}}Placemark")
    }
    assert set(marks) == {
        "1. Îlot de fraîcheur",
        "2. Parcours des écoles",
        "3. Placette renaturée",
        "4. Vélos partagés",
    }
    assert marks["2. Parcours des écoles"].find("k:LineString", KML_NS) is not None
    assert marks["3. Placette renaturée"].find("k:Polygon", KML_NS) is not None
    styles = {st.get("id"): st for st in root.iter(f"{{{KML_NS['k']}}}Style")}

    def style(mark, path: str) -> str:
        found = styles[mark.findtext("k:styleUrl", namespaces=KML_NS).lstrip("#")]
        return found.findtext(path, namespaces=KML_NS)

    line, area = marks["2. Parcours des écoles"], marks["3. Placette renaturée"]
    assert style(line, "k:LineStyle/k:color") == _kml_colour(THEME_COLOURS["mobilité"])
    green = THEME_COLOURS["nature en ville et îlots de fraîcheur"]
    assert style(area, "k:LineStyle/k:color") == _kml_colour(green)
    assert style(area, "k:PolyStyle/k:color") == _kml_colour(green, 0.35)
    read = pyogrio.read_dataframe(_saved(tmp_path, "qmi.kml", data), layer="experimentations")
    assert sorted(read.geom_type) == ["LineString", "Point", "Point", "Polygon"]


def test_hostile_text_of_a_line_stays_text_in_kml(atlas):
    row = shaped_row(atlas, 9, PATH, title=HOSTILE, description=HOSTILE, location_note=HOSTILE)
    scene = make_scene(atlas, experiments_frame([row]), "sceaux-les-blagis", today=TODAY)
    root = ET.fromstring(write_kml(scene))
    (mark,) = [
        p
        for p in root.iter(f"{{{KML_NS['k']}}}Placemark")
        if p.find("k:LineString", KML_NS) is not None
        and p.findtext("k:name", namespaces=KML_NS).startswith("1. ")
    ]
    assert mark.findtext("k:name", namespaces=KML_NS) == f"1. {HOSTILE}"
    assert mark.findtext("k:description", namespaces=KML_NS) == HOSTILE
    data = {
        d.get("name"): d.findtext("k:value", namespaces=KML_NS)
        for d in mark.iter(f"{{{KML_NS['k']}}}Data")
    }
    assert data["location_note"] == HOSTILE and data["forme"] == "tracé"
    assert mark.find(".//k:b", KML_NS) is None  # no element from the text


def test_each_experiment_is_exported_once(shaped_scene):
    layer = export_layers(shaped_scene)["experimentations"]
    assert len(layer) == len(shaped_scene.experiments) == 4
    assert layer["numero"].tolist() == shaped_scene.experiments["numero"].tolist()


# Round trips through the registry's import ----------------------------------------------------


def _registry(app, atlas, places) -> tuple:
    """The app's store holding ``places`` (title -> shape, None for a point) in Les
    Blagis, and the editor of Sceaux's client."""
    store = app.extensions["qmi_store"]
    for title, shape in places.items():
        form = form_for(atlas, "sceaux-les-blagis", title=title)
        if shape:
            form["shape"] = json.dumps(shape)
        values = validate_experiment(form, objectives=atlas.objectives()["sceaux-les-blagis"])
        store.create_experiment(values, district="sceaux-les-blagis", user="fixture")
    return store, client_as(app, "editeur-sceaux", "editeur", "92071")


def _exported(atlas, store, writer) -> bytes:
    frame = experiments_frame(store.list_experiments())
    return writer(make_scene(atlas, frame, "sceaux-les-blagis", today=TODAY))


# A point's degrees cross Lambert-93 in a GeoPackage of EPSG:2154 and come back 1e-15°
# off: the registry keeps 6 decimals, so it still reads as unchanged.
@pytest.mark.parametrize(
    "writer, filename",
    [
        (lambda s: write_geopackage(s, crs=2154), "qmi.gpkg"),
        (lambda s: write_geopackage(s, crs=4326), "qmi.gpkg"),
        (write_kml, "qmi.kml"),
    ],
    ids=["gpkg-2154", "gpkg-4326", "kml"],
)
def test_an_export_with_a_point_a_line_and_an_area_imports_back_unchanged(
    app, atlas, writer, filename
):
    places = {"Parcours signalé": PATH, "Placette": SQUARE, "Banc": None}
    store, client = _registry(app, atlas, places)
    shapes = {e["title"]: e["shape"] for e in store.list_experiments()}
    assert shapes["Parcours signalé"] == PATH and shapes["Placette"] == SQUARE
    data = _exported(atlas, store, writer)
    before = snapshot(store)
    again = upload(client, data, filename)
    assert again.status_code == 200, again.get_data(as_text=True)[:2000]
    page = re.sub(r"<[^>]+>", "", html.unescape(again.get_data(as_text=True)))
    text = " ".join(page.split())
    in_sceaux = [e for e in store.list_experiments() if e["district"] == "sceaux-les-blagis"]
    summary = f"0 à créer, 0 à modifier, {len(in_sceaux)} inchangée(s), 0 erreur(s)"
    assert summary in text, text[text.find("Fichier") :][:600]
    assert confirm_token(again) is None  # every row « inchangée »: nothing to confirm
    assert snapshot(store) == before


def test_the_programme_geojson_is_not_a_registry_file_and_says_so(app, atlas):
    """Its district, cut and station features carry no « Quartier »: each is a French
    error on that column (never a 500), and nothing is stored."""
    store, client = _registry(app, atlas, {"Parcours signalé": PATH})
    data = _exported(atlas, store, write_geojson)
    before = snapshot(store)
    r = upload(client, data, "qmi.geojson")
    assert r.status_code in (200, 422), r.get_data(as_text=True)[:2000]
    assert "Le quartier est obligatoire" in html.unescape(r.get_data(as_text=True))
    assert confirm_token(r) is None and snapshot(store) == before
