"""Every output format escapes its own syntax: hostile text comes out as literal text.

KML: XML metacharacters and well-formed markup stay text (no 500, no injected elements).
Static maps and sheets (matplotlib): dollar signs and TeX stay text (no mathtext, no TeX).
"""

from __future__ import annotations

import dataclasses
import io
import xml.etree.ElementTree as ET

import matplotlib
import pytest
from pypdf import PdfReader

from geoapp.exports.data import write_kml
from geoapp.exports.scene import make_scene
from geoapp.exports.sheets import render_sheet
from geoapp.exports.static_maps import render_map
from geoapp.layers import experiments_frame
from geoapp.registry import validate_experiment
from tests.exports.conftest import TODAY, experiment_row

KML_NS = {"k": "http://www.opengis.net/kml/2.2"}
METACHARACTERS = "Recyclage & réemploi <b>gras</b> > \"cité\" 'apostrophe'"
INJECTION = (
    'Sous le pont</value></Data><Data name="injecte"><value>oui</value></Data>'
    '<Data name="suite"><value>'
)
CDATA = "<![CDATA[<i>caché</i>]]> et ]]> seul &amp; &#x41; &unknown;"
HOSTILE = [METACHARACTERS, INJECTION, CDATA]


@pytest.fixture(scope="module")
def hostile_rows(atlas):
    """One experiment per hostile string in Sceaux, every free-text field hostile."""
    return [
        experiment_row(
            atlas,
            "sceaux-les-blagis",
            i,
            title=f"{text} {i}",
            organisation=text,
            description=f"{text}\r\nligne 2",
            location_note=text,
            evaluation_outcome=text,
        )
        for i, text in enumerate(HOSTILE, 1)
    ]


@pytest.fixture(scope="module")
def hostile_atlas(atlas):
    """The real atlas with hostile names for districts, communes, cuts and stations."""

    def rename(frame, column, text):
        return frame.assign(**{column: [f"{text} {v}" for v in frame[column]]})

    districts = rename(rename(atlas.districts, "nom", METACHARACTERS), "commune", INJECTION)
    districts = rename(districts, "contexte", CDATA)
    return dataclasses.replace(
        atlas,
        districts=districts,
        cuts=rename(atlas.cuts, "nom", INJECTION),
        stations=rename(atlas.stations, "nom", METACHARACTERS),
    )


def _kml_tree(data: bytes) -> ET.Element:
    return ET.fromstring(data)  # raises on malformed XML


def _folders(root: ET.Element) -> dict[str, ET.Element]:
    return {
        f.findtext("k:name", namespaces=KML_NS): f for f in root.iterfind(".//k:Folder", KML_NS)
    }


def _data(placemark: ET.Element) -> dict[str, str]:
    names = [d.get("name") for d in placemark.iterfind("k:ExtendedData/k:Data", KML_NS)]
    assert len(names) == len(set(names)), names
    return {
        d.get("name"): d.findtext("k:value", default="", namespaces=KML_NS)
        for d in placemark.iterfind("k:ExtendedData/k:Data", KML_NS)
    }


@pytest.mark.parametrize("target", ["sceaux-les-blagis", "all"])
def test_kml_keeps_hostile_experiment_text_literal(atlas, hostile_rows, target):
    scene = make_scene(atlas, experiments_frame(hostile_rows), target, today=TODAY)
    root = _kml_tree(write_kml(scene))
    placemarks = _folders(root)["experimentations"].findall("k:Placemark", KML_NS)
    assert len(placemarks) == len(hostile_rows)
    by_id = {int(_data(p)["id_experimentation"]): p for p in placemarks}
    expected_fields = None
    for row in hostile_rows:
        placemark = by_id[row["id"]]
        data = _data(placemark)
        number = data["numero"]
        assert placemark.findtext("k:name", namespaces=KML_NS) == f"{number}. {row['title']}"
        assert placemark.findtext("k:description", namespaces=KML_NS) == row["description"]
        for field in ("title", "organisation", "location_note", "evaluation_outcome"):
            assert data[field] == row[field]
        # the same fields on every point: markup in a value added no <Data> of its own
        expected_fields = expected_fields or set(data)
        assert set(data) == expected_fields
        assert "injecte" not in data and "suite" not in data


def test_kml_keeps_hostile_district_cut_and_station_names_literal(hostile_atlas, hostile_rows):
    scene = make_scene(hostile_atlas, experiments_frame(hostile_rows), "all", today=TODAY)
    root = _kml_tree(write_kml(scene))
    assert root.findtext("k:Document/k:name", namespaces=KML_NS) == f"QMI Atlas — {scene.title}"
    folders = _folders(root)
    assert list(folders) == [
        "quartiers",
        "coupures",
        "gares",
        "experimentations",
        "corridors",
        "cotes",
        "franchissements",
        "meilleurs_sites",
    ]
    districts = folders["quartiers"].findall("k:Placemark", KML_NS)
    names = [p.findtext("k:name", namespaces=KML_NS) for p in districts]
    assert names == hostile_atlas.districts["nom"].tolist()
    for placemark, (_, district) in zip(districts, hostile_atlas.districts.iterrows(), strict=True):
        data = _data(placemark)
        assert data["nom"] == district["nom"]
        assert data["commune"] == district["commune"]
        assert data["contexte"] == district["contexte"]
        assert "injecte" not in data
    for layer in ("coupures", "gares"):
        placemarks = folders[layer].findall("k:Placemark", KML_NS)
        assert placemarks
        for placemark in placemarks:
            data = _data(placemark)
            assert placemark.findtext("k:name", namespaces=KML_NS) == data["nom"]
            assert data["nom"].startswith(INJECTION if layer == "coupures" else METACHARACTERS)
            assert "injecte" not in data


def add_hostile_experiments(app, texts: list[str], slug: str = "sceaux-les-blagis") -> list:
    """Store one experiment per text (title, organisation, notes), as the form would."""
    atlas = app.extensions["qmi_atlas"]
    lon, lat = atlas.centres_lonlat()[slug]
    saved = []
    for text in texts:
        form = {
            "title": text,
            "organisation": text,
            "org_kind": "association",
            "theme": "mobilité",
            "objectives": [atlas.objectives()[slug][0]],
            "description": f"{text}\nsuite",
            "status": "déployée",
            "lon": lon,
            "lat": lat,
            "precision": "exacte",
            "location_note": text,
            "evaluation_outcome": text,
        }
        values = validate_experiment(form, objectives=atlas.objectives()[slug])
        saved.append(
            app.extensions["qmi_store"].create_experiment(values, district=slug, user="test")
        )
    return saved


@pytest.mark.parametrize("target", ["sceaux-les-blagis", "all"])
def test_kml_route_answers_200_with_hostile_titles(app, client, target):
    saved = add_hostile_experiments(app, HOSTILE)
    response = client.get(f"/exports/{target}.kml")
    assert response.status_code == 200
    folder = _folders(_kml_tree(response.data))["experimentations"]
    placemarks = folder.findall("k:Placemark", KML_NS)
    by_id = {int(_data(p)["id_experimentation"]): _data(p) for p in placemarks}
    for row in saved:
        data = by_id[row["id"]]
        assert data["title"] == row["title"] and data["location_note"] == row["location_note"]
        assert "injecte" not in data


# mathtext: a valid formula, an unknown command, an odd count of dollars, a lone one
MATH_TITLE = r"$\frac{1}{2}$ et $\foo{x}$"
MATH_ORG = "50 $ & 100 $"
MATH_NOTE = r"au coin $x$ de la rue $\alpha$"
MATH_NAME = r"$\foo{x}$ ^_ $"


def _plain_pdf_text(pdf: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


@pytest.fixture(scope="module")
def math_rows(atlas):
    return [
        experiment_row(
            atlas,
            slug,
            i,
            title=MATH_TITLE,
            organisation=MATH_ORG,
            description=f"{MATH_TITLE} — {MATH_ORG}",
            location_note=MATH_NOTE,
            evaluation_outcome=MATH_NOTE,
        )
        for i, slug in enumerate(["sceaux-les-blagis", "aulnay-centre-gare"], 1)
    ]


@pytest.fixture(scope="module")
def math_atlas(atlas):
    """The real atlas with mathtext in district, commune, cut and station names."""

    def rename(frame, column):
        return frame.assign(**{column: [f"{v} {MATH_NAME}" for v in frame[column]]})

    return dataclasses.replace(
        atlas,
        districts=rename(rename(atlas.districts, "nom"), "commune"),
        cuts=rename(atlas.cuts, "nom"),
        stations=rename(atlas.stations, "nom"),
    )


@pytest.mark.parametrize("target", ["sceaux-les-blagis", "all"])
@pytest.mark.parametrize("fmt", ["png", "svg", "pdf"])
def test_static_maps_draw_dollar_text_literally(math_atlas, math_rows, target, fmt):
    scene = make_scene(math_atlas, experiments_frame(math_rows), target, today=TODAY)
    data = render_map(scene, fmt=fmt, size="diapo")
    assert data
    if fmt == "svg":
        text = "".join(ET.fromstring(data).itertext())
        assert MATH_NAME in text
    elif fmt == "pdf":
        text = _plain_pdf_text(data)
        assert MATH_NAME in text
    else:
        return
    if target != "all":  # the district map lists its experiments
        assert MATH_TITLE in text


@pytest.mark.parametrize("target", ["sceaux-les-blagis", "all"])
def test_sheets_draw_dollar_text_literally(math_atlas, math_rows, target):
    scene = make_scene(math_atlas, experiments_frame(math_rows), target, today=TODAY)
    text = _plain_pdf_text(render_sheet(scene))
    assert r"$\frac{1}{2}$" in text and r"$\foo{x}$" in text
    assert MATH_ORG in text
    assert MATH_NAME in text


def test_usetex_and_mathtext_stay_off_whatever_the_rc(atlas, math_rows):
    """Someone turning TeX or mathtext on globally does not reach the exports."""
    scene = make_scene(atlas, experiments_frame(math_rows), "sceaux-les-blagis", today=TODAY)
    with matplotlib.rc_context({"text.usetex": True, "text.parse_math": True}):
        assert render_map(scene, fmt="png", size="diapo")
        pdf = render_map(scene, fmt="pdf", size="a4")
        sheet = render_sheet(scene)
    assert MATH_TITLE in _plain_pdf_text(pdf)
    assert MATH_TITLE in _plain_pdf_text(sheet)


@pytest.mark.parametrize("target", ["sceaux-les-blagis", "all"])
def test_drawn_export_routes_answer_200_with_dollar_titles(app, client, target):
    add_hostile_experiments(app, [MATH_TITLE, MATH_ORG, MATH_NOTE, METACHARACTERS])
    for suffix in ("png", "svg", "pdf", "fiche.pdf"):
        response = client.get(f"/exports/{target}.{suffix}")
        assert response.status_code == 200, suffix
    assert r"$\frac{1}{2}$" in _plain_pdf_text(response.data)
