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

from geoapp.analysis import RefusedInputError
from geoapp.analysis.checks import check_area, check_distance, check_frame
from geoapp.analysis.cuts import assign_crossings, group_lines, overshoot, snap_onto

# Above this many trips the grid nodes are subsampled (fixed seed) to keep a what-if fast.
MAX_PAIRS = 200_000
# Rows x crossings handled at once by the distance kernel: its temporaries (a few float
# arrays of this many cells) bound its memory, so an export that builds the cut pages of
# the four districts keeps its peak low (programme sheet at 10 000 experiments: 414 MB
# with 2 000 000 cells, 375 MB with 1 000 000, and no slower).
_CHUNK_CELLS = 1_000_000
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
    factors: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False, compare=False)


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
    """Sampled trips that must cross, one row per (trip, cut it must cross).

    Cuts ``0..C-1`` are the corridors, each cutting the convex hull of the area alone into
    pieces; cuts ``C..2C-1`` are the same corridors with their dead ends extended to the
    hull boundary, which tells the trips crossing a dead-end branch.
    """

    origins: np.ndarray  # (P, 2) for the P trips that must cross
    destinations: np.ndarray  # (P, 2)
    row_trip: np.ndarray  # (R,) trip of each row
    row_cut: np.ndarray  # (R,) cut of each row, 0..2C-1
    row_from: np.ndarray  # (R,) piece holding the origin
    row_to: np.ndarray  # (R,) piece holding the destination
    corridor_ids: np.ndarray  # (C,)
    lines: np.ndarray  # (C,) corridor centrelines
    tips: np.ndarray  # (T, 2) free ends of the corridors inside the hull
    tip_cut: np.ndarray  # (T,) their cut, C..2C-1
    pieces: np.ndarray  # (N,) polygons
    piece_cut: np.ndarray  # (N,) cut of each piece
    adjacent: np.ndarray  # (N, N) pieces sharing a border
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
    return _factor(_shortest(_via(o, d, c), np.ones(c.shape[:2], dtype=bool)), o, d)


def _via(o: np.ndarray, d: np.ndarray, c: np.ndarray) -> np.ndarray:
    """(P, K) lengths ``|o - c_k| + |c_k - d|`` (NaN for NaN crossings)."""
    return np.hypot(c[..., 0] - o[:, None, 0], c[..., 1] - o[:, None, 1]) + np.hypot(
        c[..., 0] - d[:, None, 0], c[..., 1] - d[:, None, 1]
    )


def _shortest(via: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """Row minimum of ``via`` over allowed, non-NaN crossings (``inf`` if none)."""
    return np.where(allowed & ~np.isnan(via), via, np.inf).min(axis=1, initial=np.inf)


def _factor(length: np.ndarray, o: np.ndarray, d: np.ndarray) -> np.ndarray:
    """``length / |o - d|``, at least 1 (rounding), NaN for a zero-length trip."""
    straight = np.hypot(d[:, 0] - o[:, 0], d[:, 1] - o[:, 1])
    factor = np.full(straight.shape, np.nan)
    np.divide(length, straight, out=factor, where=straight > 0)
    return np.maximum(factor, 1.0, where=straight > 0, out=factor)


def detour_factors(
    area,
    corridors: gpd.GeoDataFrame,
    crossings: gpd.GeoDataFrame,
    *,
    spacing_m: float = 100.0,
    max_pairs: int = MAX_PAIRS,
) -> DetourStats:
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
    Each unordered pair of nodes is one trip. Each corridor alone cuts the convex hull of
    ``area`` (where every straight trip lies) into pieces; a trip must cross the corridor
    when its ends are in different pieces (a straight trip crossing a bend twice needs no
    crossing: a factor of 1 is then a lower bound). A branch ending inside the hull cuts
    nothing; it is extended by the shortest segment to the hull boundary, and a trip that
    the extended corridor separates without crossing the extension must go round the
    branch end or through a crossing on it. A crossing serves the pieces it borders
    (within its distance to the corridor plus 1 m; one outside the hull serves all pieces
    of its corridor), and a branch end serves the pieces around it. When the two pieces
    share a border, the trip uses the best crossing bordering both, and has none if that
    border has no crossing. Otherwise (two borders or more to cross) the factor is the
    lower bound ``max(best crossing out of the origin piece, best into the destination
    piece)``. A trip with several corridors to cross keeps the largest factor, again a
    lower bound of the chained route. Adding a crossing never increases a factor.
    """
    trips = _sample_trips(area, corridors, spacing_m, max_pairs)
    return _stats(trips, _crossing_table(crossings, corridors))


MAX_CROSSING_OFFSET_M = 50.0  # a crossing sits on a corridor: at most this far (metres)


def nearest_corridor(
    corridors: gpd.GeoDataFrame, point: Point, *, max_offset_m: float = MAX_CROSSING_OFFSET_M
) -> tuple[int, float]:
    """Position in ``corridors`` of the corridor a crossing at ``point`` crosses, and its
    distance in metres (EPSG:2154): the one rule for what-if and stored crossings.

    Raises
    ------
    RefusedInputError
        With no corridor, or none within ``max_offset_m`` metres (French message).
    """
    if corridors.empty:
        raise RefusedInputError("Aucune coupure cartographiée ici : il n’y a rien à franchir.")
    offsets = shapely.distance(corridors.geometry.values, point)
    nearest = int(np.argmin(offsets))
    offset = float(offsets[nearest])
    if offset > max_offset_m:
        raise RefusedInputError(
            f"Le franchissement est à {offset:.0f} m de la coupure "
            f"la plus proche : placez-le sur une voie ({max_offset_m:g} m "
            "au plus)."
        )
    return nearest, offset


def what_if_crossing(
    area,
    corridors: gpd.GeoDataFrame,
    crossings: gpd.GeoDataFrame,
    proposed: Point,
    *,
    max_offset_m: float = MAX_CROSSING_OFFSET_M,
    spacing_m: float = 100.0,
    max_pairs: int = MAX_PAIRS,
) -> WhatIf:
    """Detours before and after adding a crossing at ``proposed``.

    ``proposed`` (EPSG:2154 Point) is snapped onto the nearest corridor centreline; other
    parameters are those of `detour_factors`. The trips are sampled once and scored
    twice, so both figures are comparable trip by trip. No input is modified.

    Raises
    ------
    RefusedInputError
        When no corridor lies within ``max_offset_m`` metres of ``proposed`` (or there is
        no corridor at all); the French message is meant for whoever placed the point.
    ValueError
        When an argument is malformed (a caller's mistake).
    """
    if not isinstance(proposed, Point) or proposed.is_empty:
        raise ValueError("proposed : un Point non vide (EPSG:2154) est attendu.")
    max_offset_m = check_distance(max_offset_m, "max_offset_m", allow_zero=True)
    check_area(area)
    check_frame(corridors, "corridors", ("corridor_id",))
    table = _crossing_table(crossings, corridors)
    nearest, offset = nearest_corridor(corridors, proposed, max_offset_m=max_offset_m)
    snapped = snap_onto(proposed, corridors.geometry.values[nearest])
    corridor_id = int(corridors["corridor_id"].iloc[nearest])
    trips = _sample_trips(area, corridors, spacing_m, max_pairs)
    ids, xy = table
    after = (np.append(ids, corridor_id), np.vstack([xy, [[snapped.x, snapped.y]]]))
    return WhatIf(
        before=_stats(trips, table),
        after=_stats(trips, after),
        snapped=snapped,
        corridor_id=corridor_id,
        offset_m=offset,
    )


def _grid(area: BaseGeometry, spacing_m: float) -> np.ndarray:
    """Centres of a regular ``spacing_m`` grid over the bounds of ``area``, kept if inside."""
    xmin, ymin, xmax, ymax = area.bounds
    xs = np.arange(xmin + spacing_m / 2, xmax, spacing_m)
    ys = np.arange(ymin + spacing_m / 2, ymax, spacing_m)
    gx, gy = (a.ravel() for a in np.meshgrid(xs, ys))
    inside = shapely.contains_xy(area, gx, gy)
    return np.column_stack([gx[inside], gy[inside]])


def _free_ends(noded: np.ndarray, zone: BaseGeometry) -> tuple[np.ndarray, np.ndarray]:
    """Ends of noded linework (one geometry per cut) that touch nothing else and lie inside
    ``zone``: the (T,) points and the cut number of each."""
    parts, owner = shapely.get_parts(noded, return_index=True)
    ends = np.concatenate([shapely.get_point(parts, 0), shapely.get_point(parts, -1)])
    owner = np.tile(owner, 2)
    keys = np.column_stack([owner, np.round(shapely.get_coordinates(ends), 6)])
    _, inverse, counts = np.unique(keys, axis=0, return_inverse=True, return_counts=True)
    free = (
        (counts[inverse.ravel()] == 1)
        & shapely.contains(zone, ends)
        & (shapely.distance(ends, zone.boundary) > 0.5)
    )
    return ends[free], owner[free]


def _cut_pieces(nodes: np.ndarray, zone: BaseGeometry, corridors: gpd.GeoDataFrame):
    """Cut ``zone`` by each corridor alone, then by each corridor with its free ends joined
    to the zone boundary (one vectorised polygonize for all 2C cuts).

    Returns the (nodes, 2C) piece number of every node for every cut (-1 if none; a node
    exactly on a line gets the lower number), the pieces, their cut, their adjacency (a
    shared border of positive length), the free ends and their extensions (T, 2, 2).
    """
    n = len(corridors)
    clipped = shapely.intersection(corridors.geometry.values, zone.buffer(1.0))
    noded = shapely.union(zone.boundary, clipped)
    tips, tip_pos = _free_ends(noded, zone)
    extensions = overshoot(shapely.shortest_line(tips, zone.boundary))
    cuts = np.concatenate([noded, shapely.union(noded, group_lines(extensions, tip_pos, n))])
    pieces, piece_cut = shapely.get_parts(
        shapely.polygonize(cuts[:, None], axis=1), return_index=True
    )
    tree = shapely.STRtree(pieces)
    hit_node, hit_piece = tree.query(shapely.points(nodes), predicate="intersects")
    none = np.iinfo(np.int64).max
    labels = np.full((len(nodes), 2 * n), none)
    np.minimum.at(labels, (hit_node, piece_cut[hit_piece]), hit_piece)
    labels[labels == none] = -1
    a, b = tree.query(pieces, predicate="intersects")
    pair = (a < b) & (piece_cut[a] == piece_cut[b])
    a, b = a[pair], b[pair]
    shared = (
        shapely.length(
            shapely.intersection(shapely.boundary(pieces[a]), shapely.boundary(pieces[b]))
        )
        > 0
    )
    adjacent = np.zeros((pieces.size, pieces.size), dtype=bool)
    adjacent[a[shared], b[shared]] = adjacent[b[shared], a[shared]] = True
    ext_xy = shapely.get_coordinates(extensions).reshape(-1, 2, 2)
    return labels, pieces, piece_cut, adjacent, tips, tip_pos, ext_xy


def _crosses(o: np.ndarray, d: np.ndarray, segments: np.ndarray) -> np.ndarray:
    """(P, S) whether trip o–d crosses each segment of the (S, 2, 2) array."""

    def turn(a, b, c):  # sign of the turn a → b → c, broadcast over (P, S)
        return np.sign(
            (b[..., 0] - a[..., 0]) * (c[..., 1] - a[..., 1])
            - (b[..., 1] - a[..., 1]) * (c[..., 0] - a[..., 0])
        )

    o, d = o[:, None, :], d[:, None, :]
    p, q = segments[None, :, 0, :], segments[None, :, 1, :]
    return (turn(o, d, p) * turn(o, d, q) <= 0) & (turn(p, q, o) * turn(p, q, d) <= 0)


def _sample_trips(area, corridors: gpd.GeoDataFrame, spacing_m: float, max_pairs: int) -> _Trips:
    """Check the inputs, lay the grid and keep the trips that must cross (see Notes of
    `detour_factors`)."""
    check_area(area)
    check_frame(corridors, "corridors", ("corridor_id",))
    spacing_m = check_distance(spacing_m, "spacing_m")
    if not corridors["corridor_id"].is_unique:
        raise ValueError("corridors : les valeurs de « corridor_id » doivent être uniques.")
    if int(max_pairs) < 1:
        raise ValueError(f"max_pairs : un entier positif est attendu, reçu {max_pairs}.")
    nodes = _grid(area, spacing_m)
    n_keep = int((1 + np.sqrt(1 + 8 * int(max_pairs))) // 2)  # n (n - 1) / 2 <= max_pairs
    if len(nodes) > n_keep:
        pick = np.random.default_rng(_SEED).choice(len(nodes), n_keep, replace=False)
        nodes = nodes[np.sort(pick)]
    i, j = np.triu_indices(len(nodes), k=1)
    n = len(corridors)
    # A straight trip stays inside the convex hull of the area: that is where it is cut.
    labels, pieces, piece_cut, adjacent, tips, tip_cut, ext = _cut_pieces(
        nodes, area.convex_hull, corridors
    )
    tip_cut = tip_cut + n
    apart = (labels[i] != labels[j]) & (labels[i] >= 0) & (labels[j] >= 0)
    apart[:, n:] &= ~apart[:, :n]  # the extended cut only adds dead-end crossings
    row_trip, row_cut = np.nonzero(apart)
    # A trip crossing an extension goes past the branch end: it needs no crossing there.
    dead = np.flatnonzero(row_cut >= n)
    free = (
        _crosses(nodes[i[row_trip[dead]]], nodes[j[row_trip[dead]]], ext)
        & (tip_cut[None, :] == row_cut[dead, None])
    ).any(axis=1)
    keep = np.ones(row_trip.size, dtype=bool)
    keep[dead[free]] = False
    row_trip, row_cut = row_trip[keep], row_cut[keep]
    trips, row_trip = np.unique(row_trip, return_inverse=True)
    return _Trips(
        origins=nodes[i[trips]],
        destinations=nodes[j[trips]],
        row_trip=row_trip,
        row_cut=row_cut,
        row_from=labels[i[trips[row_trip]], row_cut],
        row_to=labels[j[trips[row_trip]], row_cut],
        corridor_ids=corridors["corridor_id"].to_numpy(),
        lines=corridors.geometry.values,
        tips=shapely.get_coordinates(tips),
        tip_cut=tip_cut,
        pieces=pieces,
        piece_cut=piece_cut,
        adjacent=adjacent,
        n_total=i.size,
        spacing_m=spacing_m,
    )


def _crossing_table(
    crossings: gpd.GeoDataFrame, corridors: gpd.GeoDataFrame
) -> tuple[np.ndarray, np.ndarray]:
    """``corridor_id`` (K,) and coordinates (K, 2) of every crossing point (null corridor →
    nearest)."""
    assigned = assign_crossings(crossings, corridors)
    pts = assigned.geometry.values
    ok = (
        (shapely.get_type_id(pts) == 0)
        & ~shapely.is_empty(pts)
        & assigned["corridor_id"].notna().to_numpy()
    )
    return (
        assigned["corridor_id"].to_numpy()[ok].astype(np.int64),
        shapely.get_coordinates(pts[ok]),
    )


def _crossing_layout(trips: _Trips, ids: np.ndarray, xy: np.ndarray):
    """Crossings per cut as a NaN-padded (2C, K, 2) array, and the (N, 2C, K) booleans
    "crossing slot k of cut c borders piece n". A crossing of corridor c serves cuts c and
    C + c; a free end serves its extended cut only."""
    n = trips.corridor_ids.size
    pos = pd.Index(trips.corridor_ids).get_indexer(ids)
    pos, xy = pos[pos >= 0], xy[pos >= 0]  # crossings of other corridors are ignored
    cut = np.concatenate([pos, pos + n, trips.tip_cut])
    xy = np.concatenate([xy, xy, trips.tips]).reshape(-1, 2)
    order = np.argsort(cut, kind="stable")
    cut, xy = cut[order], xy[order]
    slot = np.arange(cut.size) - np.searchsorted(cut, cut)  # rank within its cut
    size = max(int(slot.max(initial=-1)) + 1, 1)
    padded = np.full((2 * n, size, 2), np.nan)
    padded[cut, slot] = xy
    borders = np.zeros((trips.pieces.size, 2 * n, size), dtype=bool)
    hit, piece = _bordering(trips, cut, xy)
    borders[piece, cut[hit], slot[hit]] = True
    return padded, borders


def _bordering(trips: _Trips, cut: np.ndarray, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(crossing, piece) pairs: the pieces of its own cut each crossing point (S, 2) of
    cut ``cut`` (S,) borders, within its distance to the corridor plus 1 m. A point beyond
    the hull (bordering none) serves every piece."""
    n = trips.corridor_ids.size
    if cut.size == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    points = shapely.points(xy)
    reach = shapely.distance(points, trips.lines[cut % n]) + 1.0
    hit, piece = shapely.STRtree(trips.pieces).query(points, predicate="dwithin", distance=reach)
    own = trips.piece_cut[piece] == cut[hit]
    hit, piece = hit[own], piece[own]
    outside = np.flatnonzero(~np.isin(np.arange(cut.size), hit))
    every = np.arange(trips.pieces.size)
    return (
        np.concatenate([hit, np.repeat(outside, every.size)]),
        np.concatenate([piece, np.tile(every, outside.size)]),
    )


def _row_parts(trips: _Trips, padded: np.ndarray, borders: np.ndarray):
    """Per row (trip, cut): the shortest way through a crossing bordering both its pieces,
    out of the origin piece, and into the destination piece (``inf`` if none)."""
    size = trips.row_trip.size
    both, out, into = np.empty(size), np.empty(size), np.empty(size)
    step = max(1, _CHUNK_CELLS // padded.shape[1])
    for start in range(0, size, step):  # chunks bound memory, not a loop on trips
        rows = slice(start, start + step)
        t, c = trips.row_trip[rows], trips.row_cut[rows]
        a, b = trips.row_from[rows], trips.row_to[rows]
        via = _via(trips.origins[t], trips.destinations[t], padded[c])
        out_of, in_to = borders[a, c], borders[b, c]
        both[rows] = _shortest(via, out_of & in_to)
        out[rows] = _shortest(via, out_of)
        into[rows] = _shortest(via, in_to)
    return both, out, into


def _joined(adjacent: np.ndarray, both, out, into):
    """Row length: through one crossing of the shared border when the pieces touch, else
    the lower bound over the two borders (see `detour_factors`)."""
    return np.where(adjacent, both, np.maximum(out, into))


def _row_factors(trips: _Trips, table: tuple[np.ndarray, np.ndarray]):
    """Detour factor of every row against a crossing table, and the row parts."""
    padded, borders = _crossing_layout(trips, *table)
    parts = _row_parts(trips, padded, borders)
    length = _joined(trips.adjacent[trips.row_from, trips.row_to], *parts)
    factor = _factor(length, trips.origins[trips.row_trip], trips.destinations[trips.row_trip])
    return factor, parts


def _stats(trips: _Trips, table: tuple[np.ndarray, np.ndarray]) -> DetourStats:
    """Score the sampled trips against a crossing table (ids, coordinates)."""
    return _summary(trips, _row_factors(trips, table)[0])


def _summary(trips: _Trips, row_factor: np.ndarray) -> DetourStats:
    """The figures of the sampled trips from the factor of each of their rows."""
    n = trips.corridor_ids.size
    factors = np.full(len(trips.origins), 1.0)
    np.maximum.at(factors, trips.row_trip, row_factor)
    finite = factors[np.isfinite(factors)]
    ok = np.isfinite(row_factor)
    by_row = pd.Series(row_factor[ok], index=trips.corridor_ids[trips.row_cut[ok] % n])
    by_corridor = {int(k): float(v) for k, v in by_row.groupby(level=0).median().items()}
    nan = float("nan")
    return DetourStats(
        median=float(np.median(finite)) if finite.size else nan,
        p90=float(np.percentile(finite, 90)) if finite.size else nan,
        share_over_1_5=float(np.mean(finite > 1.5)) if finite.size else nan,
        n_pairs=int(finite.size),
        n_pairs_no_crossing=int(factors.size - finite.size),
        n_pairs_total=int(trips.n_total),
        spacing_m=trips.spacing_m,
        by_corridor=by_corridor,
        factors=factors,
    )


@dataclass(frozen=True)
class CandidateScores:
    """Each candidate crossing scored alone on top of the existing ones (K candidates):
    the figures a what-if at that point would give (``median``, ``share_over_1_5``,
    ``n_pairs``), computed for all candidates at once. ``share_long_or_impossible``
    also counts the trips that have no crossing at all (the share over all trips that
    must cross), so a corridor's first crossing ranks as the gain it is. ``before`` is
    the current state."""

    before: DetourStats
    corridor_id: np.ndarray  # (K,)
    median: np.ndarray  # (K,)
    share_over_1_5: np.ndarray  # (K,)
    n_pairs: np.ndarray  # (K,)
    share_long_or_impossible: np.ndarray  # (K,)


def score_candidates(
    area,
    corridors: gpd.GeoDataFrame,
    crossings: gpd.GeoDataFrame,
    candidate_ids: np.ndarray,
    candidate_xy: np.ndarray,
    *,
    spacing_m: float = 100.0,
    max_pairs: int = MAX_PAIRS,
) -> CandidateScores:
    """Score K candidate crossings (``candidate_ids`` their corridor, ``candidate_xy`` (K, 2)
    points on it, EPSG:2154), each added alone to ``crossings`` (see `CandidateScorer`)."""
    scorer = CandidateScorer(area, corridors, crossings, spacing_m=spacing_m, max_pairs=max_pairs)
    return scorer.scores(candidate_ids, candidate_xy)


class CandidateScorer:
    """The trips of ``area`` sampled once and scored on ``crossings`` (as for
    `detour_factors`), to score many candidate crossings, each added alone.

    `scores` handles all candidates at once: every row (trip, cut) of a candidate's
    corridor is scored against all that corridor's candidates as a (rows, K) array, the
    other rows keep their factor, so each result equals one `what_if_crossing` at that
    point. `after` gives one candidate's full figures.
    """

    def __init__(
        self,
        area,
        corridors: gpd.GeoDataFrame,
        crossings: gpd.GeoDataFrame,
        *,
        spacing_m: float = 100.0,
        max_pairs: int = MAX_PAIRS,
    ):
        self._trips = _sample_trips(area, corridors, spacing_m, max_pairs)
        self._table = _crossing_table(crossings, corridors)
        self._row_factor, self._parts = _row_factors(self._trips, self._table)
        self.before = _summary(self._trips, self._row_factor)

    def scores(self, candidate_ids: np.ndarray, candidate_xy: np.ndarray) -> CandidateScores:
        """Median, share over 1.5 and trips counted with each candidate added alone."""
        trips = self._trips
        ids = np.asarray(candidate_ids, dtype=np.int64)
        xy = np.asarray(candidate_xy, dtype=float).reshape(-1, 2)
        k = ids.size
        median, share, long = np.full(k, np.nan), np.full(k, np.nan), np.full(k, np.nan)
        n_pairs = np.zeros(k, dtype=np.int64)
        n = trips.corridor_ids.size
        for pos, corridor_id in enumerate(trips.corridor_ids):  # a few corridors, not trips
            mine = np.flatnonzero(ids == corridor_id)
            if mine.size == 0:
                continue
            after = _after(trips, self._row_factor, self._parts, pos, n, xy[mine])
            finite = np.isfinite(after)
            counts = finite.sum(axis=0)
            n_pairs[mine] = counts
            with np.errstate(invalid="ignore", divide="ignore"):
                share[mine] = (finite & (after > 1.5)).sum(axis=0) / counts
            long[mine] = (after > 1.5).mean(axis=0) if len(after) else np.nan
            median[mine] = _column_medians(after, finite)
        return CandidateScores(self.before, ids, median, share, n_pairs, long)

    def after(self, corridor_id: int, xy) -> DetourStats:
        """The full figures with one crossing of ``corridor_id`` added at ``xy`` (metres)."""
        ids, points = self._table
        table = (np.append(ids, int(corridor_id)), np.vstack([points, np.reshape(xy, (1, 2))]))
        return _stats(self._trips, table)


def _after(trips: _Trips, row_factor, parts, pos: int, n: int, xy: np.ndarray) -> np.ndarray:
    """(P, K) trip factors with each of the K points of corridor ``pos`` added alone."""
    both, out, into = parts
    rows = np.flatnonzero(trips.row_cut % n == pos)
    others = np.full(len(trips.origins), 1.0)
    rest = np.setdiff1d(np.arange(trips.row_trip.size), rows)
    np.maximum.at(others, trips.row_trip[rest], row_factor[rest])
    after = np.repeat(others[:, None], len(xy), axis=1)
    if rows.size == 0:
        return after
    k = len(xy)
    cut = np.concatenate([np.full(k, pos), np.full(k, pos + n)])
    hit, piece = _bordering(trips, cut, np.vstack([xy, xy]))
    serves = np.zeros((trips.pieces.size, 2, k), dtype=bool)
    serves[piece, hit // k, hit % k] = True
    rows = rows[np.argsort(trips.row_trip[rows], kind="stable")]
    t = trips.row_trip[rows]
    a, b = trips.row_from[rows], trips.row_to[rows]
    half = (trips.row_cut[rows] >= n).astype(np.int64)
    o, d = trips.origins[t], trips.destinations[t]
    straight = np.hypot(d[:, 0] - o[:, 0], d[:, 1] - o[:, 1])[:, None]
    adjacent = trips.adjacent[a, b][:, None]
    starts = np.flatnonzero(np.r_[True, t[1:] != t[:-1]])
    step = max(1, _CHUNK_CELLS // rows.size)
    for first in range(0, k, step):  # chunks of candidates bound memory (rows x step cells)
        cols = slice(first, first + step)
        via = _via(o, d, xy[None, cols, :])
        in_a, in_b = serves[a, half, cols], serves[b, half, cols]
        length = _joined(
            adjacent,
            np.minimum(both[rows, None], np.where(in_a & in_b, via, np.inf)),
            np.minimum(out[rows, None], np.where(in_a, via, np.inf)),
            np.minimum(into[rows, None], np.where(in_b, via, np.inf)),
        )
        factor = np.maximum.reduceat(np.maximum(length / straight, 1.0), starts, axis=0)
        after[t[starts], cols] = np.maximum(after[t[starts], cols], factor)
    return after


def _column_medians(values: np.ndarray, finite: np.ndarray) -> np.ndarray:
    """Median of the finite values of each column (NaN for a column with none)."""
    with np.errstate(all="ignore"):
        masked = np.where(finite, values, np.nan)
        out = np.full(values.shape[1], np.nan)
        some = finite.any(axis=0)
        out[some] = np.nanmedian(masked[:, some], axis=0)
    return out


def crossing_trips(
    area, corridors: gpd.GeoDataFrame, *, spacing_m: float = 100.0, max_pairs: int = MAX_PAIRS
) -> tuple[np.ndarray, np.ndarray]:
    """Origins and destinations (P, 2), metres, of the sampled trips that must cross a
    corridor, in the order of `DetourStats.factors`: the same trips can then be measured
    with another model (the street network, `geoapp.analysis.network`)."""
    trips = _sample_trips(area, corridors, spacing_m, max_pairs)
    return trips.origins, trips.destinations
