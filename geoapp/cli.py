"""Command line: ``geoapp serve`` and friends, thin wrappers over the library."""

from __future__ import annotations

import click
from flask.cli import FlaskGroup

from geoapp import create_app


@click.group(cls=FlaskGroup, create_app=create_app, add_default_commands=False,
             add_version_option=False)
def main() -> None:
    """QMI Atlas : cartes, coupures urbaines et expérimentations des quartiers QMI."""


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Adresse d’écoute.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port d’écoute.")
@click.option("--threads", default=4, show_default=True, type=int)
def serve(host: str, port: int, threads: int) -> None:
    """Start QMI Atlas on waitress, a production WSGI server that also runs on Windows."""
    from flask import current_app
    from waitress import serve as waitress_serve

    app = current_app._get_current_object()
    click.echo(f"QMI Atlas : http://{host}:{port}/ (Ctrl+C pour arrêter)")
    waitress_serve(app, host=host, port=port, threads=threads)
