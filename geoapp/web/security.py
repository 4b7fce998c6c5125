"""Security headers on every response, set by flask-talisman from the app's settings.

The Content-Security-Policy lets pages run only the app's own script files and the
inline scripts a template marks with the request's nonce (``<script nonce="{{ csp_nonce()
}}">``); styles may be inline (Leaflet positions the map with ``style=``, folium emits
``<style>`` blocks); images come from the app, ``data:`` URIs and, when tiles are on,
the OpenStreetMap tile server. ``frame-ancestors`` follows ``FRAME_ANCESTORS``, but on
the embed views (the map alone, made to be framed), which follow ``EMBED_ORIGINS``.

Downloads under ``/exports/`` get their own policy: the standalone HTML map carries its
scripts inline without a nonce, so it runs in a sandbox (an opaque origin: no cookies,
no access to the app) with nothing but its own inline code, styles and ``data:`` images.

Pages seen by a logged-in account are never stored by the browser or a proxy.
"""

from __future__ import annotations

import functools

from flask import Flask, g, request
from flask_talisman import Talisman
from werkzeug.middleware.proxy_fix import ProxyFix

TILE_SERVER = "https://tile.openstreetmap.org"
REFERRER_POLICY = "strict-origin-when-cross-origin"
HSTS_MAX_AGE_S = 31556926  # one year
EXPORT_CSP = {
    "sandbox": "allow-scripts",
    "default-src": "'none'",
    "script-src": "'unsafe-inline'",
    "style-src": "'unsafe-inline'",
    "img-src": "data:",
    "frame-ancestors": "'none'",
}
# Every per-view option talisman knows, so it never fills them from one app's defaults.
_EXPORT_VIEW_OPTIONS = {
    "force_https": False,
    "frame_options": "DENY",
    "frame_options_allow_from": None,
    "content_security_policy": EXPORT_CSP,
    "content_security_policy_nonce_in": [],
    "permissions_policy": {"browsing-topics": "()"},
    "document_policy": {},
    "feature_policy": {},
}
# The chrome-less maps other sites may frame (`geoapp.web.pages`).
EMBED_ENDPOINTS = ("pages.embed_overview", "pages.embed_district")
# Served the same to everyone: browsers may keep them whoever is logged in.
_SHARED_ENDPOINTS = {"assets.vendor"}


def page_policy(*, tiles: bool, frame_ancestors: str) -> dict[str, str]:
    """The CSP of the app's pages (talisman appends the nonce to ``script-src``)."""
    return {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self' 'unsafe-inline'",
        "img-src": "'self' data:" + (f" {TILE_SERVER}" if tiles else ""),
        "connect-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": frame_ancestors,
    }


def _frame_options(frame_ancestors: str) -> str | None:
    """The older X-Frame-Options twin of ``frame-ancestors``, when it can say the same."""
    return {"'self'": "SAMEORIGIN", "'none'": "DENY"}.get(frame_ancestors)


def init_security(app: Flask) -> None:
    """Attach talisman (before the blueprints, so every page has its nonce).

    Behind ``TRUSTED_PROXIES`` reverse proxies, the client address and scheme are read
    from their ``X-Forwarded-For``/``-Proto`` headers (werkzeug's ProxyFix); with none
    (the default) those headers, which anyone can send, are ignored.
    """
    config = app.config
    hops = int(config.get("TRUSTED_PROXIES") or 0)
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    frame_ancestors = config.get("FRAME_ANCESTORS") or "'self'"
    secure = bool(config.get("SESSION_COOKIE_SECURE"))
    app.extensions["talisman"] = Talisman(
        app,
        force_https=False,  # TLS is the reverse proxy's job
        session_cookie_secure=secure,
        session_cookie_http_only=True,
        session_cookie_samesite="Lax",
        content_security_policy=page_policy(
            tiles=bool(config.get("TILES")), frame_ancestors=frame_ancestors
        ),
        content_security_policy_nonce_in=["script-src"],
        frame_options=_frame_options(frame_ancestors),
        referrer_policy=REFERRER_POLICY,
        # HSTS only where the site is said to be behind TLS, and only for its own host.
        strict_transport_security=secure,
        strict_transport_security_max_age=HSTS_MAX_AGE_S,
        strict_transport_security_include_subdomains=False,
        x_content_type_options=True,
    )

    @app.after_request
    def _no_store_for_accounts(response):
        """Pages seen logged in, and the login form (its CSRF token), are never kept."""
        personal = g.get("user") or request.endpoint == "auth.login"
        if personal and request.endpoint not in _SHARED_ENDPOINTS:
            response.headers["Cache-Control"] = "no-store"
        return response


def isolate_exports(app: Flask) -> None:
    """Give every ``/exports/`` route the sandbox policy (after the blueprints exist)."""
    for endpoint, view in app.view_functions.items():
        if endpoint.startswith("exports."):
            view.talisman_view_options = dict(_EXPORT_VIEW_OPTIONS)


def frame_embeds(app: Flask) -> None:
    """Let the sites of ``EMBED_ORIGINS`` frame the embed views (after the blueprints
    exist); every other page keeps ``FRAME_ANCESTORS``.

    Talisman reads per-view options from the view function, which every app of a
    process shares (tests build several): each app's embed endpoints get a wrapper of
    their own carrying that app's policy, with every option talisman knows set.
    """
    talisman = app.extensions["talisman"]
    origins = app.config.get("EMBED_ORIGINS") or "'self'"
    options = {
        "force_https": False,
        "frame_options": _frame_options(origins),
        "frame_options_allow_from": None,
        "content_security_policy": page_policy(
            tiles=bool(app.config.get("TILES")), frame_ancestors=origins
        ),
        "content_security_policy_nonce_in": ["script-src"],
        "permissions_policy": talisman.permissions_policy,
        "document_policy": talisman.document_policy,
        "feature_policy": talisman.feature_policy,
    }
    for endpoint in EMBED_ENDPOINTS:
        view = app.view_functions[endpoint]

        @functools.wraps(view)
        def framed(*args, _view=view, **kwargs):
            return _view(*args, **kwargs)

        framed.talisman_view_options = options
        app.view_functions[endpoint] = framed
