"""What the geometry says about a spot where someone is placing an experiment.

Used live while an editor clicks the map and again, authoritatively, when the form is
saved: inside the district or how far outside, the nearest urban cut and station, which
side of the cut, and experiments close enough to be a possible duplicate.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import geopandas as gpd
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from geoapp.analysis.checks import check_frame

DUPLICATE_RADIUS_M = 150.0
# Possible duplicates named to the planner, nearest first; the others are counted.
NEARBY_LIMIT = 5


@dataclass(frozen=True)
class Placement:
    """Facts about one point relative to its district, distances in metres."""

    inside: bool
    distance_outside_m: float
    accepted: bool
    tolerance_m: float
    nearest_cut: dict | None = None
    side_id: int | None = None
    nearest_station: dict | None = None
    nearby_experiments: list[dict] = field(default_factory=list)
    nearby_count: int = 0  # all within DUPLICATE_RADIUS_M, named or not

    def to_dict(self) -> dict:
        return asdict(self)


def _nearest(point: Point, gdf: gpd.GeoDataFrame, columns: list[str]) -> dict | None:
    """The row of ``gdf`` nearest to ``point`` (spatial index), with its distance."""
    if gdf.empty:
        return None
    (_, [index]), [distance] = gdf.sindex.nearest(point, return_distance=True)
    row = gdf.iloc[int(index)]
    return {**{c: row[c] for c in columns}, "distance_m": round(float(distance), 1)}


def _within(point: Point, gdf: gpd.GeoDataFrame, radius_m: float, columns: list[str]) -> list:
    if gdf.empty:
        return []
    near = gdf.iloc[gdf.sindex.query(point, predicate="dwithin", distance=radius_m)]
    near = near.assign(distance_m=near.distance(point).round(1)).sort_values("distance_m")
    return near[columns + ["distance_m"]].to_dict("records")


def assess_placement(
    point: Point,
    district: BaseGeometry,
    *,
    tolerance_m: float,
    corridors: gpd.GeoDataFrame,
    stations: gpd.GeoDataFrame,
    experiments: gpd.GeoDataFrame,
    sides: gpd.GeoDataFrame | None = None,
    nearby_count: int | None = None,
) -> Placement:
    """Assess ``point`` (EPSG:2154) against its ``district`` perimeter.

    Parameters
    ----------
    point : Point
        The spot, in EPSG:2154.
    district : Polygon or MultiPolygon
        The district perimeter, in EPSG:2154.
    tolerance_m : float
        How far outside the perimeter a point is still accepted (the perimeter is
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
    outside = float(district.distance(point))
    side = None
    if sides is not None and not sides.empty:
        hit = sides[sides.contains(point)]
        side = int(hit["side_id"].iloc[0]) if not hit.empty else None
    nearby = _within(point, experiments, DUPLICATE_RADIUS_M, ["id", "title"])
    return Placement(
        inside=outside == 0.0,
        distance_outside_m=round(outside, 1),
        accepted=outside <= tolerance_m,
        tolerance_m=tolerance_m,
        nearest_cut=_nearest(point, corridors, ["names", "kind"]),
        side_id=side,
        nearest_station=_nearest(point, stations, ["nom", "ligne"]),
        nearby_experiments=nearby[:NEARBY_LIMIT],
        nearby_count=len(nearby) if nearby_count is None else nearby_count,
    )
