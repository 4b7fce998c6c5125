"""The offline HTML map draws the experiments' lines and areas, and its legend says what
they are; each experiment is still counted once."""

from __future__ import annotations

import pytest

from geoapp.exports.standalone import render_standalone
from tests.conftest import screenshot
from tests.exports.test_standalone import _open_offline

TRACES = """() => {
  const found = [];
  QMI.map.eachLayer((l) => {
    const p = l.feature && l.feature.properties;
    if (p && p.couche === "experimentation-trace") {
      found.push([p.title, l instanceof L.Polygon ? "zone" : "ligne", l.options.color]);
    }
  });
  return found.sort();
}"""


def test_the_legend_names_lines_and_areas(shaped_scene, scene_of):
    html = render_standalone(shaped_scene).decode()
    assert "Tracé (marqueur en son milieu)" in html and "Zone (marqueur à l’intérieur)" in html
    plain = render_standalone(scene_of("sceaux-les-blagis")).decode()
    assert "Tracé (marqueur" not in plain


@pytest.mark.browser
def test_the_offline_map_draws_the_line_and_the_area(browser, shaped_scene, tmp_path):
    path = tmp_path / "sceaux-traces.html"
    path.write_bytes(render_standalone(shaped_scene))
    context, page, requested, errors = _open_offline(browser, path)
    try:
        page.evaluate("() => { QMI.map.setZoom(16, {animate: false}); }")
        page.wait_for_timeout(300)
        traces = page.evaluate(TRACES)
        assert [(t, k) for t, k, _ in traces] == [
            ("Parcours des écoles", "ligne"),
            ("Placette renaturée", "zone"),
        ]
        assert traces[0][2].lower() == "#1565c0"  # mobilité, the marker's colour
        assert page.evaluate("QMI.countFeatures()").get("experimentation") == 4  # once each
        screenshot(page, "export-standalone-shapes")
        assert requested == [] and errors == []
    finally:
        context.close()
