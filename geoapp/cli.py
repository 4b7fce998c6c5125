"""Command line: ``geoapp serve`` and friends, thin wrappers over the library."""

from __future__ import annotations

import functools
from pathlib import Path

import click
from flask import current_app
from flask.cli import FlaskGroup

from geoapp import create_app, server
from geoapp.errors import GeoappError
from geoapp.store import migrations, transfer
from geoapp.vocabulary import ROLE_LABELS, ROLES


class Refusal(click.ClickException):
    """A domain error for the terminal: ``Erreur : <message>`` on stderr, exit code 1."""

    def show(self, file=None) -> None:
        click.echo(f"Erreur : {self.format_message()}", file=file, err=True)


def clean_errors(command):
    """Run ``command``, turning a `GeoappError` (refused input, conflict, unusable data file)
    into a `Refusal`: its French message, no traceback, exit code 1.

    Only domain errors: any other exception is a bug and keeps its traceback. Every command
    carries this decorator (a test checks it); start-up errors are caught once, in
    `_app_for_cli`, since the app loads before any command runs.
    """

    @functools.wraps(command)
    def run(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except GeoappError as exc:
            raise Refusal(exc.message) from exc

    run.geoapp_clean_errors = True
    return run


def _app_for_cli():
    """The app, or a clean French message (no traceback) when the data cannot load."""
    try:
        return create_app()
    except GeoappError as exc:
        raise Refusal(f"QMI Atlas ne peut pas démarrer : {exc.message}") from exc


@click.group(
    cls=FlaskGroup, create_app=_app_for_cli, add_default_commands=False, add_version_option=False
)
def main() -> None:
    """QMI Atlas : cartes, coupures urbaines et expérimentations des quartiers QMI."""


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Adresse d’écoute.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port d’écoute.")
@click.option(
    "--threads", default=4, show_default=True, type=int, help="Fils d’exécution par processus."
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Processus (gunicorn sous Linux ; waitress seul sous Windows).",
)
@clean_errors
def serve(host: str, port: int, threads: int, workers: int) -> None:
    """Start QMI Atlas: waitress in one process, or gunicorn with ``--workers`` processes."""
    app = current_app._get_current_object()
    click.echo(f"QMI Atlas : http://{host}:{port}/ (Ctrl+C pour arrêter)")
    server.serve(create_app, app, host=host, port=port, workers=workers, threads=threads)


def _store():
    return current_app.extensions["qmi_store"]


@main.group("users")
def users() -> None:
    """Comptes : éditeurs de commune et administrateurs."""


@users.command("add")
@click.argument("username")
@click.option(
    "--role",
    type=click.Choice(ROLES),
    required=True,
    help="editeur : un seul quartier (celui de --commune) ; administrateur : tout.",
)
@click.option("--commune", help="Code INSEE de la commune de l’éditeur (ex. 92071 pour Sceaux).")
@click.option(
    "--password",
    prompt="Mot de passe",
    hide_input=True,
    confirmation_prompt=True,
    envvar="GEOAPP_NEW_PASSWORD",
    help="Demandé si absent (ou variable GEOAPP_NEW_PASSWORD).",
)
@clean_errors
def users_add(username: str, role: str, commune: str | None, password: str) -> None:
    """Créer un compte."""

    atlas = current_app.extensions["qmi_atlas"]
    codes = list(atlas.districts["code_insee"])
    if commune and commune not in codes:
        raise GeoappError(
            f"La commune {commune} n’accueille pas de quartier QMI "
            f"(codes possibles : {', '.join(codes)}).",
            422,
        )
    _store().add_user(username, password, role=role, commune=commune)
    where = f" de {commune}" if commune else ""
    click.echo(f"Compte « {username} » créé ({ROLE_LABELS[role]}{where}).")


@users.command("list")
@clean_errors
def users_list() -> None:
    """Lister les comptes."""
    for user in _store().list_users():
        role = ROLE_LABELS[user["role"]]
        click.echo(f"{user['username']}\t{role}\t{user.get('commune') or '—'}")


@users.command("passwd")
@click.argument("username")
@click.option(
    "--password",
    prompt="Nouveau mot de passe",
    hide_input=True,
    confirmation_prompt=True,
    envvar="GEOAPP_NEW_PASSWORD",
)
@clean_errors
def users_passwd(username: str, password: str) -> None:
    """Changer le mot de passe d’un compte."""

    _store().set_password(username, password)
    click.echo(f"Mot de passe de « {username} » changé.")


@users.command("remove")
@click.argument("username")
@clean_errors
def users_remove(username: str) -> None:
    """Supprimer un compte."""

    _store().delete_user(username)
    click.echo(f"Compte « {username} » supprimé.")


def _configured_database() -> str:
    """``GEOAPP_DATABASE`` as the app would read it (default: the instance's SQLite file),
    without starting the app: a restore must not seed the database it replaces."""
    from flask import Flask

    from geoapp.config import settings_from_env

    return settings_from_env(Flask("geoapp").instance_path)["DATABASE"]


@main.group("db")
def db() -> None:
    """Base de données : migrations, copie SQLite ⇄ PostGIS, sauvegarde et restauration."""


@db.command("upgrade", with_appcontext=False)
@click.option("--base", "url", help="Base visée (défaut : GEOAPP_DATABASE).")
@clean_errors
def db_upgrade(url: str | None) -> None:
    """Apply the migrations up to the latest revision."""
    url = url or _configured_database()
    revision = migrations.upgrade(url)
    click.echo(f"Base à jour (révision {revision}).")


@db.command("copy", with_appcontext=False)
@click.argument("source")
@click.argument("target")
@clean_errors
def db_copy(source: str, target: str) -> None:
    """Copy a whole deployment from SOURCE to the empty TARGET, then verify it table by table."""
    checks = transfer.copy_database(source, target)
    for c in checks:
        mark = "ok" if c.ok else "DIFFÉRENT"
        click.echo(f"{c.table:20s} {c.source_rows:>8d} → {c.target_rows:>8d}  {mark}")
    if not all(c.ok for c in checks):
        raise Refusal("la copie diffère de la source (voir ci-dessus).")
    click.echo("Copie vérifiée : mêmes lignes et mêmes sommes de contrôle dans chaque table.")


@db.command("backup", with_appcontext=False)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--base", "url", help="Base à sauvegarder (défaut : GEOAPP_DATABASE).")
@clean_errors
def db_backup(file: Path, url: str | None) -> None:
    """Write a consistent snapshot of the database to FILE (the app may keep running)."""
    transfer.backup(url or _configured_database(), file)
    click.echo(f"Sauvegarde écrite : {file}")


@db.command("restore", with_appcontext=False)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--base", "url", help="Base à remplacer (défaut : GEOAPP_DATABASE).")
@clean_errors
def db_restore(file: Path, url: str | None) -> None:
    """Replace the database by the snapshot FILE (stop the app first)."""
    transfer.restore(file, url or _configured_database())
    click.echo(f"Base restaurée depuis {file}.")


@main.command("export")
@click.option(
    "--quartier",
    "target",
    metavar="SLUG|all",
    help="Quartier à exporter (ex. sceaux-les-blagis), ou « all » pour le programme.",
)
@click.option(
    "--format",
    "fmt",
    metavar="FORMAT",
    help="png, svg, pdf, fiche, html, gpkg, geojson, csv ou kml.",
)
@click.option("--taille", help="diapo (16:9, 1920×1080) ou a4 (A4 paysage, 300 dpi).")
@click.option("--crs", help="GeoPackage : 2154 (Lambert-93, défaut) ou 4326 (WGS84).")
@click.option(
    "--vue",
    help="Cartes (png, svg, pdf) : experimentations (défaut) ou coupure (côtés, "
    "franchissements, meilleurs sites).",
)
@click.option("--theme", help="Seulement les expérimentations de ce thème.")
@click.option("--statut", help="Seulement les expérimentations de ce statut.")
@click.option(
    "--tout",
    is_flag=True,
    help="Tous les exports de chaque quartier et du programme, dans le dossier --out.",
)
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(),
    help="Fichier à écrire (ou dossier : nom automatique ; avec --tout : dossier).",
)
@clean_errors
def export(target, fmt, taille, crs, vue, theme, statut, tout, out) -> None:
    """Exporter cartes, fiches et données (mêmes fichiers que le menu « Exporter »)."""

    from geoapp.exports import ExportCache, batch_jobs, make_export, write_export

    atlas = current_app.extensions["qmi_atlas"]
    cache = ExportCache(current_app.config.get("EXPORT_CACHE_DIR"))
    filters = {"theme": theme, "status": statut}
    if not tout:
        if not target or not fmt:
            raise GeoappError("Indiquez --quartier et --format (ou --tout).", 400)
        made = make_export(
            atlas,
            _store(),
            target=target,
            fmt=fmt,
            size=taille,
            crs=crs,
            view=vue,
            cache=cache,
            **filters,
        )
        path = write_export(made, Path(out))
        click.echo(f"Export écrit : {path} ({len(made.data) // 1024 + 1} Kio)")
        return
    jobs = batch_jobs(atlas, target=target, fmt=fmt)
    with click.progressbar(
        jobs,
        label=f"{len(jobs)} exports",
        show_pos=True,
        item_show_func=lambda j: j and f"{j[0]} {j[1]}",
    ) as bar:
        for job_target, job_fmt, options in bar:
            made = make_export(
                atlas, _store(), target=job_target, fmt=job_fmt, cache=cache, **options, **filters
            )
            write_export(made, Path(out), directory=True)
    click.echo(f"{len(jobs)} fichiers écrits dans {out}")


@main.command("import")
@click.argument("fichier", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--compte", required=True, help="Compte au nom duquel importer (ses droits s’appliquent)."
)
@click.option(
    "--apercu", is_flag=True, help="Montrer ce que ferait l’import sans rien enregistrer."
)
@clean_errors
def import_file(fichier: Path, compte: str, apercu: bool) -> None:
    """Importer un classeur Excel (.xlsx), un CSV ou un GeoJSON dans le registre.

    Même contrôle que l’import du site : aperçu ligne par ligne, puis tout ou rien.
    """
    from geoapp.imports import SAME, apply_plan, preview_file, report_lines

    store = _store()
    user = store.get_user(compte)
    if user is None:
        raise GeoappError(f"Compte inconnu : « {compte} » (voir geoapp users list).", 404)
    try:
        data = fichier.read_bytes()
    except OSError as exc:
        raise GeoappError(f"Fichier illisible : {fichier} ({exc.strerror}).", 400) from exc
    plan = preview_file(
        fichier.name,
        data,
        atlas=current_app.extensions["qmi_atlas"],
        store=store,
        user=user,
        max_rows=current_app.config["IMPORT_MAX_ROWS"],
    )
    for line in report_lines(plan):
        click.echo(line)
    if not plan.ok:
        raise Refusal(f"import refusé, rien n’a été enregistré ({plan.summary()}).")
    if apercu:
        click.echo("Aperçu seulement : rien n’a été enregistré.")
        return
    created, modified = apply_plan(plan, store=store, user=user["username"])
    click.echo(
        f"Import terminé : {created} créée(s), {modified} modifiée(s), "
        f"{plan.counts[SAME]} inchangée(s)."
    )
