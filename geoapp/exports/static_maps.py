"""Static maps drawn on the server with matplotlib: PNG, SVG and PDF, no browser needed.

Two layouts. A district: a large map, and on the right a locator of the Métropole, the
legend, the key figures and the numbered experiments. The programme: the Métropole with
the four districts, and one zoomed panel per district. Both carry a title, a subtitle with
the date, a metric scale bar (Lambert-93 metres), a north arrow and the attribution.

Figures are made with :class:`matplotlib.figure.Figure` on the Agg canvas, never through
pyplot, so rendering is thread-safe and needs no display.
"""

from __future__ import annotations

import io
import textwrap
import threading

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.text import Text

from geoapp.exports.cartography import LabelPlacer, add_polygons, draw_scale_bar, halo, set_view
from geoapp.exports.density import draw_map
from geoapp.exports.legend import draw_legend
from geoapp.exports.scene import Scene, places
from geoapp.exports.style import (
    ATTRIBUTION,
    BRAND,
    COMMUNE_EDGE,
    COMMUNE_FILL,
    FONT,
    INK,
    MUTED,
    PERIMETER_NOTE,
    SIZES,
    SUBTITLE,
    french_date,
)
from geoapp.vocabulary import STATUS_LABELS, STATUSES, THEMES, fr_num

# Titles, names and notes are user and data text, drawn as typed: "$…$" is no mathtext
# formula (an unknown command made the export fail) and TeX is never run. A text reads
# these settings when it is created, so they are the process defaults (set here and again
# by every new_figure, where all drawing starts) and plain_text forces them on every
# text of a figure before it is saved.
PLAIN_TEXT_RC = {"text.parse_math": False, "text.usetex": False}
matplotlib.rcParams.update(PLAIN_TEXT_RC)
# rcParams are global: saving holds this lock so two threads never see each other's.
SAVE_LOCK = threading.Lock()
SAVE_RC = {
    "pdf.fonttype": 42,
    "svg.fonttype": "none",
    "svg.hashsalt": "qmi-atlas",
    "font.family": FONT,
    **PLAIN_TEXT_RC,
}
_METADATA = {
    "png": {"Software": "QMI Atlas"},
    "pdf": {"Creator": "QMI Atlas", "Producer": "QMI Atlas", "CreationDate": None},
    "svg": {"Creator": "QMI Atlas", "Date": None},
}
DISTRICT_PAD_M = 300.0


def new_figure(size: str) -> tuple[Figure, float]:
    """An empty figure of ``size`` (see ``SIZES``) on the Agg canvas, and its type scale."""
    matplotlib.rcParams.update(PLAIN_TEXT_RC)
    (width, height), dpi, scale = SIZES[size]
    fig = Figure(figsize=(width, height), dpi=dpi, facecolor="white")
    FigureCanvasAgg(fig)
    return fig, scale


def plain_text(fig: Figure) -> Figure:
    """Every text of ``fig`` (titles, labels, legends, tables, callouts) drawn literally."""
    for text in fig.findobj(Text):
        text.set_usetex(False)
        text.set_parse_math(False)
    return fig


def save_figure(fig: Figure, fmt: str, *, title: str = "") -> bytes:
    """Encode ``fig`` as ``png``, ``svg`` or ``pdf`` (vector) and return the bytes."""
    buffer = io.BytesIO()
    metadata = {**_METADATA[fmt], **({"Title": title} if fmt != "png" else {})}
    plain_text(fig)
    # zlib level 2, not PIL's 6: a third of the A4 PNG's time for ~15 % more bytes.
    extra = {"pil_kwargs": {"compress_level": 2}} if fmt == "png" else {}
    with SAVE_LOCK, matplotlib.rc_context(SAVE_RC):
        fig.savefig(buffer, format=fmt, dpi=fig.dpi, metadata=metadata, **extra)
    return buffer.getvalue()


def render_map(scene: Scene, *, fmt: str, size: str, view: str = "experimentations") -> bytes:
    """The static map of ``scene`` as ``fmt`` bytes at ``size`` (``diapo`` or ``a4``).

    ``view`` ``coupure`` draws a district's cut instead of its experiments: numbered
    sides, crossings, the best sites and the headline (`geoapp.exports.cut_page`).

    PNG: 1920×1080 px (diapo) or 3508×2480 px (A4 landscape, 300 dpi). SVG and PDF are
    vector at the same physical size (19.2×10.8 in, or 297×210 mm).
    """
    fig, scale = new_figure(size)
    draw_page_frame(fig, scene, scale)
    if view == "coupure":
        from geoapp.exports.cut_page import draw_cut_layout

        draw_cut_layout(fig, scene, scale)
    elif scene.is_programme:
        _programme_layout(fig, scene, scale)
    else:
        _district_layout(fig, scene, scale)
    return save_figure(fig, fmt, title=scene.title)


def draw_page_frame(fig: Figure, scene: Scene, scale: float) -> None:
    """Title, subtitle (programme and date), filter caption, attribution footer."""
    fig.add_artist(
        Rectangle(
            (0.0, 0.988), 1.0, 0.012, facecolor=BRAND, edgecolor="none", transform=fig.transFigure
        )
    )
    top = 0.955
    fig.text(
        0.02,
        top,
        scene.title,
        fontsize=26 * scale,
        fontweight="bold",
        color=INK,
        va="top",
        family=FONT,
    )
    subtitle = f"{SUBTITLE} · {french_date(scene.today)}"
    caption = scene.caption
    if caption:
        subtitle += f" · {caption}"
    fig.text(0.02, top - 0.052, subtitle, fontsize=13 * scale, color=MUTED, va="top", family=FONT)
    footer = f"{PERIMETER_NOTE} {ATTRIBUTION}"
    fig.text(
        0.02,
        0.012,
        wrap(footer, 0.96 * fig.get_figwidth(), 8.5 * scale),
        fontsize=8.5 * scale,
        color=MUTED,
        va="bottom",
        family=FONT,
        linespacing=1.35,
    )


def wrap(text: str, width_in: float, fontsize: float) -> str:
    """Wrap ``text`` to about ``width_in`` inches at ``fontsize`` points (DejaVu Sans)."""
    chars = max(10, int(width_in * 72 / (fontsize * 0.56)))
    return textwrap.fill(text, chars)


def _district_layout(fig: Figure, scene: Scene, scale: float) -> None:
    d = scene.districts.iloc[0]
    ax = fig.add_axes((0.02, 0.085, 0.655, 0.80))
    drawn, cells = draw_map(
        ax, scene, bounds_with_experiments(scene), scale=scale, pad_m=DISTRICT_PAD_M
    )
    locator = fig.add_axes((0.70, 0.655, 0.095, 0.205))
    draw_locator(locator, scene, scale)
    fig.text(
        0.7475,
        0.645,
        "Situation dans la Métropole",
        fontsize=8.5 * scale,
        color=MUTED,
        va="top",
        ha="center",
        family=FONT,
    )
    fig.text(
        0.81,
        0.885,
        "Chiffres clés",
        fontsize=12 * scale,
        fontweight="bold",
        color=INK,
        va="top",
        family=FONT,
    )
    for i, (label, value) in enumerate(_district_facts(d, scene)):
        y = 0.845 - i * 0.034
        fig.text(0.81, y, label, fontsize=10 * scale, color=MUTED, va="top", family=FONT)
        fig.text(
            0.98,
            y,
            value,
            fontsize=10 * scale,
            color=INK,
            va="top",
            ha="right",
            fontweight="bold",
            family=FONT,
        )
    legend_ax = fig.add_axes((0.70, 0.085, 0.28, 0.52))
    legend_ax.set_axis_off()
    box = draw_legend(legend_ax, drawn, scale, cells=cells)
    if cells is None:
        _experiment_list(fig, scene, scale, top=box.y0 - 0.035)
    else:
        _status_list(fig, scene, scale, top=box.y0 - 0.035)


def bounds_with_experiments(scene: Scene):
    """District bounds grown to include its experiments' places, lines and areas whole
    (a site, or a path's end, may lie just outside)."""
    xmin, ymin, xmax, ymax = scene.districts.total_bounds
    if len(scene.experiments):
        ex0, ey0, ex1, ey1 = places(scene.experiments).total_bounds
        xmin, ymin, xmax, ymax = min(xmin, ex0), min(ymin, ey0), max(xmax, ex1), max(ymax, ey1)
    return xmin, ymin, xmax, ymax


def _district_facts(d, scene: Scene) -> list[tuple[str, str]]:
    return [
        ("Surface du quartier", f"{fr_num(d['area_ha'])} ha"),
        ("Coupures dans le quartier", f"{fr_num(d['cut_length_in_m'] / 1000, 2)} km"),
        ("… à moins de 500 m", f"{fr_num(d['cut_length_near_m'] / 1000, 2)} km"),
        ("Population (commune)", f"{fr_num(d['population'], 0)} hab."),
        ("Expérimentations", fr_num(len(scene.experiments), 0)),
    ]


def _experiment_list(
    fig: Figure, scene: Scene, scale: float, *, top: float, limit: int = 8
) -> None:
    """Numbered experiments (matching the map markers), when the panel has room."""
    exps = scene.experiments
    if exps.empty:
        return
    fig.text(
        0.70,
        top,
        "Expérimentations",
        fontsize=11 * scale,
        fontweight="bold",
        color=INK,
        va="top",
        family=FONT,
    )
    room = max(1, int((top - 0.11) / 0.027))
    limit = min(limit, room)
    rows = [
        f"{r.numero}. {_shorten(r.title, 38)} — {STATUS_LABELS.get(r.status, r.status)}"
        for r in exps.head(limit).itertuples()
    ]
    if len(exps) > limit:
        rows.append(f"… et {len(exps) - limit} autres (voir la fiche quartier)")
    fig.text(
        0.70,
        top - 0.03,
        "\n".join(rows),
        fontsize=9.5 * scale,
        color=INK,
        va="top",
        family=FONT,
        linespacing=1.5,
    )


def status_counts(experiments) -> list[tuple[str, int]]:
    """``[(status, count), …]`` in the vocabulary's order, statuses present only."""
    counts = experiments["status"].value_counts()
    return [(s, int(counts[s])) for s in STATUSES if s in counts]


def _status_list(fig: Figure, scene: Scene, scale: float, *, top: float) -> None:
    """Experiments per status, when the map counts them per hexagon (no numbers to list)."""
    fig.text(
        0.70,
        top,
        "Expérimentations par statut",
        fontsize=11 * scale,
        fontweight="bold",
        color=INK,
        va="top",
        family=FONT,
    )
    for i, (status, count) in enumerate(status_counts(scene.experiments)):
        y = top - 0.03 - i * 0.027
        style = {"fontsize": 9.5 * scale, "va": "top", "family": FONT}
        fig.text(0.70, y, STATUS_LABELS.get(status, status), color=INK, **style)
        fig.text(0.86, y, fr_num(count, 0), color=INK, ha="right", fontweight="bold", **style)
    fig.text(
        0.70,
        top - 0.045 - len(STATUSES) * 0.027,
        "Liste complète : fiche quartier et export CSV",
        fontsize=9 * scale,
        color=MUTED,
        va="top",
        family=FONT,
    )


def _shorten(text: str, limit: int) -> str:
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def draw_locator(ax, scene: Scene, scale: float) -> None:
    """The Métropole outline with every district as a dot, the current one ringed."""
    atlas = scene.atlas
    mgp = atlas.layers["mgp"]
    xmin, ymin, xmax, ymax = mgp.total_bounds
    set_view(ax, (xmin, ymin, xmax, ymax), pad_m=800)
    add_polygons(
        ax,
        atlas.layers["epts"].geometry,
        facecolor=COMMUNE_FILL,
        edgecolor="white",
        linewidth=0.6 * scale,
    )
    add_polygons(ax, mgp.geometry, facecolor="none", edgecolor=COMMUNE_EDGE, linewidth=0.8 * scale)
    centres = atlas.districts.geometry.centroid
    ax.scatter(centres.x, centres.y, s=(4 * scale) ** 2, color=BRAND, zorder=5)
    current = scene.districts.geometry.centroid
    ax.scatter(
        current.x,
        current.y,
        s=(13 * scale) ** 2,
        facecolor="none",
        edgecolor=BRAND,
        linewidths=2 * scale,
        zorder=6,
    )
    ax.set_axis_off()


def _programme_layout(fig: Figure, scene: Scene, scale: float) -> None:
    """Métropole overview (left) and the four districts zoomed (right, 2×2)."""
    atlas = scene.atlas
    overview = fig.add_axes((0.02, 0.27, 0.42, 0.615))
    mgp = atlas.layers["mgp"]
    drawn, cells = draw_map(
        overview, scene, mgp.total_bounds, scale=scale, pad_m=500, detail="overview"
    )  # grouped experiments are drawn in the panels only
    number_districts(overview, scene, scale)
    legend_ax = fig.add_axes((0.02, 0.085, 0.42, 0.17))
    legend_ax.set_axis_off()
    panel_w, panel_h, gap_x = 0.255, 0.355, 0.01
    for i, d in enumerate(atlas.districts.itertuples()):
        col, row = i % 2, i // 2
        left = 0.46 + col * (panel_w + gap_x)
        bottom = 0.085 + (1 - row) * (panel_h + 0.045)
        ax = fig.add_axes((left, bottom, panel_w, panel_h))
        sub = scene.sub(d.slug)
        part, part_cells = draw_map(
            ax,
            sub,
            bounds_with_experiments(sub),
            scale=scale * 0.8,
            pad_m=250,
            detail="compact",
            furniture=False,
        )
        draw_scale_bar(ax, scale=scale * 0.8, fraction=0.3)
        if part_cells is None:
            _panel_key(ax, sub, scale * 0.8)
        drawn.lines.update(part.lines)
        drawn.kinds |= part.kinds
        drawn.stations += part.stations
        drawn.themes = [t for t in THEMES if t in set(drawn.themes) | set(part.themes)]
        cells = part_cells.merged(cells) if part_cells else cells
        ax.set_title(
            f"{i + 1}  {d.nom} — {d.commune}",
            loc="left",
            fontsize=12 * scale,
            fontweight="bold",
            color=INK,
            family=FONT,
            pad=4 * scale,
        )
    drawn.lines = dict(sorted(drawn.lines.items()))
    draw_legend(legend_ax, drawn, scale, fontsize=9.5, across=True, max_rows=8, cells=cells)


def _panel_key(ax, scene: Scene, scale: float, *, limit: int = 6) -> None:
    """The key of a programme panel's numbered markers: the first ``limit`` named, the
    rest counted, in the corner of the panel that hides the fewest markers."""
    exps = scene.experiments
    if exps.empty:
        return
    rows = [f"{r.numero}. {_shorten(r.title, 30)}" for r in exps.head(limit).itertuples()]
    if len(exps) > limit:
        rows.append(f"… et {len(exps) - limit} autres (fiche quartier)")
    xy = ax.transAxes.inverted().transform(
        ax.transData.transform(np.column_stack([exps.geometry.x, exps.geometry.y]))
    )
    height = 0.06 + 0.065 * len(rows)
    corners = [(0.015, 0.985, "left", "top"), (0.985, 0.985, "right", "top")]
    corners.append((0.985, 0.015, "right", "bottom"))

    def hidden(corner) -> int:
        x, y, ha, va = corner
        in_x = xy[:, 0] < 0.45 if ha == "left" else xy[:, 0] > 0.55
        in_y = xy[:, 1] > 1 - height if va == "top" else xy[:, 1] < height
        return int((in_x & in_y).sum())

    x, y, ha, va = min(corners, key=hidden)
    ax.text(
        x,
        y,
        "\n".join(rows),
        transform=ax.transAxes,
        ha=ha,
        va=va,
        fontsize=8 * scale,
        color=INK,
        family=FONT,
        linespacing=1.3,
        zorder=60,
        bbox={
            "boxstyle": "round,pad=0.35",
            "facecolor": "white",
            "alpha": 0.88,
            "edgecolor": MUTED,
            "linewidth": 0.6,
        },
    )


def number_districts(ax, scene: Scene, scale: float) -> None:
    """Numbered callouts for the districts on the Métropole map (1–4, as the panels),
    placed around each district where they overlap nothing."""
    placer = LabelPlacer(ax, pad_px=4 * scale)
    placer.block_axes_box(0.0, 0.0, 0.32, 0.14)
    placer.block_axes_box(0.92, 0.80, 1.0, 0.96)
    style = {
        "fontsize": 11 * scale,
        "fontweight": "bold",
        "color": BRAND,
        "family": FONT,
        "zorder": 40,
        "bbox": {
            "boxstyle": "round,pad=0.3",
            "facecolor": "white",
            "edgecolor": BRAND,
            "linewidth": 1.2 * scale,
        },
        "arrowprops": {
            "arrowstyle": "-",
            "color": BRAND,
            "linewidth": 1.2 * scale,
            "shrinkA": 0,
            "shrinkB": 3 * scale,
        },
    }
    districts = scene.atlas.districts
    centres = districts.geometry.centroid
    ax.scatter(
        centres.x,
        centres.y,
        s=(16 * scale) ** 2,
        facecolor="none",
        edgecolor=BRAND,
        linewidths=2.2 * scale,
        zorder=30,
    )
    placer.block_points(zip(centres.x, centres.y, strict=True), 9 * scale)
    for i, (d, centre) in enumerate(zip(districts.itertuples(), centres, strict=True)):
        for offset in (24, 42):
            if placer.place_point_label(
                f"{i + 1}  {d.nom}", (centre.x, centre.y), offset_pt=offset * scale, **style
            ):
                break
    paris = scene.atlas.layers["communes"].query("code_insee == '75056'")
    if not paris.empty:
        spot = paris.geometry.iloc[0].representative_point()
        placer.place_point_label(
            "PARIS",
            (spot.x, spot.y),
            offset_pt=0,
            spots=((0, 0, "center", "center"),),
            fontsize=11 * scale,
            color=MUTED,
            family=FONT,
            fontstyle="italic",
            zorder=3,
            path_effects=halo(3 * scale),
        )
