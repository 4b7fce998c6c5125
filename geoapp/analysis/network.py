"""Street networks: the crossings of road cuts they show, and detours measured on them.

A street network is a line layer (OpenStreetMap edges, EPSG:2154). Its bridges and tunnels
that pass a road corridor are that corridor's known crossings, as stations are a rail
corridor's. Where a network covers a study area, the same sampled trips as the
straight-line model (`geoapp.analysis.detour`) are also measured on the graph: shortest
paths with scipy's csgraph (Dijkstra from every origin node at once), no loop per trip.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra
from shapely.geometry.base import BaseGeometry

from geoapp.analysis import ANALYSIS_CRS
from geoapp.analysis.checks import check_distance, check_frame
from geoapp.analysis.cuts import snap_onto
from geoapp.vocabulary import CROSSING_KINDS, ROAD_KIND

# Tags that mark an edge passing over (bridge) or under (tunnel) what it crosses; a
# tunnel through a building or a culvert is not a way under a road.
_PASSING = {
    "bridge": (CROSSING_KINDS[2], ("no",)),
    "tunnel": (CROSSING_KINDS[1], ("no", "building_passage", "culvert")),
}
NETWORK_SOURCE = "OSM rues"
_COLUMNS = ["corridor_id", "name", "kind", "status", "source", "id"]


def network_crossings(
    network: gpd.GeoDataFrame,
    corridors: gpd.GeoDataFrame,
    *,
    max_distance_m: float = 30.0,
    merge_m: float = 50.0,
) -> gpd.GeoDataFrame:
    """Bridges and tunnels of ``network`` that pass a corridor, as its crossings.

    Parameters
    ----------
    network : GeoDataFrame
        Street edges (lines, EPSG:2154) with ``bridge`` and/or ``tunnel`` tags (OSM values:
        ``yes``, ``viaduct``…) and optionally ``name``.
    corridors : GeoDataFrame
        `cut_corridors` output (``corridor_id``, ``kind``).
    max_distance_m : float
        A bridge or tunnel farther than this (metres) from a corridor does not cross it.
    merge_m : float
        Crossings of one corridor closer than this (metres) are one crossing: OSM draws
        one bridge per carriageway.

    Returns
    -------
    GeoDataFrame of Points (EPSG:2154) on the corridor centrelines: ``corridor_id``,
    ``name``, ``kind`` (``pont`` or ``souterrain``), ``status`` ``existant``, ``source``
    `NETWORK_SOURCE` and ``id`` (null, like stations).
    """
    check_frame(network, "network")
    check_frame(corridors, "corridors", ("corridor_id",))
    max_distance_m = check_distance(max_distance_m, "max_distance_m", allow_zero=True)
    kind = pd.Series(None, index=network.index, dtype=object)
    for tag, (label, not_passing) in _PASSING.items():
        if tag in network:
            values = network[tag]
            kind = kind.where(kind.notna() | values.isna() | values.isin(not_passing), label)
    passing = network[kind.notna()]
    hit_edge, hit_co = corridors.sindex.query(
        passing.geometry.values, predicate="dwithin", distance=max_distance_m
    )
    lines = corridors.geometry.values[hit_co]
    link = shapely.shortest_line(passing.geometry.values[hit_edge], lines)
    names = passing["name"] if "name" in passing else pd.Series(None, index=passing.index)
    found = pd.DataFrame(
        {
            "corridor_id": corridors["corridor_id"].to_numpy()[hit_co],
            "name": names.to_numpy()[hit_edge],
            "kind": kind[passing.index].to_numpy()[hit_edge],
            "gap": shapely.length(link),
            "geometry": snap_onto(shapely.get_point(link, 0), lines),
        }
    ).sort_values(["corridor_id", "gap"], kind="stable")
    found = found[~_near_earlier(found, merge_m)]
    found = found.assign(status="existant", source=NETWORK_SOURCE, id=pd.NA)
    return gpd.GeoDataFrame(
        found[_COLUMNS + ["geometry"]].reset_index(drop=True), geometry="geometry", crs=ANALYSIS_CRS
    )


def _near_earlier(found: pd.DataFrame, merge_m: float) -> np.ndarray:
    """Rows within ``merge_m`` of an earlier row of the same corridor (duplicates)."""
    pts = found["geometry"].to_numpy()
    ids = found["corridor_id"].to_numpy()
    i, j = np.triu_indices(len(found), k=1)
    close = (ids[i] == ids[j]) & (shapely.distance(pts[i], pts[j]) < merge_m)
    dup = np.zeros(len(found), dtype=bool)
    dup[j[close]] = True
    return dup


@dataclass(frozen=True)
class StreetGraph:
    """A street network as a sparse graph: node coordinates (N, 2), the symmetric CSR
    matrix of edge lengths (metres), and the edges themselves with their end nodes, so
    a trip end can join the street it is nearest to anywhere along it."""

    nodes: np.ndarray
    matrix: object  # scipy.sparse csr matrix (N, N), metres
    edges: np.ndarray  # (E,) LineStrings
    edge_ends: np.ndarray  # (E, 2) node numbers


def street_graph(network: gpd.GeoDataFrame, *, exclude: BaseGeometry | None = None) -> StreetGraph:
    """The graph of ``network`` (EPSG:2154 lines): nodes are line ends (rounded to the
    centimetre, so lines meeting at a point share a node), edges weigh their length.

    Edges lying within ``exclude`` (a polygon: the road cut itself, which no one walks
    along) are left out. Walking goes both ways, whatever the traffic direction.
    """
    check_frame(network, "network")
    geoms = shapely.get_parts(network.geometry.values)
    geoms = geoms[(shapely.get_type_id(geoms) == 1) & (shapely.length(geoms) > 0)]
    if exclude is not None and not exclude.is_empty:
        geoms = geoms[~shapely.within(geoms, exclude)]
    ends = np.vstack(
        [
            shapely.get_coordinates(shapely.get_point(geoms, 0)),
            shapely.get_coordinates(shapely.get_point(geoms, -1)),
        ]
    )
    nodes, index = np.unique(np.round(ends, 2), axis=0, return_inverse=True)
    index = index.ravel()
    a, b = index[: geoms.size], index[geoms.size :]
    matrix = _shortest_duplicates(a, b, shapely.length(geoms), len(nodes))
    return StreetGraph(nodes=nodes, matrix=matrix, edges=geoms, edge_ends=np.column_stack([a, b]))


def _shortest_duplicates(a: np.ndarray, b: np.ndarray, length: np.ndarray, n: int):
    """Symmetric CSR matrix keeping the shortest of parallel edges between two nodes."""
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    frame = pd.DataFrame({"lo": lo, "hi": hi, "w": length})
    frame = frame[frame["lo"] != frame["hi"]].groupby(["lo", "hi"], as_index=False)["w"].min()
    rows = np.concatenate([frame["lo"], frame["hi"]])
    cols = np.concatenate([frame["hi"], frame["lo"]])
    weights = np.concatenate([frame["w"], frame["w"]])
    return coo_matrix((weights, (rows, cols)), shape=(n, n)).tocsr()


def network_factors(
    graph: StreetGraph, origins: np.ndarray, destinations: np.ndarray, *, max_snap_m: float = 150.0
) -> np.ndarray:
    """Detour factor of each trip on the street graph (at least 1).

    The walker goes straight to the nearest point of the nearest street, along it to one
    of its ends, by the shortest path to an end of the street nearest the destination,
    and along that one (``(snap + path + snap) / |o - d|``; both ends on one street: along
    it). Trips with an end farther than ``max_snap_m`` metres from every street, or whose
    streets are not connected, get NaN (not measured). ``origins``, ``destinations``: (P, 2)
    metres. One Dijkstra run from all the origin streets' ends at once (scipy csgraph).
    """
    o = np.asarray(origins, dtype=float).reshape(-1, 2)
    d = np.asarray(destinations, dtype=float).reshape(-1, 2)
    if graph.edges.size == 0 or len(o) == 0:
        return np.full(len(o), np.nan)
    tree = shapely.STRtree(graph.edges)
    e_o, snap_o, along_o = _on_street(tree, graph.edges, o)
    e_d, snap_d, along_d = _on_street(tree, graph.edges, d)
    src_nodes = graph.edge_ends[e_o]  # (P, 2)
    sources, inverse = np.unique(src_nodes, return_inverse=True)
    inverse = inverse.reshape(src_nodes.shape)
    dist = dijkstra(graph.matrix, directed=False, indices=sources)  # (S, N)
    dst_nodes = graph.edge_ends[e_d]
    path = np.full(len(o), np.inf)
    for i in range(2):  # the origin street's two ends x the destination street's two ends
        for j in range(2):
            leg = along_o[:, i] + dist[inverse[:, i], dst_nodes[:, j]] + along_d[:, j]
            path = np.minimum(path, leg)
    same = e_o == e_d
    path[same] = np.minimum(path[same], np.abs(along_o[same, 0] - along_d[same, 0]))
    straight = np.hypot(*(d - o).T)
    factor = np.full(len(o), np.nan)
    ok = np.isfinite(path) & (snap_o <= max_snap_m) & (snap_d <= max_snap_m) & (straight > 0)
    factor[ok] = np.maximum((snap_o + path + snap_d)[ok] / straight[ok], 1.0)
    return factor


def _on_street(tree: shapely.STRtree, edges: np.ndarray, xy: np.ndarray):
    """For each point: its nearest street, the distance to it, and the metres along it
    to its first and last point, (P, 2)."""
    points = shapely.points(xy)
    edge = tree.nearest(points)
    snap = shapely.distance(points, edges[edge])
    t = shapely.line_locate_point(edges[edge], points)
    return edge, snap, np.column_stack([t, shapely.length(edges[edge]) - t])


# Buffer (metres) around a road corridor's centreline whose edges are the road itself: both
# carriageways (about 12 m apart on the N118) and no street beside it.
ROAD_BUFFER_M = 20.0
# Below this share of the trips measured on the network, its figures are not shown.
MIN_MEASURED_SHARE = 0.1


@dataclass(frozen=True)
class NetworkDetour:
    """The same trips that must cross, measured on the street graph and in straight
    lines via the crossings, over the trips the network covers (``n_measured`` of
    ``n_trips``)."""

    median: float
    p90: float
    share_over_1_5: float
    straight_median: float
    straight_p90: float
    straight_share_over_1_5: float
    n_measured: int
    n_trips: int


def network_detour(
    network: gpd.GeoDataFrame,
    corridors: gpd.GeoDataFrame,
    origins: np.ndarray,
    destinations: np.ndarray,
    straight_factors: np.ndarray,
    *,
    max_snap_m: float = 150.0,
) -> NetworkDetour | None:
    """Measure the trips on ``network`` (the road corridors themselves left out, see
    `ROAD_BUFFER_M`), beside their straight-line factors; None when the network covers
    fewer than `MIN_MEASURED_SHARE` of them. Trips with no crossing in the straight-line
    model (``inf``) are left out of both."""
    check_frame(network, "network")
    check_frame(corridors, "corridors", ("kind",))
    roads = corridors[corridors["kind"] == ROAD_KIND]
    exclude = shapely.union_all(shapely.buffer(roads.geometry.values, ROAD_BUFFER_M))
    graph = street_graph(network, exclude=exclude)
    on_graph = network_factors(graph, origins, destinations, max_snap_m=max_snap_m)
    straight = np.asarray(straight_factors, dtype=float)
    both = np.isfinite(on_graph) & np.isfinite(straight)
    if not both.any() or both.sum() < MIN_MEASURED_SHARE * np.isfinite(straight).sum():
        return None
    g, s = on_graph[both], straight[both]
    return NetworkDetour(
        median=float(np.median(g)),
        p90=float(np.percentile(g, 90)),
        share_over_1_5=float(np.mean(g > 1.5)),
        straight_median=float(np.median(s)),
        straight_p90=float(np.percentile(s, 90)),
        straight_share_over_1_5=float(np.mean(s > 1.5)),
        n_measured=int(both.sum()),
        n_trips=int(np.isfinite(straight).sum()),
    )
