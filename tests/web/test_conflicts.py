"""Refused writes on an experiment's page: the page itself comes back, its reason at the
top, the typed values kept, and for a stale version what the other person changed, with
a button that applies the typed values on the current version explicitly.

After every refused request the stored experiments and the data version are compared
with a snapshot (``snapshot``).
"""

import html
import re

import pytest

from tests.conftest import TOKEN
from tests.web.experiments_helpers import (
    IN_SCEAUX,
    MEUDON,
    SCEAUX,
    body,
    form_for,
    section,
    snapshot,
    stored,
)

HOSTILE = "{{ 7*7 }} <b>gras</b> & co"


def refusal(response) -> str:
    """The refusal panel of a page, unescaped (it must be there)."""
    return html.unescape(section(body(response), 'id="refusal"', "</section>"))


def changes(response) -> list[str]:
    """The other people's changes the conflict lists, one « field : old → new » each."""
    listed = section(body(response), 'id="conflict-changes"', "</section>")
    return [
        html.unescape(re.sub(r"<[^>]+>", "", item))
        for item in re.findall(r"<li><strong>.*?</li>", listed)
    ]


def conflict_after_other_edit(first, second, store, atlas, **typed):
    """``first`` saves version 1, then ``second`` posts its own values on version 1."""
    e = stored(store, atlas, SCEAUX, title="Version initiale")
    url = f"/experimentations/{e['id']}"
    saved = first.post(
        url,
        data=form_for(atlas, SCEAUX, title="Titre du premier", status="sélectionnée", version="1"),
    )
    assert saved.status_code == 302
    before = snapshot(store)
    r = second.post(url, data=form_for(atlas, SCEAUX, version="1", **typed))
    assert r.status_code == 409
    assert snapshot(store) == before  # nothing of the second save is stored
    return e, url, r


def test_the_conflict_is_at_the_top_with_what_the_other_changed(sceaux, admin, store, atlas):
    e, _, r = conflict_after_other_edit(
        sceaux, admin, store, atlas, title="Titre du second", description="Ma description"
    )
    page = body(r)
    assert page.index('id="refusal"') < page.index('id="experiment-title"')
    assert re.search(r'id="refusal" role="alert" tabindex="-1" autofocus', page)
    panel = refusal(r)
    assert "Rechargez" not in panel and "Rechargez" not in html.unescape(page)
    assert "quelqu’un d’autre a enregistré cette expérimentation" in panel
    # An administrator sees who by role and commune, and the account name.
    assert "éditeur Sceaux (editeur-sceaux)" in panel
    assert "(modification)" in panel
    assert "version 1 → version 2" in panel
    assert changes(r) == [
        "titre : Version initiale → Titre du premier",
        "statut : proposée → sélectionnée",
    ]
    # Every typed value is still in the form, on the version it was loaded with.
    form = section(page, 'id="experiment-form"', "</form>")
    assert 'value="Titre du second"' in form
    assert "Ma description</textarea>" in form
    assert '<input type="hidden" name="version" value="1">' in form
    apply = re.findall(r'name="version_actuelle" value="(\d+)"[^>]*>([^<]+)<', page)
    assert ("2", "Appliquer mes valeurs sur la version actuelle") in apply


def test_the_other_person_appears_by_role_to_an_editor(sceaux, admin, store, atlas):
    _, _, r = conflict_after_other_edit(admin, sceaux, store, atlas, title="Titre Sceaux")
    panel = refusal(r)
    assert "administrateur Métropole" in panel
    assert "admin-mgp" not in panel


def test_an_empty_value_and_a_paris_time_in_the_conflict(sceaux, admin, store, atlas):
    e = stored(store, atlas, SCEAUX, location_note="Près du marché")
    url = f"/experimentations/{e['id']}"
    sceaux.post(url, data=form_for(atlas, SCEAUX, location_note="", version="1"))
    r = admin.post(url, data=form_for(atlas, SCEAUX, title="Autre", version="1"))
    assert r.status_code == 409
    assert changes(r) == ["note de localisation : Près du marché → (vide)"]
    stamp = re.search(
        r'<time datetime="([^"]+)">([^<]+)</time>', section(body(r), 'id="refusal"', "</section>")
    )
    assert stamp.group(1).endswith("+00:00")
    assert re.fullmatch(r"\d{1,2}(er)? \w+ \d{4} à \d{1,2} h \d\d", html.unescape(stamp.group(2)))


def test_applying_my_values_on_the_current_version(sceaux, admin, store, atlas):
    e, url, _ = conflict_after_other_edit(sceaux, admin, store, atlas, title="Titre du second")
    applied = admin.post(
        url,
        data=form_for(atlas, SCEAUX, title="Titre du second", version="1", version_actuelle="2"),
    )
    assert applied.status_code == 302
    saved = store.get_experiment(e["id"])
    assert (saved["title"], saved["status"], saved["version"]) == ("Titre du second", "proposée", 3)
    history = store.history(e["id"])
    assert [(h["user"], h["action"]) for h in history] == [
        ("fixture", "création"),
        ("editeur-sceaux", "modification"),
        ("admin-mgp", "modification"),
    ]
    assert history[-1]["changes"]["title"] == ["Titre du premier", "Titre du second"]


def test_applying_on_a_version_that_moved_again_is_a_new_conflict(sceaux, admin, store, atlas):
    e, url, _ = conflict_after_other_edit(sceaux, admin, store, atlas, title="Titre du second")
    store.update_experiment(
        e["id"], {"title": "Troisième"}, expected_version=2, user="editeur-sceaux"
    )
    before = snapshot(store)
    r = admin.post(
        url,
        data=form_for(atlas, SCEAUX, title="Titre du second", version="1", version_actuelle="2"),
    )
    assert r.status_code == 409
    assert snapshot(store) == before
    assert changes(r) == ["titre : Titre du premier → Troisième"]  # only what is new to them
    assert 'name="version_actuelle" value="3"' in body(r)
    assert '<input type="hidden" name="version" value="2">' in body(r)


def test_hostile_text_stays_inert_in_the_conflict_view(sceaux, admin, store, atlas):
    e = stored(store, atlas, SCEAUX)
    url = f"/experimentations/{e['id']}"
    other = "Autre " + HOSTILE
    assert (
        sceaux.post(url, data=form_for(atlas, SCEAUX, title=other, version="1")).status_code == 302
    )
    mine = "Mien " + HOSTILE
    r = admin.post(url, data=form_for(atlas, SCEAUX, title=mine, description=HOSTILE, version="1"))
    assert r.status_code == 409
    page = body(r)
    assert "<b>gras</b>" not in page and "Autre {{ 7*7 }}" in refusal(r)  # not « 49 »
    assert "&lt;b&gt;gras&lt;/b&gt; &amp; co" in page
    assert f"titre : Jardin partagé des Blagis → {other}" in changes(r)
    form = html.unescape(section(page, 'id="experiment-form"', "</form>"))
    assert f'value="{mine}"' in form and f"{HOSTILE}</textarea>" in form


def test_a_refused_edit_shows_its_reasons_at_the_top(sceaux, store, atlas):
    e = stored(store, atlas, SCEAUX)
    before = snapshot(store)
    lon, lat = atlas.centres_lonlat()[MEUDON]
    r = sceaux.post(
        f"/experimentations/{e['id']}",
        data=form_for(atlas, SCEAUX, title="Gardé", lon=str(lon), lat=str(lat), version="1"),
    )
    assert r.status_code == 422
    assert "en dehors du quartier Les Blagis" in refusal(r)
    assert 'value="Gardé"' in body(r)
    assert snapshot(store) == before


@pytest.mark.parametrize(
    "where, status, text, forward",
    [
        ("meudon", 422, "en dehors du quartier Les Blagis", "Corrigez la valeur signalée"),
        ("stale", 409, "La position n’a pas été enregistrée", "version actuelle"),
        ("noversion", 400, "Version de l’expérimentation absente", "Corrigez"),
    ],
)
def test_a_refused_move_renders_the_page(sceaux, store, atlas, where, status, text, forward):
    e = stored(store, atlas, SCEAUX)
    lon, lat = atlas.centres_lonlat()[MEUDON] if where == "meudon" else IN_SCEAUX
    data = {"csrf_token": TOKEN, "version": "1", "lon": str(lon), "lat": str(lat)}
    if where == "stale":
        store.update_experiment(e["id"], {"title": "Changé ailleurs"}, expected_version=1, user="x")
    if where == "noversion":
        del data["version"]
    before = snapshot(store)
    r = sceaux.post(f"/experimentations/{e['id']}/deplacer", data=data)
    assert r.status_code == status
    panel = refusal(r)
    assert text in panel and forward in panel
    move_form = section(body(r), 'id="move-form"', "</form>")
    assert f'value="{lat}"' in move_form and f'value="{lon}"' in move_form  # typed, kept
    if where == "stale":
        assert "titre : Jardin partagé des Blagis → Changé ailleurs" in changes(r)
        assert "version_actuelle" not in body(r)  # a move is not applied blindly
    assert snapshot(store) == before


@pytest.mark.parametrize("action", ["retirer", "retablir"])
def test_a_stale_withdraw_or_restore_renders_the_page(sceaux, store, atlas, action):
    e = stored(store, atlas, SCEAUX)
    version = 1
    if action == "retablir":
        version = store.withdraw_experiment(e["id"], expected_version=1, user="x")["version"]
    store.update_experiment(e["id"], {"status": "sélectionnée"}, expected_version=version, user="x")
    before = snapshot(store)
    r = sceaux.post(
        f"/experimentations/{e['id']}/{action}", data={"csrf_token": TOKEN, "version": str(version)}
    )
    assert r.status_code == 409
    panel = refusal(r)
    assert "modifiée entre-temps" in panel and "recommencez" in panel
    assert "statut : proposée → sélectionnée" in changes(r)
    assert snapshot(store) == before


def test_another_communes_editor_gets_the_page_and_what_to_do(app, store, atlas):
    from tests.conftest import client_as

    meudon = client_as(app, "editeur-meudon", "editeur", "92048")
    e = stored(store, atlas, SCEAUX, title="Chez Sceaux")
    before = snapshot(store)
    r = meudon.post(
        f"/experimentations/{e['id']}", data=form_for(atlas, SCEAUX, title="Pris", version="1")
    )
    assert r.status_code == 403
    panel = refusal(r)
    assert "ne permet pas de modifier le quartier Les Blagis" in panel
    assert "Vous pouvez consulter cette fiche" in panel
    assert "Chez Sceaux" in html.unescape(body(r))  # the page itself, not a bare error
    assert snapshot(store) == before


def test_a_client_asking_for_json_still_gets_json(sceaux, admin, store, atlas):
    e, url, _ = conflict_after_other_edit(sceaux, admin, store, atlas, title="Second")
    r = admin.post(
        url,
        data=form_for(atlas, SCEAUX, title="Second", version="1"),
        headers={"Accept": "application/json"},
    )
    assert r.status_code == 409
    assert r.get_json()["statut"] == 409 and r.get_json()["version"] == 2
