"""Analysis errors on the web: a refused user value is a French 422, a bug stays a 500."""

import pytest

from geoapp.analysis import RefusedInputError
from geoapp.web import cuts

WHAT_IF = "/api/quartiers/sceaux-les-blagis/what-if?lat=48.7745&lon=2.2975"


def fake_what_if(error: ValueError):
    def what_if(*args, **kwargs):
        raise error

    return what_if


def test_a_refused_point_is_a_422_with_the_analysis_message(client, monkeypatch):
    monkeypatch.setattr(cuts, "what_if", fake_what_if(RefusedInputError("Trop loin d’ici.")))
    response = client.get(WHAT_IF)
    assert response.status_code == 422
    assert response.get_json() == {"erreur": "Trop loin d’ici.", "statut": 422}


@pytest.mark.parametrize(
    "error",
    [
        ValueError("corridors : le CRS doit être EPSG:2154."),
        ValueError("invalid literal for int() with base 10: 'x'"),
    ],
)
def test_any_other_value_error_is_a_logged_500_not_a_user_message(
    client, monkeypatch, caplog, error
):
    monkeypatch.setattr(cuts, "what_if", fake_what_if(error))
    response = client.get(WHAT_IF)
    assert response.status_code == 500
    assert response.get_json() == {"erreur": "Une erreur interne est survenue.", "statut": 500}
    assert str(error) in caplog.text  # logged for the maintainers, never shown
