"""The embed views (/carte, /quartiers/<slug>/carte): the map alone, from the same
context as the full pages, framed only by the sites of ``EMBED_ORIGINS`` (default: the
app itself), while every other page keeps ``FRAME_ANCESTORS``."""

from __future__ import annotations

import re

import pytest

from tests.conftest import map_data
from tests.web.experiments_helpers import SCEAUX

EMBEDS = ["/carte", f"/quartiers/{SCEAUX}/carte"]


def frame_ancestors(response) -> str:
    policy = response.headers["Content-Security-Policy"]
    return re.search(r"frame-ancestors ([^;]*)", policy).group(1).strip()


@pytest.mark.parametrize("url", EMBEDS)
def test_the_embed_view_is_the_map_alone_with_the_full_pages_data(client, url):
    response = client.get(url)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    full = client.get(url.removesuffix("/carte") or "/").get_data(as_text=True)
    assert map_data(html) == map_data(full)  # same context, same layers
    assert 'class="topbar"' not in html and 'class="footer"' not in html
    assert 'id="qmi-search-input"' not in html and "Partager" not in html
    assert "Légende" in html and "Ouvrir dans QMI Atlas" in html


def test_an_unknown_district_has_no_embed_either(client):
    assert client.get("/quartiers/pas-un-quartier/carte").status_code == 404


def test_by_default_only_the_app_itself_may_frame_anything(client):
    for url in ["/", *EMBEDS]:
        response = client.get(url)
        assert frame_ancestors(response) == "'self'"
        assert response.headers["X-Frame-Options"] == "SAMEORIGIN"


def test_embed_origins_open_the_embed_views_only(app_factory):
    app = app_factory(EMBED_ORIGINS="'self' https://www.sceaux.fr", FRAME_ANCESTORS="'none'")
    client = app.test_client()
    for url in EMBEDS:
        response = client.get(url)
        assert frame_ancestors(response) == "'self' https://www.sceaux.fr"
        assert "X-Frame-Options" not in response.headers  # it cannot name an origin
        assert "'nonce-" in response.headers["Content-Security-Policy"]
    for url in ["/", f"/quartiers/{SCEAUX}", "/methode"]:
        response = client.get(url)
        assert frame_ancestors(response) == "'none'"
        assert response.headers["X-Frame-Options"] == "DENY"


def test_each_app_keeps_its_own_embed_policy(app_factory):
    """Talisman reads per-view options off the view function, which apps share."""
    open_app = app_factory(EMBED_ORIGINS="https://intranet.example.org")
    closed_app = app_factory()
    assert frame_ancestors(open_app.test_client().get("/carte")) == "https://intranet.example.org"
    assert frame_ancestors(closed_app.test_client().get("/carte")) == "'self'"
    assert frame_ancestors(open_app.test_client().get("/carte")) == "https://intranet.example.org"
