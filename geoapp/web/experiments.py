"""The experiment registry on the web: place, edit, move, withdraw, list, import/export.

Routes stay thin: parse the request, check the permission (`context.require_editor`), clean
the input (`registry`), check the spot against the district (`analysis.placement`), call
the store. A refused write re-renders the page with what the user typed, field by field.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)

from geoapp.errors import ConflictError, GeoappError
from geoapp.registry import ValidationError, summarise, validate_position
from geoapp.registry_files import read_csv, read_geojson, write_csv, write_geojson
from geoapp.web.context import (
    account_only,
    clean_experiment,
    district_page,
    expected_version,
    experiment_page,
    filter_context,
    get_atlas,
    get_store,
    placement_for,
    read_filters,
    require_editor,
)
from geoapp.web.public import public_experiment, public_history

bp = Blueprint("experiments", __name__)

IMPORT_NEEDS_ACCOUNT = "Connectez-vous pour importer des expérimentations."


def _version() -> int:
    return expected_version("de l’expérimentation")


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
    experiment_id: int, *, form: dict | None = None, errors: dict | None = None, status: int = 200
):
    page = experiment_page(experiment_id, form=form, errors=errors)
    return render_template("experiments/detail.html", **page), status


@bp.get("/experimentations/<id:experiment_id>")
def detail(experiment_id: int):
    return render_detail(experiment_id)


@bp.get("/api/experimentations/<id:experiment_id>")
def detail_json(experiment_id: int):
    store = get_store()
    return jsonify(
        {
            "experimentation": public_experiment(store.get_experiment(experiment_id)),
            "historique": public_history(store.history(experiment_id)),
        }
    )


@bp.post("/experimentations/<id:experiment_id>")
def update(experiment_id: int):
    experiment, user = _editable(experiment_id)
    try:
        values = clean_experiment(request.form, experiment["district"], exclude=experiment_id)
        get_store().update_experiment(
            experiment_id, values, expected_version=_version(), user=user["username"]
        )
    except ValidationError as exc:
        return render_detail(experiment_id, form=_typed(), errors=exc.errors, status=422)
    except ConflictError as exc:
        return render_detail(experiment_id, form=_typed(), errors={"_": exc.message}, status=409)
    flash("Modifications enregistrées.", "info")
    return redirect(url_for(".detail", experiment_id=experiment_id))


@bp.post("/experimentations/<id:experiment_id>/deplacer")
def move(experiment_id: int):
    experiment, user = _editable(experiment_id)
    moved = {**experiment, "lon": request.form.get("lon"), "lat": request.form.get("lat")}
    values = clean_experiment(moved, experiment["district"], exclude=experiment_id)
    get_store().move_experiment(
        experiment_id,
        values["lon"],
        values["lat"],
        expected_version=_version(),
        user=user["username"],
    )
    flash("Expérimentation déplacée.", "info")
    return redirect(url_for(".detail", experiment_id=experiment_id))


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
    _, user = _editable(experiment_id)
    store = get_store()
    change = store.withdraw_experiment if withdrawn else store.restore_experiment
    change(experiment_id, expected_version=_version(), user=user["username"])
    flash(message, "info")
    return redirect(url_for(".detail", experiment_id=experiment_id))


@bp.get("/experimentations")
def registry():
    atlas = get_atlas()
    filters = read_filters(with_district=True)
    store = get_store()
    rows = store.list_experiments(**filters)
    everything = store.list_experiments(include_withdrawn=True)
    withdrawn = [e for e in everything if e["withdrawn"]] if g.user else []
    summary = summarise([e for e in everything if not e["withdrawn"]], districts=atlas.slugs)
    return render_template(
        "experiments/registry.html",
        experiments=rows,
        summary=summary,
        withdrawn=withdrawn,
        districts=atlas.districts,
        programme=atlas.programme,
        **filter_context(filters),
    )


@bp.get("/api/placement")
def placement_api():
    slug = request.args.get("quartier", "")
    if not slug:
        raise GeoappError("Indiquez le quartier (paramètre « quartier »).", 400)
    get_atlas().district(slug)
    try:
        values = validate_position(request.args.get("lon"), request.args.get("lat"))
    except ValidationError as exc:
        raise GeoappError("Coordonnées invalides.", 400, details={"errors": exc.errors}) from exc
    exclude = request.args.get("exclure", type=int)
    return jsonify(placement_for(slug, *values, exclude=exclude).to_dict())


@bp.get("/api/experimentations.geojson")
def experiments_geojson():
    rows = get_store().list_experiments(**read_filters(with_district=True))
    return Response(write_geojson(rows), mimetype="application/geo+json")


@bp.get("/experimentations/export.csv")
def export_csv():
    rows = get_store().list_experiments(**read_filters(with_district=True))
    return Response(
        write_csv(rows),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": "attachment; filename=experimentations-qmi.csv"},
    )


@bp.get("/experimentations/export.geojson")
def export_geojson():
    rows = get_store().list_experiments(**read_filters(with_district=True))
    return Response(
        write_geojson(rows),
        mimetype="application/geo+json",
        headers={"Content-Disposition": "attachment; filename=experimentations-qmi.geojson"},
    )


@bp.post("/experimentations/import")
@account_only(IMPORT_NEEDS_ACCOUNT)
def import_file():
    if not g.get("user"):  # account_only already refused it before the body was read
        raise GeoappError(IMPORT_NEEDS_ACCOUNT, 401)
    upload = request.files.get("fichier")
    if not upload or not upload.filename:
        raise GeoappError("Choisissez un fichier CSV ou GeoJSON à importer.", 400)
    data = upload.read()
    is_geojson = upload.filename.lower().endswith(("json", "geojson"))
    rows = read_geojson(data) if is_geojson else read_csv(data)
    # CSV rows are named by their line in the file (line 1 is the header).
    first, unit = (1, "Entité") if is_geojson else (2, "Ligne")
    cleaned, report = check_import(rows, first=first)
    if report:
        return render_template(
            "experiments/import_report.html", report=report, n_rows=len(rows), unit=unit
        ), 422
    count = get_store().import_experiments(cleaned, user=g.user["username"])
    flash(f"{count} expérimentation(s) importée(s).", "info")
    return redirect(url_for(".registry"))


def check_import(rows: list[dict], *, first: int) -> tuple[list[dict], list[dict]]:
    """Clean every row; return (clean rows, report of bad rows). Nothing is stored here."""
    if not g.get("user"):
        raise GeoappError(IMPORT_NEEDS_ACCOUNT, 401)
    if not rows:
        raise GeoappError("Le fichier ne contient aucune ligne.", 400)
    atlas = get_atlas()
    cleaned, report = [], []
    for number, row in enumerate(rows, start=first):
        slug = str(row.get("district") or "")
        try:
            if slug not in atlas.slugs:
                raise ValidationError({"district": f"Quartier inconnu : « {slug[:60]} »."})
            require_editor(atlas.district(slug))
            cleaned.append({**clean_experiment(row, slug), "district": slug})
        except ValidationError as exc:
            report.append({"line": number, "title": row.get("title"), "errors": exc.errors})
        except GeoappError as exc:
            report.append(
                {"line": number, "title": row.get("title"), "errors": {"district": exc.message}}
            )
    return cleaned, report
