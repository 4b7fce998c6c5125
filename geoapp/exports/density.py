"""Experiments counted per hexagon on drawn maps, when there are too many to draw one each.

Above :data:`~geoapp.vocabulary.MAP_POINTS_MAX` experiments in a map view, one numbered
marker per experiment is unreadable (markers pile up) and costs one text per point. The
view is then cut into hexagons of a fixed size *on the page* (so the number fits in the
cell whatever the zoom), the experiments are counted per cell with numpy (axial hexagon
coordinates, ``np.unique``), and each occupied cell is filled by count class with its
count written inside where the text fits and crosses no name already placed. The work
grows with the number of cells on the page, which is bounded, not with the experiments.

Cells count anchors: one per experiment, whatever its place, so a 400 m path counts once
and not in every cell it crosses. Lines and areas are still drawn, as thin outlines in
their theme colour over the cells and without fill (a fill would hide the cells' class
colours and counts): their extent stays readable where a count alone would not show it. At
most :data:`~geoapp.vocabulary.MAP_POINTS_MAX` of them are drawn, the largest first (a
small one lies within its cell anyway), so the page stays as readable as below the
threshold.

:func:`draw_map` is what the slides, print maps and sheets call instead of
:func:`~geoapp.exports.layers.draw_scene_map`: below the threshold it is that function.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection

from geoapp.exports.cartography import add_polygons, in_view, points_per_metre, set_view
from geoapp.exports.layers import Drawn, draw_places, draw_scene_map
from geoapp.exports.scene import Scene, places
from geoapp.exports.style import BRAND, FONT, text_colour_on
from geoapp.shapes import PLACE_KINDS
from geoapp.vocabulary import MAP_POINTS_MAX, fr_num

HEX_RADIUS_PT = 15.0  # centre-to-corner, at type scale 1: a 4-digit count fits across
# Upper bounds of the count classes, the same on every map so colours compare across
# exports; the last class is open ("101 et plus").
CLASS_HIGHS = (1, 5, 10, 25, 50, 100, 10**9)
CLASS_COLOURS = [
    matplotlib.colors.to_hex(c)
    for c in matplotlib.colormaps["YlGnBu"](np.linspace(0.25, 0.98, len(CLASS_HIGHS)))
]
_SQRT3 = math.sqrt(3.0)


@dataclass(frozen=True)
class Cells:
    """Experiments counted per hexagon (Lambert-93 metres), for the map and its legend.

    ``centres`` is (n, 2) cell centres and ``counts`` the experiments per cell;
    ``radius_m`` is the cells' centre-to-corner size (``None`` once panels of different
    zooms are merged for one legend).
    """

    centres: np.ndarray
    counts: np.ndarray
    radius_m: float | None

    def class_index(self) -> np.ndarray:
        """Count class of each cell (an index into :data:`CLASS_HIGHS`)."""
        return np.searchsorted(np.asarray(CLASS_HIGHS), self.counts, side="left")

    def classes(self) -> list[tuple[int, int | None, str]]:
        """``(low, high, colour)`` of the classes present, ``high`` ``None`` for the last."""
        lows = (1, *(h + 1 for h in CLASS_HIGHS[:-1]))
        highs = (*CLASS_HIGHS[:-1], None)
        present = np.unique(self.class_index())
        return [(lows[i], highs[i], CLASS_COLOURS[i]) for i in present]

    def merged(self, other: Cells | None) -> Cells:
        """One legend for several maps (a programme's panels): their cells together."""
        if other is None:
            return self
        return Cells(
            np.vstack([self.centres, other.centres]),
            np.concatenate([self.counts, other.counts]),
            None,
        )


def hex_bin(xy: np.ndarray, radius_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Count points ``xy`` ((n, 2) metres) per pointy-top hexagon of ``radius_m``.

    The grid is anchored at the CRS origin, so neighbouring maps share cells. Returns the
    occupied cells' centres ((m, 2) metres) and their counts, vectorised (cube rounding).
    """
    if len(xy) == 0:
        return np.empty((0, 2)), np.empty(0, dtype=int)
    q = (_SQRT3 / 3 * xy[:, 0] - xy[:, 1] / 3) / radius_m
    r = (2 / 3 * xy[:, 1]) / radius_m
    s = -q - r
    rq, rr, rs = np.round(q), np.round(r), np.round(s)
    dq, dr, ds = np.abs(rq - q), np.abs(rr - r), np.abs(rs - s)
    fix_q = (dq > dr) & (dq > ds)
    fix_r = ~fix_q & (dr > ds)
    rq = np.where(fix_q, -rr - rs, rq)
    rr = np.where(fix_r, -rq - rs, rr)
    cells, counts = np.unique(
        np.column_stack([rq, rr]).astype(np.int64), axis=0, return_counts=True
    )
    centres = np.column_stack(
        [radius_m * _SQRT3 * (cells[:, 0] + cells[:, 1] / 2), radius_m * 1.5 * cells[:, 1]]
    )
    return centres, counts


def class_label(low: int, high: int | None) -> str:
    """``"1"``, ``"2 à 5"``, ``"101 et plus"`` (French numbers) for a legend line."""
    if high is None:
        return f"{fr_num(low, 0)} et plus"
    return fr_num(low, 0) if low == high else f"{fr_num(low, 0)} à {fr_num(high, 0)}"


def draw_map(
    ax: Axes,
    scene: Scene,
    bounds,
    *,
    scale: float,
    pad_m: float,
    detail: str = "full",
    furniture: bool = True,
) -> tuple[Drawn, Cells | None]:
    """Draw ``scene`` like :func:`draw_scene_map`; above ``MAP_POINTS_MAX`` experiments in
    view, count them per hexagon instead. Returns what was drawn and the cells (or ``None``).

    On the Métropole ``overview`` a district is a few points wide: cells would only hide
    it, so grouped experiments are left to the district panels and the legend.
    """
    view = set_view(ax, bounds, pad_m=pad_m)
    shown = in_view(scene.experiments, view, margin=-0.01) if len(scene.experiments) else None
    kwargs = {"scale": scale, "pad_m": pad_m, "detail": detail, "furniture": furniture}
    if shown is None or len(shown) <= MAP_POINTS_MAX:
        return draw_scene_map(ax, scene, bounds, **kwargs), None
    bare = dataclasses.replace(scene, experiments=scene.experiments.iloc[:0])
    drawn = draw_scene_map(ax, bare, bounds, **kwargs)
    drawn.experiments = len(shown)
    if detail == "overview":
        return drawn, None
    radius_m = HEX_RADIUS_PT * scale / points_per_metre(ax)
    centres, counts = hex_bin(np.column_stack([shown.geometry.x, shown.geometry.y]), radius_m)
    cells = Cells(centres, counts, radius_m)
    _draw_cells(ax, scene, cells, scale)
    drawn.kinds = _draw_outlines(ax, shown, scale)
    return drawn, cells


def _draw_outlines(ax: Axes, shown, scale: float) -> set[str]:
    """The largest `MAP_POINTS_MAX` lines and areas of ``shown`` as outlines over the
    cells; returns their kinds (``"ligne"``, ``"zone"``) for the legend."""
    geometries = places(shown)
    shaped = geometries.geom_type.isin(["LineString", "Polygon"]).to_numpy()
    if not shaped.any():
        return set()
    x0, y0, x1, y1 = geometries[shaped].bounds.to_numpy().T
    largest = np.argsort(-np.hypot(x1 - x0, y1 - y0), kind="stable")[:MAP_POINTS_MAX]
    chosen = shown[shaped].iloc[largest]
    draw_places(ax, chosen, scale, outline=True)
    return set(places(chosen).geom_type.map(PLACE_KINDS))


def hexagons(centres: np.ndarray, radius_m: float) -> np.ndarray:
    """(n, 6, 2) corners of pointy-top hexagons around ``centres`` (metres)."""
    angles = np.radians(30 + 60 * np.arange(6))
    corners = np.column_stack([np.cos(angles), np.sin(angles)]) * radius_m
    return centres[:, None, :] + corners[None, :, :]


def _draw_cells(ax: Axes, scene: Scene, cells: Cells, scale: float) -> None:
    """Cells filled by class, their counts where they fit.

    Cells lie over the district's fill but under the rail lines (the cuts stay visible),
    the stations and the names; the district's outline is drawn again over them.
    """
    fills = np.asarray(CLASS_COLOURS)[cells.class_index()]
    add_polygons(
        ax,
        scene.districts.geometry,
        facecolor="none",
        edgecolor=BRAND,
        linewidth=1.6 * scale,
        zorder=8,
    )
    ax.add_collection(
        PolyCollection(
            hexagons(cells.centres, cells.radius_m * 0.96),
            facecolors=fills,
            edgecolors="white",
            linewidths=0.6 * scale,
            alpha=0.85,
            zorder=7,
        ),
        autolim=False,
    )
    fontsize = 8.0 * scale
    texts = np.array([fr_num(c, 0) for c in cells.counts])
    keep = _counts_that_fit(ax, cells, texts, fontsize)
    for (x, y), text, fill in zip(cells.centres[keep], texts[keep], fills[keep], strict=True):
        ax.text(
            x,
            y,
            text,
            ha="center",
            va="center_baseline",
            family=FONT,
            fontsize=fontsize,
            fontweight="bold",
            color=text_colour_on(fill),
            zorder=16,
            clip_on=True,
        )


def _counts_that_fit(ax: Axes, cells: Cells, texts: np.ndarray, fontsize: float) -> np.ndarray:
    """Cells whose count fits across the hexagon, inside the frame, clear of the names.

    Text boxes are estimated from the font size (DejaVu Sans digits: 0.64 em wide) in
    display pixels and tested against every label already on the axes at once.
    """
    dpi = ax.figure.dpi
    px = ax.transData.transform(cells.centres)
    half_w = np.char.str_len(texts) * 0.32 * fontsize * dpi / 72
    half_h = 0.55 * fontsize * dpi / 72
    across = _SQRT3 * cells.radius_m * points_per_metre(ax) * dpi / 72
    frame = ax.get_window_extent()
    keep = (2 * half_w <= 0.9 * across) & (px[:, 0] - half_w >= frame.x0)
    keep &= (px[:, 0] + half_w <= frame.x1) & (px[:, 1] - half_h >= frame.y0)
    keep &= px[:, 1] + half_h <= frame.y1
    renderer = ax.figure.canvas.get_renderer()
    boxes = np.array(
        [t.get_window_extent(renderer).extents for t in ax.texts if t.get_visible()]
    ).reshape(-1, 4)
    if len(boxes):
        clear = (
            (px[:, None, 0] + half_w[:, None] < boxes[None, :, 0])
            | (px[:, None, 0] - half_w[:, None] > boxes[None, :, 2])
            | (px[:, None, 1] + half_h < boxes[None, :, 1])
            | (px[:, None, 1] - half_h > boxes[None, :, 3])
        )
        keep &= clear.all(axis=1)
    return keep
