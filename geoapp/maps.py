"""Folium map builders: data in, ``folium.Map`` out.

Builders never query the database: the caller passes GeoDataFrames (Lambert-93) and
they are reprojected to WGS84 here, at the edge. Nothing from the data or from users
reaches a popup or tooltip without going through :func:`popup_html`/:func:`tooltip_text`:
folium inserts popup HTML raw (inside a JS template literal, where ``${…}`` runs), so we
never use folium popups; each feature carries pre-escaped strings that our small
``qmi-map.js`` binds with Leaflet.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable

import folium
import folium.plugins
import geopandas as gpd
import shapely
from branca.element import MacroElement
from folium.utilities import JsCode
from jinja2 import Template

from geoapp.analysis import DISPLAY_CRS
from geoapp.assets import AssetUrl, map_resources

ATTRIBUTION = ("IGN, INSEE, ANCT (Licence Ouverte) · Île-de-France Mobilités (ODbL) · "
               "périmètres indicatifs")
TILE_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
TILE_ATTRIBUTION = "Fond © OpenStreetMap"
DISTRICT_COLOUR = "#6a1b9a"
DISPLAY_GRID_DEG = 1e-5
CUT_STYLE = {"voie ferrée": {"weight": 5, "dashArray": None},
             "tramway": {"weight": 3, "dashArray": "6 4"}}
_BIND = JsCode("function(feature, layer) { QMI.bindFeature(feature, layer); }")


def blank(value: object) -> bool:
    """None, NaN (pandas' missing text) or an empty string."""
    return value is None or value == "" or (isinstance(value, float) and math.isnan(value))


def popup_html(title: str, rows: Iterable[tuple[str, object]] = (), *,
               link: tuple[str, str] | None = None, note: str | None = None) -> str:
    """The one place popup HTML is made: every value is escaped here."""
    parts = [f"<div class='qmi-popup'><strong>{html.escape(str(title))}</strong>"]
    items = [(k, v) for k, v in rows if not blank(v)]
    if items:
        parts.append("<dl>" + "".join(
            f"<dt>{html.escape(str(k))}</dt><dd>{html.escape(str(v))}</dd>" for k, v in items
        ) + "</dl>")
    if not blank(note):
        parts.append(f"<p class='qmi-note'>{html.escape(note)}</p>")
    if link:
        href, label = link
        parts.append(f"<a href='{html.escape(href, quote=True)}'>{html.escape(label)}</a>")
    return "".join(parts) + "</div>"


def tooltip_text(text: str) -> str:
    """Tooltip content: Leaflet sets it as HTML, so it is escaped like a popup."""
    return html.escape(str(text))


def new_map(bounds_gdf: gpd.GeoDataFrame, *, asset_url: AssetUrl, tiles: bool) -> folium.Map:
    """An empty map fitted to ``bounds_gdf``, loading JS/CSS from the app, not CDNs."""
    m = folium.Map(tiles=None, zoom_snap=0.25, prefer_canvas=False)
    m.default_js, m.default_css = map_resources(asset_url)
    if tiles:
        folium.TileLayer(TILE_URL, attr=TILE_ATTRIBUTION, name="Fond OpenStreetMap",
                         max_zoom=19).add_to(m)
    fullscreen = folium.plugins.Fullscreen(position="topleft", title="Plein écran",
                                           title_cancel="Quitter le plein écran")
    fullscreen.default_js, fullscreen.default_css = [], []  # served with the map's assets
    fullscreen.add_to(m)
    xmin, ymin, xmax, ymax = bounds_gdf.to_crs(DISPLAY_CRS).total_bounds
    # The attribution bar takes the bottom ~50 px: keep the data clear of it.
    m.fit_bounds([[ymin, xmin], [ymax, xmax]], padding_top_left=(20, 20),
                 padding_bottom_right=(20, 60))
    return m


def geojson_layer(gdf: gpd.GeoDataFrame, name: str, *, style: dict | None = None,
                  style_by: str | None = None, styles: dict | None = None,
                  show: bool = True, point_radius: int | None = None) -> folium.GeoJson:
    """A GeoJSON layer of ``gdf`` whose features carry ``popup``/``tooltip`` strings.

    ``style`` applies to every feature; ``style_by`` + ``styles`` pick a style per value
    of a column (kind, theme, status…); a ``color`` property wins. Points become circle
    markers of ``point_radius``.
    """
    data = gdf.to_crs(DISPLAY_CRS)
    # 1e-5 degree is about 1 m: plenty for display, and a third lighter pages.
    data = data.set_geometry(shapely.set_precision(data.geometry.values, DISPLAY_GRID_DEG))
    base = dict(style or {})

    def style_function(feature: dict) -> dict:
        props = feature["properties"]
        extra = (styles or {}).get(props.get(style_by), {}) if style_by else {}
        own = {"color": props["color"]} if props.get("color") else {}
        return {**base, **extra, **own}

    # folium's CircleMarker defaults to no fill; ours are filled discs.
    marker = folium.CircleMarker(radius=point_radius, fill=True) if point_radius else None
    return folium.GeoJson(data, name=name, style_function=style_function, show=show,
                          marker=marker, on_each_feature=_BIND, zoom_on_click=False)


def _annotated(gdf: gpd.GeoDataFrame, couche: str, popups: list[str], tooltips: list[str],
               **extra) -> gpd.GeoDataFrame:
    """Keep only what the browser needs: layer tag, escaped popup/tooltip, extra columns."""
    return gpd.GeoDataFrame({"couche": couche, "popup": popups, "tooltip": tooltips, **extra},
                            geometry=gdf.geometry.values, crs=gdf.crs)


def add_communes(m: folium.Map, communes: gpd.GeoDataFrame) -> None:
    """Light commune outlines for context, named on hover."""
    popups = [popup_html(r.nom, [("Code INSEE", r.code_insee), ("EPT", r.ept_nom)])
              for r in communes.itertuples()]
    layer = _annotated(communes, "commune", popups, [tooltip_text(n) for n in communes["nom"]])
    geojson_layer(layer, "Communes", style={"color": "#78909c", "weight": 1, "fill": True,
                                            "fillColor": "#eceff1", "fillOpacity": 0.35,
                                            "className": "qmi-commune"}).add_to(m)


def add_qpv(m: folium.Map, qpv: gpd.GeoDataFrame, *, show: bool = False) -> None:
    """Priority neighbourhoods (QPV 2024), off by default: context, not a perimeter."""
    popups = [popup_html(f"QPV {r.nom_qp}", [("Code", r.code_qp), ("Communes", r.communes)],
                         note="Quartier prioritaire de la politique de la ville, pas un "
                              "périmètre QMI.") for r in qpv.itertuples()]
    layer = _annotated(qpv, "qpv", popups, [tooltip_text(f"QPV {n}") for n in qpv["nom_qp"]])
    geojson_layer(layer, "Quartiers prioritaires (QPV 2024)", show=show,
                  style={"color": "#ef6c00", "weight": 1.5, "dashArray": "4 3",
                         "fillColor": "#ffb74d", "fillOpacity": 0.15,
                         "className": "qmi-qpv"}).add_to(m)


def district_popup(d) -> str:
    """Popup of a district row: facts, computed figures, and the perimeter caveat."""
    rows = [("Commune", f"{d.commune} ({d.code_dep})"), ("EPT", d.ept),
            ("Maire", d.maire), ("Population", f"{d.population:,} hab.".replace(",", " ")),
            ("Surface", f"{d.area_ha:.1f} ha".replace(".", ",")),
            ("Coupures cartographiées", d.cut_names or "aucune")]
    note = f"Périmètre {d.perimetre_source} : {d.regle}"
    return popup_html(f"{d.nom} — {d.commune}", rows, note=note,
                      link=(f"/quartiers/{d.slug}", "Ouvrir la fiche du quartier"))


def add_districts(m: folium.Map, districts: gpd.GeoDataFrame, *, navigate: bool) -> None:
    """The innovation districts; on the overview a click opens the district page."""
    popups = [district_popup(d) for d in districts.itertuples()]
    tips = [tooltip_text(f"{d.nom} ({d.commune}) — périmètre {d.perimetre_source}")
            for d in districts.itertuples()]
    urls = [f"/quartiers/{s}" if navigate else None for s in districts["slug"]]
    layer = _annotated(districts, "quartier", popups, tips, slug=districts["slug"].tolist(),
                       url=urls)
    geojson_layer(layer, "Quartiers d’innovation (périmètres indicatifs)",
                  style={"color": DISTRICT_COLOUR, "weight": 3, "fillColor": DISTRICT_COLOUR,
                         "fillOpacity": 0.22, "className": "qmi-district"}).add_to(m)


def add_cuts(m: folium.Map, cuts: gpd.GeoDataFrame) -> None:
    """Urban cuts (rail), coloured by line and styled by kind, named on hover."""
    labels = [f"{c.nom} — coupure {c.kind}" for c in cuts.itertuples()]
    popups = [popup_html(c.nom, [("Type de coupure", c.kind), ("Mode", c.mode)])
              for c in cuts.itertuples()]
    layer = _annotated(cuts, "coupure", popups, [tooltip_text(t) for t in labels],
                       kind=cuts["kind"].tolist(), color=cuts["couleur"].tolist())
    geojson_layer(layer, "Coupures urbaines (voies ferrées, tramway)", style_by="kind",
                  styles=CUT_STYLE, style={"opacity": 0.9,
                                           "className": "qmi-cut"}).add_to(m)


def add_cut_labels(m: folium.Map, corridors: gpd.GeoDataFrame) -> None:
    """Name each corridor once on the map ("RER B, TRAIN K"), midway along its line."""
    anchors = corridors.geometry.interpolate(0.5, normalized=True)
    names = [tooltip_text(n) for n in corridors["names"]]
    layer = _annotated(gpd.GeoDataFrame(geometry=anchors, crs=corridors.crs), "etiquette",
                       ["" for _ in names], ["" for _ in names], label=names)
    geojson_layer(layer, "Noms des coupures", point_radius=1,
                  style={"opacity": 0, "fillOpacity": 0}).add_to(m)


def add_stations(m: folium.Map, stations: gpd.GeoDataFrame) -> None:
    """Stations as small white discs, named with their lines."""
    popups = [popup_html(s.nom, [("Lignes", s.ligne)]) for s in stations.itertuples()]
    tips = [tooltip_text(f"{s.nom} ({s.ligne})") for s in stations.itertuples()]
    layer = _annotated(stations, "gare", popups, tips)
    geojson_layer(layer, "Gares et stations", point_radius=5,
                  style={"color": "#263238", "weight": 2, "fillColor": "#ffffff",
                         "fillOpacity": 1, "className": "qmi-station"}).add_to(m)


THEME_COLOURS = {
    "mobilité": "#1565c0",
    "nature en ville et îlots de fraîcheur": "#2e7d32",
    "énergie et bâti": "#f9a825",
    "déchets et économie circulaire": "#6d4c41",
    "commerce et attractivité": "#c2185b",
    "lien social et culture": "#7b1fa2",
    "espaces publics": "#00838f",
}
STATUS_STYLES = {
    "proposée": {"fillOpacity": 0.15, "dashArray": "3 3", "weight": 2},
    "sélectionnée": {"fillOpacity": 0.45, "weight": 2},
    "déployée": {"fillOpacity": 0.95, "weight": 2},
    "terminée": {"fillOpacity": 0.95, "weight": 4},
    "abandonnée": {"fillOpacity": 0.1, "dashArray": "1 4", "weight": 2},
}


def experiment_popup(e) -> str:
    """Popup of one experiment: everything typed by users is escaped by popup_html."""
    dates = " → ".join(d for d in (e.start_date, e.end_date) if not blank(d)) or "non renseignées"
    precision = "exacte" if e.precision == "exacte" else "indicative (site exact non publié)"
    return popup_html(e.title, [("Structure", f"{e.organisation} ({e.org_kind})"),
                                ("Thème", e.theme), ("Statut", e.status), ("Dates", dates),
                                ("Localisation", precision)],
                      note=e.location_note,
                      link=(f"/experimentations/{e.id}", "Voir la fiche de l’expérimentation"))


def add_experiments(m: folium.Map, experiments: gpd.GeoDataFrame) -> None:
    """Experiments coloured by theme, their status shown by fill and outline."""
    popups = [experiment_popup(e) for e in experiments.itertuples()]
    tips = [tooltip_text(f"{e.title} — {e.status}") for e in experiments.itertuples()]
    layer = _annotated(experiments, "experimentation", popups, tips,
                       id=experiments["id"].tolist(), status=experiments["status"].tolist(),
                       color=[THEME_COLOURS.get(t, "#455a64") for t in experiments["theme"]])
    geojson_layer(layer, "Expérimentations", point_radius=8, style_by="status",
                  styles=STATUS_STYLES, style={"weight": 2, "fillOpacity": 0.9,
                                               "className": "qmi-experiment"}).add_to(m)


SIDE_COLOURS = ("#4db6ac", "#ffb74d", "#9575cd", "#aed581", "#f06292", "#4fc3f7")
CROSSING_COLOURS = {"existant": "#2e7d32", "projeté": "#ef6c00"}


def add_sides(m: folium.Map, sides: gpd.GeoDataFrame) -> None:
    """Sides of the study area cut by the corridors, shaded one colour each."""
    popups = [popup_html(f"Côté n° {s.side_id}", [("Surface", f"{s.area_ha:.1f} ha")],
                         note="Partie de la zone d’étude (quartier + 500 m) délimitée par "
                              "les coupures.") for s in sides.itertuples()]
    tips = [tooltip_text(f"Côté n° {s.side_id} ({s.area_ha:.0f} ha)") for s in sides.itertuples()]
    colours = [SIDE_COLOURS[i % len(SIDE_COLOURS)] for i in range(len(sides))]
    layer = _annotated(sides, "cote", popups, tips, color=colours)
    geojson_layer(layer, "Côtés de la coupure (zone d’étude)",
                  style={"weight": 1, "opacity": 0.6, "fillOpacity": 0.18, "dashArray": "2 4",
                         "className": "qmi-side"}).add_to(m)


def add_crossings(m: folium.Map, crossings: gpd.GeoDataFrame) -> None:
    """Where walkers can cross a corridor: stations and crossings entered by planners."""
    popups = [popup_html(c.name if not blank(c.name) else c.kind.capitalize(),
                         [("Type", c.kind), ("Statut", c.status), ("Source", c.source)])
              for c in crossings.itertuples()]
    tips = [tooltip_text(f"Franchissement : {c.kind} ({c.status})"
                         + ("" if blank(c.name) else f" — {c.name}"))
            for c in crossings.itertuples()]
    layer = _annotated(crossings, "franchissement", popups, tips,
                       color=[CROSSING_COLOURS.get(st, "#455a64") for st in crossings["status"]])
    geojson_layer(layer, "Franchissements (gares, passerelles…)", point_radius=6,
                  style={"weight": 3, "fillColor": "#ffffff", "fillOpacity": 1,
                         "className": "qmi-crossing"}).add_to(m)


def finish(m: folium.Map) -> folium.Map:
    """Add the layer control, then hand the map to ``qmi-map.js``: both must come last.

    The control is collapsed (opens on hover or tap) so it never hides a district.
    """
    folium.LayerControl(collapsed=True).add_to(m)
    _Register().add_to(m)
    return m


class _Register(MacroElement):
    """Rendered after the map's own script and its layers: gives the map to qmi-map.js."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "QMI.register({{ this._parent.get_name() }}, {{ this.attribution|tojson }});"
        "{% endmacro %}")
    attribution = ATTRIBUTION


def build_overview_map(atlas, experiments: gpd.GeoDataFrame, *, asset_url: AssetUrl,
                       tiles: bool) -> folium.Map:
    """The Métropole context: the four districts, their cuts, stations and experiments."""
    m = new_map(atlas.districts, asset_url=asset_url, tiles=tiles)
    add_communes(m, atlas.layers["communes"])
    add_qpv(m, atlas.layers["qpv"])
    add_cuts(m, atlas.cuts)  # named on hover: at this scale labels would hide districts
    add_districts(m, atlas.districts, navigate=True)
    add_stations(m, atlas.stations)
    add_experiments(m, experiments)
    return finish(m)


def build_district_map(atlas, slug: str, experiments: gpd.GeoDataFrame, *,
                       asset_url: AssetUrl, tiles: bool, report=None) -> folium.Map:
    """One district zoomed to its perimeter, with the others still drawn for context.

    With a cut ``report`` (`geoapp.analysis.cut_report.CutReport`), the sides of the
    study area and the crossings are drawn too.
    """
    district = atlas.districts[atlas.districts["slug"] == slug]
    study = gpd.GeoDataFrame(geometry=[atlas.study_area(slug)], crs=district.crs)
    m = new_map(study, asset_url=asset_url, tiles=tiles)
    add_communes(m, atlas.layers["communes"])
    if report is not None:
        add_sides(m, report.study_sides)
    add_qpv(m, atlas.layers["qpv"], show=True)
    add_cuts(m, atlas.cuts)
    add_cut_labels(m, atlas.corridors[slug])
    add_districts(m, atlas.districts, navigate=False)
    add_stations(m, atlas.stations)
    if report is not None:
        add_crossings(m, report.crossings)
    add_experiments(m, experiments)
    return finish(m)


def map_parts(m: folium.Map) -> dict[str, str]:
    """Render a map into the three pieces our page templates embed."""
    root = m.get_root()
    root.render()
    return {"head": root.header.render(), "body": root.html.render(),
            "script": root.script.render()}
