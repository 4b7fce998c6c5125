"""Data exports: GeoPackage, GeoJSON, CSV for Excel and KML for Google Earth.

Every format carries the same layers of a scene, with French layer names:

* ``quartiers`` — the district(s): facts and computed figures, and the cut's headline
  (``titre_coupure``, ``part_allongee_50``, ``coupures_absentes``) (polygons);
* ``coupures`` — the rail, tram and road features near them (line name, kind, colour);
* ``gares`` — stations near them (name, lines);
* ``experimentations`` — the experiments shown (registry fields), each at its real
  place: a point, a line (« tracé ») or an area (« zone ») in one layer (GeoPackage
  geometry type "Geometry"), with ``forme`` and, for lines and areas, ``longueur_m`` /
  ``surface_ha`` (Lambert-93). ``lon``/``lat`` keep the anchor. The registry ``id`` is
  named ``id_experimentation``: GDAL and KML reserve ``id`` for feature ids;
* the cut analysis (`geoapp.exports.cut_page.cut_layers`): ``corridors`` (lines within
  30 m merged, lengths), ``cotes`` (the study area's sides, numbered, slivers merged),
  ``franchissements`` (stations, street-network bridges, planner-entered crossings and
  projects, by ``categorie``) and ``meilleurs_sites`` (the best three places for a new
  crossing, with the share of long detours and the median before and after).

GeoPackage: one table per layer, in Lambert-93 (EPSG:2154, the default) or WGS84
(EPSG:4326) as asked. GeoJSON: one RFC 7946 FeatureCollection in WGS84 whose features say
their layer in a ``couche`` property (lists such as ``objectives`` stay JSON arrays). KML:
one folder per layer, WGS84. CSV: the experiments only, written by the registry's own
writer (:func:`geoapp.registry_files.write_csv`: semicolon, UTF-8 with BOM, the French
column headers, district names, ``Longitude``/``Latitude`` in WGS84 degrees, objectives
joined with `` | ``, formula starts guarded), so an exported file imports back unchanged.
"""

from __future__ import annotations

import json
import re
import tempfile
import threading
from pathlib import Path
from xml.sax.saxutils import escape

import geopandas as gpd
import pandas as pd
import shapely
import simplekml

from geoapp.analysis import ANALYSIS_CRS, DISPLAY_CRS
from geoapp.atlas import CONTEXT_RADIUS_M
from geoapp.exports.cut_page import cut_layers, cut_views
from geoapp.exports.scene import Scene, place_sizes, places
from geoapp.exports.style import BRAND
from geoapp.registry_files import write_csv
from geoapp.vocabulary import (
    CUT_FIELDS,
    DISTRICT_FIELDS,
    EXPERIMENT_FIELDS,
    LIST_SEPARATOR,
    STATION_FIELDS,
    THEME_COLOURS,
)

CRS_CHOICES = {2154: ANALYSIS_CRS, 4326: DISPLAY_CRS}


def export_layers(scene: Scene, crs: str = ANALYSIS_CRS) -> dict[str, gpd.GeoDataFrame]:
    """The layers of ``scene`` in ``crs`` (Lambert-93 by default), in a fixed field order.

    Cuts and stations are those within the atlas context radius (1.5 km) of the
    districts shown. Experiments keep the registry columns plus their map ``numero``.
    """
    atlas = scene.atlas
    districts = scene.districts
    near = districts.buffer(CONTEXT_RADIUS_M).union_all()
    cuts = atlas.cuts[atlas.cuts.intersects(near)]
    stations = atlas.stations[atlas.stations.intersects(near)]
    exps = scene.experiments
    cut = cut_layers(scene)
    views = cut_views(scene)
    districts = districts[DISTRICT_FIELDS + ["geometry"]].assign(
        titre_coupure=[v.headline for v in views],
        part_allongee_50=[round(v.report.detour.share_over_1_5, 4) for v in views],
        coupures_absentes=[", ".join(c["nom"] for c in v.missing) or None for v in views],
    )
    layers = {
        "quartiers": districts.reset_index(drop=True),
        "coupures": cuts[CUT_FIELDS + ["geometry"]].reset_index(drop=True),
        "gares": stations[STATION_FIELDS + ["geometry"]].reset_index(drop=True),
        **cut,
    }
    layers = {name: layer.to_crs(crs) for name, layer in layers.items()}
    layers["experimentations"] = experiment_layer(exps, crs)
    return {name: layers[name] for name in LAYER_ORDER}


LAYER_ORDER = [
    "quartiers",
    "coupures",
    "gares",
    "experimentations",
    "corridors",
    "cotes",
    "franchissements",
    "meilleurs_sites",
]


def experiment_layer(exps: gpd.GeoDataFrame, crs: str = ANALYSIS_CRS) -> gpd.GeoDataFrame:
    """The experiments at their real places in ``crs``, registry fields then the place's
    kind and size (measured in Lambert-93). The stored ``shape`` is the geometry itself,
    so it is no column.

    In WGS84 the places are the stored degrees themselves (`places`), not a Lambert-93
    round trip: a file written in WGS84 imports back unchanged.
    """
    fields = ["numero"] + [f for f in EXPERIMENT_FIELDS if f != "shape"]
    wgs84 = CRS_CHOICES[4326] == crs
    geometry = places(exps, wgs84=wgs84) if wgs84 else places(exps).to_crs(crs)
    layer = gpd.GeoDataFrame(
        pd.concat([exps[fields], place_sizes(exps)], axis=1), geometry=geometry, crs=crs
    )
    return layer.rename(columns={"id": "id_experimentation"}).reset_index(drop=True)


def _flat(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Lists joined with `` | `` and booleans as ``oui``/``non``: tables hold text."""
    out = gdf.copy()
    for column in out.columns.drop(out.geometry.name):
        if out[column].map(lambda v: isinstance(v, list | tuple)).any():
            out[column] = out[column].map(_join)
    if "evaluation_scale_up" in out:
        out["evaluation_scale_up"] = out["evaluation_scale_up"].map(_yes_no)
    return out


def _join(value) -> str:
    return LIST_SEPARATOR.join(map(str, value)) if isinstance(value, list | tuple) else value


def _yes_no(value) -> str | None:
    if value is True or value == 1:
        return "oui"
    if value is False or value == 0:
        return "non"
    return None


def write_geopackage(scene: Scene, *, crs: int = 2154) -> bytes:
    """GeoPackage bytes with the four layers in EPSG:``crs`` (2154 or 4326)."""
    target = CRS_CHOICES[crs]
    with tempfile.TemporaryDirectory(prefix="qmi-gpkg-") as tmp:
        path = Path(tmp) / "qmi.gpkg"
        for name, layer in export_layers(scene, target).items():
            flat = _flat(layer)
            flat.to_file(
                path,
                layer=name,
                driver="GPKG",
                engine="pyogrio",
                geometry_type=_geometry_type(name),
            )
        return path.read_bytes()


def _geometry_type(layer: str) -> str:
    return {
        "quartiers": "MultiPolygon",
        "coupures": "MultiLineString",
        "corridors": "MultiLineString",
        "cotes": "MultiPolygon",
        "experimentations": "Unknown",  # points, lines and areas in one table
    }.get(layer, "Point")


def write_geojson(scene: Scene) -> bytes:
    """One WGS84 FeatureCollection; each feature's ``couche`` names its layer."""
    features = []
    for name, layer in export_layers(scene, DISPLAY_CRS).items():
        data = json.loads(layer.to_json(drop_id=True, ensure_ascii=False, na="null"))
        for feature in data["features"]:
            feature["properties"] = {"couche": name, **feature["properties"]}
            features.append(feature)
    collection = {"type": "FeatureCollection", "name": f"qmi-{scene.label}", "features": features}
    return json.dumps(collection, ensure_ascii=False).encode("utf-8")


def write_experiments_csv(scene: Scene) -> bytes:
    """The scene's experiments as the registry's own CSV (``geoapp.registry_files``).

    Same French headers, district names and encoding as the registry export, so the file
    imports back unchanged (each row carries its id and version).
    """
    rows = scene.experiments.drop(columns=scene.experiments.geometry.name).to_dict("records")
    districts = scene.atlas.districts
    names = dict(zip(districts["slug"], districts["nom"], strict=True))
    return write_csv([{k: _none(v) for k, v in row.items()} for row in rows], district_names=names)


def _none(value):
    """pandas' missing values (NaN, NA) as ``None``, as the store gives them."""
    if isinstance(value, list | tuple | dict):
        return value
    return None if pd.isna(value) else value


# simplekml escapes only some elements (and passes CDATA sections through), never
# ExtendedData values: its parsing is turned off and every value goes through _xml_text.
# Its compile state is class-level, shared by threads: one serialisation at a time.
_KML_LOCK = threading.Lock()
_XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
# Characters XML 1.0 cannot carry at all, even as references.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_HEX_COLOUR = re.compile("#[0-9a-fA-F]{6}")


def _xml_text(value) -> str:
    """``value`` as XML character data that parses back to the same text.

    ``& < >`` and ``"`` become entities, so markup, CDATA openers and ``]]>`` stay text;
    CR becomes ``&#13;`` (a parser turns a raw one into LF); characters XML cannot hold
    (C0 controls, U+FFFE/FFFF, lone surrogates) become U+FFFD.
    """
    return escape(_NOT_XML.sub("\ufffd", str(value)), {'"': "&quot;", "\r": "&#13;"})


def write_kml(scene: Scene) -> bytes:
    """KML (WGS84) with one folder per layer, styled like the maps.

    Every name, description and ExtendedData value is escaped here (:func:`_xml_text`),
    so a value reads back as the same literal text and markup in it adds no element.
    """
    kml = simplekml.Kml(name=_xml_text(f"QMI Atlas — {scene.title}"))
    kml.parsetext(False)
    layers = export_layers(scene, DISPLAY_CRS)
    folder = kml.newfolder(name="quartiers")
    for row in _flat(layers["quartiers"]).itertuples():
        polygon = _new_area(folder, _xml_text(row.nom), row.geometry)
        polygon.style.linestyle.color = _kml_colour(BRAND)
        polygon.style.linestyle.width = 3
        polygon.style.polystyle.color = _kml_colour(BRAND, 0.25)
        _extended(polygon, row, DISTRICT_FIELDS)
    folder = kml.newfolder(name="coupures")
    for row in layers["coupures"].itertuples():
        line = folder.newlinestring(name=_xml_text(row.nom), coords=list(row.geometry.coords))
        line.style.linestyle.color = _kml_colour(row.couleur)
        line.style.linestyle.width = 4
        _extended(line, row, CUT_FIELDS)
    folder = kml.newfolder(name="gares")
    for row in layers["gares"].itertuples():
        point = folder.newpoint(name=_xml_text(row.nom), coords=[(row.geometry.x, row.geometry.y)])
        _extended(point, row, STATION_FIELDS)
    folder = kml.newfolder(name="experimentations")
    fields = list(layers["experimentations"].columns.drop("geometry"))
    for row in _flat(layers["experimentations"]).itertuples():
        _experiment_placemark(folder, row, fields)
    _kml_cut_folders(kml, layers)
    with _KML_LOCK:
        # Not pretty-printed: simplekml's formatter re-parses with minidom (patched
        # globally) and would write a CR back raw.
        body = kml.kml(format=False)
    return (_XML_DECLARATION + body).encode("utf-8")


def _experiment_placemark(folder, row, fields: list[str]) -> None:
    """One experiment at its place (WGS84): a Point, a LineString or a Polygon placemark
    in its theme colour, named with its map number and title."""
    colour = THEME_COLOURS.get(row.theme, "#5b6270")
    options = {
        "name": _xml_text(f"{row.numero}. {row.title}"),
        "description": _xml_text(row.description or ""),
    }
    geometry = row.geometry
    if geometry.geom_type == "LineString":
        placemark = folder.newlinestring(coords=list(geometry.coords), **options)
        placemark.style.linestyle.color = _kml_colour(colour)
        placemark.style.linestyle.width = 4
    elif geometry.geom_type == "Polygon":
        placemark = _new_polygon(folder, geometry, **options)
        placemark.style.linestyle.color = _kml_colour(colour)
        placemark.style.linestyle.width = 2
        placemark.style.polystyle.color = _kml_colour(colour, 0.35)
    else:
        placemark = folder.newpoint(coords=[(geometry.x, geometry.y)], **options)
        placemark.style.iconstyle.color = _kml_colour(colour)
    _extended(placemark, row, fields)


def _kml_cut_folders(kml, layers: dict[str, gpd.GeoDataFrame]) -> None:
    """The cut analysis as four folders: corridors, numbered sides, crossings, best sites."""
    folder = kml.newfolder(name="corridors")
    for row in layers["corridors"].itertuples():
        multi = folder.newmultigeometry(name=_xml_text(row.noms))
        for part in shapely.get_parts(row.geometry):
            multi.newlinestring(coords=list(part.coords))
        multi.style.linestyle.color = _kml_colour("#37474f")
        multi.style.linestyle.width = 6
        _extended(multi, row, list(layers["corridors"].columns.drop("geometry")))
    folder = kml.newfolder(name="cotes")
    for row in layers["cotes"].itertuples():
        side = _new_area(folder, _xml_text(f"Côté {row.cote} ({row.quartier})"), row.geometry)
        side.style.polystyle.color = _kml_colour("#90caf9", 0.35)
        side.style.linestyle.width = 1
        _extended(side, row, list(layers["cotes"].columns.drop("geometry")))
    for name, title in (("franchissements", "nom"), ("meilleurs_sites", "rang")):
        folder = kml.newfolder(name=name)
        for row in layers[name].itertuples():
            label = getattr(row, title)
            label = f"Site n° {label} : {row.noms}" if title == "rang" else label
            point = folder.newpoint(
                name=_xml_text(label if isinstance(label, str) else row.categorie),
                coords=[(row.geometry.x, row.geometry.y)],
            )
            _extended(point, row, list(layers[name].columns.drop("geometry")))


def _new_area(folder, name: str, geometry):
    """One placemark for a district: a Polygon, or a MultiGeometry of its parts.

    A derived perimeter is one polygon, but an official perimeter file may be a
    MultiPolygon (a district on both sides of a park, say).
    """
    parts = shapely.get_parts(geometry)
    if len(parts) == 1:
        return _new_polygon(folder, parts[0], name=name)
    multi = folder.newmultigeometry(name=name)
    for part in parts:
        _new_polygon(multi, part)
    return multi


def _new_polygon(parent, polygon, **options):
    return parent.newpolygon(
        outerboundaryis=list(polygon.exterior.coords),
        innerboundaryis=[list(r.coords) for r in polygon.interiors],
        **options,
    )


def _extended(feature, row, fields: list[str]) -> None:
    """Fields as KML ExtendedData (the description is already the KML one)."""
    for name in fields:
        value = getattr(row, name)
        if (
            name == "description"
            or value is None
            or (pd.api.types.is_scalar(value) and pd.isna(value))
        ):
            continue
        feature.extendeddata.newdata(name=name, value=_xml_text(value))


def _kml_colour(hex_colour: str, opacity: float = 1.0) -> str:
    """``#rrggbb`` -> KML's ``aabbggrr`` (grey for anything else)."""
    if not isinstance(hex_colour, str) or not _HEX_COLOUR.fullmatch(hex_colour):
        hex_colour = "#5b6270"
    r, g, b = (hex_colour.lstrip("#")[i : i + 2] for i in (0, 2, 4))
    return f"{round(opacity * 255):02x}{b}{g}{r}"
