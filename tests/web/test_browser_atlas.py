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
