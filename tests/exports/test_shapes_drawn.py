"""Lines and areas on the drawn exports: the slide, the district sheet (table and
legend), the aggregated map and the legend; each experiment still counted once.

The renders are kept in test-artifacts/ (export-shapes-*.png) to be looked at."""

from __future__ import annotations

import dataclasses
import io
import subprocess

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from geoapp.exports.density import draw_map
from geoapp.exports.layers import Drawn
from geoapp.exports.legend import legend_sections
from geoapp.exports.scene import make_scene
from geoapp.exports.sheets import render_sheet
from geoapp.exports.static_maps import bounds_with_experiments, render_map
from geoapp.layers import experiments_frame
from geoapp.vocabulary import MAP_POINTS_MAX, THEME_COLOURS
from tests.conftest import ARTIFACTS
from tests.exports.conftest import TODAY, rows_inside

MOBILITY = THEME_COLOURS["mobilité"]  # the path's theme
NATURE = THEME_COLOURS["nature en ville et îlots de fraîcheur"]  # the area's


def _near(image: np.ndarray, hex_colour: str, tolerance: int = 6) -> int:
    """Pixels within ``tolerance`` of ``hex_colour`` on every channel."""
    target = np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)])
    return int((np.abs(image.astype(int) - target) <= tolerance).all(axis=-1).sum())


def _png(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def _as_points(scene):
    """The same scene with every place a point at its anchor (the shapes dropped)."""
    return dataclasses.replace(scene, experiments=scene.experiments.assign(shape=None))


def _keep(name: str, data: bytes) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / name).write_bytes(data)


def test_the_slide_draws_the_line_and_the_area_in_their_theme_colours(shaped_scene):
    slide = render_map(shaped_scene, fmt="png", size="diapo")
    _keep("export-shapes-slide.png", slide)
    points = _png(render_map(_as_points(shaped_scene), fmt="png", size="diapo"))
    image = _png(slide)
    # A 417 m stroke 3.4 pt wide at this zoom: hundreds of pixels of the mobility blue
    # more than the same experiments drawn as points.
    assert _near(image, MOBILITY) - _near(points, MOBILITY) > 400
    # The area's edge is drawn in its colour; its fill, 30 % over the district's tint.
    assert _near(image, NATURE) - _near(points, NATURE) > 100


def test_the_sheet_says_the_kind_and_size_of_each_place(shaped_scene, tmp_path):
    pdf = render_sheet(shaped_scene)
    path = tmp_path / "fiche.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout
    flat = " ".join(text.split())
    assert "tracé, 417 m" in flat
    assert "zone, 0,49 ha" in flat
    assert "Tracé (numéro en son milieu)" in flat and "Zone (numéro à l’intérieur)" in flat
    assert "Expérimentations (4)" in flat  # each experiment once
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "80",
            "-f",
            "1",
            "-l",
            "3",
            str(path),
            str(ARTIFACTS / "export-shapes-sheet"),
        ],
        check=True,
    )
    first = sorted(ARTIFACTS.glob("export-shapes-sheet-*1.png"))[0]
    assert _near(np.asarray(Image.open(first).convert("RGB")), MOBILITY, 25) > 150


def test_the_legend_explains_lines_and_areas_only_when_drawn():
    labels = [
        label
        for _, items in legend_sections(Drawn(themes=["mobilité"], kinds={"ligne", "zone"}), 1.0)
        for _, label in items
    ]
    assert "Tracé (numéro en son milieu)" in labels and "Zone (numéro à l’intérieur)" in labels
    plain = [
        label for _, items in legend_sections(Drawn(themes=["mobilité"]), 1.0) for _, label in items
    ]
    assert not any(label.startswith(("Tracé", "Zone")) for label in plain)


def test_aggregated_map_counts_anchors_once_and_still_outlines_shapes(atlas, shaped_rows):
    crowd = rows_inside(atlas, "sceaux-les-blagis", MAP_POINTS_MAX + 10, start=100)
    frame = experiments_frame([*shaped_rows, *crowd])
    scene = make_scene(atlas, frame, "sceaux-les-blagis", today=TODAY)
    fig = Figure(figsize=(8, 6), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    drawn, cells = draw_map(ax, scene, bounds_with_experiments(scene), scale=1.0, pad_m=300)
    assert cells is not None
    assert int(cells.counts.sum()) == len(scene.experiments) == drawn.experiments
    assert drawn.kinds == {"ligne", "zone"}
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    _keep("export-shapes-aggregated.png", buffer.getvalue())
    assert _near(_png(buffer.getvalue()), MOBILITY) > 50


def test_the_view_holds_a_line_reaching_out_of_the_district(atlas, shaped_scene):
    x0, y0, x1, y1 = bounds_with_experiments(shaped_scene)
    from geoapp.exports.scene import places

    px0, py0, px1, py1 = places(shaped_scene.experiments).total_bounds
    assert x0 <= px0 and y0 <= py0 and x1 >= px1 and y1 >= py1
