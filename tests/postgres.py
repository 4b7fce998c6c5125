"""A throwaway PostgreSQL/PostGIS server for the tests: no manual step, no network.

`TestServer.start()` runs Debian's ``initdb`` on a temporary folder and ``pg_ctl`` with a
Unix socket in it (``listen_addresses=''``: nothing listens on TCP), creates a template
database holding the PostGIS extension, and hands out fresh databases cloned from it
(`new_database`), so every test starts empty and fast. PostgreSQL refuses to run as
root: under root (CI) the cluster belongs to the ``postgres`` system user Debian's
package creates. Durability is off (``fsync=off``): the data is thrown away.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

PG_BIN = Path(os.environ.get("GEOAPP_PG_BIN", "/usr/lib/postgresql/15/bin"))
TEMPLATE = "qmi_template"  # PostGIS, no table
MIGRATED = "qmi_migrated"  # PostGIS and every migration: what most tests start from
SUPERUSER = "postgres"


class TestServer:
    """One PostgreSQL cluster in a temporary folder, reachable through its socket."""

    __test__ = False  # not a pytest test class

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="qmi-pg-"))
        self.data = self.root / "data"
        self.socket_dir = self.root
        self._names = itertools.count(1)

    @staticmethod
    def available() -> str | None:
        """Why the server cannot start here (French, for the failure), or ``None``."""
        if not (PG_BIN / "initdb").exists():
            return f"PostgreSQL introuvable ({PG_BIN}) : lancez scripts/install-test-deps.sh."
        if not Path("/usr/share/postgresql/15/extension/postgis.control").exists():
            return "PostGIS introuvable : lancez scripts/install-test-deps.sh."
        return None

    def _run(self, *args: str, **kwargs) -> subprocess.CompletedProcess:
        """A PostgreSQL program, as the ``postgres`` user when we are root."""
        command = [str(PG_BIN / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", SUPERUSER, "--", *command]
        return subprocess.run(command, check=True, capture_output=True, text=True, **kwargs)

    def start(self) -> TestServer:
        if os.geteuid() == 0:
            shutil.chown(self.root, SUPERUSER)
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            SUPERUSER,
            "-A",
            "trust",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        )
        self._pg_ctl_start()
        self.psql("postgres", f"CREATE DATABASE {TEMPLATE}")
        self.psql(TEMPLATE, "CREATE EXTENSION postgis")
        self.psql("postgres", f"CREATE DATABASE {MIGRATED} TEMPLATE {TEMPLATE}")
        from geoapp.store.migrations import upgrade  # once here, not once per test

        upgrade(self.url(MIGRATED))
        return self

    def _pg_ctl_start(self) -> None:
        options = (
            f"-k {self.socket_dir} -c listen_addresses='' -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "-l",
            str(self.root / "server.log"),
            "start",
        )

    def psql(self, database: str, sql: str) -> str:
        """Run ``sql`` in ``database`` as the superuser; its output."""
        return self._run(
            "psql",
            "-h",
            str(self.socket_dir),
            "-U",
            SUPERUSER,
            "-d",
            database,
            "-v",
            "ON_ERROR_STOP=1",
            "-qAtc",
            sql,
        ).stdout

    def url(self, database: str) -> str:
        """The SQLAlchemy URL of ``database`` through the Unix socket."""
        return f"postgresql://{SUPERUSER}@/{database}?host={self.socket_dir}"

    def new_database(self, *, migrated: bool = True) -> str:
        """A fresh database with PostGIS, its tables created (``migrated``) or none; its URL."""
        name = f"qmi_test_{os.getpid()}_{next(self._names)}"
        template = MIGRATED if migrated else TEMPLATE
        self.psql("postgres", f"CREATE DATABASE {name} TEMPLATE {template}")
        return self.url(name)

    def restart(self, *, down_s: float = 0.0) -> None:
        """Stop the server (fast: connections are cut), wait, start it again."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        time.sleep(down_s)
        self._pg_ctl_start()

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        except subprocess.CalledProcessError:
            pass  # never started, or already stopped
        shutil.rmtree(self.root, ignore_errors=True)
