"""Web layer: thin blueprints over `geoapp.web.context`, one error handler, French pages.

Blueprints (``pages``, ``api``, ``experiments``, ``photos``, ``cuts``, ``exports``,
``auth``, ``assets``) import shared helpers from `geoapp.web.context` and never from each other.
"""

from __future__ import annotations

import numpy as np
from flask import Flask, g, jsonify, render_template, request
from flask.json.provider import DefaultJSONProvider
from flask_compress import Compress
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from geoapp import vocabulary
from geoapp.errors import GeoappError
from geoapp.web.context import SQLITE_MAX_INT, get_store

_HTTP_MESSAGES = {
    400: "La requête est incorrecte.",
    403: "Vous n’avez pas le droit de faire cela.",
    404: "Cette page n’existe pas.",
    405: "Méthode non autorisée pour cette adresse.",
    413: "Le fichier envoyé est trop volumineux.",
    500: "Une erreur interne est survenue.",
}


class IdConverter(IntegerConverter):
    """``<id:…>``: a stored row id, 1 to `SQLITE_MAX_INT` in ASCII digits.

    Anything else does not match the route (a French 404): a larger number would make
    SQLite raise ``OverflowError``, and thousands of digits make ``int()`` raise.
    """

    regex = r"[0-9]{1,19}"

    def __init__(self, map, *args, **kwargs):
        super().__init__(map, min=1, max=SQLITE_MAX_INT)


def render_error(message: str, status: int, details: dict | None = None):
    """Render one error as JSON for ``/api/`` and as a French HTML page elsewhere."""
    if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
        return jsonify({"erreur": message, "statut": status, **(details or {})}), status
    return render_template(
        "errors/error.html", message=message, status=status, details=details or {}
    ), status


class NumpyJSONProvider(DefaultJSONProvider):
    """JSON that also takes numpy scalars, which pandas hands out from every frame."""

    @staticmethod
    def default(o):
        if isinstance(o, np.generic):
            return o.item()
        return DefaultJSONProvider.default(o)


def register(app: Flask) -> None:
    """Attach the hooks, the blueprints, the template helpers and the one error handler."""
    from geoapp.web import api, assets, auth, cuts, experiments, exports, pages, photos, registry_io
    from geoapp.web.security import frame_embeds, init_security, isolate_exports

    init_security(app)  # first: its nonce exists before any other hook renders a page
    _compression(app)
    _connection_per_request(app)  # before auth's hook, which reads the account
    app.json = NumpyJSONProvider(app)
    app.url_map.converters["id"] = IdConverter  # before the blueprints' rules use it
    for blueprint in (auth, experiments, registry_io, photos, cuts, assets, pages, api, exports):
        app.register_blueprint(blueprint.bp)
    isolate_exports(app)
    frame_embeds(app)
    _template_helpers(app)
    _error_handlers(app)


# What Flask-Compress encodes on the fly (the map's experiments come encoded already,
# `geoapp.web.delivery`; images, PDFs and GeoPackages do not shrink).
COMPRESSED_TYPES = [
    "text/html",
    "text/css",
    "text/csv",
    "text/plain",
    "application/json",
    "application/geo+json",
    "application/javascript",
    "text/javascript",
    "image/svg+xml",
    "application/vnd.google-earth.kml+xml",
]


def _compression(app: Flask) -> None:
    """Brotli or gzip for every textual response: pages shrink ~5×, which a city-hall
    network or a phone feels more than any server time."""
    app.config.update(
        COMPRESS_MIMETYPES=COMPRESSED_TYPES,
        COMPRESS_ALGORITHM=["br", "gzip"],
        COMPRESS_STREAMS=False,  # streamed bodies (large exports) go out as they are
    )
    Compress(app)


def _connection_per_request(app: Flask) -> None:
    """One database connection for the whole request, closed at its teardown."""

    @app.before_request
    def _open() -> None:
        scope = get_store().connection_scope()
        scope.__enter__()  # a storage failure here is the French 503, and nothing to close
        g.store_scope = scope

    @app.teardown_request
    def _close(exc: BaseException | None) -> None:
        scope = g.pop("store_scope", None)
        if scope is not None:
            scope.__exit__(None, None, None)


def _template_helpers(app: Flask) -> None:
    """French number filters, the vocabulary and the navigation, for every template."""
    app.add_template_filter(vocabulary.fr_num, "fr_num")
    app.add_template_filter(lambda v: vocabulary.fr_num(v, 0), "fr_int")
    # Every template lists themes, statuses, kinds… from here: `vocabulary.THEMES`.
    app.jinja_env.globals["vocabulary"] = vocabulary

    # The atlas is built once at start-up: so is the navigation (the error page needs it
    # even when something else failed).
    districts = app.extensions["qmi_atlas"].districts
    navigation = list(zip(districts["slug"], districts["commune"], strict=True))
    app.jinja_env.globals["nav_districts"] = navigation


def _error_handlers(app: Flask) -> None:
    """Every failure rendered in one place: a French page, or JSON under ``/api/``."""

    @app.errorhandler(GeoappError)
    def _domain_error(exc: GeoappError):
        return render_error(exc.message, exc.status, exc.details)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        return render_error(_HTTP_MESSAGES.get(exc.code, exc.name), exc.code or 500)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        app.logger.exception("Unhandled error")
        return render_error(_HTTP_MESSAGES[500], 500)
