"""Settings: defaults, then GEOAPP_* variables (read only in geoapp/config.py)."""

from datetime import timedelta

import pytest

from geoapp.config import settings_from_env


def settings(tmp_path, **environ):
    return settings_from_env(str(tmp_path), {"GEOAPP_SECRET_KEY": "x", **environ})


def test_sessions_last_8_hours_on_plain_http_by_default(tmp_path):
    config = settings(tmp_path)
    assert config["PERMANENT_SESSION_LIFETIME"] == timedelta(hours=8)
    assert config["SESSION_COOKIE_SECURE"] is False
    assert config["SESSION_COOKIE_HTTPONLY"] is True
    assert config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_session_lifetime_setting(tmp_path):
    config = settings(tmp_path, GEOAPP_SESSION_HOURS="2")
    assert config["PERMANENT_SESSION_LIFETIME"] == timedelta(hours=2)
    assert settings(tmp_path, GEOAPP_SESSION_HOURS="0.5")[
        "PERMANENT_SESSION_LIFETIME"
    ] == timedelta(minutes=30)


@pytest.mark.parametrize(
    "raw, secure", [("1", True), ("oui", True), ("0", False), ("non", False), ("", False)]
)
def test_secure_cookies_setting(tmp_path, raw, secure):
    assert settings(tmp_path, GEOAPP_SECURE_COOKIES=raw)["SESSION_COOKIE_SECURE"] is secure


def test_frame_ancestors_setting(tmp_path):
    assert settings(tmp_path)["FRAME_ANCESTORS"] == "'self'"
    raw = "'self'  https://intranet.grand-paris.example "
    assert settings(tmp_path, GEOAPP_FRAME_ANCESTORS=raw)["FRAME_ANCESTORS"] == (
        "'self' https://intranet.grand-paris.example"
    )


def test_trusted_proxies_setting(tmp_path):
    assert settings(tmp_path)["TRUSTED_PROXIES"] == 0
    assert settings(tmp_path, GEOAPP_TRUSTED_PROXIES="2")["TRUSTED_PROXIES"] == 2
