"""Every ``geoapp`` command: a domain error is one French line on stderr and exit code 1."""

import json
import shutil

from click.testing import CliRunner

from geoapp import cli
from geoapp.config import PROJECT_ROOT


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
    monkeypatch.setattr(cli, "waitress_serve", lambda *a, **k: print("servi !"))

    result = CliRunner().invoke(cli.main, ["serve"])

    assert result.exit_code == 1
    assert "servi !" not in result.output
    assert ("QMI Atlas ne peut pas démarrer : quartiers.json : quartier « meudon-la-foret », "
            "périmètre : « gares » : gare(s) introuvable(s) sur TRAM 6 : « Gare fantôme ».\n"
            ) in result.stderr
    assert "Traceback" not in result.output
