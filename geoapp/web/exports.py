"""Downloads of every export, for one district or the programme, with the page's filters.

``/exports/<slug|all>.<suffix>`` where the suffix names the format (``png``, ``svg``,
``pdf``, ``fiche.pdf``, ``html``, ``gpkg``, ``geojson``, ``csv``, ``kml``). Query
parameters: ``taille`` (``diapo`` | ``a4``), ``crs`` (``2154`` | ``4326``, GeoPackage),
``theme``, ``statut`` and, for ``all``, ``quartier`` — the filters of the page the user is
on, so the file shows what the page shows. Bad parameters give a French 4xx page.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request, url_for

from geoapp.errors import GeoappError
from geoapp.exports import ALL, BY_SUFFIX, FORMATS, ExportCache, make_export
from geoapp.web.context import get_atlas, get_store

bp = Blueprint("exports", __name__, url_prefix="/exports")

FILTER_PARAMS = ("theme", "statut", "quartier")
# Menu entries: (format key, extra query parameters, French label).
MENU = [
    ("png", {"taille": "diapo"}, "Image pour diapositive (PNG 1920×1080)"),
    ("png", {"taille": "a4"}, "Image A4 paysage (PNG 300 dpi)"),
    ("pdf", {"taille": "a4"}, "Carte A4 vectorielle (PDF)"),
    ("svg", {"taille": "diapo"}, "Carte vectorielle (SVG)"),
    ("fiche", {}, "Fiche quartier (PDF A4)"),
    ("html", {}, "Carte interactive hors ligne (HTML)"),
    ("gpkg", {"crs": "2154"}, "GeoPackage Lambert-93 (EPSG:2154)"),
    ("gpkg", {"crs": "4326"}, "GeoPackage WGS84 (EPSG:4326)"),
    ("geojson", {}, "GeoJSON (WGS84)"),
    ("csv", {}, "Expérimentations pour Excel (CSV)"),
    ("kml", {}, "KML (Google Earth)"),
]


@bp.get("/<name>")
def download(name: str):
    """One export as an attachment, built on demand and cached by data version."""
    target, _, suffix = name.partition(".")
    fmt = BY_SUFFIX.get(suffix)
    if fmt is None:
        raise GeoappError(
            f"Format d’export inconnu : « {suffix or name} ». Formats "
            "possibles : " + ", ".join(BY_SUFFIX) + ".",
            404,
        )
    args = request.args
    export = make_export(
        get_atlas(),
        get_store(),
        target=target,
        fmt=fmt.key,
        size=args.get("taille"),
        crs=args.get("crs"),
        theme=args.get("theme") or None,
        status=args.get("statut") or None,
        district=(args.get("quartier") or None) if target == ALL else None,
        cache=ExportCache(current_app.config.get("EXPORT_CACHE_DIR")),
    )
    # content_type, not mimetype: werkzeug appends "; charset=utf-8" to a text/* mimetype,
    # and ours already carry it (the header ended with it twice).
    response = Response(export.data, content_type=export.mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    response.headers["Cache-Control"] = "no-cache"
    return response


def export_links(target: str, filters: dict | None = None) -> list[dict]:
    """The menu's links for ``target`` (slug or ``all``), each keeping ``filters``.

    ``filters`` maps query names (``theme``, ``statut``, ``quartier``) to values; by default
    they are read from the current request, so the menu follows the page's filters.
    """
    source = request.args if filters is None else filters
    kept = {k: source.get(k) for k in FILTER_PARAMS if source.get(k)}
    if target != ALL:
        kept.pop("quartier", None)
    links = []
    for key, extra, label in MENU:
        fmt = FORMATS[key]
        if key == "fiche" and target == ALL:
            label = "Fiche programme : les quatre quartiers (PDF A4)"
        url = url_for("exports.download", name=f"{target}.{fmt.suffix}", **extra, **kept)
        links.append(
            {"url": url, "label": label, "format": key, "extension": fmt.extension.upper()}
        )
    return links


@bp.app_context_processor
def _menu_helpers() -> dict:
    return {"export_links": export_links}
