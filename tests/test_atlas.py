"""The atlas: start-up checks on the district facts file, official perimeters."""

import json
import shutil

import pytest
from shapely.geometry import box, mapping

from geoapp import create_app
from geoapp.atlas import build_atlas, load_facts
from geoapp.config import PROJECT_ROOT
from geoapp.layers import LayerError

BLAGIS = "sceaux-les-blagis"


def test_deeply_nested_facts_file_is_refused_by_name(tmp_path):
    path = tmp_path / "quartiers.json"
    path.write_text('{"quartiers": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(LayerError, match="quartiers.json : .*imbriqué"):
        load_facts(path)


@pytest.fixture(scope="module")
def official(tmp_path_factory, atlas):
    """A copy of data/ where Sceaux has published Les Blagis: a 600 m x 500 m rectangle
    (30 ha) around the indicative perimeter's centre, in Lambert-93."""
    data = tmp_path_factory.mktemp("official") / "data"
    shutil.copytree(PROJECT_ROOT / "data", data)
    centre = atlas.district(BLAGIS).geometry.representative_point()
    rectangle = box(centre.x - 300, centre.y - 250, centre.x + 300, centre.y + 250)
    (data / "geo" / f"perimetre_{BLAGIS}.geojson").write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::2154"}},
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"nom": "Les Blagis (officiel)"},
                        "geometry": mapping(rectangle),
                    }
                ],
            }
        )
    )
    return data


def test_official_perimeter_replaces_the_rule(official, atlas):
    changed = build_atlas(official)
    blagis = changed.district(BLAGIS)
    assert blagis["perimetre_source"] == "officiel"
    assert blagis["area_ha"] == pytest.approx(30.0, abs=1e-6)
    assert atlas.district(BLAGIS)["perimetre_source"] == "indicatif"
    assert atlas.district(BLAGIS)["area_ha"] != pytest.approx(30.0, abs=1)
    for slug in atlas.slugs:  # the other districts keep their rule
        if slug != BLAGIS:
            assert changed.district(slug)["perimetre_source"] == "indicatif"
            assert changed.district(slug)["area_ha"] == atlas.district(slug)["area_ha"]
    assert changed.corridors[BLAGIS]["length_in_m"].sum() != pytest.approx(
        atlas.corridors[BLAGIS]["length_in_m"].sum(), abs=1
    )  # measured on the new shape


def client_on(data, tmp_path):
    """A test client of the app started on the data folder ``data``."""
    app = create_app(
        {
            "TESTING": True,
            "DATA_DIR": str(data),
            "SECRET_KEY": "test",
            "DATABASE": str(tmp_path / "db.sqlite3"),
            "EXPORT_CACHE_DIR": str(tmp_path / "exports"),
        }
    )
    return app.test_client()


def test_official_perimeter_reaches_the_pages(official, tmp_path):
    client = client_on(official, tmp_path)
    features = client.get("/api/quartiers.geojson").get_json()["features"]
    props = {f["properties"]["slug"]: f["properties"] for f in features}
    assert props[BLAGIS]["perimetre_source"] == "officiel"
    assert props[BLAGIS]["area_ha"] == 30.0
    html = client.get(f"/quartiers/{BLAGIS}").get_data(as_text=True)
    assert "Périmètre officiel" in html


def data_with_rule(tmp_path, slug: str, change):
    """A copy of data/ where ``change(perimetre)`` replaced one district's rule."""
    data = tmp_path / "data"
    shutil.copytree(PROJECT_ROOT / "data", data)
    path = data / "quartiers.json"
    facts = json.loads(path.read_text(encoding="utf-8"))
    entry = next(q for q in facts["quartiers"] if q["slug"] == slug)
    entry["perimetre"] = change(entry["perimetre"])
    path.write_text(json.dumps(facts, ensure_ascii=False), encoding="utf-8")
    return data


@pytest.mark.parametrize(
    "slug, change, reason",
    [
        (
            "meudon-la-foret",
            lambda r: {**r, "gares": ["Meudon-la-Forêt", "Gare fantôme"]},
            "« gares » : gare(s) introuvable(s) sur TRAM 6 : « Gare fantôme ».",
        ),
        (
            "noisy-mont-d-est",
            lambda r: {**r, "commune": "93999"},
            "« commune » : aucune commune de code INSEE « 93999 ».",
        ),
        (
            "aulnay-centre-gare",
            lambda r: {**r, "decoupe_par": ["RER Z"]},
            "« decoupe_par » : aucune voie ferrée nommée « RER Z ».",
        ),
        (
            "aulnay-centre-gare",
            lambda r: {**r, "garder": "sud"},
            '« garder » : "nord" ou {"touchant": [codes INSEE]} est attendu.',
        ),
        (
            BLAGIS,
            lambda r: {**r, "garder": {"touchant": ["92999"]}},
            "« garder » : aucune commune de code INSEE « 92999 ».",
        ),
        (
            "meudon-la-foret",
            lambda r: {**r, "rayon_m": "800 m"},
            "« rayon_m » : une distance positive en mètres est attendue, reçu '800 m'.",
        ),
        (
            "meudon-la-foret",
            lambda r: {**r, "rayon_m": 20},
            "la règle ne laisse aucune surface d’au moins 1 ha.",
        ),
    ],
    ids=["gare", "commune", "voie", "garder", "touchant", "rayon", "vide"],
)
def test_a_bad_perimeter_rule_stops_start_up_naming_file_and_district(
    tmp_path, slug, change, reason
):
    data = data_with_rule(tmp_path, slug, change)
    with pytest.raises(LayerError) as caught:
        build_atlas(data)
    assert caught.value.message == f"quartiers.json : quartier « {slug} », périmètre : {reason}"
    assert caught.value.status == 500


@pytest.mark.parametrize(
    "change",
    [
        lambda r: "au nord des voies",
        lambda r: {k: v for k, v in r.items() if k != "regle"},
        lambda r: {**r, "regle": ["pas", "une", "phrase"]},
    ],
    ids=["texte", "sans-regle", "regle-liste"],
)
def test_a_perimeter_without_its_sentence_is_refused(tmp_path, change):
    data = data_with_rule(tmp_path, "meudon-la-foret", change)
    with pytest.raises(LayerError) as caught:
        build_atlas(data)
    assert caught.value.message == (
        "quartiers.json : quartier « meudon-la-foret », périmètre : un objet JSON avec sa "
        "« regle » (la phrase affichée) est attendu."
    )


def test_a_planners_road_layer_is_measured_and_credited_with_no_code_change(tmp_path, atlas):
    """A GeoPackage of lines with a name dropped in geo/ and declared in coupures.json: the
    road crossing Les Blagis from west to east becomes a corridor, the page shows it, and
    /sources credits its producer."""
    import geopandas as gpd
    from shapely.geometry import LineString

    data = tmp_path / "data"
    shutil.copytree(PROJECT_ROOT / "data", data)
    xmin, ymin, xmax, ymax = atlas.district(BLAGIS).geometry.bounds
    y = (ymin + ymax) / 2
    road = LineString([(xmin - 800, y), (xmax + 800, y)])
    gpd.GeoDataFrame({"libelle": ["Avenue d’essai"]}, geometry=[road], crs="EPSG:2154").to_file(
        data / "geo" / "route_essai.gpkg", driver="GPKG"
    )
    config = json.loads((data / "coupures.json").read_text(encoding="utf-8"))
    config["couches"].append(
        {
            "fichier": "route_essai.gpkg",
            "titre": "Route d’essai",
            "producteur": "Ville de Sceaux (essai)",
            "licence": "Licence Ouverte",
            "champ_nom": "libelle",
        }
    )
    (data / "coupures.json").write_text(json.dumps(config, ensure_ascii=False), encoding="utf-8")
    corridors = build_atlas(data).corridors[BLAGIS]
    essai = corridors[corridors["names"].str.split(", ").map(lambda n: "Avenue d’essai" in n)]
    assert len(essai) == 1 and essai["length_in_m"].iloc[0] > 0
    client = client_on(data, tmp_path)
    page = client.get(f"/quartiers/{BLAGIS}").get_data(as_text=True)
    assert "Avenue d’essai" in page
    assert "Ville de Sceaux (essai)" in client.get("/sources").get_data(as_text=True)
