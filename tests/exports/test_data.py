"""Data files read back with geopandas/pyogrio: layers, counts, CRS, fields; CSV round trip."""

from __future__ import annotations

import io
import json
import shutil

import geopandas as gpd
import pyogrio
import pytest
from shapely.geometry import MultiPolygon, box, mapping

from geoapp.atlas import build_atlas
from geoapp.config import PROJECT_ROOT
from geoapp.exports.data import (
    export_layers,
    write_experiments_csv,
    write_geojson,
    write_geopackage,
    write_kml,
)
from geoapp.exports.scene import make_scene
from geoapp.registry import validate_experiment
from geoapp.registry_files import HEADERS, read_csv
from geoapp.vocabulary import CUT_FIELDS, DISTRICT_FIELDS, STATION_FIELDS
from tests.exports.conftest import TODAY

LAYERS = [
    "quartiers",
    "coupures",
    "gares",
    "experimentations",
    "corridors",
    "cotes",
    "franchissements",
    "meilleurs_sites",
]


def _saved(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("crs", [2154, 4326])
def test_geopackage_has_every_layer_in_the_chosen_crs(tmp_path, scene_of, crs):
    scene = scene_of("sceaux-les-blagis")
    path = _saved(tmp_path, "qmi.gpkg", write_geopackage(scene, crs=crs))
    assert [name for name, _ in pyogrio.list_layers(path)] == LAYERS
    expected = {name: len(frame) for name, frame in export_layers(scene).items()}
    for name in LAYERS:
        layer = gpd.read_file(path, layer=name)
        assert layer.crs.to_epsg() == crs
        assert len(layer) == expected[name]
    districts = gpd.read_file(path, layer="quartiers")
    assert districts["slug"].tolist() == ["sceaux-les-blagis"]
    assert set(DISTRICT_FIELDS) <= set(districts.columns)
    assert districts["area_ha"].iloc[0] == pytest.approx(49.94, abs=0.01)
    assert " | " in districts["objectifs"].iloc[0]
    assert set(CUT_FIELDS) <= set(gpd.read_file(path, layer="coupures").columns)
    assert set(STATION_FIELDS) <= set(gpd.read_file(path, layer="gares").columns)
    exps = gpd.read_file(path, layer="experimentations")
    assert sorted(exps["title"]) == ["Vélos partagés", "Îlot de fraîcheur"]
    assert {"numero", "theme", "status", "lon", "lat"} <= set(exps.columns)


def test_geopackage_area_is_kept_in_lambert_93(tmp_path, scene_of, atlas):
    path = _saved(tmp_path, "qmi.gpkg", write_geopackage(scene_of("all"), crs=2154))
    districts = gpd.read_file(path, layer="quartiers")
    assert len(districts) == 4
    assert (districts.area / 10_000).round(1).tolist() == atlas.districts["area_ha"].round(
        1
    ).tolist()


def test_empty_experiments_layer_still_exists(tmp_path, scene_of, no_experiments):
    path = _saved(
        tmp_path, "qmi.gpkg", write_geopackage(scene_of("meudon-la-foret", no_experiments))
    )
    layer = gpd.read_file(path, layer="experimentations")
    assert len(layer) == 0 and "title" in layer.columns


def test_geojson_is_one_wgs84_collection_tagged_by_layer(tmp_path, scene_of):
    scene = scene_of("all")
    data = write_geojson(scene)
    collection = json.loads(data)
    assert collection["type"] == "FeatureCollection"
    frame = gpd.read_file(_saved(tmp_path, "qmi.geojson", data))
    assert frame.crs.to_epsg() == 4326
    counts = frame["couche"].value_counts().to_dict()
    assert counts["quartiers"] == 4 and counts["experimentations"] == 3
    assert counts["coupures"] == len(export_layers(scene)["coupures"])
    lon, lat = frame[frame["couche"] == "quartiers"].geometry.iloc[0].centroid.coords[0]
    assert 2.0 < lon < 2.7 and 48.7 < lat < 49.0
    first = next(f for f in collection["features"] if f["properties"]["couche"] == "quartiers")
    assert isinstance(first["properties"]["objectifs"], list)


def test_kml_has_a_folder_per_layer_readable_by_gdal(tmp_path, scene_of):
    path = _saved(tmp_path, "qmi.kml", write_kml(scene_of("sceaux-les-blagis")))
    assert [name for name, _ in pyogrio.list_layers(path)] == LAYERS
    districts = gpd.read_file(path, layer="quartiers")
    assert districts.crs.to_epsg() == 4326
    assert districts["Name"].tolist() == ["Les Blagis"]
    assert districts.geometry.iloc[0].geom_type == "Polygon"
    exps = gpd.read_file(path, layer="experimentations")
    assert len(exps) == 2
    assert {"theme", "status", "id_experimentation"} <= set(exps.columns)
    assert sorted(exps["Name"]) == ["1. Îlot de fraîcheur", "2. Vélos partagés"]
    cuts = gpd.read_file(path, layer="coupures")
    assert len(cuts) > 0 and set(cuts["nom"]) >= {"RER B"}


@pytest.fixture(scope="module")
def two_part_atlas(tmp_path_factory, atlas):
    """The atlas of a copy of data/ where Les Blagis has an official perimeter in two
    parts (a MultiPolygon, as a published file can be): a 400 m x 300 m rectangle with a
    100 m x 100 m hole, and a 200 m x 200 m square 300 m east of it (Lambert-93)."""
    data = tmp_path_factory.mktemp("two-part") / "data"
    shutil.copytree(PROJECT_ROOT / "data", data)
    x, y = atlas.district("sceaux-les-blagis").geometry.representative_point().coords[0]
    holed = box(x - 200, y - 150, x + 200, y + 150).difference(box(x - 50, y - 50, x + 50, y + 50))
    parts = MultiPolygon([holed, box(x + 500, y - 100, x + 700, y + 100)])
    (data / "geo" / "perimetre_sceaux-les-blagis.geojson").write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::2154"}},
                "features": [{"type": "Feature", "properties": {}, "geometry": mapping(parts)}],
            }
        )
    )
    return build_atlas(data)


def test_kml_of_a_district_in_two_parts_keeps_both(tmp_path, two_part_atlas, no_experiments):
    scene = make_scene(two_part_atlas, no_experiments, "sceaux-les-blagis", today=TODAY)
    assert scene.districts.geometry.iloc[0].geom_type == "MultiPolygon"
    path = _saved(tmp_path, "qmi.kml", write_kml(scene))
    (district,) = gpd.read_file(path, layer="quartiers").to_crs("EPSG:2154").geometry
    assert district.geom_type == "MultiPolygon"
    assert sorted(len(p.interiors) for p in district.geoms) == [0, 1]
    assert district.area / 10_000 == pytest.approx(12 - 1 + 4, abs=0.01)  # hectares


def test_csv_is_the_registry_format_for_excel(scene_of):
    data = write_experiments_csv(scene_of("all"))
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM for Excel
    header = data.decode("utf-8-sig").splitlines()[0]
    assert header.split(";") == HEADERS  # French, as Excel users read them
    assert "Latitude" in HEADERS and "Longitude" in HEADERS and "Quartier" in HEADERS


def test_csv_round_trip_gives_the_same_experiments(atlas, scene_of, rows):
    """Export, read back with the registry's importer, validate: the same values."""
    back = read_csv(write_experiments_csv(scene_of("all")))
    assert len(back) == len(rows)
    by_title = {r["title"]: r for r in rows}
    names = dict(zip(atlas.districts["nom"], atlas.districts["slug"], strict=True))
    for row in back:
        original = by_title[row["title"]]
        row["district"] = names[row["district"]]  # the file names the district
        cleaned = validate_experiment(row, objectives=atlas.objectives()[row["district"]])
        expected = validate_experiment(
            original, objectives=atlas.objectives()[original["district"]]
        )
        assert cleaned == expected
        assert row["district"] == original["district"]


def test_csv_of_nothing_is_a_header(scene_of, no_experiments):
    text = write_experiments_csv(scene_of("noisy-mont-d-est", no_experiments))
    assert io.StringIO(text.decode("utf-8-sig")).read().strip().split(";") == HEADERS
