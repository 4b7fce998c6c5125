"""The urban cut on the web: the JSON report, the what-if endpoint, stored crossings.

Real atlas, temporary SQLite. Points are computed from the corridors themselves (EPSG:2154)
and sent as WGS84 lon/lat, like the map does. After every refused or read-only request the
stored crossings and the data version are compared with a snapshot.
"""

import html
import math
import re

import geopandas as gpd
import pytest
import shapely
from shapely.geometry import Point

from geoapp.analysis import ANALYSIS_CRS, DISPLAY_CRS
from tests.analysis.regenerate_golden import read_golden
from tests.conftest import TOKEN, client_as, map_properties
from tests.web.experiments_helpers import form_for

SLUGS = ["aulnay-centre-gare", "meudon-la-foret", "noisy-mont-d-est", "sceaux-les-blagis"]
SCEAUX = "sceaux-les-blagis"


# Helpers ---------------------------------------------------------------------------


@pytest.fixture
def store(app):
    return app.extensions["qmi_store"]


@pytest.fixture
def sceaux_editor(app):
    return client_as(app, "editeur-sceaux", "editeur", "92071")


def lonlat(point: Point) -> tuple[float, float]:
    p = gpd.GeoSeries([point], crs=ANALYSIS_CRS).to_crs(DISPLAY_CRS).iloc[0]
    return round(p.x, 6), round(p.y, 6)


def lambert(lon: float, lat: float) -> Point:
    return gpd.GeoSeries([Point(lon, lat)], crs=DISPLAY_CRS).to_crs(ANALYSIS_CRS).iloc[0]


def on_corridor(atlas, slug: str, fraction: float = 0.5) -> tuple[float, float]:
    """(lon, lat) of the point at ``fraction`` of the main corridor inside the district."""
    line = atlas.corridors[slug].geometry.iloc[0]
    inside = line.intersection(atlas.district(slug).geometry)
    line = inside if not inside.is_empty else line
    return lonlat(shapely.line_interpolate_point(line, fraction, normalized=True))


def beside_corridor(atlas, slug: str, fraction: float, offset_m: float) -> tuple[float, float]:
    """(lon, lat) of a point ``offset_m`` metres square off the main corridor."""
    line = atlas.corridors[slug].geometry.iloc[0]
    line = line.intersection(atlas.district(slug).geometry)
    at = line.project(shapely.line_interpolate_point(line, fraction, normalized=True))
    a, b = line.interpolate(at - 5), line.interpolate(at + 5)
    norm = math.hypot(b.x - a.x, b.y - a.y)
    mid = line.interpolate(at)
    point = Point(mid.x - (b.y - a.y) / norm * offset_m, mid.y + (b.x - a.x) / norm * offset_m)
    assert atlas.corridors[slug].distance(point).min() == pytest.approx(offset_m, abs=3)
    return lonlat(point)


def far_from_corridors(atlas, slug: str) -> tuple[float, float, float]:
    """(lon, lat, metres to the nearest corridor) of a point in the study area far from
    every corridor: the district centre moved 400 m in the best of eight directions."""
    corridors = atlas.corridors[slug].geometry.union_all()
    study = atlas.study_area(slug)
    centre = lambert(*atlas.centres_lonlat()[slug])
    candidates = [
        Point(centre.x + 400 * math.cos(a), centre.y + 400 * math.sin(a))
        for a in [k * math.pi / 4 for k in range(8)]
    ] + [centre]
    candidates = [p for p in candidates if study.contains(p)]
    best = max(candidates, key=corridors.distance)
    distance = corridors.distance(best)
    assert distance > 150  # far enough that no rounding can bring it within 50 m
    lon, lat = lonlat(best)
    return lon, lat, corridors.distance(lambert(lon, lat))


def snapshot(store) -> tuple:
    return store.data_version(), store.list_crossings()


def get_json(client, url: str, status: int = 200) -> dict:
    with client.get(url) as r:
        assert r.status_code == status, r.get_data(as_text=True)
        assert r.mimetype == "application/json"
        return r.get_json()


def crossing_form(lon: float, lat: float, **overrides) -> dict:
    return {
        "csrf_token": TOKEN,
        "kind": "passerelle",
        "status": "existant",
        "name": "Passerelle des Blagis",
        "lon": str(lon),
        "lat": str(lat),
        **overrides,
    }


def page_text(client, url: str) -> str:
    with client.get(url) as r:
        assert r.status_code == 200
        return html.unescape(r.get_data(as_text=True))


# The JSON report ------------------------------------------------------------------


@pytest.mark.parametrize("slug", SLUGS)
def test_report_figures_are_the_golden_ones(client, slug):
    """The JSON twin shows the golden figures (tolerances of test_golden_figures.py)."""
    data = get_json(client, f"/api/quartiers/{slug}/coupures")
    golden = read_golden()[slug]
    assert data["quartier"] == slug
    assert "pas un réseau de rues" in data["modele"]

    corridors = data["corridors"]["features"]
    assert corridors, "every district has at least one corridor"
    for c in corridors:
        props = c["properties"]
        assert props["kind"] in ("voie ferrée", "tramway", "route")
        assert props["names"]
        assert math.isfinite(props["length_in_m"]) and props["length_in_m"] >= 0
        assert math.isfinite(props["length_near_m"])
        assert props["length_near_m"] >= props["length_in_m"]
    assert [c["properties"]["corridor_id"] for c in corridors] == list(range(1, len(corridors) + 1))
    for key in ("length_in_m", "length_near_m"):
        total = sum(c["properties"][key] for c in corridors)
        assert total == pytest.approx(golden[f"cut_{key}"], abs=1.0)

    exposure = data["exposition"]
    assert list(exposure) == ["100", "250", "500"]
    assert exposure == pytest.approx(golden["exposure"], abs=0.005)

    sides = data["cotes"]
    assert sides["zone_etude"] and sides["quartier"]
    assert all(math.isfinite(a) and a > 0 for a in sides["zone_etude"] + sides["quartier"])
    assert sides["nb_cotes_zone_etude"] == len(sides["zone_etude"]) == golden["n_study_sides"]
    assert min(sides["zone_etude"]) >= sides["seuil_cote_ha"] or len(sides["zone_etude"]) == 1
    assert sides["zone_etude"] == pytest.approx(golden["study_side_areas_ha"], abs=0.1)
    assert sides["quartier"] == pytest.approx(golden["district_side_areas_ha"], abs=0.1)

    for key in ("detour", "detour_avec_projets"):
        det = data[key]
        assert det["n_pairs"] >= 0 and det["n_pairs_no_crossing"] >= 0
        assert det["n_pairs"] + det["n_pairs_no_crossing"] <= det["n_pairs_total"]
        if det["n_pairs"] == 0:
            assert det["median"] is None and det["p90"] is None
        else:
            assert math.isfinite(det["median"]) and det["median"] >= 1
            assert math.isfinite(det["p90"]) and det["p90"] >= det["median"]
            assert 0 <= det["share_over_1_5"] <= 1
        assert det["spacing_m"] == 100.0

    detour, expected = data["detour"], golden["detour"]
    assert [detour["median"], detour["p90"]] == pytest.approx(
        [expected["median"], expected["p90"]], abs=0.01
    )
    assert detour["share_over_1_5"] == pytest.approx(expected["share_over_1_5"], abs=0.005)
    assert detour["n_pairs"] == expected["n_pairs"]
    assert data["longueur_km_par_km2"] == pytest.approx(
        golden["cut_length_in_m"] / 1000 / (golden["area_ha"] / 100), abs=0.01
    )
    for feature in data["franchissements"]["features"]:
        props = feature["properties"]
        assert props["source"] in ("IDFM gares", "OSM rues", "saisie")
        assert props["corridor_id"] in {c["properties"]["corridor_id"] for c in corridors}
        lon, lat = feature["geometry"]["coordinates"]
        assert 1.4 < lon < 3.6 and 48.1 < lat < 49.3
    for station in data["gares"]:
        assert station["cote"] is None or 1 <= station["cote"] <= len(sides["zone_etude"])


def test_les_blagis_are_cut_by_rer_b(client):
    data = get_json(client, f"/api/quartiers/{SCEAUX}/coupures")
    assert data["cotes"]["nb_cotes_zone_etude"] >= 2
    assert any(
        "RER B" in c["properties"]["names"].split(", ") for c in data["corridors"]["features"]
    )


def test_aulnay_corridor_includes_rer_b(client):
    data = get_json(client, "/api/quartiers/aulnay-centre-gare/coupures")
    assert any(
        "RER B" in c["properties"]["names"].split(", ") for c in data["corridors"]["features"]
    )


def test_unknown_district_is_a_french_json_404(client):
    for url in (
        "/api/quartiers/nulle-part/coupures",
        "/api/quartiers/nulle-part/what-if?lat=48.78&lon=2.30",
    ):
        data = get_json(client, url, 404)
        assert data == {"erreur": "Le quartier « nulle-part » n’existe pas.", "statut": 404}


# What if ---------------------------------------------------------------------------


@pytest.mark.parametrize("slug", SLUGS)
def test_what_if_on_a_corridor_lowers_detours_and_stores_nothing(client, store, atlas, slug):
    lon, lat = on_corridor(atlas, slug)
    report_before = get_json(client, f"/api/quartiers/{slug}/coupures")
    before = snapshot(store)

    data = get_json(client, f"/api/quartiers/{slug}/what-if?lat={lat}&lon={lon}")

    assert data["enregistre"] is False
    assert data["corridor_id"] == 1
    assert 0 <= data["ecart_m"] <= 1  # the point was on the corridor
    snapped_lat, snapped_lon = data["point"]
    assert lambert(snapped_lon, snapped_lat).distance(lambert(lon, lat)) < 2
    avant, apres = data["avant"], data["apres"]
    assert avant == report_before["detour"]  # "before" is the page's figure
    assert apres["n_pairs_total"] == avant["n_pairs_total"]
    for key in ("median", "p90", "share_over_1_5"):
        assert math.isfinite(apres[key]) and apres[key] <= avant[key]
    assert apres["median"] >= 1
    # Nothing stored, nothing cached changed.
    assert snapshot(store) == before
    assert get_json(client, f"/api/quartiers/{slug}/coupures") == report_before


def test_what_if_far_from_any_corridor_is_refused_in_french(client, store, atlas):
    lon, lat, distance = far_from_corridors(atlas, SCEAUX)
    before = snapshot(store)
    data = get_json(client, f"/api/quartiers/{SCEAUX}/what-if?lat={lat}&lon={lon}", 422)
    assert data["statut"] == 422
    match = re.fullmatch(
        r"Le franchissement est à (\d+) m de la coupure la plus "
        r"proche : placez-le sur une voie \(50 m au plus\)\.",
        data["erreur"],
    )
    assert match, data["erreur"]
    assert int(match.group(1)) == pytest.approx(distance, abs=1)
    assert snapshot(store) == before


@pytest.mark.parametrize(
    "query",
    ["lat=abc&lon=2.30", "lon=2.30", "lat=48.78", "lat=10&lon=2.30", "lat=48.78&lon=nan", ""],
)
def test_what_if_bad_coordinates_are_a_400(client, store, query):
    before = snapshot(store)
    data = get_json(client, f"/api/quartiers/{SCEAUX}/what-if?{query}", 400)
    assert data["erreur"] == "Coordonnées invalides."
    assert data["errors"]
    assert snapshot(store) == before


# Stored crossings ------------------------------------------------------------------


def test_anonymous_cannot_add_a_crossing(app, store, atlas):
    before = snapshot(store)
    with client_as(app).post(
        f"/quartiers/{SCEAUX}/franchissements", data=crossing_form(*on_corridor(atlas, SCEAUX))
    ) as r:
        assert r.status_code == 401
        assert "Connectez-vous" in r.get_data(as_text=True)
    assert snapshot(store) == before


def test_editor_of_another_commune_is_refused(app, store, atlas):
    meudon = client_as(app, "editeur-meudon", "editeur", "92048")
    before = snapshot(store)
    with meudon.post(
        f"/quartiers/{SCEAUX}/franchissements", data=crossing_form(*on_corridor(atlas, SCEAUX))
    ) as r:
        assert r.status_code == 403
        assert "que le quartier de sa commune" in html.unescape(r.get_data(as_text=True))
    assert snapshot(store) == before


def test_adding_a_crossing_needs_the_csrf_token(sceaux_editor, store, atlas):
    before = snapshot(store)
    form = crossing_form(*on_corridor(atlas, SCEAUX))
    del form["csrf_token"]
    with sceaux_editor.post(f"/quartiers/{SCEAUX}/franchissements", data=form) as r:
        assert r.status_code == 400
        assert "CSRF" in r.get_data(as_text=True)
    assert snapshot(store) == before


def test_a_crossing_far_from_a_corridor_is_refused(sceaux_editor, store, atlas):
    lon, lat, distance = far_from_corridors(atlas, SCEAUX)
    before = snapshot(store)
    with sceaux_editor.post(
        f"/quartiers/{SCEAUX}/franchissements", data=crossing_form(lon, lat)
    ) as r:
        assert r.status_code == 422
        body = html.unescape(r.get_data(as_text=True))
    match = re.search(r"Le franchissement est à (\d+) m de la coupure la plus proche", body)
    assert match, body
    assert int(match.group(1)) == pytest.approx(distance, abs=1)
    assert snapshot(store) == before


def test_bad_crossing_fields_are_refused(sceaux_editor, store, atlas):
    before = snapshot(store)
    form = crossing_form(*on_corridor(atlas, SCEAUX), kind="tyrolienne")
    with sceaux_editor.post(f"/quartiers/{SCEAUX}/franchissements", data=form) as r:
        assert r.status_code == 422
        assert "Type de franchissement inconnu" in html.unescape(r.get_data(as_text=True))
    with sceaux_editor.post(
        "/quartiers/nulle-part/franchissements", data=crossing_form(*on_corridor(atlas, SCEAUX))
    ) as r:
        assert r.status_code == 404
    assert snapshot(store) == before


def crossings_of(data: dict, source: str = "saisie") -> list[dict]:
    return [
        f["properties"]
        for f in data["franchissements"]["features"]
        if f["properties"]["source"] == source
    ]


def test_a_stored_crossing_is_listed_drawn_and_lowers_the_detour(sceaux_editor, store, atlas):
    url = f"/api/quartiers/{SCEAUX}/coupures"
    before = get_json(sceaux_editor, url)  # computed, then cached for this data version
    lon, lat = on_corridor(atlas, SCEAUX)
    form = crossing_form(lon, lat)

    with sceaux_editor.post(f"/quartiers/{SCEAUX}/franchissements", data=form) as r:
        assert r.status_code == 302
        assert r.location.endswith(f"/quartiers/{SCEAUX}#coupures")

    [stored] = store.list_crossings(district=SCEAUX)
    assert (stored["kind"], stored["status"], stored["name"]) == (
        "passerelle",
        "existant",
        "Passerelle des Blagis",
    )
    assert (stored["lon"], stored["lat"], stored["version"]) == (lon, lat, 1)
    after = get_json(sceaux_editor, url)  # the cache must have been invalidated
    [listed] = crossings_of(after)
    assert listed == {
        "id": stored["id"],
        "corridor_id": 1,
        "kind": "passerelle",
        "status": "existant",
        "source": "saisie",
        "name": "Passerelle des Blagis",
    }
    assert len(crossings_of(after, "IDFM gares")) == len(crossings_of(before, "IDFM gares"))
    for key in ("median", "p90", "share_over_1_5"):
        assert after["detour"][key] <= before["detour"][key]
    assert after["detour"]["n_pairs_total"] == before["detour"]["n_pairs_total"]
    page = page_text(sceaux_editor, f"/quartiers/{SCEAUX}")
    assert "Passerelle des Blagis — passerelle (existant, saisi)" in page
    assert "Franchissement enregistré" in page


def test_a_projected_crossing_changes_only_the_detour_with_projects(sceaux_editor, store, atlas):
    """Saved 30 m beside the track, it gives the figures the what-if showed there."""
    url = f"/api/quartiers/{SCEAUX}/coupures"
    before = get_json(sceaux_editor, url)
    lon, lat = beside_corridor(atlas, SCEAUX, 0.3, 30)
    with sceaux_editor.post(
        f"/quartiers/{SCEAUX}/franchissements",
        data=crossing_form(lon, lat, status="projeté", name=""),
    ) as r:
        assert r.status_code == 302
    after = get_json(sceaux_editor, url)
    assert after["detour"] == before["detour"]
    what_if = get_json(sceaux_editor, f"/api/quartiers/{SCEAUX}/what-if?lat={lat}&lon={lon}")
    assert after["detour_avec_projets"] == what_if["apres"]
    assert after["detour_avec_projets"]["median"] <= before["detour_avec_projets"]["median"]
    [listed] = crossings_of(after)
    assert listed["status"] == "projeté"
    [drawn] = [
        f["geometry"]["coordinates"]
        for f in after["franchissements"]["features"]
        if f["properties"]["source"] == "saisie"
    ]
    snapped_lat, snapped_lon = what_if["point"]
    assert lambert(*drawn).distance(lambert(snapped_lon, snapped_lat)) < 1  # on the track


def add_crossing(client, store, lon, lat) -> dict:
    with client.post(f"/quartiers/{SCEAUX}/franchissements", data=crossing_form(lon, lat)) as r:
        assert r.status_code == 302
    return store.list_crossings(district=SCEAUX)[-1]


def test_the_report_cache_keeps_only_the_current_crossings_version(
    app, sceaux_editor, store, atlas
):
    """Every crossing edit bumps its version: old reports (about 0.5 MB each) are dropped."""
    for fraction in (0.25, 0.5, 0.75):
        add_crossing(sceaux_editor, store, *on_corridor(atlas, SCEAUX, fraction))
        get_json(sceaux_editor, f"/api/quartiers/{SCEAUX}/coupures")
        get_json(sceaux_editor, "/api/quartiers/aulnay-centre-gare/coupures")
    cache = app.extensions["qmi_cut_reports"]
    version = store.data_version("crossings")
    assert cache.versions() == {
        slug: version
        for slug in (
            "aulnay-centre-gare",
            SCEAUX,
            ("context", "aulnay-centre-gare"),
            ("context", SCEAUX),
        )
    }


def test_a_new_experiment_does_not_recompute_the_cut_reports(app, sceaux_editor, store, atlas):
    """Cut reports depend on crossings only: the same report object serves after a new
    experiment, a new one after a crossing."""
    from geoapp.web.context import cut_report

    with app.test_request_context():
        before = cut_report(SCEAUX)
    data_before = store.data_version()
    with sceaux_editor.post(
        f"/quartiers/{SCEAUX}/experimentations", data=form_for(atlas, SCEAUX)
    ) as r:
        assert r.status_code == 302
    assert store.data_version() > data_before
    with app.test_request_context():
        assert cut_report(SCEAUX) is before
    add_crossing(sceaux_editor, store, *on_corridor(atlas, SCEAUX, 0.3))
    with app.test_request_context():
        assert cut_report(SCEAUX) is not before


def test_a_crossing_name_is_escaped_in_the_list_and_on_the_map(sceaux_editor, atlas):
    evil = "<img src=x onerror=alert(1)>"
    form = crossing_form(*on_corridor(atlas, SCEAUX), name=evil)
    with sceaux_editor.post(f"/quartiers/{SCEAUX}/franchissements", data=form) as r:
        assert r.status_code == 302
    with sceaux_editor.get(f"/quartiers/{SCEAUX}") as r:
        raw = r.get_data(as_text=True)
    assert evil not in raw
    assert "&lt;img src=x onerror=alert(1)&gt; — passerelle (existant, saisi)" in raw
    # The map's data carries it as plain text (the browser builds the popup with
    # textContent), and the JSON block cannot be closed early by it.
    named = [p for p in map_properties(raw, "franchissement") if p["popup"]["title"] == evil]
    assert len(named) == 1 and named[0]["tooltip"].endswith(f"— {evil}")


def test_move_a_crossing_with_its_version(sceaux_editor, store, atlas):
    crossing = add_crossing(sceaux_editor, store, *on_corridor(atlas, SCEAUX, 0.2))
    url = f"/franchissements/{crossing['id']}/deplacer"
    lon, lat = on_corridor(atlas, SCEAUX, 0.7)
    form = {"csrf_token": TOKEN, "version": "1", "lon": str(lon), "lat": str(lat)}

    with sceaux_editor.post(url, data=form) as r:
        assert r.status_code == 302
        assert r.location.endswith(f"/quartiers/{SCEAUX}#coupures")
    moved = store.get_crossing(crossing["id"])
    assert (moved["lon"], moved["lat"], moved["version"]) == (lon, lat, 2)
    [listed] = [
        f
        for f in get_json(sceaux_editor, f"/api/quartiers/{SCEAUX}/coupures")["franchissements"][
            "features"
        ]
        if f["properties"]["source"] == "saisie"
    ]
    assert lambert(*listed["geometry"]["coordinates"]).distance(lambert(lon, lat)) < 2

    before = snapshot(store)
    with sceaux_editor.post(url, data=form) as r:  # version 1 is stale now
        assert r.status_code == 409
        assert "modifié par quelqu'un d'autre" in html.unescape(r.get_data(as_text=True))
        # what changed since version 1: who, when (Paris time), old → new
        shown = re.sub(r"<[^>]+>", "", refusal_of(r))
        assert "(version 1 → version 2)" in shown and "éditeur Sceaux" in shown
        assert f"longitude : {crossing['lon']} → {moved['lon']}" in shown
    far_lon, far_lat, _ = far_from_corridors(atlas, SCEAUX)
    with sceaux_editor.post(
        url, data={**form, "version": "2", "lon": str(far_lon), "lat": str(far_lat)}
    ) as r:
        assert r.status_code == 422
        assert "m de la coupure" in html.unescape(r.get_data(as_text=True))
    with sceaux_editor.post(url, data={k: v for k, v in form.items() if k != "version"}) as r:
        assert r.status_code == 400
    assert snapshot(store) == before


def test_delete_a_crossing_with_its_version(app, sceaux_editor, store, atlas):
    crossing = add_crossing(sceaux_editor, store, *on_corridor(atlas, SCEAUX, 0.4))
    url = f"/franchissements/{crossing['id']}/supprimer"
    confirmed = {"csrf_token": TOKEN, "version": "1", "confirmer": "oui"}
    before = snapshot(store)
    meudon = client_as(app, "editeur-meudon", "editeur", "92048")
    with meudon.post(url, data=confirmed) as r:
        assert r.status_code == 403
        assert "Vous pouvez consulter ce quartier" in refusal_of(r)
    with sceaux_editor.post(url, data={**confirmed, "version": "7"}) as r:
        assert r.status_code == 409
        assert "celle d’aujourd’hui" in refusal_of(r)
    assert snapshot(store) == before

    with sceaux_editor.post(url, data=confirmed) as r:
        assert r.status_code == 302
    assert store.list_crossings(district=SCEAUX) == []
    assert crossings_of(get_json(sceaux_editor, f"/api/quartiers/{SCEAUX}/coupures")) == []
    with sceaux_editor.post(url, data=confirmed) as r:
        assert r.status_code == 404


def refusal_of(response) -> str:
    """The refusal shown beside the crossings of a re-rendered district page."""
    text = response.get_data(as_text=True)
    assert 'id="crossing-refusal" role="alert" tabindex="-1" autofocus' in text
    assert 'id="cut-headline"' in text  # the district page itself, not an error page
    start = text.index('id="crossing-refusal"')
    return html.unescape(text[start : text.index("</div>", start)])


def test_deleting_a_crossing_needs_its_confirmation(sceaux_editor, store, atlas):
    crossing = add_crossing(sceaux_editor, store, *on_corridor(atlas, SCEAUX, 0.4))
    page = page_text(sceaux_editor, f"/quartiers/{SCEAUX}")
    assert 'name="confirmer" value="oui" required> Je confirme la suppression' in page
    before = snapshot(store)
    url = f"/franchissements/{crossing['id']}/supprimer"
    for unconfirmed in ({}, {"confirmer": "non"}):
        with sceaux_editor.post(
            url, data={"csrf_token": TOKEN, "version": "1", **unconfirmed}
        ) as r:
            assert r.status_code == 422
            assert "cochez « Je confirme la suppression »" in refusal_of(r)
    assert snapshot(store) == before
    with sceaux_editor.post(url, data={"version": "1", "confirmer": "oui"}) as r:
        assert r.status_code == 400  # the CSRF token is still required
    assert snapshot(store) == before


def test_a_refused_crossing_renders_the_district_page_with_the_typed_values(
    sceaux_editor, store, atlas
):
    lon, lat, _ = far_from_corridors(atlas, SCEAUX)
    before = snapshot(store)
    form = crossing_form(lon, lat, kind="pont", status="projeté", name="Pont <b>&</b> {{ 7*7 }}")
    with sceaux_editor.post(f"/quartiers/{SCEAUX}/franchissements", data=form) as r:
        assert r.status_code == 422
        message = refusal_of(r)
        raw = r.get_data(as_text=True)
    assert "m de la coupure la plus proche" in message and "cliquez dessus" in message
    typed = raw[raw.index('id="crossing-add"') : raw.index('id="crossing-move-form"')]
    assert 'id="crossing-add" open' in typed
    assert 'value="Pont &lt;b&gt;&amp;&lt;/b&gt; {{ 7*7 }}"' in typed
    assert f'value="{lat}"' in typed and f'value="{lon}"' in typed
    assert (
        "<option selected>pont</option>" in typed and "<option selected>projeté</option>" in typed
    )
    assert snapshot(store) == before


# Overview and method ---------------------------------------------------------------


def test_overview_compares_the_four_districts(client, atlas):
    body = page_text(client, "/")
    table = re.search(r'<table class="table" id="comparison-table">(.*?)</table>', body, re.S)
    assert table
    rows = re.findall(r'<a href="/quartiers/([\w-]+)#coupures">', table.group(1))
    assert sorted(rows) == SLUGS  # ranked: see test_the_headline_ranks_the_comparison…
    sceaux = get_json(client, f"/api/quartiers/{SCEAUX}/coupures")
    lengthened = f"+ {(sceaux['detour']['median'] - 1) * 100:.0f} %"
    assert lengthened in table.group(1) and sceaux["titre"] in html.unescape(table.group(1))
    assert "pas un réseau de rues" in body


def test_method_page_states_the_model_limits(client):
    body = page_text(client, "/methode")
    assert "Ce n’est pas un calcul d’itinéraire sur un réseau de rues" in body
    assert "n’enregistre rien" in body


# Best places to cross, the headline, the missing cuts ------------------------------------


@pytest.mark.parametrize("slug", SLUGS)
def test_best_sites_answer_in_the_what_if_shape(client, slug):
    data = get_json(client, f"/api/quartiers/{slug}/meilleurs-franchissements")
    assert data["type"] == "FeatureCollection" and data["quartier"] == slug
    sites = data["features"]
    assert 1 <= len(sites) <= 3
    assert [s["properties"]["rang"] for s in sites] == list(range(1, len(sites) + 1))
    shares = [s["properties"]["apres"]["share_over_1_5"] for s in sites]
    assert shares == sorted(shares)
    lon, lat = sites[0]["geometry"]["coordinates"]
    whatif = get_json(client, f"/api/quartiers/{slug}/what-if?lat={lat}&lon={lon}")
    top = sites[0]["properties"]
    assert set(top["avant"]) == set(whatif["avant"]) and set(top["apres"]) == set(whatif["apres"])
    assert top["avant"] == whatif["avant"]
    assert top["apres"]["share_over_1_5"] == pytest.approx(
        whatif["apres"]["share_over_1_5"], abs=0.002
    )  # the JSON point is rounded to 6 decimals (10 cm)
    assert top["apres"]["share_over_1_5"] < top["avant"]["share_over_1_5"]
    cut = get_json(client, f"/api/quartiers/{slug}/coupures")
    assert top["avant"] == cut["detour"]


def test_best_sites_are_listed_and_drawn_on_the_district_page(client, app):
    from geoapp.layers import experiments_frame
    from geoapp.maps import build_district_map
    from geoapp.web.context import best_sites_frame, cut_report

    page = client.get(f"/quartiers/{SCEAUX}").get_data(as_text=True)
    assert 'id="best-sites-table"' in page
    assert page.count("<td>n° ") == 3
    with app.test_request_context(f"/quartiers/{SCEAUX}"):
        frame = best_sites_frame(SCEAUX)
        view = build_district_map(
            app.extensions["qmi_atlas"],
            SCEAUX,
            experiments_frame([]),
            asset_url=None,
            tiles=False,
            link=None,
            report=cut_report(SCEAUX),
            best_sites=frame,
        )
    assert "meilleurs_sites" in [layer["key"] for layer in view.layers]


def test_best_sites_follow_a_new_crossing(client, sceaux_editor):
    before = get_json(client, f"/api/quartiers/{SCEAUX}/meilleurs-franchissements")
    lon, lat = before["features"][0]["geometry"]["coordinates"]
    response = sceaux_editor.post(
        f"/quartiers/{SCEAUX}/franchissements",
        data={
            "csrf_token": TOKEN,
            "kind": "passerelle",
            "status": "existant",
            "lat": lat,
            "lon": lon,
        },
    )
    assert response.status_code == 302
    after = get_json(client, f"/api/quartiers/{SCEAUX}/meilleurs-franchissements")
    top = after["features"][0]["properties"]
    assert top["avant"]["share_over_1_5"] == pytest.approx(
        before["features"][0]["properties"]["apres"]["share_over_1_5"], abs=0.002
    )
    assert after["features"][0]["geometry"]["coordinates"] != [lon, lat]


def test_the_headline_ranks_the_comparison_and_missing_cuts_are_said(client):
    data = get_json(client, "/api/comparaison")
    rows = data["comparaison"]
    shares = [r["coupures"]["part_allongee_50"] for r in rows]
    assert shares == sorted(shares, reverse=True)
    by_slug = {r["quartier"]["slug"]: r["coupures"] for r in rows}
    assert "trajet" in by_slug[SCEAUX]["titre"] and "50 %" in by_slug[SCEAUX]["titre"]
    assert by_slug[SCEAUX]["coupures_absentes"] == []
    meudon = [c["nom"] for c in by_slug["meudon-la-foret"]["coupures_absentes"]]
    assert "A86" in meudon and "N118" not in meudon
    assert "A4" in [c["nom"] for c in by_slug["noisy-mont-d-est"]["coupures_absentes"]]
    names = [f["properties"]["names"] for f in by_slug["meudon-la-foret"]["corridors"]["features"]]
    assert "N 118" in names
    page = client.get("/").get_data(as_text=True)
    table = page[page.index('id="comparison-table"') :]
    order = [table.index(f'data-slug="{r["quartier"]["slug"]}"') for r in rows]
    assert order == sorted(order)
    missing = sum(bool(r["coupures"]["coupures_absentes"]) for r in rows)
    assert table.count('class="incomplete"') == missing == 3  # all but Les Blagis
    district = client.get("/quartiers/meudon-la-foret").get_data(as_text=True)
    assert 'id="cut-missing"' in district and "A86" in district
    assert by_slug["meudon-la-foret"]["titre"] in html.unescape(district)


def test_meudon_detours_are_also_measured_on_its_street_network(client):
    meudon = get_json(client, "/api/quartiers/meudon-la-foret/coupures")
    net = meudon["detour_reseau"]
    assert 0 < net["n_mesures"] <= net["n_trajets"] == meudon["detour"]["n_pairs"]
    for model in ("reseau", "ligne_droite"):
        assert net[model]["median"] >= 1 and net[model]["p90"] >= net[model]["median"]
        assert 0 <= net[model]["share_over_1_5"] <= 1
    page = client.get("/quartiers/meudon-la-foret").get_data(as_text=True)
    assert 'id="network-table"' in page and "Ce que le modèle ne voit pas" in page
    sceaux = get_json(client, f"/api/quartiers/{SCEAUX}/coupures")
    assert sceaux["detour_reseau"] is None  # no street network covers Les Blagis
    assert 'id="network-table"' not in client.get(f"/quartiers/{SCEAUX}").get_data(as_text=True)
