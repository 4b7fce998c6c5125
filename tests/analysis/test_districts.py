"""District perimeters: hand-made geometry with known answers, then the real rules."""

import json

import geopandas as gpd
import pytest
from pyproj import Geod
from shapely.geometry import LineString, Point, box

from geoapp.analysis import ANALYSIS_CRS, RefusedInputError
from geoapp.analysis.districts import derive_perimeter
from geoapp.config import PROJECT_ROOT
from geoapp.layers import load_layers
from tests.analysis.regenerate_golden import read_golden


def frame(geoms, **cols):
    return gpd.GeoDataFrame(cols, geometry=list(geoms), crs=ANALYSIS_CRS)


def toy_layers():
    communes = frame([box(0, 0, 1000, 1000), box(1000, 0, 2000, 1000)], code_insee=["1", "2"])
    rail = frame([LineString([(-10, 500), (2010, 500)])], ligne=["RER X"])
    stations = frame([Point(500, 500)], nom=["Gare"], ligne=["RER X"])
    return communes, rail, stations


def test_rule_north_of_line_within_radius():
    rule = {
        "commune": "1",
        "gares": ["Gare"],
        "lignes_gares": ["RER X"],
        "rayon_m": 300,
        "decoupe_par": ["RER X"],
        "garder": "nord",
    }
    perimeter = derive_perimeter(rule, *toy_layers())
    # half a disc of radius 300 m, north of the line
    assert perimeter.area == pytest.approx(3.14159 * 300**2 / 2, rel=0.01)
    assert perimeter.bounds[1] == pytest.approx(500.0)


def test_rule_side_touching_a_neighbour():
    communes, rail, stations = toy_layers()
    communes = frame([box(0, 0, 1000, 1000), box(0, -500, 1000, 0)], code_insee=["1", "3"])
    rule = {"commune": "1", "decoupe_par": ["RER X"], "garder": {"touchant": ["3"]}}
    perimeter = derive_perimeter(rule, communes, rail, stations)
    assert perimeter.area / 10_000 == pytest.approx(50.0)
    assert perimeter.bounds[3] == pytest.approx(500.0)


def test_wrong_crs_is_a_caller_mistake_not_a_refused_rule():
    communes, rail, stations = toy_layers()
    with pytest.raises(ValueError, match="^communes : le CRS") as caught:
        derive_perimeter(
            {"commune": "1"}, communes.set_crs(4326, allow_override=True), rail, stations
        )
    assert not isinstance(caught.value, RefusedInputError)


DISC = {"commune": "1", "gares": ["Gare"], "lignes_gares": ["RER X"], "rayon_m": 300}
SPLIT = {"commune": "1", "decoupe_par": ["RER X"], "garder": "nord"}
NOT_A_DISTANCE = "« rayon_m » : une distance positive en mètres est attendue"


@pytest.mark.parametrize(
    "rule, message",
    [
        ("au nord des voies", "la règle doit être un objet JSON."),
        ({}, "« commune » : le code INSEE de la commune (texte) est attendu."),
        ({"commune": 1}, "« commune » : le code INSEE de la commune (texte) est attendu."),
        ({"commune": "9"}, "« commune » : aucune commune de code INSEE « 9 »."),
        (
            {**DISC, "gares": ["Nulle part", "Gare"]},
            "« gares » : gare(s) introuvable(s) sur RER X : « Nulle part ».",
        ),
        (
            {**DISC, "lignes_gares": ["RER Y"]},
            "« gares » : gare(s) introuvable(s) sur RER Y : « Gare ».",
        ),
        ({**DISC, "gares": "Gare"}, "« gares » : une liste non vide de textes est attendue."),
        (
            {**DISC, "lignes_gares": []},
            "« lignes_gares » : une liste non vide de textes est attendue.",
        ),
        (
            {"commune": "1", "gares": ["Gare"]},
            "« gares » demande aussi « lignes_gares » et « rayon_m ».",
        ),
        ({**DISC, "rayon_m": "300"}, f"{NOT_A_DISTANCE}, reçu '300'."),
        ({**DISC, "rayon_m": -300}, f"{NOT_A_DISTANCE}, reçu -300."),
        ({**DISC, "rayon_m": float("nan")}, f"{NOT_A_DISTANCE}, reçu nan."),
        ({**DISC, "rayon_m": True}, f"{NOT_A_DISTANCE}, reçu True."),
        ({**DISC, "rayon_m": 10}, "la règle ne laisse aucune surface d’au moins 1 ha."),
        (
            {**SPLIT, "decoupe_par": ["RER Z"]},
            "« decoupe_par » : aucune voie ferrée nommée « RER Z ».",
        ),
        (
            {**SPLIT, "decoupe_par": "RER X"},
            "« decoupe_par » : une liste non vide de textes est attendue.",
        ),
        ({"commune": "1", "decoupe_par": ["RER X"]}, "« decoupe_par » demande aussi « garder »."),
        (
            {**SPLIT, "garder": "sud"},
            '« garder » : "nord" ou {"touchant": [codes INSEE]} est attendu.',
        ),
        (
            {**SPLIT, "garder": {"touchant": "2"}},
            '« garder » : "nord" ou {"touchant": [codes INSEE]}',
        ),
        (
            {**SPLIT, "garder": {"touchant": ["7"]}},
            "« garder » : aucune commune de code INSEE « 7 ».",
        ),
        ({"commune": "1", "garder": "nord"}, "« garder » n’a de sens qu’avec « decoupe_par »."),
    ],
)
def test_a_bad_rule_is_refused_in_french_naming_its_key(rule, message):
    with pytest.raises(RefusedInputError) as caught:
        derive_perimeter(rule, *toy_layers())
    assert str(caught.value).startswith(message)


@pytest.fixture(scope="module")
def real():
    layers = load_layers(PROJECT_ROOT / "data" / "geo")
    text = (PROJECT_ROOT / "data" / "quartiers.json").read_text(encoding="utf-8")
    facts = json.loads(text)["quartiers"]
    return layers, {q["slug"]: q for q in facts}


@pytest.mark.parametrize(
    "slug", ["aulnay-centre-gare", "meudon-la-foret", "noisy-mont-d-est", "sceaux-les-blagis"]
)
def test_real_perimeters_match_golden_and_geodesic_area(real, slug):
    """The rule gives the golden area (± 0.1 ha, see test_golden_figures.py)."""
    layers, facts = real
    perimeter = derive_perimeter(
        facts[slug]["perimetre"], layers["communes"], layers["rail"], layers["stations"]
    )
    planar_ha = perimeter.area / 10_000
    assert planar_ha == pytest.approx(read_golden()[slug]["area_ha"], abs=0.1)
    lonlat = gpd.GeoSeries([perimeter], crs=ANALYSIS_CRS).to_crs(4326).iloc[0]
    geodesic_ha = abs(Geod(ellps="GRS80").geometry_area_perimeter(lonlat)[0]) / 10_000
    assert planar_ha == pytest.approx(geodesic_ha, rel=0.005)


def test_blagis_is_the_side_beyond_the_rer_b(real):
    layers, facts = real
    perimeter = derive_perimeter(
        facts["sceaux-les-blagis"]["perimetre"],
        layers["communes"],
        layers["rail"],
        layers["stations"],
    )
    sceaux = layers["communes"].set_index("code_insee").geometry["92071"]
    assert perimeter.area < sceaux.area / 2
    for neighbour in ("92032", "92007", "92014"):
        assert (
            perimeter.distance(layers["communes"].set_index("code_insee").geometry[neighbour]) < 5
        )
