"""The JSON twins of the pages, and GeoJSON for other tools (WGS84).

Each twin serialises the context its page renders (`geoapp.web.context`), so the two
cannot drift.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify

from geoapp.layers import feature_collection
from geoapp.vocabulary import CUT_FIELDS, DISTRICT_FIELDS
from geoapp.web.context import (
    cut_context,
    district_context,
    experiment_points,
    experiment_popup_data,
    get_atlas,
    overview_context,
    read_filters,
    search_index_json,
)
from geoapp.web.delivery import versioned_json

bp = Blueprint("api", __name__, url_prefix="/api")


def geojson_response(gdf, columns: list[str]) -> Response:
    return Response(
        current_app.json.dumps(feature_collection(gdf, columns)), mimetype="application/geo+json"
    )


@bp.get("/quartiers.geojson")
def districts_geojson():
    districts = get_atlas().districts.round(
        {"area_ha": 2, "cut_length_in_m": 1, "cut_length_near_m": 1}
    )
    return geojson_response(districts, DISTRICT_FIELDS)


@bp.get("/coupures.geojson")
def cuts_geojson():
    return geojson_response(get_atlas().cuts, CUT_FIELDS)


@bp.get("/comparaison")
def overview_json():
    """The overview's data: the districts and their cuts compared."""
    return jsonify(overview_context())


@bp.get("/quartiers/<slug>")
def district_json(slug: str):
    """The district page's data: facts, experiments with their side, the measured cut."""
    return jsonify(district_context(slug))


@bp.get("/quartiers/<slug>/coupures")
def cut_json(slug: str):
    """The district page's cut section (corridors, sides, exposure, crossings, detour)."""
    return jsonify(cut_context(slug))


@bp.get("/carte/experimentations")
def map_experiments():
    """What the map pages draw of the experiments matching the query's filters: columns
    (id, lon, lat, theme, status, title), compressed once per data version, 304 when
    the client holds the current one."""
    etag, body = experiment_points(read_filters(with_district=True))
    return versioned_json(etag, body, mimetype="application/json")


@bp.get("/carte/experimentations/<id:experiment_id>")
def map_experiment(experiment_id: int):
    """One experiment's popup (title, rows, note, link), loaded when the popup opens."""
    return jsonify(experiment_popup_data(experiment_id))


@bp.get("/recherche.json")
def search_json():
    """The map search's index: communes, districts, stations and experiments with where
    to zoom. Encoded once per experiments' version, revalidated by ETag (304)."""
    etag, body = search_index_json()
    return versioned_json(etag, body, mimetype="application/json")
