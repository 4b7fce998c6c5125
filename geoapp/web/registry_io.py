"""The registry's files on the web: downloads (CSV, .xlsx, GeoJSON), the import template,
and the import itself, previewed then confirmed (`geoapp.imports` does the work).

Nothing here writes before the confirmation, and the confirmation reads the server's own
copy of the file (`Store.save_import_batch`), never what the browser sends back.
"""

from __future__ import annotations

import secrets
from urllib.parse import quote

from flask import Blueprint, Response, flash, g, redirect, render_template, request, url_for

from geoapp.errors import GeoappError
from geoapp.imports import CREATE, ERROR, SAME, UPDATE, apply_plan, import_template
from geoapp.registry_files import write_csv, write_geojson, write_xlsx
from geoapp.spreadsheets import XLSX_MIMETYPE
from geoapp.web.context import account_only, get_atlas, get_store, read_filters
from geoapp.web.registry_view import district_names, preview

bp = Blueprint("registry_io", __name__)

IMPORT_NEEDS_ACCOUNT = "Connectez-vous pour importer des expérimentations."
TEMPLATE_NAME = "Modèle d’import.xlsx"


def _download(data: bytes | str, mimetype: str, filename: str) -> Response:
    return Response(
        data,
        content_type=mimetype,
        headers={"Content-Disposition": f"attachment; {_disposition(filename)}"},
    )


def _disposition(filename: str) -> str:
    """``filename`` for every browser: an ASCII fallback and the UTF-8 name (RFC 6266)."""
    ascii_name = filename.encode("ascii", "ignore").decode().replace("'", "") or "fichier"
    return f"filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


def _filtered_rows() -> list[dict]:
    return get_store().list_experiments(**read_filters(with_district=True))


@bp.get("/experimentations/export.csv")
def export_csv():
    data = write_csv(_filtered_rows(), district_names=district_names())
    return _download(data, "text/csv; charset=utf-8", "experimentations-qmi.csv")


@bp.get("/experimentations/export.xlsx")
def export_xlsx():
    data = write_xlsx(_filtered_rows(), district_names=district_names())
    return _download(data, XLSX_MIMETYPE, "experimentations-qmi.xlsx")


@bp.get("/experimentations/export.geojson")
def export_geojson():
    return _download(
        write_geojson(_filtered_rows()), "application/geo+json", "experimentations-qmi.geojson"
    )


@bp.get("/experimentations/modele-import.xlsx")
def import_template_file():
    return _download(import_template(get_atlas()), XLSX_MIMETYPE, TEMPLATE_NAME)


@bp.post("/experimentations/import")
@account_only(IMPORT_NEEDS_ACCOUNT)
def import_file():
    """Preview an upload: nothing is written; the file waits server-side for confirmation."""
    user = _importer()
    upload = request.files.get("fichier")
    if not upload or not upload.filename:
        raise GeoappError(
            "Choisissez un fichier à importer : Excel (.xlsx), CSV, GeoJSON, GeoPackage ou KML.",
            400,
        )
    data = upload.read()
    return _render_preview(preview(upload.filename, data, user), upload.filename, data)


def _importer() -> dict:
    if not g.get("user"):  # account_only already refused it before the body was read
        raise GeoappError(IMPORT_NEEDS_ACCOUNT, 401)
    return g.user


def _render_preview(plan, filename: str, data: bytes, *, notice: str | None = None):
    """The preview page; an error-free plan with something to write gets a token under
    which the server keeps the file (never the browser) until « Confirmer »."""
    token = None
    writes = plan.counts[CREATE] + plan.counts[UPDATE]
    if plan.ok and writes:
        token = secrets.token_urlsafe(24)
        get_store().save_import_batch(
            token, user=g.user["username"], filename=filename, data=data, digest=plan.digest()
        )
    status = 409 if notice else 200 if plan.ok else 422
    return render_template(
        "experiments/import_preview.html",
        plan=plan,
        token=token,
        filename=filename,
        notice=notice,
        district_names=district_names(),
        actions={"create": CREATE, "update": UPDATE, "same": SAME, "error": ERROR},
    ), status


@bp.post("/experimentations/import/confirmer")
@account_only(IMPORT_NEEDS_ACCOUNT)
def import_confirm():
    """Apply the previewed file, read again from the server's copy: all or nothing."""
    user = _importer()
    token = request.form.get("lot", "")
    store = get_store()
    batch = store.load_import_batch(token, user=user["username"]) if token else None
    if batch is None:
        raise GeoappError(
            "Cet aperçu d’import n’existe plus (déjà appliqué, remplacé par un autre ou "
            "ouvert depuis plus d’une heure) : importez à nouveau le fichier.",
            404,
        )
    plan = preview(batch["filename"], batch["data"], user)
    if plan.digest() != batch["digest"]:
        notice = (
            "Le registre a changé depuis l’aperçu (quelqu’un a enregistré entre-temps) : "
            "rien n’a été importé. Voici l’aperçu à jour ; confirmez-le s’il vous convient."
        )
        return _render_preview(plan, batch["filename"], batch["data"], notice=notice)
    created, modified = apply_plan(plan, store=store, user=user["username"], batch=token)
    flash(
        f"Import terminé : {created} expérimentation(s) créée(s), {modified} modifiée(s), "
        f"{plan.counts[SAME]} inchangée(s).",
        "info",
    )
    return redirect(url_for("experiments.registry"))
