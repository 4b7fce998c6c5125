"""Editing, version conflicts, moving, withdrawing and restoring an experiment, and its
history.

After every refused request the stored experiments and the data version are
compared with a snapshot (``snapshot``).
"""

import html
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from geoapp.french import fr_date
from tests.conftest import TOKEN
from tests.web.experiments_helpers import (
    IN_SCEAUX,
    MEUDON,
    SCEAUX,
    body,
    field_errors,
    form_for,
    geojson_titles,
    inside_points,
    section,
    snapshot,
    stored,
)


def test_version_conflict_second_save_is_409_and_nothing_is_lost(app, sceaux, admin, store, atlas):
    e = stored(store, atlas, SCEAUX, title="Version initiale")
    url = f"/experimentations/{e['id']}"
    first = sceaux.post(url, data=form_for(atlas, SCEAUX, title="Version A", version="1"))
    assert first.status_code == 302
    second = admin.post(
        url, data=form_for(atlas, SCEAUX, title="Version B", status="déployée", version="1")
    )
    assert second.status_code == 409
    page = html.unescape(body(second))
    assert (
        "Vos modifications n’ont pas été enregistrées : quelqu’un d’autre a enregistré cette "
        "expérimentation depuis que vous avez ouvert la page."
    ) in page
    assert "Rechargez" not in page  # reloading would lose the typing (tests/web/test_conflicts.py)
    assert 'value="Version B"' in body(second)  # the loser's typing is still on screen
    saved = store.get_experiment(e["id"])
    assert (saved["title"], saved["status"], saved["version"]) == ("Version A", "proposée", 2)
    actions = [h["action"] for h in store.history(e["id"])]
    assert actions == ["création", "modification"]


def test_saving_an_unchanged_form_writes_nothing(sceaux, store, atlas):
    e = stored(store, atlas, SCEAUX)
    before = snapshot(store)
    r = sceaux.post(f"/experimentations/{e['id']}", data=form_for(atlas, SCEAUX, version="1"))
    assert r.status_code == 302
    assert snapshot(store) == before


def test_refused_edit_is_422_with_typed_values(sceaux, store, atlas):
    e = stored(store, atlas, SCEAUX, title="Avant correction")
    before = snapshot(store)
    r = sceaux.post(
        f"/experimentations/{e['id']}",
        data=form_for(atlas, SCEAUX, title="x" * 121, theme="?", version="1"),
    )
    assert r.status_code == 422
    assert field_errors(r) == {
        "title": "Le titre dépasse 120 caractères.",
        "theme": "Thème inconnu : « ? ».",
    }
    assert f'value="{"x" * 121}"' in body(r)
    assert snapshot(store) == before


def test_edit_without_version_is_400(sceaux, store, atlas):
    e = stored(store, atlas, SCEAUX)
    before = snapshot(store)
    r = sceaux.post(f"/experimentations/{e['id']}", data=form_for(atlas, SCEAUX, title="Neuf"))
    assert r.status_code == 400
    assert "Version de l’expérimentation absente" in body(r)
    assert snapshot(store) == before


def test_move_inside_is_recorded_as_a_move(sceaux, store, atlas):
    e = stored(store, atlas, SCEAUX)
    lon, lat = inside_points(atlas, SCEAUX)[1]
    r = sceaux.post(
        f"/experimentations/{e['id']}/deplacer",
        data={"csrf_token": TOKEN, "version": "1", "lon": str(lon), "lat": str(lat)},
    )
    assert r.status_code == 302
    moved = store.get_experiment(e["id"])
    assert (moved["lon"], moved["lat"], moved["version"]) == (lon, lat, 2)
    last = store.history(e["id"])[-1]
    assert last["action"] == "déplacement" and last["user"] == "editeur-sceaux"
    assert last["changes"] == {"lon": [IN_SCEAUX[0], lon], "lat": [IN_SCEAUX[1], lat]}


@pytest.mark.parametrize(
    "where, status, text",
    [
        ("meudon", 422, "en dehors du quartier Les Blagis"),
        ("nan", 422, "La latitude doit être comprise entre 41 et 51,5"),
        ("stale", 409, "modifiée entre-temps"),
    ],
)
def test_refused_moves_change_nothing(sceaux, store, atlas, where, status, text):
    e = stored(store, atlas, SCEAUX)
    lon, lat = atlas.centres_lonlat()[MEUDON] if where == "meudon" else IN_SCEAUX
    data = {"csrf_token": TOKEN, "version": "1", "lon": str(lon), "lat": str(lat)}
    if where == "nan":
        data["lat"] = "nan"
    if where == "stale":
        store.update_experiment(
            e["id"], {"title": "Changé ailleurs"}, expected_version=1, user="autre"
        )
    before = snapshot(store)
    r = sceaux.post(f"/experimentations/{e['id']}/deplacer", data=data)
    assert r.status_code == status
    assert text in html.unescape(body(r))
    assert snapshot(store) == before


def test_withdraw_then_restore(sceaux, anon, store, atlas):
    e = stored(store, atlas, SCEAUX, title="Retrait Reversible")
    url = f"/experimentations/{e['id']}"
    r = sceaux.post(url + "/retirer", data={"csrf_token": TOKEN, "version": "1"})
    assert r.status_code == 302 and r.headers["Location"] == url
    assert store.get_experiment(e["id"])["withdrawn"] is True
    assert "Retrait Reversible" not in geojson_titles(anon)
    assert "Retrait Reversible" not in body(anon.get("/"))
    assert "Retrait Reversible" not in body(anon.get(f"/quartiers/{SCEAUX}"))
    assert "Retrait Reversible" not in body(anon.get("/experimentations"))
    with anon.get("/experimentations/export.csv") as export:
        assert "Retrait Reversible" not in export.get_data(as_text=True)
    logged = body(sceaux.get("/experimentations"))
    assert "Retrait Reversible" in section(logged, "Retirées (visibles", "</ul>")
    detail = body(sceaux.get(url))
    assert "Retirée</span>" in detail and "Rétablir sur les cartes" in detail
    # withdrawing twice is refused, without a new version
    again = sceaux.post(url + "/retirer", data={"csrf_token": TOKEN, "version": "2"})
    assert again.status_code == 409
    assert "Cette expérimentation est déjà retirée." in html.unescape(body(again))
    r = sceaux.post(url + "/retablir", data={"csrf_token": TOKEN, "version": "2"})
    assert r.status_code == 302
    restored = store.get_experiment(e["id"])
    assert restored["withdrawn"] is False and restored["version"] == 3
    assert "Retrait Reversible" in geojson_titles(anon)
    assert "Retrait Reversible" in body(anon.get(f"/quartiers/{SCEAUX}"))
    assert [h["action"] for h in store.history(e["id"])] == [
        "création",
        "retrait",
        "rétablissement",
    ]


def test_withdraw_with_a_stale_version_is_409(sceaux, store, atlas):
    e = stored(store, atlas, SCEAUX)
    store.update_experiment(e["id"], {"status": "sélectionnée"}, expected_version=1, user="x")
    before = snapshot(store)
    r = sceaux.post(
        f"/experimentations/{e['id']}/retirer", data={"csrf_token": TOKEN, "version": "1"}
    )
    assert r.status_code == 409
    assert snapshot(store) == before


def test_detail_page_shows_the_history(sceaux, anon, store, atlas):
    r = sceaux.post(
        f"/quartiers/{SCEAUX}/experimentations", data=form_for(atlas, SCEAUX, title="Ancien titre")
    )
    url = r.headers["Location"]
    sceaux.post(url, data=form_for(atlas, SCEAUX, title="Nouveau titre", version="1"))
    history = html.unescape(section(body(anon.get(url)), 'id="history"', "</table>"))
    rows = re.findall(
        r'<tr><td><time datetime="([^"]+)">([^<]+)</time></td><td>([^<]+)</td><td>([^<]+)</td>',
        history,
    )
    # The public sees the role and commune, not the account (tests/web/test_public_names.py).
    assert [(who, action) for _, _, who, action in rows] == [
        ("éditeur Sceaux", "création"),
        ("éditeur Sceaux", "modification"),
    ]
    for stamp, shown, _, _ in rows:  # stored in UTC, shown in Paris time, in French
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", stamp)
        paris = datetime.fromisoformat(stamp).astimezone(ZoneInfo("Europe/Paris"))
        assert shown == f"{fr_date(paris.date())} à {paris.hour} h {paris.minute:02d}"
    assert "<strong>titre</strong> : Ancien titre → Nouveau titre" in history
    assert "<strong>objectifs</strong> : (vide) → " in history  # a list, shown as text
    assert "<strong>début</strong> : (vide) → 1er avril 2025" in history  # a French date
    assert "∅" not in history
    assert "[&#39;" not in history and "['" not in history


def test_detail_json_and_unknown_ids(anon, store, atlas):
    e = stored(store, atlas, SCEAUX, title="En JSON")
    data = anon.get(f"/api/experimentations/{e['id']}").get_json()
    assert data["experimentation"]["title"] == "En JSON"
    assert [h["action"] for h in data["historique"]] == ["création"]
    missing = anon.get("/api/experimentations/999999")
    assert missing.status_code == 404
    assert missing.get_json()["erreur"] == "Expérimentation introuvable."
    page = anon.get("/experimentations/999999")
    assert page.status_code == 404 and "Expérimentation introuvable." in body(page)
