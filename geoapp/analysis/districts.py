"""Indicative district perimeters derived from real layers, and their figures.

No official perimeter of the QMI districts is published. Each district's facts entry
carries a *rule* (commune, stations and radius, rail lines that split it, which side to
keep) and this module turns the rule into a polygon, so the perimeter is reproducible
from open data and can be explained in one French sentence in the UI.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from geoapp.analysis.checks import check_frame
from geoapp.analysis.cuts import MIN_SIDE_M2, split_sides

# Two polygons closer than this are "touching" (the commune layer is generalised).
TOUCH_TOLERANCE_M = 5.0


def derive_perimeter(rule: dict, communes: gpd.GeoDataFrame, rail: gpd.GeoDataFrame,
                     stations: gpd.GeoDataFrame) -> BaseGeometry:
    """Derive a district's indicative perimeter from its rule, in Lambert-93.

    Parameters
    ----------
    rule : dict
        ``commune`` (INSEE code); optionally ``gares`` + ``lignes_gares`` + ``rayon_m``
        (keep what lies within the radius, in metres, of those stations), and
        ``decoupe_par`` (rail ``ligne`` values that split the area) with ``garder``:
        ``"nord"`` (the northernmost piece) or ``{"touchant": [INSEE codes]}`` (the
        pieces touching every listed commune).
    communes, rail, stations : GeoDataFrame
        The commune polygons, rail lines and station points, in EPSG:2154.

    Returns
    -------
    Polygon or MultiPolygon in EPSG:2154; pieces under 1 ha are dropped.
    """
    for gdf, name in ((communes, "communes"), (rail, "rail"), (stations, "stations")):
        check_frame(gdf, name)
    area = _commune(communes, rule["commune"])
    if "gares" in rule:
        area = area.intersection(_station_disc(stations, rule))
    if "decoupe_par" in rule:
        lines = rail[rail["ligne"].isin(rule["decoupe_par"])]
        if lines.empty:
            raise ValueError(f"rule: no rail line named {rule['decoupe_par']}")
        pieces = split_sides(area, lines, min_side_m2=MIN_SIDE_M2, snap_m=0.0)
        area = _keep_pieces(pieces.geometry.to_numpy(), rule["garder"], communes)
    parts = shapely.get_parts(area)
    parts = parts[shapely.area(parts) >= MIN_SIDE_M2]
    if parts.size == 0:
        raise ValueError(f"rule for commune {rule['commune']} gives an empty perimeter")
    return shapely.union_all(parts)


def _commune(communes: gpd.GeoDataFrame, code: str) -> BaseGeometry:
    match = communes.geometry[communes["code_insee"] == code]
    if match.empty:
        raise ValueError(f"rule: unknown commune INSEE code {code!r}")
    return match.union_all()


def _station_disc(stations: gpd.GeoDataFrame, rule: dict) -> BaseGeometry:
    chosen = stations[stations["nom"].isin(rule["gares"])
                      & stations["ligne"].isin(rule["lignes_gares"])]
    missing = set(rule["gares"]) - set(chosen["nom"])
    if missing:
        raise ValueError(f"rule: station(s) not found: {sorted(missing)}")
    return chosen.geometry.buffer(float(rule["rayon_m"]), quad_segs=32).union_all()


def _keep_pieces(pieces: np.ndarray, keep, communes: gpd.GeoDataFrame) -> BaseGeometry:
    if keep == "nord":
        ys = shapely.get_y(shapely.point_on_surface(pieces))
        return pieces[int(np.argmax(ys))]
    touching = np.ones(pieces.size, dtype=bool)
    for code in keep["touchant"]:
        neighbour = _commune(communes, code)
        touching &= shapely.dwithin(pieces, neighbour, TOUCH_TOLERANCE_M)
    return shapely.union_all(pieces[touching])
