"""Cold exports built in the background: "en préparation", one job per export, bounded."""

from __future__ import annotations

import dataclasses
import re
import threading
import time

import pytest

from geoapp.exports import FORMATS
from geoapp.vocabulary import EXPORT_RETRY_S


class HeldBuilds:
    """Builders that wait for ``release`` (or fail), counting how often they run."""

    def __init__(self, monkeypatch, keys=("csv", "kml", "geojson", "gpkg"), *, fail=False):
        self.release = threading.Event()
        self.calls: list[str] = []
        for key in keys:
            original = FORMATS[key].build

            def build(scene, options, key=key, original=original):
                self.calls.append(key)
                if not self.release.wait(timeout=60):
                    raise TimeoutError("test build never released")
                if fail:
                    raise RuntimeError("boom")
                return original(scene, options)

            monkeypatch.setitem(FORMATS, key, dataclasses.replace(FORMATS[key], build=build))


def refresh_target(html: str) -> tuple[int, str]:
    match = re.search(r'http-equiv="refresh" content="(\d+);url=([^"]+)"', html)
    assert match, html
    return int(match.group(1)), match.group(2).replace("&amp;", "&")


def poll(client, url: str, *, until: int, timeout_s: float = 60.0):
    """Follow the waiting page's refresh until it answers ``until`` (no fixed sleeps
    beyond the short poll step)."""
    deadline = time.monotonic() + timeout_s
    while True:
        response = client.get(url)
        if response.status_code == until or time.monotonic() > deadline:
            return response
        assert response.status_code == 202, response.get_data(as_text=True)[:300]
        time.sleep(0.1)


@pytest.fixture
def waitless(app_factory):
    """An app whose downloads never wait for their job: cold means "en préparation"."""
    return app_factory(EXPORT_WAIT=0, EXPORT_CACHE_DIR=None)


def test_cold_export_is_prepared_then_downloaded(waitless):
    client = waitless.test_client()
    first = client.get("/exports/all.fiche.pdf?statut=déployée")
    assert first.status_code == 202
    assert first.headers["Retry-After"] == str(EXPORT_RETRY_S)
    assert first.headers["Cache-Control"] == "no-store"
    html = first.get_data(as_text=True)
    assert "Export en préparation" in html and "qmi-programme-deployee-fiche.pdf" in html
    delay, then = refresh_target(html)
    assert delay == EXPORT_RETRY_S
    assert then == "/exports/attente/all.fiche.pdf?statut=d%C3%A9ploy%C3%A9e"
    ready = poll(client, then, until=200)
    assert ready.status_code == 200 and "Export prêt" in ready.get_data(as_text=True)
    assert "sandbox" not in ready.headers["Content-Security-Policy"]  # it may download
    delay, file_url = refresh_target(ready.get_data(as_text=True))
    assert delay == 0 and file_url == "/exports/all.fiche.pdf?statut=d%C3%A9ploy%C3%A9e"
    pdf = client.get(file_url)
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert "attachment" in pdf.headers["Content-Disposition"]
    assert waitless.extensions["qmi_export_jobs"].started == 1


def test_api_clients_get_json_while_it_is_prepared(waitless):
    client = waitless.test_client()
    response = client.get("/exports/sceaux-les-blagis.png", headers={"Accept": "application/json"})
    assert response.status_code == 202 and response.mimetype == "application/json"
    body = response.json
    assert body["etat"] in ("en file d’attente", "en cours")
    assert body["url"] == "/exports/sceaux-les-blagis.png"
    assert body["fichier"] == "qmi-sceaux-les-blagis-carte-diapo.png"
    assert body["reessayer_dans_s"] == EXPORT_RETRY_S


def test_two_concurrent_requests_for_one_cold_export_build_it_once(app_factory, monkeypatch):
    # Two builders, so both requests may wait (a test app waits until done): the second
    # still builds nothing, it waits for the first one's job.
    app = app_factory(EXPORT_CACHE_DIR=None, EXPORT_JOBS=2)
    held = HeldBuilds(monkeypatch, keys=("csv",))
    answers = []

    def download():
        answers.append(app.test_client().get("/exports/all.csv"))

    threads = [threading.Thread(target=download) for _ in range(2)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 30
    while not held.calls and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.3)  # the second request arrives while the first build is held
    held.release.set()
    for thread in threads:
        thread.join(timeout=60)
    assert [a.status_code for a in answers] == [200, 200]
    assert answers[0].data == answers[1].data and answers[0].data.startswith(b"\xef\xbb\xbf")
    assert held.calls == ["csv"]
    assert app.extensions["qmi_export_jobs"].started == 1


def test_a_map_page_answers_while_exports_are_being_produced(app_factory, monkeypatch):
    app = app_factory(EXPORT_WAIT=0, EXPORT_JOBS=2, EXPORT_QUEUE=2, EXPORT_CACHE_DIR=None)
    held = HeldBuilds(monkeypatch)
    client = app.test_client()
    try:
        for suffix in ("csv", "kml", "geojson", "gpkg"):
            assert client.get(f"/exports/all.{suffix}").status_code == 202
        queued = client.get("/exports/attente/all.gpkg").get_data(as_text=True)
        assert "Il attend son tour (3 exports avant lui)." in queued
        busy = client.get("/exports/sceaux-les-blagis.csv")
        assert busy.status_code == 503 and busy.headers["Retry-After"] == str(EXPORT_RETRY_S)
        assert "Trop d’exports sont en préparation" in busy.get_data(as_text=True)
        start = time.perf_counter()
        page = client.get("/quartiers/sceaux-les-blagis")
        elapsed = time.perf_counter() - start
        assert page.status_code == 200 and "Les Blagis" in page.get_data(as_text=True)
        assert len(held.calls) == 2 and not held.release.is_set()  # both workers still held
        assert elapsed < 30  # it did not wait for the exports (held for up to 60 s)
    finally:
        held.release.set()
    for suffix in ("csv", "kml", "geojson", "gpkg"):
        assert poll(client, f"/exports/attente/all.{suffix}", until=200).status_code == 200


def test_a_failed_job_is_a_french_error_then_retried(app_factory, monkeypatch):
    app = app_factory(EXPORT_WAIT=0, EXPORT_CACHE_DIR=None)
    held = HeldBuilds(monkeypatch, keys=("kml",), fail=True)
    client = app.test_client()
    assert client.get("/exports/noisy-mont-d-est.kml").status_code == 202
    held.release.set()
    failed = poll(client, "/exports/attente/noisy-mont-d-est.kml", until=500)
    assert failed.status_code == 500
    text = failed.get_data(as_text=True)
    assert "La préparation de l’export a échoué" in text and "Traceback" not in text
    assert client.get("/exports/noisy-mont-d-est.kml").status_code == 202  # tried again
    assert app.extensions["qmi_export_jobs"].started == 2
