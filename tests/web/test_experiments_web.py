"""Every route of the experiment registry, each permission, and the data after refusals.

Clients log in through the real login form; the CSRF token is then pinned in the session
(``TOKEN``) so each request states it like a browser form would. After every refused
request the stored experiments and the data version are compared with a snapshot.
"""

import csv
import html
import io
import json
import re
from collections import Counter

import geopandas as gpd
import pytest
from shapely.geometry import Point
from shapely.ops import nearest_points

from geoapp.analysis import ANALYSIS_CRS, DISPLAY_CRS
from geoapp.registry import validate_experiment
from geoapp.registry_files import COLUMNS, write_csv, write_geojson
from tests.conftest import TOKEN, client_as, map_properties

SCEAUX, MEUDON, AULNAY = "sceaux-les-blagis", "meudon-la-foret", "aulnay-centre-gare"
IN_SCEAUX = (2.3031, 48.7828)  # lon, lat: in Les Blagis
XSS_TITLES = ["<img src=x onerror=alert(1)>", "${alert(1)}", "</script><script>alert(1)</script>"]
FIELD_ERROR = re.compile(r'<span class="field-error" id="err-(\w+)">(.*?)</span>', re.S)


# Helpers ---------------------------------------------------------------------------


@pytest.fixture
def store(app):
    return app.extensions["qmi_store"]


@pytest.fixture
def anon(app):
    return client_as(app, None)


@pytest.fixture
def sceaux(app):
    return client_as(app, "editeur-sceaux", "editeur", "92071")


@pytest.fixture
def admin(app):
    return client_as(app, "admin-mgp", "administrateur")


def inside_points(atlas, slug: str) -> list[tuple[float, float]]:
    """Two (lon, lat) points well inside the district: its centre and another."""
    geom = atlas.district(slug).geometry
    other = gpd.GeoSeries([geom.buffer(-60).representative_point()], crs=ANALYSIS_CRS)
    p = other.to_crs(DISPLAY_CRS).iloc[0]
    return [atlas.centres_lonlat()[slug], (round(p.x, 6), round(p.y, 6))]


def form_for(atlas, slug: str, **overrides) -> dict:
    """A valid experiment form for ``slug`` (as the browser posts it), with overrides."""
    lon, lat = IN_SCEAUX if slug == SCEAUX else atlas.centres_lonlat()[slug]
    return {
        "csrf_token": TOKEN,
        "title": "Jardin partagé des Blagis",
        "organisation": "Association des Blagis",
        "org_kind": "association",
        "theme": "nature en ville et îlots de fraîcheur",
        "objectives": [atlas.objectives()[slug][1]],
        "description": "Des bacs potagers au pied des immeubles.\r\nEntretenus par les habitants.",
        "status": "proposée",
        "start_date": "2025-04-01",
        "end_date": "2025-10-31",
        "lat": str(lat),
        "lon": str(lon),
        "precision": "exacte",
        "location_note": "",
        "evaluation_outcome": "",
        "evaluation_scale_up": "",
        **overrides,
    }


def stored(store, atlas, slug: str, **overrides) -> dict:
    """An experiment put in the store directly (setup, not the code under test)."""
    values = validate_experiment(
        form_for(atlas, slug, **overrides), objectives=atlas.objectives()[slug]
    )
    return store.create_experiment(values, district=slug, user="fixture")


def snapshot(store):
    return store.list_experiments(include_withdrawn=True), store.data_version()


def body(response) -> str:
    return response.get_data(as_text=True)


def field_errors(response) -> dict[str, str]:
    return {f: html.unescape(m) for f, m in FIELD_ERROR.findall(body(response))}


def geojson_titles(client, query: str = "") -> list[str]:
    r = client.get("/api/experimentations.geojson" + query)
    assert r.status_code == 200
    assert r.mimetype == "application/geo+json"
    return [f["properties"]["title"] for f in json.loads(r.data)["features"]]


def upload(client, data: bytes, filename: str):
    return client.post(
        "/experimentations/import",
        content_type="multipart/form-data",
        data={"csrf_token": TOKEN, "fichier": (io.BytesIO(data), filename)},
    )


def section(text: str, start: str, end: str) -> str:
    """The part of ``text`` from ``start`` to the next ``end`` (a table, a card)."""
    i = text.index(start)
    return text[i : text.index(end, i)]


def rows_for(atlas, slug: str, titles: list[str], **overrides) -> list[dict]:
    """Rows as the store returns them (what `write_csv` and `write_geojson` take)."""
    return [
        {
            **form_for(atlas, slug, title=t, **{"evaluation_scale_up": None, **overrides}),
            "district": slug,
        }
        for t in titles
    ]


# Permissions -------------------------------------------------------------------------

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
    r = sceaux.post(url, data=data)
    assert r.status_code == 302
    assert store.data_version() > before


@pytest.mark.parametrize("slug", [MEUDON, AULNAY, SCEAUX])
@pytest.mark.parametrize("kind", WRITES)
def test_admin_writes_everywhere(admin, store, atlas, kind, slug):
    url, data = write_request(kind, store, atlas, slug)
    before = store.data_version()
    r = admin.post(url, data=data)
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


# Creating ------------------------------------------------------------------------------


def test_create_redirects_to_the_detail_and_shows_everywhere(sceaux, anon, store, atlas):
    before = body(anon.get("/"))
    shown = int(re.search(r"(\d+) expérimentation\(s\) affichée\(s\)", before).group(1))
    r = sceaux.post(
        f"/quartiers/{SCEAUX}/experimentations",
        data=form_for(atlas, SCEAUX, title="Compost Collectif Blagis"),
    )
    assert r.status_code == 302
    created = next(e for e in store.list_experiments() if e["title"] == "Compost Collectif Blagis")
    assert r.headers["Location"] == f"/experimentations/{created['id']}"
    assert created["district"] == SCEAUX and created["version"] == 1
    assert created["description"] == (
        "Des bacs potagers au pied des immeubles.\nEntretenus par les habitants."
    )
    assert created["objectives"] == [atlas.objectives()[SCEAUX][1]]
    assert (created["lon"], created["lat"]) == IN_SCEAUX
    detail = html.unescape(body(sceaux.get(r.headers["Location"])))
    assert "Expérimentation « Compost Collectif Blagis » enregistrée." in detail
    assert "Compost Collectif Blagis" in geojson_titles(anon)
    overview = body(anon.get("/"))
    assert "Compost Collectif Blagis" in overview
    assert f"{shown + 1} expérimentation(s) affichée(s)" in overview
    assert "Compost Collectif Blagis" in body(anon.get(f"/quartiers/{SCEAUX}"))
    assert "Compost Collectif Blagis" in body(anon.get("/experimentations"))


def test_create_in_an_unknown_district_is_404(admin, store, atlas):
    before = snapshot(store)
    r = admin.post("/quartiers/paris-centre/experimentations", data=form_for(atlas, SCEAUX))
    assert r.status_code == 404
    assert snapshot(store) == before


MEUDON_OBJECTIVE = "Réduire la consommation énergétique et rénover les bâtiments"
REFUSALS = {
    "missing title": ({"title": "  "}, "title", "Le titre est obligatoire."),
    "bad theme": ({"theme": "astrologie"}, "theme", "Thème inconnu : « astrologie »."),
    "objective of another district": (
        {"objectives": [MEUDON_OBJECTIVE]},
        "objectives",
        f"Objectif inconnu pour ce quartier : « {MEUDON_OBJECTIVE} ».",
    ),
    "no objective": (
        {"objectives": []},
        "objectives",
        "Choisissez au moins un objectif du quartier.",
    ),
    "latitude outside France": (
        {"lat": "40.5"},
        "lat",
        "La latitude doit être comprise entre 41 et 51,5 (France métropolitaine).",
    ),
    "longitude outside France": (
        {"lon": "-20"},
        "lon",
        "La longitude doit être comprise entre -5,5 et 10 (France métropolitaine).",
    ),
    "NaN latitude": (
        {"lat": "NaN"},
        "lat",
        "La latitude doit être comprise entre 41 et 51,5 (France métropolitaine).",
    ),
    "infinite longitude": (
        {"lon": "inf"},
        "lon",
        "La longitude doit être comprise entre -5,5 et 10 (France métropolitaine).",
    ),
    "text latitude": (
        {"lat": "quarante-huit"},
        "lat",
        "La latitude doit être un nombre en degrés décimaux.",
    ),
    "huge title": ({"title": "Titre " + "x" * 120}, "title", "Le titre dépasse 120 caractères."),
    "control characters": (
        {"title": "Jardin\x07 partagé"},
        "title",
        "Le titre contient des caractères de contrôle interdits.",
    ),
    "invisible title": (
        {"title": "\u200b\u2060\ufeff"},
        "title",
        "Le titre ne contient que des caractères invisibles.",
    ),
    "bidi override": (
        {"title": "Jardin \u202epartagé"},
        "title",
        "Le titre contient des caractères qui inversent le sens d’écriture (interdits).",
    ),
    "bad status": ({"status": "en rêve"}, "status", "Statut inconnu : « en rêve »."),
    "end before start": (
        {"start_date": "2025-06-01", "end_date": "2025-05-01"},
        "end_date",
        "La date de fin doit être postérieure ou égale à la date de début.",
    ),
    "bad date": (
        {"start_date": "2025-02-30"},
        "start_date",
        "La date de début doit être une date valide au format AAAA-MM-JJ.",
    ),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_refused_create_keeps_the_typed_values(sceaux, store, atlas, case):
    overrides, field, message = REFUSALS[case]
    typed = form_for(atlas, SCEAUX, organisation="Association typée <b>42</b>", **overrides)
    before = snapshot(store)
    r = sceaux.post(f"/quartiers/{SCEAUX}/experimentations", data=typed)
    assert r.status_code == 422
    assert field_errors(r)[field] == message
    page = body(r)
    assert "Le formulaire contient des erreurs : rien n’a été enregistré." in page
    assert f'value="{html.escape(typed["title"].strip())}"' in page
    assert 'value="Association typée &lt;b&gt;42&lt;/b&gt;"' in page
    assert html.escape("Des bacs potagers au pied des immeubles.") in page
    if field != "lat":
        assert f'value="{typed["lat"]}"' in page
    if field != "theme":
        assert f'<option value="{typed["theme"]}" selected>' in page
    assert snapshot(store) == before


def test_refused_create_outside_the_district(sceaux, store, atlas):
    lon, lat = atlas.centres_lonlat()[MEUDON]
    typed = form_for(
        atlas, SCEAUX, title="<img src=x onerror=alert(1)>", lon=str(lon), lat=str(lat)
    )
    before = snapshot(store)
    r = sceaux.post(f"/quartiers/{SCEAUX}/experimentations", data=typed)
    assert r.status_code == 422
    message = field_errors(r)["lat"]
    assert re.fullmatch(
        r"Le point est à \d+ m en dehors du quartier Les Blagis \(tolérance : "
        r"50 m\)\. Placez l’expérimentation dans le périmètre du quartier\.",
        message,
    )
    page = body(r)
    assert 'value="&lt;img src=x onerror=alert(1)&gt;"' in page
    assert "<img src=x" not in page
    assert f'value="{lat}"' in page and f'value="{lon}"' in page
    assert snapshot(store) == before


def test_refused_create_reports_every_field_at_once(sceaux, store, atlas):
    """A missing title does not hide that the point is also outside the district."""
    lon, lat = atlas.centres_lonlat()[MEUDON]
    before = snapshot(store)
    r = sceaux.post(
        f"/quartiers/{SCEAUX}/experimentations",
        data=form_for(atlas, SCEAUX, title="", theme="?", lon=str(lon), lat=str(lat)),
    )
    assert r.status_code == 422
    errors = field_errors(r)
    assert set(errors) == {"title", "theme", "lat"}
    assert "en dehors du quartier Les Blagis" in errors["lat"]
    assert snapshot(store) == before


def test_tolerance_accepts_a_point_just_outside(sceaux, store, atlas):
    """The indicative perimeter has a 50 m tolerance: 20 m outside is accepted."""
    geom = atlas.district(SCEAUX).geometry
    centre = gpd.GeoSeries([Point(*IN_SCEAUX)], crs=DISPLAY_CRS).to_crs(ANALYSIS_CRS).iloc[0]
    edge = nearest_points(geom.boundary, centre)[0]
    dx, dy = edge.x - centre.x, edge.y - centre.y
    scale = (edge.distance(centre) + 20) / edge.distance(centre)
    probe = Point(centre.x + dx * scale, centre.y + dy * scale)
    assert 15 < geom.distance(probe) < 25
    p = gpd.GeoSeries([probe], crs=ANALYSIS_CRS).to_crs(DISPLAY_CRS).iloc[0]
    r = sceaux.post(
        f"/quartiers/{SCEAUX}/experimentations",
        data=form_for(atlas, SCEAUX, title="Juste au bord", lon=f"{p.x:.6f}", lat=f"{p.y:.6f}"),
    )
    assert r.status_code == 302
    assert "Juste au bord" in [e["title"] for e in store.list_experiments()]


# Editing, conflicts, moving, withdrawing ------------------------------------------------


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
        "Cette expérimentation a été modifiée par quelqu'un d'autre depuis que vous "
        "l'avez ouverte (version 2). Rechargez la page : vos modifications n'ont pas été "
        "enregistrées."
    ) in page
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
        ("stale", 409, "modifiée par quelqu'un d'autre"),
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
    assert "Retrait Reversible" in body(anon.get("/"))
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
    history = section(body(anon.get(url)), 'id="history"', "</table>")
    rows = re.findall(r"<tr><td>([^<]+)</td><td>([^<]+)</td><td>([^<]+)</td>", history)
    # The public sees the role and commune, not the account (tests/web/test_public_names.py).
    assert [(who, action) for _, who, action in rows] == [
        ("éditeur Sceaux", "création"),
        ("éditeur Sceaux", "modification"),
    ]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", at) for at, _, _ in rows)
    assert "<strong>titre</strong> : Ancien titre → Nouveau titre" in history
    assert "<strong>objectifs</strong> : ∅ → " in history  # a list, shown as text
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


# The placement API -------------------------------------------------------------------------


def placement(client, slug: str, lon, lat, **extra):
    return client.get(
        "/api/placement", query_string={"quartier": slug, "lon": lon, "lat": lat, **extra}
    )


def test_placement_inside_sceaux(anon):
    r = placement(anon, SCEAUX, *IN_SCEAUX)
    assert r.status_code == 200
    p = r.get_json()
    assert p["inside"] is True and p["accepted"] is True
    assert p["distance_outside_m"] == 0.0 and p["tolerance_m"] == 50.0
    assert p["nearest_cut"]["names"] == "RER B" and p["nearest_cut"]["kind"] == "voie ferrée"
    assert 100 < p["nearest_cut"]["distance_m"] < 500
    assert p["nearest_station"]["nom"] == "Sceaux" and "RER B" in p["nearest_station"]["ligne"]
    assert p["side_id"] in (1, 2)
    assert p["nearby_experiments"] == []


def test_placement_outside_gives_the_distance(anon, atlas):
    lon, lat = atlas.centres_lonlat()[MEUDON]
    p = placement(anon, SCEAUX, lon, lat).get_json()
    point = gpd.GeoSeries([Point(lon, lat)], crs=DISPLAY_CRS).to_crs(ANALYSIS_CRS).iloc[0]
    expected = round(atlas.district(SCEAUX).geometry.distance(point), 1)
    assert p["inside"] is False and p["accepted"] is False
    assert p["distance_outside_m"] == expected
    assert expected > 4000
    assert p["side_id"] is None


def test_placement_lists_nearby_experiments_within_150_m(anon, store, atlas):
    lon, lat = IN_SCEAUX
    near = stored(store, atlas, SCEAUX, title="Tout près", lat=str(lat + 0.0005))  # ~56 m
    closer = stored(store, atlas, SCEAUX, title="Plus près", lat=str(lat + 0.0002))  # ~22 m
    stored(store, atlas, SCEAUX, title="Trop loin", lat=str(lat + 0.002))  # ~222 m
    found = placement(anon, SCEAUX, lon, lat).get_json()["nearby_experiments"]
    assert [e["title"] for e in found] == ["Plus près", "Tout près"]
    assert [e["id"] for e in found] == [closer["id"], near["id"]]
    assert 15 < found[0]["distance_m"] < 30 and 50 < found[1]["distance_m"] < 62
    moving = placement(anon, SCEAUX, lon, lat, exclure=closer["id"]).get_json()
    assert [e["title"] for e in moving["nearby_experiments"]] == ["Tout près"]


@pytest.mark.parametrize(
    "lon, lat", [("2.3", "abc"), ("2.3", ""), ("nan", "48.78"), ("2.3", "40"), ("2.3", "inf")]
)
def test_placement_bad_coordinates_are_400_json(anon, lon, lat):
    r = placement(anon, SCEAUX, lon, lat)
    assert r.status_code == 400
    data = r.get_json()
    assert data["erreur"] == "Coordonnées invalides." and data["statut"] == 400
    assert data["errors"]


def test_placement_unknown_district_is_404_json(anon):
    r = placement(anon, "paris-centre", *IN_SCEAUX)
    assert r.status_code == 404
    assert r.get_json()["erreur"] == "Le quartier « paris-centre » n’existe pas."


# The registry and its figures ------------------------------------------------------------


def figures(client) -> tuple[str, str, str]:
    page = body(client.get("/experimentations"))
    total = re.search(r'<dd id="fig-total">([^<]*)</dd>', page).group(1)
    rate = re.search(r'<dd id="fig-rate">([^<]*)</dd>', page).group(1)
    table = section(page, 'id="district-figures"', "</table>")
    sceaux_row = section(table, f'href="/quartiers/{SCEAUX}"', "</tr>")
    return total, rate, sceaux_row


def test_registry_figures_are_computed_from_statuses(sceaux, anon, store, atlas):
    seed = Counter(e["status"] for e in store.list_experiments())
    assert seed == {"déployée": 2, "sélectionnée": 1}  # the three real Aulnay experiments
    first = stored(store, atlas, SCEAUX, title="S1", status="sélectionnée")
    second = stored(store, atlas, SCEAUX, title="S2", status="déployée")
    stored(store, atlas, SCEAUX, title="S3", status="proposée")
    # deployed (2 + 1) / selected or beyond (3 + 2) ; Sceaux 1 / 2
    total, rate, row = figures(anon)
    assert (total, rate) == ("6", "60 %")
    assert "<td>50 %</td>" in row and "<td>3</td>" in row
    r = sceaux.post(
        f"/experimentations/{first['id']}",
        data=form_for(atlas, SCEAUX, title="S1", status="terminée", version="1"),
    )
    assert r.status_code == 302
    # deployed or finished (3 + 1) / 5 ; Sceaux 2 / 2
    total, rate, row = figures(anon)
    assert (total, rate) == ("6", "80 %")
    assert "<td>100 %</td>" in row
    sceaux.post(
        f"/experimentations/{second['id']}/retirer", data={"csrf_token": TOKEN, "version": "1"}
    )
    # withdrawn ones do not count: (2 + 1) / (3 + 1) ; Sceaux 1 / 1
    total, rate, row = figures(anon)
    assert (total, rate) == ("5", "75 %")
    assert "<td>100 %</td>" in row and "<td>2</td>" in row


def test_registry_without_selected_experiments_has_no_rate(anon, admin, store):
    for e in store.list_experiments():
        admin.post(
            f"/experimentations/{e['id']}/retirer",
            data={"csrf_token": TOKEN, "version": str(e["version"])},
        )
    total, rate, _ = figures(anon)
    assert (total, rate) == ("0", "non calculable (aucune sélectionnée)")


def test_registry_shows_the_reported_figures_apart(anon):
    page = html.unescape(body(anon.get("/experimentations")))
    reported = section(page, '<article class="card reported">', "</article>")
    assert "Chiffres publiés par le programme" in reported
    assert "<dd>18</dd>" in reported and "<dd>70 %</dd>" in reported
    assert "Chiffres déclarés, cités tels quels" in reported
    computed = section(page, '<article class="card">', "</article>")
    assert "Programme (registre)" in computed and "70 %" not in computed
    assert "calculés à partir du registre" in page


# Filters ------------------------------------------------------------------------------------


@pytest.fixture
def filtered(store, atlas):
    stored(store, atlas, SCEAUX, title="Filtre Mobilite Alpha", theme="mobilité", status="proposée")
    stored(
        store,
        atlas,
        SCEAUX,
        title="Filtre Culture Bravo",
        theme="lien social et culture",
        status="déployée",
    )
    stored(store, atlas, MEUDON, title="Filtre Meudon Charlie", theme="mobilité", status="déployée")
    return store


SEEDS = {"Purple Alternative Surface", "Soy PV", "Istya"}
ALPHA, BRAVO, CHARLIE = "Filtre Mobilite Alpha", "Filtre Culture Bravo", "Filtre Meudon Charlie"


@pytest.mark.parametrize(
    "query, expected",
    [
        ("", SEEDS | {ALPHA, BRAVO, CHARLIE}),
        ("?quartier=sceaux-les-blagis", {ALPHA, BRAVO}),
        ("?theme=mobilité", {ALPHA, CHARLIE}),
        ("?statut=déployée", {"Purple Alternative Surface", "Soy PV", BRAVO, CHARLIE}),
        ("?quartier=meudon-la-foret&theme=mobilité&statut=déployée", {CHARLIE}),
        ("?quartier=aulnay-centre-gare", SEEDS),
        ("?quartier=paris&theme=astrologie&statut=rêvée", SEEDS | {ALPHA, BRAVO, CHARLIE}),
    ],
)
def test_filters_on_geojson_overview_and_registry(anon, filtered, query, expected):
    assert set(geojson_titles(anon, query)) == expected
    overview = body(anon.get("/" + query))
    assert f"{len(expected)} expérimentation(s) affichée(s)" in overview
    for title in (ALPHA, BRAVO, CHARLIE):
        assert (title in overview) == (title in expected)
    registry = body(anon.get("/experimentations" + query))
    listed = set(
        re.findall(
            r'<a href="/experimentations/\d+">([^<]+)</a>',
            section(registry, 'id="experiments"', "</table>"),
        )
    )
    assert listed == expected


def test_filters_on_the_district_page(anon, filtered):
    page = body(anon.get(f"/quartiers/{SCEAUX}?theme=mobilité"))
    assert ALPHA in page and BRAVO not in page
    assert "Expérimentations (1)" in page
    empty = body(anon.get(f"/quartiers/{SCEAUX}?statut=terminée"))
    assert "Aucune expérimentation enregistrée pour ces filtres" in empty


# Export -------------------------------------------------------------------------------------


def test_csv_export(anon, filtered):
    with anon.get("/experimentations/export.csv") as r:
        assert r.status_code == 200
        assert r.mimetype == "text/csv"
        assert r.headers["Content-Type"] == "text/csv; charset=utf-8"  # one charset
        assert "attachment" in r.headers["Content-Disposition"]
        assert r.headers["Content-Disposition"].endswith(".csv")
        data = r.data
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    lines = text.split("\r\n")
    assert lines[0] == (
        "id;district;title;organisation;org_kind;theme;objectives;description;"
        "status;start_date;end_date;lon;lat;precision;location_note;"
        "evaluation_outcome;evaluation_scale_up"
    )
    rows = list(csv.DictReader(io.StringIO(text, newline=""), delimiter=";"))
    assert {r["title"] for r in rows} == SEEDS | {ALPHA, BRAVO, CHARLIE}
    assert all(len(r) == len(COLUMNS) for r in rows)
    alpha = next(r for r in rows if r["title"] == ALPHA)
    assert alpha["district"] == SCEAUX and alpha["theme"] == "mobilité"
    assert "\n" in alpha["description"]  # multi-line text survives, quoted
    with anon.get("/experimentations/export.csv?quartier=aulnay-centre-gare") as r:
        assert len(r.data.decode("utf-8-sig").strip().split("\r\n")) == 1 + len(SEEDS)


def test_geojson_export(anon, filtered):
    with anon.get("/experimentations/export.geojson?theme=mobilité") as r:
        assert r.status_code == 200
        assert r.mimetype == "application/geo+json"
        assert "attachment" in r.headers["Content-Disposition"]
        data = json.loads(r.data)
    assert data["type"] == "FeatureCollection"
    assert {f["properties"]["title"] for f in data["features"]} == {ALPHA, CHARLIE}
    alpha = next(f for f in data["features"] if f["properties"]["title"] == ALPHA)
    assert alpha["geometry"] == {"type": "Point", "coordinates": list(IN_SCEAUX)}
    assert alpha["properties"]["objectives"] == [alpha["properties"]["objectives"][0]]


# Import -------------------------------------------------------------------------------------


def test_import_good_csv(sceaux, store, atlas):
    count = len(store.list_experiments())
    r = upload(sceaux, write_csv(rows_for(atlas, SCEAUX, ["Import Un", "Import Deux"])), "lot.csv")
    assert r.status_code == 302 and r.headers["Location"] == "/experimentations"
    assert len(store.list_experiments()) == count + 2
    one = next(e for e in store.list_experiments() if e["title"] == "Import Un")
    assert one["district"] == SCEAUX and one["objectives"] == [atlas.objectives()[SCEAUX][1]]
    assert store.history(one["id"])[0]["action"] == "import"
    assert "2 expérimentation(s) importée(s)." in html.unescape(
        body(sceaux.get("/experimentations"))
    )


def test_import_good_geojson(sceaux, store, atlas):
    count = len(store.list_experiments())
    rows = rows_for(atlas, SCEAUX, ["Geo Un"], evaluation_scale_up=True)
    rows[0]["lon"], rows[0]["lat"] = IN_SCEAUX
    r = upload(sceaux, write_geojson(rows).encode(), "lot.geojson")
    assert r.status_code == 302
    assert len(store.list_experiments()) == count + 1
    geo = next(e for e in store.list_experiments() if e["title"] == "Geo Un")
    assert geo["evaluation_scale_up"] is True and (geo["lon"], geo["lat"]) == IN_SCEAUX


def test_exported_csv_imports_back(admin, store):
    with admin.get("/experimentations/export.csv") as r:
        exported = r.data
    before = store.list_experiments()
    r = upload(admin, exported, "export.csv")
    assert r.status_code == 302
    after = store.list_experiments()
    assert len(after) == 2 * len(before)
    keep = [c for c in COLUMNS if c != "id"]
    assert sorted(json.dumps([e[c] for c in keep], sort_keys=True) for e in before * 2) == sorted(
        json.dumps([e[c] for c in keep], sort_keys=True) for e in after
    )


def test_import_with_one_bad_row_imports_nothing(sceaux, store, atlas):
    rows = rows_for(atlas, SCEAUX, ["Bon Un", "", "Bon Deux"])
    rows.append({**rows[0], "title": "Mauvais thème", "theme": "astrologie"})
    before = snapshot(store)
    r = upload(sceaux, write_csv(rows), "lot.csv")
    assert r.status_code == 422
    page = html.unescape(body(r))
    assert "Import refusé : rien n’a été importé" in page
    assert "2 ligne(s) sur 4 comportent des erreurs." in page
    report = section(page, 'id="import-report"', "</table>")
    lines = re.findall(r"<tr><td>(\d+)</td>", report)
    assert lines == ["3", "5"]  # the header is line 1
    assert "<strong>title</strong> : Le titre est obligatoire." in report
    assert "<strong>theme</strong> : Thème inconnu : « astrologie »." in report
    assert snapshot(store) == before


def test_import_rows_of_another_commune_imports_nothing(sceaux, store, atlas):
    rows = rows_for(atlas, SCEAUX, ["Chez moi"]) + rows_for(atlas, MEUDON, ["Chez le voisin"])
    before = snapshot(store)
    r = upload(sceaux, write_csv(rows), "lot.csv")
    assert r.status_code == 422
    report = section(html.unescape(body(r)), 'id="import-report"', "</table>")
    assert re.findall(r"<tr><td>(\d+)</td><td>([^<]*)</td>", report) == [("3", "Chez le voisin")]
    assert "Votre compte ne permet pas de modifier le quartier Meudon-la-Forêt" in report
    assert snapshot(store) == before


def test_import_unknown_district_is_reported(admin, store, atlas):
    rows = rows_for(atlas, SCEAUX, ["Ailleurs"])
    rows[0]["district"] = "paris-centre"
    before = snapshot(store)
    r = upload(admin, write_csv(rows), "lot.csv")
    assert r.status_code == 422
    assert "Quartier inconnu : « paris-centre »." in html.unescape(body(r))
    assert snapshot(store) == before


@pytest.mark.parametrize(
    "content, filename, message",
    [
        (
            b'{"type": "FeatureCollection", "features": [{"geometry": null}]}',
            "lot.geojson",
            "GeoJSON illisible",
        ),
        (b"{ceci n'est pas du json", "lot.json", "GeoJSON illisible"),
        (
            "district;title\nsceaux-les-blagis;Été".encode("latin-1"),
            "lot.csv",
            "Le fichier CSV n’est pas encodé en UTF-8.",
        ),
        (
            b"district,title\nsceaux-les-blagis,Virgules",
            "lot.csv",
            "Colonnes obligatoires absentes du CSV : district, title",
        ),
        ("\ufeffdistrict;title\r\n".encode(), "lot.csv", "Le fichier ne contient aucune ligne."),
        (b"[" * 100_000 + b"]" * 100_000, "profond.geojson", "GeoJSON illisible"),
        (
            f"district;title\n{SCEAUX};{'x' * 131_073}\n".encode(),
            "cellule.csv",
            "CSV illisible à la ligne 2 : une cellule dépasse 131\u202f072 caractères.",
        ),
    ],
    ids=["null-geometry", "not-json", "latin-1", "commas", "no-rows", "deep-json", "huge-cell"],
)
def test_unreadable_uploads_are_400_in_french(sceaux, store, content, filename, message):
    before = snapshot(store)
    r = upload(sceaux, content, filename)
    assert r.status_code == 400
    assert message in html.unescape(body(r))
    assert snapshot(store) == before


def test_import_without_a_file_is_400(sceaux, store):
    r = sceaux.post("/experimentations/import", data={"csrf_token": TOKEN})
    assert r.status_code == 400
    assert "Choisissez un fichier CSV ou GeoJSON à importer." in body(r)


def test_oversized_upload_is_413_in_french(app_factory, atlas):
    small = app_factory(MAX_CONTENT_LENGTH=4096)
    store = small.extensions["qmi_store"]
    client = client_as(small, "editeur-sceaux", "editeur", "92071")
    rows = rows_for(atlas, SCEAUX, [f"Ligne {i}" for i in range(40)])
    data = write_csv(rows)
    assert len(data) > 4096
    before = snapshot(store)
    r = upload(client, data, "gros.csv")
    assert r.status_code == 413
    page = body(r)
    assert "Le fichier envoyé est trop volumineux." in page and '<html lang="fr">' in page
    assert snapshot(store) == before


@pytest.mark.parametrize(
    "content, filename",
    [
        (b"{ceci n'est pas du json", "lot.json"),
        (b"[" * 100_000 + b"]" * 100_000, "profond.geojson"),
        (f"district;title\n{SCEAUX};{'x' * 131_073}\n".encode(), "cellule.csv"),
    ],
    ids=["malformed", "deep", "huge-cell"],
)
def test_anonymous_import_is_401_before_the_file_is_read(anon, store, content, filename):
    before = snapshot(store)
    r = upload(anon, content, filename)
    assert r.status_code == 401
    assert "Connectez-vous pour importer des expérimentations." in html.unescape(body(r))
    assert snapshot(store) == before


def test_anonymous_import_over_the_size_limit_is_401_not_413(app_factory):
    small = app_factory(MAX_CONTENT_LENGTH=4096)
    store = small.extensions["qmi_store"]
    before = snapshot(store)
    r = upload(client_as(small, None), b"district;title\n" + b"x" * 8192, "gros.csv")
    assert r.status_code == 401
    assert "Connectez-vous pour importer des expérimentations." in html.unescape(body(r))
    assert snapshot(store) == before


def test_import_form_is_only_for_accounts(anon, sceaux):
    assert 'action="/experimentations/import"' not in body(anon.get("/experimentations"))
    assert 'action="/experimentations/import"' in body(sceaux.get("/experimentations"))


# Escaping -----------------------------------------------------------------------------------


@pytest.mark.parametrize("title", XSS_TITLES)
def test_hostile_titles_are_escaped_on_every_page(sceaux, anon, store, atlas, title):
    r = sceaux.post(
        f"/quartiers/{SCEAUX}/experimentations",
        data=form_for(
            atlas,
            SCEAUX,
            title=title,
            organisation="<b onmouseover=alert(2)>Org</b>",
            location_note="${alert(3)}",
            precision="indicative",
        ),
    )
    assert r.status_code == 302
    detail_url = r.headers["Location"]
    sceaux.post(
        detail_url,
        data=form_for(
            atlas, SCEAUX, title=title, version="1", description="<script>alert(4)</script>"
        ),
    )
    escaped = html.escape(title, quote=False)
    pages = {
        "detail": detail_url,
        "district": f"/quartiers/{SCEAUX}",
        "registry": "/experimentations",
        "overview": "/",
    }
    for name, url in pages.items():
        for client in (anon, sceaux):
            page = body(client.get(url))
            for raw in (
                "<img src=x onerror",
                "</script><script>alert(1)",
                "<b onmouseover",
                "<script>alert(4)",
            ):
                assert raw not in page, (name, raw)
            if name != "overview":
                assert escaped in page, name
    detail = body(anon.get(detail_url))
    assert f'<h1 id="experiment-title">{escaped}</h1>' in detail
    assert "&lt;script&gt;alert(4)&lt;/script&gt;" in detail  # in the history, as text
    # on the maps the text travels as data (HTML-safe JSON), the browser makes it text
    for url in ("/", f"/quartiers/{SCEAUX}"):
        tips = [p["tooltip"] for p in map_properties(body(anon.get(url)), "experimentation")]
        assert f"{title} — proposée" in tips, url
