"""Hostile experiment titles are escaped on every page that shows them."""

import html

import pytest

from tests.conftest import experiment_titles, fetched_experiments
from tests.web.experiments_helpers import (
    SCEAUX,
    XSS_TITLES,
    body,
    form_for,
)


@pytest.mark.parametrize("title", XSS_TITLES)
def test_hostile_titles_are_escaped_on_every_page(sceaux, anon, store, atlas, title):
    r = sceaux.post(
        f"/quartiers/{SCEAUX}/experimentations",
        data=form_for(
            atlas,
            SCEAUX,
            title=title,
            organisation="<b onmouseover=alert(2)>Org</b>",
            location_note="${alert(3)}",
            precision="indicative",
        ),
    )
    assert r.status_code == 302
    detail_url = r.headers["Location"]
    sceaux.post(
        detail_url,
        data=form_for(
            atlas, SCEAUX, title=title, version="1", description="<script>alert(4)</script>"
        ),
    )
    escaped = html.escape(title, quote=False)
    pages = {
        "detail": detail_url,
        "district": f"/quartiers/{SCEAUX}",
        "registry": "/experimentations",
        "overview": "/",
    }
    for name, url in pages.items():
        for client in (anon, sceaux):
            page = body(client.get(url))
            for raw in (
                "<img src=x onerror",
                "</script><script>alert(1)",
                "<b onmouseover",
                "<script>alert(4)",
            ):
                assert raw not in page, (name, raw)
            if name != "overview":
                assert escaped in page, name
    detail = body(anon.get(detail_url))
    assert f'<h1 id="experiment-title">{escaped}</h1>' in detail
    assert "&lt;script&gt;alert(4)&lt;/script&gt;" in detail  # in the history, as text
    # on the maps the text travels as data (HTML-safe JSON), the browser makes it text
    for url in ("/", f"/quartiers/{SCEAUX}"):
        tips = experiment_titles(fetched_experiments(anon, body(anon.get(url)))).values()
        assert f"{title} — proposée" in tips, url
