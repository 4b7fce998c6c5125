"""Lines and areas in the map's data: a `shape` column aligned with the ids (null for a
point, the geometry rounded to 6 decimals otherwise), a payload that grows by a null per
point, and the drawing plugin served by the app, loaded only where an editor draws."""

import json

import pytest

from geoapp.maps import experiment_points, map_shapes
from tests.conftest import fetched_experiments
from tests.web.experiments_helpers import SCEAUX, stored

DATA = "/api/carte/experimentations"
LINE = {"type": "LineString", "coordinates": [[2.3046, 48.7816], [2.3055, 48.7822]]}
AREA = {
    "type": "Polygon",
    "coordinates": [[[2.302, 48.7808], [2.3032, 48.7808], [2.3033, 48.7815], [2.302, 48.7808]]],
}
GEOMAN = "/vendor/geoman/leaflet-geoman.js"


@pytest.fixture
def places(app, atlas):
    store = app.extensions["qmi_store"]
    return {
        "point": stored(store, atlas, SCEAUX, title="Un banc"),
        "line": stored(store, atlas, SCEAUX, title="Un parcours", shape=json.dumps(LINE)),
        "area": stored(store, atlas, SCEAUX, title="Une placette", shape=json.dumps(AREA)),
    }


def test_the_shape_column_is_aligned_with_the_ids(client, places):
    points = client.get(DATA).get_json()
    assert len(points["shape"]) == len(points["id"])
    shapes = dict(zip(points["id"], points["shape"], strict=True))
    assert shapes[places["point"]["id"]] is None
    assert shapes[places["line"]["id"]] == LINE
    assert shapes[places["area"]["id"]] == AREA
    # the anchors stay one point per experiment, on the line / inside the area
    i = points["id"].index(places["line"]["id"])
    assert 2.3046 <= points["lon"][i] <= 2.3055 and 48.7816 <= points["lat"][i] <= 48.7822


def test_a_district_page_fetches_its_shapes(client, places):
    page = client.get(f"/quartiers/{SCEAUX}").get_data(as_text=True)
    points = fetched_experiments(client, page)
    assert sum(s is not None for s in points["shape"]) == 2


def test_shapes_are_rounded_to_six_decimals_and_points_stay_null():
    line = {
        "type": "LineString",
        "coordinates": [[2.30461234567, 48.78169876543], [2.3055, 48.7822]],
    }
    text = json.dumps(AREA)
    assert map_shapes([None, line, text, ""]) == [
        None,
        {"type": "LineString", "coordinates": [[2.304612, 48.781699], [2.3055, 48.7822]]},
        AREA,
        None,
    ]


def test_points_only_add_a_null_each_to_the_payload():
    n = 1000
    columns = {
        "id": list(range(n)),
        "lon": [2.3] * n,
        "lat": [48.78] * n,
        "theme": ["mobilité"] * n,
        "status": ["proposée"] * n,
        "title": ["x"] * n,
    }
    bare = json.dumps(experiment_points(columns), separators=(",", ":"))
    with_column = json.dumps(
        experiment_points({**columns, "shape": [None] * n}), separators=(",", ":")
    )
    assert bare == with_column
    assert len(bare) - len(bare.replace(',"shape":[' + ",".join(["null"] * n) + "]", "")) == (
        len(',"shape":[]') + 5 * n - 1
    )


def test_the_drawing_plugin_is_served_with_its_licence(client):
    with client.get(GEOMAN) as r:
        assert r.status_code == 200
        assert b"L.PM" in r.data
    with client.get("/vendor/geoman/leaflet-geoman.css") as r:
        assert r.status_code == 200
    with client.get("/vendor/geoman/LICENSE") as r:
        assert b"MIT License" in r.data
    with client.get("/vendor/geoman/../supercluster/LICENSE") as r:
        assert r.status_code == 404


def test_only_an_editors_pages_load_the_drawing_plugin(client, sceaux, places):
    detail = f"/experimentations/{places['line']['id']}"
    for url in ("/", f"/quartiers/{SCEAUX}", detail):
        assert GEOMAN not in client.get(url).get_data(as_text=True)  # anonymous
    assert GEOMAN not in sceaux.get("/").get_data(as_text=True)
    for url in (f"/quartiers/{SCEAUX}", detail):
        html = sceaux.get(url).get_data(as_text=True)
        assert GEOMAN in html and 'name="place_kind"' in html and 'name="shape"' in html
    # another district's editor cannot draw there
    assert GEOMAN not in sceaux.get("/quartiers/meudon-la-foret").get_data(as_text=True)


def test_an_edited_line_is_in_its_form(sceaux, places):
    html = sceaux.get(f"/experimentations/{places['line']['id']}").get_data(as_text=True)
    start = html.index('id="shape-text"')
    text = html[html.index(">", start) + 1 : html.index("</textarea>", start)]
    assert json.loads(text) == LINE
