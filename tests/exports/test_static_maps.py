"""Static maps (matplotlib): pixel sizes, colours drawn, vector output, map furniture.

How long a slide takes to draw is measured by ``benchmarks/bench_exports.py``.
"""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image
from pypdf import PdfReader

from geoapp.exports.cartography import LabelPlacer, draw_scale_bar, set_view, true_north_angle
from geoapp.exports.layers import _spread, line_label
from geoapp.exports.static_maps import render_map
from geoapp.exports.style import DISTRICT_FILL, french_date
from geoapp.layers import experiments_frame
from geoapp.vocabulary import THEME_COLOURS
from tests.exports.conftest import experiment_row

RER_B = "#5091cb"


def rgb(hex_colour: str) -> np.ndarray:
    return np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)], dtype=np.uint8)


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def has_colour(image: np.ndarray, hex_colour: str) -> bool:
    return bool((image == rgb(hex_colour)).all(axis=-1).any())


@pytest.fixture(scope="module")
def slide(scene_of):
    return render_map(scene_of("sceaux-les-blagis"), fmt="png", size="diapo")


def test_slide_png_is_1920_by_1080_with_district_and_cut_colours(slide):
    image = pixels(slide)
    assert image.shape == (1080, 1920, 3)
    assert has_colour(image, DISTRICT_FILL)
    assert has_colour(image, RER_B)
    assert has_colour(image, THEME_COLOURS["mobilité"])
    assert len(np.unique(image.reshape(-1, 3), axis=0)) > 200  # not blank


def test_a4_png_is_a4_landscape_at_300_dpi(scene_of):
    png = render_map(scene_of("meudon-la-foret"), fmt="png", size="a4")
    image = Image.open(io.BytesIO(png))
    assert image.size == (3508, 2480)
    assert [round(d) for d in image.info["dpi"]] == [300, 300]
    assert has_colour(pixels(png), DISTRICT_FILL)
    assert has_colour(pixels(png), "#e2231a")  # tram T6


def test_a_new_experiment_changes_the_image(atlas, scene_of, no_experiments):
    before = render_map(scene_of("noisy-mont-d-est", no_experiments), fmt="png", size="diapo")
    frame = experiments_frame(
        [experiment_row(atlas, "noisy-mont-d-est", 9, theme="énergie et bâti")]
    )
    after = render_map(scene_of("noisy-mont-d-est", frame), fmt="png", size="diapo")
    old, new = pixels(before), pixels(after)
    assert (old != new).any(axis=-1).sum() > 200
    assert not has_colour(old, THEME_COLOURS["énergie et bâti"])
    assert has_colour(new, THEME_COLOURS["énergie et bâti"])


def test_programme_slide_draws_the_four_districts(scene_of):
    image = pixels(render_map(scene_of("all"), fmt="png", size="diapo"))
    assert image.shape == (1080, 1920, 3)
    assert has_colour(image, DISTRICT_FILL)
    assert has_colour(image, "#eb2132")  # RER A, Noisy panel
    assert has_colour(image, "#e2231a")  # tram T6, Meudon panel


def test_svg_is_vector_with_real_text(scene_of):
    svg = render_map(scene_of("sceaux-les-blagis"), fmt="svg", size="diapo").decode("utf-8")
    assert svg.lstrip().startswith("<?xml")
    assert "<image" not in svg
    assert "Les Blagis — Sceaux" in svg
    assert "Métropole du Grand Paris — QMI · 1er mars 2025" in svg
    assert re.search(r'width="1382\.4pt" height="777\.6pt"', svg)


def test_pdf_map_is_a4_landscape_vector_with_searchable_text(scene_of):
    pdf = PdfReader(io.BytesIO(render_map(scene_of("sceaux-les-blagis"), fmt="pdf", size="a4")))
    page = pdf.pages[0]
    assert len(pdf.pages) == 1
    assert abs(float(page.mediabox.width) - 842) <= 1
    assert abs(float(page.mediabox.height) - 595) <= 1
    text = " ".join(page.extract_text().split())
    for words in (
        "Les Blagis — Sceaux",
        "Périmètres des quartiers indicatifs",
        "IGN",
        "Île-de-France Mobilités (ODbL)",
        "500 m",
        "RER B",
        "Quartier (périmètre indicatif)",
        "Vélos partagés",
    ):
        assert words in text
    content = page.get_contents().get_data()
    assert re.search(rb"\sre\s", content) and re.search(rb"\sl\s", content)  # paths
    resources = page["/Resources"]
    images = [
        x
        for x in resources.get("/XObject", {}).values()
        if x.get_object().get("/Subtype") == "/Image"
    ]
    assert images == []


def test_filters_are_printed_in_the_subtitle(scene_of):
    svg = render_map(
        scene_of("sceaux-les-blagis", theme="mobilité", status="déployée"), fmt="svg", size="diapo"
    ).decode("utf-8")
    assert "thème « mobilité », statut « déployée »" in svg
    assert "Vélos partagés" in svg and "Îlot de fraîcheur" not in svg


def test_empty_selection_says_so_in_the_legend(scene_of, no_experiments):
    svg = render_map(scene_of("meudon-la-foret", no_experiments), fmt="svg", size="diapo").decode(
        "utf-8"
    )
    assert "Aucune expérimentation enregistrée" in svg


def _axes(view=(0, 0, 10_000, 5_000)):
    fig = Figure(figsize=(10, 5), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    set_view(ax, view, pad_m=0)
    return fig, ax


def test_view_keeps_one_metre_the_same_across_and_up():
    fig, ax = _axes((0, 0, 1000, 1000))
    (x0, y0), (x1, y1) = ax.transData.transform([(0, 0), (100, 100)])
    assert x1 - x0 == pytest.approx(y1 - y0)


def test_scale_bar_is_a_round_length_in_metres():
    fig, ax = _axes()
    draw_scale_bar(ax, scale=1.0)
    segments = [p for p in ax.patches if p.get_zorder() == 41]
    assert len(segments) == 4
    assert sum(p.get_width() for p in segments) == pytest.approx(2000)  # ≤ 22 % of 10 km
    labels = [t.get_text() for t in ax.texts]
    assert labels == ["0", "1", "2 km"]


def test_true_north_leans_slightly_west_of_grid_north_over_paris():
    assert true_north_angle(700_000, 6_600_000) == pytest.approx(0, abs=0.01)  # on 3° E
    assert -0.7 < true_north_angle(648_000, 6_854_000) < -0.3  # Sceaux, 2.3° E


def test_label_placer_never_overlaps_labels():
    fig, ax = _axes()
    placer = LabelPlacer(ax)
    placed = [
        placer.place_point_label(f"Gare {i}", (5000, 2500), offset_pt=10, fontsize=12)
        for i in range(12)
    ]
    kept = [p for p in placed if p is not None]
    assert 2 <= len(kept) < 12
    boxes = [k.get_window_extent(placer.renderer) for k in kept]
    for i, a in enumerate(boxes):
        assert not any(a.overlaps(b) for b in boxes[i + 1 :])


def test_coincident_experiments_are_spread_on_a_ring(atlas):
    frame = experiments_frame([experiment_row(atlas, "sceaux-les-blagis", i) for i in (1, 2)])
    xy = _spread(frame, 10.0)
    assert np.hypot(*(xy[0] - xy[1])) == pytest.approx(20.0)


def test_line_names_read_like_signs():
    assert line_label("TRAM 6") == "Tram T6"
    assert line_label("TRAIN K") == "Transilien K"
    assert line_label("TER HAUTS-DE-FRANCE") == "TER Hauts-de-France"
    assert line_label("RER B") == "RER B"


def test_french_dates():
    from datetime import date

    assert french_date(date(2025, 3, 1)) == "1er mars 2025"
    assert french_date(date(2025, 8, 15)) == "15 août 2025"
