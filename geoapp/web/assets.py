"""Serve the vendored map JS/CSS so pages never need a CDN."""

from __future__ import annotations

import hashlib
import io
from functools import lru_cache
from pathlib import Path

from flask import Blueprint, abort, send_file

from geoapp.assets import asset_file

bp = Blueprint("assets", __name__)


@lru_cache(maxsize=64)
def _read(path: Path) -> tuple[bytes, str, float]:
    """A vendored file's bytes, their digest (the ETag) and modification time: read
    once, as the files only change with a new release."""
    data = path.read_bytes()
    return data, hashlib.sha1(data).hexdigest(), path.stat().st_mtime


@bp.get("/vendor/<library>/<path:filename>")
def vendor(library: str, filename: str):
    try:
        path = asset_file(library, filename)
    except (KeyError, FileNotFoundError):
        abort(404)
    data, digest, mtime = _read(path)
    # From memory, not an open file: Flask-Compress encodes it like any response, and
    # a 304 leaves no file handle behind.
    response = send_file(
        io.BytesIO(data), download_name=path.name, etag=digest, last_modified=mtime, max_age=86400
    )
    response.direct_passthrough = False
    response.make_sequence()
    return response
