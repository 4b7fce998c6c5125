"""An experiment's place: a point, a line (« tracé ») or an area (« zone »).

Signage along a walk is a line, a square being renatured an area: the registry stores such
a place as a GeoJSON geometry in WGS84 (``shape``) and keeps in lon/lat an *anchor*, a
point on the line (its middle) or inside the area. Whatever reads one point per
experiment (clusters, counts, the placement prefilter, the nearest experiments) reads the
anchor; whatever draws or exports the place reads the shape.

Sizes are measured in Lambert-93 (EPSG:2154), in metres and hectares, never in degrees.
Pure: no database, no Flask. Messages are French: they reach the planner as they are.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

import numpy as np
import pyproj
import shapely
from shapely.geometry.base import BaseGeometry

from geoapp.analysis import ANALYSIS_CRS, DISPLAY_CRS
from geoapp.vocabulary import FRANCE_LAT, FRANCE_LON, fr_num

# GeoJSON type -> the French kind a planner reads (and the export layers are named by).
PLACE_KINDS = {"Point": "point", "LineString": "ligne", "Polygon": "zone"}
KIND_LABELS = {"point": "point", "ligne": "tracé", "zone": "zone"}
# Bounds a real QMI place keeps within (a street-scale experiment, not a commune).
MAX_VERTICES = 2000
MAX_LENGTH_M = 3000.0
MAX_AREA_HA = 50.0
# 6 decimals of a degree: ~0.1 m, finer than any drawing on a district map.
DECIMALS = 6

_WHAT = "Le tracé ou la zone"


class ShapeError(ValueError):
    """A place the registry refuses; ``str()`` is the French reason."""


@cache
def _transformer(source: str, target: str) -> pyproj.Transformer:
    return pyproj.Transformer.from_crs(source, target, always_xy=True)


def to_lambert93(geometry):
    """WGS84 geometry (or array of them) -> Lambert-93, with pyproj (vectorised)."""
    return _project(geometry, DISPLAY_CRS, ANALYSIS_CRS)


def to_wgs84(geometry):
    """Lambert-93 geometry (or array of them) -> WGS84."""
    return _project(geometry, ANALYSIS_CRS, DISPLAY_CRS)


def _project(geometry, source: str, target: str):
    transformer = _transformer(source, target)

    def move(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(transformer.transform(xy[:, 0], xy[:, 1]))

    return shapely.transform(geometry, move)


def parse_shape(value: Any) -> BaseGeometry | None:
    """A submitted line or area (GeoJSON text or dict, or WKT) as a WGS84 geometry, ``None`` when
    the field is empty (the place is then the point lon/lat).

    Raises `ShapeError` for anything that is not a bounded, valid LineString or Polygon
    in metropolitan France; a self-crossing area is repaired with ``make_valid`` when the
    repair is still one polygon.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    geometry = _read(value)
    kind = PLACE_KINDS.get(geometry.geom_type)
    if kind not in ("ligne", "zone"):
        raise ShapeError(f"{_WHAT} doit être une ligne (LineString) ou un polygone (Polygon).")
    if geometry.is_empty:
        raise ShapeError(f"{_WHAT} est vide.")
    vertices = vertex_count(geometry)
    if vertices > MAX_VERTICES:
        raise ShapeError(f"{_WHAT} compte {vertices} sommets : {MAX_VERTICES} au plus.")
    coords = shapely.get_coordinates(geometry)
    if not np.isfinite(coords).all():
        raise ShapeError(f"{_WHAT} contient des coordonnées qui ne sont pas des nombres.")
    inside = (coords[:, 0] >= FRANCE_LON[0]) & (coords[:, 0] <= FRANCE_LON[1])
    inside &= (coords[:, 1] >= FRANCE_LAT[0]) & (coords[:, 1] <= FRANCE_LAT[1])
    if not inside.all():
        raise ShapeError(
            f"{_WHAT} sort de la France métropolitaine (longitude, latitude en degrés décimaux)."
        )
    geometry = _valid(rounded(geometry), kind)
    _check_size(geometry, kind)
    return geometry


def rounded(geometry):
    """Coordinates of a geometry (or array of them) rounded to `DECIMALS` (decimal
    rounding: 2.3036 stays 2.3036, where snapping to a 1e-6 grid writes
    2.3036000000000003)."""
    return shapely.transform(geometry, lambda xy: np.round(xy, DECIMALS))


def _read(value: Any) -> BaseGeometry:
    """GeoJSON (text, dict, a Feature's geometry) or WKT, as a spreadsheet cell holds it."""
    try:
        text = value.strip() if isinstance(value, str) else json.dumps(value)
        if text[:1].isalpha():
            return shapely.from_wkt(text)
        data = json.loads(text)
        if isinstance(data, dict) and data.get("type") == "Feature":
            data = data.get("geometry")
        if not isinstance(data, dict) or "coordinates" not in data:
            raise ValueError(text)
        return shapely.from_geojson(json.dumps(data))
    except (ValueError, TypeError, shapely.errors.GEOSException) as exc:
        raise ShapeError(f"{_WHAT} n’est pas une géométrie GeoJSON lisible.") from exc


def _valid(geometry: BaseGeometry, kind: str) -> BaseGeometry:
    """The geometry, repaired when needed and still of its kind (else `ShapeError`)."""
    if kind == "ligne" and shapely.get_num_coordinates(geometry) < 2:
        raise ShapeError("Un tracé a au moins deux points distincts.")
    if geometry.is_valid:
        return geometry
    repaired = shapely.make_valid(geometry)
    if kind == "zone" and repaired.area == 0:  # all its vertices on one line
        raise ShapeError("La zone n’a pas de surface : dessinez au moins trois sommets.")
    if repaired.geom_type == geometry.geom_type and not repaired.is_empty:
        return repaired
    if kind == "zone":
        raise ShapeError(
            "La zone se recoupe elle-même et ne peut être réparée en un seul polygone : "
            "redessinez son contour sans croisement."
        )
    raise ShapeError("Le tracé n’est pas une ligne valide : redessinez-le.")


def _check_size(geometry: BaseGeometry, kind: str) -> None:
    metric = to_lambert93(geometry)
    if kind == "ligne" and metric.length > MAX_LENGTH_M:
        raise ShapeError(
            f"Le tracé mesure {fr_num(metric.length / 1000)} km : "
            f"{fr_num(MAX_LENGTH_M / 1000, trim=True)} km au plus."
        )
    if kind == "zone" and metric.area / 10_000 > MAX_AREA_HA:
        raise ShapeError(
            f"La zone couvre {fr_num(metric.area / 10_000)} ha : "
            f"{fr_num(MAX_AREA_HA, trim=True)} ha au plus."
        )


def shape_wkt(shape: Mapping[str, Any] | None) -> str:
    """A stored shape as the WKT a spreadsheet cell holds (QGIS reads such a column);
    empty for a point."""
    if not shape:
        return ""
    return shapely.to_wkt(from_stored([shape])[0], rounding_precision=DECIMALS)


def shape_json(geometry: BaseGeometry) -> dict[str, Any]:
    """A line or area as the GeoJSON dict the registry stores (6 decimals)."""
    return json.loads(shapely.to_geojson(rounded(geometry)))


def anchor_point(metric: BaseGeometry) -> BaseGeometry:
    """The point kept for a place (Lambert-93): a point itself, a line's middle (on it),
    a point inside an area."""
    if metric.geom_type == "Point":
        return metric
    if metric.geom_type == "Polygon":
        return metric.point_on_surface()
    return metric.interpolate(0.5, normalized=True)


def reach_m(metric: BaseGeometry) -> float:
    """How far (m) a Lambert-93 place reaches from its anchor: the radius around the
    anchor that holds all of it (0 for a point)."""
    return float(shapely.hausdorff_distance(metric, anchor_point(metric)))


def anchor_of(geometry: BaseGeometry) -> tuple[float, float]:
    """The (lon, lat) of a WGS84 place's anchor (`anchor_point`, found in Lambert-93)."""
    lon, lat = to_wgs84(anchor_point(to_lambert93(geometry))).coords[0]
    return round(lon, DECIMALS), round(lat, DECIMALS)


def vertex_count(geometry: BaseGeometry) -> int:
    """The vertices a person drew: an area's rings repeat their first point to close,
    which is not counted again (a rectangle has 4)."""
    rings = 1 + len(geometry.interiors) if geometry.geom_type == "Polygon" else 0
    return int(shapely.get_num_coordinates(geometry)) - rings


def measures(geometry: BaseGeometry) -> dict[str, Any]:
    """What the planner reads about a place: its kind, length (m) or area (ha), vertices."""
    kind = PLACE_KINDS[geometry.geom_type]
    found: dict[str, Any] = {"type": kind, "sommets": vertex_count(geometry)}
    metric = to_lambert93(geometry)
    if kind == "ligne":
        found["longueur_m"] = round(float(metric.length), 1)
    elif kind == "zone":
        found["surface_ha"] = round(float(metric.area) / 10_000, 3)
    return found


def describe(shape: Mapping[str, Any] | None) -> str:
    """A place in French words: « point », « tracé de 420 m (12 sommets) », « zone de
    0,52 ha (4 sommets) » (history, import preview, sheets)."""
    if not shape:
        return KIND_LABELS["point"]
    found = measures(from_stored([shape])[0])
    if found["type"] == "ligne":
        size = f"{fr_num(found['longueur_m'], 0)} m"
    else:
        size = f"{fr_num(found['surface_ha'], 2)} ha"
    return f"{KIND_LABELS[found['type']]} de {size} ({found['sommets']} sommets)"


def from_stored(shapes: Sequence) -> np.ndarray:
    """Stored shapes (GeoJSON dicts, or the GeoJSON text of the store's column) as WGS84
    geometries, parsed in one vectorised call."""
    texts = [s if isinstance(s, str) else json.dumps(s) for s in shapes]
    return shapely.from_geojson(np.array(texts, dtype=object))


def place_geometry(row: Mapping[str, Any]) -> BaseGeometry:
    """A stored experiment's place in WGS84: its shape, or its point."""
    shape = row.get("shape")
    return from_stored([shape])[0] if shape else shapely.Point(row["lon"], row["lat"])
