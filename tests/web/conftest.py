"""Web fixtures: the app's store and clients logged in as the registry's three kinds of user.

A test module defining a fixture of the same name (e.g. ``store``) keeps its own.
"""

import pytest

from tests.conftest import client_as


@pytest.fixture
def store(app):
    return app.extensions["qmi_store"]


@pytest.fixture
def anon(app):
    """Nobody logged in, holding the CSRF token like a browser that loaded a form."""
    return client_as(app, None)


@pytest.fixture
def sceaux(app):
    """The editor of Sceaux (INSEE 92071), who may edit Les Blagis only."""
    return client_as(app, "editeur-sceaux", "editeur", "92071")


@pytest.fixture
def admin(app):
    """An administrator of the Métropole, who may edit every district."""
    return client_as(app, "admin-mgp", "administrateur")
