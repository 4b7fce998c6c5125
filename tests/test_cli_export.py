"""``geoapp export``: each format to a file, the whole batch, and clean French errors."""

from __future__ import annotations

import io

import geopandas as gpd
import pytest
from PIL import Image
from pypdf import PdfReader

from geoapp.cli import main
from geoapp.exports import BATCH, batch_jobs


def run(runner, *args):
    return runner.invoke(cli=main, args=["export", *args])


@pytest.mark.parametrize(
    "fmt, name, magic",
    [
        ("png", "qmi-sceaux-les-blagis-carte-diapo.png", b"\x89PNG"),
        ("svg", "qmi-sceaux-les-blagis-carte-diapo.svg", b"<?xml"),
        ("pdf", "qmi-sceaux-les-blagis-carte-a4.pdf", b"%PDF"),
        ("fiche", "qmi-sceaux-les-blagis-fiche.pdf", b"%PDF"),
        ("html", "qmi-sceaux-les-blagis-carte-interactive.html", b"<!DOCTYPE html>"),
        ("gpkg", "qmi-sceaux-les-blagis-donnees-lambert93.gpkg", b"SQLite format 3"),
        ("geojson", "qmi-sceaux-les-blagis-donnees.geojson", b"{"),
        ("csv", "qmi-sceaux-les-blagis-experimentations.csv", b"\xef\xbb\xbfIdentifiant;"),
        ("kml", "qmi-sceaux-les-blagis-donnees.kml", b"<?xml"),
    ],
)
def test_each_format_into_a_folder(runner, tmp_path, fmt, name, magic):
    result = run(runner, "--quartier", "sceaux-les-blagis", "--format", fmt, "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert f"Export écrit : {tmp_path / name}" in result.output
    assert (tmp_path / name).read_bytes().startswith(magic)


def test_options_and_explicit_file_name(runner, tmp_path):
    out = tmp_path / "diapo" / "aulnay.png"
    result = run(
        runner,
        "--quartier",
        "all",
        "--format",
        "png",
        "--taille",
        "a4",
        "--theme",
        "énergie et bâti",
        "--out",
        str(out),
    )
    assert result.exit_code == 0, result.output
    with Image.open(out) as image:
        assert image.size == (3508, 2480)
    gpkg = tmp_path / "wgs.gpkg"
    assert (
        run(
            runner, "--quartier", "all", "--format", "gpkg", "--crs", "4326", "--out", str(gpkg)
        ).exit_code
        == 0
    )
    assert gpd.read_file(gpkg, layer="quartiers").crs.to_epsg() == 4326
    pdf = tmp_path / "fiche.pdf"
    assert (
        run(
            runner,
            "--quartier",
            "aulnay-centre-gare",
            "--format",
            "fiche",
            "--statut",
            "déployée",
            "--out",
            str(pdf),
        ).exit_code
        == 0
    )
    pages = PdfReader(io.BytesIO(pdf.read_bytes())).pages
    text = " ".join(pages[-1].extract_text().split())  # the experiments, after the cut page
    assert "Purple Alternative Surface" in text and "Istya" not in text  # seed, filtered


def test_batch_writes_every_export_with_progress(runner, tmp_path, atlas):
    result = run(runner, "--tout", "--out", str(tmp_path / "tout"))
    assert result.exit_code == 0, result.output
    count = len(batch_jobs(atlas))  # every format of each target, the cut view per district
    assert count == len(BATCH) * (len(atlas.slugs) + 1) - 2
    assert f"{count} exports" in result.output  # the progress bar's label
    assert f"{count} fichiers écrits dans {tmp_path / 'tout'}" in result.output
    files = sorted(p.name for p in (tmp_path / "tout").iterdir())
    assert len(files) == count
    assert "qmi-programme-fiche.pdf" in files
    assert "qmi-meudon-la-foret-donnees-wgs84.gpkg" in files


def test_batch_can_be_narrowed_to_one_format(runner, tmp_path):
    result = run(runner, "--tout", "--format", "csv", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert len(list(tmp_path.iterdir())) == 5


@pytest.mark.parametrize(
    "args, message",
    [
        (["--quartier", "lyon", "--format", "png"], "Le quartier « lyon » n’existe pas."),
        (["--quartier", "all", "--format", "docx"], "Format d’export inconnu : « docx »"),
        (["--quartier", "all", "--format", "png", "--taille", "a3"], "Taille inconnue : « a3 »"),
        (
            ["--quartier", "all", "--format", "gpkg", "--crs", "3857"],
            "Système de coordonnées inconnu",
        ),
        (["--quartier", "all", "--format", "csv", "--theme", "cuisine"], "Thème inconnu"),
        (["--quartier", "all", "--format", "csv", "--statut", "rêvée"], "Statut inconnu"),
        (["--format", "png"], "Indiquez --quartier et --format (ou --tout)."),
        (["--tout", "--format", "docx"], "Format d’export inconnu : « docx »"),
    ],
)
def test_bad_arguments_give_a_french_message_and_fail(runner, tmp_path, args, message):
    result = run(runner, *args, "--out", str(tmp_path))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Erreur : {message}")
    assert "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []


def test_unwritable_path_is_a_clean_error(runner, tmp_path):
    blocker = tmp_path / "fichier"
    blocker.write_text("pas un dossier")
    result = run(
        runner, "--quartier", "all", "--format", "csv", "--out", str(blocker / "sous" / "x.csv")
    )
    assert result.exit_code == 1
    assert (
        f"Impossible d’écrire « {blocker / 'sous' / 'x.csv'} » : un élément du chemin "
        "n’est pas un dossier."
    ) in result.output
    assert "Traceback" not in result.output


def test_read_only_folder_is_a_clean_error(runner):
    # /sys is mounted read-only: refused even to root, unlike a chmod'ed folder.
    result = run(runner, "--quartier", "all", "--format", "csv", "--out", "/sys/qmi.csv")
    assert result.exit_code == 1
    assert "Impossible d’écrire « /sys/qmi.csv » : permission refusée." in result.output
    assert "Traceback" not in result.output


def test_the_cut_view_of_a_district_and_a_french_refusal_for_the_programme(runner, tmp_path):
    args = ["--format", "png", "--vue", "coupure", "--out", str(tmp_path)]
    result = run(runner, "--quartier", "aulnay-centre-gare", *args)
    assert result.exit_code == 0, result.output
    made = tmp_path / "qmi-aulnay-centre-gare-carte-coupure-diapo.png"
    with Image.open(made) as image:
        assert image.size == (1920, 1080)
    refused = run(runner, "--quartier", "all", *args)
    assert refused.exit_code == 1
    assert "La vue coupure montre un quartier" in refused.output
    assert "Traceback" not in refused.output
