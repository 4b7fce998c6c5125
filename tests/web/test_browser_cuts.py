"""The urban cut in headless Chromium: what-if crossings and adding a crossing on the map.

The live server is shared with the other browser tests: accounts and crossing names are
unique, and counts are compared before/after rather than to absolute values.
"""

import uuid

import geopandas as gpd
import pytest
import shapely
from shapely.geometry import Point

from geoapp.analysis import ANALYSIS_CRS, DISPLAY_CRS
from tests.browser import click_map_at, open_map, wait_for_map
from tests.conftest import screenshot

pytestmark = pytest.mark.browser

SCEAUX = "sceaux-les-blagis"
PASSWORD = "motdepasse-tres-long"


def lonlat(point: Point) -> tuple[float, float]:
    p = gpd.GeoSeries([point], crs=ANALYSIS_CRS).to_crs(DISPLAY_CRS).iloc[0]
    return p.x, p.y


def on_rer_b(atlas, fraction: float) -> tuple[float, float]:
    """(lon, lat) at ``fraction`` of the RER B corridor inside Les Blagis."""
    corridors = atlas.corridors[SCEAUX]
    [line] = corridors.geometry[corridors["names"].str.contains("RER B")]
    inside = line.intersection(atlas.district(SCEAUX).geometry)
    return lonlat(shapely.line_interpolate_point(inside, fraction, normalized=True))


def far_from_rer_b(atlas) -> tuple[float, float]:
    """(lon, lat) of a point of the district at least 200 m from every corridor."""
    corridors = atlas.corridors[SCEAUX].geometry.union_all()
    district = atlas.district(SCEAUX).geometry
    point = max(
        shapely.points(shapely.get_coordinates(district.buffer(-30).boundary)),
        key=corridors.distance,
    )
    assert corridors.distance(point) > 200
    return lonlat(point)


def figure(text: str) -> float:
    """A figure as the page writes it (French decimals, maybe a % sign)."""
    return float(text.replace("\u202f", "").replace("%", "").replace(",", ".").strip())


def site_rows(page) -> list[dict]:
    """The what-if table: per tested site, its number, label and (before, after) figures."""
    rows = page.locator("#whatif-table tbody tr")
    out = []
    for i in range(rows.count()):
        cells = [c.strip() for c in rows.nth(i).locator("td").all_inner_texts()]
        pairs = [tuple(figure(x) for x in c.split("→")) for c in cells[2:5]]
        out.append(
            {
                "n": int(cells[0]),
                "site": cells[1],
                **dict(zip(("median", "p90", "share"), pairs, strict=True)),
            }
        )
    return out


def test_what_if_crossing_in_the_browser(page, live_server, atlas):
    counts = open_map(page, f"{live_server}/quartiers/{SCEAUX}")
    assert counts.get("cote", 0) >= 2
    assert counts.get("franchissement", 0) >= 1
    assert counts.get("coupure", 0) >= 1
    assert page.locator("#whatif-sites").is_hidden()

    page.click("#whatif-toggle")
    assert page.get_attribute("#whatif-toggle", "aria-pressed") == "true"
    click_map_at(page, *on_rer_b(atlas, 0.5))
    page.wait_for_selector("#whatif-table tbody tr")
    summary = page.locator("#whatif-summary").inner_text()
    assert summary.startswith("Site n° 1 ") and "→" in summary
    assert "non enregistrée" in summary
    [site] = site_rows(page)
    assert site["n"] == 1 and site["site"] == "point cliqué sur la carte"
    assert site["median"][1] <= site["median"][0]
    assert site["p90"][1] <= site["p90"][0]
    assert site["median"][0] >= 1
    assert page.locator(".qmi-whatif-marker").count() == 1
    assert page.locator("#whatif-error").is_hidden()
    screenshot(page, "cuts-whatif-sceaux")

    click_map_at(page, *far_from_rer_b(atlas))
    page.wait_for_selector("#whatif-error", state="visible")
    assert "m de la coupure" in page.locator("#whatif-error").inner_text()
    assert len(site_rows(page)) == 1  # a refused spot leaves the tested sites alone

    page.click("#whatif-toggle")  # off again: a click no longer asks anything
    assert page.get_attribute("#whatif-toggle", "aria-pressed") == "false"
    assert page.evaluate("QMI.tool") is None
    # Chromium logs every 4xx answer; the one refusal asked for is the only one allowed.
    refused = [
        e
        for e in page.watch.errors
        if "status of 422" in e and f"/api/quartiers/{SCEAUX}/what-if?" in e
    ]
    assert len(refused) == 1
    assert [e for e in page.watch.errors if e not in refused] == []


def login(page, live_server, live_app, commune: str) -> str:
    username = f"editeur-{uuid.uuid4().hex[:8]}"
    live_app.extensions["qmi_store"].add_user(username, PASSWORD, role="editeur", commune=commune)
    page.goto(f"{live_server}/connexion")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.form button[type=submit]")
    page.wait_for_url(f"{live_server}/")
    return username


def test_editor_adds_a_crossing_by_clicking_the_map(page, live_server, live_app, atlas):
    login(page, live_server, live_app, "92071")
    before = open_map(page, f"{live_server}/quartiers/{SCEAUX}")
    name = f"Passerelle test {uuid.uuid4().hex[:6]}"

    page.click("#crossing-add summary")
    page.wait_for_function("() => QMI.tool === 'crossing'")  # set by the <details> toggle event
    lon, lat = on_rer_b(atlas, 0.3)
    click_map_at(page, lon, lat)
    form = page.locator("#crossing-form")
    filled_lat = float(form.locator("input[name=lat]").input_value())
    filled_lon = float(form.locator("input[name=lon]").input_value())
    # One screen pixel is a few metres at this zoom.
    assert abs(filled_lat - lat) < 2e-4 and abs(filled_lon - lon) < 2e-4
    form.locator("input[name=name]").fill(name)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()

    assert page.url.endswith(f"/quartiers/{SCEAUX}#coupures")
    wait_for_map(page)
    assert f"{name} — passerelle (existant, saisi)" in page.locator("#crossings-list").inner_text()
    after = page.evaluate("QMI.countFeatures()")
    assert after["franchissement"] == before["franchissement"] + 1
    screenshot(page, "cuts-crossing-added-sceaux")

    # Move it: "Déplacer", then a click on the track elsewhere.
    store = live_app.extensions["qmi_store"]
    [crossing] = [c for c in store.list_crossings(district=SCEAUX) if c["name"] == name]
    page.click(f'[data-move-crossing="/franchissements/{crossing["id"]}/deplacer"]')
    assert page.evaluate("QMI.tool") == "crossing-move"
    lon, lat = on_rer_b(atlas, 0.7)
    with page.expect_navigation():
        click_map_at(page, lon, lat)
    moved = store.get_crossing(crossing["id"])
    assert moved["version"] == crossing["version"] + 1
    assert abs(moved["lat"] - lat) < 2e-4 and abs(moved["lon"] - lon) < 2e-4
    assert "Franchissement déplacé" in page.locator("body").inner_text()
    assert page.watch.errors == []


def test_what_if_works_after_opening_the_crossing_form(page, live_server, live_app, atlas):
    """Switching from the crossing tool to the what-if tool leaves the what-if on."""
    login(page, live_server, live_app, "92071")
    open_map(page, f"{live_server}/quartiers/{SCEAUX}")
    page.click("#crossing-add summary")
    page.wait_for_function("() => QMI.tool === 'crossing'")  # set by the <details> toggle event
    page.evaluate(
        "() => { window.__closed = new Promise(done => document.getElementById("
        "'crossing-add').addEventListener('toggle', done, {once: true})); }"
    )
    page.click("#whatif-toggle")
    page.evaluate("() => window.__closed")  # the closing <details> has fired its toggle
    assert not page.evaluate("() => document.getElementById('crossing-add').open")
    assert page.evaluate("QMI.tool") == "whatif"
    assert page.get_attribute("#whatif-toggle", "aria-pressed") == "true"
    click_map_at(page, *on_rer_b(atlas, 0.6))
    page.wait_for_selector("#whatif-table tbody tr")
    assert "→" in page.locator("#whatif-summary").inner_text()
    assert page.watch.errors == []
