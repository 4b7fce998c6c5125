"""Creating an experiment from the district page: success, and each refusal keeping
the typed values.

After every refused request the stored experiments and the data version are
compared with a snapshot (``snapshot``).
"""

import html
import re

import geopandas as gpd
import pytest
from shapely.geometry import Point
from shapely.ops import nearest_points

from geoapp.analysis import ANALYSIS_CRS, DISPLAY_CRS
from tests.conftest import fetched_experiments
from tests.web.experiments_helpers import (
    IN_SCEAUX,
    MEUDON,
    SCEAUX,
    body,
    field_errors,
    form_for,
    geojson_titles,
    snapshot,
)


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
    assert "Compost Collectif Blagis" in fetched_experiments(anon, overview)["title"]
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
