"""The README's configuration table and geoapp/config.py say the same thing.

The table is parsed from README.md: every documented ``GEOAPP_*`` variable must be a
setting and every setting documented; each documented default is the one applied when
the variable is unset, and a value given in the environment is parsed into the setting.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from geoapp import config
from geoapp.config import ENV_PREFIX, PROJECT_ROOT, settings_from_env

# One value per setting, as an operator would type it, and what the app must make of it.
SAMPLES = {
    "DATA_DIR": ("/srv/qmi/data", "/srv/qmi/data"),
    "DATABASE": ("/srv/qmi/qmi.sqlite3", "/srv/qmi/qmi.sqlite3"),
    "SECRET_KEY": ("cle-de-production", "cle-de-production"),
    "MAX_CONTENT_LENGTH": ("1048576", 1048576),
    "TILES": ("0", False),
    "EXPORT_CACHE_DIR": ("/var/cache/qmi", "/var/cache/qmi"),
    "PHOTOS": ("/srv/qmi/photos", "/srv/qmi/photos"),
    "SESSION_HOURS": ("1.5", 1.5),
    "SECURE_COOKIES": ("1", True),
    "FRAME_ANCESTORS": (
        "'self'  https://intranet.example.org",
        "'self' https://intranet.example.org",
    ),
    "TRUSTED_PROXIES": ("1", 1),
    "IMPORT_MAX_ROWS": ("2000", 2000),
    "EXPORT_JOBS": ("2", 2),
    "EXPORT_QUEUE": ("16", 16),
    "EXPORT_WAIT": ("2.5", 2.5),
    "EMBED_ORIGINS": (
        "'self'   https://www.aulnay-sous-bois.fr",
        "'self' https://www.aulnay-sous-bois.fr",
    ),
}


def documented() -> dict[str, tuple[str, str]]:
    """``{name: (default cell, meaning cell)}`` from the README's Configuration table."""
    text = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(rf"^\| `{ENV_PREFIX}(\w+)` \| (.*?) \| (.*?) \|$", section, re.M)
    assert rows, "no configuration table in README.md"
    return {name: (default, meaning) for name, default, meaning in rows}


def settings_names() -> set[str]:
    return set(config._SETTINGS)


def test_every_setting_is_documented_and_every_documented_one_exists():
    names = set(documented())
    assert sorted(names - settings_names()) == [], "documented in README.md, unknown to config"
    assert sorted(settings_names() - names) == [], "read by config, missing from README.md"


def test_every_setting_has_a_sample_here():
    assert sorted(SAMPLES) == sorted(settings_names())


def expected_default(name: str, cell: str, instance: Path):
    """What a README default cell means for the settings mapping."""
    literal = re.search(r"`([^`]*)`", cell).group(1)
    if literal.startswith("instance/"):
        return str(instance / literal.removeprefix("instance/"))
    if "of the repository" in cell:
        return str(PROJECT_ROOT / literal.rstrip("/"))
    return config._SETTINGS[name][1](literal)  # the setting's own parser


@pytest.mark.parametrize("name", sorted(documented()))
def test_documented_default_is_applied(tmp_path, name):
    cell = documented()[name][0]
    settings = settings_from_env(str(tmp_path), {})
    if name == "SECRET_KEY":  # "generated once into `instance/secret_key`"
        assert "generated once" in cell
        key = (tmp_path / "secret_key").read_text()
        assert settings[name] == key and len(key) >= 32
        assert settings_from_env(str(tmp_path), {})[name] == key  # kept across starts
        return
    assert settings[name] == expected_default(name, cell, tmp_path)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_variable_is_parsed(tmp_path, name):
    raw, expected = SAMPLES[name]
    environ = {"GEOAPP_SECRET_KEY": "x", ENV_PREFIX + name: raw}  # no key file written
    assert settings_from_env(str(tmp_path), environ)[name] == expected


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_empty_variable_means_the_default(tmp_path, name):
    environ = {} if name == "SECRET_KEY" else {"GEOAPP_SECRET_KEY": "x"}
    default = settings_from_env(str(tmp_path), environ)[name]
    assert settings_from_env(str(tmp_path), {**environ, ENV_PREFIX + name: ""})[name] == default


def test_the_factory_reads_the_environment(monkeypatch, tmp_path, atlas):
    """create_app reads the same settings from the process environment."""
    from geoapp import create_app

    monkeypatch.setenv("GEOAPP_DATABASE", str(tmp_path / "env.sqlite3"))
    monkeypatch.setenv("GEOAPP_MAX_CONTENT_LENGTH", "12345")
    monkeypatch.setenv("GEOAPP_TILES", "non")
    monkeypatch.setenv("GEOAPP_SECRET_KEY", "depuis-l-environnement")
    app = create_app({"TESTING": True, "ATLAS": atlas})
    assert app.config["DATABASE"] == str(tmp_path / "env.sqlite3")
    assert app.config["MAX_CONTENT_LENGTH"] == 12345
    assert app.config["TILES"] is False
    assert app.config["SECRET_KEY"] == "depuis-l-environnement"
    assert (tmp_path / "env.sqlite3").exists()
