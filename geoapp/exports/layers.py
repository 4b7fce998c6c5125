"""Draw the atlas layers of a :class:`~geoapp.exports.scene.Scene` on a matplotlib axes.

Shared by the static maps and the district sheets. Order, bottom to top: communes, the
district(s), the cuts (rail/tram lines, white casing + IDFM line colour, trams dashed;
roads such as the N118 in their layer colour), stations,
experiments (coloured by theme, numbered; a line or an area is drawn at its real place
under its numbered marker, which stays at the anchor), then labels placed by priority: line badges,
station names, commune names. Returns what was drawn so the legend lists exactly that.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from matplotlib.axes import Axes
from matplotlib.colors import to_rgba

from geoapp.analysis.cuts import KIND_BY_MODE
from geoapp.exports.cartography import (
    LabelPlacer,
    add_lines,
    add_polygons,
    draw_north_arrow,
    draw_scale_bar,
    halo,
    in_view,
    points_along,
    points_per_metre,
    set_view,
)
from geoapp.exports.scene import Scene, places
from geoapp.exports.style import (
    BRAND,
    COMMUNE_EDGE,
    COMMUNE_FILL,
    COMMUNE_FILL_OUTSIDE,
    COMMUNE_HOME_FILL,
    DISTRICT_FILL,
    FONT,
    INK,
    MUTED,
    RAIL_CONTEXT,
    STATION_EDGE,
    text_colour_on,
)
from geoapp.shapes import PLACE_KINDS
from geoapp.vocabulary import THEME_COLOURS, THEMES

_REGIONS = {"HAUTS-DE-FRANCE": "Hauts-de-France", "GRAND-EST": "Grand Est"}


@dataclass
class Drawn:
    """What a map shows, for its legend: line name -> (colour, kind), themes, stations."""

    lines: dict[str, tuple[str, str]] = field(default_factory=dict)
    themes: list[str] = field(default_factory=list)
    stations: int = 0
    experiments: int = 0
    context_rail: bool = False
    # The place kinds drawn beyond points: "ligne" and/or "zone" (the legend explains them).
    kinds: set[str] = field(default_factory=set)


def line_label(name: str) -> str:
    """IDFM line name -> the name riders know: ``TRAM 6`` -> ``Tram T6``, ``TRAIN K`` ->
    ``Transilien K``, ``TER HAUTS-DE-FRANCE`` -> ``TER Hauts-de-France``."""
    head, _, rest = name.partition(" ")
    if head == "TRAM":
        return f"Tram T{rest}"
    if head == "TRAIN":
        return f"Transilien {rest}"
    if head == "TER" and rest:
        return f"TER {_REGIONS.get(rest, rest.title())}"
    return name


def draw_scene_map(
    ax: Axes,
    scene: Scene,
    bounds,
    *,
    scale: float,
    pad_m: float,
    detail: str = "full",
    furniture: bool = True,
    keep_clear: list[tuple[float, float]] | None = None,
) -> Drawn:
    """Draw ``scene`` on ``ax`` around ``bounds`` (L93 metres) and return what is shown.

    ``keep_clear``: points (L93) that markers drawn afterwards will cover (the cut view's
    best sites); no label is placed over them.

    ``detail`` is ``"full"`` (every label), ``"compact"`` (inset panels: line badges and
    the district's stations only) or ``"overview"`` (whole Métropole: no stations, small
    experiment dots, context rail in grey).
    """
    view = set_view(ax, bounds, pad_m=pad_m)
    ax.set_facecolor("white")
    ax.set_xlabel("")
    ax.set_ylabel("")
    for spine in ax.spines.values():
        spine.set_edgecolor(COMMUNE_EDGE)
        spine.set_linewidth(0.8 * scale)
    drawn = Drawn()
    _communes(ax, scene, view, scale)
    districts = in_view(scene.atlas.districts, view)
    add_polygons(
        ax,
        districts.geometry,
        facecolor=DISTRICT_FILL,
        edgecolor=BRAND,
        linewidth=2.4 * scale,
        zorder=5,
    )
    lines = _lines(ax, scene, view, scale, overview=detail == "overview")
    stations = gpd.GeoDataFrame() if detail == "overview" else _stations(ax, scene, view, scale)
    experiments = _experiments(
        ax, scene, view, _marker_scale(scene, view, scale, detail), numbered=detail != "overview"
    )
    drawn.lines = {
        n: (c, k)
        for n, c, k in lines[["nom", "couleur", "kind"]]
        .drop_duplicates("nom")
        .sort_values("nom")
        .itertuples(index=False)
    }
    drawn.stations, drawn.experiments = len(stations), len(experiments)
    drawn.kinds = set(places(experiments).geom_type.map(PLACE_KINDS).dropna()) - {"point"}
    drawn.context_rail = detail == "overview"
    drawn.themes = [t for t in THEMES if t in set(experiments.get("theme", []))]
    if furniture:
        draw_scale_bar(ax, scale=scale)
        draw_north_arrow(ax, scale=scale)
    _labels(
        ax,
        scene,
        view,
        scale,
        detail=detail,
        furniture=furniture,
        lines=lines,
        stations=stations,
        experiments=experiments,
        keep_clear=keep_clear or [],
    )
    return drawn


def _labels(
    ax: Axes,
    scene: Scene,
    view,
    scale: float,
    *,
    detail: str,
    furniture: bool,
    lines,
    stations,
    experiments,
    keep_clear: list[tuple[float, float]],
) -> None:
    """Names by priority, none over another: line badges, stations, then communes."""
    placer = LabelPlacer(ax, pad_px=2 * scale)
    placer.block_points(keep_clear, 22 * scale)
    if furniture:  # the scale bar (lower left) and the north arrow (upper right)
        placer.block_axes_box(0.0, 0.0, 0.32, 0.14)
        placer.block_axes_box(0.92, 0.80, 1.0, 0.96)
    _block_markers(placer, stations, experiments, scale, numbered=detail != "overview")
    if len(lines):
        placer.block_lines(lines.geometry, width_px=5 * scale * ax.figure.dpi / 72)
    if detail != "overview":
        _label_lines(placer, lines, view, scene, scale)
        _label_stations(placer, stations, scene, scale, compact=detail == "compact")
    if detail == "full":
        _label_communes(placer, scene, view, scale)


def _communes(ax: Axes, scene: Scene, view, scale: float) -> None:
    communes = in_view(scene.atlas.layers["communes"], view, clip=True)
    home = set(scene.districts["code_insee"])
    fill = np.where(
        communes["code_insee"].isin(home),
        COMMUNE_HOME_FILL,
        np.where(communes["mgp"].astype(bool), COMMUNE_FILL, COMMUNE_FILL_OUTSIDE),
    )
    add_polygons(
        ax,
        communes.geometry,
        facecolor=fill,
        edgecolor=COMMUNE_EDGE,
        linewidth=0.7 * scale,
        zorder=1,
    )


def _lines(ax: Axes, scene: Scene, view, scale: float, *, overview: bool) -> gpd.GeoDataFrame:
    """The cuts: surface rail and tram lines and the declared roads (`Atlas.cuts`), cased
    in white, trams dashed."""
    if overview:
        # At the Métropole's scale lines are context, thin and grey: their colours and
        # names are in the district panels, where each cut is readable. All surface rail
        # of the view, not only the cuts near the districts.
        rail = scene.atlas.layers["rail"]
        rail = in_view(rail[rail["mode"].isin(KIND_BY_MODE)], view, clip=True)
        rail = rail.assign(kind=rail["mode"].map(KIND_BY_MODE), nom=rail["ligne"])
        add_lines(ax, rail.geometry, colors=RAIL_CONTEXT, linewidths=1.0 * scale, zorder=8)
        return rail.iloc[:0]
    rail = in_view(scene.atlas.cuts, view, clip=True)
    width = 3.6 * scale
    trams = rail["kind"] == "tramway"
    add_lines(ax, rail.geometry, colors="white", linewidths=width + 2.4 * scale, zorder=9)
    add_lines(
        ax,
        rail.geometry[~trams],
        colors=rail.loc[~trams, "couleur"],
        linewidths=width,
        zorder=11,
        capstyle="butt",
    )
    add_lines(
        ax,
        rail.geometry[trams],
        colors=rail.loc[trams, "couleur"],
        linewidths=width * 0.8,
        linestyles=(0, (3, 1.5)),
        zorder=10,
    )
    return rail


def _stations(ax: Axes, scene: Scene, view, scale: float) -> gpd.GeoDataFrame:
    stations = in_view(scene.atlas.stations, view, margin=-0.01)
    ax.scatter(
        stations.geometry.x,
        stations.geometry.y,
        s=(8 * scale) ** 2,
        marker="o",
        facecolor="white",
        edgecolor=STATION_EDGE,
        linewidths=1.8 * scale,
        zorder=20,
    )
    return stations


# A compact panel (the programme's insets) showing more numbered markers than this draws
# them smaller, so neighbours overlap less and every number stays readable.
CROWDED_PANEL = 15
CROWDED_FACTOR = 0.78


def _marker_scale(scene: Scene, view, scale: float, detail: str) -> float:
    """``scale`` for the experiment markers: smaller in a crowded compact panel."""
    if detail != "compact" or len(scene.experiments) <= CROWDED_PANEL:
        return scale
    shown = in_view(scene.experiments, view, margin=-0.01)
    return scale * CROWDED_FACTOR if len(shown) > CROWDED_PANEL else scale


def _experiments(ax: Axes, scene: Scene, view, scale: float, *, numbered: bool) -> gpd.GeoDataFrame:
    """Experiment markers by theme; coincident points are spread on a small ring."""
    exps = (
        in_view(scene.experiments, view, margin=-0.01)
        if len(scene.experiments)
        else scene.experiments
    )
    if exps.empty:
        return exps
    draw_places(ax, exps, scale)
    radius_pt = (10 if numbered else 5) * scale
    xy = _spread(exps, 1.25 * radius_pt / points_per_metre(ax))
    colours = [THEME_COLOURS.get(t, MUTED) for t in exps["theme"]]
    ax.scatter(
        xy[:, 0],
        xy[:, 1],
        s=(2 * radius_pt) ** 2,
        c=colours,
        edgecolors="white",
        linewidths=1.6 * scale,
        zorder=25,
    )
    if numbered:
        for (x, y), number, colour in zip(xy, exps["numero"], colours, strict=True):
            ax.text(
                x,
                y,
                str(number),
                ha="center",
                va="center_baseline",
                family=FONT,
                fontsize=(9 if number < 10 else 7.5) * scale,
                fontweight="bold",
                color=text_colour_on(colour),
                zorder=26,
            )
    return exps.assign(_x=xy[:, 0], _y=xy[:, 1])


def draw_places(ax: Axes, exps: gpd.GeoDataFrame, scale: float, *, outline: bool = False) -> None:
    """Draw the lines and areas of ``exps`` in their theme colours; points are left to
    the markers.

    An area is a light fill (30 % of its colour) with an edge in full colour, over the
    district's fill and under the cuts, so a rail line crossing it stays readable; a line
    is a stroke with a white casing over the cuts (like them, it is a route) and under
    stations and markers. ``outline``: thin edges and strokes without fill, over the
    hexagons of an aggregated map (:mod:`geoapp.exports.density`).
    """
    geometries = places(exps)
    kind = geometries.geom_type.to_numpy()
    colours = np.array([THEME_COLOURS.get(t, MUTED) for t in exps["theme"]], dtype=object)
    lines, areas = kind == "LineString", kind == "Polygon"
    if areas.any():
        faces = "none" if outline else [to_rgba(c, 0.3) for c in colours[areas]]
        add_polygons(
            ax,
            geometries[areas],
            facecolor=faces,
            edgecolor=colours[areas].tolist(),
            linewidth=(1.0 if outline else 1.8) * scale,
            zorder=9.5 if outline else 6,
        )
    if lines.any():
        width = (1.4 if outline else 3.4) * scale
        if not outline:
            add_lines(
                ax, geometries[lines], colors="white", linewidths=width + 2.4 * scale, zorder=13
            )
        add_lines(
            ax,
            geometries[lines],
            colors=colours[lines].tolist(),
            linewidths=width,
            capstyle="round",
            joinstyle="round",
            zorder=9.6 if outline else 14,
        )


def _spread(points: gpd.GeoDataFrame, radius_m: float) -> np.ndarray:
    """Marker positions: points sharing a spot (same metre) are set around a ring."""
    xy = np.column_stack([points.geometry.x, points.geometry.y])
    keys = pd.Series(list(map(tuple, np.round(xy)))).astype(str)
    rank = keys.groupby(keys).cumcount().to_numpy()
    size = keys.map(keys.value_counts()).to_numpy()
    angle = 2 * np.pi * rank / np.maximum(size, 1) + np.pi / 2
    ring = np.where(size > 1, radius_m, 0.0)
    return xy + np.column_stack([np.cos(angle) * ring, np.sin(angle) * ring])


def _block_markers(
    placer: LabelPlacer, stations, experiments, scale: float, *, numbered: bool
) -> None:
    if len(stations):
        placer.block_points(zip(stations.geometry.x, stations.geometry.y, strict=True), 8 * scale)
    if len(experiments):
        placer.block_points(
            zip(experiments["_x"], experiments["_y"], strict=True), (11 if numbered else 6) * scale
        )


def _label_lines(
    placer: LabelPlacer, lines: gpd.GeoDataFrame, view, scene: Scene, scale: float
) -> None:
    """One badge per line name, in the line's colour, on the line where it fits,
    as close to the district as possible (that is where the line is a cut)."""
    if lines.empty:
        return
    merged = lines.dissolve(by="nom", aggfunc={"couleur": "first"})
    merged = merged.assign(_len=merged.length).sort_values("_len", ascending=False)
    focus = scene.districts.geometry.union_all()
    for name, row in merged.iterrows():
        spots = sorted(
            points_along(row.geometry, view, count=15),
            key=lambda xy: focus.distance(shapely.Point(xy)),
        )
        placer.place_on_candidates(
            line_label(name),
            spots,
            fontsize=10 * scale,
            fontweight="bold",
            family=FONT,
            color=text_colour_on(row["couleur"]),
            zorder=35,
            bbox={
                "boxstyle": "round,pad=0.3",
                "facecolor": row["couleur"],
                "edgecolor": "white",
                "linewidth": 1.2 * scale,
            },
        )


def _label_stations(
    placer: LabelPlacer, stations, scene: Scene, scale: float, *, compact: bool
) -> None:
    if stations.empty:
        return
    area = scene.districts.geometry.union_all().buffer(150)
    inside = stations.intersects(area)
    ordered = pd.concat([stations[inside], stations[~inside]]) if not compact else stations[inside]
    for row in ordered.itertuples():
        placer.place_point_label(
            row.nom,
            (row.geometry.x, row.geometry.y),
            offset_pt=11 * scale,
            fontsize=(10 if not compact else 9.5) * scale,
            color=INK,
            family=FONT,
            fontweight="bold",
            zorder=34,
            path_effects=halo(3 * scale),
        )


def _label_communes(placer: LabelPlacer, scene: Scene, view, scale: float) -> None:
    """Commune names in small grey capitals, only where a good share of it is in view."""
    communes = in_view(scene.atlas.layers["communes"], view, clip=True, margin=0.0)
    view_area = (view[2] - view[0]) * (view[3] - view[1])
    communes = communes[communes.area > 0.06 * view_area]
    home = communes["code_insee"].isin(set(scene.districts["code_insee"]))
    communes = pd.concat([communes[home], communes[~home]])
    # Names go beside the districts, never over them: the fill belongs to the district.
    districts = scene.atlas.districts.geometry.union_all().buffer((view[2] - view[0]) * 0.03)
    for row in communes.itertuples():
        room = row.geometry.difference(districts)
        if room.is_empty:
            continue
        inner = room.buffer(-(view[2] - view[0]) * 0.05)
        spot = (inner if not inner.is_empty else room).representative_point()
        spots = [(spot.x, spot.y)] + (
            [] if inner.is_empty else points_along(inner.boundary, view, count=8)
        )
        placer.place_on_candidates(
            row.nom.upper(),
            spots,
            avoid_lines=True,
            fontsize=9.5 * scale,
            color=MUTED,
            family=FONT,
            fontstyle="italic",
            zorder=6,
            path_effects=halo(2.5 * scale),
        )
