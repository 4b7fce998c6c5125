"""``geoapp serve`` starts waitress and answers, as the README's first command promises."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

START_TIMEOUT_S = 90.0  # the atlas is built at start-up: a few seconds on a busy machine


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def geoapp_command() -> str:
    """The installed ``geoapp`` script of this interpreter (pip install -e .)."""
    beside = Path(sys.executable).parent / "geoapp"
    found = str(beside) if beside.exists() else shutil.which("geoapp")
    if not found:
        pytest.fail("commande « geoapp » introuvable : pip install -e .")
    return found


def get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, response.read().decode("utf-8")


def wait_until_answering(process: subprocess.Popen, url: str, log: Path) -> tuple[int, str]:
    """Poll ``url`` until it answers; fail early if the server exits or never answers."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"geoapp serve s’est arrêté ({process.returncode}) :\n{log.read_text()}")
        try:
            return get(url)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    pytest.fail(f"geoapp serve ne répond pas après {START_TIMEOUT_S:.0f} s :\n{log.read_text()}")


def test_geoapp_serve_answers_on_its_port(tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "GEOAPP_DATABASE": str(tmp_path / "qmi.sqlite3"),
        "GEOAPP_SECRET_KEY": "cle-de-test",
        "GEOAPP_EXPORT_CACHE_DIR": str(tmp_path / "ex"),
    }
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [geoapp_command(), "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
        )
    try:
        status, html = wait_until_answering(process, f"http://127.0.0.1:{port}/", log)
        assert status == 200
        assert '<html lang="fr">' in html and "Les Blagis" in html
        status, body = get(f"http://127.0.0.1:{port}/api/quartiers.geojson")
        assert status == 200 and '"sceaux-les-blagis"' in body
        assert f"http://127.0.0.1:{port}/" in log.read_text()  # it says where it listens
        assert (tmp_path / "qmi.sqlite3").exists()  # the database the variable named
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
