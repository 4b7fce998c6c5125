"""The "en préparation" flow in Chromium: menu click, waiting page, download when ready."""

from __future__ import annotations

import pytest

from tests.conftest import screenshot

pytestmark = pytest.mark.browser


def test_a_cold_export_shows_en_preparation_then_downloads(
    page, live_server, live_app, monkeypatch, tmp_path
):
    # Every download answers "en préparation" at once, from an empty cache.
    monkeypatch.setitem(live_app.config, "EXPORT_WAIT", 0)
    monkeypatch.setitem(live_app.config, "EXPORT_CACHE_DIR", str(tmp_path / "exports"))
    page.goto(live_server + "/quartiers/sceaux-les-blagis")
    page.locator("details.export-menu summary").first.click()
    link = page.locator('details.export-menu a[data-format="fiche"]').first
    with page.expect_download(timeout=120_000) as download:
        link.click()
        page.wait_for_selector("h1:has-text('Export en préparation')")
        assert "qmi-sceaux-les-blagis-fiche.pdf" in page.inner_text("main")
        assert "se met à jour toute seule" in page.inner_text("main")
        screenshot(page, "export-en-preparation")
        page.wait_for_selector("h1:has-text('Export prêt')", timeout=120_000)
    made = download.value
    assert made.suggested_filename == "qmi-sceaux-les-blagis-fiche.pdf"
    path = tmp_path / made.suggested_filename
    made.save_as(path)
    assert path.read_bytes().startswith(b"%PDF")
    assert page.get_by_role("link", name="Télécharger qmi-sceaux-les-blagis-fiche.pdf").count() == 1
    screenshot(page, "export-pret")
    assert page.watch.errors == []
    assert all("tile.openstreetmap.org" in url for url in page.watch.blocked)
