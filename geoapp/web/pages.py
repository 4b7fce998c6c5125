"""The planner's pages: overview, one page per district, methods, sources."""

from __future__ import annotations

from flask import Blueprint, render_template

from geoapp.web.context import district_page, get_atlas, overview_page

bp = Blueprint("pages", __name__)


@bp.get("/")
def index():
    return render_template("pages/index.html", **overview_page())


@bp.get("/quartiers/<slug>")
def district(slug: str):
    return render_template("pages/district.html", **district_page(slug))


@bp.get("/methode")
def method():
    return render_template("pages/method.html")


@bp.get("/sources")
def sources():
    return render_template("pages/sources.html", layers=get_atlas().sources)
