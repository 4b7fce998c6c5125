"""Serving the app: waitress threads by default, or several gunicorn worker processes.

One process (waitress, which also runs on Windows) suits a laptop or a city-hall server.
``--workers N`` runs N processes with gunicorn (Linux and macOS), each building its own app:
caches are per process and keyed on the database's version counters, sessions are signed
cookies with the one instance key, and the login throttle lives in the database, so any
worker answers any request the same way. Where gunicorn does not exist (Windows), the same
command falls back to waitress with more threads, and says so.
"""

from __future__ import annotations

from collections.abc import Callable

import click
from flask import Flask
from waitress import serve as waitress_serve

try:  # gunicorn is a POSIX server: not installed on Windows
    from gunicorn.app.base import BaseApplication
except ImportError:  # pragma: no cover - exercised on Windows only
    BaseApplication = None


def serve(
    make_app: Callable[[], Flask], app: Flask, *, host: str, port: int, workers: int, threads: int
) -> None:
    """Serve on ``host:port``: ``app`` in this process, or ``workers`` processes of
    ``make_app()`` (one app per worker, built after the fork)."""
    if workers <= 1:
        waitress_serve(app, host=host, port=port, threads=threads)
        return
    if BaseApplication is None:
        click.echo(
            f"gunicorn n’existe pas sur ce système (Windows) : un seul processus "
            f"waitress sert l’application, avec {workers * threads} fils d’exécution.",
            err=True,
        )
        waitress_serve(app, host=host, port=port, threads=workers * threads)
        return
    _Gunicorn(
        make_app,
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "threads": threads,
            "worker_class": "gthread",
            "accesslog": None,
            "graceful_timeout": 10,
            "timeout": 120,
        },
    ).run()


if BaseApplication is not None:

    class _Gunicorn(BaseApplication):
        """gunicorn driven from Python: options from the command line, no config file."""

        def __init__(self, make_app: Callable[[], Flask], options: dict) -> None:
            self._make_app = make_app
            self._options = options
            super().__init__()

        def load_config(self) -> None:
            for key, value in self._options.items():
                self.cfg.set(key, value)

        def load(self) -> Flask:
            return self._make_app()
