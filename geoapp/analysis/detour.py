"""Walking detours imposed by urban cuts, and what a new crossing would change.

There is no street network in the project data, so the model is deliberately simple and
must be stated as such in the UI: a walker goes in a straight line, except that a trip
whose ends a corridor separates must pass through one of that corridor's crossings, again
in straight lines: ``|o - c| + |c - d|``. The detour factor of a trip is that length over
the straight distance ``|o - d|`` (always >= 1). Trip ends are the nodes of a regular grid
over the area. Everything is in ``ANALYSIS_CRS`` (metres).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from geoapp.analysis.cuts import assign_crossings, check_area, check_distance, check_frame
from geoapp.errors import GeoappError

# Above this many trips the grid nodes are subsampled (fixed seed) to keep a what-if fast.
MAX_PAIRS = 200_000
# Rows x crossings handled at once by the distance kernel (bounds memory to ~100 MB).
_CHUNK_CELLS = 2_000_000
_SEED = 20_240_601


@dataclass(frozen=True)
class DetourStats:
    """Detour factors of the sampled trips that must cross a corridor.

    ``median``, ``p90`` and ``share_over_1_5`` (share of those trips lengthened by more
    than 50 %) are over the ``n_pairs`` trips that have a crossing; ``n_pairs_no_crossing``
    trips must cross a corridor that has no crossing at all and are left out of the figures
    (so adding the first crossing of a corridor can raise the median: it brings those trips
    in).
    ``n_pairs_total`` is every sampled trip, cut or not. ``by_corridor`` maps corridor_id to
    the median factor of the trips crossing it. ``factors`` holds one value per trip that
    must cross (``inf`` when impossible), in a fixed order for a given area, corridors and
    spacing, so two scenarios can be compared trip by trip.
    """

    median: float
    p90: float
    share_over_1_5: float
    n_pairs: int
    n_pairs_no_crossing: int
    n_pairs_total: int
    spacing_m: float
    by_corridor: dict[int, float] = field(default_factory=dict)
    factors: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False,
                                compare=False)


@dataclass(frozen=True)
class WhatIf:
    """Detours before and after adding one crossing, snapped onto corridor ``corridor_id``
    (``offset_m``: metres between the proposed and the snapped point, EPSG:2154)."""

    before: DetourStats
    after: DetourStats
    snapped: Point
    corridor_id: int
    offset_m: float


@dataclass(frozen=True)
class _Trips:
    """Sampled trips that must cross: one row per (trip, corridor it must cross)."""

    origins: np.ndarray        # (P, 2) for the P trips that must cross a corridor
    destinations: np.ndarray   # (P, 2)
    row_trip: np.ndarray       # (R,) trip index of each row
    row_corridor: np.ndarray   # (R,) corridor_id of each row
    n_total: int
    spacing_m: float


def pair_detours(origins, destinations, crossings_xy) -> np.ndarray:
    """Detour factor of each trip through its best crossing.

    Parameters
    ----------
    origins, destinations : array_like, shape (P, 2)
        Trip ends in metres (EPSG:2154 coordinates).
    crossings_xy : array_like, shape (K, 2) or (P, K, 2)
        Crossings shared by all trips, or one set per trip padded with NaN.

    Returns
    -------
    ndarray, shape (P,)
        ``min_k (|o - c_k| + |c_k - d|) / |o - d|`` (>= 1); ``inf`` when a trip has no
        crossing, NaN when its origin equals its destination.
    """
    o = np.asarray(origins, dtype=float).reshape(-1, 2)
    d = np.asarray(destinations, dtype=float).reshape(-1, 2)
    c = np.asarray(crossings_xy, dtype=float)
    if c.ndim == 2:
        c = c[None, :, :]
    if c.ndim != 3 or c.shape[-1] != 2 or c.shape[0] not in (1, o.shape[0]):
        raise ValueError("crossings_xy : forme (K, 2) ou (P, K, 2) attendue.")
    via = (np.hypot(c[..., 0] - o[:, None, 0], c[..., 1] - o[:, None, 1])
           + np.hypot(c[..., 0] - d[:, None, 0], c[..., 1] - d[:, None, 1]))
    best = np.where(np.isnan(via), np.inf, via).min(axis=1, initial=np.inf)
    straight = np.hypot(d[:, 0] - o[:, 0], d[:, 1] - o[:, 1])
    factor = np.full(o.shape[0], np.nan)
    np.divide(best, straight, out=factor, where=straight > 0)
    # Rounding can put a crossing on the straight segment a hair below 1.
    return np.maximum(factor, 1.0, where=straight > 0, out=factor)


def detour_factors(area, corridors: gpd.GeoDataFrame, crossings: gpd.GeoDataFrame, *,
                   spacing_m: float = 100.0, max_pairs: int = MAX_PAIRS) -> DetourStats:
    """Detour factors of walking trips across the corridors of ``area``.

    Parameters
    ----------
    area : Polygon or MultiPolygon
        Where trips start and end, in EPSG:2154.
    corridors : GeoDataFrame
        Output of `cut_corridors` (``corridor_id``, line geometry), EPSG:2154.
    crossings : GeoDataFrame
        Points in EPSG:2154 with ``kind`` and ``status`` (see `assign_crossings`); a null
        ``corridor_id`` goes to the nearest corridor. All rows are used: filter on
        ``status`` first to compare scenarios.
    spacing_m : float
        Grid spacing in metres; grid nodes inside ``area`` are the trip ends.
    max_pairs : int
        Above this many trips, grid nodes are subsampled with a fixed seed.

    Returns
    -------
    DetourStats
        NaN figures and ``n_pairs == 0`` when no trip has to cross.

    Notes
    -----
    Each unordered pair of nodes is one trip. A trip must cross a corridor when that
    corridor, alone, splits the convex hull of ``area`` (where every straight trip lies)
    into pieces and the trip's ends are in different pieces. So a straight trip through a
    dead end or twice through a bend needs no crossing: the walker goes around, and the
    factor of 1 is a lower bound. For each corridor to cross, the best crossing of that
    corridor gives a factor; a trip with several corridors to cross keeps the largest
    factor, again a lower bound of the chained route.
    """
    trips = _sample_trips(area, corridors, spacing_m, max_pairs)
    return _stats(trips, _crossing_table(crossings, corridors))


def what_if_crossing(area, corridors: gpd.GeoDataFrame, crossings: gpd.GeoDataFrame,
                     proposed: Point, *, max_offset_m: float = 50.0,
                     spacing_m: float = 100.0, max_pairs: int = MAX_PAIRS) -> WhatIf:
    """Detours before and after adding a crossing at ``proposed``.

    ``proposed`` (EPSG:2154 Point) is snapped onto the nearest corridor centreline; other
    parameters are those of `detour_factors`. The trips are sampled once and scored
    twice, so both figures are comparable trip by trip. No input is modified.

    Raises
    ------
    GeoappError (422)
        When no corridor lies within ``max_offset_m`` metres of ``proposed``.
    """
    if not isinstance(proposed, Point) or proposed.is_empty:
        raise ValueError("proposed : un Point non vide (EPSG:2154) est attendu.")
    max_offset_m = check_distance(max_offset_m, "max_offset_m", allow_zero=True)
    check_area(area)
    check_frame(corridors, "corridors", ("corridor_id",))
    table = _crossing_table(crossings, corridors)
    if corridors.empty:
        raise GeoappError("Aucune coupure cartographiée ici : il n’y a rien à franchir.", 422)
    offsets = shapely.distance(corridors.geometry.values, proposed)
    nearest = int(np.argmin(offsets))
    offset = float(offsets[nearest])
    if offset > max_offset_m:
        raise GeoappError(f"Le franchissement proposé est à {offset:.0f} m de la coupure la "
                          f"plus proche : placez-le sur une voie ({max_offset_m:g} m au plus).",
                          422)
    snapped = shapely.get_point(shapely.shortest_line(
        proposed, corridors.geometry.values[nearest]), 1)
    corridor_id = int(corridors["corridor_id"].iloc[nearest])
    trips = _sample_trips(area, corridors, spacing_m, max_pairs)
    ids, xy = table
    after = (np.append(ids, corridor_id), np.vstack([xy, [[snapped.x, snapped.y]]]))
    return WhatIf(before=_stats(trips, table), after=_stats(trips, after),
                  snapped=snapped, corridor_id=corridor_id, offset_m=offset)


def _grid(area: BaseGeometry, spacing_m: float) -> np.ndarray:
    """Centres of a regular ``spacing_m`` grid over the bounds of ``area``, kept if inside."""
    xmin, ymin, xmax, ymax = area.bounds
    xs = np.arange(xmin + spacing_m / 2, xmax, spacing_m)
    ys = np.arange(ymin + spacing_m / 2, ymax, spacing_m)
    gx, gy = (a.ravel() for a in np.meshgrid(xs, ys))
    inside = shapely.contains_xy(area, gx, gy)
    return np.column_stack([gx[inside], gy[inside]])


def _side_labels(nodes: np.ndarray, zone: BaseGeometry,
                 corridors: gpd.GeoDataFrame) -> np.ndarray:
    """(N, C) array: for each node and corridor, the number of the piece of ``zone`` cut by
    that corridor alone which holds the node (-1 outside ``zone``).

    Every corridor is noded with the zone boundary and polygonized in one vectorised call;
    a node lying exactly on a line gets the lower piece number.
    """
    clipped = shapely.intersection(corridors.geometry.values, zone.buffer(1.0))
    noded = shapely.union(zone.boundary, clipped)
    pieces, owner = shapely.get_parts(shapely.polygonize(noded[:, None], axis=1),
                                      return_index=True)
    hit_node, hit_piece = shapely.STRtree(pieces).query(shapely.points(nodes),
                                                        predicate="intersects")
    labels = np.full((len(nodes), len(corridors)), np.iinfo(np.int64).max)
    np.minimum.at(labels, (hit_node, owner[hit_piece]), hit_piece)
    labels[labels == np.iinfo(np.int64).max] = -1
    return labels


def _sample_trips(area, corridors: gpd.GeoDataFrame, spacing_m: float,
                  max_pairs: int) -> _Trips:
    check_area(area)
    check_frame(corridors, "corridors", ("corridor_id",))
    spacing_m = check_distance(spacing_m, "spacing_m")
    if int(max_pairs) < 1:
        raise ValueError(f"max_pairs : un entier positif est attendu, reçu {max_pairs}.")
    nodes = _grid(area, spacing_m)
    n_keep = int((1 + np.sqrt(1 + 8 * int(max_pairs))) // 2)  # n (n - 1) / 2 <= max_pairs
    if len(nodes) > n_keep:
        pick = np.random.default_rng(_SEED).choice(len(nodes), n_keep, replace=False)
        nodes = nodes[np.sort(pick)]
    i, j = np.triu_indices(len(nodes), k=1)
    empty = _Trips(np.empty((0, 2)), np.empty((0, 2)), np.empty(0, int), np.empty(0, int),
                   i.size, spacing_m)
    if i.size == 0 or corridors.empty:
        return empty
    # A straight trip stays inside the convex hull of the area, so that is where it can
    # be cut: it must cross a corridor when that corridor separates its ends there.
    labels = _side_labels(nodes, area.convex_hull, corridors)
    row_trip, row_pos = np.nonzero(labels[i] != labels[j])
    if row_trip.size == 0:
        return empty
    trips, row_trip = np.unique(row_trip, return_inverse=True)
    row_corridor = corridors["corridor_id"].to_numpy()[row_pos]
    return _Trips(nodes[i[trips]], nodes[j[trips]], row_trip, row_corridor, i.size, spacing_m)


def _crossing_table(crossings: gpd.GeoDataFrame,
                    corridors: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """``corridor_id`` (K,) and coordinates (K, 2) of every crossing point (null corridor →
    nearest)."""
    assigned = assign_crossings(crossings, corridors)
    pts = assigned.geometry.values
    ok = ((shapely.get_type_id(pts) == 0) & ~shapely.is_empty(pts)
          & assigned["corridor_id"].notna().to_numpy())
    return (assigned["corridor_id"].to_numpy()[ok].astype(np.int64),
            shapely.get_coordinates(pts[ok]))


def _padded(ids: np.ndarray, xy: np.ndarray, corridor_ids: np.ndarray) -> np.ndarray:
    """Crossings as a NaN-padded (len(corridor_ids), max crossings per corridor, 2) array,
    in the order of ``corridor_ids`` (sorted)."""
    keep = np.isin(ids, corridor_ids)
    ids, xy = ids[keep], xy[keep]
    order = np.argsort(ids, kind="stable")
    ids, xy = ids[order], xy[order]
    pos = np.searchsorted(corridor_ids, ids)
    slot = np.arange(ids.size) - np.searchsorted(ids, ids)  # rank within its corridor
    out = np.full((corridor_ids.size, max(int(slot.max(initial=-1)) + 1, 1), 2), np.nan)
    out[pos, slot] = xy
    return out


def _stats(trips: _Trips, table: tuple[np.ndarray, np.ndarray]) -> DetourStats:
    """Score the sampled trips against a crossing table (ids, coordinates)."""
    corridor_ids = np.unique(trips.row_corridor)
    padded = _padded(*table, corridor_ids)
    which = np.searchsorted(corridor_ids, trips.row_corridor)
    row_factor = np.empty(trips.row_trip.size)
    step = max(1, _CHUNK_CELLS // padded.shape[1])
    for start in range(0, row_factor.size, step):  # chunks bound memory, not a loop on trips
        rows = slice(start, start + step)
        t = trips.row_trip[rows]
        row_factor[rows] = pair_detours(trips.origins[t], trips.destinations[t],
                                        padded[which[rows]])
    factors = np.full(len(trips.origins), 1.0)
    np.maximum.at(factors, trips.row_trip, row_factor)
    finite = factors[np.isfinite(factors)]
    by_row = pd.Series(row_factor[np.isfinite(row_factor)],
                       index=trips.row_corridor[np.isfinite(row_factor)])
    by_corridor = {int(k): float(v) for k, v in by_row.groupby(level=0).median().items()}
    nan = float("nan")
    return DetourStats(
        median=float(np.median(finite)) if finite.size else nan,
        p90=float(np.percentile(finite, 90)) if finite.size else nan,
        share_over_1_5=float(np.mean(finite > 1.5)) if finite.size else nan,
        n_pairs=int(finite.size), n_pairs_no_crossing=int(factors.size - finite.size),
        n_pairs_total=int(trips.n_total), spacing_m=trips.spacing_m,
        by_corridor=by_corridor, factors=factors)
