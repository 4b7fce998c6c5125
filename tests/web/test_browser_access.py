"""Every page in Chromium, as RGAA 4.1 asks of French public bodies: axe-core finds no
"serious" or "critical" violation, no page scrolls sideways on a 390 px phone, the map
comes before long text there and uses the width of a 1920 px projector; the keyboard
reaches everything the map shows (skip link, named map region, French control labels,
shapes out of the tab order with a list of links instead, visible focus)."""

from __future__ import annotations

import pytest

from tests.accessibility import blocking_violations, horizontal_overflow, tab_to
from tests.browser import open_map, wait_for_map
from tests.conftest import screenshot
from tests.web.experiments_helpers import stored
from tests.web.test_browser_cuts import login

pytestmark = pytest.mark.browser

SCEAUX = "sceaux-les-blagis"
PHONE = {"width": 390, "height": 844}
PROJECTOR = {"width": 1920, "height": 1080}


def page_paths(live_app) -> dict[str, str]:
    """Every kind of page, by name: the maps, the registry, the texts, login, an error."""
    [first, *_] = live_app.extensions["qmi_store"].list_experiments()
    return {
        "overview": "/",
        "district": f"/quartiers/{SCEAUX}",
        "experiment": f"/experimentations/{first['id']}",
        "registry": "/experimentations",
        "method": "/methode",
        "sources": "/sources",
        "login": "/connexion",
        "error": "/quartiers/pas-un-quartier",
        "embed": "/carte",
        "embed-district": f"/quartiers/{SCEAUX}/carte",
    }


def load(page, url: str) -> None:
    page.goto(url)
    page.wait_for_load_state("load")
    if page.evaluate("() => !!document.querySelector('.folium-map')"):
        wait_for_map(page)


@pytest.mark.parametrize("viewport", [PHONE, PROJECTOR], ids=["390px", "1920px"])
def test_every_page_passes_axe_and_never_scrolls_sideways(page, live_server, live_app, viewport):
    page.set_viewport_size(viewport)
    failures = {}
    for name, path in page_paths(live_app).items():
        load(page, live_server + path)
        problems = blocking_violations(page)
        overflow = horizontal_overflow(page)
        if problems or overflow:
            failures[name] = {"axe": problems, "overflow_px": overflow}
    assert failures == {}


def focus_ring(page) -> str:
    return page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")


def test_skip_link_and_named_map_region(page, live_server):
    open_map(page, f"{live_server}/")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent") == "Aller au contenu"
    assert page.evaluate("() => document.activeElement.getBoundingClientRect().top") >= 0
    assert focus_ring(page) == "solid"
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "contenu"
    regions = page.get_by_role("region", name="Carte interactive", exact=False)
    assert regions.count() == 1
    assert (
        regions.locator(".leaflet-container").count()
        + regions.evaluate("r => r.classList.contains('leaflet-container')")
        == 1
    )
    assert "flèches pour se déplacer" in page.locator(".leaflet-container").get_attribute(
        "aria-label"
    )


def test_map_controls_speak_french_and_shapes_stay_out_of_the_tab_order(page, live_server):
    open_map(page, f"{live_server}/quartiers/{SCEAUX}")
    labels = page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll(
             '.leaflet-control a, .leaflet-control-attribution')].map(
             e => [e.className.split(' ')[0], e.getAttribute('aria-label') || e.title]))"""
    )
    assert labels["leaflet-control-zoom-in"] == "Zoom avant"
    assert labels["leaflet-control-zoom-out"] == "Zoom arrière"
    assert labels["leaflet-control-layers-toggle"] == "Couches de la carte"
    assert labels["leaflet-control-attribution"] == "Sources de la carte"
    assert (
        page.locator("a.leaflet-control-zoom-fullscreen").get_attribute("aria-label")
        == "Plein écran"
    )
    tabbable_shapes = page.evaluate(
        """() => [...document.querySelectorAll('.leaflet-pane *')].filter(e =>
             e.tabIndex >= 0 && !e.closest('.leaflet-popup')).length"""
    )
    assert tabbable_shapes == 0
    tab_to(page, ".leaflet-control-zoom-in")
    assert focus_ring(page) == "solid"
    zoom = page.evaluate("QMI.map.getZoom()")
    page.keyboard.press("Enter")
    page.wait_for_function(f"() => QMI.map.getZoom() > {zoom}")
    assert page.watch.errors == []


def test_keyboard_list_of_the_map_features_links_to_their_pages(page, live_server, live_app):
    open_map(page, f"{live_server}/")
    listing = page.locator("#qmi-map-list")
    tab_to(page, "#qmi-map-list > summary")
    page.keyboard.press("Enter")
    assert listing.get_attribute("open") is not None
    districts = listing.locator('a[href^="/quartiers/"]')
    assert districts.count() == len(live_app.extensions["qmi_atlas"].slugs)
    assert "Les Blagis" in listing.inner_text()
    # A station has no page: its button centres the map on it, and says so.
    station = listing.locator("button.linklike").first
    station.focus()
    page.keyboard.press("Enter")
    page.wait_for_function("() => QMI.map.getZoom() >= 16")
    assert "Carte centrée sur" in listing.locator("[aria-live]").inner_text()

    open_map(page, f"{live_server}/quartiers/{SCEAUX}")
    listed = live_app.extensions["qmi_store"].list_experiments(district=SCEAUX)
    side = page.locator(".exp-list a")
    on_map = page.locator('#qmi-map-list a[href^="/experimentations/"]')
    assert side.count() == on_map.count() == len(listed)
    assert {side.nth(i).get_attribute("href") for i in range(side.count())} == {
        f"/experimentations/{x['id']}" for x in listed
    }


@pytest.mark.parametrize("viewport", [PHONE, PROJECTOR], ids=["390px", "1920px"])
def test_map_first_on_a_phone_and_full_width_on_a_projector(page, live_server, viewport):
    page.set_viewport_size(viewport)
    width = viewport["width"]
    for name, path in {"overview": "/", "district": f"/quartiers/{SCEAUX}"}.items():
        open_map(page, live_server + path)
        box = page.locator(".map-frame").bounding_box()
        assert box["width"] >= width * (0.9 if width < 700 else 0.6)
        if name == "overview":
            intro = page.locator(".intro > p").first.bounding_box()
            above = intro["y"] < box["y"]
            assert above is (width >= 700), "on a phone the map comes before the introduction"
        screenshot(page, f"access-{name}-{width}px")


def test_pages_seen_by_an_editor_pass_axe_too(page, live_server, live_app, atlas):
    """The forms an editor gets (placement, crossings, import, edit) are checked too."""
    login(page, live_server, live_app, "92071")
    first = stored(live_app.extensions["qmi_store"], atlas, SCEAUX)
    failures = {}
    for viewport in (PHONE, PROJECTOR):
        page.set_viewport_size(viewport)
        for path in (
            f"/quartiers/{SCEAUX}",
            f"/experimentations/{first['id']}",
            "/experimentations",
        ):
            load(page, live_server + path)
            if path.startswith("/quartiers/"):
                page.click("#placement-toggle")
                page.click("#crossing-add summary")
            problems, overflow = blocking_violations(page), horizontal_overflow(page)
            if problems or overflow:
                failures[(viewport["width"], path)] = {"axe": problems, "overflow_px": overflow}
    assert failures == {}
