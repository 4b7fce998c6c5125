"""Web layer: thin blueprints over the atlas, one error handler, French pages."""

from __future__ import annotations

import numpy as np
from flask import Flask, current_app, jsonify, render_template, request, url_for
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from geoapp import vocabulary
from geoapp.atlas import Atlas
from geoapp.errors import GeoappError

_HTTP_MESSAGES = {
    400: "La requête est incorrecte.",
    403: "Vous n’avez pas le droit de faire cela.",
    404: "Cette page n’existe pas.",
    405: "Méthode non autorisée pour cette adresse.",
    413: "Le fichier envoyé est trop volumineux.",
    500: "Une erreur interne est survenue.",
}


# The largest id or version SQLite can store (a signed 64-bit integer).
SQLITE_MAX_INT = 2**63 - 1


class IdConverter(IntegerConverter):
    """``<id:…>``: a stored row id, 1 to `SQLITE_MAX_INT` in ASCII digits.

    Anything else does not match the route (a French 404): a larger number would make
    SQLite raise ``OverflowError``, and thousands of digits make ``int()`` raise.
    """

    regex = r"[0-9]{1,19}"

    def __init__(self, map, *args, **kwargs):
        super().__init__(map, min=1, max=SQLITE_MAX_INT)


def get_atlas() -> Atlas:
    """The atlas built at start-up."""
    return current_app.extensions["qmi_atlas"]


def asset_url(library: str, filename: str) -> str:
    """URL of a vendored JS/CSS file served by the app (never a CDN)."""
    return url_for("assets.vendor", library=library, filename=filename)


def expected_version(what: str) -> int:
    """The ``version`` a form was loaded with, for the store's conflict check."""
    try:
        version = int(request.form["version"])
    except (KeyError, ValueError) as exc:
        raise GeoappError(f"Version {what} absente : rechargez la page.", 400) from exc
    if not 1 <= version <= SQLITE_MAX_INT:  # no row has it, and SQLite could not bind it
        raise GeoappError(f"Version {what} invalide : rechargez la page.", 400)
    return version


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
    """Attach the blueprints, the template filters and the single error handler."""
    from geoapp.web import api, assets, auth, cuts, experiments, exports, pages
    from geoapp.web.security import init_security, isolate_exports

    init_security(app)  # first: its nonce exists before any other hook renders a page

    app.json = NumpyJSONProvider(app)
    app.url_map.converters["id"] = IdConverter  # before the blueprints' rules use it
    app.register_blueprint(auth.bp)
    app.register_blueprint(experiments.bp)
    app.register_blueprint(cuts.bp)
    app.add_template_filter(vocabulary.fr_num, "fr_num")
    app.add_template_filter(lambda v: vocabulary.fr_num(v, 0), "fr_int")
    # Every template lists themes, statuses, kinds… from here: `vocabulary.THEMES`.
    app.jinja_env.globals["vocabulary"] = vocabulary

    app.register_blueprint(assets.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(exports.bp)
    isolate_exports(app)

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
