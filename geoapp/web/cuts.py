"""Urban cuts on the web: what-if crossings (nothing stored) and stored crossings.

The measured report and its cache live in `geoapp.web.context` (`cut_report`,
`cut_context`, `best_sites`): a report is recomputed only when the stored crossings change.
"""

from __future__ import annotations

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for

from geoapp.analysis import RefusedInputError
from geoapp.analysis.cut_report import detour_dict, what_if
from geoapp.errors import GeoappError
from geoapp.layers import lambert93_point, lonlat
from geoapp.registry import ValidationError, validate_crossing, validate_position
from geoapp.vocabulary import CROSSING_FIELD_LABELS
from geoapp.web.context import (
    best_sites_context,
    crossing_conflict,
    crossing_on_corridor,
    cut_report,
    district_page,
    expected_version,
    get_atlas,
    get_store,
    require_editor,
    wants_json,
)

bp = Blueprint("cuts", __name__)

REFUSED_TITLE = "Franchissement non enregistré : rien n’a changé"
DELETE_UNCONFIRMED = (
    "Le franchissement n’a pas été supprimé : cochez « Je confirme la suppression » à côté "
    "de son nom, puis appuyez sur « Supprimer »."
)
WAYS_FORWARD = {
    400: "Rouvrez la page du quartier, puis recommencez.",
    401: "Connectez-vous avec un compte qui peut modifier ce quartier, puis recommencez.",
    403: (
        "Vous pouvez consulter ce quartier et tester des franchissements avec « Et si… ». "
        "Pour en enregistrer, demandez à un éditeur de sa commune ou à un administrateur "
        "de la Métropole."
    ),
    409: (
        "La liste des franchissements ci-dessous est celle d’aujourd’hui : vérifiez-la, "
        "puis recommencez si c’est toujours nécessaire."
    ),
    422: (
        "Corrigez la valeur signalée : un franchissement se place sur une voie ferrée ou "
        "une route de la carte (cliquez dessus), puis enregistrez."
    ),
}


@bp.get("/api/quartiers/<slug>/what-if")
def what_if_api(slug: str):
    """Detours before/after a proposed crossing; nothing is stored."""
    try:
        lon, lat = validate_position(request.args.get("lon"), request.args.get("lat"))
    except ValidationError as exc:
        raise GeoappError("Coordonnées invalides.", 400, details={"errors": exc.errors}) from exc
    point = lambert93_point(lon, lat)
    try:
        result = what_if(cut_report(slug), get_atlas().study_area(slug), point)
    except RefusedInputError as exc:  # the planner's point: a French 422
        raise GeoappError(str(exc), 422) from exc
    snapped_lon, snapped_lat = lonlat(result.snapped)
    return jsonify(
        {
            "avant": detour_dict(result.before),
            "apres": detour_dict(result.after),
            "corridor_id": result.corridor_id,
            "ecart_m": round(result.offset_m, 1),
            "point": [snapped_lat, snapped_lon],
            "enregistre": False,
        }
    )


@bp.get("/api/quartiers/<slug>/meilleurs-franchissements")
def best_sites_api(slug: str):
    """The three best places for a new crossing (GeoJSON points, ``rang``, ``avant``,
    ``apres`` as the what-if answers them); cached until the stored crossings change."""
    return jsonify(best_sites_context(slug))


@bp.post("/quartiers/<slug>/franchissements")
def add_crossing(slug: str):
    typed = {k: request.form.get(k, "") for k in ("kind", "status", "name", "lat", "lon")}
    try:
        user = require_editor(get_atlas().district(slug))
        values = validate_crossing(request.form)
        crossing_on_corridor(slug, values["lon"], values["lat"])
    except GeoappError as exc:
        return _refused(slug, exc, typed=typed)
    get_store().add_crossing({**values, "district": slug}, user=user["username"])
    flash("Franchissement enregistré : les détours sont recalculés.", "info")
    return redirect(url_for("pages.district", slug=slug) + "#coupures")


def _editable_crossing(crossing_id: int) -> tuple[dict, dict]:
    crossing = get_store().get_crossing(crossing_id)
    return crossing, require_editor(get_atlas().district(crossing["district"]))


@bp.post("/franchissements/<id:crossing_id>/deplacer")
def move_crossing(crossing_id: int):
    crossing = get_store().get_crossing(crossing_id)
    try:
        _, user = _editable_crossing(crossing_id)
        lon, lat = validate_position(request.form.get("lon"), request.form.get("lat"))
        crossing_on_corridor(crossing["district"], lon, lat)
        version = expected_version("du franchissement")
        get_store().move_crossing(
            crossing_id, lon, lat, expected_version=version, user=user["username"]
        )
    except GeoappError as exc:
        return _refused(crossing["district"], exc, crossing_id=crossing_id)
    flash("Franchissement déplacé.", "info")
    return redirect(url_for("pages.district", slug=crossing["district"]) + "#coupures")


@bp.post("/franchissements/<id:crossing_id>/supprimer")
def delete_crossing(crossing_id: int):
    """Delete a stored crossing, only with the box « Je confirme la suppression » ticked
    (the browser requires it; the server refuses without it, JS or not)."""
    crossing = get_store().get_crossing(crossing_id)
    try:
        _, user = _editable_crossing(crossing_id)
        version = expected_version("du franchissement")
        if request.form.get("confirmer") != "oui":
            raise GeoappError(DELETE_UNCONFIRMED, 422)
        get_store().delete_crossing(crossing_id, expected_version=version, user=user["username"])
    except GeoappError as exc:
        return _refused(crossing["district"], exc, crossing_id=crossing_id)
    flash("Franchissement supprimé.", "info")
    return redirect(url_for("pages.district", slug=crossing["district"]) + "#coupures")


def _refused(
    slug: str, exc: GeoappError, *, typed: dict | None = None, crossing_id: int | None = None
):
    """A refused crossing write on the district page it came from, never a bare error
    page: the French reason and the way forward beside the crossings, focused, with what
    was typed in the form, and for a stale version what others changed since (who, when,
    old → new). A client that asked for JSON keeps getting the JSON error."""
    if wants_json():
        raise exc
    message = exc.message
    if isinstance(exc, ValidationError):  # each field's reason, once
        message = " ".join(dict.fromkeys(exc.errors.values()))
    refusal = {
        "title": REFUSED_TITLE,
        "message": message,
        "next": WAYS_FORWARD.get(exc.status, WAYS_FORWARD[400]),
        "form": typed or {},
        "conflict": _conflict(exc, crossing_id),
        "labels": CROSSING_FIELD_LABELS,
    }
    try:
        page = district_page(slug)
    except GeoappError:  # an unknown district: that 404 is the answer
        raise exc from None
    return render_template("pages/district.html", **page, crossing_refusal=refusal), exc.status


def _conflict(exc: GeoappError, crossing_id: int | None) -> dict | None:
    """What changed on the crossing since the version the form was loaded with (409)."""
    if exc.status != 409 or crossing_id is None:
        return None
    try:
        since = int(request.form.get("version", ""))
    except ValueError:
        return None
    return crossing_conflict(crossing_id, since)
