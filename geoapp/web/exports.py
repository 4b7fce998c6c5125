"""Downloads of every export, for one district or the programme, with the page's filters.

``/exports/<slug|all>.<suffix>`` where the suffix names the format (``png``, ``svg``,
``pdf``, ``fiche.pdf``, ``html``, ``gpkg``, ``geojson``, ``csv``, ``kml``). Query
parameters: ``taille`` (``diapo`` | ``a4``), ``crs`` (``2154`` | ``4326``, GeoPackage),
``theme``, ``statut`` and, for ``all``, ``quartier`` — the filters of the page the user is
on, so the file shows what the page shows. Bad parameters give a French 4xx page.

A cached export is sent at once. A cold one is handed to the process's background jobs
(:mod:`geoapp.exports.jobs`: at most ``GEOAPP_EXPORT_JOBS`` at a time, one job per
export whoever asks); the request waits for it ``GEOAPP_EXPORT_WAIT`` seconds at most,
then answers 202 "en préparation" (``Retry-After``; JSON for clients that ask for it).
That page refreshes itself on ``/exports/attente/<name>``, an ordinary page of the app
rather than a sandboxed download (browsers refuse downloads started by a sandboxed
document), which starts the download once the file is ready or shows the job's French
error. Request threads never spend minutes on an export: map pages keep answering.
"""

from __future__ import annotations

import threading
import time

from flask import Blueprint, Response, current_app, render_template, request, url_for

from geoapp.errors import GeoappError
from geoapp.exports import ALL, BY_SUFFIX, FORMATS, ExportCache, ExportPlan, plan_export
from geoapp.exports.jobs import QUEUED, ExportJobs, ExportsBusy, Job
from geoapp.vocabulary import EXPORT_RETRY_S
from geoapp.web.context import get_atlas, get_store

bp = Blueprint("exports", __name__, url_prefix="/exports")
_JOBS_LOCK = threading.Lock()

FILTER_PARAMS = ("theme", "statut", "quartier")
# Menu entries: (format key, extra query parameters, French label).
MENU = [
    ("png", {"taille": "diapo"}, "Image pour diapositive (PNG 1920×1080)"),
    ("png", {"taille": "a4"}, "Image A4 paysage (PNG 300 dpi)"),
    ("pdf", {"taille": "a4"}, "Carte A4 vectorielle (PDF)"),
    ("png", {"taille": "diapo", "vue": "coupure"}, "La coupure pour diapositive (PNG 1920×1080)"),
    ("pdf", {"taille": "a4", "vue": "coupure"}, "La coupure, carte A4 vectorielle (PDF)"),
    ("svg", {"taille": "diapo"}, "Carte vectorielle (SVG)"),
    ("fiche", {}, "Fiche quartier (PDF A4)"),
    ("html", {}, "Carte interactive hors ligne (HTML)"),
    ("gpkg", {"crs": "2154"}, "GeoPackage Lambert-93 (EPSG:2154)"),
    ("gpkg", {"crs": "4326"}, "GeoPackage WGS84 (EPSG:4326)"),
    ("geojson", {}, "GeoJSON (WGS84)"),
    ("csv", {}, "Expérimentations pour Excel (CSV)"),
    ("kml", {}, "KML (Google Earth)"),
]


@bp.get("/<name>")
def download(name: str):
    """One export as an attachment: at once when cached, else built in the background
    (a 202 "en préparation" page if it takes more than ``EXPORT_WAIT`` seconds)."""
    plan = _plan(name)
    data = plan.cached()
    if data is not None:
        return _attachment(plan, data)
    try:
        job = export_jobs().submit(plan)
    except ExportsBusy as busy:
        return _busy(busy, plan)
    export = _settle(job, _wait_s())
    if export is None:
        return _waiting(job, name)
    return _attachment(plan, export.data)


def export_status(name: str):
    """The "en préparation" page: refreshes itself until the export is ready, then
    starts the download (an ordinary page: a sandboxed one could not download)."""
    plan = _plan(name)
    if plan.cached() is None:
        try:
            job = export_jobs().submit(plan)
        except ExportsBusy as busy:
            return _busy(busy, plan)
        if _settle(job, 0) is None:
            return _waiting(job, name)
    file_url = url_for("exports.download", name=name, **request.args)
    return _answer(
        plan,
        200,
        state="prête",
        heading="Export prêt",
        message="Le téléchargement commence. S’il ne démarre pas, utilisez le lien ci-dessous.",
        refresh=(0, file_url),
        file_url=file_url,
    )


# Not under the blueprint's name: isolate_exports sandboxes every "exports." endpoint.
bp.record_once(
    lambda state: state.app.add_url_rule(
        "/exports/attente/<name>", "export_status", export_status, methods=["GET"]
    )
)


def export_jobs() -> ExportJobs:
    """This process's background export jobs, made on first use from the settings."""
    app = current_app
    with _JOBS_LOCK:
        jobs = app.extensions.get("qmi_export_jobs")
        if jobs is None:
            jobs = ExportJobs(workers=app.config["EXPORT_JOBS"], queue=app.config["EXPORT_QUEUE"])
            app.extensions["qmi_export_jobs"] = jobs
    return jobs


def _plan(name: str) -> ExportPlan:
    target, _, suffix = name.partition(".")
    fmt = BY_SUFFIX.get(suffix)
    if fmt is None:
        raise GeoappError(
            f"Format d’export inconnu : « {suffix or name} ». Formats "
            "possibles : " + ", ".join(BY_SUFFIX) + ".",
            404,
        )
    args = request.args
    return plan_export(
        get_atlas(),
        get_store(),
        target=target,
        fmt=fmt.key,
        size=args.get("taille"),
        crs=args.get("crs"),
        view=args.get("vue") or None,
        theme=args.get("theme") or None,
        status=args.get("statut") or None,
        district=(args.get("quartier") or None) if target == ALL else None,
        cache=ExportCache(current_app.config.get("EXPORT_CACHE_DIR")),
    )


def _wait_s() -> float | None:
    """Seconds a download waits for its job: ``EXPORT_WAIT`` (5 s by default). ``None``
    waits until it is done: the test apps' setting (tests/conftest.py), so a slow machine
    running the suite never turns a download into a 202; the tests of that page set it."""
    return current_app.config["EXPORT_WAIT"]


def _settle(job: Job, wait: float | None):
    """The job's export after waiting ``wait`` seconds (``None``: until done), or
    ``None``; a failed job's French error is raised once, then forgotten so the next
    request tries again."""
    try:
        return export_jobs().wait(job, wait)
    except GeoappError:
        export_jobs().forget(job)
        raise


def _attachment(plan: ExportPlan, data: bytes) -> Response:
    # content_type, not mimetype: werkzeug appends "; charset=utf-8" to a text/* mimetype,
    # and ours already carry it (the header ended with it twice).
    response = Response(data, content_type=plan.mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{plan.filename}"'
    response.headers["Cache-Control"] = "no-cache"
    return response


def _waiting(job: Job, name: str) -> Response:
    """202: the export is queued or being built; the page asks again by itself."""
    if job.state == QUEUED:
        ahead = export_jobs().ahead_of(job)
        where = f"Il attend son tour ({ahead} export{'s' if ahead > 1 else ''} avant lui)."
    else:
        where = f"Sa fabrication est en cours depuis {int(time.monotonic() - job.asked)} s."
    return _answer(
        job.plan,
        202,
        state=job.state,
        heading="Export en préparation",
        message=f"{where} Cette page se met à jour toute seule ; le téléchargement "
        "commencera dès que le fichier sera prêt. Il restera disponible jusqu’à la "
        "prochaine modification du registre.",
        refresh=(EXPORT_RETRY_S, url_for("export_status", name=name, **request.args)),
    )


def _busy(busy: ExportsBusy, plan: ExportPlan) -> Response:
    return _answer(
        plan,
        busy.status,
        state="occupé",
        heading="Trop d’exports en préparation",
        message=busy.message,
        refresh=(EXPORT_RETRY_S, request.full_path),
    )


def _answer(
    plan: ExportPlan,
    status: int,
    *,
    state: str,
    heading: str,
    message: str,
    refresh: tuple[int, str],
    file_url: str | None = None,
) -> Response:
    """The waiting/ready page, or the same as JSON for clients that ask for JSON."""
    delay, then = refresh
    if request.accept_mimetypes.best_match(["text/html", "application/json"]) == (
        "application/json"
    ):
        body = {
            "etat": state,
            "message": message,
            "fichier": plan.filename,
            "url": file_url or url_for("exports.download", name=_name(), **request.args),
            "reessayer_dans_s": delay,
        }
        response = current_app.json.response(body)
        response.status_code = status
    else:
        html = render_template(
            "exports/pending.html",
            plan=plan,
            heading=heading,
            message=message,
            delay=delay,
            then=then,
            file_url=file_url,
            back_url=_back_url(),
        )
        response = Response(html, status=status, content_type="text/html; charset=utf-8")
    if status != 200:
        response.headers["Retry-After"] = str(delay)
    response.headers["Cache-Control"] = "no-store"
    return response


def _name() -> str:
    return (request.view_args or {}).get("name", "")


def _back_url() -> str:
    """The page the export belongs to: its district, or the overview."""
    target = _name().partition(".")[0]
    if target in get_atlas().slugs:
        return url_for("pages.district", slug=target)
    return url_for("pages.index")


def export_links(target: str, filters: dict | None = None) -> list[dict]:
    """The menu's links for ``target`` (slug or ``all``), each keeping ``filters``.

    ``filters`` maps query names (``theme``, ``statut``, ``quartier``) to values; by default
    they are read from the current request, so the menu follows the page's filters.
    """
    source = request.args if filters is None else filters
    kept = {k: source.get(k) for k in FILTER_PARAMS if source.get(k)}
    if target != ALL:
        kept.pop("quartier", None)
    links = []
    for key, extra, label in MENU:
        fmt = FORMATS[key]
        if extra.get("vue") == "coupure" and target == ALL:
            continue  # the cut view is a district's; the programme sheet compares them
        if key == "fiche" and target == ALL:
            label = "Fiche programme : les quatre quartiers (PDF A4)"
        url = url_for("exports.download", name=f"{target}.{fmt.suffix}", **extra, **kept)
        links.append(
            {"url": url, "label": label, "format": key, "extension": fmt.extension.upper()}
        )
    return links


@bp.app_context_processor
def _menu_helpers() -> dict:
    return {"export_links": export_links}
