"""Experiments in headless Chromium: hostile titles stay text; placing one by clicking the map.

The live server is shared with the other browser tests: accounts and titles are unique
per run, and feature counts are compared before/after, never to absolute values.
"""

import uuid

import geopandas as gpd
import pytest
import shapely
from shapely.geometry import Point

from geoapp.analysis import ANALYSIS_CRS, DISPLAY_CRS
from geoapp.registry import validate_experiment
from tests.browser import click_feature, map_point, open_map
from tests.conftest import screenshot

pytestmark = pytest.mark.browser

SCEAUX = "sceaux-les-blagis"
IN_SCEAUX = (2.3031, 48.7828)  # lon, lat
PASSWORD = "motdepasse-tres-long"


def unique() -> str:
    return uuid.uuid4().hex[:6]


def store_of(live_app):
    return live_app.extensions["qmi_store"]


def stored(live_app, atlas, *, title: str, lon: float, lat: float, **fields) -> dict:
    objectives = atlas.objectives()[SCEAUX]
    values = validate_experiment(
        {
            "title": title,
            "organisation": "<b onmouseover=alert(2)>Org</b>",
            "org_kind": "startup",
            "theme": "espaces publics",
            "objectives": [objectives[0]],
            "description": "<script>alert(3)</script>",
            "status": "proposée",
            "lon": str(lon),
            "lat": str(lat),
            "precision": "indicative",
            "location_note": "${alert(4)}",
            **fields,
        },
        objectives=objectives,
    )
    return store_of(live_app).create_experiment(values, district=SCEAUX, user="test-navigateur")


def open_popup(page, experiment_id: int) -> str:
    """Zoom in on the experiment, as a user tells close markers apart, and click it."""
    # A closed popup fades out for 200 ms before leaving the DOM: wait for it to go.
    page.evaluate("() => { QMI.map.closePopup(); }")
    page.wait_for_function("() => document.querySelectorAll('.leaflet-popup').length === 0")
    click_feature(page, "experimentation", "id", experiment_id, zoom=17)
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for(state="visible")
    # the details load when the popup opens
    page.wait_for_function(
        "() => !document.querySelector('.leaflet-popup-content').textContent.includes('Chargement')"
    )
    return popup.inner_text()


def hover(page, lon: float, lat: float, title: str) -> str:
    """Pan the spot to the map's centre (away from controls), hover it, read its tooltip."""
    page.evaluate(
        "([lat, lon]) => { QMI.map.panTo(L.latLng(lat, lon), {animate: false}); }", [lat, lon]
    )
    page.mouse.move(*map_point(page, lon, lat))
    tooltip = page.locator(".leaflet-tooltip", has_text=title)
    tooltip.wait_for(state="visible")
    return tooltip.inner_text()


def login(page, live_server, live_app) -> str:
    username = f"editeur-{unique()}"
    store_of(live_app).add_user(username, PASSWORD, role="editeur", commune="92071")
    page.goto(f"{live_server}/connexion")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.form button[type=submit]")
    page.wait_for_url(f"{live_server}/")
    assert username in page.locator(".nav-user").inner_text()
    return username


def start_placing(page, live_server) -> None:
    open_map(page, f"{live_server}/quartiers/{SCEAUX}")
    page.click("#placement-toggle")
    assert page.get_attribute("#placement-toggle", "aria-pressed") == "true"
    assert page.locator("#experiment-form").is_visible()


def wait_for_verdict(page) -> None:
    """Wait for the placement panel to say whether the point is inside the district."""
    page.wait_for_function("() => document.querySelector('[data-field=inside]').textContent")


def fill_form(page, title: str) -> None:
    form = page.locator("#experiment-form")
    form.locator("input[name=title]").fill(title)
    form.locator("input[name=organisation]").fill("Association des Blagis")
    form.locator("select[name=org_kind]").select_option("association")
    form.locator("select[name=theme]").select_option("lien social et culture")
    form.locator("input[name=objectives]").first.check()
    form.locator("textarea[name=description]").fill("Un banc-bibliothèque\nau pied des immeubles.")
    form.locator("select[name=status]").select_option("sélectionnée")
    form.locator("select[name=precision]").select_option("exacte")


def outside_sceaux(atlas) -> tuple[float, float]:
    """(lon, lat) 200 m west of the district's westernmost point, still on its map."""
    geom = atlas.district(SCEAUX).geometry
    minx, _, _, _ = geom.bounds
    west = min(shapely.get_coordinates(geom), key=lambda c: c[0])
    p = gpd.GeoSeries([Point(minx - 200, west[1])], crs=ANALYSIS_CRS).to_crs(DISPLAY_CRS).iloc[0]
    return p.x, p.y


# Hostile titles ------------------------------------------------------------------------------


def test_hostile_titles_stay_text_in_chromium(page, live_server, live_app, atlas):
    tag = unique()
    lon, lat = IN_SCEAUX
    img = stored(
        live_app, atlas, title=f"<img src=x onerror=alert(1)> {tag}", lon=lon, lat=lat + 0.0010
    )
    dollar = stored(
        live_app, atlas, title=f"${{alert(1)}} {tag}", lon=lon + 0.0015, lat=lat + 0.0010
    )
    # Template syntax: rendered once by branca before the fix, "Atelier 42" in the popup.
    template = stored(
        live_app,
        atlas,
        lon=lon + 0.0008,
        lat=lat + 0.0020,
        title="Atelier {{ 6*7 }} {% if 1 %}x{% endif %} {# $\\frac{1}{2}$ & " + tag,
    )
    # the detail page's map shows its district's experiments: both are on every map here
    for url in ("/", f"/quartiers/{SCEAUX}", f"/experimentations/{img['id']}"):
        open_map(page, live_server + url)
        for e in (img, dollar, template):
            popup = open_popup(page, e["id"])
            assert e["title"] in popup
            popup_box = page.locator(".leaflet-popup-content")
            assert popup_box.get_by_text(e["title"], exact=True).is_visible()
            assert "<b onmouseover=alert(2)>Org</b> (startup)" in popup
            assert "${alert(4)}" in popup
            if url == f"/quartiers/{SCEAUX}":
                screenshot(page, f"experiments-xss-popup-{'img' if e is img else 'dollar'}")
            page.locator(".leaflet-popup-close-button").click()
            assert hover(page, e["lon"], e["lat"], e["title"]) == f"{e['title']} — proposée"
            assert page.locator("img[src='x']").count() == 0
            assert page.locator("b[onmouseover]").count() == 0
    for url in ("/experimentations", f"/quartiers/{SCEAUX}"):
        page.goto(live_server + url)
        assert page.get_by_role("link", name=img["title"], exact=True).is_visible()
        assert page.get_by_role("link", name=dollar["title"], exact=True).is_visible()
        assert page.get_by_role("link", name=template["title"], exact=True).is_visible()
    for e in (img, dollar, template):
        page.goto(f"{live_server}/experimentations/{e['id']}")
        assert page.locator("#experiment-title").inner_text() == e["title"]
        assert page.locator(".description").inner_text() == "<script>alert(3)</script>"
    screenshot(page, "experiments-xss-detail")
    assert page.watch.dialogs == []
    assert page.watch.errors == []


def test_placement_info_shows_nearby_hostile_titles_as_text(page, live_server, live_app, atlas):
    tag = unique()
    lon, lat = IN_SCEAUX
    near = stored(
        live_app,
        atlas,
        title=f"<img src=x onerror=alert(1)> voisin {tag}",
        lon=lon - 0.0015,
        lat=lat - 0.0010,
    )
    login(page, live_server, live_app)
    start_placing(page, live_server)
    page.mouse.click(*map_point(page, near["lon"] + 0.0003, near["lat"]))  # ~22 m east
    info = page.locator("#placement-info")
    info.wait_for(state="visible")
    page.wait_for_function(
        "() => document.querySelector('[data-field=nearby]').textContent.includes('doublon')"
    )
    nearby = info.locator('[data-field="nearby"]').inner_text()
    assert f"« {near['title']} »" in nearby
    assert page.locator("img[src='x']").count() == 0
    screenshot(page, "experiments-placement-duplicate")
    assert page.watch.dialogs == []
    assert page.watch.errors == []


# Placing an experiment by clicking the map ------------------------------------------------


def test_place_an_experiment_by_clicking_the_map(page, live_server, live_app, atlas):
    title = f"Banc-bibliothèque {unique()}"
    before = open_map(page, live_server + "/").get("experimentation", 0)
    username = login(page, live_server, live_app)

    start_placing(page, live_server)
    # a spot of its own: the other tests place their experiments at IN_SCEAUX, and two at
    # one spot open as a list, not as this one's popup
    lon, lat = IN_SCEAUX[0] + 0.0007, IN_SCEAUX[1] - 0.0004
    page.mouse.click(*map_point(page, lon, lat))
    form = page.locator("#experiment-form")
    assert float(form.locator("input[name=lat]").input_value()) == pytest.approx(lat, abs=1e-4)
    assert float(form.locator("input[name=lon]").input_value()) == pytest.approx(lon, abs=1e-4)
    info = page.locator("#placement-info")
    info.wait_for(state="visible")
    wait_for_verdict(page)
    assert "Dans le périmètre" in info.inner_text()
    assert "Coupure la plus proche : RER B" in info.inner_text()
    assert page.locator(".leaflet-marker-draggable").count() == 1
    fill_form(page, title)
    screenshot(page, "experiments-placement-form")

    form.locator("button[type=submit]").click()
    page.wait_for_url(f"{live_server}/experimentations/*")
    assert page.locator("#experiment-title").inner_text() == title
    assert f"Expérimentation « {title} » enregistrée." in page.locator(".flashes").inner_text()
    history = page.locator("#history").inner_text()
    # an editor is named by role and commune on the page, never by the account
    assert "éditeur Sceaux" in history and "création" in history
    assert username not in history
    [saved] = [e for e in store_of(live_app).list_experiments() if e["title"] == title]
    assert saved["lat"] == pytest.approx(lat, abs=1e-4)
    assert saved["lon"] == pytest.approx(lon, abs=1e-4)
    screenshot(page, "experiments-placement-detail")

    after = open_map(page, live_server + "/").get("experimentation", 0)
    assert after == before + 1
    assert page.evaluate("(id) => !!QMI.experimentMarker(id)", saved["id"])
    popup = open_popup(page, saved["id"])
    assert title in popup and "lien social et culture" in popup and "sélectionnée" in popup
    assert (
        page.locator(".leaflet-popup-content a").get_attribute("href")
        == f"/experimentations/{saved['id']}"
    )
    page.locator(".leaflet-popup-close-button").click()
    assert hover(page, saved["lon"], saved["lat"], title) == f"{title} — sélectionnée"
    screenshot(page, "experiments-placement-overview")
    assert page.watch.dialogs == []
    assert page.watch.errors == []


def test_placing_outside_the_district_is_refused(page, live_server, live_app, atlas):
    title = f"Hors quartier {unique()}"
    login(page, live_server, live_app)
    start_placing(page, live_server)
    lon, lat = outside_sceaux(atlas)
    page.mouse.click(*map_point(page, lon, lat))
    info = page.locator("#placement-info")
    wait_for_verdict(page)
    text = info.inner_text()
    assert "Hors du quartier" in text and "L’enregistrement sera refusé." in text
    assert "is-outside" in info.get_attribute("class")
    fill_form(page, title)
    typed_lat = page.locator("#experiment-form input[name=lat]").input_value()
    screenshot(page, "experiments-placement-outside")

    with page.expect_navigation() as navigation:
        page.locator("#experiment-form button[type=submit]").click()
    assert navigation.value.status == 422
    form = page.locator("#experiment-form")
    assert "en dehors du quartier Les Blagis" in form.locator("#err-lat").inner_text()
    assert form.locator("input[name=title]").input_value() == title
    assert form.locator("input[name=organisation]").input_value() == "Association des Blagis"
    assert form.locator("select[name=theme]").input_value() == "lien social et culture"
    assert form.locator("input[name=objectives]").first.is_checked()
    assert form.locator("textarea[name=description]").input_value() == (
        "Un banc-bibliothèque\nau pied des immeubles."
    )
    assert form.locator("input[name=lat]").input_value() == typed_lat
    # the marker is back where it was, with the same warning
    wait_for_verdict(page)
    assert "Hors du quartier" in page.locator("#placement-info").inner_text()
    assert page.locator(".leaflet-marker-draggable").count() == 1
    screenshot(page, "experiments-placement-refused")
    assert not [
        e
        for e in store_of(live_app).list_experiments(include_withdrawn=True)
        if e["title"] == title
    ]
    assert page.watch.dialogs == []
    # Chromium logs the refused page's own 422 status; any other error fails the test.
    refused = (
        f"the server responded with a status of 422 (UNPROCESSABLE ENTITY) @ "
        f"{live_server}/quartiers/{SCEAUX}/experimentations"
    )
    assert [e for e in page.watch.errors if not e.endswith(refused)] == []
