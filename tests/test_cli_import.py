"""`geoapp import FICHIER --compte LOGIN [--apercu]`: the web's import, from a terminal.

The same plan (`geoapp.imports`) with the same French counts and errors; the account's
rights apply; any bad row means exit 1 and nothing stored; ``--apercu`` stores nothing.
"""

import pytest

from geoapp.cli import main
from geoapp.registry_files import write_csv
from tests.web.experiments_helpers import MEUDON, SCEAUX, rows_for, snapshot

PASSWORD = "motdepasse-sceaux"


@pytest.fixture
def store(app):
    store = app.extensions["qmi_store"]
    store.add_user("sceaux-urba", PASSWORD, role="editeur", commune="92071")
    return store


@pytest.fixture
def lot(tmp_path, atlas):
    path = tmp_path / "lot Sceaux.csv"
    path.write_bytes(write_csv(rows_for(atlas, SCEAUX, ["Cli Un", "Cli Deux"])))
    return path


def run(runner, *args):
    return runner.invoke(main, ["import", *map(str, args)])


def test_preview_stores_nothing_then_import_then_reimport(runner, store, lot):
    before = snapshot(store)
    preview = run(runner, lot, "--compte", "sceaux-urba", "--apercu")
    assert preview.exit_code == 0, preview.output
    assert "Fichier lu : CSV UTF-8, séparateur point-virgule." in preview.output
    assert "Ligne 2 « Cli Un » : création" in preview.output
    assert "2 à créer, 0 à modifier, 0 inchangée(s), 0 erreur(s)." in preview.output
    assert "Aperçu seulement : rien n’a été enregistré." in preview.output
    assert snapshot(store) == before
    done = run(runner, lot, "--compte", "sceaux-urba")
    assert done.exit_code == 0, done.output
    assert "Import terminé : 2 créée(s), 0 modifiée(s), 0 inchangée(s)." in done.output
    titles = [e["title"] for e in store.list_experiments(district=SCEAUX)]
    assert {"Cli Un", "Cli Deux"} <= set(titles)
    [one] = [e for e in store.list_experiments() if e["title"] == "Cli Un"]
    assert store.history(one["id"])[0]["user"] == "sceaux-urba"
    after = snapshot(store)
    again = run(runner, lot, "--compte", "sceaux-urba")
    assert again.exit_code == 0
    assert "0 à créer, 0 à modifier, 2 inchangée(s), 0 erreur(s)." in again.output
    assert snapshot(store) == after


def test_a_bad_row_exits_1_and_stores_nothing(runner, store, atlas, tmp_path):
    rows = rows_for(atlas, SCEAUX, ["Bonne"]) + rows_for(atlas, SCEAUX, ["Mauvaise"], theme="x")
    path = tmp_path / "lot.csv"
    path.write_bytes(write_csv(rows))
    before = snapshot(store)
    result = run(runner, path, "--compte", "sceaux-urba")
    assert result.exit_code == 1
    assert "Ligne 3 « Mauvaise » : erreur" in result.output
    assert "    Thème : « x » n’est pas une valeur possible" in result.output
    assert result.stderr.startswith("Erreur : import refusé, rien n’a été enregistré")
    assert "Traceback" not in result.output
    assert snapshot(store) == before


def test_the_accounts_rights_apply(runner, store, atlas, tmp_path):
    path = tmp_path / "meudon.csv"
    path.write_bytes(write_csv(rows_for(atlas, MEUDON, ["Chez le voisin"])))
    before = snapshot(store)
    result = run(runner, path, "--compte", "sceaux-urba")
    assert result.exit_code == 1
    assert "Votre compte ne permet pas de modifier le quartier Meudon-la-Forêt" in result.output
    assert snapshot(store) == before


@pytest.mark.parametrize(
    "args, message",
    [
        (["lot.csv", "--compte", "personne"], "Compte inconnu : « personne »"),
        (["absent.csv", "--compte", "sceaux-urba"], "Fichier illisible : absent.csv"),
    ],
)
def test_unknown_account_or_file_is_one_french_line(
    runner, store, args, message, monkeypatch, tmp_path
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "lot.csv").write_bytes(b"Quartier;Titre\n")
    result = run(runner, *args)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Erreur : {message}")
