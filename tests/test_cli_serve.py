"""``geoapp serve`` starts waitress and answers, as the README's first command promises."""

from __future__ import annotations

import os
import subprocess

from tests.serving import free_port, geoapp_command, get, stop, wait_until_answering


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
        stop(process)
