"""What the geometry says about a place where someone is putting an experiment.

Used live while an editor clicks or draws on the map and again, authoritatively, when the
form is saved: inside the district or how far outside, the nearest urban cut and station,
which side of the cut, and experiments close enough to be a possible duplicate. The place
is a point, a line or an area (`geoapp.shapes`); every distance is from the whole place.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import geopandas as gpd
import shapely
from shapely.geometry.base import BaseGeometry

from geoapp.analysis.checks import check_frame
from geoapp.shapes import anchor_point

DUPLICATE_RADIUS_M = 150.0
# Possible duplicates named to the planner, nearest first; the others are counted.
NEARBY_LIMIT = 5
# Experiments read around a line's or area's anchor, then measured from the whole shape.
SHAPE_NEARBY_LIMIT = 200


@dataclass(frozen=True)
class Placement:
    """Facts about one place relative to its district, distances in metres.

    ``side_id`` is the side holding the place's anchor (a point: the point itself);
    ``side_ids`` every side the place touches (a path across the cut touches two).
    """

    inside: bool
    distance_outside_m: float
    accepted: bool
    tolerance_m: float
    nearest_cut: dict | None = None
    side_id: int | None = None
    side_ids: list[int] = field(default_factory=list)
    nearest_station: dict | None = None
    nearby_experiments: list[dict] = field(default_factory=list)
    nearby_count: int = 0  # all within DUPLICATE_RADIUS_M, named or not

    def to_dict(self) -> dict:
        return asdict(self)


def outside_distance(place: BaseGeometry, district: BaseGeometry) -> float:
    """How far (m) the farthest part of ``place`` lies outside ``district`` (both in
    Lambert-93); 0 when it is entirely inside.

    For a line or area, the part outside is densified every 5 m and its farthest vertex
    measured, so a bulge between two inside vertices counts as it is drawn.
    """
    if place.geom_type == "Point":
        return float(district.distance(place))
    beyond = place.difference(district)
    if beyond.is_empty:
        return 0.0
    vertices = shapely.points(shapely.get_coordinates(shapely.segmentize(beyond, 5.0)))
    return float(shapely.distance(district, vertices).max())


def _nearest(place: BaseGeometry, gdf: gpd.GeoDataFrame, columns: list[str]) -> dict | None:
    """The row of ``gdf`` nearest to ``place`` (spatial index), with its distance."""
    if gdf.empty:
        return None
    (_, [index]), [distance] = gdf.sindex.nearest(place, return_distance=True)
    row = gdf.iloc[int(index)]
    return {**{c: row[c] for c in columns}, "distance_m": round(float(distance), 1)}


def _within(place: BaseGeometry, gdf: gpd.GeoDataFrame, radius_m: float, columns: list[str]):
    if gdf.empty:
        return []
    near = gdf.iloc[gdf.sindex.query(place, predicate="dwithin", distance=radius_m)]
    near = near.assign(distance_m=near.distance(place).round(1)).sort_values("distance_m")
    return near[columns + ["distance_m"]].to_dict("records")


def assess_placement(
    place: BaseGeometry,
    district: BaseGeometry,
    *,
    tolerance_m: float,
    corridors: gpd.GeoDataFrame,
    stations: gpd.GeoDataFrame,
    experiments: gpd.GeoDataFrame,
    sides: gpd.GeoDataFrame | None = None,
    nearby_count: int | None = None,
) -> Placement:
    """Assess ``place`` (EPSG:2154) against its ``district`` perimeter.

    Parameters
    ----------
    place : Point, LineString or Polygon
        The experiment's place, in EPSG:2154: all of it must lie within the tolerance.
    district : Polygon or MultiPolygon
        The district perimeter, in EPSG:2154.
    tolerance_m : float
        How far outside the perimeter a place is still accepted (the perimeter is
        indicative), in metres.
    corridors, stations, experiments : GeoDataFrame
        EPSG:2154; corridors need ``names`` and ``kind``, stations ``nom`` and ``ligne``,
        experiments ``id`` and ``title`` (the one being moved should be left out).
    sides : GeoDataFrame, optional
        Sides of the district cut by its corridors (``side_id``).
    nearby_count : int, optional
        How many experiments lie within `DUPLICATE_RADIUS_M` when ``experiments`` holds
        only the nearest few (the store's answer); by default, those found in it.
    """
    if not tolerance_m >= 0:  # also refuses NaN, which would reject every point
        raise ValueError(
            f"tolerance_m : une distance positive ou nulle en mètres est attendue, "
            f"reçu {tolerance_m}."
        )
    frames = {
        "corridors": (corridors, ("names", "kind")),
        "stations": (stations, ("nom", "ligne")),
        "experiments": (experiments, ("id", "title")),
    }
    if sides is not None:
        frames["sides"] = (sides, ("side_id",))
    for name, (gdf, columns) in frames.items():
        check_frame(gdf, name, columns)
    outside = outside_distance(place, district)
    anchor = anchor_point(place)
    side, touched = None, []
    if sides is not None and not sides.empty:
        hit = sides[sides.contains(anchor)]
        side = int(hit["side_id"].iloc[0]) if not hit.empty else None
        touched = sorted(
            int(s) for s in sides["side_id"].iloc[sides.sindex.query(place, "intersects")]
        )
    nearby = _within(place, experiments, DUPLICATE_RADIUS_M, ["id", "title"])
    return Placement(
        inside=outside == 0.0,
        distance_outside_m=round(outside, 1),
        accepted=outside <= tolerance_m,
        tolerance_m=tolerance_m,
        nearest_cut=_nearest(place, corridors, ["names", "kind"]),
        side_id=side,
        side_ids=touched,
        nearest_station=_nearest(place, stations, ["nom", "ligne"]),
        nearby_experiments=nearby[:NEARBY_LIMIT],
        nearby_count=len(nearby) if nearby_count is None else nearby_count,
    )
