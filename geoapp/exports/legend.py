"""The legend of a drawn map: one titled block per section, stacked or side by side.

Blocks are separate matplotlib legends placed one after the other (positions measured in
axes fractions, so they hold in PNG, SVG and PDF alike). Only what the map shows is listed;
an empty experiments selection says so instead of leaving the section out. Experiments
counted per hexagon (:mod:`geoapp.exports.density`) are listed by count class, with a line
saying they are grouped, how many there are and the size of a cell.
"""

from __future__ import annotations

import math

from matplotlib.axes import Axes
from matplotlib.colors import to_rgba
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.transforms import Bbox

from geoapp.exports.density import Cells, class_label
from geoapp.exports.layers import Drawn, line_label
from geoapp.exports.style import (
    BRAND,
    COMMUNE_EDGE,
    COMMUNE_FILL,
    DISTRICT_FILL,
    FONT,
    INK,
    MUTED,
    NO_EXPERIMENT,
    RAIL_CONTEXT,
    STATION_EDGE,
)
from geoapp.vocabulary import MAP_POINTS_MAX, THEME_COLOURS, THEME_LABELS, fr_num


def legend_sections(
    drawn: Drawn, scale: float, cells: Cells | None = None
) -> list[tuple[str, list[tuple]]]:
    """``[(title, [(handle, label), …]), …]`` for what ``drawn`` reports (and ``cells``)."""
    base = [
        (
            Patch(facecolor=DISTRICT_FILL, edgecolor=BRAND, linewidth=2 * scale),
            "Quartier (périmètre indicatif)",
        ),
        (Patch(facecolor=COMMUNE_FILL, edgecolor=COMMUNE_EDGE, linewidth=scale), "Commune"),
    ]
    transport = []
    for name, (colour, kind) in drawn.lines.items():
        style = (0, (3, 1.5)) if kind == "tramway" else "-"
        transport.append(
            (Line2D([], [], color=colour, linewidth=3.5 * scale, linestyle=style), line_label(name))
        )
    if drawn.context_rail:
        transport.append(
            (Line2D([], [], color=RAIL_CONTEXT, linewidth=1.5 * scale), "Voies ferrées et tramways")
        )
    if drawn.stations:
        transport.append(
            (
                Line2D(
                    [],
                    [],
                    linestyle="none",
                    marker="o",
                    markersize=9 * scale,
                    markerfacecolor="white",
                    markeredgecolor=STATION_EDGE,
                    markeredgewidth=1.8 * scale,
                ),
                "Gare ou station",
            )
        )
    themes = [
        (
            Line2D(
                [],
                [],
                linestyle="none",
                marker="o",
                markersize=12 * scale,
                markerfacecolor=THEME_COLOURS[t],
                markeredgecolor="white",
            ),
            THEME_LABELS[t],
        )
        for t in drawn.themes
    ]
    if not themes:
        themes = [(Line2D([], [], linestyle="none"), NO_EXPERIMENT)]
    themes += _kind_items(drawn, scale)
    sections = [("Quartiers et communes", base)]
    if transport:
        sections.append(("Coupures urbaines et gares" if drawn.lines else "Transports", transport))
    if cells is not None:
        sections.append(("Expérimentations regroupées", _cell_items(cells, drawn, scale)))
    else:
        sections.append(("Expérimentations (par thème)", themes))
    return sections


def _kind_items(drawn: Drawn, scale: float) -> list[tuple]:
    """« tracé » and « zone », when the map draws some: a stroke and a light fill with its
    edge, in a neutral grey (their colour is their theme's, listed above)."""
    items = []
    if "ligne" in drawn.kinds:
        stroke = Line2D([], [], color=MUTED, linewidth=3.4 * scale, solid_capstyle="round")
        items.append((stroke, "Tracé (numéro en son milieu)"))
    if "zone" in drawn.kinds:
        face = Patch(facecolor=to_rgba(MUTED, 0.3), edgecolor=MUTED, linewidth=1.8 * scale)
        items.append((face, "Zone (numéro à l’intérieur)"))
    return items


def _cell_items(cells: Cells, drawn: Drawn, scale: float) -> list[tuple]:
    """One hexagon per count class, then what the grouping means, in plain French."""
    items = [
        (
            Line2D(
                [],
                [],
                linestyle="none",
                marker="h",
                markersize=14 * scale,
                markerfacecolor=colour,
                markeredgecolor="white",
            ),
            f"{class_label(low, high)} par hexagone",
        )
        for low, high, colour in cells.classes()
    ]
    size = "" if cells.radius_m is None else f" de {fr_num(cells.radius_m * 3**0.5, 0)} m"
    note = (
        f"{fr_num(drawn.experiments, 0)} expérimentations comptées par hexagone{size}\n"
        f"(au-delà de {MAP_POINTS_MAX} sur une carte) ; nombre inscrit s’il tient"
    )
    return [*items, (Line2D([], [], linestyle="none"), note), *_kind_items(drawn, scale)]


def draw_legend(
    ax: Axes,
    drawn: Drawn,
    scale: float,
    *,
    fontsize: float = 10.5,
    across: bool = False,
    max_rows: int | None = None,
    cells: Cells | None = None,
) -> Bbox:
    """Draw the legend blocks from the top left of ``ax`` (hidden axes used as a box).

    ``across`` puts blocks side by side instead of one under the other; ``max_rows``
    splits a long block into columns. When the blocks overflow ``ax`` (many themes, a
    long line list), the type shrinks until they fit. Returns their extent in figure
    fractions.
    """
    frame = ax.get_position()
    for _ in range(4):
        legends = _blocks(ax, drawn, scale, fontsize, across=across, max_rows=max_rows, cells=cells)
        box = Bbox.union(
            [legend.get_window_extent(ax.figure.canvas.get_renderer()) for legend in legends]
        ).transformed(ax.figure.transFigure.inverted())
        if box.y0 >= frame.y0 - 1e-3 and box.x1 <= frame.x1 + 1e-3:
            break
        for legend in legends:
            legend.remove()
        fontsize *= 0.88
    return box


def _blocks(
    ax: Axes,
    drawn: Drawn,
    scale: float,
    fontsize: float,
    *,
    across: bool,
    max_rows: int | None,
    cells: Cells | None,
) -> list[Legend]:
    renderer = ax.figure.canvas.get_renderer()
    to_axes = ax.transAxes.inverted()
    x, y = 0.0, 1.0
    legends: list[Legend] = []
    for title, items in legend_sections(drawn, scale, cells):
        handles, labels = zip(*items, strict=True)
        ncol = math.ceil(len(items) / max_rows) if max_rows else 1
        legend = Legend(
            ax,
            handles,
            labels,
            loc="upper left",
            bbox_to_anchor=(x, y),
            bbox_transform=ax.transAxes,
            frameon=False,
            ncol=ncol,
            title=title,
            alignment="left",
            borderaxespad=0,
            borderpad=0,
            handlelength=2.4,
            handletextpad=0.8,
            handleheight=1.1,
            labelspacing=0.5,
            columnspacing=1.4,
            prop={"family": FONT, "size": fontsize * scale},
            title_fontproperties={"family": FONT, "size": fontsize * scale, "weight": "bold"},
        )
        legend.get_title().set_color(INK)
        ax.add_artist(legend)
        box = legend.get_window_extent(renderer)
        if across and legends and to_axes.transform((box.x1, 0))[0] > 1.0:
            # No room on this row: start a new row under the blocks placed so far.
            lowest = min(b.get_window_extent(renderer).y0 for b in legends)
            x, y = 0.0, to_axes.transform((0, lowest))[1] - 0.05
            legend.set_bbox_to_anchor((x, y), transform=ax.transAxes)
            box = legend.get_window_extent(renderer)
        legends.append(legend)
        (x0, y0), (x1, _) = to_axes.transform([(box.x0, box.y0), (box.x1, box.y1)])
        if across:
            x = x1 + 0.04
        else:
            y = y0 - 0.05
    return legends
