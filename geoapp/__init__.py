"""QMI Atlas: the Flask application factory."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from geoapp.config import PROJECT_ROOT, settings_from_env


def create_app(test_config: dict | None = None) -> Flask:
    """Create the app: defaults and ``GEOAPP_*`` settings, the atlas, the blueprints.

    The atlas (every layer, the derived districts) is built once here, so a broken data
    file stops start-up with a message naming it rather than failing a page later. The
    database is created and migrated on first start, and seeded with the documented
    experiments only while it is empty.
    """
    app = Flask(
        __name__, template_folder=str(PROJECT_ROOT / "templates"), instance_relative_config=True
    )
    app.config.update(settings_from_env(app.instance_path))
    if test_config:
        app.config.update(test_config)

    from geoapp.atlas import build_atlas
    from geoapp.store import Store
    from geoapp.web import register

    # Tests pass a prebuilt "ATLAS" to share one across many apps.
    atlas = app.config.get("ATLAS") or build_atlas(app.config["DATA_DIR"])
    # Tests pass a "CLOCK" (returns an aware datetime) to move time by hand.
    clock = app.config.get("CLOCK")
    store = Store(
        app.config["DATABASE"], photos=app.config["PHOTOS"], **({"now": clock} if clock else {})
    )
    store.seed_if_empty(
        Path(app.config["DATA_DIR"]) / "experiments_seed.json",
        anchors=atlas.centres_lonlat(),
        objectives=atlas.objectives(),
    )
    app.extensions["qmi_atlas"] = atlas
    app.extensions["qmi_store"] = store
    register(app)
    return app
