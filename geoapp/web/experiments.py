"""The experiment registry on the web: place, edit, move, withdraw, list (its files, in and
out, are `geoapp.web.registry_io`).

Routes stay thin: parse the request, check the permission (`context.require_editor`), clean
the input (`registry`), check the spot against the district (`analysis.placement`), call
the store. A refused write re-renders the page with what the user typed, field by field.
"""

from __future__ import annotations

import json

from flask import (
    Blueprint,
    Response,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)

from geoapp.errors import ConflictError, GeoappError
from geoapp.french import fr_date, fr_datetime, human_value
from geoapp.registry import ValidationError, validate_place, validate_position
from geoapp.registry_files import write_geojson
from geoapp.shapes import measures, place_geometry
from geoapp.web.context import (
    clean_experiment,
    conflict_context,
    district_page,
    expected_version,
    experiment_page,
    experiment_photos,
    get_atlas,
    get_store,
    placement_for,
    read_filters,
    require_editor,
    visible_experiment,
    wants_json,
)
from geoapp.web.public import public_experiment, public_history
from geoapp.web.registry_view import (
    PAGE_SIZE,
    district_names,
    listing_request,
    pagination,
    read_page,
    registry_context,
)

bp = Blueprint("experiments", __name__)

# After a conflict, the button « Appliquer mes valeurs sur la version actuelle » sends the
# current version under this name (a plain save sends only the loaded ``version``).
APPLY_FIELD = "version_actuelle"
REFUSAL_TITLES = {
    400: "Requête incomplète : rien n’a été enregistré",
    401: "Connexion nécessaire : rien n’a été enregistré",
    403: "Action non autorisée : rien n’a été enregistré",
    409: "Quelqu’un a modifié cette expérimentation entre-temps : rien n’a été enregistré",
    422: "Valeurs refusées : rien n’a été enregistré",
}
EDIT_CONFLICT = (
    "Vos modifications n’ont pas été enregistrées : quelqu’un d’autre a enregistré cette "
    "expérimentation depuis que vous avez ouvert la page. Vos valeurs sont conservées dans "
    "le formulaire."
)
MOVE_CONFLICT = (
    "La position n’a pas été enregistrée : l’expérimentation a été modifiée entre-temps."
)
WITHDRAW_CONFLICT = "Le retrait n’a pas été fait : l’expérimentation a été modifiée entre-temps."
RESTORE_CONFLICT = (
    "Le rétablissement n’a pas été fait : l’expérimentation a été modifiée entre-temps."
)
CONFLICT_NEXT = (
    "Comparez avec ce qui a changé ci-dessus. Pour garder vos valeurs, appuyez sur "
    "« Appliquer mes valeurs sur la version actuelle » : elles remplaceront la version "
    "actuelle, champ par champ. Sinon, corrigez le formulaire ou quittez la page."
)
STALE_NEXT = (
    "La fiche ci-dessous montre la version actuelle : vérifiez-la, puis recommencez "
    "si c’est toujours nécessaire."
)
FIX_NEXT = "Corrigez la valeur signalée puis enregistrez à nouveau ; rien d’autre n’a changé."
FORBIDDEN_NEXT = (
    "Vous pouvez consulter cette fiche. Pour la modifier, demandez à un éditeur de la "
    "commune du quartier ou à un administrateur de la Métropole."
)
LOGIN_NEXT = "Connectez-vous avec un compte qui peut modifier ce quartier, puis recommencez."


def _version(field: str = "version") -> int:
    return expected_version("de l’expérimentation", field)


def _editable(experiment_id: int) -> tuple[dict, dict]:
    """The experiment and the current user, if they may edit it (else 401/403/404)."""
    experiment = get_store().get_experiment(experiment_id)
    user = require_editor(get_atlas().district(experiment["district"]))
    return experiment, user


@bp.post("/quartiers/<slug>/experimentations")
def create(slug: str):
    user = require_editor(get_atlas().district(slug))
    try:
        values = clean_experiment(request.form, slug)
    except ValidationError as exc:
        page = district_page(slug, form=_typed(), errors=exc.errors)
        return render_template("pages/district.html", **page), 422
    experiment = get_store().create_experiment(values, district=slug, user=user["username"])
    flash(f"Expérimentation « {experiment['title']} » enregistrée.", "info")
    return redirect(url_for(".detail", experiment_id=experiment["id"]))


def _typed() -> dict:
    """What the user typed, to refill the form after a refusal."""
    typed = request.form.to_dict()
    typed["objectives"] = request.form.getlist("objectives")
    return typed


def render_detail(
    experiment_id: int,
    *,
    form: dict | None = None,
    errors: dict | None = None,
    status: int = 200,
    notice: dict | None = None,
    conflict: dict | None = None,
    move: dict | None = None,
):
    """The experiment page; after a refusal, ``notice`` (title, message, way forward) is
    shown at its top, with ``conflict`` (what others changed) and the typed values kept."""
    page = experiment_page(experiment_id, form=form, errors=errors)
    extra = {"notice": notice, "conflict": conflict, "move": move or {}}
    return render_template("experiments/detail.html", **page, **extra), status


def _refusal(experiment_id: int, exc: GeoappError, *, since: int | None = None, **kept):
    """A refused write on the experiment page, never a bare error page: the French reason,
    what to do next, and for a stale version what changed since ``since``. A client that
    asked for JSON keeps getting the JSON error."""
    if wants_json():
        raise exc
    conflict = None
    if isinstance(exc, ConflictError) and since is not None:
        conflict = {**conflict_context(experiment_id, since), "apply": "form" in kept}
    message = exc.message
    if isinstance(exc, ValidationError):  # each field's reason, once
        message = " ".join(dict.fromkeys(exc.errors.values()))
    notice = {
        "title": REFUSAL_TITLES.get(exc.status, REFUSAL_TITLES[400]),
        "message": message,
        "next": _way_forward(exc, conflict),
    }
    try:
        return render_detail(
            experiment_id, status=exc.status, notice=notice, conflict=conflict, **kept
        )
    except GeoappError:  # a page this person may not see (withdrawn): the refusal alone
        raise exc from None


def _way_forward(exc: GeoappError, conflict: dict | None) -> str:
    if exc.status in (401, 403):
        return FORBIDDEN_NEXT if exc.status == 403 else LOGIN_NEXT
    if conflict is not None:
        return CONFLICT_NEXT if conflict.get("apply") else STALE_NEXT
    if isinstance(exc, ConflictError):
        return STALE_NEXT
    return FIX_NEXT


@bp.get("/experimentations/<id:experiment_id>")
def detail(experiment_id: int):
    return render_detail(experiment_id)


@bp.get("/api/experimentations/<id:experiment_id>")
def detail_json(experiment_id: int):
    store = get_store()
    experiment = visible_experiment(experiment_id)
    return jsonify(
        {
            "experimentation": public_experiment(experiment),
            "photos": experiment_photos(experiment),
            "historique": public_history(store.history(experiment_id)),
        }
    )


@bp.post("/experimentations/<id:experiment_id>")
def update(experiment_id: int):
    """Save an edit. After a conflict the person may press « Appliquer mes valeurs sur la
    version actuelle », whose value is the current version they were shown: only then is
    the edit made on it; a plain save stays checked against the version loaded."""
    typed = _typed()
    version = None
    try:
        experiment, user = _editable(experiment_id)
        applied = APPLY_FIELD in request.form
        version = _version(APPLY_FIELD if applied else "version")
        typed["version"] = str(version)
        values = clean_experiment(request.form, experiment["district"], exclude=experiment_id)
        get_store().update_experiment(
            experiment_id, values, expected_version=version, user=user["username"]
        )
    except ValidationError as exc:
        return _refusal(experiment_id, exc, form=typed, errors=exc.errors)
    except ConflictError as exc:
        refused = ConflictError(EDIT_CONFLICT, details=exc.details)
        return _refusal(experiment_id, refused, since=version, form=typed, errors={})
    except GeoappError as exc:
        return _refusal(experiment_id, exc, form=typed)
    flash("Modifications enregistrées.", "info")
    return redirect(url_for(".detail", experiment_id=experiment_id))


@bp.post("/experimentations/<id:experiment_id>/deplacer")
def move(experiment_id: int):
    typed = {"lon": request.form.get("lon", ""), "lat": request.form.get("lat", "")}
    version = None
    try:
        experiment, user = _editable(experiment_id)
        version = _version()
        moved = {**experiment, **typed}
        values = clean_experiment(moved, experiment["district"], exclude=experiment_id)
        get_store().move_experiment(
            experiment_id,
            values["lon"],
            values["lat"],
            expected_version=version,
            user=user["username"],
        )
    except GeoappError as exc:
        return _refusal(experiment_id, _stale(exc, MOVE_CONFLICT), since=version, move=typed)
    flash("Expérimentation déplacée.", "info")
    return redirect(url_for(".detail", experiment_id=experiment_id))


def _stale(exc: GeoappError, message: str) -> GeoappError:
    """A stale-version conflict (the store's 409 carries the current version) reworded for
    the action refused; other refusals as they are."""
    if isinstance(exc, ConflictError) and "version" in exc.details:
        return ConflictError(message, details=exc.details)
    return exc


@bp.post("/experimentations/<id:experiment_id>/retirer")
def withdraw(experiment_id: int):
    return _set_withdrawn(
        experiment_id, True, "Expérimentation retirée des cartes (rétablissable)."
    )


@bp.post("/experimentations/<id:experiment_id>/retablir")
def restore(experiment_id: int):
    return _set_withdrawn(experiment_id, False, "Expérimentation rétablie.")


def _set_withdrawn(experiment_id: int, withdrawn: bool, message: str):
    """Withdraw or restore (a flag, so always reversible), then back to its page."""
    version = None
    try:
        _, user = _editable(experiment_id)
        version = _version()
        store = get_store()
        change = store.withdraw_experiment if withdrawn else store.restore_experiment
        change(experiment_id, expected_version=version, user=user["username"])
    except GeoappError as exc:
        stale = WITHDRAW_CONFLICT if withdrawn else RESTORE_CONFLICT
        return _refusal(experiment_id, _stale(exc, stale), since=version)
    flash(message, "info")
    return redirect(url_for(".detail", experiment_id=experiment_id))


@bp.get("/experimentations")
def registry():
    return render_template("experiments/registry.html", **registry_context())


@bp.get("/api/placement")
def placement_api():
    """What the geometry says about a clicked point (lon, lat)."""
    slug = _placement_district(request.args)
    try:
        values = validate_position(request.args.get("lon"), request.args.get("lat"))
    except ValidationError as exc:
        raise GeoappError("Coordonnées invalides.", 400, details={"errors": exc.errors}) from exc
    exclude = request.args.get("exclure", type=int)
    return jsonify(placement_for(slug, *values, exclude=exclude).to_dict())


@bp.post("/api/placement")
def shape_placement_api():
    """The same answer for a drawn line or area (too long for a query string), posted
    as JSON or a form: ``quartier``, ``shape`` (GeoJSON), ``exclure``; plus ``forme``."""
    posted = request.get_json(silent=True) if request.is_json else request.form
    if not isinstance(posted, dict) and not hasattr(posted, "getlist"):
        raise GeoappError("Envoyez un objet JSON avec « quartier » et « shape ».", 400)
    slug = _placement_district(posted)
    if not posted.get("shape"):
        raise GeoappError("Indiquez le tracé ou la zone (champ « shape »).", 400)
    try:
        place = validate_place({"shape": posted.get("shape")})
    except ValidationError as exc:
        raise GeoappError("Tracé ou zone invalide.", 400, details={"errors": exc.errors}) from exc
    exclude = _exclude(posted.get("exclure"))
    found = placement_for(slug, **place, exclude=exclude).to_dict()
    return jsonify({**found, "forme": measures(place_geometry(place))})


def _placement_district(params) -> str:
    slug = params.get("quartier", "")
    if not slug or not isinstance(slug, str):
        raise GeoappError("Indiquez le quartier (paramètre « quartier »).", 400)
    get_atlas().district(slug)
    return slug


def _exclude(value) -> int | None:
    """The experiment being edited, left out of its own possible duplicates."""
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise GeoappError("« exclure » attend un identifiant numérique.", 400) from exc


@bp.get("/api/experimentations.geojson")
def experiments_geojson():
    """One page (100) of the filtered experiments; ``pagination`` says where the rest is."""
    filters = read_filters(with_district=True)
    listing = listing_request()
    rows, total = read_page(filters, listing)
    pages = pagination(".experiments_geojson", filters, listing, total)
    collection = json.loads(write_geojson(rows))
    collection["pagination"] = {
        "page": pages["page"],
        "pages": pages["pages"],
        "total": total,
        "par_page": PAGE_SIZE,
        "suivante": pages["next"],
        "precedente": pages["previous"],
    }
    return Response(json.dumps(collection, ensure_ascii=False), mimetype="application/geo+json")


@bp.app_template_filter("fr_date")
def _fr_date(value) -> str:
    return fr_date(value)


@bp.app_template_filter("fr_datetime")
def _fr_datetime(value) -> str:
    return fr_datetime(value)


@bp.app_template_filter("human")
def _human(value, field: str | None = None) -> str:
    """A stored value as people read it; a district by its name, not its slug."""
    if field == "district" and value:
        return district_names().get(value, value)
    return human_value(value, field)
