"""The planner's pages: overview, one page per district, methods, sources, and the
chrome-less map of the overview or a district for an ``<iframe>`` elsewhere (framed by
the sites of the ``EMBED_ORIGINS`` setting, `geoapp.web.security.frame_embeds`)."""

from __future__ import annotations

from flask import Blueprint, render_template, url_for

from geoapp.web.context import district_page, get_atlas, overview_page

bp = Blueprint("pages", __name__)


@bp.get("/")
def index():
    return render_template("pages/index.html", **overview_page())


@bp.get("/quartiers/<slug>")
def district(slug: str):
    return render_template("pages/district.html", **district_page(slug))


@bp.get("/carte")
def embed_overview():
    return render_template(
        "pages/embed.html",
        **overview_page(),
        title="Les quatre quartiers d’innovation",
        full_url=url_for("pages.index"),
    )


@bp.get("/quartiers/<slug>/carte")
def embed_district(slug: str):
    page = district_page(slug)
    return render_template(
        "pages/embed.html",
        **page,
        title=f"{page['d']['nom']} ({page['d']['commune']})",
        full_url=url_for("pages.district", slug=slug),
    )


@bp.get("/methode")
def method():
    return render_template("pages/method.html")


@bp.get("/sources")
def sources():
    return render_template("pages/sources.html", layers=get_atlas().sources)
