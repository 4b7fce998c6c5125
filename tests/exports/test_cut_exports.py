"""The cut analysis in every export: sheet pages, data layers, offline HTML, KML, slides."""

from __future__ import annotations

import html
import io
import json
import re
import xml.etree.ElementTree as ET

import pyogrio
import pytest
from PIL import Image
from pypdf import PdfReader

from geoapp.errors import GeoappError
from geoapp.exports import plan_export
from geoapp.exports.cut_page import cut_view, cut_views, site_lines
from geoapp.exports.data import write_geojson, write_geopackage, write_kml
from geoapp.exports.scene import make_scene, stored_crossings
from geoapp.exports.sheets import render_sheet
from geoapp.exports.standalone import render_standalone
from geoapp.exports.static_maps import render_map
from geoapp.layers import experiments_frame
from geoapp.store import Store
from tests.exports.conftest import TODAY

CUT_LAYERS = ["corridors", "cotes", "franchissements", "meilleurs_sites"]
KML_NS = {"k": "http://www.opengis.net/kml/2.2"}
HOSTILE = 'Passerelle <b>=HYPERLINK("x")</b> $x^2$ ]]> & fin'


def flat(text: str) -> str:
    return " ".join(text.split())


def pdf_text(pdf: bytes) -> str:
    return flat(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages))


@pytest.fixture(scope="module")
def crossings(atlas):
    """One planned footbridge in Aulnay with a hostile name, at the district's centre (the
    cut report moves it onto the nearest corridor)."""
    lon, lat = atlas.centres_lonlat()["aulnay-centre-gare"]
    row = {
        "id": 7,
        "district": "aulnay-centre-gare",
        "kind": "passerelle",
        "status": "projeté",
        "name": HOSTILE,
        "version": 1,
        "lon": lon,
        "lat": lat,
    }
    return stored_crossings([row])


@pytest.fixture(scope="module")
def aulnay(atlas, crossings):
    return make_scene(
        atlas, experiments_frame([]), "aulnay-centre-gare", today=TODAY, crossings=crossings
    )


def test_district_sheet_has_a_page_on_the_cut(aulnay):
    view = cut_view(aulnay, "aulnay-centre-gare")
    text = pdf_text(render_sheet(aulnay))
    assert "LA COUPURE URBAINE" in text
    assert flat(view.headline) in text
    assert len(view.best.sites) == 3
    for line in site_lines(view):
        assert flat(line) in text
    assert "Ce que le modèle ne voit pas" in text
    for missing in view.missing:  # Aulnay's freight tracks are named but not in the data
        assert missing["nom"] in text
    assert view.missing


def test_programme_sheet_ranks_the_districts_by_the_headline_measure(atlas):
    scene = make_scene(atlas, experiments_frame([]), "all", today=TODAY)
    text = pdf_text(render_sheet(scene))
    assert "Quel quartier est le plus coupé ?" in text
    views = sorted(cut_views(scene), key=lambda v: -v.report.detour.share_over_1_5)
    names = [atlas.district(v.slug)["nom"] for v in views]
    start = text.index("Quel quartier est le plus coupé ?")
    found = [text.index(f"{rank}. {name}", start) for rank, name in enumerate(names, 1)]
    assert found == sorted(found)
    assert "incomplètes" in text and "complètes" in text
    for view in views:
        assert flat(view.headline) in text


def test_geopackage_carries_the_cut_layers(tmp_path, atlas, crossings):
    scene = make_scene(
        atlas, experiments_frame([]), "meudon-la-foret", today=TODAY, crossings=crossings
    )
    path = tmp_path / "meudon.gpkg"
    path.write_bytes(write_geopackage(scene, crs=2154))
    listed = dict(pyogrio.list_layers(path))
    assert set(CUT_LAYERS) <= set(listed)
    corridors = pyogrio.read_dataframe(path, layer="corridors")
    assert "route" in set(corridors["type"])  # the N118 is a cut like the tram
    assert any("N 118" in names for names in corridors["noms"])
    sides = pyogrio.read_dataframe(path, layer="cotes")
    assert sorted(sides["cote"]) == list(range(1, len(sides) + 1))
    sites = pyogrio.read_dataframe(path, layer="meilleurs_sites")
    assert list(sites["rang"]) == [1, 2, 3]
    assert (sites["part_allongee_50_apres"] <= sites["part_allongee_50_avant"]).all()
    found = pyogrio.read_dataframe(path, layer="franchissements")
    assert "gare" in set(found["categorie"])
    districts = pyogrio.read_dataframe(path, layer="quartiers")
    assert districts["titre_coupure"].iloc[0] == cut_view(scene, "meudon-la-foret").headline
    assert "A86" in districts["coupures_absentes"].iloc[0]


def test_geojson_and_kml_carry_the_cut_layers_and_keep_names_literal(aulnay):
    collection = json.loads(write_geojson(aulnay))
    layers = {f["properties"]["couche"] for f in collection["features"]}
    assert set(CUT_LAYERS) <= layers
    projects = [
        f["properties"]
        for f in collection["features"]
        if f["properties"]["couche"] == "franchissements"
        and f["properties"]["categorie"] == "projet"
    ]
    assert [p["nom"] for p in projects] == [HOSTILE]
    root = ET.fromstring(write_kml(aulnay))
    folders = {
        f.findtext("k:name", namespaces=KML_NS): f
        for f in root.iter("{http://www.opengis.net/kml/2.2}Folder")
    }
    assert set(CUT_LAYERS) <= set(folders)
    names = [
        p.findtext("k:name", namespaces=KML_NS)
        for p in folders["franchissements"].findall("k:Placemark", KML_NS)
    ]
    assert HOSTILE in names  # escaped, it parses back to the same text and adds no element
    assert not list(root.iter("b"))
    sides = folders["cotes"].findall("k:Placemark", KML_NS)
    assert len(sides) == cut_view(aulnay, "aulnay-centre-gare").report.n_sides


def test_standalone_html_draws_sides_crossings_and_best_sites(aulnay):
    page = render_standalone(aulnay).decode("utf-8")
    block = re.search(
        r'<script type="application/json" id="qmi-map-data">(.*?)</script>', page, re.S
    )
    data = json.loads(block.group(1))
    layers = {layer["key"]: layer for layer in data["layers"]}
    for key in ("cotes", "franchissements", "meilleurs_sites"):
        assert layers[key]["features"]["features"], key
    assert len(layers["meilleurs_sites"]["features"]["features"]) == 3
    assert HOSTILE not in page  # only as JSON-escaped data, never as markup
    view = cut_view(aulnay, "aulnay-centre-gare")
    assert html.escape(view.headline, quote=False) in page
    assert "<details open>" in page and "<summary>Légende</summary>" in page


@pytest.mark.parametrize("fmt", ["png", "pdf"])
def test_cut_view_map_renders(aulnay, fmt):
    data = render_map(aulnay, fmt=fmt, size="diapo", view="coupure")
    if fmt == "png":
        image = Image.open(io.BytesIO(data))
        assert image.size == (1920, 1080)
        assert len(image.convert("RGB").resize((96, 54)).getcolors(96 * 54)) > 20  # drawn
    else:
        text = pdf_text(data)
        assert flat(cut_view(aulnay, "aulnay-centre-gare").headline) in text
        assert "Meilleurs sites pour franchir" in text


def test_the_cut_view_is_an_export_option(atlas, tmp_path):
    empty_store = Store(tmp_path / "store.sqlite3")
    plan = plan_export(
        atlas, empty_store, target="aulnay-centre-gare", fmt="png", size="diapo", view="coupure"
    )
    assert plan.filename == "qmi-aulnay-centre-gare-carte-coupure-diapo.png"
    default = plan_export(atlas, empty_store, target="aulnay-centre-gare", fmt="png")
    assert default.key != plan.key
    for target, view in (("all", "coupure"), ("aulnay-centre-gare", "lignes")):
        with pytest.raises(GeoappError) as error:
            plan_export(atlas, empty_store, target=target, fmt="png", view=view)
        assert error.value.status == 400
