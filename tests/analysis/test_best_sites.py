"""Best places for a new crossing: hand-made geometry with a known answer, the vectorised
scores against one what-if each, and the top site against a planner's what-if tries."""

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, Point, box

from geoapp.analysis import ANALYSIS_CRS
from geoapp.analysis.best_sites import MIN_GAP_M, best_sites, candidate_sites
from geoapp.analysis.cut_report import report_best_sites
from geoapp.analysis.cuts import cut_corridors
from geoapp.analysis.detour import score_candidates, what_if_crossing

SQUARE = box(0, 0, 1000, 1000)


def rail(*coords_by_line):
    return gpd.GeoDataFrame(
        {"ligne": [f"L{i}" for i in range(len(coords_by_line))], "mode": "RER"},
        geometry=[LineString(c) for c in coords_by_line],
        crs=ANALYSIS_CRS,
    )


def existing(*points):
    return gpd.GeoDataFrame(
        {"kind": ["passerelle"] * len(points), "status": ["existant"] * len(points)},
        geometry=[Point(p) for p in points],
        crs=ANALYSIS_CRS,
    )


@pytest.fixture(scope="module")
def straight():
    """A corridor splitting the square in two, crossed only near both ends."""
    corridors = cut_corridors(rail([(500, -200), (500, 1200)]), SQUARE, study_buffer_m=0)
    return corridors, existing((500, 50), (500, 950))


def test_the_best_site_of_a_symmetric_corridor_is_its_middle(straight):
    corridors, crossings = straight
    found = best_sites(SQUARE, corridors, crossings, spacing_m=50, step_m=25)
    first, second, third = found.sites.geometry
    assert first.x == pytest.approx(500) and abs(first.y - 500) <= 10  # the middle
    assert second.y + third.y == pytest.approx(1000, abs=10)  # then the two halves' middles
    assert found.sites["rang"].tolist() == [1, 2, 3]
    shares = [a.share_over_1_5 for a in found.after]
    assert shares == sorted(shares) and shares[0] < found.before.share_over_1_5
    assert found.after[1].share_over_1_5 == pytest.approx(found.after[2].share_over_1_5, abs=2e-3)


def test_no_candidate_lies_near_an_existing_crossing(straight):
    corridors, crossings = straight
    ids, points = candidate_sites(SQUARE, corridors, crossings, step_m=25)
    gaps = shapely.distance(points[:, None], np.asarray(crossings.geometry)[None, :])
    assert gaps.min() >= MIN_GAP_M and set(ids) == {1}
    ys = np.sort(shapely.get_y(points))
    assert set(np.diff(ys).round(6)) == {25.0}  # every 25 m between the two gaps
    assert ys[0] == pytest.approx(175) and ys[-1] == pytest.approx(825)  # 100 m: too close


def test_vectorised_scores_equal_one_what_if_each():
    """A main line with a branch ending inside the area (a dead end to go round) and a
    second, crossed corridor: every score equals a what-if at that point."""
    lines = rail([(-100, 300), (1100, 300)], [(600, 300), (600, 800)], [(-100, 900), (1100, 900)])
    corridors = cut_corridors(lines, SQUARE, study_buffer_m=0, merge_distance_m=5)
    crossings = existing((100, 300), (900, 900))
    ids, points = candidate_sites(SQUARE, corridors, crossings, step_m=60)
    scores = score_candidates(
        SQUARE, corridors, crossings, ids, shapely.get_coordinates(points), spacing_m=50
    )
    assert len(set(ids)) >= 2
    for i in range(0, len(ids), 3):
        after = what_if_crossing(SQUARE, corridors, crossings, points[i], spacing_m=50).after
        assert scores.share_over_1_5[i] == pytest.approx(after.share_over_1_5, abs=1e-12)
        assert scores.median[i] == pytest.approx(after.median, abs=1e-12)
        assert scores.n_pairs[i] == after.n_pairs


def test_the_top_site_beats_a_planners_what_if_anywhere_on_the_corridor(straight):
    corridors, crossings = straight
    found = best_sites(SQUARE, corridors, crossings, spacing_m=50)
    best = found.after[0]
    ys = np.random.default_rng(7).uniform(0, 1000, 40)
    for y in ys:
        tried = what_if_crossing(SQUARE, corridors, crossings, Point(500, y), spacing_m=50).after
        assert best.share_over_1_5 <= tried.share_over_1_5 + 1e-3  # ± one trip in a thousand


def test_real_district_top_site_against_sampled_what_ifs(atlas):
    from tests.analysis.regenerate_golden import cut_report

    slug = "sceaux-les-blagis"
    report = cut_report(atlas, slug)
    study = atlas.study_area(slug)
    found = report_best_sites(report, study)
    assert len(found.sites) == 3
    assert (found.sites.distance(report.crossings.union_all()) >= MIN_GAP_M - 1e-6).all()
    best = found.after[0]
    assert best.share_over_1_5 < found.before.share_over_1_5
    line = report.corridors.geometry.iloc[0].intersection(study)
    for t in np.linspace(0.05, 0.95, 12):
        point = line.interpolate(t, normalized=True)
        tried = what_if_crossing(study, report.corridors, report.crossings, point).after
        assert best.share_over_1_5 <= tried.share_over_1_5 + 1e-3


def test_a_corridor_with_no_crossing_gets_its_first_in_the_middle():
    corridors = cut_corridors(rail([(500, -200), (500, 1200)]), SQUARE, study_buffer_m=0)
    none = existing((0, 0)).iloc[:0]
    found = best_sites(SQUARE, corridors, none, spacing_m=50, step_m=25)
    assert found.before.n_pairs == 0 and found.before.n_pairs_no_crossing > 0
    first = found.sites.geometry.iloc[0]
    assert abs(first.y - 500) <= 10
    assert found.after[0].n_pairs_no_crossing == 0  # every trip can now cross
    assert found.after[0].n_pairs == found.before.n_pairs_no_crossing
