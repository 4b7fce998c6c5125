"""Where one more crossing would help most: candidate sites along every corridor, scored.

Candidates are laid every `CANDIDATE_STEP_M` metres along each corridor centreline inside
the study area, skipping those closer than `MIN_GAP_M` to an existing crossing (one there
changes little and is not a new place to cross). Each is scored with the detour model as a
what-if would score it (`geoapp.analysis.detour.score_candidates`, all at once), then ranked
by the share of trips lengthened by more than 50 %, ties by the median factor. The best
three are kept, each at least `SITE_SEPARATION_M` from the better ones, so the list names
three places rather than three points of one. EPSG:2154 throughout.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from geoapp.analysis import ANALYSIS_CRS
from geoapp.analysis.detour import CandidateScorer, DetourStats

CANDIDATE_STEP_M = 40.0
MIN_GAP_M = 100.0
SITE_SEPARATION_M = 200.0
N_SITES = 3
_REFINE_STEPS = 11  # the site and 5 points each way within one step, every step / 5


@dataclass(frozen=True)
class BestSites:
    """The best sites (``sites``: ``rang`` 1.., ``corridor_id``, ``names``, Point geometry)
    with each one's exact before/after figures, and how many candidates were scored."""

    sites: gpd.GeoDataFrame
    before: DetourStats
    after: list[DetourStats]
    n_candidates: int


def candidate_sites(
    study_area: BaseGeometry,
    corridors: gpd.GeoDataFrame,
    existing: gpd.GeoDataFrame,
    *,
    step_m: float = CANDIDATE_STEP_M,
    min_gap_m: float = MIN_GAP_M,
) -> tuple[np.ndarray, np.ndarray]:
    """Corridor ids (K,) and points (K,) every ``step_m`` metres along each corridor inside
    ``study_area``, none within ``min_gap_m`` metres of an ``existing`` crossing point."""
    inside = shapely.intersection(corridors.geometry.values, study_area)
    parts, owner = shapely.get_parts(inside, return_index=True)
    lineal = shapely.get_type_id(parts) == 1
    parts, owner = parts[lineal], owner[lineal]
    counts = np.floor(shapely.length(parts) / step_m).astype(np.int64) + 1
    part = np.repeat(np.arange(parts.size), counts)
    offset = (np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)) * step_m
    points = shapely.line_interpolate_point(parts[part], offset)
    ids = corridors["corridor_id"].to_numpy()[owner[part]]
    if not existing.empty:
        far = ~shapely.dwithin(points, shapely.union_all(existing.geometry.values), min_gap_m)
        points, ids = points[far], ids[far]
    return ids.astype(np.int64), points


def best_sites(
    study_area: BaseGeometry,
    corridors: gpd.GeoDataFrame,
    existing: gpd.GeoDataFrame,
    *,
    spacing_m: float = 100.0,
    step_m: float = CANDIDATE_STEP_M,
    min_gap_m: float = MIN_GAP_M,
    separation_m: float = SITE_SEPARATION_M,
    n_sites: int = N_SITES,
) -> BestSites:
    """The ``n_sites`` best places for one more crossing of ``corridors`` in ``study_area``.

    ``existing``: the crossings in place (points with ``kind``, ``status``), as for
    `detour_factors`; ``spacing_m``: its trip grid. Sites that change nothing (no trip
    gains) are not proposed, so there may be fewer than ``n_sites``.
    """
    ids, points = candidate_sites(
        study_area, corridors, existing, step_m=step_m, min_gap_m=min_gap_m
    )
    scorer = CandidateScorer(study_area, corridors, existing, spacing_m=spacing_m)
    scores = scorer.scores(ids, shapely.get_coordinates(points))
    ranked = _ranked(scores, points, separation_m, n_sites)
    site_ids, sites = _refined(
        scorer, study_area, corridors, existing, ids[ranked], points[ranked], step_m, min_gap_m
    )
    after = [
        scorer.after(i, xy) for i, xy in zip(site_ids, shapely.get_coordinates(sites), strict=True)
    ]
    order = sorted(range(len(after)), key=lambda i: (_long_share(after[i]), after[i].median))
    site_ids, sites, after = site_ids[order], sites[order], [after[i] for i in order]
    names = corridors.set_index("corridor_id")["names"]
    frame = gpd.GeoDataFrame(
        {
            "rang": np.arange(1, len(order) + 1),
            "corridor_id": site_ids,
            "names": names.reindex(site_ids).to_numpy(),
        },
        geometry=list(sites),
        crs=ANALYSIS_CRS,
    )
    return BestSites(frame, scores.before, after, int(ids.size))


def _refined(
    scorer: CandidateScorer, study_area, corridors, existing, ids, points, step_m, min_gap_m
) -> tuple[np.ndarray, np.ndarray]:
    """Each site moved to the best of the points every ``step_m / 5`` metres within one
    step of it along its corridor (scored at once), so the best site does not miss a
    better spot between two candidates."""
    if ids.size == 0:
        return ids, points
    lines = corridors.set_index("corridor_id").geometry.reindex(ids).to_numpy()
    at = shapely.line_locate_point(lines, points)
    shifts = np.linspace(-step_m, step_m, _REFINE_STEPS)
    near = shapely.line_interpolate_point(
        np.repeat(lines, shifts.size), (at[:, None] + shifts).ravel()
    )
    near_ids = np.repeat(ids, shifts.size)
    ok = shapely.within(near, study_area)
    if not existing.empty:
        ok &= ~shapely.dwithin(near, shapely.union_all(existing.geometry.values), min_gap_m)
    ok = ok.reshape(ids.size, shifts.size)
    ok[:, shifts.size // 2] = True  # the site itself stays a choice
    scores = scorer.scores(near_ids, shapely.get_coordinates(near))
    key = np.where(ok.ravel(), scores.share_long_or_impossible + 1e-9 * scores.median, np.inf)
    best = np.argmin(key.reshape(ids.size, shifts.size), axis=1) + np.arange(ids.size) * shifts.size
    return ids, near[best]


def _long_share(stats: DetourStats) -> float:
    """Share of the trips that must cross lengthened by more than 50 % or with no crossing
    at all (equal to ``share_over_1_5`` when every corridor has a crossing)."""
    total = stats.n_pairs + stats.n_pairs_no_crossing
    if total == 0:
        return float("nan")
    long = stats.share_over_1_5 * stats.n_pairs if stats.n_pairs else 0.0
    return (long + stats.n_pairs_no_crossing) / total


def _ranked(scores, points: np.ndarray, separation_m: float, n_sites: int) -> list[int]:
    """Candidates by share of trips lengthened over 1.5 or impossible, then median (both
    ascending), keeping those that improve on the current state, each ``separation_m``
    from the ones already taken."""
    before = scores.before
    table = pd.DataFrame(
        {
            "share": scores.share_over_1_5,
            "long": scores.share_long_or_impossible,
            "median": scores.median,
            "n": scores.n_pairs,
        }
    )
    gains = (table["share"] < before.share_over_1_5 - 1e-12) | (
        table["median"] < before.median - 1e-12
    )
    gains |= table["n"] > before.n_pairs  # a corridor's first crossing brings trips in
    order = table[gains].sort_values(["long", "median"], kind="stable").index.to_numpy()
    taken: list[int] = []
    for i in order:  # stops after n_sites: at most a few dozen distance checks
        if all(points[i].distance(points[j]) >= separation_m for j in taken):
            taken.append(int(i))
        if len(taken) == n_sites:
            break
    return taken


def site_point(sites: BestSites, rank: int) -> Point:
    """The point of the site ranked ``rank`` (1 = best)."""
    return sites.sites.geometry.iloc[rank - 1]
