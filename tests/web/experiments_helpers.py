"""Helpers shared by the experiment web tests: districts, valid forms, stored rows,
response parsing. Their fixtures (``store``, ``anon``, ``sceaux``, ``admin``) live in
tests/web/conftest.py.
"""

import html
import io
import json
import re

import geopandas as gpd

from geoapp.analysis import ANALYSIS_CRS, DISPLAY_CRS
from geoapp.registry import validate_experiment
from tests.conftest import TOKEN

SCEAUX, MEUDON, AULNAY = "sceaux-les-blagis", "meudon-la-foret", "aulnay-centre-gare"
IN_SCEAUX = (2.3031, 48.7828)  # lon, lat: in Les Blagis
XSS_TITLES = ["<img src=x onerror=alert(1)>", "${alert(1)}", "</script><script>alert(1)</script>"]
FIELD_ERROR = re.compile(r'<span class="field-error" id="err-(\w+)">(.*?)</span>', re.S)


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


def confirm_token(response) -> str | None:
    """The token of an import preview's « Confirmer » form (None: nothing to confirm)."""
    found = re.search(r'name="lot" value="([^"]+)"', body(response))
    return found and found.group(1)


def confirm(client, preview):
    """Confirm the import previewed in ``preview`` (a response of `upload`)."""
    token = confirm_token(preview)
    assert token, "the preview offers no confirmation"
    return client.post(
        "/experimentations/import/confirmer", data={"csrf_token": TOKEN, "lot": token}
    )


def import_and_confirm(client, data: bytes, filename: str):
    """Upload, check the preview accepts it, confirm: the response of the confirmation."""
    preview = upload(client, data, filename)
    assert preview.status_code == 200, body(preview)[:2000]
    return confirm(client, preview)


def counts(response) -> dict[str, int]:
    """The preview's « N à créer, M à modifier, K inchangée(s), E erreur(s) »."""
    text = html.unescape(section(body(response), 'id="import-counts"', "</p>"))
    found = re.findall(
        r"<strong>(\d+)</strong> (à créer|à modifier|inchangée\(s\)|erreur\(s\))", text
    )
    names = {
        "à créer": "create",
        "à modifier": "update",
        "inchangée(s)": "same",
        "erreur(s)": "error",
    }
    return {names[label]: int(n) for n, label in found}
