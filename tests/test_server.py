"""``geoapp serve --workers N``: several processes, one behaviour.

An edit made through one worker is seen by the next request on any other (caches are per
process and keyed on the database's version counters), and a session opened on one worker
holds on the others. Bounded in time; loopback only.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import subprocess
import threading
import urllib.parse
import urllib.request
from pathlib import Path

import geopandas as gpd

from geoapp.config import _instance_secret
from tests.serving import free_port, geoapp_command, stop, wait_until_answering

SCEAUX = "sceaux-les-blagis"
PASSWORD = "motdepasse-tres-long"


def workers_of(pid: int) -> list[int]:
    """The child processes of ``pid`` (gunicorn's workers)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(c) for c in children]


class Browser:
    """A cookie-keeping HTTP client, like a browser tab."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def get(self, path: str) -> tuple[int, str]:
        try:
            with self.opener.open(self.base + path, timeout=20) as r:
                return r.status, r.read().decode("utf-8")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode("utf-8")

    def post(self, path: str, fields: dict) -> tuple[int, str]:
        data = urllib.parse.urlencode(fields).encode()
        try:
            with self.opener.open(self.base + path, data=data, timeout=60) as r:
                return r.status, r.read().decode("utf-8")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode("utf-8")

    def csrf(self, path: str) -> str:
        _, page = self.get(path)
        return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def on_corridor(atlas) -> tuple[float, float]:
    line = atlas.corridors[SCEAUX].geometry.iloc[0]
    point = gpd.GeoSeries([line.interpolate(0.4, normalized=True)], crs=2154).to_crs(4326)
    return float(point.iloc[0].x), float(point.iloc[0].y)


def test_an_edit_through_one_worker_is_seen_by_every_other(tmp_path, atlas):
    port = free_port()
    env = {
        **os.environ,
        "GEOAPP_DATABASE": str(tmp_path / "qmi.sqlite3"),
        "GEOAPP_SECRET_KEY": "cle-de-test-partagee",
        "GEOAPP_EXPORT_CACHE_DIR": str(tmp_path / "ex"),
        "GEOAPP_NEW_PASSWORD": PASSWORD,
    }
    subprocess.run(
        [
            geoapp_command(),
            "users",
            "add",
            "sceaux-urba",
            "--role",
            "editeur",
            "--commune",
            "92071",
        ],
        env=env,
        check=True,
        capture_output=True,
        cwd=tmp_path,
        timeout=120,
    )
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [geoapp_command(), "serve", "--port", str(port), "--workers", "2", "--threads", "2"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_answering(process, f"{base}/", log)
        assert len(workers_of(process.pid)) == 2
        reader = Browser(base)
        path = f"/api/quartiers/{SCEAUX}/coupures"

        def crossings_seen() -> set[int]:
            """Stored crossings in each of 12 answers (both workers answer some)."""
            answers = [json.loads(reader.get(path)[1]) for _ in range(12)]
            return {
                sum(f["properties"]["source"] == "saisie" for f in a["franchissements"]["features"])
                for a in answers
            }

        assert crossings_seen() == {0}  # every worker has cached the report
        editor = Browser(base)
        token = editor.csrf("/connexion")
        status, _ = editor.post(
            "/connexion", {"csrf_token": token, "username": "sceaux-urba", "password": PASSWORD}
        )
        assert status == 200  # redirected to the overview, logged in
        for _ in range(6):  # the session holds whichever worker answers
            assert "sceaux-urba" in editor.get(f"/quartiers/{SCEAUX}")[1]
        lon, lat = on_corridor(atlas)
        token = editor.csrf(f"/quartiers/{SCEAUX}")
        status, _ = editor.post(
            f"/quartiers/{SCEAUX}/franchissements",
            {
                "csrf_token": token,
                "kind": "passerelle",
                "status": "existant",
                "name": "Passerelle test",
                "lon": f"{lon:.6f}",
                "lat": f"{lat:.6f}",
            },
        )
        assert status == 200
        assert crossings_seen() == {1}
    finally:
        stop(process)


def test_processes_starting_together_share_one_secret_key(tmp_path):
    keys: list[str] = []
    threads = [
        threading.Thread(target=lambda: keys.append(_instance_secret(tmp_path))) for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(keys)) == 1 and len(keys[0]) == 64
    assert (tmp_path / "secret_key").read_text() == keys[0]
