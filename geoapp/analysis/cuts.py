"""Urban cuts ("coupures urbaines"): rail corridors, the sides they make, their crossings.

A district is split by rail corridors. The IDFM traces layer has one segment per line, so a
shared corridor (RER B and Transilien K at Aulnay) appears as parallel, overlapping tracks a
few metres apart. This module merges them into corridors with a de-duplicated centreline,
cuts an area into sides, measures how much of it lies close to a corridor and turns stations
into crossings. Walking detours through crossings live in :mod:`geoapp.analysis.detour`.

Everything is in ``ANALYSIS_CRS`` (Lambert-93, metres); no input is ever modified.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from geoapp.analysis import ANALYSIS_CRS
from geoapp.analysis.checks import check_area, check_distance, check_frame
from geoapp.vocabulary import CROSSING_KINDS, CROSSING_STATUSES, STATION_KIND

_CRS = pyproj.CRS(ANALYSIS_CRS)

# Modes that make a surface cut. METRO and NAVETTE (Orlyval, CDGVal) are left out: around
# the four districts they run underground or on viaducts that people walk under.
KIND_BY_MODE = {
    "RER": "voie ferrée",
    "TRAIN": "voie ferrée",
    "TER": "voie ferrée",
    "TRAMWAY": "tramway",
}
# Pieces smaller than this (1 ha) are slivers of generalised boundaries, not sides.
MIN_SIDE_M2 = 10_000.0
# A side of a cut smaller than this (5 ha, a few blocks) is a sliver left between a corridor
# and the edge of the study area: it joins its neighbour in every figure, text and map.
SLIVER_M2 = 50_000.0
# Crossings are those planners enter plus the stations found on a corridor.
_KINDS = (*CROSSING_KINDS, STATION_KIND)
# Corridor lines are kept this far beyond the study zone, so that a zone still cut by them
# (e.g. the study area itself, split by `split_sides`) is fully crossed.
CLIP_MARGIN_M = 100.0
# How far past its target a closing connector is drawn, so that noding always sees it cross.
_OVERSHOOT_M = 0.5

_STATION_COLUMNS = ["corridor_id", "name", "kind", "status", "source", "id_zdc", "offset_m"]


def snap_onto(points, lines):
    """The nearest point of each line to each point (element-wise arrays, EPSG:2154).

    Stations, stored and what-if crossings are all moved onto their corridor this way,
    so a crossing counts the same whichever way it was entered.
    """
    return shapely.get_point(shapely.shortest_line(points, lines), 1)


def cut_corridors(
    lines: gpd.GeoDataFrame,
    area: Polygon | MultiPolygon,
    *,
    study_buffer_m: float = 500.0,
    merge_distance_m: float = 30.0,
) -> gpd.GeoDataFrame:
    """Merge the rail lines near ``area`` into corridors with a de-duplicated centreline.

    Parameters
    ----------
    lines : GeoDataFrame
        LineStrings in EPSG:2154 with columns ``ligne`` and ``mode`` and, optionally,
        ``kind`` (used when not null). Otherwise RER/TRAIN/TER give ``"voie ferrée"`` and
        TRAMWAY gives ``"tramway"``; METRO and NAVETTE are excluded, as they run mostly
        underground or above ground level and do not cut the street.
    area : Polygon or MultiPolygon
        The district, in EPSG:2154.
    study_buffer_m : float
        Lines intersecting ``area`` buffered by this many metres are studied.
    merge_distance_m : float
        Lines closer than this (metres) belong to one corridor, whatever their kind: a tram
        running along the tracks (T4 at Aulnay) is part of the same barrier.

    An optional ``strand`` column tells apart lines sharing a ``ligne``: the two
    carriageways of a road (``"N 118"``) are two strands, so the corridor keeps one of
    them and the other only where it runs farther than ``merge_distance_m`` away. Without
    it, all the lines of one ``ligne`` form one line (a rail line's segments).

    Returns
    -------
    GeoDataFrame in EPSG:2154, one row per corridor: ``corridor_id`` (1..n, by length in
    the area then near it, descending), ``kind`` (that of its longest line), ``names``
    (sorted unique ``ligne`` values, ``", "``-joined), ``length_in_m`` and ``length_near_m``
    (metres of centreline inside ``area`` and inside ``area`` buffered by
    ``study_buffer_m``) and a (Multi)LineString centreline clipped to the study zone plus
    ``CLIP_MARGIN_M``. No cutting line near the area gives an empty frame.

    Notes
    -----
    The segments of each ``ligne`` are merged into one line; the longest line is kept whole and
    every other line keeps only its parts farther than ``merge_distance_m`` from all the
    longer lines of its corridor, so parallel tracks count once. Where a line leaves a
    shared corridor, its kept part starts ``merge_distance_m`` away from it; a short link
    (counted in the lengths) joins it back, so the centreline of a corridor stays connected.
    """
    check_frame(lines, "lines", ("ligne", "mode"))
    check_area(area)
    study_buffer_m = check_distance(study_buffer_m, "study_buffer_m", allow_zero=True)
    merge_distance_m = check_distance(merge_distance_m, "merge_distance_m")
    near = area.buffer(study_buffer_m)
    pieces, ligne, kind, strand = _studied_lines(lines, near, near.buffer(CLIP_MARGIN_M))
    comp = _components(pieces, merge_distance_m)
    per_line = pd.DataFrame({"component": comp, "ligne": ligne, "kind": kind, "strand": strand})
    code = per_line.groupby(["component", "ligne", "strand"], sort=True).ngroup().to_numpy()
    per_line = per_line.groupby(code).first()
    geoms = shapely.line_merge(group_lines(pieces, code, len(per_line)))
    kept, per_line = _deduplicated(per_line, geoms, merge_distance_m)
    n = int(comp.max()) + 1 if comp.size else 0
    centre = shapely.line_merge(group_lines(kept, per_line["component"].to_numpy(), n))
    by_comp = per_line.groupby("component")
    corridors = gpd.GeoDataFrame(
        {
            "kind": by_comp["kind"].first().reindex(range(n)).to_numpy(),
            "names": by_comp["ligne"]
            .agg(lambda s: ", ".join(sorted(set(s))))
            .reindex(range(n))
            .to_numpy(),
            "length_in_m": shapely.length(shapely.intersection(centre, area)),
            "length_near_m": shapely.length(shapely.intersection(centre, near)),
        },
        geometry=centre,
        crs=_CRS,
    )
    corridors = corridors[corridors["length_near_m"] > 0]
    corridors = corridors.sort_values(
        ["length_in_m", "length_near_m", "names"], ascending=[False, False, True], kind="stable"
    )
    corridors.insert(0, "corridor_id", np.arange(1, len(corridors) + 1))
    return corridors.reset_index(drop=True)


def group_lines(geoms: np.ndarray, groups: np.ndarray, n: int) -> np.ndarray:
    """One MultiLineString per group ``0..n-1`` collecting the LineStrings of ``geoms``
    (lineal geometries, ``groups`` their group numbers), without noding or union."""
    parts, owner = shapely.get_parts(geoms, return_index=True)
    lineal = shapely.get_type_id(parts) == 1
    parts, owner = parts[lineal], np.asarray(groups)[owner[lineal]]
    order = np.argsort(owner, kind="stable")
    out = np.full(n, shapely.MultiLineString(), dtype=object)
    if parts.size:
        shapely.multilinestrings(parts[order], indices=owner[order], out=out)
    return out


def _studied_lines(lines: gpd.GeoDataFrame, near: BaseGeometry, clip_zone: BaseGeometry):
    """Cutting lines intersecting ``near`` clipped to ``clip_zone``: LineStrings and their
    ``ligne``, kind and strand arrays (``strand`` -1 when absent or null)."""
    kind = lines["mode"].map(KIND_BY_MODE)
    if "kind" in lines.columns:
        kind = lines["kind"].where(lines["kind"].notna(), kind)
    hits = lines.sindex.query(near, predicate="intersects")
    hits = hits[kind.notna().to_numpy()[hits]]
    clipped = shapely.intersection(lines.geometry.values[hits], clip_zone)
    parts, owner = shapely.get_parts(clipped, return_index=True)
    keep = (shapely.get_type_id(parts) == 1) & ~shapely.is_empty(parts)
    rows = hits[owner[keep]]
    strand = lines["strand"].fillna(-1) if "strand" in lines else pd.Series(-1, lines.index)
    strand = strand.to_numpy(dtype=np.int64)
    return parts[keep], lines["ligne"].to_numpy()[rows], kind.to_numpy()[rows], strand[rows]


def _components(pieces: np.ndarray, merge_distance_m: float) -> np.ndarray:
    """Corridor number of each piece: pieces whose buffers of half the merge distance
    overlap (i.e. closer than the merge distance) share a component."""
    comps = shapely.get_parts(shapely.union_all(shapely.buffer(pieces, merge_distance_m / 2)))
    hit_piece, hit_comp = shapely.STRtree(comps).query(pieces, predicate="within")
    comp = np.full(pieces.size, -1)
    comp[hit_piece] = hit_comp
    return comp


def _deduplicated(per_line: pd.DataFrame, geoms: np.ndarray, merge_distance_m: float):
    """Keep the longest line of each component whole and, of every other line, only the
    parts farther than ``merge_distance_m`` from all longer lines of that component.

    Returns the kept geometries and the line table, both ordered by component and rank.
    """
    per_line = per_line.assign(length=shapely.length(geoms), geom=geoms)
    per_line = per_line.sort_values(
        ["component", "length", "ligne"], ascending=[True, False, True], kind="stable"
    )
    per_line = per_line.reset_index(drop=True)
    geoms = per_line.pop("geom").to_numpy()
    rank = per_line.groupby("component").cumcount().to_numpy()
    line, longer = np.nonzero(
        (per_line["component"].to_numpy()[:, None] == per_line["component"].to_numpy()[None, :])
        & (rank[None, :] < rank[:, None])
    )
    shadow = shapely.buffer(group_lines(geoms[longer], line, len(per_line)), merge_distance_m)
    kept = shapely.difference(geoms, shadow)
    taken = group_lines(kept[longer], line, len(per_line))
    links = _junction_links(kept, shadow, taken, 2.0 * merge_distance_m + 1.0)
    return shapely.union(kept, links), per_line


def _junction_links(
    kept: np.ndarray, shadow: np.ndarray, taken: np.ndarray, reach_m: float
) -> np.ndarray:
    """Per line, the segments joining the ends where its kept parts leave the ``shadow`` of
    the longer lines back to their ``taken`` centreline (within ``reach_m``), so that a
    branch leaving a shared corridor stays connected to it."""
    parts, owner = shapely.get_parts(kept, return_index=True)
    ends = np.concatenate([shapely.get_point(parts, 0), shapely.get_point(parts, -1)])
    owner = np.tile(owner, 2)
    cut = shapely.dwithin(ends, shadow[owner], 1e-6) & ~shapely.is_empty(taken[owner])
    links = shapely.shortest_line(ends[cut], taken[owner[cut]])
    short = shapely.length(links) <= reach_m
    return group_lines(overshoot(links[short]), owner[cut][short], kept.size)


def overshoot(segments: np.ndarray) -> np.ndarray:
    """Two-point segments drawn ``_OVERSHOOT_M`` past their end, so that noding always sees
    them cross the line they were drawn to (an end exactly on it may not be noded)."""
    xy = shapely.get_coordinates(segments).reshape(-1, 2, 2)
    step = xy[:, 1] - xy[:, 0]
    norm = np.hypot(step[:, 0], step[:, 1])
    ok = norm > 0
    xy[ok, 1] += step[ok] / norm[ok, None] * _OVERSHOOT_M
    return shapely.linestrings(xy[ok])


def split_sides(
    area: Polygon | MultiPolygon,
    corridors: gpd.GeoDataFrame,
    *,
    min_side_m2: float = MIN_SIDE_M2,
    snap_m: float = 50.0,
) -> gpd.GeoDataFrame:
    """Cut ``area`` into sides along the corridor centrelines.

    Parameters
    ----------
    area : Polygon or MultiPolygon
        The area to cut, in EPSG:2154.
    corridors : GeoDataFrame
        Output of `cut_corridors` (any LineStrings in EPSG:2154 will do).
    min_side_m2 : float
        Pieces smaller than this (square metres) are merged into the large side they share
        the longest border with, or dropped if they touch none. The largest piece is always
        kept, so a small area still has one side.
    snap_m : float
        A centreline end lying inside ``area`` within this distance (metres) of another
        centreline or of the area boundary is joined to it by the shortest segment, so that
        a line stopping a few metres short still cuts (and junction gaps left by
        `cut_corridors` close). Ends farther away are dead ends and do not cut.

    Returns
    -------
    GeoDataFrame in EPSG:2154: ``side_id`` (1..n, by area descending), ``area_ha``
    (hectares) and Polygon geometry. Disjoint parts of ``area`` are separate sides.
    """
    check_area(area)
    check_frame(corridors, "corridors")
    min_side_m2 = check_distance(min_side_m2, "min_side_m2", allow_zero=True)
    snap_m = check_distance(snap_m, "snap_m", allow_zero=True)
    clipped = shapely.intersection(corridors.geometry.values, area.buffer(snap_m + 1.0))
    parts = shapely.get_parts(shapely.line_merge(shapely.union_all(clipped)))
    parts = parts[shapely.get_type_id(parts) == 1]  # LineStrings only
    connectors = _closing_connectors(parts, area, snap_m)
    noded = shapely.union_all(np.concatenate([[area.boundary], parts, connectors]))
    pieces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    pieces = pieces[shapely.contains(area, shapely.point_on_surface(pieces))]
    pieces = _merge_small(pieces, min_side_m2)
    order = np.argsort(-shapely.area(pieces), kind="stable")
    pieces = pieces[order]
    return gpd.GeoDataFrame(
        {"side_id": np.arange(1, pieces.size + 1), "area_ha": shapely.area(pieces) / 10_000.0},
        geometry=pieces,
        crs=_CRS,
    )


def _closing_connectors(parts: np.ndarray, area: BaseGeometry, snap_m: float) -> np.ndarray:
    """Shortest segments joining dangling line ends inside ``area`` to the nearest other
    line or to the boundary, when within ``snap_m``; drawn slightly past their target."""
    if parts.size == 0 or snap_m == 0:
        return np.empty(0, dtype=object)
    ends = np.concatenate([shapely.get_point(parts, 0), shapely.get_point(parts, -1)])
    owner = np.tile(np.arange(parts.size), 2)
    boundary = area.boundary
    d_bound = shapely.distance(ends, boundary)
    hit_end, hit_part = shapely.STRtree(parts).query(ends, predicate="dwithin", distance=snap_m)
    other = hit_part != owner[hit_end]
    hit_end, hit_part = hit_end[other], hit_part[other]
    dist = shapely.distance(ends[hit_end], parts[hit_part])
    order = np.lexsort((dist, hit_end))
    first = order[np.unique(hit_end[order], return_index=True)[1]]
    d_other = np.full(ends.size, np.inf)
    target = np.full(ends.size, boundary, dtype=object)
    d_other[hit_end[first]] = dist[first]
    nearer = np.zeros(ends.size, dtype=bool)
    nearer[hit_end[first]] = dist[first] < d_bound[hit_end[first]]
    target[nearer] = parts[hit_part[first]][nearer[hit_end[first]]]
    gap = np.minimum(d_other, d_bound)
    inside = shapely.contains(area, ends)
    dangling = inside & (gap > 1e-9) & (gap <= snap_m)
    if not dangling.any():
        return np.empty(0, dtype=object)
    return overshoot(shapely.shortest_line(ends[dangling], target[dangling]))


def _merge_small(pieces: np.ndarray, min_side_m2: float) -> np.ndarray:
    """Merge pieces under ``min_side_m2`` into the large piece sharing their longest
    border; drop those touching no large piece. The largest piece always counts as large."""
    if pieces.size == 0:
        return pieces
    areas = shapely.area(pieces)
    large = areas >= min(min_side_m2, areas.max())
    small_idx, large_idx = np.flatnonzero(~large), np.flatnonzero(large)
    if small_idx.size == 0:
        return pieces
    hit_small, hit_large = shapely.STRtree(pieces[large_idx]).query(
        pieces[small_idx], predicate="intersects"
    )
    border = shapely.length(
        shapely.intersection(
            shapely.boundary(pieces[small_idx][hit_small]),
            shapely.boundary(pieces[large_idx][hit_large]),
        )
    )
    links = pd.DataFrame({"small": hit_small, "large": hit_large, "border": border})
    links = links[links["border"] > 0].sort_values(["small", "border"], ascending=[True, False])
    links = links.drop_duplicates("small")
    groups = gpd.GeoDataFrame(
        {"large": np.concatenate([np.arange(large_idx.size), links["large"].to_numpy()])},
        geometry=np.concatenate([pieces[large_idx], pieces[small_idx][links["small"]]]),
    )
    return groups.dissolve("large").geometry.to_numpy()


def assign_sides(points: gpd.GeoDataFrame, sides: gpd.GeoDataFrame) -> pd.Series:
    """``side_id`` of the side containing each point (nullable Int64, NA outside every side),
    indexed like ``points``. A point on a border gets the lower ``side_id``. EPSG:2154."""
    check_frame(points, "points")
    check_frame(sides, "sides", ("side_id",))
    joined = gpd.sjoin(
        points[[points.geometry.name]],
        sides[["side_id", sides.geometry.name]],
        how="left",
        predicate="intersects",
    )
    first = joined["side_id"].groupby(level=0).min()
    return first.reindex(points.index).astype("Int64").rename("side_id")


def corridor_exposure(
    area: Polygon | MultiPolygon, corridors: gpd.GeoDataFrame, *, distances=(100, 250, 500)
) -> dict[float, float]:
    """Share (0..1) of ``area`` lying within each distance (metres) of a corridor.

    Both in EPSG:2154. Keys are the given distances; no corridor gives 0.0 everywhere.
    """
    check_area(area)
    check_frame(corridors, "corridors")
    dists = [check_distance(d, "distances") for d in distances]
    if corridors.empty or not dists:
        return dict.fromkeys(distances, 0.0)
    bands = shapely.buffer(shapely.union_all(corridors.geometry.values), np.asarray(dists))
    shares = shapely.area(shapely.intersection(area, bands)) / area.area
    return {d: float(min(max(s, 0.0), 1.0)) for d, s in zip(distances, shares, strict=True)}


def station_crossings(
    stations: gpd.GeoDataFrame, corridors: gpd.GeoDataFrame, *, max_distance_m: float = 150.0
) -> gpd.GeoDataFrame:
    """Stations as crossings of the corridors their own line runs in.

    Parameters
    ----------
    stations : GeoDataFrame
        Points in EPSG:2154, one per station and line, with ``nom``, ``ligne``, ``id_zdc``.
    corridors : GeoDataFrame
        Output of `cut_corridors`.
    max_distance_m : float
        A station farther than this (metres) from the corridor is not one of its crossings.

    Returns
    -------
    GeoDataFrame of Points in EPSG:2154, snapped onto the corridor centreline, one per stop
    area (``id_zdc``) and corridor (the line point nearest the corridor wins):
    ``corridor_id``, ``name``, ``kind`` = "gare", ``status`` = "existant", ``source`` =
    "IDFM gares", ``id_zdc`` and ``offset_m`` (metres from station to centreline).
    """
    check_frame(stations, "stations", ("nom", "ligne", "id_zdc"))
    check_frame(corridors, "corridors", ("corridor_id", "names"))
    max_distance_m = check_distance(max_distance_m, "max_distance_m", allow_zero=True)
    hit_st, hit_co = corridors.sindex.query(
        stations.geometry.values, predicate="dwithin", distance=max_distance_m
    )
    runs_in = pd.DataFrame(
        {"co": np.arange(len(corridors)), "ligne": corridors["names"].str.split(", ").to_numpy()}
    )
    runs_in = runs_in.explode("ligne")
    hits = pd.DataFrame({"st": hit_st, "co": hit_co, "ligne": stations["ligne"].to_numpy()[hit_st]})
    hits = hits.merge(runs_in, on=["co", "ligne"])  # the station's line runs in the corridor
    hit_st, hit_co = hits["st"].to_numpy(), hits["co"].to_numpy()
    link = shapely.shortest_line(
        stations.geometry.values[hit_st], corridors.geometry.values[hit_co]
    )
    found = pd.DataFrame(
        {
            "corridor_id": corridors["corridor_id"].to_numpy()[hit_co],
            "name": stations["nom"].to_numpy()[hit_st],
            "id_zdc": stations["id_zdc"].to_numpy()[hit_st],
            "offset_m": shapely.length(link),
        }
    )
    found["geometry"] = shapely.get_point(link, 1)
    found = found.sort_values(["corridor_id", "offset_m"], kind="stable")
    key = found["id_zdc"].where(found["id_zdc"].notna(), found["name"])
    found = found[~pd.DataFrame({"c": found["corridor_id"], "k": key}).duplicated()]
    found = found.assign(kind=STATION_KIND, status="existant", source="IDFM gares")
    return gpd.GeoDataFrame(
        found[[*_STATION_COLUMNS, "geometry"]].reset_index(drop=True), geometry="geometry", crs=_CRS
    )


def assign_crossings(crossings: gpd.GeoDataFrame, corridors: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return a copy of ``crossings`` with every missing ``corridor_id`` set to the nearest
    corridor's. Points in EPSG:2154 with ``kind`` in `CROSSING_KINDS` (or a
    station's `STATION_KIND`) and ``status`` in `CROSSING_STATUSES`; ``corridor_id`` may
    be absent or null."""
    check_frame(crossings, "crossings", ("kind", "status"))
    check_frame(corridors, "corridors", ("corridor_id",))
    for column, allowed in (("kind", _KINDS), ("status", CROSSING_STATUSES)):
        bad = set(crossings[column]) - set(allowed)
        if bad:
            raise ValueError(
                f"crossings : valeur(s) inconnue(s) dans « {column} » : "
                f"{', '.join(sorted(map(str, bad)))}."
            )
    out = crossings.copy()
    ids = out["corridor_id"] if "corridor_id" in out else pd.Series(pd.NA, index=out.index)
    ids = ids.astype("Int64")
    missing = ids.isna().to_numpy()
    if missing.any() and not corridors.empty:
        nearest = gpd.sjoin_nearest(
            out.loc[missing, [out.geometry.name]],
            corridors[["corridor_id", corridors.geometry.name]],
        )
        nearest = nearest.loc[~nearest.index.duplicated(), "corridor_id"]
        ids[missing] = nearest.reindex(out.index[missing]).to_numpy()
    out["corridor_id"] = ids
    return out
