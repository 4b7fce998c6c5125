"""Odd ids, query strings and paths on every route: a French 4xx, never a 500.

Each request is made by an administrator (who may write everywhere), so a refusal is
the input's fault, not a permission's. After every write attempt the stored experiments,
crossings and data version are compared with a snapshot.
"""

import html
import re

import pytest

from geoapp.registry import validate_crossing, validate_experiment
from tests.conftest import TOKEN, client_as

SCEAUX = "sceaux-les-blagis"
IN_SCEAUX = ("2.3031", "48.7828")  # lon, lat
BEYOND_64_BITS = str(2**64)  # SQLite integers are signed 64-bit: this one cannot bind
BEYOND_64_BITS_LONG = "9" * 40
BEYOND_INT_PARSING = "9" * 5000  # int() refuses more than 4300 digits


@pytest.fixture
def store(app):
    return app.extensions["qmi_store"]


@pytest.fixture
def admin(app):
    return client_as(app, "admin-mgp", "administrateur")


def snapshot(store):
    return (
        store.list_experiments(include_withdrawn=True),
        store.list_crossings(),
        store.data_version(),
    )


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def assert_french_refusal(response, status: int | None = None) -> None:
    """A 4xx whose page (or JSON ``erreur``) is one of the app's French messages."""
    assert 400 <= response.status_code < 500, (response.status_code, text(response)[:300])
    if status is not None:
        assert response.status_code == status
    if response.is_json:
        assert response.get_json()["erreur"]
    else:
        assert '<html lang="fr">' in text(response)
        assert '<p class="error-message">' in text(response)


# Ids beyond 64 bits ----------------------------------------------------------------

ID_ROUTES = [
    ("GET", "/experimentations/{id}"),
    ("GET", "/api/experimentations/{id}"),
    ("POST", "/experimentations/{id}"),
    ("POST", "/experimentations/{id}/deplacer"),
    ("POST", "/experimentations/{id}/retirer"),
    ("POST", "/experimentations/{id}/retablir"),
    ("POST", "/franchissements/{id}/deplacer"),
    ("POST", "/franchissements/{id}/supprimer"),
]


@pytest.mark.parametrize(
    "big",
    [BEYOND_64_BITS, BEYOND_64_BITS_LONG, BEYOND_INT_PARSING],
    ids=["2**64", "40-digits", "5000-digits"],
)
@pytest.mark.parametrize("method, route", ID_ROUTES)
def test_ids_beyond_64_bits_are_a_french_404(admin, store, method, route, big):
    before = snapshot(store)
    url = route.format(id=big)
    if method == "GET":
        r = admin.get(url)
    else:
        r = admin.post(
            url,
            data={"csrf_token": TOKEN, "version": "1", "lon": IN_SCEAUX[0], "lat": IN_SCEAUX[1]},
        )
    assert_french_refusal(r, 404)
    assert snapshot(store) == before


def stored_experiment(app, store):
    atlas = app.extensions["qmi_atlas"]
    values = validate_experiment(
        {
            "title": "Jardin",
            "organisation": "Association",
            "org_kind": "association",
            "theme": "espaces publics",
            "objectives": [atlas.objectives()[SCEAUX][0]],
            "description": "Un jardin.",
            "status": "proposée",
            "lon": IN_SCEAUX[0],
            "lat": IN_SCEAUX[1],
            "precision": "exacte",
        },
        objectives=atlas.objectives()[SCEAUX],
    )
    return store.create_experiment(values, district=SCEAUX, user="fixture")


def edit_form(e: dict, version: str) -> dict:
    """The experiment's own values as its edit form posts them, with ``version``."""
    form = {k: "" if v is None else str(v) for k, v in e.items() if k != "objectives"}
    return {**form, "objectives": e["objectives"], "csrf_token": TOKEN, "version": version}


@pytest.mark.parametrize(
    "version",
    [BEYOND_64_BITS, BEYOND_64_BITS_LONG, BEYOND_INT_PARSING, "-" + BEYOND_64_BITS, "0"],
    ids=["2**64", "40-digits", "5000-digits", "-2**64", "zero"],
)
@pytest.mark.parametrize("action", ["", "/deplacer", "/retirer"])
def test_versions_beyond_64_bits_are_a_french_4xx(app, admin, store, action, version):
    e = stored_experiment(app, store)
    before = snapshot(store)
    r = admin.post(f"/experimentations/{e['id']}{action}", data=edit_form(e, version))
    assert_french_refusal(r)
    assert "Version de l’expérimentation" in text(r)
    assert snapshot(store) == before


def test_crossing_versions_beyond_64_bits_are_a_french_4xx(app, admin, store):
    atlas = app.extensions["qmi_atlas"]
    line = atlas.corridors[SCEAUX].geometry.iloc[0]
    from tests.web.test_cuts_web import lonlat  # the point-on-the-corridor helper

    lon, lat = lonlat(line.interpolate(0.5, normalized=True))
    crossing = store.add_crossing(
        {
            **validate_crossing(
                {"kind": "passerelle", "status": "existant", "lon": lon, "lat": lat}
            ),
            "district": SCEAUX,
        },
        user="fixture",
    )
    before = snapshot(store)
    for action in ("/deplacer", "/supprimer"):
        r = admin.post(
            f"/franchissements/{crossing['id']}{action}",
            data={"csrf_token": TOKEN, "version": BEYOND_64_BITS, "lon": str(lon), "lat": str(lat)},
        )
        assert_french_refusal(r)
    assert snapshot(store) == before


# url_for arguments smuggled in the query string -----------------------------------

REGISTRY_EXPORTS = re.compile(r'href="([^"]*/experimentations/export\.(?:csv|geojson)[^"]*)"')


@pytest.mark.parametrize(
    "query",
    [
        "_method=POST",
        "_external=1",
        "_scheme=javascript&_external=1",
        "_anchor=x",
        "inconnu=1",
        "theme=espaces%20publics&_method=POST",
    ],
)
def test_registry_links_keep_only_the_known_filters(client, query):
    r = client.get(f"/experimentations?{query}")
    assert r.status_code == 200
    links = [html.unescape(u) for u in REGISTRY_EXPORTS.findall(r.get_data(as_text=True))]
    assert len(links) == 2
    for link in links:
        assert link.startswith("/experimentations/export."), link  # relative, no scheme
        assert "_" not in link.partition("?")[2] and "inconnu" not in link and "#" not in link
    if "theme=" in query:
        assert all(link.endswith("?theme=espaces+publics") for link in links), links


# Vendored asset paths ----------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/vendor/qmi/js%00x",
        "/vendor/leaflet/%00",
        "/vendor/leaflet/leaflet.js%00.png",
        "/vendor/le%00aflet/leaflet.js",
        "/vendor/leaflet/" + "a" * 5000,
    ],
    ids=["nul-in-name", "nul-alone", "nul-before-suffix", "nul-in-library", "long-name"],
)
def test_odd_vendor_paths_are_a_french_404(client, path):
    assert_french_refusal(client.get(path), 404)


# Odd slugs, numbers and parameters on every route -----------------------------------------

ODD_SLUGS = ["%00", "sceaux-les-blagis%00", "a" * 5000, "..", "%C3%A9", "%ff", "%3Cscript%3E"]
ODD_NUMBERS = ["nan", "inf", "-inf", "1e400", "", "abc", "%00", "9" * 5000, "0x10", "٣"]
GOOD = f"lon={IN_SCEAUX[0]}&lat={IN_SCEAUX[1]}"

REFUSED = [
    *[(f"/quartiers/{s}", 404) for s in ODD_SLUGS],
    *[(f"/api/quartiers/{s}/coupures", 404) for s in ODD_SLUGS],
    *[(f"/api/quartiers/{s}/what-if?{GOOD}", 404) for s in ODD_SLUGS],
    *[(f"/api/placement?quartier={s}&{GOOD}", 404) for s in ODD_SLUGS],
    *[(f"/exports/{s}.png", 404) for s in ODD_SLUGS],
    *[(f"/exports/all.csv?quartier={s}", 404) for s in ODD_SLUGS],
    *[(f"/api/placement?quartier={SCEAUX}&lon={IN_SCEAUX[0]}&lat={v}", 400) for v in ODD_NUMBERS],
    *[(f"/api/placement?quartier={SCEAUX}&lon={v}&lat={IN_SCEAUX[1]}", 400) for v in ODD_NUMBERS],
    *[(f"/api/quartiers/{SCEAUX}/what-if?lon={IN_SCEAUX[0]}&lat={v}", 400) for v in ODD_NUMBERS],
    *[(f"/api/quartiers/{SCEAUX}/what-if?lon={v}&lat={IN_SCEAUX[1]}", 400) for v in ODD_NUMBERS],
    *[(f"/exports/{SCEAUX}.gpkg?crs={v}", 400) for v in ODD_NUMBERS if v],
    *[(f"/exports/{SCEAUX}.png?taille={v}", 400) for v in ODD_NUMBERS if v],
    *[(f"/exports/all.csv?theme={v}", 400) for v in ODD_NUMBERS if v],
    *[(f"/exports/all.csv?statut={v}", 400) for v in ODD_NUMBERS if v],
    ("/api/placement", 400),
    (f"/api/placement?{GOOD}", 400),
    (f"/api/placement?quartier={SCEAUX}", 400),
    (f"/api/quartiers/{SCEAUX}/what-if", 400),
    ("/exports/", 404),
    ("/exports/.png", 404),
    (f"/exports/{SCEAUX}.", 404),
    (f"/exports/{SCEAUX}..png", 404),
    (f"/exports/{SCEAUX}.exe", 404),
    ("/experimentations/0", 404),
    ("/experimentations/-1", 404),
    ("/experimentations/%C3%A9", 404),
    ("/api/experimentations/0", 404),
]


@pytest.mark.parametrize("url, status", REFUSED, ids=[u[:70] for u, _ in REFUSED])
def test_odd_values_are_a_french_4xx(client, url, status):
    assert_french_refusal(client.get(url), status)


# Filters of the pages and lists: an unknown value is ignored, as if absent.
IGNORED = [
    *[f"/experimentations?quartier={v}&theme={v}&statut={v}" for v in ODD_NUMBERS[:7]],
    *[f"/api/experimentations.geojson?quartier={v}&theme={v}&statut={v}" for v in ODD_NUMBERS],
    *[f"/experimentations/export.csv?quartier={v}&theme={v}" for v in ODD_NUMBERS[:7]],
    *[f"/api/placement?quartier={SCEAUX}&{GOOD}&exclure={v}" for v in ODD_NUMBERS],
    "/?theme=%00&statut=" + "x" * 5000 + "&quartier=%ff",
    f"/quartiers/{SCEAUX}?theme=%00&statut=nan",
    "/connexion?next=%00",
    "/connexion?next=//ailleurs.example",
]


@pytest.mark.parametrize("url", IGNORED, ids=[u[:70] for u in IGNORED])
def test_odd_filters_are_ignored(client, url):
    r = client.get(url)
    assert r.status_code == 200, (r.status_code, text(r)[:300])


ODD_POSTS = [
    (
        f"/quartiers/{SCEAUX}/franchissements",
        {"kind": "pont", "status": "existant", "lon": "nan", "lat": "1e400"},
        422,
    ),
    (
        f"/quartiers/{SCEAUX}/franchissements",
        {"kind": "\x00", "status": "\x00", "name": "\u202e", "lon": "2.3", "lat": "48.78"},
        422,
    ),
    ("/quartiers/%00/franchissements", {}, 404),
    ("/quartiers/sceaux-les-blagis%00/experimentations", {}, 404),
    (
        f"/quartiers/{SCEAUX}/experimentations",
        {
            "objectives": "\x00",
            "lon": "1e400",
            "lat": "nan",
            "start_date": "9999-99-99",
            "evaluation_scale_up": "\x00",
        },
        422,
    ),
    ("/experimentations/import", {}, 400),
]


@pytest.mark.parametrize("url, data, status", ODD_POSTS, ids=[u[:60] for u, _, _ in ODD_POSTS])
def test_odd_writes_are_a_french_4xx_and_store_nothing(admin, store, url, data, status):
    before = snapshot(store)
    r = admin.post(url, data={"csrf_token": TOKEN, **data})
    assert r.status_code == status, text(r)[:300]
    assert '<html lang="fr">' in text(r)
    assert snapshot(store) == before
