"""`geoapp users …`: accounts made from the command line, with clean French refusals."""

import json
import shutil

import pytest
from click.testing import CliRunner

from geoapp.cli import main
from geoapp.config import PROJECT_ROOT

PASSWORD = "motdepasse-sceaux"


@pytest.fixture
def store(app):
    return app.extensions["qmi_store"]


@pytest.fixture
def users(runner, monkeypatch):
    """Run ``geoapp users ARGS`` against the test app (no password from the environment)."""
    monkeypatch.delenv("GEOAPP_NEW_PASSWORD", raising=False)

    def run(*args, input=None):
        return runner.invoke(main, ["users", *args], input=input)

    return run


def assert_refused(result, message: str) -> None:
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Erreur : {message}")
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)  # a clean exit, not a crash


def test_add_editor_with_password_option(users, store):
    result = users(
        "add", "editeur-sceaux", "--role", "editeur", "--commune", "92071", "--password", PASSWORD
    )
    assert result.exit_code == 0, result.output
    assert "Compte « editeur-sceaux » créé (éditeur de 92071)." in result.output
    assert store.get_user("editeur-sceaux")["commune"] == "92071"
    assert store.authenticate("editeur-sceaux", PASSWORD, ip="cli") is not None


def test_add_admin_with_prompted_password(users, store):
    result = users(
        "add", "admin-mgp", "--role", "administrateur", input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    assert "Mot de passe" in result.output
    assert PASSWORD not in result.output  # hidden input is not echoed
    assert "Compte « admin-mgp » créé (administrateur)." in result.output
    account = store.get_user("admin-mgp")
    assert (account["role"], account["commune"]) == ("administrateur", None)
    assert store.authenticate("admin-mgp", PASSWORD, ip="cli") is not None


def test_prompted_passwords_must_match(users, store):
    result = users(
        "add",
        "admin-mgp",
        "--role",
        "administrateur",
        input=f"{PASSWORD}\nautre-chose-long\n{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert "Error: The two entered values do not match." in result.output
    assert store.authenticate("admin-mgp", PASSWORD, ip="cli") is not None


def test_password_from_the_environment(users, store, monkeypatch):
    monkeypatch.setenv("GEOAPP_NEW_PASSWORD", PASSWORD)
    result = users("add", "editeur-meudon", "--role", "editeur", "--commune", "92048")
    assert result.exit_code == 0, result.output
    assert store.authenticate("editeur-meudon", PASSWORD, ip="cli") is not None


def test_commune_without_a_district_is_refused(users, store):
    result = users(
        "add", "editeur-paris", "--role", "editeur", "--commune", "75056", "--password", PASSWORD
    )
    assert_refused(
        result,
        "La commune 75056 n’accueille pas de quartier QMI (codes possibles : "
        "93005, 92048, 93051, 92071).",
    )
    assert store.list_users() == []


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["--role", "editeur", "--commune", "92071", "--password", "onze-signes"],
            "Le mot de passe doit contenir au moins 12 caractères.",
        ),
        (
            ["--role", "editeur", "--commune", "92071", "--password", "Nouveau-Compte-2025"],
            "Le mot de passe ne doit pas contenir l’identifiant.",
        ),
        (
            ["--role", "editeur", "--commune", "92071", "--password", "password1234"],
            "Ce mot de passe fait partie des plus courants : choisissez-en un autre",
        ),
        (
            ["--role", "editeur", "--password", PASSWORD],
            "Un éditeur doit être rattaché à une commune (code INSEE).",
        ),
        (
            ["--role", "administrateur", "--commune", "92071", "--password", PASSWORD],
            "Un administrateur n'est rattaché à aucune commune.",
        ),
    ],
)
def test_bad_accounts_are_refused_in_french(users, store, args, message):
    assert_refused(users("add", "nouveau-compte", *args), message)
    assert store.list_users() == []


def test_bad_username_is_refused(users, store):
    result = users("add", "é t é", "--role", "administrateur", "--password", PASSWORD)
    assert_refused(result, "L'identifiant doit compter 3 à 40 caractères")
    assert store.list_users() == []


def test_unknown_role_is_refused_by_the_option(users, store):
    result = users("add", "nouveau-compte", "--role", "maire", "--password", PASSWORD)
    assert result.exit_code == 2
    assert "'maire' is not one of 'editeur', 'administrateur'" in result.output
    assert store.list_users() == []


def test_duplicate_username_is_refused(users, store):
    assert (
        users(
            "add",
            "editeur-sceaux",
            "--role",
            "editeur",
            "--commune",
            "92071",
            "--password",
            PASSWORD,
        ).exit_code
        == 0
    )
    result = users(
        "add", "editeur-sceaux", "--role", "administrateur", "--password", "un-autre-mot-de-passe"
    )
    assert_refused(result, "L'identifiant « editeur-sceaux » est déjà utilisé.")
    assert store.get_user("editeur-sceaux")["role"] == "editeur"
    assert store.authenticate("editeur-sceaux", PASSWORD, ip="cli") is not None


def test_users_list(users):
    assert users("list").output == ""
    users(
        "add", "editeur-sceaux", "--role", "editeur", "--commune", "92071", "--password", PASSWORD
    )
    users("add", "admin-mgp", "--role", "administrateur", "--password", PASSWORD)
    result = users("list")
    assert result.exit_code == 0
    assert result.output.splitlines() == [
        "admin-mgp\tadministrateur\t—",
        "editeur-sceaux\téditeur\t92071",
    ]
    assert "scrypt" not in result.output and PASSWORD not in result.output


def test_passwd_and_remove(users, store):
    users(
        "add", "editeur-sceaux", "--role", "editeur", "--commune", "92071", "--password", PASSWORD
    )
    result = users("passwd", "editeur-sceaux", "--password", "nouveau-mot-de-passe")
    assert result.exit_code == 0 and "Mot de passe de « editeur-sceaux » changé." in result.output
    assert store.authenticate("editeur-sceaux", "nouveau-mot-de-passe", ip="cli") is not None
    assert_refused(
        users("passwd", "editeur-sceaux", "--password", "court"),
        "Le mot de passe doit contenir au moins 12 caractères.",
    )
    assert_refused(
        users("passwd", "editeur-sceaux", "--password", "123456789abc"),
        "Ce mot de passe fait partie des plus courants",
    )
    assert_refused(
        users("passwd", "personne", "--password", "nouveau-mot-de-passe"),
        "Utilisateur introuvable.",
    )
    assert users("remove", "editeur-sceaux").exit_code == 0
    assert store.get_user("editeur-sceaux") is None
    assert_refused(users("remove", "editeur-sceaux"), "Utilisateur introuvable.")


def test_broken_data_stops_the_cli_with_a_clean_message(tmp_path, monkeypatch):
    """A broken layer names file, feature and field; no traceback, non-zero exit."""
    data = tmp_path / "data"
    shutil.copytree(PROJECT_ROOT / "data", data)
    path = data / "geo" / "gares_idfm.geojson"
    layer = json.loads(path.read_text(encoding="utf-8"))
    del layer["features"][3]["properties"]["nom"]
    path.write_text(json.dumps(layer), encoding="utf-8")
    monkeypatch.setenv("GEOAPP_DATA_DIR", str(data))
    monkeypatch.setenv("GEOAPP_DATABASE", str(tmp_path / "db.sqlite3"))
    result = CliRunner().invoke(main, ["users", "list"])
    assert result.exit_code == 1
    assert "gares_idfm.geojson : entité n° 4" in result.output
    assert "« nom » manque" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "change, message",
    [
        (
            {"crs": {"type": "name", "properties": {"name": "EPSG:999999"}}},
            "qpv_2024_communes_qmi.geojson : système de coordonnées « EPSG:999999 » inconnu",
        ),
        ({"features": []}, "qpv_2024_communes_qmi.geojson : la couche ne contient aucune entité"),
    ],
    ids=["unknown-crs", "empty"],
)
def test_unusable_layer_stops_the_cli_with_a_clean_message(tmp_path, monkeypatch, change, message):
    data = tmp_path / "data"
    shutil.copytree(PROJECT_ROOT / "data", data)
    path = data / "geo" / "qpv_2024_communes_qmi.geojson"
    layer = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps({**layer, **change}), encoding="utf-8")
    monkeypatch.setenv("GEOAPP_DATA_DIR", str(data))
    monkeypatch.setenv("GEOAPP_DATABASE", str(tmp_path / "db.sqlite3"))
    result = CliRunner().invoke(main, ["users", "list"])
    assert result.exit_code == 1
    assert f"QMI Atlas ne peut pas démarrer : {message}" in result.output
    assert "Traceback" not in result.output


def test_unusable_database_stops_the_cli_with_a_clean_message(tmp_path, monkeypatch):
    folder = tmp_path / "qmi.sqlite3"
    folder.mkdir()  # a folder where the database file should be
    monkeypatch.setenv("GEOAPP_DATABASE", str(folder))
    result = CliRunner().invoke(main, ["users", "list"])
    assert result.exit_code == 1
    assert (
        f"QMI Atlas ne peut pas démarrer : La base de données « {folder} » ne peut pas être "
        "ouverte, créée ou mise à jour : le fichier de la base ne peut pas être ouvert ni créé."
    ) in result.output
    assert "Traceback" not in result.output
