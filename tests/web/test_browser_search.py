"""The map search in Chromium: communes, districts, stations and experiments found by
name whatever the accents and case, with the keyboard (ARIA combobox), and the map
zoomed to the result; hostile titles stay text; the filter's district zooms too."""

from __future__ import annotations

import uuid

import pytest

from tests.accessibility import tab_to
from tests.browser import MAP_SETTLED, open_map
from tests.web.experiments_helpers import SCEAUX, stored

pytestmark = pytest.mark.browser

HOSTILE = "Fête {{ 7*7 }} <b>gras</b> & Cie"


def type_query(page, text: str) -> list[str]:
    """Type ``text`` in the search box; the names listed."""
    box = page.locator("#qmi-search-input")
    box.fill("")
    box.press_sequentially(text)
    page.wait_for_function(
        "() => document.getElementById('qmi-search-status').textContent.includes('résultat')"
    )
    return page.locator("#qmi-search-list .map-search-name").all_inner_texts()


def choose_first(page) -> None:
    page.keyboard.press("ArrowDown")
    active = page.get_attribute("#qmi-search-input", "aria-activedescendant")
    assert page.get_attribute(f"#{active}", "aria-selected") == "true"
    page.keyboard.press("Enter")
    page.wait_for_function(MAP_SETTLED)
    assert page.get_attribute("#qmi-search-input", "aria-expanded") == "false"


def centre_is_near(page, lon: float, lat: float, metres: float) -> bool:
    return page.evaluate(
        "([lat, lon, m]) => QMI.map.getCenter().distanceTo(L.latLng(lat, lon)) < m",
        [lat, lon, metres],
    )


def test_districts_and_communes_whatever_the_accents_and_case(page, live_server, atlas):
    open_map(page, f"{live_server}/")
    tab_to(page, "#qmi-search-input")  # the box is reached with the keyboard
    assert page.get_attribute("#qmi-search-input", "role") == "combobox"
    for query in ["Blagis", "blagis", "Les Blagis", "LES BLÂGIS", "les-blagis"]:
        assert type_query(page, query)[0] == "Les Blagis", query
    assert page.get_attribute("#qmi-search-input", "aria-expanded") == "true"
    choose_first(page)
    lon, lat = atlas.centres_lonlat()[SCEAUX]
    assert page.evaluate(f"QMI.map.getBounds().contains(L.latLng({lat}, {lon}))")
    assert page.evaluate("QMI.map.getZoom()") >= 14
    status = page.locator("#qmi-search-status")
    assert "Carte centrée sur : Les Blagis (Quartier)" in status.inner_text()
    assert status.locator("a").get_attribute("href") == f"/quartiers/{SCEAUX}"

    names = type_query(page, "aulnay")
    assert names[0] == "Aulnay-sous-Bois"
    kinds = page.locator("#qmi-search-list .map-search-detail").all_inner_texts()
    assert kinds[0].startswith("Commune")
    assert "Centre Gare" in names  # the district of Aulnay, by its commune
    choose_first(page)
    page.keyboard.press("Escape")  # a closed list: Escape empties the box
    assert page.input_value("#qmi-search-input") == ""
    assert page.watch.errors == []


def test_a_station_and_an_experiment_by_name(page, live_server, live_app, atlas):
    store = live_app.extensions["qmi_store"]
    title = f"Jardin éphémère n° {uuid.uuid4().hex[:6]}"
    mine = stored(store, atlas, SCEAUX, title=title)
    open_map(page, f"{live_server}/")
    station = atlas.stations.to_crs(4326).iloc[0]
    assert type_query(page, station["nom"].upper())[0] == station["nom"]
    page.locator("#qmi-search-input").focus()
    choose_first(page)
    assert centre_is_near(page, station.geometry.x, station.geometry.y, 5)
    assert page.evaluate("QMI.map.getZoom()") == 17

    assert title in type_query(page, title.replace("é", "e").lower())
    choose_first(page)
    assert centre_is_near(page, mine["lon"], mine["lat"], 5)
    status = page.locator("#qmi-search-status")
    assert status.locator("a").get_attribute("href") == f"/experimentations/{mine['id']}"


def test_hostile_titles_in_the_results_stay_text(page, live_server, live_app, atlas):
    stored(live_app.extensions["qmi_store"], atlas, SCEAUX, title=HOSTILE)
    open_map(page, f"{live_server}/")
    assert HOSTILE in type_query(page, "fete 7")
    results = page.locator("#qmi-search-list")
    assert results.locator("b").count() == 0
    assert "49" not in results.inner_text()
    choose_first(page)
    assert HOSTILE in page.locator("#qmi-search-status").inner_text()
    assert page.locator("#qmi-search-status b").count() == 0
    assert page.watch.errors == [] and page.watch.dialogs == []


def test_choosing_a_district_in_the_filter_zooms_to_it(page, live_server, atlas):
    open_map(page, f"{live_server}/")
    page.select_option("#filters select[name=quartier]", SCEAUX)
    page.wait_for_function(MAP_SETTLED)
    lon, lat = atlas.centres_lonlat()[SCEAUX]
    assert page.evaluate("QMI.map.getZoom()") >= 14
    assert centre_is_near(page, lon, lat, 600)
    # Submitted, the filtered page opens on the district too.
    open_map(page, f"{live_server}/?quartier={SCEAUX}")
    assert page.evaluate("QMI.map.getZoom()") >= 14
    assert centre_is_near(page, lon, lat, 600)
