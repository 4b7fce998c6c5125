"""Maps count experiments per hexagon above the threshold; the drawing stays bounded."""

from __future__ import annotations

import io

import numpy as np
import pytest
from matplotlib.collections import PolyCollection
from PIL import Image

from geoapp.exports.density import CLASS_COLOURS, Cells, class_label, draw_map, hex_bin
from geoapp.exports.static_maps import new_figure, render_map
from geoapp.layers import experiments_frame
from geoapp.vocabulary import MAP_POINTS_MAX
from tests.exports.conftest import rows_inside


def test_hex_bin_counts_every_point_in_its_nearest_cell():
    rng = np.random.default_rng(3)
    xy = rng.uniform((650_000, 6_860_000), (652_000, 6_862_000), size=(5000, 2))
    centres, counts = hex_bin(xy, 40.0)
    assert counts.sum() == len(xy) and (counts > 0).all()
    assert len(np.unique(centres, axis=0)) == len(centres)
    # Each point's nearest cell centre (of every occupied cell) is within one radius.
    nearest = np.linalg.norm(xy[:, None, :] - centres[None, :, :], axis=2).min(axis=1)
    assert nearest.max() <= 40.0 + 1e-6


def test_classes_and_labels_follow_the_counts():
    cells = Cells(np.zeros((4, 2)), np.array([1, 3, 40, 500]), 30.0)
    assert [c[:2] for c in cells.classes()] == [(1, 1), (2, 5), (26, 50), (101, None)]
    assert [c[2] for c in cells.classes()] == [CLASS_COLOURS[i] for i in (0, 1, 4, 6)]
    assert class_label(2, 5) == "2 à 5" and class_label(101, None) == "101 et plus"


def draw(atlas, scene_of, count: int):
    frame = experiments_frame(rows_inside(atlas, "meudon-la-foret", count))
    scene = scene_of("meudon-la-foret", frame)
    fig, scale = new_figure("diapo")
    ax = fig.add_axes((0.02, 0.085, 0.655, 0.80))
    drawn, cells = draw_map(ax, scene, scene.districts.total_bounds, scale=scale, pad_m=300)
    return ax, drawn, cells


def test_below_the_threshold_every_experiment_is_a_marker(atlas, scene_of):
    ax, drawn, cells = draw(atlas, scene_of, MAP_POINTS_MAX)
    assert cells is None
    assert {t.get_text() for t in ax.texts} >= {str(n) for n in range(1, MAP_POINTS_MAX + 1)}


@pytest.mark.parametrize("count", [MAP_POINTS_MAX + 1, 4000])
def test_above_the_threshold_experiments_are_counted_per_hexagon(atlas, scene_of, count):
    ax, drawn, cells = draw(atlas, scene_of, count)
    assert cells is not None and cells.counts.sum() == count == drawn.experiments
    hexes = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(hexes) == 1 and len(hexes[0].get_paths()) == len(cells.counts)
    written = [int(t.get_text().replace("\u202f", "")) for t in ax.texts if t.get_zorder() == 16]
    assert written and set(written) <= set(cells.counts.tolist())


def test_drawing_cost_stops_growing_with_the_points(atlas, scene_of):
    sizes = {}
    for count in (4000, 16000):
        ax, _, cells = draw(atlas, scene_of, count)
        sizes[count] = (len(ax.texts), len(cells.counts))
        assert len(ax.texts) <= len(cells.counts) + 40  # one count per cell, plus the names
    # The district is covered at both sizes: four times the points, the same drawing.
    assert sizes[4000][1] <= sizes[16000][1] <= 1.05 * sizes[4000][1]


def test_slide_legend_says_experiments_are_grouped(atlas, scene_of):
    frame = experiments_frame(rows_inside(atlas, "sceaux-les-blagis", 400))
    svg = render_map(scene_of("sceaux-les-blagis", frame), fmt="svg", size="diapo").decode()
    assert "Expérimentations regroupées" in svg
    assert "400 expérimentations comptées par hexagone" in svg
    assert "Expérimentations par statut" in svg
    png = render_map(scene_of("sceaux-les-blagis", frame), fmt="png", size="diapo")
    colours = {c for _, c in Image.open(io.BytesIO(png)).convert("RGB").getcolors(1 << 20)}
    assert len(colours) > 50
