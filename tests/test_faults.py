"""Faults during traffic: a worker killed mid-write, PostgreSQL restarting under requests.

A worker killed with ``kill -9`` during a burst of writes loses no acknowledged write (a
302 means committed) and leaves nothing half-written, on SQLite and on PostgreSQL. A
PostgreSQL restart makes requests fail with the French storage 503 while it is down (HTML
pages, JSON under ``/api/``, never a 500), and the same app answers again once it is back.
Bounded in time; loopback and Unix sockets only.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest

from geoapp import create_app
from geoapp.store import Store
from tests.conftest import TOKEN, client_as
from tests.load import SCEAUX, Client, Ledger, Writer, check_ledger, inside_points
from tests.serving import free_port, geoapp_command, stop, wait_until_answering
from tests.test_server import workers_of

EDITOR = "sceaux-charge"
PASSWORD = "motdepasse-tres-long"
STORAGE_DOWN = "La base de données est indisponible"
BURST_TIMEOUT_S = 120.0  # the whole burst, kill and worker restart included


def database_name(url: str) -> str:
    return urlparse(url).path.lstrip("/")


def assert_stored_in_postgres(pg_server, url: str) -> None:
    """The app's tables are in the PostgreSQL database, not in a SQLite file that a store
    blind to URLs would have made of the address."""
    assert pg_server.psql(database_name(url), "SELECT count(*) FROM experiments").strip()


@pytest.fixture(params=["sqlite", "postgresql"])
def served_database(request, tmp_path) -> str:
    """The database a served app writes to: a SQLite file, or a PostgreSQL URL."""
    if request.param == "sqlite":
        return str(tmp_path / "qmi.sqlite3")
    return request.getfixturevalue("pg_server").new_database()


def serve(tmp_path: Path, database: str, *, workers: int) -> tuple[subprocess.Popen, str]:
    """``geoapp serve --workers N`` on a free loopback port, with one Sceaux editor."""
    env = {
        **os.environ,
        "GEOAPP_DATABASE": database,
        "GEOAPP_SECRET_KEY": "cle-de-test-partagee",
        "GEOAPP_EXPORT_CACHE_DIR": str(tmp_path / "ex"),
        "GEOAPP_NEW_PASSWORD": PASSWORD,
    }
    add = [geoapp_command(), "users", "add", EDITOR, "--role", "editeur", "--commune", "92071"]
    subprocess.run(add, env=env, check=True, capture_output=True, cwd=tmp_path, timeout=120)
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [geoapp_command(), "serve", "--port", str(port), "--workers", str(workers)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_answering(process, f"{base}/", log)
    except BaseException:
        stop(process)
        raise
    return process, base


def write_until(stop_event: threading.Event, writer: Writer, statuses: list[int]) -> None:
    """Create an experiment, then edit it once, in turn, until told to stop."""
    while not stop_event.is_set():
        if writer.versions:
            experiment_id = next(iter(writer.versions))
            answer = writer.edit(experiment_id)
            writer.versions.pop(experiment_id, None)  # edited once: the next write creates
        else:
            answer = writer.create()
        if answer is not None:  # None: the connection failed, outcome unknown
            statuses.append(answer.status)


def wait_for(condition, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"délai dépassé : {what}")
        time.sleep(0.05)


def test_killing_a_worker_mid_burst_loses_no_acknowledged_write(
    served_database, tmp_path, atlas, request
):
    process, base = serve(tmp_path, served_database, workers=2)
    if served_database.startswith("postgresql"):
        assert_stored_in_postgres(request.getfixturevalue("pg_server"), served_database)
    ledger = Ledger()
    statuses: list[int] = []
    stop_event = threading.Event()
    points = inside_points(atlas)
    threads = []
    try:
        workers = workers_of(process.pid)
        assert len(workers) == 2
        for i in range(6):
            client = Client(base)
            client.login(EDITOR, PASSWORD)
            writer = Writer(client, ledger, atlas, f"Écriture {i}", points)
            threads.append(
                threading.Thread(target=write_until, args=(stop_event, writer, statuses))
            )
        for t in threads:
            t.start()
        wait_for(lambda: ledger.acknowledged() >= 12, BURST_TIMEOUT_S, "12 écritures")
        victim = workers[0]
        os.kill(victim, signal.SIGKILL)
        before_kill = ledger.acknowledged()

        def replaced() -> bool:
            now = workers_of(process.pid)
            return len(now) == 2 and victim not in now

        wait_for(replaced, BURST_TIMEOUT_S, "gunicorn relance le processus tué")
        wait_for(lambda: ledger.acknowledged() >= before_kill + 12, BURST_TIMEOUT_S, "reprise")
        time.sleep(2.0)  # the new worker has built its app by now: it takes writes too
    finally:
        stop_event.set()
        for t in threads:
            t.join(timeout=60)
        stop(process)
    assert set(statuses) == {302}, sorted(set(statuses))  # never a 5xx from the live worker
    assert ledger.acknowledged() >= before_kill + 12
    store = Store(served_database)
    try:
        verdict = check_ledger(store, ledger, users={EDITOR})
    finally:
        store.close()
    assert verdict.lost == []
    assert verdict.broken == []
    assert verdict.stored_creates == len(ledger.created)
    assert verdict.stored_unknown_creates <= len(ledger.unknown_creates)
    if not served_database.startswith("postgresql"):
        with sqlite3.connect(served_database) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            assert conn.execute("PRAGMA foreign_key_check").fetchall() == []


def classify(response) -> str:
    """``ok``, ``down`` (the French storage 503 in the right format) or what else it was."""
    if response.status_code in (200, 302):
        return "ok"
    if response.status_code != 503:
        return f"status {response.status_code}"
    if response.request.path.startswith("/api/"):
        data = response.get_json(silent=True) or {}
        ok = data.get("statut") == 503 and data.get("erreur", "").startswith(STORAGE_DOWN)
        return "down" if ok else f"bad json {data}"
    page = response.get_data(as_text=True)
    ok = '<html lang="fr">' in page and STORAGE_DOWN in page
    return "down" if ok else f"bad page {page[:200]}"


def test_a_postgresql_restart_is_a_french_503_then_the_same_app_recovers(
    pg_server, atlas, tmp_path
):
    url = pg_server.new_database()
    app = create_app(
        {
            "TESTING": True,
            "ATLAS": atlas,
            "DATABASE": url,
            "EXPORT_CACHE_DIR": str(tmp_path / "ex"),
            "SECRET_KEY": "test-secret",
        }
    )
    assert_stored_in_postgres(pg_server, url)
    admin = client_as(app, "admin-mgp", "administrateur")
    first = app.extensions["qmi_store"].list_experiments()[0]["id"]
    lon, lat = inside_points(atlas, n=1)[0]
    form = {
        "csrf_token": TOKEN,
        "title": "Pendant le redémarrage",
        "organisation": "Association",
        "org_kind": "association",
        "theme": "espaces publics",
        "objectives": [atlas.objectives()[SCEAUX][0]],
        "description": "Écrite pendant que PostgreSQL redémarre.",
        "status": "proposée",
        "lon": str(lon),
        "lat": str(lat),
        "precision": "exacte",
    }
    writes: list[int] = []

    def create():
        response = admin.post(f"/quartiers/{SCEAUX}/experimentations", data=form)
        writes.append(response.status_code)
        return response

    requests = [
        lambda: admin.get("/experimentations"),
        lambda: admin.get("/api/experimentations.geojson"),
        lambda: admin.get(f"/api/experimentations/{first}"),
        create,
    ]
    seen: list[tuple[float, str]] = []

    def run(n: int) -> None:
        for i in range(n):
            seen.append((time.monotonic(), classify(requests[i % len(requests)]())))

    run(8)
    assert {c for _, c in seen} == {"ok"}
    restarted = threading.Thread(target=pg_server.restart, kwargs={"down_s": 1.0})
    began = time.monotonic()
    restarted.start()
    deadline = began + 60
    while restarted.is_alive() and time.monotonic() < deadline:
        run(1)
    restarted.join(timeout=60)
    back = time.monotonic()
    assert not restarted.is_alive(), "PostgreSQL n’a pas redémarré en 60 s"
    during = [c for t, c in seen if t >= began]
    assert "down" in during, during  # the outage was seen, as the French 503

    def answers_again() -> bool:
        run(1)
        return seen[-1][1] == "ok"

    wait_for(answers_again, 10.0, "la même application répond")
    recovered = len(seen)
    run(20)
    after = [c for _, c in seen[recovered:]]
    assert after == ["ok"] * 20
    odd = [c for _, c in seen if c not in ("ok", "down")]
    assert odd == []  # never a 500, nor a 503 without the storage message
    late = [t - back for t, c in seen if c == "down" and t > back]
    assert len(late) <= 1, late  # only one begun before it was back: its connection was cut
    store = app.extensions["qmi_store"]
    stored = [e for e in store.list_experiments() if e["title"] == form["title"]]
    store.close()
    # Every acknowledged create is stored; one answered 503 is not, unless the outage cut
    # the reply to its commit (the client cannot tell that case from a refusal).
    assert writes.count(302) <= len(stored) <= writes.count(302) + writes.count(503)
