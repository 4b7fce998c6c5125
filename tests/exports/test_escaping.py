"""Every output format escapes its own syntax: hostile text comes out as literal text.

KML: XML metacharacters and well-formed markup stay text (no 500, no injected elements).
"""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET

import pytest

from geoapp.exports.data import write_kml
from geoapp.exports.scene import make_scene
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
    assert list(folders) == ["quartiers", "coupures", "gares", "experimentations"]
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
