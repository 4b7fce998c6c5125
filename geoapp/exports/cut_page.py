"""The urban cut in every export: its layers, its map, the sheet's page, the slide.

A district's cut (`geoapp.analysis.cut_report`: corridors, sides with slivers merged,
exposure, crossings, detours) and its best places to cross (`geoapp.analysis.best_sites`)
are measured once per export from the atlas and the scene's stored crossings
(`Scene.crossings`), exactly as the district page measures them, so a sheet, a slide, a
GeoPackage and the offline HTML carry the same figures as the site.

* :func:`cut_layers` — the four data layers (``corridors``, ``cotes``,
  ``franchissements``, ``meilleurs_sites``) with French field names, in EPSG:2154;
* :func:`draw_cut_map` / :func:`draw_cut_legend` — the cut view on a matplotlib axes:
  numbered sides, the cuts, existing crossings, projects and the best three sites;
* :func:`cut_sheet_page` — the district sheet's page on the cut, and
  :func:`cut_comparison` the programme's ranked comparison;
* :func:`render_cut_map` — the slide or A4 map of the cut view.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from geoapp.analysis import ANALYSIS_CRS
from geoapp.analysis.best_sites import BestSites
from geoapp.analysis.cut_report import (
    CutReport,
    headline,
    missing_cuts,
    report_best_sites,
)
from geoapp.exports.cartography import add_polygons
from geoapp.exports.layers import Drawn, draw_scene_map, line_label
from geoapp.exports.scene import Scene, stored_crossings
from geoapp.exports.style import FONT, INK, MUTED, STATION_EDGE
from geoapp.exports.typeset import MARGIN_IN, Column, Flow, wrap_lines
from geoapp.vocabulary import CROSSING_COLOURS, fr_num

# Pale fills that tell the sides apart (ColorBrewer Pastel1), then the side numbers.
SIDE_FILLS = ("#b3cde3", "#ccebc5", "#fed9a6", "#decbe4", "#fbb4ae", "#ffffcc", "#e5d8bd")
SIDE_INK = "#23415f"
ENTERED_COLOUR = CROSSING_COLOURS["existant"]  # a footbridge or underpass entered
PROJECT_COLOUR = CROSSING_COLOURS["projeté"]  # a proposed one
NETWORK_COLOUR = "#546e7a"  # a bridge or tunnel of the street network
SITE_COLOUR = "#fbc02d"  # the best places for a new crossing
CUT_PAD_M = 120.0
# What the straight-line model cannot see, said beside every figure it gives.
MODEL_LIMITS = (
    "Les détours sont estimés en ligne droite via le meilleur franchissement, sur une "
    "grille de 100 m : ce n’est pas un réseau de rues.",
    "Il ne voit ni le relief, ni les escaliers, ni les clôtures, ni le foncier, ni "
    "l’attente aux feux, et compte une gare comme un passage ouvert à tous, à toute "
    "heure : un site proposé est calculé, non décidé.",
)


@dataclass(frozen=True)
class CutView:
    """One district's measured cut, its best sites and its headline, for the exports."""

    slug: str
    report: CutReport
    best: BestSites
    headline: str
    missing: list[dict]

    @property
    def sites(self) -> gpd.GeoDataFrame:
        """The best sites with their before/after figures as columns (shares 0..1), the
        shape `geoapp.maps.add_best_sites` draws."""
        best = self.best
        return best.sites.assign(
            share_before=best.before.share_over_1_5,
            median_before=best.before.median,
            share_after=[a.share_over_1_5 for a in best.after],
            median_after=[a.median for a in best.after],
        )


# Per export, a programme sheet asks each district's cut several times (its page, the
# comparison, the layers): measured once, keyed by the atlas and crossings it came from.
_MEMO: dict[tuple[int, int, str], tuple[object, object, CutView]] = {}
_MEMO_MAX = 16


def cut_view(scene: Scene, slug: str) -> CutView:
    """District ``slug``'s cut measured with the scene's stored crossings (none if unset)."""
    key = (id(scene.atlas), id(scene.crossings), slug)
    known = _MEMO.get(key)
    if known and known[0] is scene.atlas and known[1] is scene.crossings:
        return known[2]
    atlas = scene.atlas
    stored = scene.crossings if scene.crossings is not None else stored_crossings([])
    report = atlas.cut_report(slug, stored[stored["district"] == slug])
    view = CutView(
        slug,
        report,
        report_best_sites(report, atlas.study_area(slug)),
        headline(report.detour, report.n_sides),
        missing_cuts(atlas.district(slug)["coupures"]),
    )
    if len(_MEMO) >= _MEMO_MAX:
        _MEMO.clear()
    _MEMO[key] = (scene.atlas, scene.crossings, view)
    return view


def cut_views(scene: Scene) -> list[CutView]:
    """The cut of every district the scene shows, in the atlas order."""
    return [cut_view(scene, slug) for slug in scene.districts["slug"]]


# Data layers ---------------------------------------------------------------------------


def crossing_category(crossings: pd.DataFrame) -> pd.Series:
    """``gare``, ``pont ou tunnel`` (street network), ``saisi`` or ``projet`` per row."""
    return pd.Series(
        np.select(
            [
                crossings["status"] == "projeté",
                crossings["source"] == "IDFM gares",
                crossings["source"] == "saisie",
            ],
            ["projet", "gare", "saisi"],
            "pont ou tunnel",
        ),
        index=crossings.index,
    )


def cut_layers(scene: Scene) -> dict[str, gpd.GeoDataFrame]:
    """The cut analysis as four layers in EPSG:2154, French field names, every row
    naming its ``quartier``: corridors, numbered sides, crossings, best sites."""
    corridors, sides, crossings, sites = [], [], [], []
    for view in cut_views(scene):
        report = view.report
        corridors.append(
            report.corridors.assign(quartier=view.slug).rename(
                columns={
                    "corridor_id": "corridor",
                    "kind": "type",
                    "names": "noms",
                    "length_in_m": "longueur_quartier_m",
                    "length_near_m": "longueur_500m_m",
                }
            )[
                [
                    "quartier",
                    "corridor",
                    "type",
                    "noms",
                    "longueur_quartier_m",
                    "longueur_500m_m",
                    "geometry",
                ]
            ]
        )
        sides.append(
            report.study_sides.assign(quartier=view.slug).rename(
                columns={"side_id": "cote", "area_ha": "surface_ha"}
            )[["quartier", "cote", "surface_ha", "geometry"]]
        )
        found = report.crossings
        crossings.append(
            gpd.GeoDataFrame(
                {
                    "quartier": view.slug,
                    "categorie": crossing_category(found),
                    "nom": found["name"],
                    "type": found["kind"],
                    "statut": found["status"],
                    "source": found["source"],
                    "corridor": found["corridor_id"].astype("Int64"),
                },
                geometry=found.geometry,
                crs=ANALYSIS_CRS,
            )
        )
        best = view.sites
        sites.append(
            gpd.GeoDataFrame(
                {
                    "quartier": view.slug,
                    "rang": best["rang"],
                    "corridor": best["corridor_id"],
                    "noms": best["names"],
                    "part_allongee_50_avant": best["share_before"].round(4),
                    "part_allongee_50_apres": best["share_after"].round(4),
                    "detour_median_avant": best["median_before"].round(3),
                    "detour_median_apres": best["median_after"].round(3),
                },
                geometry=best.geometry,
                crs=ANALYSIS_CRS,
            )
        )
    return {
        "corridors": _concat(corridors),
        "cotes": _concat(sides),
        "franchissements": _concat(crossings),
        "meilleurs_sites": _concat(sites),
    }


def _concat(frames: list[gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=ANALYSIS_CRS)


# The cut view on a map -----------------------------------------------------------------


def draw_cut_map(ax: Axes, scene: Scene, view: CutView, *, scale: float) -> Drawn:
    """The district's cut on ``ax``: the base map without experiments, the study area's
    sides in pale fills with their numbers, crossings by kind, and the best sites."""
    bare = dataclasses.replace(scene, experiments=scene.experiments.iloc[:0])
    report = view.report
    bounds = report.study_sides.total_bounds if len(report.study_sides) else None
    bounds = bounds if bounds is not None else scene.districts.total_bounds
    sites = view.best.sites
    drawn = draw_scene_map(
        ax,
        bare,
        bounds,
        scale=scale,
        pad_m=CUT_PAD_M,
        keep_clear=list(zip(sites.geometry.x, sites.geometry.y, strict=True)),
    )
    sides = report.study_sides
    fills = [SIDE_FILLS[(i - 1) % len(SIDE_FILLS)] for i in sides["side_id"]]
    add_polygons(ax, sides.geometry, facecolor=fills, edgecolor="none", alpha=0.55, zorder=6)
    for side, spot in zip(sides["side_id"], sides.geometry.representative_point(), strict=True):
        ax.text(
            spot.x,
            spot.y,
            str(side),
            ha="center",
            va="center",
            family=FONT,
            fontsize=15 * scale,
            fontweight="bold",
            color="white",
            zorder=37,
            bbox={
                "boxstyle": "circle,pad=0.35",
                "facecolor": SIDE_INK,
                "edgecolor": "white",
                "linewidth": 1.5 * scale,
            },
        )
    crossings = report.crossings.assign(_cat=crossing_category(report.crossings))
    for category, marker, colour in _CROSSING_MARKS:
        shown = crossings[crossings["_cat"] == category]
        if len(shown):
            ax.scatter(
                shown.geometry.x,
                shown.geometry.y,
                s=(9 * scale) ** 2,
                marker=marker,
                facecolor=colour if category != "projet" else "white",
                edgecolor=colour if category == "projet" else "white",
                linewidths=(2.4 if category == "projet" else 1.4) * scale,
                zorder=22,
            )
    _draw_sites(ax, view.best.sites, scale)
    return drawn


# (category, marker, colour); stations are the base map's white rings.
_CROSSING_MARKS = (
    ("saisi", "s", ENTERED_COLOUR),
    ("pont ou tunnel", "^", NETWORK_COLOUR),
    ("projet", "D", PROJECT_COLOUR),
)


def _draw_sites(ax: Axes, sites: gpd.GeoDataFrame, scale: float) -> None:
    """The best sites as gold discs numbered by rank, above everything else."""
    if sites.empty:
        return
    ax.scatter(
        sites.geometry.x,
        sites.geometry.y,
        s=(20 * scale) ** 2,
        marker="o",
        facecolor=SITE_COLOUR,
        edgecolor=INK,
        linewidths=1.8 * scale,
        zorder=40,
    )
    for rank, point in zip(sites["rang"], sites.geometry, strict=True):
        ax.text(
            point.x,
            point.y,
            str(rank),
            ha="center",
            va="center_baseline",
            family=FONT,
            fontsize=12 * scale,
            fontweight="bold",
            color=INK,
            zorder=41,
        )


def draw_cut_legend(
    ax: Axes, drawn: Drawn, view: CutView, scale: float, *, fontsize: float, columns: int = 1
) -> None:
    """The cut view's key on an empty axes: sides, each cut, crossings, best sites."""
    entries: list[tuple[object, str]] = [
        (
            Patch(facecolor=SIDE_FILLS[0], edgecolor=SIDE_INK, alpha=0.8),
            f"Côtés de la coupure (numérotés, {view.report.n_sides} dans la zone d’étude)",
        )
    ]
    for name, (colour, kind) in drawn.lines.items():
        style = (0, (3, 1.5)) if kind == "tramway" else "-"
        entries.append(
            (Line2D([], [], color=colour, linewidth=3.2 * scale, linestyle=style), line_label(name))
        )
    categories = set(crossing_category(view.report.crossings))
    entries.append((_mark("o", "white", STATION_EDGE, scale), "Gare ou station (franchissement)"))
    labels = {
        "saisi": "Franchissement saisi (passerelle, passage…)",
        "pont ou tunnel": "Pont ou tunnel du réseau de rues",
        "projet": "Franchissement en projet",
    }
    for category, marker, colour in _CROSSING_MARKS:
        if category in categories:
            face = "white" if category == "projet" else colour
            entries.append((_mark(marker, face, colour, scale), labels[category]))
    if len(view.best.sites):
        entries.append(
            (
                _mark("o", SITE_COLOUR, INK, scale, size=12),
                "Meilleurs sites pour un nouveau franchissement (rang)",
            )
        )
    ax.set_axis_off()
    legend = ax.legend(
        [h for h, _ in entries],
        [label for _, label in entries],
        loc="upper left",
        ncol=columns,
        frameon=False,
        prop={"family": FONT, "size": fontsize},
        handlelength=2.2,
        borderaxespad=0.0,
        labelcolor=INK,
    )
    legend.set_zorder(50)


def _mark(marker: str, face: str, edge: str, scale: float, *, size: float = 9) -> Line2D:
    return Line2D(
        [],
        [],
        linestyle="none",
        marker=marker,
        markersize=size * scale,
        markerfacecolor=face,
        markeredgecolor=edge,
        markeredgewidth=1.8 * scale,
    )


# Figures in words ----------------------------------------------------------------------


def percent(share: float) -> str:
    """A share (0..1) as French percent text, ``—`` when not measured."""
    return "—" if share is None or math.isnan(share) else f"{fr_num(100 * share, 0)} %"


def factor(value: float) -> str:
    """A detour factor (1.14) in French (``1,14``), ``—`` when not measured."""
    return "—" if value is None or math.isnan(value) else fr_num(value, 2)


def cut_names(names: str) -> str:
    """A corridor's joined line names (``RER B, TRAM 4``) as riders say them."""
    return ", ".join(line_label(n) for n in str(names).split(", ") if n)


def site_lines(view: CutView) -> list[str]:
    """One sentence per best site: the trips it would shorten, and where when the sites
    are on several corridors (else :func:`sites_corridor` names the one)."""
    before = view.best.before
    several = sites_corridor(view) is None
    return [
        (f"{cut_names(site.names)} — " if several else "") + "allongés > 50 % : "
        f"{percent(before.share_over_1_5)} → {percent(after.share_over_1_5)} ; "
        f"détour médian {factor(before.median)} → {factor(after.median)}."
        for site, after in zip(view.best.sites.itertuples(), view.best.after, strict=True)
    ]


def sites_corridor(view: CutView) -> str | None:
    """The lines of the one corridor all the best sites are on (``None`` if several)."""
    names = set(view.best.sites["names"])
    return cut_names(names.pop()) if len(names) == 1 else None


def detour_facts(view: CutView) -> list[tuple[str, str]]:
    """The detour and exposure figures as (label, value) rows."""
    report = view.report
    d, p = report.detour, report.detour_with_projects
    distances = " / ".join(str(m) for m in report.exposure)
    shares = " / ".join(fr_num(100 * v, 0) for v in report.exposure.values())
    exposure = f"{shares} % du quartier à < {distances} m"
    return [
        ("Côtés", f"{report.n_sides} (zone d’étude), {report.n_district_sides} (quartier)"),
        ("Trajets allongés > 50 %", percent(d.share_over_1_5)),
        ("Détour médian", f"{factor(d.median)} × la distance à vol d’oiseau"),
        ("1 trajet sur 10 au-delà de", f"{factor(d.p90)} ×"),
        (
            "Avec les projets",
            f"{percent(p.share_over_1_5)} allongés > 50 %, médian {factor(p.median)}",
        ),
        ("Exposition", exposure),
    ]


def blind_spots(view: CutView) -> list[str]:
    """What the model does not see: the cuts the data lacks, then the model's limits."""
    lines = [
        f"{c['nom']} ({c['type']}) : {c.get('note') or 'absente des données.'}"
        for c in view.missing
    ]
    network = view.report.detour_network
    if network is not None:
        lines.append(
            f"Sur le réseau de rues : détour médian {factor(network.median)}, "
            f"{percent(network.share_over_1_5)} allongés > 50 % "
            f"(ligne droite : {factor(network.straight_median)}, "
            f"{percent(network.straight_share_over_1_5)})."
        )
    return lines + list(MODEL_LIMITS)


# The sheet's page and the programme's comparison ---------------------------------------


def cut_sheet_page(flow: Flow, scene: Scene, *, scale: float) -> None:
    """The district sheet's page on the cut: map and key on the left; the headline, the
    figures, the best sites and what the model does not see on the right."""
    view = cut_view(scene, scene.target)
    flow.title, flow.kicker = scene.title, "La coupure urbaine"
    fig = flow.page()
    w, h = fig.get_size_inches()
    ax = fig.add_axes((MARGIN_IN / w, 1.75 / h, 6.6 / w, 1 - 2.95 / h))
    drawn = draw_cut_map(ax, scene, view, scale=scale)
    legend_ax = fig.add_axes((MARGIN_IN / w, 0.55 / h, 6.6 / w, 1.1 / h))
    draw_cut_legend(legend_ax, drawn, view, scale, fontsize=7.5, columns=2)
    flow.column = Column(MARGIN_IN + 6.9, w - 2 * MARGIN_IN - 6.9)
    flow.heading("En une phrase")
    flow.paragraph(view.headline, size=9.5)
    flow.heading("Détours et exposition")
    flow.facts(detour_facts(view), size=8, label_width=1.6)
    flow.heading("Où un franchissement aiderait le plus")
    lines = site_lines(view)
    corridor = sites_corridor(view)
    if corridor:
        flow.paragraph(f"Tous sur la coupure {corridor} :", size=8)
    for rank, line in enumerate(lines, 1):
        flow.paragraph(line, prefix=f"{rank}.", indent=0.2, size=8)
    if not lines:
        flow.paragraph("Aucun site ne raccourcit les trajets mesurés.", size=8.3, colour=MUTED)
    flow.heading("Ce que le modèle ne voit pas")
    for line in blind_spots(view):
        flow.paragraph(line, prefix="•", indent=0.16, size=7.2, colour=INK)


def comparison_rows(scene: Scene) -> list[list[str]]:
    """The districts ranked by the headline measure (most cut off first): name, headline,
    share, median, sides, existing crossings, data completeness (the cuts it lacks)."""
    views = sorted(cut_views(scene), key=lambda v: -_share_or_zero(v))
    rows = []
    for rank, view in enumerate(views, 1):
        d = view.report.detour
        missing = ", ".join(c["nom"] for c in view.missing)
        rows.append(
            [
                f"{rank}. {scene.atlas.district(view.slug)['nom']}",
                view.headline,
                percent(d.share_over_1_5),
                factor(d.median),
                str(view.report.n_sides),
                fr_num(int((view.report.crossings["status"] == "existant").sum()), 0),
                f"incomplètes : manquent {missing}" if missing else "complètes",
            ]
        )
    return rows


def _share_or_zero(view: CutView) -> float:
    share = view.report.detour.share_over_1_5
    return 0.0 if math.isnan(share) else share


def cut_comparison(flow: Flow, scene: Scene) -> None:
    """A page ranking the programme's districts by the share of long detours, with the
    headline of each; rows whose data lack a named cut are marked « incomplètes »."""
    flow.title, flow.kicker = "Les coupures urbaines comparées", "Programme QMI"
    flow.page()
    flow.heading("Quel quartier est le plus coupé ?")
    flow.table(
        (
            "Quartier",
            "En une phrase",
            "Allongés > 50 %",
            "Détour médian",
            "Côtés",
            "Franchis.",
            "Données",
        ),
        (0.14, 0.36, 0.10, 0.10, 0.06, 0.08, 0.16),
        comparison_rows(scene),
        size=8,
    )
    flow.paragraph(
        "Classés par la part des trajets d’un côté à l’autre allongés de plus de 50 % "
        "(en ligne droite via le meilleur franchissement existant, sur une grille de 100 m "
        "couvrant le quartier et 500 m autour). Franchis. : franchissements existants "
        "(gares, ponts, passerelles saisies). « Incomplètes » : une coupure citée par le "
        "programme manque aux données, le quartier est plus coupé que ne le disent ses chiffres.",
        colour=MUTED,
        size=8,
    )
    for line in MODEL_LIMITS:
        flow.paragraph(line, prefix="•", indent=0.16, size=8, colour=MUTED)


# The slide or A4 map of the cut view ---------------------------------------------------


def draw_cut_layout(fig: Figure, scene: Scene, scale: float) -> None:
    """A slide or A4 page of the cut view: the map on the left; the headline, figures,
    best sites, key and blind spots on the right (the page frame is drawn already)."""
    view = cut_view(scene, scene.target)
    ax = fig.add_axes((0.02, 0.085, 0.655, 0.80))
    drawn = draw_cut_map(ax, scene, view, scale=scale)
    width_in = 0.27 * fig.get_figwidth()
    y = 0.885
    y = _block(fig, "La coupure en une phrase", view.headline, y, width_in, scale, size=12)
    figures = detour_facts(view)[1:4]
    text = "\n".join(f"{label} : {value}" for label, value in figures)
    y = _block(fig, "Détours", text, y, width_in, scale)
    y = _block(
        fig,
        "Meilleurs sites pour franchir",
        "\n".join(
            ([f"Sur la coupure {sites_corridor(view)} :"] if sites_corridor(view) else [])
            + [f"{i}. {line}" for i, line in enumerate(site_lines(view), 1)]
        )
        or "Aucun site ne raccourcit les trajets mesurés.",
        y,
        width_in,
        scale,
    )
    legend_ax = fig.add_axes((0.70, 0.14, 0.28, max(0.05, y - 0.16)))
    draw_cut_legend(legend_ax, drawn, view, scale, fontsize=10 * scale)
    missing = ", ".join(c["nom"] for c in view.missing)
    note = (f"Absentes des données : {missing}. " if missing else "") + MODEL_LIMITS[0]
    fig.text(
        0.70,
        0.135,
        _wrap(note, width_in, 8.5 * scale),
        fontsize=8.5 * scale,
        color=MUTED,
        va="top",
        family=FONT,
    )


def _block(
    fig: Figure, title: str, body: str, y: float, width_in: float, scale: float, *, size: float = 10
) -> float:
    """A heading and wrapped text at figure height ``y`` (0..1); returns the next ``y``."""
    fig.text(
        0.70, y, title, fontsize=12 * scale, fontweight="bold", color=INK, va="top", family=FONT
    )
    y -= 0.035
    text = "\n".join(_wrap(part, width_in, size * scale) for part in body.split("\n"))
    fig.text(
        0.70, y, text, fontsize=size * scale, color=INK, va="top", family=FONT, linespacing=1.3
    )
    lines = text.count("\n") + 1
    return y - lines * size * scale * 1.3 / 72 / fig.get_figheight() - 0.03


def _wrap(text: str, width_in: float, fontsize: float) -> str:
    return "\n".join(wrap_lines(text, width_in, fontsize))


__all__ = [
    "CutView",
    "cut_comparison",
    "cut_layers",
    "cut_sheet_page",
    "cut_view",
    "draw_cut_layout",
    "draw_cut_map",
]
