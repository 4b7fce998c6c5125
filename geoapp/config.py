"""The one place settings are read: defaults, then ``GEOAPP_*`` environment variables.

Every setting has a safe default so ``geoapp serve`` works on a fresh machine with no
configuration: data from the repository's ``data/`` folder, a SQLite file in the
instance folder, a secret key generated once and kept in the instance folder.
"""

from __future__ import annotations

import os
import secrets
import time
from datetime import timedelta
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ENV_PREFIX = "GEOAPP_"


def _flag(raw: str) -> bool:
    return raw.strip().lower() not in {"0", "false", "non", "no", "off"}


# name -> (default, parser). Documented in the README.
_SETTINGS = {
    "DATA_DIR": (str(PROJECT_ROOT / "data"), str),
    "DATABASE": (None, str),
    "SECRET_KEY": (None, str),
    "MAX_CONTENT_LENGTH": (2 * 1024 * 1024, int),
    "TILES": (True, _flag),
    "EXPORT_CACHE_DIR": (None, str),
    "PHOTOS": (None, str),  # the experiments' photo files (geoapp.store.photos)
    # Background exports (geoapp.exports.jobs): builds at once per process (one: builds
    # share the interpreter lock with the pages), more queued, seconds a request waits
    # before answering "en préparation" (None: 5, see web.exports).
    "EXPORT_JOBS": (1, int),
    "EXPORT_QUEUE": (8, int),
    "EXPORT_WAIT": (5.0, float),
    "SESSION_HOURS": (8.0, float),
    "SECURE_COOKIES": (False, _flag),
    "FRAME_ANCESTORS": ("'self'", lambda v: " ".join(v.split())),
    "EMBED_ORIGINS": ("'self'", lambda v: " ".join(v.split())),
    "TRUSTED_PROXIES": (0, int),
    "IMPORT_MAX_ROWS": (5000, int),
}


def settings_from_env(instance_path: str, environ: dict[str, str] | None = None) -> dict:
    """Return the Flask config mapping built from defaults and ``GEOAPP_*`` variables."""
    environ = os.environ if environ is None else environ
    config = {}
    for name, (default, parse) in _SETTINGS.items():
        raw = environ.get(ENV_PREFIX + name)
        config[name] = parse(raw) if raw not in (None, "") else default
    instance = Path(instance_path)
    config["DATABASE"] = config["DATABASE"] or str(instance / "qmi.sqlite3")
    config["EXPORT_CACHE_DIR"] = config["EXPORT_CACHE_DIR"] or str(instance / "exports")
    config["PHOTOS"] = config["PHOTOS"] or str(instance / "photos")
    config["SECRET_KEY"] = config["SECRET_KEY"] or _instance_secret(instance)
    # The session cookie is never readable by scripts nor sent by cross-site posts, and
    # only over HTTPS when the site is served behind TLS. A login lasts SESSION_HOURS at
    # most, however active (geoapp.web.auth checks the login time on every request).
    config["SESSION_COOKIE_HTTPONLY"] = True
    config["SESSION_COOKIE_SAMESITE"] = "Lax"
    config["SESSION_COOKIE_SECURE"] = config["SECURE_COOKIES"]
    config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=config["SESSION_HOURS"])
    return config


def _instance_secret(instance: Path) -> str:
    """A random key generated on first start and kept, so sessions survive restarts.

    Created atomically (``O_EXCL``): processes starting together (``--workers``) all end
    up with the one key the first of them wrote, so a session signed by one is valid in
    every other.
    """
    path = instance / "secret_key"
    instance.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):  # another process may be between its create and its write
            key = path.read_text().strip()
            if key:
                return key
            time.sleep(0.02)
        raise
    key = secrets.token_hex(32)
    with os.fdopen(fd, "w") as out:
        out.write(key)
    return key
