"""Running ``geoapp serve`` as a real process, for the server, fault and load tests.

Loopback only; every wait is bounded. Failures raise ``RuntimeError`` with the server's
log, so the tests and the load benchmark report them the same way.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

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
        raise RuntimeError("commande « geoapp » introuvable : pip install -e .")
    return found


def get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, response.read().decode("utf-8")


def wait_until_answering(
    process: subprocess.Popen, url: str, log: Path, *, timeout_s: float = START_TIMEOUT_S
) -> tuple[int, str]:
    """Poll ``url`` until it answers; fail early if the server exits or never answers."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"geoapp serve s’est arrêté ({process.returncode}) :\n"
                f"{log.read_text(errors='replace')}"
            )
        try:
            return get(url)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    raise RuntimeError(
        f"geoapp serve ne répond pas après {timeout_s:.0f} s :\n{log.read_text(errors='replace')}"
    )


def stop(process: subprocess.Popen, *, timeout_s: float = 20.0) -> None:
    """Terminate the server (gunicorn stops its workers), killing it if it lingers."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout_s)
