"""The map search's index: the names a planner may type, and where each one is.

Communes, districts and stations come from the atlas, experiments from the store (the
map's columns, withdrawn ones never included). The browser searches the index itself
(`geoapp/static/js/qmi-search.js`: accent- and case-insensitive, no geocoder, works
offline), so the server only says what each name is and where to zoom: a WGS84 box for
areas, a point for stations and experiments. Experiments, which may be 100 000, carry
their id rather than a link (``url_experimentation`` + id is their page) and a short
detail, so the index stays small.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import geopandas as gpd

from geoapp.analysis import DISPLAY_CRS

# The columns of every entry, in the order the JSON lists them.
COLUMNS = ("type", "nom", "detail", "lat", "lon", "emprise", "url", "id")
# Kinds of entries, as the search box names them.
KINDS = {
    "quartier": "Quartier",
    "commune": "Commune",
    "gare": "Gare",
    "experimentation": "Expérimentation",
}
DEGREE_DIGITS = 5  # about 1 m: enough to zoom to
Link = Callable[..., str]


def _boxes(gdf: gpd.GeoDataFrame) -> list[list[list[float]]]:
    """Each feature's WGS84 box as Leaflet takes it: [[south, west], [north, east]]."""
    bounds = gdf.geometry.to_crs(DISPLAY_CRS).bounds.round(DEGREE_DIGITS)
    return [[[b.miny, b.minx], [b.maxy, b.maxx]] for b in bounds.itertuples()]


def _points(gdf: gpd.GeoDataFrame) -> list[tuple[float, float]]:
    """Each point's WGS84 (lat, lon)."""
    points = gdf.geometry.to_crs(DISPLAY_CRS)
    return list(zip(points.y.round(DEGREE_DIGITS), points.x.round(DEGREE_DIGITS), strict=True))


def _area_entries(kind: str, gdf, names, details, urls) -> list[list]:
    boxes = _boxes(gdf)
    return [
        [kind, name, detail, None, None, box, url, None]
        for name, detail, box, url in zip(names, details, boxes, urls, strict=True)
    ]


def search_entries(atlas, experiments: Mapping[str, Sequence], *, link: Link) -> dict[str, object]:
    """The index: ``{"colonnes": COLUMNS, "types": KINDS, "url_experimentation": …,
    "entrees": [[...], ...]}``; ``detail`` says where or what (the commune of a district,
    a station's lines, an experiment's theme and status), the kind is ``types[type]``.

    Parameters
    ----------
    atlas : Atlas
        Districts, communes (``layers["communes"]``) and stations, in Lambert-93.
    experiments : mapping of column -> list
        The store's map columns (``id``, ``lon``, ``lat``, ``theme``, ``status``,
        ``title``) of the experiments to list: never the withdrawn ones.
    link : callable
        Flask's ``url_for``: districts and experiments link to their pages.
    """
    districts = atlas.districts
    communes = atlas.layers["communes"]
    stations = atlas.stations
    entries = _area_entries(
        "quartier",
        districts,
        districts["nom"],
        districts["commune"],
        [link("pages.district", slug=s) for s in districts["slug"]],
    )
    entries += _area_entries(
        "commune",
        communes,
        communes["nom"],
        [f"département {d}" for d in communes["code_dep"]],
        [None] * len(communes),
    )
    entries += [
        ["gare", name, lines, lat, lon, None, None, None]
        for name, lines, (lat, lon) in zip(
            stations["nom"], stations["ligne"], _points(stations), strict=True
        )
    ]
    entries += [
        [
            "experimentation",
            title,
            f"{theme}, {status}",
            round(float(lat), DEGREE_DIGITS),
            round(float(lon), DEGREE_DIGITS),
            None,
            None,
            int(i),
        ]
        for i, title, theme, status, lon, lat in zip(
            experiments["id"],
            experiments["title"],
            experiments["theme"],
            experiments["status"],
            experiments["lon"],
            experiments["lat"],
            strict=True,
        )
    ]
    return {
        "colonnes": list(COLUMNS),
        "types": KINDS,
        "url_experimentation": link("experiments.registry") + "/",
        "entrees": entries,
    }
