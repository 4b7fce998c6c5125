"""Lines and areas in headless Chromium: an editor draws them on the district map with
Leaflet-Geoman (the pointer, vertex by vertex), reads the placement feedback, saves them,
finds them drawn on the overview (their pixels, their popup) and edits a vertex on the
experiment's page; a line leaving the district is refused and nothing is stored.

The live server is shared with the other browser tests: titles are unique per run and
every spot is this file's own.
"""

import json

import pytest

from geoapp.registry import validate_experiment
from geoapp.vocabulary import THEME_COLOURS
from tests.accessibility import blocking_violations
from tests.browser import MAP_SETTLED, map_point, open_map
from tests.conftest import screenshot
from tests.web.test_browser_experiments import (
    IN_SCEAUX,
    SCEAUX,
    fill_form,
    login,
    outside_sceaux,
    store_of,
    unique,
)

pytestmark = pytest.mark.browser

THEME = "lien social et culture"  # what fill_form picks
# Spots of this file's own, south-east of IN_SCEAUX (lon, lat), inside Les Blagis.
LINE = [(2.3046, 48.7816), (2.3055, 48.7822), (2.3064, 48.7817)]
AREA = [(2.3020, 48.7808), (2.3032, 48.7808), (2.3033, 48.7815), (2.3021, 48.7816)]


def flat(coordinates) -> list[float]:
    return [c for xy in coordinates for c in xy]


def rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))


def gap(a, b) -> float:
    return sum((x - y) ** 2 for x, y in zip(a, b, strict=False)) ** 0.5


def centre_on(page, lon: float, lat: float, zoom: int = 17) -> None:
    page.evaluate(
        "([lat, lon, z]) => { QMI.map.setView(L.latLng(lat, lon), z, {animate: false}); }",
        [lat, lon, zoom],
    )
    page.wait_for_function(MAP_SETTLED)


def start_drawing(page, live_server, label: str) -> None:
    """The district map, placement on, the kind ``label`` chosen, the spots in view."""
    open_map(page, f"{live_server}/quartiers/{SCEAUX}")
    page.click("#placement-toggle")
    page.get_by_label(label, exact=True).check()
    assert page.locator("#place-draw").is_visible()
    centre_on(page, 2.3042, 48.7816, 17)


def drawing_point(page, lon: float, lat: float) -> tuple[float, float]:
    """Viewport pixel of (lon, lat) while drawing: the map's features let the pointer
    through then, so the topmost element there is the map itself or a drawn vertex,
    never a control."""
    x, y = page.evaluate(
        """([lat, lon]) => { const p = QMI.map.latLngToContainerPoint(L.latLng(lat, lon));
             const r = QMI.map.getContainer().getBoundingClientRect();
             return [r.left + p.x, r.top + p.y]; }""",
        [lat, lon],
    )
    top = page.evaluate(
        """([x, y]) => { const el = document.elementFromPoint(x, y);
             return el === QMI.map.getContainer() ? 'map'
               : el.closest('.leaflet-qmiDrawVertices-pane') ? 'vertex'
               : el.closest('.leaflet-control-container') ? 'control' : el.className; }""",
        [x, y],
    )
    assert top in ("map", "vertex"), top
    return x, y


def draw(page, vertices, *, close_on) -> None:
    """Click each vertex with the pointer, then the vertex that ends the drawing (the
    last one for a line, the first one for an area), as Geoman's hints say."""
    page.evaluate("QMI.map.getContainer().scrollIntoView({block: 'center'})")
    for lon, lat in vertices:
        page.mouse.click(*drawing_point(page, lon, lat))
    page.mouse.click(*drawing_point(page, *close_on))


def wait_for_shape_verdict(page, word: str) -> str:
    page.wait_for_function(
        "(w) => document.querySelector('[data-field=forme]').textContent.includes(w)", arg=word
    )
    return page.locator("#placement-info").inner_text()


def shape_field(page) -> dict:
    return json.loads(page.locator("#experiment-form textarea[name=shape]").input_value())


def pixel(page, x: float, y: float) -> tuple[int, int, int, int]:
    """RGBA of the map's canvas at viewport pixel (x, y)."""
    return tuple(
        page.evaluate(
            """([x, y]) => { const c = QMI.map.getContainer().querySelector(
                   '.leaflet-overlay-pane canvas');
                 const r = c.getBoundingClientRect(), k = c.width / r.width;
                 return Array.from(c.getContext('2d').getImageData(
                   Math.round((x - r.left) * k), Math.round((y - r.top) * k), 1, 1).data); }""",
            [x, y],
        )
    )


def save(page, live_server, live_app, title: str) -> dict:
    fill_form(page, title)
    page.locator("#experiment-form button[type=submit]").click()
    page.wait_for_url(f"{live_server}/experimentations/*")
    [saved] = [e for e in store_of(live_app).list_experiments() if e["title"] == title]
    return saved


def shape_point(page, experiment_id: int, share: float) -> tuple[float, float]:
    """Viewport pixel ``share`` of the way along the drawn shape's first edge."""
    return tuple(
        page.evaluate(
            """([id, s]) => { const l = QMI.experimentShape(id); if (!l) return null;
                 let ll = l.getLatLngs(); if (Array.isArray(ll[0])) ll = ll[0];
                 const a = QMI.map.latLngToContainerPoint(ll[0]),
                       b = QMI.map.latLngToContainerPoint(ll[1]),
                       r = QMI.map.getContainer().getBoundingClientRect();
                 return [r.left + a.x + (b.x - a.x) * s, r.top + a.y + (b.y - a.y) * s]; }""",
            [experiment_id, share],
        )
    )


def popup_at(page, x: float, y: float) -> str:
    page.evaluate("() => { QMI.map.closePopup(); }")
    page.wait_for_function("() => document.querySelectorAll('.leaflet-popup').length === 0")
    page.mouse.click(x, y)
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for(state="visible")
    page.wait_for_function(
        "() => !document.querySelector('.leaflet-popup-content').textContent.includes('Chargement')"
    )
    return popup.inner_text()


def test_draw_a_line_and_an_area_and_find_them_on_the_overview(page, live_server, live_app):
    tag = unique()
    login(page, live_server, live_app)

    start_drawing(page, live_server, "Tracé (ligne)")
    assert page.evaluate("!!(window.L && L.PM && QMI.map.pm)")  # the vendored plugin
    draw(page, LINE, close_on=LINE[-1])
    text = wait_for_shape_verdict(page, "Tracé de")
    assert "Ce que dit la carte de ce tracé" in text
    assert "3 sommets" in text and "Dans le périmètre du quartier." in text
    geometry = shape_field(page)
    assert geometry["type"] == "LineString"
    assert flat(geometry["coordinates"]) == pytest.approx(flat(LINE), abs=2e-5)
    assert all(len(str(c).split(".")[1]) <= 6 for xy in geometry["coordinates"] for c in xy)
    # lon/lat hold an anchor estimate, on the line's span
    lon = float(page.locator("#experiment-form input[name=lon]").input_value())
    assert LINE[0][0] < lon < LINE[-1][0]
    screenshot(page, "shapes-line-drawn")
    assert blocking_violations(page) == []  # the kind choice, the buttons, the feedback
    line = save(page, live_server, live_app, f"Signalétique du parcours {tag}")
    assert line["shape"]["type"] == "LineString"
    assert flat(line["shape"]["coordinates"]) == pytest.approx(flat(LINE), abs=2e-5)

    start_drawing(page, live_server, "Zone (polygone)")
    draw(page, AREA, close_on=AREA[0])
    text = wait_for_shape_verdict(page, "Zone de")
    assert "4 sommets" in text  # the ring's closing point is not counted again
    assert "m²" in text or "ha" in text
    geometry = shape_field(page)
    assert geometry["type"] == "Polygon" and len(geometry["coordinates"][0]) == len(AREA) + 1
    screenshot(page, "shapes-area-drawn")
    area = save(page, live_server, live_app, f"Placette renaturée {tag}")
    assert area["shape"]["type"] == "Polygon"

    # The overview draws both, in their theme's colour, and a click opens their popup
    open_map(page, live_server + "/")
    colour = rgb(THEME_COLOURS[THEME])
    # (experiment, where on its first edge, a pixel off it, where a click lands on it)
    for saved, share, off, hit in ((line, 0.3, -14, 0), (area, 0.5, 14, -20)):
        page.evaluate("(id) => { QMI.revealExperiment(id); }", saved["id"])
        page.wait_for_function(MAP_SETTLED)
        assert page.evaluate("(id) => !!QMI.experimentShape(id)", saved["id"])
        x, y = shape_point(page, saved["id"], share)
        on, beside = pixel(page, x, y), pixel(page, x, y + off)
        assert on[3] > 0
        assert gap(on[:3], colour) < gap(beside[:3], colour), (on, beside, colour)
        if saved is area:  # inside (north of its south edge) its light fill tints the map
            inside, outside = pixel(page, x, y - 20), pixel(page, x, y + 20)
            assert gap(inside[:3], colour) < gap(outside[:3], colour), (inside, outside)
        popup = popup_at(page, x, y + hit)
        assert saved["title"] in popup
    screenshot(page, "shapes-overview")
    # the shapes leave the counts and the keyboard list at one entry per experiment
    assert page.evaluate("Object.keys(QMI.countFeatures())").count("experimentation-trace") == 0
    listed = page.evaluate(
        "(id) => QMI.experimentFeatures().filter(f => f.feature.properties.id === id).length",
        line["id"],
    )
    assert listed == 1
    # far out, only the anchor (in its cluster) is drawn
    page.evaluate("() => { QMI.map.setZoom(12, {animate: false}); }")
    page.wait_for_function(MAP_SETTLED)
    assert not page.evaluate("(id) => !!QMI.experimentShape(id)", line["id"])
    assert page.watch.dialogs == []
    assert page.watch.errors == []


def test_a_line_leaving_the_district_is_refused(page, live_server, live_app, atlas):
    title = f"Parcours hors quartier {unique()}"
    login(page, live_server, live_app)
    open_map(page, f"{live_server}/quartiers/{SCEAUX}")
    page.click("#placement-toggle")
    page.get_by_label("Tracé (ligne)", exact=True).check()
    west = outside_sceaux(atlas)
    start = (west[0] + 0.004, west[1])
    centre_on(page, (west[0] + start[0]) / 2, west[1], 16)
    draw(page, [start, west], close_on=west)
    text = wait_for_shape_verdict(page, "Tracé de")
    assert "Hors du quartier" in text and "L’enregistrement sera refusé." in text
    typed = shape_field(page)
    fill_form(page, title)
    with page.expect_navigation() as navigation:
        page.locator("#experiment-form button[type=submit]").click()
    assert navigation.value.status == 422
    message = page.locator("#err-shape").inner_text()
    assert "sort du quartier Les Blagis" in message
    # the typed shape is kept, back on the map, editable
    assert shape_field(page) == typed
    page.wait_for_function(MAP_SETTLED)
    wait_for_shape_verdict(page, "Tracé de")
    assert (
        page.locator(".leaflet-qmiDrawVertices-pane .marker-icon:not(.marker-icon-middle)").count()
        == 2
    )
    screenshot(page, "shapes-line-refused")
    assert not [
        e
        for e in store_of(live_app).list_experiments(include_withdrawn=True)
        if e["title"] == title
    ]
    refused = f"422 (UNPROCESSABLE ENTITY) @ {live_server}/quartiers/{SCEAUX}/experimentations"
    assert [e for e in page.watch.errors if not e.endswith(refused)] == []


def test_edit_a_line_vertex_on_the_experiment_page(page, live_server, live_app, atlas):
    objectives = atlas.objectives()[SCEAUX]
    vertices = [(2.3005, 48.7838), (2.3013, 48.7843), (2.3021, 48.7838)]
    values = validate_experiment(
        {
            "title": f"Parcours à ajuster {unique()}",
            "organisation": "Association des Blagis",
            "org_kind": "association",
            "theme": THEME,
            "objectives": [objectives[0]],
            "description": "Un parcours de bancs.",
            "status": "sélectionnée",
            "lon": str(IN_SCEAUX[0]),
            "lat": str(IN_SCEAUX[1]),
            "precision": "exacte",
            "shape": json.dumps({"type": "LineString", "coordinates": vertices}),
        },
        objectives=objectives,
    )
    store = store_of(live_app)
    line = store.create_experiment(values, district=SCEAUX, user="test-navigateur")
    login(page, live_server, live_app)
    open_map(page, f"{live_server}/experimentations/{line['id']}")
    # the stored line is in the editor at once: its kind chosen, its vertices draggable
    assert page.get_by_label("Tracé (ligne)", exact=True).is_checked()
    assert not page.locator("#move-form").is_visible()
    centre_on(page, *vertices[1], 18)
    handles = page.locator(".leaflet-qmiDrawVertices-pane .marker-icon:not(.marker-icon-middle)")
    assert handles.count() == 3
    x, y = map_point(page, *vertices[1])
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 30, y + 40, steps=8)
    page.mouse.up()
    page.wait_for_function(
        "() => !document.querySelector('#experiment-form textarea[name=shape]')"
        ".value.includes('48.7843')"
    )
    moved = shape_field(page)["coordinates"][1]
    assert moved[0] > vertices[1][0] and moved[1] < vertices[1][1]
    wait_for_shape_verdict(page, "Tracé de")
    screenshot(page, "shapes-line-edited")
    page.get_by_role("button", name="Enregistrer les modifications").click()
    page.wait_for_url(f"{live_server}/experimentations/{line['id']}")
    saved = store.get_experiment(line["id"])
    assert saved["shape"]["coordinates"][1] == pytest.approx(moved, abs=1e-6)
    assert saved["shape"]["coordinates"][0] == pytest.approx(list(vertices[0]), abs=1e-6)
    assert saved["version"] == line["version"] + 1
    assert page.watch.dialogs == []
    assert page.watch.errors == []


def test_a_pasted_geometry_is_drawn_and_checked(page, live_server, live_app):
    """Keyboard users type or paste the GeoJSON: the map draws it, editable, and says
    what it is; choosing « Point » again empties the field."""
    login(page, live_server, live_app)
    open_map(page, f"{live_server}/quartiers/{SCEAUX}")
    page.click("#placement-toggle")
    page.locator("details.shape-field summary").click()
    ring = [list(v) for v in AREA] + [list(AREA[0])]
    page.fill("#shape-text", json.dumps({"type": "Polygon", "coordinates": [ring]}))
    text = wait_for_shape_verdict(page, "Zone de")
    assert "Ce que dit la carte de cette zone" in text
    assert page.get_by_label("Zone (polygone)", exact=True).is_checked()
    handles = page.locator(".leaflet-qmiDrawVertices-pane .marker-icon:not(.marker-icon-middle)")
    assert handles.count() == len(AREA)
    page.fill("#shape-text", "pas du GeoJSON")
    page.wait_for_function(
        "() => document.querySelector('[data-field=inside]').textContent.includes('illisibles')"
    )
    page.get_by_label("Point", exact=True).check()
    assert page.locator("#shape-text").input_value() == ""
    assert handles.count() == 0
    assert not page.locator("#place-draw").is_visible()
    assert page.watch.errors == []
