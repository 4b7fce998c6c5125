"""The planner's pages: overview, one page per district, sources."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from geoapp.layers import LAYERS
from geoapp.maps import build_district_map, build_overview_map, map_parts
from geoapp.web import asset_url, get_atlas

bp = Blueprint("pages", __name__)


def _map_options() -> dict:
    return {"asset_url": asset_url, "tiles": current_app.config["TILES"]}


@bp.get("/")
def index():
    atlas = get_atlas()
    m = build_overview_map(atlas, **_map_options())
    return render_template("pages/index.html", map=map_parts(m),
                           districts=atlas.districts.itertuples(), programme=atlas.programme)


@bp.get("/quartiers/<slug>")
def district(slug: str):
    atlas = get_atlas()
    row = atlas.district(slug)
    m = build_district_map(atlas, slug, **_map_options())
    return render_template("pages/district.html", map=map_parts(m), d=row,
                           corridors=atlas.corridors[slug].itertuples(),
                           programme=atlas.programme)


@bp.get("/sources")
def sources():
    return render_template("pages/sources.html", layers=LAYERS)
