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
    response = send_file(path, max_age=86400)
    # Read in (the files are small) so Flask-Compress encodes them like any response and
    # the file is closed here, not left to a streaming encoder.
    response.direct_passthrough = False
    response.make_sequence()
    return response
