"""Every ``geoapp`` command: a domain error is one French line on stderr and exit code 1."""

import json
import shutil

import click
import pytest
from click.testing import CliRunner

from geoapp import cli
from geoapp.config import PROJECT_ROOT
from geoapp.errors import ConflictError, GeoappError

# One call per command that reaches the store (or the server) with valid arguments.
COMMANDS = {
    "serve": ["serve"],
    "users add": ["users", "add", "compte", "--role", "administrateur", "--password", "x" * 12],
    "users list": ["users", "list"],
    "users passwd": ["users", "passwd", "compte", "--password", "x" * 12],
    "users remove": ["users", "remove", "compte"],
    "export": ["export", "--quartier", "all", "--format", "csv", "--out", "x.csv"],
    "db upgrade": ["db", "upgrade"],
    "db copy": ["db", "copy", "a.sqlite3", "b.sqlite3"],
    "db backup": ["db", "backup", "x.bak"],
    "db restore": ["db", "restore", "x.bak"],
    "import": ["import", "lot.csv", "--compte", "compte"],
}


def leaf_commands(group: click.Group, prefix: str = ""):
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from leaf_commands(command, f"{prefix}{name} ")
        else:
            yield f"{prefix}{name}", command


def test_every_command_is_wrapped_and_exercised_here():
    commands = dict(leaf_commands(cli.main))
    assert sorted(commands) == sorted(COMMANDS)  # a new command needs a line in COMMANDS
    for name, command in commands.items():
        assert getattr(command.callback, "geoapp_clean_errors", False), name


class Failing:
    """Stands in for the store (and the export writer): every call raises ``error``."""

    def __init__(self, error: Exception):
        self.error = error

    def __getattr__(self, name):
        def fail(*args, **kwargs):
            raise self.error

        return fail


@pytest.fixture
def failing(app, runner, monkeypatch, tmp_path):
    """Run a command while the store, the exporter, waitress and the database tools all
    raise ``error``."""
    monkeypatch.chdir(tmp_path)

    def run(command: str, error: Exception):
        monkeypatch.setitem(app.extensions, "qmi_store", Failing(error))
        monkeypatch.setattr("geoapp.exports.make_export", Failing(error).make)
        monkeypatch.setattr("geoapp.server.waitress_serve", Failing(error).serve)
        monkeypatch.setattr(cli, "transfer", Failing(error))
        monkeypatch.setattr(cli, "migrations", Failing(error))
        return runner.invoke(cli.main, COMMANDS[command])

    return run


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize(
    "error",
    [GeoappError("Ça ne va pas.", 422), ConflictError("Quelqu'un a enregistré avant vous.")],
    ids=["GeoappError", "ConflictError"],
)
def test_a_domain_error_is_one_french_line_and_exit_1(failing, command, error):
    result = failing(command, error)
    assert result.exit_code == 1
    assert result.stderr == f"Erreur : {error.message}\n"
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_bug_is_not_disguised_as_a_message(failing, command):
    result = failing(command, KeyError("bogue"))
    assert isinstance(result.exception, KeyError)  # a real run prints its traceback
    assert "Erreur" not in result.output


def test_serve_with_a_bad_perimeter_rule_stops_cleanly(tmp_path, monkeypatch):
    data = tmp_path / "data"
    shutil.copytree(PROJECT_ROOT / "data", data)
    path = data / "quartiers.json"
    facts = json.loads(path.read_text(encoding="utf-8"))
    meudon = next(q for q in facts["quartiers"] if q["slug"] == "meudon-la-foret")
    meudon["perimetre"]["gares"] = ["Gare fantôme"]
    path.write_text(json.dumps(facts, ensure_ascii=False), encoding="utf-8")
    monkeypatch.setenv("GEOAPP_DATA_DIR", str(data))
    monkeypatch.setenv("GEOAPP_DATABASE", str(tmp_path / "db.sqlite3"))
    monkeypatch.setattr("geoapp.server.waitress_serve", lambda *a, **k: print("servi !"))

    result = CliRunner().invoke(cli.main, ["serve"])

    assert result.exit_code == 1
    assert "servi !" not in result.output
    assert result.stderr == (
        "Erreur : QMI Atlas ne peut pas démarrer : quartiers.json : quartier « meudon-la-foret », "
        "périmètre : « gares » : gare(s) introuvable(s) sur TRAM 6 : « Gare fantôme ».\n"
    )
    assert "Traceback" not in result.output
