"""Data responses encoded once and revalidated by version.

A map's experiments weigh megabytes at 100 000: compressing them on every request would
cost more than building them. They are compressed once per data version (brotli and
gzip, kept beside the raw bytes), served in the best encoding the client accepts, and
carry an ``ETag`` naming the version, so a browser that already holds them gets a
``304`` without the store being read. Other responses are compressed on the fly by
Flask-Compress (`geoapp.web.register`), which leaves these already-encoded ones alone.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable
from functools import lru_cache

import brotli
from flask import Response, request

# Preference order; identity is the fallback every client accepts.
ENCODINGS = ("br", "gzip")
BROTLI_QUALITY = 5  # ~gzip -9's size at a fraction of brotli 11's time
GZIP_LEVEL = 6


@lru_cache(maxsize=256)
def _encoded(body: bytes, encoding: str) -> bytes:
    """``body`` compressed with ``encoding``, remembered per body (the cached bytes
    objects stay alive in the data cache, so the key is cheap to hash once)."""
    if encoding == "br":
        return brotli.compress(body, quality=BROTLI_QUALITY)
    return gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)


def chosen_encoding() -> str | None:
    """The best of `ENCODINGS` the request accepts (q > 0), or None for identity."""
    accepted = request.accept_encodings
    return next((e for e in ENCODINGS if accepted.quality(e) > 0), None)


def versioned_json(etag: str, body: Callable[[], bytes], *, mimetype: str) -> Response:
    """``body()`` as a response validated by ``etag`` (the data version): ``304`` when the
    client's ``If-None-Match`` names it, whatever encoding it was sent in."""
    encoding = chosen_encoding()
    tag = f"{etag}.{encoding or 'identity'}"
    held = {t.rsplit(".", 1)[0] for t in request.if_none_match.as_set()}
    if etag in held:
        response = Response(status=304)
    else:
        data = body()
        response = Response(_encoded(data, encoding) if encoding else data, mimetype=mimetype)
        if encoding:
            response.headers["Content-Encoding"] = encoding
    response.set_etag(tag)
    response.headers["Cache-Control"] = "no-cache"  # keep it, but ask before each use
    response.vary.add("Accept-Encoding")
    return response
