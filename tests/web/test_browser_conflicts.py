"""Two editors in headless Chromium edit the same experiment: the second sees the conflict
at the top of the page, with the first one's change, and resolves it by applying their
typed values on the current version; deleting a crossing needs its box ticked.

The live server is shared with the other browser tests: accounts and titles are unique.
"""

import uuid
from urllib.parse import urlparse

import pytest

from geoapp.registry import validate_experiment
from tests.conftest import screenshot

pytestmark = pytest.mark.browser

SCEAUX = "sceaux-les-blagis"
IN_SCEAUX = (2.3031, 48.7828)  # lon, lat
PASSWORD = "motdepasse-tres-long"
HOSTILE = "{{ 7*7 }} <b>gras</b> & co"


def unique() -> str:
    return uuid.uuid4().hex[:6]


def loopback_page(browser):
    """Another browser (its own cookies) whose requests off the loopback are aborted."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="fr-FR")

    def route(r):
        if urlparse(r.request.url).hostname in ("127.0.0.1", "localhost"):
            return r.continue_()
        return r.abort("internetdisconnected")

    context.route("**/*", route)
    return context.new_page()


def login(page, live_server, live_app) -> str:
    """Log ``page`` in as a new editor of Sceaux; the account name."""
    username = f"editeur-{unique()}"
    live_app.extensions["qmi_store"].add_user(username, PASSWORD, role="editeur", commune="92071")
    page.goto(f"{live_server}/connexion")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.form button[type=submit]")
    page.wait_for_url(f"{live_server}/")
    return username


def test_two_editors_resolve_a_conflict_by_applying_typed_values(
    page, browser, live_server, live_app, atlas
):
    store = live_app.extensions["qmi_store"]
    objectives = atlas.objectives()[SCEAUX]
    title = f"Conflit {unique()}"
    values = validate_experiment(
        {
            "title": title,
            "organisation": "Association des Blagis",
            "org_kind": "association",
            "theme": "espaces publics",
            "objectives": [objectives[0]],
            "description": "Version de départ.",
            "status": "proposée",
            "lon": str(IN_SCEAUX[0]),
            "lat": str(IN_SCEAUX[1]),
            "precision": "exacte",
        },
        objectives=objectives,
    )
    e = store.create_experiment(values, district=SCEAUX, user="test-navigateur")
    url = f"{live_server}/experimentations/{e['id']}"

    first, second = loopback_page(browser), page
    first_name = login(first, live_server, live_app)
    second_name = login(second, live_server, live_app)
    first.goto(url)
    second.goto(url)  # both forms are loaded on version 1

    other_title = f"{title} (premier) {HOSTILE}"
    first.fill("#experiment-form input[name=title]", other_title)
    first.click("#experiment-form button[type=submit]")
    first.wait_for_selector(".flash-info")
    assert store.get_experiment(e["id"])["version"] == 2

    my_description = f"Ma description {HOSTILE}"
    second.fill("#experiment-form textarea[name=description]", my_description)
    second.select_option("#experiment-form select[name=status]", "sélectionnée")
    second.click("#experiment-form button[type=submit]")
    alert = second.locator("#refusal[role=alert]")
    alert.wait_for(state="visible")
    # At the top of the page, in view without scrolling, and focused.
    assert alert.bounding_box()["y"] < 400
    assert second.evaluate("() => document.activeElement.id") == "refusal"
    text = alert.inner_text()
    assert "quelqu’un d’autre a enregistré" in text
    assert f"titre : {title} → {other_title}" in text  # hostile text shown as text
    assert "éditeur Sceaux" in text and first_name not in text
    assert second.locator("#refusal b").count() == 0
    # What this editor typed is still in the form.
    assert second.input_value("#experiment-form textarea[name=description]") == my_description
    assert second.input_value("#experiment-form select[name=status]") == "sélectionnée"
    screenshot(second, "conflict-shown")

    second.click("#apply-mine")
    second.wait_for_selector(".flash-info")
    saved = store.get_experiment(e["id"])
    assert (saved["description"], saved["status"], saved["version"]) == (
        my_description,
        "sélectionnée",
        3,
    )
    # The form sent its own values for every field: the first editor's title is replaced
    # by what the second editor's form held, and the history shows both saves.
    assert saved["title"] == title
    history = store.history(e["id"])
    assert [(h["user"], h["action"]) for h in history[1:]] == [
        (first_name, "modification"),
        (second_name, "modification"),
    ]
    assert history[2]["changes"]["title"] == [other_title, title]
    assert history[2]["changes"]["description"] == ["Version de départ.", my_description]
    rows = second.locator("#history tbody tr")
    assert rows.count() == 3
    assert second.locator("#refusal").count() == 0
    screenshot(second, "conflict-resolved")
    # Chromium logs the 409 page's status as a console error; nothing else may fail.
    errors = [m for m in page.watch.errors if "status of 409 (CONFLICT)" not in m]
    assert errors == [] and page.watch.dialogs == []
    first.context.close()


def test_deleting_a_crossing_asks_for_confirmation_without_js_help(
    page, live_server, live_app, atlas
):
    from geoapp.registry import validate_crossing
    from tests.web.test_cuts_web import on_corridor  # the point-on-the-corridor helper

    store = live_app.extensions["qmi_store"]
    lon, lat = on_corridor(atlas, SCEAUX, 0.3)
    name = f"Passerelle {unique()}"
    crossing = store.add_crossing(
        {
            **validate_crossing(
                {"kind": "passerelle", "status": "projeté", "name": name, "lon": lon, "lat": lat}
            ),
            "district": SCEAUX,
        },
        user="test-navigateur",
    )
    login(page, live_server, live_app)
    page.goto(f"{live_server}/quartiers/{SCEAUX}")
    item = page.locator("#crossings-list li", has_text=name)
    item.locator("button", has_text="Supprimer").click()
    # The unticked box stops the form in the browser: the page stays, nothing is deleted.
    assert item.locator("input[name=confirmer]").evaluate("(box) => !box.validity.valid")
    assert store.get_crossing(crossing["id"])["version"] == crossing["version"]
    item.locator("input[name=confirmer]").check()
    item.locator("button", has_text="Supprimer").click()
    page.wait_for_selector(".flash-info")
    assert name not in page.locator("#crossings-list").inner_text()
    assert [c for c in store.list_crossings(district=SCEAUX) if c["name"] == name] == []
