"""Lines and areas on the web: the placement answer for a drawn shape, saving and editing
one, refusals that keep what is stored, and files (GeoJSON, GeoPackage, KML, CSV, .xlsx)
that carry shapes in and back out unchanged."""

import html
import json

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, Point

from geoapp.analysis import ANALYSIS_CRS, DISPLAY_CRS
from geoapp.registry import validate_experiment
from geoapp.registry_files import write_csv, write_geojson, write_xlsx
from geoapp.shapes import anchor_of, parse_shape, to_lambert93
from tests.conftest import TOKEN
from tests.web.experiments_helpers import (
    IN_SCEAUX,
    SCEAUX,
    body,
    confirm_token,
    field_errors,
    form_for,
    import_and_confirm,
    snapshot,
    stored,
    upload,
)

LON, LAT = IN_SCEAUX


def near(dx: float, dy: float) -> list[float]:
    """Degrees from IN_SCEAUX, rounded as the registry stores them (6 decimals)."""
    return [round(LON + dx, 6), round(LAT + dy, 6)]


# A 90 m path east-west and a ~0.5 ha rectangle, both well inside Les Blagis.
PATH = {"type": "LineString", "coordinates": [near(-0.0006, 0), near(0.0006, 0)]}
SQUARE = {
    "type": "Polygon",
    "coordinates": [
        [
            near(-0.0005, -0.0003),
            near(0.0005, -0.0003),
            near(0.0005, 0.0003),
            near(-0.0005, 0.0003),
            near(-0.0005, -0.0003),
        ]
    ],
}


def shape_form(atlas, shape, **overrides) -> dict:
    """A valid experiment form whose place is ``shape``; its lon/lat are the browser's
    rough estimate (here: far off), which the server replaces by the anchor."""
    text = shape if isinstance(shape, str) else json.dumps(shape)
    return form_for(atlas, SCEAUX, shape=text, lon="2.31", lat="48.79", **overrides)


def post_place(client, slug, shape, **extra):
    return client.post(
        "/api/placement",
        json={"quartier": slug, "shape": shape, **extra},
        headers={"X-CSRF-Token": TOKEN},
    )


def leaving_west(atlas) -> dict:
    """A path from IN_SCEAUX to 300 m west of the district's westernmost point."""
    geom = atlas.district(SCEAUX).geometry
    west = min(shapely.get_coordinates(geom), key=lambda c: c[0])
    end = gpd.GeoSeries([Point(west[0] - 300, west[1])], crs=ANALYSIS_CRS).to_crs(DISPLAY_CRS)
    return {"type": "LineString", "coordinates": [[LON, LAT], near(end.x[0] - LON, end.y[0] - LAT)]}


# The placement answer -------------------------------------------------------------------


def test_a_drawn_path_gets_the_point_answer_plus_its_measures(sceaux):
    r = post_place(sceaux, SCEAUX, PATH)
    assert r.status_code == 200
    p = r.get_json()
    assert p["inside"] is True and p["accepted"] is True
    assert p["nearest_cut"]["names"] == "RER B"
    metric = to_lambert93(shapely.from_geojson(json.dumps(PATH)))
    assert p["forme"] == {"type": "ligne", "sommets": 2, "longueur_m": round(metric.length, 1)}
    assert set(p["side_ids"]) >= {p["side_id"]}
    area = post_place(sceaux, SCEAUX, SQUARE).get_json()["forme"]
    assert area["type"] == "zone" and area["sommets"] == 4 and 0.4 < area["surface_ha"] < 0.6


def test_a_path_leaving_the_district_is_measured_from_its_far_end(sceaux, atlas):
    shape = leaving_west(atlas)
    p = post_place(sceaux, SCEAUX, shape).get_json()
    end = gpd.GeoSeries([Point(shape["coordinates"][1])], crs=DISPLAY_CRS).to_crs(ANALYSIS_CRS)
    far = atlas.district(SCEAUX).geometry.distance(end.iloc[0])
    assert p["accepted"] is False and p["inside"] is False
    assert 290 < far < 310  # the path's end is the farthest point outside
    assert p["distance_outside_m"] == pytest.approx(far, abs=1)


def test_a_form_post_answers_too(sceaux):
    r = sceaux.post(
        "/api/placement",
        data={"csrf_token": TOKEN, "quartier": SCEAUX, "shape": json.dumps(SQUARE)},
    )
    assert r.status_code == 200 and r.get_json()["forme"]["type"] == "zone"


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"quartier": SCEAUX, "shape": "n’importe quoi"}, "Tracé ou zone invalide."),
        ({"quartier": SCEAUX}, "Indiquez le tracé ou la zone"),
        ({"quartier": SCEAUX, "shape": {"type": "Point", "coordinates": [LON, LAT]}}, "invalide"),
        ({"shape": PATH}, "Indiquez le quartier"),
        ({"quartier": ["x"], "shape": PATH}, "Indiquez le quartier"),
        ({"quartier": SCEAUX, "shape": PATH, "exclure": "abc"}, "identifiant numérique"),
    ],
)
def test_bad_shape_questions_are_400_in_french(sceaux, payload, message):
    r = sceaux.post("/api/placement", json=payload, headers={"X-CSRF-Token": TOKEN})
    assert r.status_code == 400
    assert message in json.dumps(r.get_json(), ensure_ascii=False)


def test_unknown_district_and_a_json_list_are_refused(sceaux):
    assert post_place(sceaux, "nulle-part", PATH).status_code == 404
    r = sceaux.post("/api/placement", json=[1, 2], headers={"X-CSRF-Token": TOKEN})
    assert r.status_code == 400


def test_the_shape_question_needs_the_csrf_token(sceaux):
    r = sceaux.post("/api/placement", json={"quartier": SCEAUX, "shape": PATH})
    assert r.status_code == 400 and "CSRF" in r.get_json()["erreur"]


# Saving and editing -----------------------------------------------------------------------


def test_a_path_is_saved_with_its_anchor_and_shown_as_a_path(sceaux, store, atlas):
    r = sceaux.post(f"/quartiers/{SCEAUX}/experimentations", data=shape_form(atlas, PATH))
    assert r.status_code == 302, field_errors(r)
    [saved] = [e for e in store.list_experiments() if e["shape"]]
    assert saved["shape"] == PATH
    assert (saved["lon"], saved["lat"]) == anchor_of(parse_shape(PATH))
    assert saved["lon"] == pytest.approx(LON, abs=1e-5)  # the middle, not the posted 2.31
    history = store.history(saved["id"])
    assert "shape" in history[0]["changes"]


def test_an_area_outside_the_district_is_refused_on_its_field(sceaux, store, atlas):
    before = snapshot(store)
    r = sceaux.post(
        f"/quartiers/{SCEAUX}/experimentations", data=shape_form(atlas, leaving_west(atlas))
    )
    assert r.status_code == 422
    errors = field_errors(r)
    assert errors["shape"].startswith("Le tracé ou la zone sort du quartier Les Blagis de ")
    assert "tolérance : 50 m" in errors["shape"]
    assert snapshot(store) == before


def test_an_invalid_shape_is_refused_and_the_typed_text_kept(sceaux, store, atlas):
    before = snapshot(store)
    typed = '{"type": "LineString", "coordinates": [[2.3, 48.78]]} <b>{{ 7*7 }}</b>'
    r = sceaux.post(f"/quartiers/{SCEAUX}/experimentations", data=shape_form(atlas, typed))
    assert r.status_code == 422
    assert "géométrie GeoJSON lisible" in field_errors(r)["shape"]
    assert "<b>{{ 7*7 }}</b>" not in body(r)  # escaped, never markup
    assert html.escape(typed, quote=False) in body(r).replace("&#34;", '"').replace("&quot;", '"')
    assert snapshot(store) == before


def test_editing_turns_a_point_into_an_area_and_back(sceaux, store, atlas):
    point = stored(store, atlas, SCEAUX, title="Parvis")
    url = f"/experimentations/{point['id']}"
    r = sceaux.post(url, data={**shape_form(atlas, SQUARE, title="Parvis"), "version": "1"})
    assert r.status_code == 302, field_errors(r)
    area = store.get_experiment(point["id"])
    assert area["shape"] == SQUARE and area["version"] == 2
    assert shapely.from_geojson(json.dumps(SQUARE)).contains(Point(area["lon"], area["lat"]))
    page = html.unescape(body(sceaux.get(url)))
    history = page[page.index('id="history"') :]
    assert "tracé ou zone" in history and "point" in history and "zone de 0," in history
    back = form_for(atlas, SCEAUX, title="Parvis", shape="", version="2")
    assert sceaux.post(url, data=back).status_code == 302
    again = store.get_experiment(point["id"])
    assert again["shape"] is None and (again["lon"], again["lat"]) == IN_SCEAUX


# Files ----------------------------------------------------------------------------------------


def shaped_rows(store, atlas) -> list[dict]:
    for shape, title in ((PATH, "Parcours signalé"), (SQUARE, "Placette renaturée")):
        values = {**form_for(atlas, SCEAUX, title=title), "shape": json.dumps(shape)}
        stored_values = store.create_experiment(
            _valid(values, atlas), district=SCEAUX, user="fixture"
        )
        assert stored_values["shape"] == shape
    return store.list_experiments()


def _valid(form, atlas):
    return validate_experiment(form, objectives=atlas.objectives()[SCEAUX])


def test_geojson_export_carries_the_shapes_and_imports_back_unchanged(sceaux, store, atlas):
    rows = shaped_rows(store, atlas)
    data = write_geojson(rows).encode()
    geometries = [f["geometry"]["type"] for f in json.loads(data)["features"]]
    points = sum(1 for r in rows if not r["shape"])  # the seed's
    assert sorted(geometries) == ["LineString"] + ["Point"] * points + ["Polygon"]
    before = snapshot(store)
    again = upload(sceaux, data, "registre.geojson")
    assert again.status_code == 200
    assert confirm_token(again) is None  # 2 inchangées: nothing to confirm
    assert snapshot(store) == before


@pytest.mark.parametrize("writer, filename", [(write_csv, "r.csv"), (write_xlsx, "r.xlsx")])
def test_spreadsheets_carry_shapes_as_wkt_and_import_back_unchanged(
    sceaux, store, atlas, writer, filename
):
    rows = shaped_rows(store, atlas)
    data = writer(rows)
    if filename.endswith(".csv"):
        text = data.decode("utf-8-sig")
        assert "Tracé ou zone (WKT)" in text.splitlines()[0]
        assert "LINESTRING (" in text and "POLYGON ((" in text
    before = snapshot(store)
    again = upload(sceaux, data, filename)
    assert again.status_code == 200 and confirm_token(again) is None
    assert snapshot(store) == before


def test_a_new_path_from_a_wkt_cell_is_created(sceaux, store, atlas):
    wkt = LineString(PATH["coordinates"]).wkt
    csv = (
        "Quartier;Titre;Structure;Type de structure;Thème;Objectifs;Description;Statut;"
        "Précision;Tracé ou zone (WKT)\n"
        f"Les Blagis;Jalonnement;Ville;association;{form_for(atlas, SCEAUX)['theme']};1;"
        f"Des panneaux.;proposée;exacte;{wkt}\n"
    ).encode()
    done = import_and_confirm(sceaux, csv, "jalons.csv")
    assert done.status_code == 302
    [created] = [e for e in store.list_experiments() if e["title"] == "Jalonnement"]
    assert created["shape"]["type"] == "LineString"
    assert created["shape"]["coordinates"] == PATH["coordinates"]


def _frame_file(atlas, driver: str, suffix: str, tmp_path) -> bytes:
    frame = gpd.GeoDataFrame(
        {
            "Quartier": ["Les Blagis", "Les Blagis"],
            "Titre": ["Parcours des écoles", "Cour oasis"],
            "Structure": ["Ville de Sceaux"] * 2,
            "Type de structure": ["association"] * 2,
            "Thème": [form_for(atlas, SCEAUX)["theme"]] * 2,
            "Objectifs": ["1", "1"],
            "Description": ["Un parcours.", "Une cour."],
            "Statut": ["proposée"] * 2,
            "Précision": ["exacte"] * 2,
        },
        geometry=[shapely.from_geojson(json.dumps(PATH)), shapely.from_geojson(json.dumps(SQUARE))],
        crs=DISPLAY_CRS,
    )
    if driver == "GPKG":
        frame = frame.to_crs(ANALYSIS_CRS)  # a GeoPackage in Lambert-93 is read back in WGS84
    path = tmp_path / f"lot{suffix}"
    frame.to_file(path, driver=driver, layer="experimentations", engine="pyogrio")
    return path.read_bytes()


@pytest.mark.parametrize(
    "driver, suffix", [("GeoJSON", ".geojson"), ("GPKG", ".gpkg"), ("LIBKML", ".kml")]
)
def test_a_line_and_an_area_are_imported_then_reimport_changes_nothing(
    sceaux, store, atlas, tmp_path, driver, suffix
):
    data = _frame_file(atlas, driver, suffix, tmp_path)
    preview = upload(sceaux, data, f"lot{suffix}")
    assert preview.status_code == 200, body(preview)[:3000]
    assert "2 à créer" in html.unescape(body(preview))
    import_and_confirm(sceaux, data, f"lot{suffix}")
    shapes = {e["title"]: e["shape"] for e in store.list_experiments()}
    assert shapes["Parcours des écoles"]["type"] == "LineString"
    assert shapes["Cour oasis"]["type"] == "Polygon"
    coords = shapes["Parcours des écoles"]["coordinates"]
    np.testing.assert_allclose(coords, PATH["coordinates"], atol=1e-6)
    before = snapshot(store)
    again = upload(sceaux, data, f"lot{suffix}")
    counts = html.unescape(body(again))
    assert "<strong>0</strong> à créer, <strong>0</strong> à modifier" in counts
    assert "<strong>2</strong> inchangée" in counts
    assert confirm_token(again) is None and snapshot(store) == before


def test_unreadable_geopackage_and_kml_are_400_in_french(sceaux, store):
    before = snapshot(store)
    for name in ("lot.gpkg", "lot.kml"):
        r = upload(sceaux, b"ceci n'est pas un fichier SIG", name)
        assert r.status_code == 400 and "illisible" in html.unescape(body(r))
    assert snapshot(store) == before


def test_a_geopackage_with_several_unnamed_layers_says_which_it_needs(sceaux, tmp_path):
    path = tmp_path / "deux.gpkg"
    for layer in ("a", "b"):
        gpd.GeoDataFrame({"Titre": ["x"]}, geometry=[Point(LON, LAT)], crs=DISPLAY_CRS).to_file(
            path, layer=layer, driver="GPKG", engine="pyogrio"
        )
    r = upload(sceaux, path.read_bytes(), "deux.gpkg")
    assert r.status_code == 400
    assert "nommez celle des expérimentations « experimentations »" in html.unescape(body(r))


def test_a_point_row_makes_a_shaped_experiment_a_point_again(sceaux, store, atlas):
    rows = shaped_rows(store, atlas)
    path = next(r for r in rows if r["shape"] and r["shape"]["type"] == "LineString")
    collection = json.loads(write_geojson([path]))
    collection["features"][0]["geometry"] = {"type": "Point", "coordinates": [LON, LAT]}
    done = import_and_confirm(sceaux, json.dumps(collection).encode(), "p.geojson")
    assert done.status_code == 302
    now = store.get_experiment(path["id"])
    assert now["shape"] is None and (now["lon"], now["lat"]) == (LON, LAT)
