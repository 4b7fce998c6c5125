"""The offline HTML map: one file, nothing fetched, Leaflet starts from file://."""

from __future__ import annotations

import re

import pytest

from geoapp.exports.standalone import render_standalone
from tests.browser import click_feature, painted_share, wait_for_map
from tests.conftest import screenshot


@pytest.fixture(scope="module")
def programme_html(scene_of):
    return render_standalone(scene_of("all"))


def test_everything_is_inline(programme_html):
    html = programme_html.decode("utf-8")
    assert html.startswith("<!DOCTYPE html>") and '<html lang="fr">' in html
    assert not re.search(r"<script[^>]+src=", html)
    assert not re.search(r"<link[^>]+href=", html)
    assert "/vendor/" not in html and "qmi-inline:" not in html
    assert "url(images/" not in html  # Leaflet's CSS images are data: URIs
    assert "data:image/png;base64," in html and "data:image/svg+xml;base64," in html


def test_popups_have_no_links_into_the_app(programme_html):
    html = programme_html.decode("utf-8")
    assert "/quartiers/" not in html
    assert "/experimentations/" not in html
    assert '"url":' not in html


def test_title_legend_and_caveat_are_in_the_file(scene_of):
    html = render_standalone(scene_of("sceaux-les-blagis", theme="mobilité")).decode("utf-8")
    assert "<title>Les Blagis — Sceaux — QMI Atlas</title>" in html
    assert "Périmètres des quartiers indicatifs" in html
    assert "thème « mobilité »" in html
    assert "RER B" in html and "Mobilité" in html


def _open_offline(browser, path):
    """Open ``path`` from file:// with every other request aborted and recorded."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="fr-FR")
    requested, errors = [], []

    def route(r):
        if r.request.url.startswith(("file:", "data:", "blob:")):
            return r.continue_()
        requested.append(r.request.url)
        return r.abort("internetdisconnected")

    context.route("**/*", route)
    page = context.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(path.as_uri())
    wait_for_map(page)
    return context, page, requested, errors


@pytest.mark.browser
def test_programme_html_works_from_file_with_no_network(browser, programme_html, tmp_path):
    path = tmp_path / "qmi-programme-carte-interactive.html"
    path.write_bytes(programme_html)
    context, page, requested, errors = _open_offline(browser, path)
    try:
        counts = page.evaluate("QMI.countFeatures()")
        assert page.evaluate("L.version") == "1.9.3"
        assert counts.get("quartier") == 4
        assert counts.get("coupure", 0) >= 10
        assert counts.get("experimentation") == 3
        assert painted_share(page) > 0.2
        assert page.locator(".leaflet-control-layers").count() == 1
        assert "IGN" in page.locator(".leaflet-control-attribution").inner_text()
        assert "les quatre quartiers" in page.locator(".qmi-sa h1").inner_text()
        screenshot(page, "export-standalone-programme")
        assert requested == [] and errors == []
    finally:
        context.close()


@pytest.mark.browser
def test_district_html_opens_on_its_district(browser, scene_of, tmp_path):
    path = tmp_path / "sceaux.html"
    path.write_bytes(render_standalone(scene_of("sceaux-les-blagis")))
    context, page, requested, errors = _open_offline(browser, path)
    try:
        assert page.evaluate("QMI.countFeatures()").get("quartier") == 4
        centre = page.evaluate("[QMI.map.getCenter().lat, QMI.map.getCenter().lng]")
        assert centre[0] == pytest.approx(48.77, abs=0.02)
        assert centre[1] == pytest.approx(2.29, abs=0.03)
        click_feature(page, "quartier", "slug", "sceaux-les-blagis")
        page.locator(".leaflet-popup-content").wait_for(state="visible")  # a popup, no link
        assert requested == [] and errors == []
        assert page.url.startswith("file://") and page.url.endswith("sceaux.html")
    finally:
        context.close()
