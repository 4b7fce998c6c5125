"""Urban cuts on the real layers: what the tracks do around the four districts.

The figures themselves (areas, lengths, sides, exposure, detours) are pinned by
``test_golden_figures.py``; these tests check the shape of the results.
"""

import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geoapp.analysis import ANALYSIS_CRS
from geoapp.analysis.cuts import corridor_exposure, cut_corridors, split_sides, station_crossings
from geoapp.analysis.detour import detour_factors, what_if_crossing
from geoapp.config import PROJECT_ROOT


def geo_dir() -> Path:
    """The app's own copy of the layers."""
    return PROJECT_ROOT / "data" / "geo"


@pytest.fixture(scope="module")
def layers():
    folder = geo_dir()
    return {
        key: gpd.read_file(folder / name).to_crs(ANALYSIS_CRS)
        for key, name in (
            ("communes", "communes_mgp.geojson"),
            ("rail", "rail_lignes_idfm.geojson"),
            ("stations", "gares_idfm.geojson"),
        )
    }


def commune(layers, code):
    return layers["communes"].geometry[layers["communes"]["code_insee"] == code].union_all()


def near_stations(layers, code, names, radius_m):
    stations = layers["stations"]
    discs = stations.geometry[stations["nom"].isin(names)].buffer(radius_m).union_all()
    return commune(layers, code).intersection(discs)


@pytest.fixture(scope="module")
def areas(layers):
    return {
        "sceaux": commune(layers, "92071"),
        "aulnay": near_stations(layers, "93005", ["Aulnay-sous-Bois"], 800),
        "noisy": near_stations(layers, "93051", ["Noisy-le-Grand-Mont d'Est"], 700),
        "meudon": near_stations(layers, "92048", ["Meudon-la-Forêt", "Georges Millandy"], 800),
    }


def test_sceaux_is_cut_by_rer_b_into_at_least_two_sides(layers, areas):
    corridors = cut_corridors(layers["rail"], areas["sceaux"])
    assert "RER B" in corridors["names"].iloc[0].split(", ")
    sides = split_sides(areas["sceaux"], corridors)
    assert (sides["area_ha"] > 1.0).sum() >= 2


def test_aulnay_corridor_holds_rer_b(layers, areas):
    corridors = cut_corridors(layers["rail"], areas["aulnay"])
    names = {name for names in corridors["names"] for name in names.split(", ")}
    assert {"RER B", "TRAIN K"} <= names


@pytest.mark.parametrize("name", ["sceaux", "aulnay", "noisy", "meudon"])
def test_figures_are_finite_and_consistent(layers, areas, name):
    area = areas[name]
    corridors = cut_corridors(layers["rail"], area)
    assert not corridors.empty
    assert np.isfinite(corridors[["length_in_m", "length_near_m"]]).all().all()
    assert (corridors["length_in_m"] <= corridors["length_near_m"] + 1e-6).all()
    sides = split_sides(area, corridors)
    assert 0 < sides["area_ha"].sum() <= area.area / 10_000 + 1e-6
    shares = list(corridor_exposure(area, corridors).values())
    assert all(0.0 <= s <= 1.0 for s in shares) and shares == sorted(shares)
    crossings = station_crossings(layers["stations"], corridors)
    assert not crossings.empty
    stats = detour_factors(area.buffer(500), corridors, crossings)
    assert stats.n_pairs > 0
    assert 1.0 <= stats.median <= stats.p90 < math.inf  # a straight line is the shortest
    assert 0.0 <= stats.share_over_1_5 <= 1.0
    assert all(f >= 1.0 and math.isfinite(f) for f in stats.by_corridor.values())


def test_a_new_crossing_on_the_aulnay_tracks_shortens_detours(layers, areas):
    study = areas["aulnay"].buffer(500)
    corridors = cut_corridors(layers["rail"], areas["aulnay"])
    crossings = station_crossings(layers["stations"], corridors)
    main = corridors.geometry.iloc[0]
    proposed = shapely.get_point(shapely.shortest_line(main, study.centroid), 0)
    result = what_if_crossing(study, corridors, crossings, proposed)
    assert result.offset_m < 1.0
    assert result.after.median <= result.before.median
    assert np.all(result.after.factors <= result.before.factors)
