"""``GEOAPP_TILES``: with ``0`` no map page asks for OpenStreetMap tiles, nor allows them."""

from __future__ import annotations

import pytest

from geoapp import create_app
from geoapp.maps import TILE_URL

TILE_HOST = "tile.openstreetmap.org"


def map_pages(app) -> list[str]:
    experiment = app.extensions["qmi_store"].list_experiments()[0]
    return [
        "/",
        "/quartiers/sceaux-les-blagis",
        "/quartiers/noisy-mont-d-est",
        f"/experimentations/{experiment['id']}",
    ]


@pytest.fixture(params=["1", "0"], ids=["tuiles", "sans-tuiles"])
def tiles_app(request, monkeypatch, tmp_path, atlas):
    """An app started with GEOAPP_TILES set in its environment, like an operator does."""
    monkeypatch.setenv("GEOAPP_TILES", request.param)
    app = create_app(
        {
            "TESTING": True,
            "ATLAS": atlas,
            "SECRET_KEY": "test",
            "DATABASE": str(tmp_path / "db.sqlite3"),
            "EXPORT_CACHE_DIR": str(tmp_path / "exports"),
        }
    )
    return app, request.param == "1"


def test_tile_layer_only_when_tiles_are_on(tiles_app):
    app, on = tiles_app
    assert app.config["TILES"] is on
    client = app.test_client()
    for path in map_pages(app):
        r = client.get(path)
        assert r.status_code == 200, path
        html = r.get_data(as_text=True)
        assert "qmi-map-data" in html, f"{path} has no map"
        assert (TILE_URL in html) is on, path
        assert (TILE_HOST in html) is on, path
        policy = r.headers["Content-Security-Policy"]
        assert (TILE_HOST in policy) is on, path
