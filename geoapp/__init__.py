"""QMI Atlas: the Flask application factory."""

from __future__ import annotations

from flask import Flask

from geoapp.config import PROJECT_ROOT, settings_from_env


def create_app(test_config: dict | None = None) -> Flask:
    """Create the app: defaults and ``GEOAPP_*`` settings, the atlas, the blueprints.

    The atlas (every layer, the derived districts) is built once here, so a broken data
    file stops start-up with a message naming it rather than failing a page later.
    """
    app = Flask(__name__, template_folder=str(PROJECT_ROOT / "templates"),
                instance_relative_config=True)
    app.config.update(settings_from_env(app.instance_path))
    if test_config:
        app.config.update(test_config)

    from geoapp.atlas import build_atlas
    from geoapp.web import register

    # Tests pass a prebuilt "ATLAS" to share one across many apps.
    app.extensions["qmi_atlas"] = app.config.get("ATLAS") or build_atlas(app.config["DATA_DIR"])
    register(app)
    return app
