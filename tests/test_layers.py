"""The loader: good layers load, each kind of broken file is refused by name."""

import json

import pytest
from pyproj import Geod
from shapely.geometry import shape

from geoapp.analysis import ANALYSIS_CRS
from geoapp.config import PROJECT_ROOT
from geoapp.layers import (
    LAYERS,
    ROAD_MODE,
    LayerError,
    load_cut_lines,
    load_layer,
    load_layers,
    read_cut_config,
)

SQUARE = {
    "type": "Polygon",
    "coordinates": [[[2.3, 48.8], [2.31, 48.8], [2.31, 48.81], [2.3, 48.81], [2.3, 48.8]]],
}


def write(tmp_path, features, **extra):
    path = tmp_path / "layer.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features, **extra}))
    return path


def feature(geometry=SQUARE, **props):
    return {
        "type": "Feature",
        "properties": {"nom": "Sceaux", "code_insee": "92071", **props},
        "geometry": geometry,
    }


def test_good_layer_loads_in_lambert93(tmp_path):
    gdf = load_layer(write(tmp_path, [feature()]), required=("nom",), geom_family="polygon")
    assert gdf.crs == ANALYSIS_CRS
    assert len(gdf) == 1
    # 0.01° x 0.01° at 48.8° N (733 m x 1112 m): 81.69 ha on the ellipsoid; Lambert-93
    # shrinks areas by 0.03 % there (scale factor 0.99985)
    geodesic_ha = abs(Geod(ellps="GRS80").geometry_area_perimeter(shape(SQUARE))[0]) / 10_000
    assert geodesic_ha == pytest.approx(81.69, abs=0.01)
    assert gdf.area.iloc[0] / 10_000 == pytest.approx(geodesic_ha, rel=0.001)


def test_missing_field_is_named(tmp_path):
    bad = feature()
    del bad["properties"]["code_insee"]
    with pytest.raises(LayerError, match="entité n° 2.*« code_insee » manque"):
        load_layer(write(tmp_path, [feature(), bad]), required=("code_insee",))


def test_unreadable_geometry_is_named(tmp_path):
    broken = feature(geometry={"type": "Polygon", "coordinates": [[[2.3, 48.8]]]})
    with pytest.raises(LayerError, match="entité n° 1.*geometry"):
        load_layer(write(tmp_path, [broken]))


def test_self_intersecting_polygon_is_repaired(tmp_path):
    bowtie = {
        "type": "Polygon",
        "coordinates": [[[2.3, 48.8], [2.31, 48.81], [2.31, 48.8], [2.3, 48.81], [2.3, 48.8]]],
    }
    gdf = load_layer(write(tmp_path, [feature(geometry=bowtie)]), geom_family="polygon")
    assert gdf.is_valid.all()
    assert gdf.area.iloc[0] > 0


def test_projected_coordinates_without_crs_are_refused(tmp_path):
    lambert = {"type": "Point", "coordinates": [651000.0, 6860000.0]}
    with pytest.raises(LayerError, match="aucun système de coordonnées"):
        load_layer(write(tmp_path, [feature(geometry=lambert)]))


def test_declared_crs_is_reprojected(tmp_path):
    lambert = {"type": "Point", "coordinates": [651000.0, 6860000.0]}
    path = write(
        tmp_path,
        [feature(geometry=lambert)],
        crs={"type": "name", "properties": {"name": "EPSG:2154"}},
    )
    gdf = load_layer(path, geom_family="point")
    assert gdf.geometry.iloc[0].x == pytest.approx(651000.0)


def test_invalid_json_is_refused_with_position(tmp_path):
    path = tmp_path / "broken.geojson"
    path.write_text('{"type": "FeatureCollection", "features": [')
    with pytest.raises(LayerError, match="broken.geojson : JSON illisible, ligne 1"):
        load_layer(path)


def test_wrong_geometry_kind_is_refused(tmp_path):
    point = {"type": "Point", "coordinates": [2.3, 48.8]}
    with pytest.raises(LayerError, match="Point inattendue"):
        load_layer(write(tmp_path, [feature(geometry=point)]), geom_family="polygon")


def test_every_project_layer_loads():
    layers = load_layers(PROJECT_ROOT / "data" / "geo")
    assert set(layers) == {spec.key for spec in LAYERS}
    assert len(layers["communes"]) == 150
    assert all(gdf.crs == ANALYSIS_CRS and gdf.is_valid.all() for gdf in layers.values())


def test_deeply_nested_json_is_refused_by_name(tmp_path):
    path = tmp_path / "profond.geojson"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(LayerError, match="profond.geojson : JSON illisible.*imbriqué"):
        load_layer(path)


def named_crs(name):
    return {"type": "name", "properties": {"name": name}}


@pytest.mark.parametrize(
    "crs, message",
    [
        (named_crs("EPSG:999999"), "système de coordonnées « EPSG:999999 » inconnu"),
        (named_crs("n’importe quoi"), "système de coordonnées « n’importe quoi » inconnu"),
        ("EPSG:2154", "membre « crs » illisible"),
        ({"type": "name", "properties": ["EPSG:2154"]}, "membre « crs » illisible"),
        (named_crs("IAU_2015:49900"), "vers Lambert-93"),  # Mars: no way to Lambert-93
    ],
    ids=["unknown-code", "garbage", "string", "list", "mars"],
)
def test_unusable_crs_is_refused_by_name(tmp_path, crs, message):
    with pytest.raises(LayerError, match=f"^layer.geojson : .*{message}"):
        load_layer(write(tmp_path, [feature()], crs=crs))


@pytest.mark.parametrize("extra", [{}, {"crs": named_crs("EPSG:2154")}], ids=["no-crs", "with-crs"])
def test_empty_feature_collection_is_refused_by_name(tmp_path, extra):
    with pytest.raises(LayerError, match="^layer.geojson : la couche ne contient aucune entité"):
        load_layer(write(tmp_path, [], **extra), required=("nom",), geom_family="polygon")


@pytest.mark.parametrize(
    "features",
    [[3], [{"type": "Feature", "properties": "abc", "geometry": SQUARE}]],
    ids=["number", "props"],
)
def test_features_that_are_not_objects_are_refused_by_name(tmp_path, features):
    with pytest.raises(LayerError, match="^layer.geojson : entité n° 1"):
        load_layer(write(tmp_path, features))


# Cut layers declared in coupures.json ---------------------------------------------------

ROAD = {"type": "LineString", "coordinates": [[2.30, 48.80], [2.31, 48.81]]}


def road_feature(**props):
    return {"type": "Feature", "properties": props, "geometry": ROAD}


def cut_config(tmp_path, **entry):
    (tmp_path / "geo").mkdir(exist_ok=True)
    base = {
        "fichier": "routes.geojson",
        "titre": "Routes",
        "producteur": "Commune",
        "licence": "Licence Ouverte",
        "champ_nom": "ref",
    }
    (tmp_path / "coupures.json").write_text(json.dumps({"couches": [{**base, **entry}]}))
    return tmp_path


def test_a_declared_road_layer_loads_as_cut_lines(tmp_path):
    data = cut_config(tmp_path, garder={"highway": ["trunk"]})
    features = [
        road_feature(highway="trunk", ref="N 118"),
        road_feature(highway="primary", ref=None),  # filtered out: its missing ref is fine
        road_feature(highway="trunk", ref="N 118"),
    ]
    (data / "geo" / "routes.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": features})
    )
    (layer,), networks = read_cut_config(data)
    assert networks == [] and layer.spec.producer == "Commune" and layer.kind == "route"
    lines = load_cut_lines(data / "geo", layer)
    assert lines.crs == ANALYSIS_CRS
    assert lines["nom"].tolist() == ["N 118", "N 118"]
    assert lines["strand"].tolist() == [0, 1]  # two carriageways, two strands
    assert set(lines["kind"]) == {"route"} and set(lines["mode"]) == {ROAD_MODE}


def test_a_kept_road_without_its_name_is_refused_by_feature(tmp_path):
    data = cut_config(tmp_path, garder={"highway": ["trunk"]})
    features = [road_feature(highway="trunk", ref="N 118"), road_feature(highway="trunk")]
    (data / "geo" / "routes.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": features})
    )
    (layer,), _ = read_cut_config(data)
    with pytest.raises(LayerError, match="routes.geojson.*entité n° 2.*« ref » manque"):
        load_cut_lines(data / "geo", layer)


def test_a_filter_keeping_nothing_is_refused(tmp_path):
    data = cut_config(tmp_path, garder={"highway": ["motorway"]})
    (data / "geo" / "routes.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": [road_feature(highway="trunk")]})
    )
    (layer,), _ = read_cut_config(data)
    with pytest.raises(LayerError, match="aucune entité ne correspond"):
        load_cut_lines(data / "geo", layer)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"licence": ""}, "« couches » n° 1 : le texte « licence » manque"),
        ({"fichier": "../secret.geojson"}, "« fichier » doit être le nom"),
        ({"fichier": "routes.shp"}, "« fichier » doit être le nom"),
        ({"garder": {"highway": "trunk"}}, "« garder » doit associer"),
        ({"champ_nom": 3}, "« champ_nom » doit être un texte"),
    ],
)
def test_a_bad_cut_entry_is_refused_by_name(tmp_path, entry, message):
    with pytest.raises(LayerError, match=f"coupures.json : .*{message}"):
        read_cut_config(cut_config(tmp_path, **entry))


def test_a_geopackage_road_layer_loads_in_lambert93(tmp_path):
    import geopandas as gpd
    from shapely.geometry import shape

    data = cut_config(tmp_path, fichier="routes.gpkg", champ_nom="nom", type="autoroute")
    frame = gpd.GeoDataFrame({"nom": ["A86"]}, geometry=[shape(ROAD)], crs="EPSG:4326")
    frame.to_crs(ANALYSIS_CRS).to_file(data / "geo" / "routes.gpkg", driver="GPKG")
    (layer,), _ = read_cut_config(data)
    lines = load_cut_lines(data / "geo", layer)
    assert lines.crs == ANALYSIS_CRS and lines["nom"].tolist() == ["A86"]
    assert lines["kind"].tolist() == ["autoroute"]
    assert lines.to_crs("EPSG:4326").geometry.iloc[0].coords[0] == pytest.approx((2.30, 48.80))


def test_an_unreadable_geopackage_is_refused_by_name(tmp_path):
    data = cut_config(tmp_path, fichier="routes.gpkg")
    (data / "geo" / "routes.gpkg").write_bytes(b"not a database")
    (layer,), _ = read_cut_config(data)
    with pytest.raises(LayerError, match="routes.gpkg : GeoPackage illisible"):
        load_cut_lines(data / "geo", layer)


def test_the_shipped_config_declares_the_n118_and_meudon_streets():
    cuts, networks = read_cut_config(PROJECT_ROOT / "data")
    assert [c.spec.filename for c in cuts] == ["routes_osm_meudon.geojson"]
    assert [n.spec.filename for n in networks] == ["voirie_osm_meudon.geojson"]
    assert all("OpenStreetMap" in x.spec.producer for x in (*cuts, *networks))
    lines = load_cut_lines(PROJECT_ROOT / "data" / "geo", cuts[0])
    assert set(lines["nom"]) == {"N 118"} and len(lines) == 5
