"""Map builders: data in, a :class:`MapView` out (a folium skeleton + the layers as data).

Builders never query the database: the caller passes GeoDataFrames (Lambert-93) and
they are reprojected to WGS84 here, at the edge.

Folium only builds the skeleton (the Leaflet map, tiles, full-screen button), and no text
from the data or from users ever goes into it: branca compiles every rendered script as a
new Jinja template, so a title like ``{{ 7*7 }}`` would run on the server. The layers
travel beside the skeleton as plain JSON (``MapView.data``, embedded by the page in a
``<script type="application/json">`` block); ``qmi-map.js`` draws them and builds popups,
tooltips and labels with ``textContent``, so user text is never markup either.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import folium
import folium.plugins
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from jinja2 import Template

from geoapp.analysis import DISPLAY_CRS
from geoapp.assets import AssetUrl, map_resources
from geoapp.shapes import from_stored, rounded
from geoapp.vocabulary import (
    CROSSING_COLOURS,
    CUT_STYLES,
    DISTRICT_COLOUR,
    PRECISION_LABELS,
    SIDE_COLOURS,
    STATUS_STYLES,
    STATUSES,
    THEME_COLOURS,
    THEMES,
    fr_num,
)

ATTRIBUTION = (
    "IGN, INSEE, ANCT (Licence Ouverte) · Île-de-France Mobilités, OpenStreetMap (ODbL) · "
    "périmètres indicatifs"
)
TILE_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
TILE_ATTRIBUTION = "Fond © OpenStreetMap"
DISPLAY_GRID_DEG = 1e-5
MAX_ZOOM = 19  # the tiles' deepest; the map keeps it without tiles (qmi-map.js sets it)
# From these zooms the map names communes and stations (a district spans zoom ~15-16).
COMMUNE_NAMES_ZOOM = 13
STATION_NAMES_ZOOM = 15

Link = Callable[..., str]
"""``link(endpoint, **values) -> url`` (Flask's ``url_for``); ``None`` for offline files."""


@dataclass
class MapView:
    """A folium skeleton and the layers drawn on it, as JSON-ready data."""

    figure: folium.Map
    layers: list[dict] = field(default_factory=list)
    sources_url: str | None = None

    @property
    def data(self) -> dict:
        """What ``qmi-map.js`` reads: layers in drawing order and the attribution."""
        return {
            "layers": self.layers,
            "attribution": ATTRIBUTION,
            "sources_url": self.sources_url,
            "max_zoom": MAX_ZOOM,
        }


def blank(value: object) -> bool:
    """None, NaN (pandas' missing text) or an empty string."""
    return value is None or value == "" or (isinstance(value, float) and math.isnan(value))


def popup(
    title: object,
    rows: Iterable[tuple[str, object]] = (),
    *,
    link: tuple[str, str] | None = None,
    note: object = None,
) -> dict:
    """A popup as plain data: ``qmi-map.js`` builds its DOM with ``textContent``.

    Values are kept as text (never markup, never template source); blank rows are
    dropped. ``link`` is ``(href, label)`` with an href the app built.
    """
    return {
        "title": str(title),
        "rows": [[str(k), str(v)] for k, v in rows if not blank(v)],
        "note": None if blank(note) else str(note),
        "link": {"href": link[0], "label": link[1]} if link else None,
    }


def new_map(
    bounds_gdf: gpd.GeoDataFrame, *, asset_url: AssetUrl | None, tiles: bool, link: Link | None
) -> MapView:
    """An empty map fitted to ``bounds_gdf``, loading JS/CSS from the app, not CDNs.

    With ``asset_url=None`` the skeleton lists no JS/CSS at all (the offline export
    inlines them itself).
    """
    # One canvas draws every shape: 100 000 experiments stay smooth, and a single
    # renderer means no layer's surface covers another's clicks.
    m = folium.Map(tiles=None, zoom_snap=0.25, prefer_canvas=True)
    m.default_js, m.default_css = map_resources(asset_url) if asset_url else ([], [])
    if tiles:
        folium.TileLayer(
            TILE_URL, attr=TILE_ATTRIBUTION, name="Fond OpenStreetMap", max_zoom=MAX_ZOOM
        ).add_to(m)
    fullscreen = folium.plugins.Fullscreen(
        position="topleft", title="Plein écran", title_cancel="Quitter le plein écran"
    )
    fullscreen.default_js, fullscreen.default_css = [], []  # served with the map's assets
    fullscreen.add_to(m)
    xmin, ymin, xmax, ymax = bounds_gdf.to_crs(DISPLAY_CRS).total_bounds
    # The attribution bar takes the bottom ~50 px: keep the data clear of it.
    m.fit_bounds(
        [[ymin, xmin], [ymax, xmax]], padding_top_left=(20, 20), padding_bottom_right=(20, 60)
    )
    _Register().add_to(m)
    return MapView(m, sources_url=link("pages.sources") if link else None)


def add_layer(
    view: MapView,
    gdf: gpd.GeoDataFrame,
    key: str,
    name: str,
    *,
    style: dict | None = None,
    style_by: str | None = None,
    styles: dict | None = None,
    show: bool = True,
    point_radius: int | None = None,
) -> None:
    """Add ``gdf`` (with ``couche``, ``popup``, ``tooltip``… columns) as a layer's data.

    ``key`` names the layer for scripts and permalinks (``QMI.overlays[key]``), ``name``
    for people (the layer control).

    ``style`` applies to every feature; ``style_by`` + ``styles`` pick a style per value
    of a column (kind, theme, status…); a ``color`` property wins. Points become filled
    circle markers of ``point_radius`` pixels.
    """
    data = gdf.to_crs(DISPLAY_CRS)
    # 1e-5 degree is about 1 m: plenty for display, and a third lighter pages.
    data = data.set_geometry(shapely.set_precision(data.geometry.values, DISPLAY_GRID_DEG))
    view.layers.append(
        {
            "key": key,
            "name": name,
            "show": show,
            "style": style or {},
            "style_by": style_by,
            "styles": styles or {},
            "point_radius": point_radius,
            "features": data.to_geo_dict(drop_id=True),
        }
    )


def _annotated(
    gdf: gpd.GeoDataFrame,
    couche: str,
    popups: list[dict | None],
    tooltips: list[str | None],
    **extra,
) -> gpd.GeoDataFrame:
    """Keep only what the browser needs: layer tag, popup data, tooltip text, extras."""
    return gpd.GeoDataFrame(
        {"couche": couche, "popup": popups, "tooltip": tooltips, **extra},
        geometry=gdf.geometry.values,
        crs=gdf.crs,
    )


def add_communes(view: MapView, communes: gpd.GeoDataFrame) -> None:
    """Light commune outlines for context, named on hover."""
    popups = [
        popup(r.nom, [("Code INSEE", r.code_insee), ("EPT", r.ept_nom)])
        for r in communes.itertuples()
    ]
    layer = _annotated(communes, "commune", popups, [str(n) for n in communes["nom"]])
    add_layer(
        view,
        layer,
        "communes",
        "Communes",
        style={
            "color": "#78909c",
            "weight": 1,
            "fill": True,
            "fillColor": "#eceff1",
            "fillOpacity": 0.35,
            "className": "qmi-commune",
        },
    )


def add_qpv(view: MapView, qpv: gpd.GeoDataFrame, *, show: bool = False) -> None:
    """Priority neighbourhoods (QPV 2024), off by default: context, not a perimeter."""
    popups = [
        popup(
            f"QPV {r.nom_qp}",
            [("Code", r.code_qp), ("Communes", r.communes)],
            note="Quartier prioritaire de la politique de la ville, pas un périmètre QMI.",
        )
        for r in qpv.itertuples()
    ]
    layer = _annotated(qpv, "qpv", popups, [f"QPV {n}" for n in qpv["nom_qp"]])
    add_layer(
        view,
        layer,
        "qpv",
        "Quartiers prioritaires (QPV 2024)",
        show=show,
        style={
            "color": "#ef6c00",
            "weight": 1.5,
            "dashArray": "4 3",
            "fillColor": "#ffb74d",
            "fillOpacity": 0.15,
            "className": "qmi-qpv",
        },
    )


def district_popup(d, link: Link | None) -> dict:
    """Popup of a district row: facts, computed figures, and the perimeter caveat."""
    rows = [
        ("Commune", f"{d.commune} ({d.code_dep})"),
        ("EPT", d.ept),
        ("Maire", d.maire),
        ("Population", f"{fr_num(d.population, 0)} hab."),
        ("Surface", f"{fr_num(d.area_ha)} ha"),
        ("Coupures cartographiées", d.cut_names or "aucune"),
    ]
    note = f"Périmètre {d.perimetre_source} : {d.regle}"
    target = (link("pages.district", slug=d.slug), "Ouvrir la fiche du quartier") if link else None
    return popup(f"{d.nom} — {d.commune}", rows, note=note, link=target)


def add_districts(
    view: MapView, districts: gpd.GeoDataFrame, *, navigate: bool, link: Link | None
) -> None:
    """The innovation districts; on the overview a click opens the district page."""
    popups = [district_popup(d, link) for d in districts.itertuples()]
    tips = [
        f"{d.nom} ({d.commune}) — périmètre {d.perimetre_source}" for d in districts.itertuples()
    ]
    urls = (
        {"url": [link("pages.district", slug=s) for s in districts["slug"]]}
        if navigate and link
        else {}
    )
    layer = _annotated(districts, "quartier", popups, tips, slug=districts["slug"].tolist(), **urls)
    add_layer(
        view,
        layer,
        "quartiers",
        "Quartiers d’innovation (périmètres indicatifs)",
        style={
            "color": DISTRICT_COLOUR,
            "weight": 3,
            "fillColor": DISTRICT_COLOUR,
            "fillOpacity": 0.22,
            "className": "qmi-district",
        },
    )


def add_cuts(view: MapView, cuts: gpd.GeoDataFrame) -> None:
    """Urban cuts (rail), coloured by line and styled by kind, named on hover."""
    labels = [f"{c.nom} — coupure {c.kind}" for c in cuts.itertuples()]
    popups = [
        popup(c.nom, [("Type de coupure", c.kind), ("Mode", c.mode)]) for c in cuts.itertuples()
    ]
    layer = _annotated(
        cuts, "coupure", popups, labels, kind=cuts["kind"].tolist(), color=cuts["couleur"].tolist()
    )
    add_layer(
        view,
        layer,
        "coupures",
        "Coupures urbaines (voies ferrées, tramway)",
        style_by="kind",
        styles=CUT_STYLES,
        style={"opacity": 0.9, "className": "qmi-cut"},
    )


def add_labels(
    view: MapView,
    anchors: gpd.GeoSeries,
    texts: Iterable[object],
    key: str,
    name: str,
    *,
    min_zoom: float | None = None,
    below: bool = False,
) -> None:
    """Name places on the map itself, so it reads without tiles (offline, ``TILES=0``).

    Each text is a permanent label centred on its anchor point. A ``min_zoom`` layer shows
    only from that zoom on (commune and station names would cover the overview) and is
    left out of the layer control: the zoom decides, not the user. ``below`` hangs the
    name under its anchor, clear of the experiments' bubbles drawn on it.
    """
    names = [str(t) for t in texts]
    layer = _annotated(
        gpd.GeoDataFrame(geometry=anchors.values, crs=anchors.crs),
        "etiquette",
        [None for _ in names],
        [None for _ in names],
        label=names,
    )
    add_layer(
        view,
        layer,
        key,
        name,
        point_radius=1,
        style={"opacity": 0, "fillOpacity": 0, "interactive": False},
    )
    view.layers[-1].update(min_zoom=min_zoom, label_class=f"qmi-label-{key}", label_below=below)


def add_cut_labels(view: MapView, corridors: gpd.GeoDataFrame) -> None:
    """Name each corridor once on the map ("RER B, TRAIN K"), midway along its line."""
    anchors = corridors.geometry.interpolate(0.5, normalized=True)
    add_labels(view, anchors, corridors["names"], "etiquettes", "Noms des coupures")


def add_place_names(view: MapView, atlas) -> None:
    """District names always; commune names from zoom 13, station names from zoom 15."""
    districts = atlas.districts
    add_labels(
        view,
        districts.representative_point(),
        districts["nom"],
        "noms-quartiers",
        "Noms des quartiers",
        below=True,
    )
    communes = atlas.layers["communes"]
    add_labels(
        view,
        communes.representative_point(),
        communes["nom"],
        "noms-communes",
        "Noms des communes",
        min_zoom=COMMUNE_NAMES_ZOOM,
    )
    stations = atlas.stations
    add_labels(
        view,
        stations.geometry,
        stations["nom"],
        "noms-gares",
        "Noms des gares",
        min_zoom=STATION_NAMES_ZOOM,
    )


def add_stations(view: MapView, stations: gpd.GeoDataFrame) -> None:
    """Stations as small white discs, named with their lines."""
    popups = [popup(s.nom, [("Lignes", s.ligne)]) for s in stations.itertuples()]
    tips = [f"{s.nom} ({s.ligne})" for s in stations.itertuples()]
    layer = _annotated(stations, "gare", popups, tips)
    add_layer(
        view,
        layer,
        "gares",
        "Gares et stations",
        point_radius=5,
        style={
            "color": "#263238",
            "weight": 2,
            "fillColor": "#ffffff",
            "fillOpacity": 1,
            "className": "qmi-station",
        },
    )


def experiment_popup(e: Mapping, link: Link | None) -> dict:
    """Popup of one experiment (a store row or a frame record): every value stays text,
    whatever users typed."""
    dates = " → ".join(str(e[k]) for k in ("start_date", "end_date") if not blank(e[k]))
    target = (
        (
            link("experiments.detail", experiment_id=int(e["id"])),
            "Voir la fiche de l’expérimentation",
        )
        if link
        else None
    )
    return popup(
        e["title"],
        [
            ("Structure", f"{e['organisation']} ({e['org_kind']})"),
            ("Thème", e["theme"]),
            ("Statut", e["status"]),
            ("Dates", dates or "non renseignées"),
            ("Localisation", PRECISION_LABELS.get(e["precision"], e["precision"])),
        ],
        note=e["location_note"],
        link=target,
    )


def experiment_points(columns: Mapping[str, Sequence], popups: list[dict] | None = None) -> dict:
    """The experiments as a map draws them: one list per column, WGS84 degrees rounded to
    1e-5 (about 1 m), theme and status as indexes into the vocabulary lists (-1: unknown).

    Columns, not features: 100 000 experiments weigh a few megabytes of JSON instead of
    tens, and the browser builds its markers from them with no GeoJSON parsing. Details
    load when a popup opens, except offline (``popups`` inline, one per experiment).
    """
    payload = {
        "themes": THEMES,
        "colours": [THEME_COLOURS[t] for t in THEMES],
        "statuses": STATUSES,
        "id": [int(i) for i in columns["id"]],
        "lon": np.round(np.asarray(columns["lon"], dtype=float), 5).tolist(),
        "lat": np.round(np.asarray(columns["lat"], dtype=float), 5).tolist(),
        "theme": pd.Categorical(columns["theme"], categories=THEMES).codes.tolist(),
        "status": pd.Categorical(columns["status"], categories=STATUSES).codes.tolist(),
        "title": [str(t) for t in columns["title"]],
        "shape": map_shapes(columns.get("shape", [None] * len(columns["id"]))),
    }
    if popups is not None:
        payload["popups"] = popups
    return payload


def map_shapes(values: Sequence) -> list[dict | None]:
    """The lines and areas of experiments as a map draws them: GeoJSON geometries (WGS84)
    with coordinates rounded to `geoapp.shapes.DECIMALS`, None for a point.

    ``values`` hold GeoJSON text (the store's column), geometry dicts or None, aligned
    with the experiments' ids. Points are the rule: only the shapes are parsed, rounded
    in one vectorised pass and written back.
    """
    values = np.asarray(list(values), dtype=object)
    present = np.flatnonzero(pd.notna(values) & (values != ""))
    shapes: list[dict | None] = [None] * len(values)
    if present.size:
        geometries = rounded(from_stored(values[present]))
        for i, text in zip(present, shapely.to_geojson(geometries), strict=True):
            shapes[i] = json.loads(text)
    return shapes


def frame_points(experiments: gpd.GeoDataFrame, link: Link | None) -> dict:
    """`experiment_points` of a frame of experiments (Lambert-93), popups inline."""
    lonlat = experiments.geometry.to_crs(DISPLAY_CRS)
    records = experiments.drop(columns="geometry").to_dict("records")
    columns = {
        "id": experiments["id"],
        "lon": lonlat.x,
        "lat": lonlat.y,
        "theme": experiments["theme"],
        "status": experiments["status"],
        "title": experiments["title"],
    }
    if "shape" in experiments:
        columns["shape"] = experiments["shape"]
    return experiment_points(columns, [experiment_popup(r, link) for r in records])


def add_experiment_points(view: MapView, points: dict | None) -> None:
    """Experiments filled with their theme colour, their status shown by fill and outline,
    clustered at low zoom. ``points=None``: the page fetches them (``data-experiments``)."""
    view.layers.append(
        {
            "key": "experimentations",
            "name": "Expérimentations",
            "show": True,
            "kind": "experiments",
            "style": {"radius": 7, "weight": 2, "fillOpacity": 0.9},
            "styles": STATUS_STYLES,
            "points": points,
        }
    )


def add_sides(view: MapView, sides: gpd.GeoDataFrame) -> None:
    """Sides of the study area cut by the corridors, shaded one colour each."""
    popups = [
        popup(
            f"Côté n° {s.side_id}",
            [("Surface", f"{fr_num(s.area_ha)} ha")],
            note="Partie de la zone d’étude (quartier + 500 m) délimitée par les coupures.",
        )
        for s in sides.itertuples()
    ]
    tips = [f"Côté n° {s.side_id} ({fr_num(s.area_ha, 0)} ha)" for s in sides.itertuples()]
    colours = [SIDE_COLOURS[i % len(SIDE_COLOURS)] for i in range(len(sides))]
    layer = _annotated(sides, "cote", popups, tips, color=colours)
    add_layer(
        view,
        layer,
        "cotes",
        "Côtés de la coupure (zone d’étude)",
        style={
            "weight": 1,
            "opacity": 0.6,
            "fillOpacity": 0.18,
            "dashArray": "2 4",
            "className": "qmi-side",
        },
    )
    add_labels(
        view,
        sides.representative_point(),
        [f"côté n° {n}" for n in sides["side_id"]],
        "numeros-cotes",
        "Numéros des côtés",
    )


def add_crossings(view: MapView, crossings: gpd.GeoDataFrame) -> None:
    """Where walkers can cross a corridor: stations and crossings entered by planners."""
    popups = [
        popup(
            c.name if not blank(c.name) else c.kind.capitalize(),
            [("Type", c.kind), ("Statut", c.status), ("Source", c.source)],
        )
        for c in crossings.itertuples()
    ]
    tips = [
        f"Franchissement : {c.kind} ({c.status})" + ("" if blank(c.name) else f" — {c.name}")
        for c in crossings.itertuples()
    ]
    layer = _annotated(
        crossings,
        "franchissement",
        popups,
        tips,
        color=[CROSSING_COLOURS.get(st, "#455a64") for st in crossings["status"]],
    )
    add_layer(
        view,
        layer,
        "franchissements",
        "Franchissements (gares, passerelles…)",
        point_radius=6,
        style={"weight": 3, "fillColor": "#ffffff", "fillOpacity": 1, "className": "qmi-crossing"},
    )


def add_best_sites(view: MapView, sites: gpd.GeoDataFrame) -> None:
    """The best places for one more crossing (`geoapp.analysis.best_sites`), numbered by
    rank, with the share of long detours and the median before and after. ``sites``:
    points with ``rang``, ``names``, ``share_before``, ``share_after``, ``median_before``
    and ``median_after`` (shares 0..1)."""

    def pct(x: float) -> str:
        return "—" if blank(x) else f"{fr_num(100 * x, 0)} %"

    popups = [
        popup(
            f"Site n° {s.rang} proposé pour un franchissement",
            [
                ("Coupure", s.names),
                (
                    "Trajets allongés de plus de 50 %",
                    f"{pct(s.share_before)} → {pct(s.share_after)}",
                ),
                ("Détour médian", f"{fr_num(s.median_before, 2)} → {fr_num(s.median_after, 2)}"),
            ],
            note="Calculé, non décidé : le modèle ne voit ni le relief ni le foncier.",
        )
        for s in sites.itertuples()
    ]
    # The rank is a permanent label (a hover tooltip would replace it): the popup tells more.
    labels = [f"n° {r}" for r in sites["rang"]]
    layer = _annotated(sites, "meilleur_site", popups, [None] * len(sites), label=labels)
    add_layer(
        view,
        layer,
        "meilleurs_sites",
        "Meilleurs sites pour un franchissement",
        point_radius=9,
        style={
            "color": "#ad1457",
            "weight": 3,
            "fillColor": "#f8bbd0",
            "fillOpacity": 1,
            "className": "qmi-best-site",
        },
    )


class _Register(MacroElement):
    """Rendered after the map's own script: hands the map to ``qmi-map.js``.

    The template is a literal and renders only folium's generated variable name, so the
    skeleton carries no text from data or users.
    """

    _template = Template(
        "{% macro script(this, kwargs) %}QMI.register({{ this._parent.get_name() }});{% endmacro %}"
    )


def build_overview_map(
    atlas,
    experiments: gpd.GeoDataFrame | None,
    *,
    asset_url: AssetUrl | None,
    tiles: bool,
    link: Link | None,
) -> MapView:
    """The Métropole context: the four districts, their cuts, stations and experiments.

    ``experiments=None`` leaves the experiments to the page's data endpoint: the map is
    then the same for every filter and every data version, so it is built once.
    """
    view = new_map(atlas.districts, asset_url=asset_url, tiles=tiles, link=link)
    add_communes(view, atlas.layers["communes"])
    add_qpv(view, atlas.layers["qpv"])
    add_cuts(view, atlas.cuts)  # named on hover: at this scale labels would hide districts
    add_districts(view, atlas.districts, navigate=True, link=link)
    add_stations(view, atlas.stations)
    add_place_names(view, atlas)
    add_experiment_points(view, None if experiments is None else frame_points(experiments, link))
    return view


def build_district_map(
    atlas,
    slug: str,
    experiments: gpd.GeoDataFrame | None,
    *,
    asset_url: AssetUrl | None,
    tiles: bool,
    link: Link | None,
    report=None,
    best_sites=None,
) -> MapView:
    """One district zoomed to its perimeter, with the others still drawn for context.

    With a cut ``report`` (`geoapp.analysis.cut_report.CutReport`), the sides of the
    study area and the crossings are drawn too; ``best_sites`` (see `add_best_sites`)
    marks the best places for a new crossing.
    """
    district = atlas.districts[atlas.districts["slug"] == slug]
    study = gpd.GeoDataFrame(geometry=[atlas.study_area(slug)], crs=district.crs)
    view = new_map(study, asset_url=asset_url, tiles=tiles, link=link)
    add_communes(view, atlas.layers["communes"])
    if report is not None:
        add_sides(view, report.study_sides)
    add_qpv(view, atlas.layers["qpv"], show=True)
    add_cuts(view, atlas.cuts)
    add_cut_labels(view, atlas.corridors[slug])
    add_districts(view, atlas.districts, navigate=False, link=link)
    add_stations(view, atlas.stations)
    if report is not None:
        add_crossings(view, report.crossings)
    if best_sites is not None:
        add_best_sites(view, best_sites)
    add_place_names(view, atlas)
    add_experiment_points(view, None if experiments is None else frame_points(experiments, link))
    return view


def map_parts(view: MapView) -> dict[str, object]:
    """The pieces a page embeds: the map's div, its script, and the layers as data.

    Folium's header is not used: the page links the JS/CSS itself (``MAP_JS``/``MAP_CSS``)
    and its only inline script (Leaflet switches) would need a CSP nonce.
    """
    m = view.figure
    root = m.get_root()
    root.render()
    return {
        "body": root.html.render(),
        "script": root.script.render(),
        "data": view.data,
        "js": [url for _, url in m.default_js],
        "css": [url for _, url in m.default_css],
    }
