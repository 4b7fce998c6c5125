"""The cut report of a hand-made district with literal expected answers (EPSG:2154).

The district is a 1 km square (100 ha) crossed through the middle by one straight RER line,
with one station on it; its study area is the square buffered by 500 m. The grid of trip
ends (100 m) is checked against a brute-force straight-line-via-crossing computation.
"""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal
from shapely.geometry import LineString, Point, box

from geoapp.analysis import ANALYSIS_CRS, RefusedInputError
from geoapp.analysis.cut_report import (
    DETOUR_SPACING_M,
    all_crossings,
    build_cut_report,
    detour_dict,
    sides_of,
    what_if,
)
from geoapp.analysis.cuts import cut_corridors

SQUARE = box(0, 0, 1000, 1000)
STUDY = SQUARE.buffer(500)
RAIL = gpd.GeoDataFrame(
    {"ligne": ["RER B"], "mode": ["RER"]},
    geometry=[LineString([(-2000, 500), (3000, 500)])],
    crs=ANALYSIS_CRS,
)
CORRIDORS = cut_corridors(RAIL, SQUARE)
STATIONS = gpd.GeoDataFrame(
    {
        "nom": ["Les Blagis", "Gare lointaine", "Autre ligne"],
        "ligne": ["RER B", "RER B", "RER C"],
        "id_zdc": ["Z1", "Z2", "Z3"],
    },
    geometry=[Point(500, 520), Point(200, 800), Point(700, 500)],
    crs=ANALYSIS_CRS,
)


def stored(*rows):
    """Stored crossings from (id, kind, status, name, (x, y)) tuples, as the store gives them."""
    return gpd.GeoDataFrame(
        {
            "id": [r[0] for r in rows],
            "kind": [r[1] for r in rows],
            "status": [r[2] for r in rows],
            "name": [r[3] for r in rows],
        },
        geometry=[Point(r[4]) for r in rows],
        crs=ANALYSIS_CRS,
    )


NONE = stored()
PROJECTED = stored((7, "passerelle", "projeté", "Passerelle Est", (900, 500)))


def report(crossings=NONE, corridors=CORRIDORS):
    return build_cut_report(SQUARE, STUDY, corridors, STATIONS, crossings)


def grid_oracle(crossings_xy):
    """Detour factors of every pair of 100 m grid nodes across y = 500, brute force."""
    xmin, ymin, xmax, ymax = STUDY.bounds
    x, y = np.meshgrid(np.arange(xmin + 50, xmax, 100), np.arange(ymin + 50, ymax, 100))
    nodes = np.column_stack([x.ravel(), y.ravel()])
    nodes = nodes[shapely.contains_xy(STUDY, nodes[:, 0], nodes[:, 1])]
    south, north = nodes[nodes[:, 1] < 500], nodes[nodes[:, 1] > 500]
    o = np.repeat(south, len(north), axis=0)[:, None, :]
    d = np.tile(north, (len(south), 1))[:, None, :]
    c = np.asarray(crossings_xy, dtype=float)[None, :, :]
    via = np.hypot(*(c - o).transpose(2, 0, 1)) + np.hypot(*(d - c).transpose(2, 0, 1))
    return len(nodes), via.min(axis=1) / np.hypot(*(d - o)[:, 0].T)


# --- sides, exposure, lengths ---------------------------------------------------------


def test_square_cut_through_the_middle():
    r = report()
    assert r.area_ha == pytest.approx(100.0)
    assert r.n_sides == 2
    assert r.n_district_sides == 2
    assert r.sides["area_ha"].tolist() == pytest.approx([50.0, 50.0])
    # The study area is symmetric about the line: two equal halves.
    assert r.study_sides["area_ha"].tolist() == pytest.approx([STUDY.area / 2e4] * 2)
    assert r.study_sides["area_ha"].tolist() == pytest.approx([189.207, 189.207], abs=1e-3)
    assert r.exposure == pytest.approx({100: 0.2, 250: 0.5, 500: 1.0})
    assert r.corridor_km_per_km2 == pytest.approx(1.0)
    assert r.corridors["length_in_m"].tolist() == pytest.approx([1000.0])


def test_sides_of_points():
    r = report()
    points = gpd.GeoDataFrame(
        geometry=[Point(500, 100), Point(500, 900), Point(5000, 0)], crs=ANALYSIS_CRS
    )
    sides = sides_of(points, r)
    assert sides.iloc[0] != sides.iloc[1]
    assert set(sides.iloc[:2]) == {1, 2}
    assert pd.isna(sides.iloc[2])


# --- detours ----------------------------------------------------------------------------


def test_detour_through_the_station_matches_the_brute_force_grid():
    r = report()
    n_nodes, factors = grid_oracle([(500, 500)])
    assert n_nodes == 380
    d = r.detour
    assert (d.n_pairs, d.n_pairs_no_crossing, d.n_pairs_total) == (36_100, 0, 72_010)
    assert d.n_pairs == factors.size and d.n_pairs_total == n_nodes * (n_nodes - 1) // 2
    assert d.median == pytest.approx(np.median(factors))
    assert d.p90 == pytest.approx(np.percentile(factors, 90))
    assert d.share_over_1_5 == pytest.approx(np.mean(factors > 1.5))
    assert detour_dict(d) == {
        "median": 1.095,
        "p90": 1.803,
        "share_over_1_5": 0.178,
        "n_pairs": 36_100,
        "n_pairs_no_crossing": 0,
        "n_pairs_total": 72_010,
        "spacing_m": DETOUR_SPACING_M,
    }
    assert np.isfinite(d.factors).all() and (d.factors >= 1).all()
    assert d.by_corridor.keys() == {1}
    # No projects: both scenarios are the same.
    assert detour_dict(r.detour_with_projects) == detour_dict(d)


def test_projected_crossing_changes_the_detour_with_projects_only():
    before, after = report(), report(PROJECTED)
    assert detour_dict(after.detour) == detour_dict(before.detour)
    np.testing.assert_array_equal(after.detour.factors, before.detour.factors)
    _, factors = grid_oracle([(500, 500), (900, 500)])
    projects = after.detour_with_projects
    assert projects.median == pytest.approx(np.median(factors))
    assert projects.p90 == pytest.approx(np.percentile(factors, 90))
    assert detour_dict(projects)["median"] == 1.033
    assert (projects.factors <= before.detour.factors).all()
    assert projects.median < before.detour.median


def test_existing_stored_crossing_changes_both_figures():
    built = stored((8, "pont", "existant", None, (900, 500)))
    r, projected = report(built), report(PROJECTED)
    assert detour_dict(r.detour) == detour_dict(r.detour_with_projects)
    assert detour_dict(r.detour) == detour_dict(projected.detour_with_projects)


def test_a_crossing_stored_off_the_line_counts_where_it_crosses():
    """A crossing entered 30 m from the track is used at the track, like a station and
    like the what-if: saving what was simulated gives the simulated figures."""
    off = stored((9, "passerelle", "projeté", "Un peu à côté", (900, 530)))
    r = report(off)
    assert r.crossings.geometry.iloc[-1].equals_exact(Point(900, 500), 1e-6)
    simulated = what_if(report(), STUDY, Point(900, 530))
    np.testing.assert_allclose(r.detour_with_projects.factors, simulated.after.factors)
    assert detour_dict(r.detour_with_projects) == detour_dict(simulated.after)


def test_no_corridor_gives_one_side_and_no_detour():
    r = build_cut_report(SQUARE, STUDY, CORRIDORS.iloc[:0], STATIONS, PROJECTED)
    assert (r.n_sides, r.n_district_sides) == (1, 1)
    assert r.exposure == {100: 0.0, 250: 0.0, 500: 0.0}
    assert r.corridor_km_per_km2 == 0.0
    assert detour_dict(r.detour) == {
        "median": None,
        "p90": None,
        "share_over_1_5": None,
        "n_pairs": 0,
        "n_pairs_no_crossing": 0,
        "n_pairs_total": 72_010,
        "spacing_m": 100.0,
    }
    assert r.crossings.columns.tolist() == [
        "corridor_id",
        "name",
        "kind",
        "status",
        "source",
        "id",
        "geometry",
    ]
    assert r.crossings["corridor_id"].isna().all()


# --- crossings ------------------------------------------------------------------------


def test_all_crossings_merges_stations_and_stored_crossings():
    crossings = all_crossings(STATIONS, CORRIDORS, PROJECTED)
    assert crossings.crs == ANALYSIS_CRS
    assert crossings.columns.tolist() == [
        "corridor_id",
        "name",
        "kind",
        "status",
        "source",
        "id",
        "geometry",
    ]
    rows = crossings.drop(columns="geometry").astype(object).where(crossings.notna(), None)
    assert rows.values.tolist() == [
        [1, "Les Blagis", "gare", "existant", "IDFM gares", None],
        [1, "Passerelle Est", "passerelle", "projeté", "saisie", 7],
    ]
    # The station is snapped onto the line; the far station and the other line's are not
    # crossings of this corridor.
    assert crossings.geometry.iloc[0].equals_exact(Point(500, 500), 1e-6)
    assert crossings.geometry.iloc[1].equals_exact(Point(900, 500), 1e-6)


def test_all_crossings_without_stored_ones_or_stations():
    only_stations = all_crossings(STATIONS, CORRIDORS, NONE)
    assert only_stations["source"].tolist() == ["IDFM gares"]
    only_stored = all_crossings(STATIONS.iloc[:0], CORRIDORS, PROJECTED)
    assert only_stored["source"].tolist() == ["saisie"]
    assert only_stored["corridor_id"].tolist() == [1]
    nothing = all_crossings(STATIONS.iloc[:0], CORRIDORS, NONE)
    assert nothing.empty
    assert nothing.columns.tolist() == [
        "corridor_id",
        "name",
        "kind",
        "status",
        "source",
        "id",
        "geometry",
    ]


# --- what if ------------------------------------------------------------------------------


def test_what_if_compares_the_same_trips_before_and_after():
    r = report()
    result = what_if(r, STUDY, Point(900, 510))
    assert detour_dict(result.before) == detour_dict(r.detour)
    assert result.corridor_id == 1
    assert result.offset_m == pytest.approx(10.0)
    assert result.snapped.equals_exact(Point(900, 500), 1e-6)
    assert (result.after.factors <= result.before.factors).all()
    assert detour_dict(result.after) == detour_dict(report(PROJECTED).detour_with_projects)


def test_what_if_ignores_projects_and_refuses_a_point_far_from_the_line():
    r = report(PROJECTED)
    assert detour_dict(what_if(r, STUDY, Point(100, 500)).before) == detour_dict(r.detour)
    with pytest.raises(RefusedInputError, match="à 120 m de la coupure"):
        what_if(r, STUDY, Point(500, 620))


# --- inputs ---------------------------------------------------------------------------


def test_inputs_are_left_unchanged():
    frames = [CORRIDORS, STATIONS, PROJECTED]
    copies = [f.copy() for f in frames]
    r = report(PROJECTED)
    what_if(r, STUDY, Point(300, 505))
    for frame, copy in zip(frames, copies, strict=True):
        assert_geodataframe_equal(frame, copy)


def test_bad_stored_crossings_are_refused():
    with pytest.raises(ValueError, match="stored_crossings"):
        report(PROJECTED.drop(columns="status"))
    with pytest.raises(ValueError, match="stored_crossings"):
        report(PROJECTED.to_crs("EPSG:4326"))
    with pytest.raises(ValueError, match="status"):
        report(PROJECTED.assign(status="rêvé"))
