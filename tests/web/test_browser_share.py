"""Permalinks and the Partager panel in Chromium: the view (centre, zoom, layers) lives
in the address and comes back on reload, with the filters; the link and an <iframe>
snippet are copied (clipboard, or a selected field where there is none); the embed view
shows the same view in a frame of the app itself and refuses other sites."""

from __future__ import annotations

import re

import pytest

from tests.accessibility import horizontal_overflow, tab_to
from tests.browser import MAP_SETTLED, open_map, wait_for_map
from tests.conftest import screenshot

pytestmark = pytest.mark.browser

SCEAUX = "sceaux-les-blagis"
VIEW = (48.7795, 2.2948, 15.5)  # lat, lon, zoom: Les Blagis and its RER B


def view(page) -> dict:
    return page.evaluate(
        """() => ({lat: QMI.map.getCenter().lat, lon: QMI.map.getCenter().lng,
                   zoom: QMI.map.getZoom(),
                   layers: Object.keys(QMI.overlays).filter(
                     k => QMI.map.hasLayer(QMI.overlays[k].layer)).sort()})"""
    )


def same_view(a: dict, b: dict) -> bool:
    return (
        abs(a["lat"] - b["lat"]) < 1e-4
        and abs(a["lon"] - b["lon"]) < 1e-4
        and a["zoom"] == b["zoom"]
        and a["layers"] == b["layers"]
    )


def move_and_hide(page, *layers: str) -> dict:
    page.evaluate("(keys) => { keys.forEach(k => QMI.showLayer(k, false)); }", list(layers))
    page.evaluate("([lat, lon, z]) => { QMI.map.setView([lat, lon], z, {animate: false}); }", VIEW)
    page.wait_for_function("() => location.hash.startsWith('#carte=')")
    return view(page)


def test_a_permalink_reloads_into_the_same_view(page, live_server):
    open_map(page, f"{live_server}/?statut=déployée")
    shown = move_and_hide(page, "gares", "experimentations")
    assert not {"gares", "experimentations"} & set(shown["layers"])
    assert "quartiers" in shown["layers"]
    assert re.search(r"#carte=48\.779\d*,2\.294\d*,15\.5&couches=", page.url)
    link = page.url
    page.reload()
    wait_for_map(page)
    assert same_view(view(page), shown)
    assert page.input_value("#filters select[name=statut]") == "déployée"
    # Sent to someone else: a fresh page opens the link on the same view.
    other = page.context.new_page()
    other.goto(link)
    wait_for_map(other)
    assert same_view(view(other), shown)
    other.close()
    # Filtering again keeps the view too.
    page.select_option("#filters select[name=theme]", index=1)
    with page.expect_navigation():
        page.click("#filters button[type=submit]")
    wait_for_map(page)
    assert same_view(view(page), shown)
    assert "theme=" in page.url and "statut=" in page.url
    assert page.watch.errors == []


def test_partager_copies_the_link_and_an_iframe_snippet(page, live_server):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    open_map(page, f"{live_server}/quartiers/{SCEAUX}")
    move_and_hide(page, "qpv")
    tab_to(page, "#qmi-share > summary")
    page.keyboard.press("Enter")
    link = page.input_value("#qmi-share-link")
    assert link == page.url and "#carte=" in link
    snippet = page.input_value("#qmi-share-embed")
    src = re.fullmatch(r'<iframe src="([^"]+)" title="Carte QMI Atlas"[^>]*></iframe>', snippet)
    assert src and src.group(1).startswith(f"{live_server}/quartiers/{SCEAUX}/carte#carte=")
    page.click("#qmi-share-copy")
    page.wait_for_function("() => document.getElementById('qmi-share-status').textContent")
    assert page.locator("#qmi-share-status").inner_text() == "Copié dans le presse-papiers."
    assert page.evaluate("navigator.clipboard.readText()") == link
    page.evaluate("() => { document.getElementById('qmi-share-status').textContent = ''; }")
    page.click("#qmi-share-copy-embed")
    page.wait_for_function("() => document.getElementById('qmi-share-status').textContent")
    assert page.evaluate("navigator.clipboard.readText()") == snippet
    screenshot(page, "share-panel-district")

    # No clipboard (an old browser, a page not served over HTTPS): the field is selected.
    page.evaluate("() => Object.defineProperty(navigator, 'clipboard', {value: undefined})")
    page.click("#qmi-share-copy")
    assert "sélectionné" in page.locator("#qmi-share-status").inner_text()
    selected = page.evaluate(
        """() => { const f = document.activeElement;
                   return [f.id, f.selectionStart, f.selectionEnd, f.value.length]; }"""
    )
    assert selected == ["qmi-share-link", 0, len(link), len(link)]
    page.keyboard.press("Escape")
    assert page.get_attribute("#qmi-share", "open") is None
    assert page.watch.errors == []


def test_the_embed_view_opens_the_shared_view_and_frames_only_on_the_app(page, live_server):
    page.set_viewport_size({"width": 390, "height": 600})
    lat, lon, zoom = VIEW
    open_map(
        page,
        f"{live_server}/quartiers/{SCEAUX}/carte#carte={lat},{lon},{zoom}&couches=quartiers,coupures",
    )
    shown = view(page)
    assert (round(shown["lat"], 4), round(shown["lon"], 4), shown["zoom"]) == VIEW
    assert shown["layers"] == ["coupures", "quartiers"]
    assert page.locator(".topbar, #qmi-search-input, #qmi-share").count() == 0
    assert horizontal_overflow(page) == 0
    legend = page.locator(".legend")
    assert legend.is_hidden()
    page.click(".embed-legend > summary")
    assert legend.is_visible()
    opener = page.locator("a[data-keeps-view]")
    assert opener.get_attribute("href").startswith(f"{live_server}/quartiers/{SCEAUX}#carte=")
    screenshot(page, "embed-district-390px")

    # A page of the app itself may frame it...
    frame_page = f"{live_server}/__tests__/cadre.html"
    iframe = f'<iframe src="{live_server}/carte" title="Carte" width="600" height="400"></iframe>'
    page.route(frame_page, lambda r: r.fulfill(body=iframe, content_type="text/html"))
    page.goto(frame_page)
    framed = page.frame_locator("iframe").locator(".leaflet-container")
    framed.wait_for()
    [child] = [f for f in page.frames if f != page.main_frame]
    child.wait_for_function(MAP_SETTLED)
    # ...another site may not (frame-ancestors 'self'): Chromium shows no map there.
    stranger = "http://localhost:9/cadre.html"
    page.route(stranger, lambda r: r.fulfill(body=iframe, content_type="text/html"))
    page.goto(stranger)
    [child] = [f for f in page.frames if f != page.main_frame]
    child.wait_for_load_state()
    assert child.evaluate("() => !!window.QMI") is False


def test_an_anchor_of_the_page_stays_until_the_map_is_used(page, live_server):
    open_map(page, f"{live_server}/quartiers/{SCEAUX}#coupures")
    page.evaluate("() => { QMI.map.setView(QMI.map.getCenter(), 16, {animate: false}); }")
    page.wait_for_function(MAP_SETTLED)
    assert page.url.endswith("#coupures")  # the link to the cut section still says so
    page.locator(".leaflet-container").focus()
    page.keyboard.press("Minus")  # Leaflet's keyboard zoom: the map is being used
    page.wait_for_function("() => location.hash.startsWith('#carte=')")
    assert view(page)["zoom"] < 16
