"""Serve the vendored map JS/CSS so pages never need a CDN."""

from __future__ import annotations

from flask import Blueprint, abort, send_file

from geoapp.assets import asset_file

bp = Blueprint("assets", __name__)


@bp.get("/vendor/<library>/<path:filename>")
def vendor(library: str, filename: str):
    try:
        path = asset_file(library, filename)
    except (KeyError, FileNotFoundError):
        abort(404)
    return send_file(path, max_age=86400)
