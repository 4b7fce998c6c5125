"""The atlas pages in headless Chromium, with every non-loopback request blocked."""

import pytest

from tests.browser import click_feature, open_map, painted_share
from tests.conftest import screenshot

pytestmark = pytest.mark.browser


def test_overview_draws_districts_and_cuts_offline(page, live_server):
    counts = open_map(page, live_server + "/")
    assert page.evaluate("L.version") == "1.9.3"
    assert counts.get("quartier") == 4
    assert counts.get("coupure", 0) >= 10
    assert counts.get("gare", 0) >= 5
    assert painted_share(page) > 0.2  # the districts, communes and cuts are drawn
    assert page.locator(".leaflet-control-scale").count() == 1
    assert page.locator(".leaflet-control-layers").count() == 1
    assert page.locator(".leaflet-control-zoom-fullscreen").count() == 1
    assert "IGN" in page.locator(".leaflet-control-attribution").inner_text()
    assert page.locator(".card").count() == 4
    screenshot(page, "atlas-overview")
    assert page.watch.errors == []
    assert all("tile.openstreetmap.org" in u for u in page.watch.blocked)


def test_district_page_offline(page, live_server):
    counts = open_map(page, live_server + "/quartiers/sceaux-les-blagis")
    assert counts.get("quartier") == 4
    assert counts.get("coupure", 0) >= 1
    assert "périmètre indicatif" in page.content().lower()
    assert "Les Blagis" in page.locator("h1").inner_text()
    screenshot(page, "atlas-district-sceaux")
    assert page.watch.errors == []


def test_click_on_district_opens_its_page(page, live_server):
    open_map(page, live_server + "/")
    click_feature(page, "quartier", "slug", "noisy-mont-d-est")
    page.wait_for_url("**/quartiers/noisy-mont-d-est")
    assert "Mont d" in page.locator("h1").inner_text()


def label_texts(page, key: str) -> list[str]:
    return page.locator(f".qmi-label-{key}").all_inner_texts()


def test_without_tiles_the_map_names_what_matters(page, live_server, atlas):
    """Tiles blocked: the tile layer and its credit go, the map's own names stay."""
    open_map(page, live_server + "/")
    page.wait_for_function("() => QMI.map.getContainer().classList.contains('qmi-no-tiles')")
    attribution = page.locator(".leaflet-control-attribution").inner_text()
    assert "Fond © OpenStreetMap" not in attribution and "IGN" in attribution
    assert sorted(label_texts(page, "noms-quartiers")) == sorted(atlas.districts["nom"])
    assert label_texts(page, "noms-gares") == []  # too far out for station names
    page.evaluate("() => { QMI.map.setView([48.7765, 2.2905], 15, {animate: false}); }")
    page.wait_for_function("() => document.querySelectorAll('.qmi-label-noms-gares').length > 0")
    assert label_texts(page, "noms-communes")  # communes are named from zoom 13


def test_the_sides_are_numbered_on_the_district_map(page, live_server):
    open_map(page, f"{live_server}/quartiers/sceaux-les-blagis")
    numbers = label_texts(page, "numeros-cotes")
    assert numbers and all(n.startswith("côté n° ") for n in numbers)
    sides = page.locator("#coupures").inner_text()
    assert all(n in sides for n in numbers)  # the text names the same sides


@pytest.mark.parametrize("width", [390, 1400])
def test_the_attribution_never_covers_the_scale_bar(page, live_server, width):
    page.set_viewport_size({"width": width, "height": 900})
    open_map(page, f"{live_server}/quartiers/sceaux-les-blagis")
    boxes = page.evaluate(
        """() => ['.leaflet-control-attribution', '.leaflet-control-scale'].map(s => {
             const r = document.querySelector(s).getBoundingClientRect();
             return [r.left, r.top, r.right, r.bottom]; })"""
    )
    (a_left, a_top, a_right, a_bottom), (s_left, s_top, s_right, s_bottom) = boxes
    apart = a_left >= s_right or a_right <= s_left or a_top >= s_bottom or a_bottom <= s_top
    assert apart, boxes
