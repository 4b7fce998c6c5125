"""Browser test helpers: wait for a map to settle, find where a feature is drawn, click it.

Every click goes through the pointer at the pixel a user would aim at (``page.mouse``),
after checking that nothing else (a control, another feature) covers that pixel. Waits
are on conditions read from the page, never fixed sleeps.
"""

from __future__ import annotations

# The map exists, every page script has run, its layers (the fetched experiments too) are
# drawn and no zoom or pan animation is under way: pixels computed now are where the
# features stay.
MAP_SETTLED = """() => document.readyState === 'complete' && !!window.L && !!window.QMI
  && !!QMI.map && QMI.map._loaded && !QMI.map._animatingZoom
  && !(QMI.map._panAnim && QMI.map._panAnim._inProgress)
  && QMI.loaded && Object.keys(QMI.countFeatures()).length > 0"""

# JS: the page pixel inside the map where the layer ``l`` is the topmost element, sampling
# its marker or a 25 x 25 grid over its bounds; null when it is nowhere visible. A layer
# drawn on a canvas (experiments) is visible where its canvas is the topmost element.
_VISIBLE_PIXEL = """(l) => {
  if (!l) return null;
  const map = QMI.map, box = map.getContainer().getBoundingClientRect();
  const target = l._path || l._icon || (l._renderer && l._renderer._container);
  if (!target) return null;
  const tries = [];
  if (l.getLatLng) { tries.push(l.getLatLng()); }
  else {
    const b = l.getBounds();
    for (let i = 1; i < 25; i++) for (let j = 1; j < 25; j++)
      tries.push(L.latLng(b.getSouth() + (b.getNorth() - b.getSouth()) * i / 25,
                          b.getWest() + (b.getEast() - b.getWest()) * j / 25));
  }
  for (const ll of tries) {
    const p = map.latLngToContainerPoint(ll);
    if (p.x < 1 || p.y < 1 || p.x > box.width - 1 || p.y > box.height - 1) continue;
    const x = box.left + p.x, y = box.top + p.y;
    const onCanvas = !l._path && !l._icon;  // then the shape itself must hold the point
    if (onCanvas && l._containsPoint && !l._containsPoint(map.latLngToLayerPoint(ll))) continue;
    if (document.elementFromPoint(x, y) === target) return [x, y];
  }
  return null; }"""


def wait_for_map(page) -> dict:
    """Wait until the page's map has settled; its feature counts per layer tag."""
    page.wait_for_function(MAP_SETTLED)
    return page.evaluate("QMI.countFeatures()")


def open_map(page, url: str) -> dict:
    """Go to ``url`` and wait for its map to settle; its feature counts per layer tag."""
    page.goto(url)
    return wait_for_map(page)


def map_point(page, lon: float, lat: float) -> tuple[float, float]:
    """Viewport pixel where (lon, lat) is drawn, the map scrolled into view."""
    page.evaluate("QMI.map.getContainer().scrollIntoView({block: 'center'})")
    point = page.evaluate(
        """([lat, lon]) => {
             const p = QMI.map.latLngToContainerPoint(L.latLng(lat, lon));
             const r = QMI.map.getContainer().getBoundingClientRect();
             return {x: p.x, y: p.y, left: r.left, top: r.top, w: r.width, h: r.height}; }""",
        [lat, lon],
    )
    assert 0 < point["x"] < point["w"] and 0 < point["y"] < point["h"], "point off the map"
    x, y = point["left"] + point["x"], point["top"] + point["y"]
    on_map = page.evaluate(
        "([x, y]) => !!document.elementFromPoint(x, y).closest('.leaflet-map-pane')", [x, y]
    )
    assert on_map, "a control covers the point"
    return x, y


def click_map_at(page, lon: float, lat: float) -> None:
    """Click the map where (lon, lat) is drawn, like a planner would."""
    page.mouse.click(*map_point(page, lon, lat))


def feature_point(
    page, couche: str, key: str, value, *, zoom: float | None = None
) -> tuple[float, float]:
    """Viewport pixel where the feature of layer tag ``couche`` whose property ``key`` is
    ``value`` is drawn on top of everything else.

    With ``zoom``, the map first centres on the feature at that zoom (no animation), as a
    user zooms in to tell close markers apart.
    """
    page.evaluate("QMI.map.getContainer().scrollIntoView({block: 'center'})")
    find = (
        "([couche, key, value]) => { let found = null; QMI.map.eachLayer(l => {"
        " const p = l.feature && l.feature.properties;"
        " if (!found && p && p.couche === couche && p[key] === value) found = l; });"
        " if (!found && couche === 'experimentation' && key === 'id')"
        " found = QMI.experimentMarker(value);"  # clustered: not on the map itself
        " return found; }"
    )
    if zoom is not None and couche == "experimentation" and key == "id":
        # clustered experiments: the map zooms until this one is drawn alone
        page.evaluate("(id) => { QMI.revealExperiment(id); }", value)
        page.wait_for_function(MAP_SETTLED)
    elif zoom is not None:
        page.evaluate(
            f"(args) => {{ const l = ({find})(args);"
            " const c = l.getLatLng ? l.getLatLng() : l.getBounds().getCenter();"
            f" QMI.map.setView(c, {zoom}, {{animate: false}}); }}",
            [couche, key, value],
        )
        page.wait_for_function(MAP_SETTLED)
    pixel = page.evaluate(f"(args) => ({_VISIBLE_PIXEL})(({find})(args))", [couche, key, value])
    assert pixel, f"{couche} {key}={value!r} is not visible on the map"
    return pixel[0], pixel[1]


def click_feature(page, couche: str, key: str, value, *, zoom: float | None = None) -> None:
    """Click, with the pointer, the feature ``couche`` whose ``key`` is ``value``."""
    page.mouse.click(*feature_point(page, couche, key, value, zoom=zoom))


def painted_share(page) -> float:
    """Share of the map canvas's pixels that something is drawn on (every shape of the
    map is on one canvas: there are no SVG paths to count)."""
    return page.evaluate(
        """() => { const c = QMI.map.getContainer().querySelector('canvas');
             const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
             let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++;
             return n / (c.width * c.height); }"""
    )
