"""Who may write experiments where: anonymous, a commune's editor, an administrator.

Clients log in through the real login form (``client_as``). After every refused request
the stored experiments and the data version are compared with a snapshot (``snapshot``).
"""

import html
import io

import pytest

from geoapp.registry_files import write_csv
from tests.conftest import TOKEN
from tests.web.experiments_helpers import (
    AULNAY,
    MEUDON,
    SCEAUX,
    body,
    confirm,
    form_for,
    inside_points,
    rows_for,
    snapshot,
    stored,
)

WRITES = ["create", "update", "move", "withdraw", "restore", "import"]


def write_request(kind: str, store, atlas, slug: str, **changes) -> tuple[str, dict]:
    """URL and form of a write of ``kind`` on ``slug`` (setting up its experiment)."""
    if kind == "create":
        return f"/quartiers/{slug}/experimentations", form_for(atlas, slug, **changes)
    if kind == "import":
        rows = rows_for(atlas, slug, ["Importée"], **changes)
        return "/experimentations/import", {
            "csrf_token": TOKEN,
            "fichier": (io.BytesIO(write_csv(rows)), "import.csv"),
        }
    e = stored(store, atlas, slug, title=f"Existante {slug}")
    version = e["version"]
    if kind == "restore":
        version = store.withdraw_experiment(e["id"], expected_version=version, user="fixture")[
            "version"
        ]
    url = f"/experimentations/{e['id']}"
    if kind == "update":
        return url, form_for(atlas, slug, version=str(version), title="Titre modifié", **changes)
    if kind == "move":
        lon, lat = inside_points(atlas, slug)[1]
        return url + "/deplacer", {
            "csrf_token": TOKEN,
            "version": str(version),
            "lon": str(lon),
            "lat": str(lat),
        }
    path = {"withdraw": "/retirer", "restore": "/retablir"}[kind]
    return url + path, {"csrf_token": TOKEN, "version": str(version)}


def post_write(client, url: str, data: dict):
    """Post a write; an import is previewed first, then confirmed."""
    r = client.post(url, data=data)
    return confirm(client, r) if url.endswith("/import") else r


@pytest.mark.parametrize("kind", WRITES)
def test_anonymous_writes_are_401_and_store_nothing(anon, store, atlas, kind):
    url, data = write_request(kind, store, atlas, SCEAUX)
    before = snapshot(store)
    r = anon.post(url, data=data)
    assert r.status_code == 401
    assert "Connectez-vous" in html.unescape(body(r))
    assert snapshot(store) == before


@pytest.mark.parametrize("slug", [MEUDON, AULNAY])
@pytest.mark.parametrize("kind", WRITES)
def test_sceaux_editor_cannot_write_in_another_district(sceaux, store, atlas, kind, slug):
    """Posting by hand what the UI does not offer: refused on the server."""
    url, data = write_request(kind, store, atlas, slug)
    before = snapshot(store)
    r = sceaux.post(url, data=data)
    if kind == "import":  # an import reports every refused row, and imports nothing
        assert r.status_code == 422
    else:
        assert r.status_code == 403
    assert "Votre compte ne permet pas de modifier le quartier" in html.unescape(body(r))
    assert snapshot(store) == before


@pytest.mark.parametrize("kind", WRITES)
def test_sceaux_editor_writes_in_sceaux(sceaux, store, atlas, kind):
    url, data = write_request(kind, store, atlas, SCEAUX)
    before = store.data_version()
    r = post_write(sceaux, url, data)
    assert r.status_code == 302
    assert store.data_version() > before


@pytest.mark.parametrize("slug", [MEUDON, AULNAY, SCEAUX])
@pytest.mark.parametrize("kind", WRITES)
def test_admin_writes_everywhere(admin, store, atlas, kind, slug):
    url, data = write_request(kind, store, atlas, slug)
    before = store.data_version()
    r = post_write(admin, url, data)
    assert r.status_code == 302
    assert store.data_version() > before


def test_admin_edit_of_a_seeded_experiment_is_recorded(admin, store, atlas):
    seed = next(e for e in store.list_experiments() if e["title"] == "Istya")
    fields = (
        "title",
        "organisation",
        "org_kind",
        "theme",
        "objectives",
        "description",
        "start_date",
        "end_date",
        "lon",
        "lat",
        "precision",
        "location_note",
        "evaluation_outcome",
    )
    form = {
        **{f: "" if seed[f] is None else seed[f] for f in fields},
        "csrf_token": TOKEN,
        "status": "déployée",
        "version": str(seed["version"]),
    }
    r = admin.post(f"/experimentations/{seed['id']}", data=form)
    assert r.status_code == 302
    after = store.get_experiment(seed["id"])
    assert after["status"] == "déployée" and after["version"] == seed["version"] + 1
    last = store.history(seed["id"])[-1]
    assert last["user"] == "admin-mgp" and last["changes"] == {
        "status": ["sélectionnée", "déployée"]
    }


def test_editing_tools_are_shown_only_where_the_account_may_edit(sceaux, anon, store, atlas):
    meudon = stored(store, atlas, MEUDON, title="Fiche de Meudon")
    own = stored(store, atlas, SCEAUX, title="Fiche de Sceaux")
    for client in (sceaux, anon):
        page = body(client.get(f"/quartiers/{MEUDON}"))
        assert 'id="placement-toggle"' not in page and 'id="experiment-form"' not in page
        detail = body(client.get(f"/experimentations/{meudon['id']}"))
        assert 'id="move-form"' not in detail and 'id="experiment-form"' not in detail
    page = body(sceaux.get(f"/quartiers/{SCEAUX}"))
    assert 'id="placement-toggle"' in page and 'id="experiment-form"' in page
    detail = body(sceaux.get(f"/experimentations/{own['id']}"))
    assert 'id="move-form"' in detail and 'id="experiment-form"' in detail
    assert "Se connecter pour ajouter une expérimentation" in body(anon.get(f"/quartiers/{SCEAUX}"))
