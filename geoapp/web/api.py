"""GeoJSON for other tools: the same data as the pages, in WGS84."""

from __future__ import annotations

from flask import Blueprint, Response

from geoapp.analysis import DISPLAY_CRS
from geoapp.vocabulary import CUT_FIELDS, DISTRICT_FIELDS
from geoapp.web import get_atlas

bp = Blueprint("api", __name__, url_prefix="/api")


def geojson_response(gdf) -> Response:
    return Response(gdf.to_crs(DISPLAY_CRS).to_json(drop_id=True, ensure_ascii=False),
                    mimetype="application/geo+json")


@bp.get("/quartiers.geojson")
def districts_geojson():
    districts = get_atlas().districts
    return geojson_response(districts[DISTRICT_FIELDS + ["geometry"]].round(
        {"area_ha": 2, "cut_length_in_m": 1, "cut_length_near_m": 1}))


@bp.get("/coupures.geojson")
def cuts_geojson():
    return geojson_response(get_atlas().cuts[CUT_FIELDS + ["geometry"]])
