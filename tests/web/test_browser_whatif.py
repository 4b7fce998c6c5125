"""The what-if without a mouse, and as a list: a corridor and a position chosen with the
keyboard give the answer a click on the same spot gives; tested sites stay numbered on
the map and in the table until removed; a planner's site name stays text."""

from __future__ import annotations

import pytest

from tests.accessibility import horizontal_overflow, tab_to
from tests.browser import map_point, open_map
from tests.conftest import screenshot
from tests.web.test_browser_cuts import SCEAUX, site_rows

pytestmark = pytest.mark.browser

HOSTILE = "{{ 7*7 }} <b>gras</b> & Cie"


def preview_lonlat(page) -> tuple[float, float]:
    ll = page.evaluate(
        """() => { let p = null; QMI.map.eachLayer(l => {
             if (l.options && l.options.className === 'qmi-whatif-preview') p = l.getLatLng(); });
             return [p.lng, p.lat]; }"""
    )
    return ll[0], ll[1]


def test_what_if_with_the_keyboard_only_then_compared_and_removed(page, live_server):
    open_map(page, f"{live_server}/quartiers/{SCEAUX}")
    page.locator("body").focus()
    tab_to(page, "#whatif-corridor")
    page.keyboard.press("ArrowDown")  # one corridor in Les Blagis: it stays chosen
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.id") == "whatif-range"
    start = int(page.input_value("#whatif-metres"))
    before = preview_lonlat(page)
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    assert int(page.input_value("#whatif-metres")) == start + 50
    assert preview_lonlat(page) != before  # the ring on the map follows the position
    assert "m sur" in page.locator("#whatif-position-text").inner_text()
    tab_to(page, "#whatif-label")
    page.keyboard.type(HOSTILE)
    tab_to(page, "#whatif-form [type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_selector("#whatif-table tbody tr")
    [keyboard] = site_rows(page)
    assert keyboard["n"] == 1
    assert keyboard["site"].startswith(HOSTILE + " — RER B, à ")
    assert page.locator("#whatif-table b").count() == 0
    assert "49" not in page.locator("#whatif-table").inner_text()
    assert keyboard["median"][1] <= keyboard["median"][0]

    # The same spot clicked on the map gives the same answer (a pixel is a few metres).
    lon, lat = preview_lonlat(page)
    page.click("#whatif-toggle")
    page.mouse.click(*map_point(page, lon, lat))
    page.wait_for_function("() => document.querySelectorAll('#whatif-table tbody tr').length == 2")
    first, clicked = site_rows(page)
    assert first == keyboard and clicked["n"] == 2
    for key in ("median", "p90", "share"):
        assert clicked[key][0] == keyboard[key][0]
        assert abs(clicked[key][1] - keyboard[key][1]) <= 0.02
    assert page.locator(".qmi-whatif-marker").count() == 2
    assert page.locator(".qmi-whatif-marker").all_inner_texts() == ["1", "2"]
    page.click("#whatif-toggle")  # clicks on the map stop testing
    assert horizontal_overflow(page) == 0
    screenshot(page, "whatif-two-sites-sceaux")

    # "Retirer" the first, with the keyboard: the other stays, and keeps its number.
    tab_to(page, '#whatif-table button[aria-label="Retirer le site n° 1"]')
    page.keyboard.press("Enter")
    [kept] = site_rows(page)
    assert kept == clicked
    assert page.locator(".qmi-whatif-marker").all_inner_texts() == ["2"]
    assert page.evaluate("() => document.activeElement.getAttribute('aria-label')") == (
        "Retirer le site n° 2"
    )
    assert "Site n° 1 retiré" in page.locator("#whatif-summary").inner_text()
    page.keyboard.press("Enter")
    assert site_rows(page) == [] and page.locator("#whatif-sites").is_hidden()
    assert page.locator(".qmi-whatif-marker").count() == 0
    assert page.watch.errors == []


def test_the_position_field_and_the_range_agree(page, live_server):
    open_map(page, f"{live_server}/quartiers/{SCEAUX}")
    maximum = int(page.get_attribute("#whatif-range", "max"))
    assert maximum > 500  # metres of RER B drawn in the study area
    page.fill("#whatif-metres", str(maximum * 10))  # beyond the end: held at the end
    assert int(page.input_value("#whatif-range")) == maximum
    page.fill("#whatif-metres", "0")
    assert page.input_value("#whatif-range") == "0"
    assert "(0 %)" in page.locator("#whatif-position-text").inner_text()
