"""The planner's pages: overview, one page per district, sources."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request, url_for

from geoapp.analysis.cut_report import detour_dict
from geoapp.layers import LAYERS, experiments_frame
from geoapp.maps import build_district_map, build_overview_map, map_parts
from geoapp.vocabulary import STATUSES, THEMES
from geoapp.web import asset_url, get_atlas
from geoapp.web.auth import get_store
from geoapp.web.cuts import cut_report, points_with_sides

bp = Blueprint("pages", __name__)


def map_options() -> dict:
    return {"asset_url": asset_url, "tiles": current_app.config["TILES"], "link": url_for}


def read_filters(*, with_district: bool) -> dict:
    """The commune/theme/status filters of the query string, unknown values ignored."""
    atlas = get_atlas()
    theme, status = request.args.get("theme", ""), request.args.get("statut", "")
    district = request.args.get("quartier", "") if with_district else ""
    return {"district": district if district in atlas.slugs else None,
            "theme": theme if theme in THEMES else None,
            "status": status if status in STATUSES else None}


# `read_filters` keys -> the query string names they are read from.
QUERY_NAMES = {"district": "quartier", "theme": "theme", "status": "statut"}


def filter_query(filters: dict) -> dict:
    """The query arguments giving ``filters`` back, for links that keep the page's filters.

    Only known names with cleaned values: splatting ``request.args`` into ``url_for``
    would hand it ``_method``, ``_external`` or ``_anchor`` from any visitor's URL.
    """
    return {QUERY_NAMES[k]: v for k, v in filters.items() if k in QUERY_NAMES and v}


def stored_experiments(**filters):
    """The stored experiments (not withdrawn) matching ``filters``, in Lambert-93."""
    return experiments_frame(get_store().list_experiments(**filters))


def filter_context(filters: dict) -> dict:
    return {
        "filters": filters,
        "filter_query": filter_query(filters),
    }


@bp.get("/")
def index():
    atlas = get_atlas()
    filters = read_filters(with_district=True)
    experiments = stored_experiments(**filters)
    view = build_overview_map(atlas, experiments, **map_options())
    comparison = [(row, cut_report(row.slug)) for row in atlas.districts.itertuples()]
    return render_template("pages/index.html", map=map_parts(view),
                           districts=atlas.districts.itertuples(), programme=atlas.programme,
                           comparison=[(row, report, detour_dict(report.detour))
                                       for row, report in comparison],
                           n_experiments=len(experiments), **filter_context(filters))


def render_district(slug: str, *, form: dict | None = None, errors: dict | None = None,
                    status: int = 200):
    """The district page; the experiment form re-renders here with what was typed."""
    atlas = get_atlas()
    row = atlas.district(slug)
    filters = {**read_filters(with_district=False), "district": slug}
    experiments = stored_experiments(**filters)
    report = cut_report(slug)
    view = build_district_map(atlas, slug, experiments, report=report, **map_options())
    stations = atlas.stations[atlas.stations.intersects(atlas.study_area(slug))]
    return render_template(
        "pages/district.html", map=map_parts(view), d=row, programme=atlas.programme,
        corridors=atlas.corridors[slug].itertuples(), experiments=experiments,
        report=report, detour=detour_dict(report.detour),
        detour_projects=detour_dict(report.detour_with_projects),
        stations_sides=points_with_sides(stations, report, ["nom", "ligne"]),
        experiment_sides={e["id"]: e["cote"] for e in
                          points_with_sides(experiments, report, ["id"])},
        crossings=get_store().list_crossings(district=slug),
        form=form or {}, errors=errors or {}, **filter_context(filters)), status


@bp.get("/quartiers/<slug>")
def district(slug: str):
    return render_district(slug)


@bp.get("/methode")
def method():
    return render_template("pages/method.html")


@bp.get("/sources")
def sources():
    return render_template("pages/sources.html", layers=LAYERS)
