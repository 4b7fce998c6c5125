"""Map furniture for matplotlib, drawn in Lambert-93 coordinates (metres).

Axes hold EPSG:2154 coordinates with an equal aspect, so one data unit is one metre in
both directions and the scale bar is exact by construction. Labels go through a
:class:`LabelPlacer` that tries a few positions per label and keeps the first one whose
box (in display pixels) overlaps nothing already placed: a cheap collision check that
keeps names readable without a label-placement dependency.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import geopandas as gpd
import numpy as np
import pyproj
import shapely
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.patches import Polygon, Rectangle
from matplotlib.path import Path
from matplotlib.text import Annotation, Text
from matplotlib.transforms import Bbox

from geoapp.analysis import ANALYSIS_CRS, DISPLAY_CRS
from geoapp.exports.style import FONT, INK
from geoapp.vocabulary import fr_num

_TO_L93 = pyproj.Transformer.from_crs(DISPLAY_CRS, ANALYSIS_CRS, always_xy=True)
_TO_WGS84 = pyproj.Transformer.from_crs(ANALYSIS_CRS, DISPLAY_CRS, always_xy=True)
_NICE_LENGTHS_M = (50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10_000, 20_000)
# Offsets (in points) tried around a point label: right, left, above, below, diagonals.
_POINT_SPOTS = (
    (1, 0, "left", "center"),
    (-1, 0, "right", "center"),
    (0, 1, "center", "bottom"),
    (0, -1, "center", "top"),
    (0.8, 0.8, "left", "bottom"),
    (-0.8, 0.8, "right", "bottom"),
    (0.8, -0.8, "left", "top"),
    (-0.8, -0.8, "right", "top"),
)


def halo(width: float) -> list:
    """White outline behind text, so names stay readable over lines and fills."""
    return [patheffects.withStroke(linewidth=width, foreground="white")]


def set_view(ax: Axes, bounds: Sequence[float], *, pad_m: float) -> tuple[float, ...]:
    """Fit ``bounds`` (xmin, ymin, xmax, ymax, metres) plus ``pad_m`` into ``ax``.

    The shorter side is widened so the view has the axes' own aspect ratio: the map fills
    its frame and one metre has the same length across and up. Returns the view bounds.
    """
    xmin, ymin, xmax, ymax = bounds
    cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
    half_w, half_h = (xmax - xmin) / 2 + pad_m, (ymax - ymin) / 2 + pad_m
    box = ax.get_position()
    fig_w, fig_h = ax.figure.get_size_inches()
    ratio = (box.width * fig_w) / (box.height * fig_h)
    if half_w / half_h < ratio:
        half_w = half_h * ratio
    else:
        half_h = half_w / ratio
    ax.set_xlim(cx - half_w, cx + half_w)
    ax.set_ylim(cy - half_h, cy + half_h)
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xticks([])
    ax.set_yticks([])
    return cx - half_w, cy - half_h, cx + half_w, cy + half_h


def in_view(
    gdf: gpd.GeoDataFrame, view: Sequence[float], *, margin: float = 0.05, clip: bool = False
) -> gpd.GeoDataFrame:
    """Rows of ``gdf`` touching the view (grown by ``margin`` of its width).

    With ``clip`` the geometries are cut to that rectangle (fewer vertices in SVG/PDF);
    the margin keeps the cut edges outside the visible frame.
    """
    xmin, ymin, xmax, ymax = view
    grow = (xmax - xmin) * margin
    rect = (xmin - grow, ymin - grow, xmax + grow, ymax + grow)
    hits = gdf.iloc[np.sort(gdf.sindex.query(shapely.box(*rect)))]
    if clip and not hits.empty:
        cut = shapely.clip_by_rect(hits.geometry.values, *rect)
        hits = hits.set_geometry(gpd.GeoSeries(cut, index=hits.index, crs=hits.crs))
        hits = hits[~hits.geometry.is_empty]
    return hits


def add_polygons(ax: Axes, geoms, **style) -> PathCollection:
    """Draw (multi)polygons as one collection; one path per polygon, holes kept.

    geopandas' ``plot`` asks the canvas for a redraw each call (the whole figure on Agg),
    so the exports build their collections directly: one draw per saved figure.
    """
    parts, index = shapely.get_parts(np.asarray(geoms), return_index=True)
    paths = [
        Path.make_compound_path(
            *[Path(np.asarray(ring.coords), closed=True) for ring in (p.exterior, *p.interiors)]
        )
        for p in parts
    ]
    for key in ("facecolor", "edgecolor"):
        if key in style and not isinstance(style[key], str):
            style[key] = np.asarray(style[key], dtype=object)[index].tolist()
    collection = PathCollection(paths, transform=ax.transData, **style)
    ax.add_collection(collection, autolim=False)
    return collection


def add_lines(ax: Axes, geoms, **style) -> LineCollection:
    """Draw (multi)lines as one collection; per-feature ``colors`` follow their parts."""
    parts, index = shapely.get_parts(np.asarray(geoms), return_index=True)
    if "colors" in style and not isinstance(style["colors"], str):
        style["colors"] = np.asarray(style["colors"], dtype=object)[index].tolist()
    collection = LineCollection([np.asarray(p.coords) for p in parts], **style)
    ax.add_collection(collection, autolim=False)
    return collection


def points_per_metre(ax: Axes) -> float:
    """Display points per metre at the current view (for sizes given in metres)."""
    x0, x1 = ax.get_xlim()
    return ax.get_position().width * ax.figure.get_size_inches()[0] * 72 / (x1 - x0)


def draw_scale_bar(ax: Axes, *, scale: float, fraction: float = 0.22) -> None:
    """A two-tone bar in the lower left, a round length close to ``fraction`` of the width.

    Drawn in data coordinates: the axes are Lambert-93 metres with an equal aspect, so
    the bar's length on the page *is* its label.
    """
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    width, height = x1 - x0, y1 - y0
    length = max([n for n in _NICE_LENGTHS_M if n <= width * fraction] or [_NICE_LENGTHS_M[0]])
    bar_h = height * 0.011
    left, base = x0 + width * 0.03, y0 + height * 0.045
    ax.add_patch(
        Rectangle(
            (left - width * 0.012, base - height * 0.03),
            length + width * 0.05,
            height * 0.085,
            facecolor="white",
            alpha=0.85,
            edgecolor="none",
            zorder=40,
        )
    )
    for i in range(4):
        ax.add_patch(
            Rectangle(
                (left + i * length / 4, base),
                length / 4,
                bar_h,
                facecolor=INK if i % 2 == 0 else "white",
                edgecolor=INK,
                linewidth=0.8 * scale,
                zorder=41,
            )
        )
    for value in (0, length / 2, length):
        text = _length_label(value, unit=value == length, km=length >= 1000)
        ax.text(
            left + value,
            base + bar_h * 1.6,
            text,
            ha="center",
            va="bottom",
            fontsize=10 * scale,
            color=INK,
            family=FONT,
            zorder=42,
        )


def _length_label(metres: float, *, unit: bool, km: bool) -> str:
    """Scale tick label: metres below 1 km, else kilometres (French decimal comma)."""
    if km:
        value = fr_num(metres / 1000, 0 if metres % 1000 == 0 else 1)
        return f"{value} km" if unit else value
    return f"{metres:g} m" if unit else f"{metres:g}"


def true_north_angle(x: float, y: float) -> float:
    """Angle (degrees, counter-clockwise from grid north) of true north at (x, y) L93.

    Lambert-93's grid north leans away from the meridian away from 3° E (about half a
    degree over Paris); the arrow follows the meridian, as a north arrow should.
    """
    lon, lat = _TO_WGS84.transform(x, y)
    nx, ny = _TO_L93.transform(lon, lat + 0.01)
    return math.degrees(math.atan2(-(nx - x), ny - y))


def draw_north_arrow(ax: Axes, *, scale: float, at: tuple[float, float] = (0.955, 0.87)) -> None:
    """A half-filled arrow with "N", upper right, in axes coordinates (true north)."""
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    angle = math.radians(true_north_angle((x0 + x1) / 2, (y0 + y1) / 2))
    box = ax.get_position()
    fig_w, fig_h = ax.figure.get_size_inches()
    sx = 1.0 / (box.width * fig_w)  # axes units per inch, across and up
    sy = 1.0 / (box.height * fig_h)
    size = 0.45 * scale  # inches, tip to base
    cx, cy = at
    tip = (cx - math.sin(angle) * size * 0.5 * sx, cy + math.cos(angle) * size * 0.5 * sy)
    base = (cx + math.sin(angle) * size * 0.5 * sx, cy - math.cos(angle) * size * 0.5 * sy)
    wing = (math.cos(angle) * size * 0.28 * sx, math.sin(angle) * size * 0.28 * sy)
    notch = (cx + math.sin(angle) * size * 0.25 * sx, cy - math.cos(angle) * size * 0.25 * sy)
    left = (base[0] - wing[0], base[1] - wing[1])
    right = (base[0] + wing[0], base[1] + wing[1])
    common = {
        "transform": ax.transAxes,
        "zorder": 42,
        "edgecolor": INK,
        "linewidth": 1.0 * scale,
        "joinstyle": "miter",
    }
    ax.add_patch(Polygon([tip, left, notch], closed=True, facecolor=INK, **common))
    ax.add_patch(Polygon([tip, notch, right], closed=True, facecolor="white", **common))
    ax.text(
        tip[0],
        tip[1] + 0.012,
        "N",
        transform=ax.transAxes,
        ha="center",
        va="bottom",
        fontsize=15 * scale,
        fontweight="bold",
        color=INK,
        family=FONT,
        zorder=42,
        path_effects=halo(3 * scale),
    )


class LabelPlacer:
    """Place labels without overlaps, in priority order (first placed wins).

    ``boxes`` are hard obstacles (labels, markers, furniture): never overlapped. ``soft``
    ones (the lines) are avoided when a label has another spot, else accepted: a station
    name over its own line beats a station without a name.
    """

    def __init__(self, ax: Axes, *, pad_px: float = 2.0):
        self.ax = ax
        self.renderer = ax.figure.canvas.get_renderer()
        self.frame = ax.get_window_extent(self.renderer)
        self.boxes: list[Bbox] = []
        self.soft = np.empty((0, 2))  # display points along lines
        self.soft_half = 0.0
        self.pad = pad_px

    def block_lines(self, geoms, *, width_px: float, step_px: float = 10.0) -> None:
        """Softly reserve the path of lines (data coordinates), sampled every ``step_px``."""
        metres = step_px * (self.ax.get_xlim()[1] - self.ax.get_xlim()[0]) / self.frame.width
        dense = shapely.segmentize(np.asarray(geoms), metres)
        points = self.ax.transData.transform(shapely.get_coordinates(dense))
        self.soft = np.vstack([self.soft, points])
        self.soft_half = max(self.soft_half, width_px / 2)

    def block_points(self, xy: Iterable[tuple[float, float]], radius_pt: float) -> None:
        """Reserve discs (markers) of ``radius_pt`` points around data points."""
        r = radius_pt * self.ax.figure.dpi / 72
        for x, y in xy:
            px, py = self.ax.transData.transform((x, y))
            self.boxes.append(Bbox([[px - r, py - r], [px + r, py + r]]))

    def block_axes_box(self, x0: float, y0: float, x1: float, y1: float) -> None:
        """Reserve a rectangle given in axes fractions (scale bar, north arrow…)."""
        (ax0, ay0), (ax1, ay1) = self.ax.transAxes.transform([(x0, y0), (x1, y1)])
        self.boxes.append(Bbox([[ax0, ay0], [ax1, ay1]]))

    def fits(self, artist, *, soft: bool = False) -> bool:
        """Keep ``artist`` if its text box is inside the frame and free (of the soft
        obstacles too with ``soft``); reserve its box."""
        if isinstance(artist, Annotation):
            # The text alone: a callout's leader line may cross what it points at.
            artist.update_positions(self.renderer)
            box = Text.get_window_extent(artist, self.renderer).padded(self.pad)
        else:
            box = artist.get_window_extent(self.renderer).padded(self.pad)
        inside = (
            box.x0 >= self.frame.x0
            and box.x1 <= self.frame.x1
            and box.y0 >= self.frame.y0
            and box.y1 <= self.frame.y1
        )
        if not inside or (self.boxes and box.count_overlaps(self.boxes)):
            return False
        if soft and len(self.soft):
            h = self.soft_half
            x, y = self.soft[:, 0], self.soft[:, 1]
            if ((x > box.x0 - h) & (x < box.x1 + h) & (y > box.y0 - h) & (y < box.y1 + h)).any():
                return False
        self.boxes.append(box)
        return True

    def place_point_label(
        self,
        text: str,
        xy: tuple[float, float],
        *,
        offset_pt: float,
        spots: Sequence[tuple] = _POINT_SPOTS,
        **style,
    ) -> Annotation | None:
        """Try the label around ``xy`` (data) at ``offset_pt``; ``None`` if nowhere fits."""
        label = self.ax.annotate(
            text, xy=xy, xytext=(0, 0), textcoords="offset points", annotation_clip=False, **style
        )
        for soft in (True, False):
            for dx, dy, ha, va in spots:
                label.xyann = (dx * offset_pt, dy * offset_pt)
                label.set_horizontalalignment(ha)
                label.set_verticalalignment(va)
                if self.fits(label, soft=soft):
                    return label
        label.remove()
        return None

    def place_on_candidates(
        self,
        text: str,
        candidates: Iterable[tuple[float, float]],
        *,
        avoid_lines: bool = False,
        **style,
    ) -> Annotation | None:
        """Centre the label on the first candidate point (data) where it fits."""
        label = self.ax.annotate(
            text,
            xy=(0, 0),
            xytext=(0, 0),
            textcoords="offset points",
            ha="center",
            va="center",
            annotation_clip=False,
            **style,
        )
        candidates = list(candidates)
        for soft in (True, False) if avoid_lines else (False,):
            for xy in candidates:
                label.xy = xy
                if self.fits(label, soft=soft):
                    return label
        label.remove()
        return None


def points_along(line, view: Sequence[float], count: int = 9) -> list[tuple[float, float]]:
    """Candidate label spots along ``line`` inside ``view``, middle first."""
    inside = shapely.clip_by_rect(line, *view)
    if inside.is_empty or inside.length == 0:
        return []
    fractions = sorted(np.linspace(0.1, 0.9, count), key=lambda f: abs(f - 0.5))
    spots = [inside.interpolate(f, normalized=True) for f in fractions]
    return [(p.x, p.y) for p in spots]
