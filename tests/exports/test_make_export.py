"""The format registry, parameter checks (French errors), file names and the cache.

Exports read a real store on a temporary SQLite file. How long an export takes is
measured by ``benchmarks/bench_exports.py``, not asserted here.
"""

from __future__ import annotations

from datetime import date

import pytest

from geoapp.errors import GeoappError
from geoapp.exports import (
    FORMATS,
    ExportCache,
    batch_jobs,
    get_format,
    make_export,
    parse_options,
)
from geoapp.store import Store
from tests.exports.conftest import experiment_row

DAY = date(2025, 3, 1)


@pytest.fixture
def empty_store(tmp_path):
    return Store(tmp_path / "store.sqlite3")


@pytest.fixture
def store(empty_store, rows):
    """The three hand-made experiments (conftest ``rows``), imported like a CSV file."""
    empty_store.import_experiments(
        [{k: v for k, v in r.items() if k != "id"} for r in rows], user="test"
    )
    return empty_store


def files(folder):
    return sorted(p.name for p in folder.iterdir())


def test_every_format_is_registered():
    assert list(FORMATS) == ["png", "svg", "pdf", "fiche", "html", "gpkg", "geojson", "csv", "kml"]
    assert FORMATS["fiche"].suffix == "fiche.pdf"
    assert FORMATS["gpkg"].mimetype == "application/geopackage+sqlite3"


def test_unknown_format_size_crs_and_filters_are_french_errors(atlas, empty_store):
    with pytest.raises(GeoappError, match="Format d’export inconnu : « docx »") as err:
        get_format("docx")
    assert err.value.status == 404
    with pytest.raises(GeoappError, match="Taille inconnue : « a3 »") as err:
        parse_options(FORMATS["png"], size="a3")
    assert err.value.status == 400
    with pytest.raises(GeoappError, match="Système de coordonnées inconnu : « 3857 »"):
        parse_options(FORMATS["gpkg"], crs="3857")
    with pytest.raises(GeoappError, match="Thème inconnu"):
        make_export(atlas, empty_store, target="all", fmt="csv", theme="cuisine")
    with pytest.raises(GeoappError, match="Statut inconnu"):
        make_export(atlas, empty_store, target="all", fmt="csv", status="rêvée")
    with pytest.raises(GeoappError, match="Le quartier « paris » n’existe pas.") as err:
        make_export(atlas, empty_store, target="paris", fmt="png")
    assert err.value.status == 404


def test_defaults_per_format():
    assert parse_options(FORMATS["png"]).size == "diapo"
    assert parse_options(FORMATS["pdf"]).size == "a4"
    assert parse_options(FORMATS["gpkg"], crs="EPSG:4326").crs == 4326
    assert parse_options(FORMATS["csv"], size="a4").size == "diapo"  # size is irrelevant


def test_file_names_say_what_is_inside(atlas, empty_store):
    store = empty_store
    names = {
        (fmt, tuple(opts.items())): make_export(
            atlas, store, target="all", fmt=fmt, today=DAY, **opts
        ).filename
        for fmt, opts in [
            ("png", {"size": "a4"}),
            ("fiche", {}),
            ("gpkg", {"crs": 4326}),
            ("csv", {"theme": "espaces publics"}),
        ]
    }
    assert list(names.values()) == [
        "qmi-programme-carte-a4.png",
        "qmi-programme-fiche.pdf",
        "qmi-programme-donnees-wgs84.gpkg",
        "qmi-programme-espaces-publics-experimentations.csv",
    ]


def test_cache_serves_until_the_data_version_changes(atlas, tmp_path, store):
    folder = tmp_path / "cache"
    cache = ExportCache(folder)
    first = make_export(atlas, store, target="sceaux-les-blagis", fmt="png", cache=cache, today=DAY)
    [name] = files(folder)
    assert name.startswith(f"v{store.data_version()}-2025-03-01-")
    assert (folder / name).read_bytes() == first.data
    (folder / name).write_bytes(b"from the cache")  # a rebuild would not return this
    again = make_export(atlas, store, target="sceaux-les-blagis", fmt="png", cache=cache, today=DAY)
    assert again.data == b"from the cache"
    values = experiment_row(
        atlas, "sceaux-les-blagis", 7, title="Nouvelle", theme="espaces publics"
    )
    store.create_experiment(
        {k: v for k, v in values.items() if k not in ("id", "district")},
        district="sceaux-les-blagis",
        user="test",
    )
    fresh = make_export(atlas, store, target="sceaux-les-blagis", fmt="png", cache=cache, today=DAY)
    assert fresh.data not in (first.data, b"from the cache")
    [newer] = files(folder)  # the old generation is pruned
    assert newer.startswith(f"v{store.data_version()}-") and newer != name


def test_cache_keys_every_parameter(atlas, tmp_path, store):
    folder = tmp_path / "cache"
    cache = ExportCache(folder)
    made = {
        (theme, fmt): make_export(
            atlas, store, target="all", fmt=fmt, theme=theme, cache=cache, today=DAY
        ).data
        for theme in (None, "mobilité")
        for fmt in ("csv", "geojson")
    }
    assert len(files(folder)) == 4  # one file per build: nothing was served twice
    assert made[(None, "csv")] != made[("mobilité", "csv")]
    assert "Îlot de fraîcheur" in made[(None, "csv")].decode("utf-8-sig")
    assert "Îlot de fraîcheur" not in made[("mobilité", "csv")].decode("utf-8-sig")


def test_disabled_or_unwritable_cache_still_exports(atlas, tmp_path, store):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    for cache in (ExportCache(None), ExportCache(blocked / "sub")):
        made = make_export(atlas, store, target="all", fmt="csv", cache=cache, today=DAY)
        assert made.data.startswith("\ufeffIdentifiant;".encode())


def test_batch_covers_every_district_and_the_programme(atlas):
    jobs = batch_jobs(atlas)
    # 11 exports per target, and two cut-view maps per district (not the programme's)
    assert len(jobs) == 5 * 11 + 4 * 2
    assert not [j for j in jobs if j[0] == "all" and j[2].get("view") == "coupure"]
    assert {t for t, _, _ in jobs} == {*atlas.slugs, "all"}
    assert len(batch_jobs(atlas, fmt="gpkg")) == 10
    with pytest.raises(GeoappError):
        batch_jobs(atlas, target="lyon")
