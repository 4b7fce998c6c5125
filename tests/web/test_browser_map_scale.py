"""The map client at scale, in Chromium with the network blocked: 10 000 experiments
drawn, clustered and clickable, popups filled from the details endpoint, and markers at
the same place still reachable (listed)."""

import pytest

from benchmarks.seed_experiments import seed
from tests.browser import click_feature, open_map, wait_for_map
from tests.conftest import _app_maker, served
from tests.web.experiments_helpers import SCEAUX, stored

CROWD = 10_000


@pytest.fixture(scope="module")
def crowded(tmp_path_factory, atlas):
    """A server whose registry holds 10 000 more experiments than the documented ones."""
    path = tmp_path_factory.mktemp("crowded") / "crowded.sqlite3"
    app = _app_maker(tmp_path_factory, atlas, lambda: str(path))()
    store = app.extensions["qmi_store"]
    seed(store, atlas, CROWD)
    with served(app) as url:
        yield url, store


def popup_text(page) -> str:
    """The open popup's text once its details are in (a replaced popup fades out first)."""
    page.wait_for_function("() => document.querySelectorAll('.leaflet-popup').length === 1")
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for(state="visible")
    page.wait_for_function(
        "() => !document.querySelector('.leaflet-popup-content').textContent.includes('Chargement')"
    )
    return popup.inner_text()


def test_the_overview_draws_every_experiment_clustered(page, crowded):
    url, store = crowded
    counts = open_map(page, url + "/")
    assert counts["experimentation"] == store.count_experiments() >= CROWD
    clusters = page.locator(".qmi-cluster").count()
    assert 0 < clusters < 200  # clustered: a few bubbles, not 10 000 marks
    shown = page.evaluate(
        "() => [...document.querySelectorAll('.qmi-cluster')]"
        ".reduce((n, el) => n + Number(el.textContent.replace(' k', '000')), 0)"
    )
    assert counts["experimentation"] * 0.5 < shown <= counts["experimentation"]
    assert page.watch.errors == []


def test_an_experiment_among_10000_opens_its_popup_from_the_details(page, crowded):
    url, store = crowded
    target = store.list_experiments(district=SCEAUX)[-1]
    open_map(page, url + "/")
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    click_feature(page, "experimentation", "id", target["id"], zoom=19)
    assert target["title"] in popup_text(page)
    assert any(r.endswith(f"/api/carte/experimentations/{target['id']}") for r in requests)
    link = page.locator(".leaflet-popup-content a").get_attribute("href")
    assert link == f"/experimentations/{target['id']}"


def test_experiments_at_the_same_place_are_listed_when_clicked(page, live_server, live_app, atlas):
    """No zoom separates them: their bubble opens the list of them, each one opens."""
    store = live_app.extensions["qmi_store"]
    spot = {"lon": 2.30205, "lat": 48.78005}
    twins = [stored(store, atlas, SCEAUX, title=f"Jumelle {n} <b>&</b>", **spot) for n in (1, 2)]
    open_map(page, f"{live_server}/quartiers/{SCEAUX}")
    page.evaluate("() => { QMI.map.setView([48.78005, 2.30205], 19, {animate: false}); }")
    wait_for_map(page)
    page.locator(".qmi-cluster", has_text="2").first.click()
    listing = page.locator(".leaflet-popup-content")
    listing.wait_for(state="visible")
    assert "2 expérimentations à cet endroit" in listing.inner_text()
    for twin in twins:
        listing.get_by_role("button", name=twin["title"], exact=True).click()
        assert twin["title"] in popup_text(page)
        page.evaluate("() => { QMI.map.closePopup(); }")
        page.wait_for_function("() => document.querySelectorAll('.leaflet-popup').length === 0")
        page.locator(".qmi-cluster", has_text="2").first.click()
        listing.wait_for(state="visible")
    assert page.locator("b").filter(has_text="&").count() == 0  # titles stayed text
