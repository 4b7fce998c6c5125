"""Photos of an experiment on the web: upload, remove (confirmed), serve.

Uploads are checked by `geoapp.photos` (content, size, pixels) before anything is
stored; a refusal re-renders the experiment's page with its French reason at the top,
like every refused write (`templates/experiments/_conflict.html`), and nothing is kept.
Files are served only under their digest names, only while a row names them, only if
their size is the one recorded, and a withdrawn experiment's photos only to those who
may see it. The names are content digests, so browsers may keep a file for a year.
"""

from __future__ import annotations

import io

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)

from geoapp.errors import GeoappError
from geoapp.photos import FILE_NAME, MAX_BYTES, MAX_CAPTION, MAX_PHOTOS, PhotoRefused, prepare
from geoapp.registry import ValidationError, link_label, validate_caption
from geoapp.store.photos import TOO_MANY
from geoapp.web.context import (
    account_only,
    can_edit,
    experiment_page,
    get_atlas,
    get_store,
    require_editor,
    wants_json,
)

bp = Blueprint("photos", __name__)

# The upload route alone takes up to five full photos (plus the form around them);
# every other route keeps GEOAPP_MAX_CONTENT_LENGTH.
UPLOAD_LIMIT = MAX_PHOTOS * MAX_BYTES + 1024 * 1024
PHOTOS_NEED_ACCOUNT = "Connectez-vous pour ajouter des photos."
YEAR_S = 365 * 24 * 3600
TITLES = {
    400: "Photo non envoyée : rien n’a été enregistré",
    403: "Action non autorisée : rien n’a été enregistré",
    404: "Photo introuvable : rien n’a été modifié",
    409: "Photo déjà présente : rien n’a été enregistré",
    413: "Photo trop lourde : rien n’a été enregistré",
    422: "Photo refusée : rien n’a été enregistré",
}
NEXT = {
    403: (
        "Vous pouvez consulter cette fiche. Pour y ajouter des photos, demandez à un "
        "éditeur de la commune du quartier ou à un administrateur de la Métropole."
    ),
    "default": (
        "Choisissez d’autres photos (JPEG, PNG ou WebP, 5 Mo au plus chacune, "
        f"{MAX_PHOTOS} par expérimentation) puis envoyez-les à nouveau."
    ),
}
NOT_CONFIRMED = "La photo n’a pas été retirée : cochez « Je confirme le retrait » à côté du bouton."


@bp.record_once
def _larger_uploads(state) -> None:
    """Raise the body limit for the upload route before any hook reads the body (the
    CSRF check reads the form): this hook runs first of all."""
    state.app.before_request_funcs.setdefault(None, []).insert(0, _upload_limit)


def _upload_limit() -> None:
    if request.endpoint == "photos.upload":
        configured = current_app.config.get("MAX_CONTENT_LENGTH") or 0
        request.max_content_length = max(UPLOAD_LIMIT, configured)


@bp.app_template_filter("link_label")
def _link_label(url: str) -> str:
    return link_label(url)


def _refusal(experiment_id: int, exc: GeoappError):
    """The experiment's page with the refusal at its top (JSON clients get the error)."""
    if wants_json():
        raise exc
    notice = {
        "title": TITLES.get(exc.status, TITLES[400]),
        "message": exc.message,
        "next": NEXT.get(exc.status, NEXT["default"]),
    }
    try:
        page = experiment_page(experiment_id)
    except GeoappError:  # a page this person may not see (withdrawn): the refusal alone
        raise exc from None
    return render_template("experiments/detail.html", **page, notice=notice), exc.status


def _editor_of(experiment_id: int) -> dict:
    experiment = get_store().get_experiment(experiment_id)
    return require_editor(get_atlas().district(experiment["district"]))


def _prepared(upload):
    """One uploaded file as a `geoapp.photos.Photo`; the refusal names the file."""
    data = upload.stream.read(MAX_BYTES + 1)  # no need to read further to refuse it
    try:
        return prepare(data)
    except PhotoRefused as exc:
        name = upload.filename if len(upload.filename) <= 60 else upload.filename[:59] + "…"
        raise PhotoRefused(f"« {name} » : {exc.message}", exc.status) from exc


@bp.post("/experimentations/<id:experiment_id>/photos")
@account_only(PHOTOS_NEED_ACCOUNT)
def upload(experiment_id: int):
    """Add the photos sent in ``photos`` (one or several files, ``legende`` optional)."""
    try:
        user = _editor_of(experiment_id)
        sent = [f for f in request.files.getlist("photos") if f and f.filename]
        if not sent:
            raise GeoappError("Choisissez au moins une photo à envoyer.", 400)
        try:
            caption = validate_caption(request.form.get("legende"), MAX_CAPTION)
        except ValidationError as exc:
            raise GeoappError(exc.errors["caption"], 422) from exc
        store = get_store()
        if len(store.list_photos(experiment_id)) + len(sent) > MAX_PHOTOS:
            raise GeoappError(TOO_MANY, 422)  # said before decoding anything
        photos = [_prepared(f) for f in sent]
        store.add_photo(experiment_id, photos, caption=caption, user=user["username"])
    except GeoappError as exc:
        return _refusal(experiment_id, exc)
    flash("Photo ajoutée." if len(photos) == 1 else f"{len(photos)} photos ajoutées.", "info")
    return redirect(url_for("experiments.detail", experiment_id=experiment_id) + "#photos")


@bp.post("/experimentations/<id:experiment_id>/photos/<id:photo_id>/retirer")
def remove(experiment_id: int, photo_id: int):
    """Remove one photo, only with « Je confirme le retrait » ticked."""
    try:
        user = _editor_of(experiment_id)
        if request.form.get("confirmer") != "oui":
            raise GeoappError(NOT_CONFIRMED, 400)
        get_store().remove_photo(experiment_id, photo_id, user=user["username"])
    except GeoappError as exc:
        return _refusal(experiment_id, exc)
    flash("Photo retirée.", "info")
    return redirect(url_for("experiments.detail", experiment_id=experiment_id) + "#photos")


@bp.get("/photos/<file>")
def serve(file: str):
    """A photo or its thumbnail (``<digest>.jpg``, ``<digest>-vignette.jpg``); 404 for
    any other name, a file no visible row names, or one whose size is not the one
    recorded (a thumbnail is never larger than its photo)."""
    name = FILE_NAME.fullmatch(file)
    path = get_store().photo_path(file)
    if name is None or path is None:
        raise GeoappError("Photo introuvable.", 404)
    rows = get_store().photo_rows(f"{name['digest']}.jpg")
    public = [r for r in rows if not r["withdrawn"]]
    user = g.get("user")
    visible = public or [r for r in rows if can_edit(user, get_atlas().district(r["district"]))]
    data = path.read_bytes() if path.is_file() else None  # a photo is ~0.1–1 MB
    expected = visible[0]["bytes"] if visible else None
    size = -1 if data is None else len(data)
    sound = expected is not None and (0 < size <= expected if name["thumb"] else size == expected)
    if not sound:
        if visible and data is not None:
            current_app.logger.warning("photo %s: %s bytes, %s recorded", file, size, expected)
        raise GeoappError("Photo introuvable.", 404)
    response = send_file(
        io.BytesIO(data), mimetype="image/jpeg", etag=file.removesuffix(".jpg"), conditional=True
    )
    response.headers["Cache-Control"] = (
        f"public, max-age={YEAR_S}, immutable" if public else "private, no-store"
    )
    return response
