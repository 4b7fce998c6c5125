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
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from geoapp.exports.cartography import add_polygons, draw_scale_bar, set_view
from geoapp.exports.layers import Drawn, draw_scene_map, line_label
from geoapp.exports.scene import Scene
from geoapp.exports.style import (
    ATTRIBUTION,
    BRAND,
    COMMUNE_EDGE,
    COMMUNE_FILL,
    DISTRICT_FILL,
    FONT,
    INK,
    MUTED,
    NO_EXPERIMENT,
    PERIMETER_NOTE,
    REFERENCE_WIDTH_IN,
    SIZES,
    STATION_EDGE,
    STATUS_LABELS,
    SUBTITLE,
    THEME_COLOURS,
    filter_caption,
    fr_number,
    french_date,
)

# rcParams are global: saving holds this lock so two threads never see each other's.
_SAVE_LOCK = threading.Lock()
_SAVE_RC = {"pdf.fonttype": 42, "svg.fonttype": "none", "svg.hashsalt": "qmi-atlas",
            "font.family": FONT}
_METADATA = {"png": {"Software": "QMI Atlas"},
             "pdf": {"Creator": "QMI Atlas", "Producer": "QMI Atlas", "CreationDate": None},
             "svg": {"Creator": "QMI Atlas", "Date": None}}
DISTRICT_PAD_M = 300.0


def new_figure(size: str) -> tuple[Figure, float]:
    """An empty figure of ``size`` (see ``SIZES``) on the Agg canvas, and its type scale."""
    (width, height), dpi = SIZES[size]
    fig = Figure(figsize=(width, height), dpi=dpi, facecolor="white")
    FigureCanvasAgg(fig)
    return fig, width / REFERENCE_WIDTH_IN


def save_figure(fig: Figure, fmt: str, *, title: str = "") -> bytes:
    """Encode ``fig`` as ``png``, ``svg`` or ``pdf`` (vector) and return the bytes."""
    buffer = io.BytesIO()
    metadata = dict(_METADATA[fmt])
    if fmt == "pdf":
        metadata["Title"] = title
    elif fmt == "svg":
        metadata["Title"] = title
    with _SAVE_LOCK, matplotlib.rc_context(_SAVE_RC):
        fig.savefig(buffer, format=fmt, dpi=fig.dpi, metadata=metadata)
    return buffer.getvalue()


def render_map(scene: Scene, *, fmt: str, size: str) -> bytes:
    """The static map of ``scene`` as ``fmt`` bytes at ``size`` (``diapo`` or ``a4``).

    PNG: 1920×1080 px (diapo) or 3508×2480 px (A4 landscape, 300 dpi). SVG and PDF are
    vector at the same physical size (19.2×10.8 in, or 297×210 mm).
    """
    fig, scale = new_figure(size)
    draw_page_frame(fig, scene, scale)
    if scene.is_programme:
        _programme_layout(fig, scene, scale)
    else:
        _district_layout(fig, scene, scale)
    return save_figure(fig, fmt, title=scene.title)


def draw_page_frame(fig: Figure, scene: Scene, scale: float, *, kicker: str = "") -> None:
    """Title, subtitle (programme and date), filter caption, attribution footer."""
    fig.add_artist(Rectangle((0.0, 0.988), 1.0, 0.012, facecolor=BRAND, edgecolor="none",
                             transform=fig.transFigure))
    top = 0.955
    if kicker:
        fig.text(0.02, top, kicker.upper(), fontsize=11 * scale, color=BRAND,
                 fontweight="bold", va="top", family=FONT)
        top -= 0.03
    fig.text(0.02, top, scene.title, fontsize=26 * scale, fontweight="bold", color=INK,
             va="top", family=FONT)
    subtitle = f"{SUBTITLE} · {french_date(scene.today)}"
    caption = filter_caption(scene.theme, scene.status)
    if caption:
        subtitle += f" · {caption}"
    fig.text(0.02, top - 0.052, subtitle, fontsize=13 * scale, color=MUTED, va="top",
             family=FONT)
    footer = f"{PERIMETER_NOTE} {ATTRIBUTION}"
    fig.text(0.02, 0.012, wrap(footer, 0.96 * fig.get_figwidth(), 8.5 * scale),
             fontsize=8.5 * scale, color=MUTED, va="bottom", family=FONT, linespacing=1.35)


def wrap(text: str, width_in: float, fontsize: float) -> str:
    """Wrap ``text`` to about ``width_in`` inches at ``fontsize`` points (DejaVu Sans)."""
    chars = max(10, int(width_in * 72 / (fontsize * 0.56)))
    return textwrap.fill(text, chars)


def _district_layout(fig: Figure, scene: Scene, scale: float) -> None:
    d = scene.districts.iloc[0]
    ax = fig.add_axes((0.02, 0.085, 0.655, 0.80))
    bounds = _bounds_with_experiments(scene)
    drawn = draw_scene_map(ax, scene, bounds, scale=scale, pad_m=DISTRICT_PAD_M)
    locator = fig.add_axes((0.70, 0.655, 0.13, 0.23))
    draw_locator(locator, scene, scale)
    fig.text(0.84, 0.885, "Situation dans la Métropole", fontsize=10 * scale, color=MUTED,
             va="top", family=FONT, wrap=True)
    fig.text(0.84, 0.845, _district_facts(d, scene), fontsize=10.5 * scale, color=INK,
             va="top", family=FONT, linespacing=1.55)
    legend_ax = fig.add_axes((0.70, 0.085, 0.28, 0.55))
    legend_ax.set_axis_off()
    draw_legend(legend_ax, drawn, scale)
    _experiment_list(fig, scene, scale, top=0.30)


def _bounds_with_experiments(scene: Scene):
    """District bounds grown to include its experiments (a site may lie just outside)."""
    xmin, ymin, xmax, ymax = scene.districts.total_bounds
    if len(scene.experiments):
        ex0, ey0, ex1, ey1 = scene.experiments.total_bounds
        xmin, ymin, xmax, ymax = min(xmin, ex0), min(ymin, ey0), max(xmax, ex1), max(ymax, ey1)
    return xmin, ymin, xmax, ymax


def _district_facts(d, scene: Scene) -> str:
    lines = [f"Surface : {fr_number(d['area_ha'])} ha",
             f"Coupures dans le quartier : {fr_number(d['cut_length_in_m'] / 1000, 2)} km",
             f"… à moins de 500 m : {fr_number(d['cut_length_near_m'] / 1000, 2)} km",
             f"Population (commune) : {fr_number(d['population'], 0)} hab.",
             f"Expérimentations : {len(scene.experiments)}"]
    return "\n".join(lines)


def _experiment_list(fig: Figure, scene: Scene, scale: float, *, top: float,
                     limit: int = 8) -> None:
    """Numbered experiments (matching the map markers), when the panel has room."""
    exps = scene.experiments
    if exps.empty:
        return
    fig.text(0.70, top, "Expérimentations", fontsize=11 * scale, fontweight="bold",
             color=INK, va="top", family=FONT)
    rows = [f"{r.numero}. {_shorten(r.title, 34)} — {STATUS_LABELS.get(r.status, r.status)}"
            for r in exps.head(limit).itertuples()]
    if len(exps) > limit:
        rows.append(f"… et {len(exps) - limit} autres (voir la fiche quartier)")
    fig.text(0.70, top - 0.03, "\n".join(rows), fontsize=9.5 * scale, color=INK, va="top",
             family=FONT, linespacing=1.5)


def _shorten(text: str, limit: int) -> str:
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def draw_locator(ax, scene: Scene, scale: float) -> None:
    """The Métropole outline with every district as a dot, the current one ringed."""
    atlas = scene.atlas
    mgp = atlas.layers["mgp"]
    xmin, ymin, xmax, ymax = mgp.total_bounds
    set_view(ax, (xmin, ymin, xmax, ymax), pad_m=800)
    add_polygons(ax, atlas.layers["epts"].geometry, facecolor=COMMUNE_FILL, edgecolor="white",
                 linewidth=0.6 * scale)
    add_polygons(ax, mgp.geometry, facecolor="none", edgecolor=COMMUNE_EDGE,
                 linewidth=0.8 * scale)
    centres = atlas.districts.geometry.centroid
    ax.scatter(centres.x, centres.y, s=(4 * scale) ** 2, color=BRAND, zorder=5)
    current = scene.districts.geometry.centroid
    ax.scatter(current.x, current.y, s=(13 * scale) ** 2, facecolor="none", edgecolor=BRAND,
               linewidths=2 * scale, zorder=6)
    ax.set_axis_off()


def draw_legend(ax, drawn: Drawn, scale: float, *, ncol: int = 1, fontsize: float = 10.5,
                loc: str = "upper left") -> None:
    """Legend of what ``drawn`` says is on the map, with section headings in bold."""
    entries: list[tuple[object, str, bool]] = []

    def heading(text: str) -> None:
        entries.append((Line2D([], [], linestyle="none"), text, True))

    heading("Quartiers et communes")
    entries.append((Patch(facecolor=DISTRICT_FILL, edgecolor=BRAND, linewidth=2 * scale),
                    "Quartier d’innovation (périmètre indicatif)", False))
    entries.append((Patch(facecolor=COMMUNE_FILL, edgecolor=COMMUNE_EDGE, linewidth=scale),
                    "Commune", False))
    if drawn.lines:
        heading("Coupures urbaines")
        for name, (colour, kind) in drawn.lines.items():
            style = (0, (3, 1.5)) if kind == "tramway" else "-"
            entries.append((Line2D([], [], color=colour, linewidth=3.5 * scale, linestyle=style),
                            f"{line_label(name)} ({kind})", False))
    if drawn.stations:
        entries.append((Line2D([], [], linestyle="none", marker="o", markersize=9 * scale,
                               markerfacecolor="white", markeredgecolor=STATION_EDGE,
                               markeredgewidth=1.8 * scale), "Gare ou station", False))
    heading("Expérimentations (par thème)")
    if not drawn.themes:
        entries.append((Line2D([], [], linestyle="none"), NO_EXPERIMENT, False))
    for theme in drawn.themes:
        entries.append((Line2D([], [], linestyle="none", marker="o", markersize=12 * scale,
                               markerfacecolor=THEME_COLOURS[theme], markeredgecolor="white"),
                        theme[:1].upper() + theme[1:], False))
    handles, labels, bold = zip(*entries, strict=True)
    legend = ax.legend(handles, labels, loc=loc, frameon=False, ncol=ncol,
                       fontsize=fontsize * scale, handlelength=2.4, handleheight=1.1,
                       borderaxespad=0, labelspacing=0.55, columnspacing=1.6,
                       prop={"family": FONT, "size": fontsize * scale})
    for text, strong in zip(legend.get_texts(), bold, strict=True):
        if strong:
            text.set_fontweight("bold")
            text.set_color(INK)
            text.set_x(-2.4 * fontsize * scale)


def _programme_layout(fig: Figure, scene: Scene, scale: float) -> None:
    """Métropole overview (left) and the four districts zoomed (right, 2×2)."""
    atlas = scene.atlas
    overview = fig.add_axes((0.02, 0.27, 0.42, 0.615))
    mgp = atlas.layers["mgp"]
    drawn = draw_scene_map(overview, scene, mgp.total_bounds, scale=scale, pad_m=500,
                           detail="overview")
    _number_districts(overview, scene, scale)
    legend_ax = fig.add_axes((0.02, 0.085, 0.42, 0.17))
    legend_ax.set_axis_off()
    panel_w, panel_h, gap_x = 0.255, 0.355, 0.01
    for i, d in enumerate(atlas.districts.itertuples()):
        col, row = i % 2, i // 2
        left = 0.46 + col * (panel_w + gap_x)
        bottom = 0.085 + (1 - row) * (panel_h + 0.045)
        ax = fig.add_axes((left, bottom, panel_w, panel_h))
        sub = Scene(atlas, d.slug, scene.experiments[scene.experiments["district"] == d.slug],
                    scene.theme, scene.status, scene.today)
        part = draw_scene_map(ax, sub, _bounds_with_experiments(sub), scale=scale * 0.8,
                              pad_m=250, detail="compact", furniture=False)
        _small_scale_bar(ax, scale)
        drawn.lines.update(part.lines)
        drawn.stations += part.stations
        drawn.themes = [t for t in THEME_COLOURS if t in set(drawn.themes) | set(part.themes)]
        ax.set_title(f"{i + 1}  {d.nom} — {d.commune}", loc="left", fontsize=12 * scale,
                     fontweight="bold", color=INK, family=FONT, pad=4 * scale)
    drawn.lines = dict(sorted(drawn.lines.items()))
    draw_legend(legend_ax, drawn, scale, ncol=3, fontsize=9.5)


def _small_scale_bar(ax, scale: float) -> None:
    draw_scale_bar(ax, scale=scale * 0.8, fraction=0.3)


def _number_districts(ax, scene: Scene, scale: float) -> None:
    """Numbered callouts next to each district on the Métropole map (1–4, as the panels)."""
    for i, d in enumerate(scene.atlas.districts.itertuples()):
        point = d.geometry.representative_point()
        ax.annotate(f"{i + 1}  {d.nom}", xy=(point.x, point.y), xytext=(14 * scale, 10 * scale),
                    textcoords="offset points", fontsize=11 * scale, fontweight="bold",
                    color=BRAND, family=FONT, zorder=40,
                    bbox={"boxstyle": "round,pad=0.3", "facecolor": "white",
                          "edgecolor": BRAND, "linewidth": 1.2 * scale},
                    arrowprops={"arrowstyle": "-", "color": BRAND, "linewidth": 1.2 * scale})
