"""Urban cuts on the web: the measured report, what-if crossings, stored crossings.

Reports are computed from the atlas and the stored crossings, and cached per district
and data version: adding or moving a crossing bumps the version and the next request
recomputes (about 0.2 s per district).
"""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
from flask import Blueprint, current_app, flash, jsonify, redirect, request, url_for

from geoapp.analysis import ANALYSIS_CRS, DISPLAY_CRS, RefusedInputError
from geoapp.analysis.cut_report import CutReport, build_cut_report, detour_dict, sides_of, what_if
from geoapp.errors import GeoappError
from geoapp.layers import points_frame
from geoapp.registry import ValidationError, validate_crossing, validate_position
from geoapp.web import expected_version, get_atlas
from geoapp.web.auth import get_store, require_editor

bp = Blueprint("cuts", __name__)

# A stored crossing must sit on a corridor, like a what-if one (metres).
MAX_CROSSING_OFFSET_M = 50.0


def stored_crossings(slug: str):
    return points_frame(get_store().list_crossings(district=slug),
                        columns=["id", "kind", "status", "name", "version", "lon", "lat"])


def cut_report(slug: str) -> CutReport:
    """The district's cut report, cached until the stored data changes."""
    cache = current_app.extensions.setdefault("qmi_cut_reports", {})
    key = (slug, get_store().data_version())
    if key not in cache:
        for stale in [k for k in list(cache) if k[0] == slug]:  # older data versions
            cache.pop(stale, None)
        atlas = get_atlas()
        district = atlas.district(slug)
        cache[key] = build_cut_report(district.geometry, get_atlas().study_area(slug),
                                      atlas.corridors[slug], atlas.layers["stations"],
                                      stored_crossings(slug))
    return cache[key]


def _features(gdf, columns: list[str]) -> dict:
    return json.loads(gdf[columns + ["geometry"]].to_crs(DISPLAY_CRS).to_json(drop_id=True))


def report_dict(slug: str) -> dict:
    """The JSON twin of the district page's cut section."""
    report = cut_report(slug)
    stations = get_atlas().stations
    near = stations[stations.intersects(get_atlas().study_area(slug))]
    return {
        "quartier": slug,
        "modele": "Ligne droite via le meilleur franchissement ; ce n’est pas un réseau de rues.",
        "corridors": _features(report.corridors.round({"length_in_m": 1, "length_near_m": 1}),
                               ["corridor_id", "kind", "names", "length_in_m",
                                "length_near_m"]),
        "cotes": {"quartier": report.sides["area_ha"].round(2).tolist(),
                  "zone_etude": report.study_sides["area_ha"].round(2).tolist(),
                  "nb_cotes_zone_etude_plus_1ha": report.n_sides},
        "exposition": {str(d): round(v, 4) for d, v in report.exposure.items()},
        "franchissements": _features(report.crossings.astype({"id": "object"}),
                                     ["corridor_id", "name", "kind", "status", "source",
                                      "id"]),
        "gares": points_with_sides(near, report, ["nom", "ligne"]),
        "detour": detour_dict(report.detour),
        "detour_avec_projets": detour_dict(report.detour_with_projects),
        "longueur_km_par_km2": round(report.corridor_km_per_km2, 3),
    }


def points_with_sides(points, report: CutReport, columns: list[str]) -> list[dict]:
    """``columns`` of each point plus ``cote``: its side of the cut (None outside)."""
    sides = sides_of(points, report)
    rows = points[columns].to_dict("records")
    return [{**row, "cote": None if pd.isna(side) else int(side)}
            for row, side in zip(rows, sides, strict=True)]


@bp.get("/api/quartiers/<slug>/coupures")
def report_api(slug: str):
    return jsonify(report_dict(slug))


@bp.get("/api/quartiers/<slug>/what-if")
def what_if_api(slug: str):
    """Detours before/after a proposed crossing; nothing is stored."""
    try:
        lon, lat = validate_position(request.args.get("lon"), request.args.get("lat"))
    except ValidationError as exc:
        raise GeoappError("Coordonnées invalides.", 400, details={"errors": exc.errors}) \
            from exc
    point = points_frame([{"lon": lon, "lat": lat}]).geometry.iloc[0]
    try:
        result = what_if(cut_report(slug), get_atlas().study_area(slug), point)
    except RefusedInputError as exc:  # the user's point; any other ValueError is a bug (500)
        raise GeoappError(str(exc), 422) from exc
    snapped = gpd.GeoSeries([result.snapped], crs=ANALYSIS_CRS).to_crs(DISPLAY_CRS).iloc[0]
    return jsonify({"avant": detour_dict(result.before), "apres": detour_dict(result.after),
                    "corridor_id": result.corridor_id, "ecart_m": round(result.offset_m, 1),
                    "point": [snapped.y, snapped.x], "enregistre": False})


def _check_on_corridor(slug: str, lon: float, lat: float) -> None:
    corridors = cut_report(slug).corridors
    point = points_frame([{"lon": lon, "lat": lat}]).geometry.iloc[0]
    offset = float(corridors.distance(point).min()) if not corridors.empty else float("inf")
    if offset > MAX_CROSSING_OFFSET_M:
        raise ValidationError({"lat": f"Le franchissement est à {offset:.0f} m de la coupure "
                                      f"la plus proche : placez-le sur une voie "
                                      f"({MAX_CROSSING_OFFSET_M:.0f} m au plus)."})


@bp.post("/quartiers/<slug>/franchissements")
def add_crossing(slug: str):
    user = require_editor(get_atlas().district(slug))
    values = validate_crossing(request.form)
    _check_on_corridor(slug, values["lon"], values["lat"])
    get_store().add_crossing({**values, "district": slug}, user=user["username"])
    flash("Franchissement enregistré : les détours sont recalculés.", "info")
    return redirect(url_for("pages.district", slug=slug) + "#coupures")


def _editable_crossing(crossing_id: int) -> tuple[dict, dict]:
    crossing = get_store().get_crossing(crossing_id)
    return crossing, require_editor(get_atlas().district(crossing["district"]))


@bp.post("/franchissements/<id:crossing_id>/deplacer")
def move_crossing(crossing_id: int):
    crossing, user = _editable_crossing(crossing_id)
    lon, lat = validate_position(request.form.get("lon"), request.form.get("lat"))
    _check_on_corridor(crossing["district"], lon, lat)
    version = expected_version("du franchissement")
    get_store().move_crossing(crossing_id, lon, lat, expected_version=version,
                              user=user["username"])
    flash("Franchissement déplacé.", "info")
    return redirect(url_for("pages.district", slug=crossing["district"]) + "#coupures")


@bp.post("/franchissements/<id:crossing_id>/supprimer")
def delete_crossing(crossing_id: int):
    crossing, user = _editable_crossing(crossing_id)
    version = expected_version("du franchissement")
    get_store().delete_crossing(crossing_id, expected_version=version,
                                user=user["username"])
    flash("Franchissement supprimé.", "info")
    return redirect(url_for("pages.district", slug=crossing["district"]) + "#coupures")
