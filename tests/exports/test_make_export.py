"""The format registry, parameter checks (French errors), file names and the cache."""

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
from tests.exports.conftest import experiment_row

DAY = date(2025, 3, 1)


class FakeStore:
    """The two store methods exports use, counting calls."""

    def __init__(self, rows):
        self.rows, self.version, self.listed = list(rows), 1, 0

    def list_experiments(self, *, district=None, theme=None, status=None):
        self.listed += 1
        return [r for r in self.rows if (theme is None or r["theme"] == theme)
                and (status is None or r["status"] == status)]

    def data_version(self):
        return self.version


def test_every_format_is_registered():
    assert list(FORMATS) == ["png", "svg", "pdf", "fiche", "html", "gpkg", "geojson", "csv",
                             "kml"]
    assert FORMATS["fiche"].suffix == "fiche.pdf"
    assert FORMATS["gpkg"].mimetype == "application/geopackage+sqlite3"


def test_unknown_format_size_crs_and_filters_are_french_errors(atlas):
    with pytest.raises(GeoappError, match="Format d’export inconnu : « docx »") as err:
        get_format("docx")
    assert err.value.status == 404
    with pytest.raises(GeoappError, match="Taille inconnue : « a3 »") as err:
        parse_options(FORMATS["png"], size="a3")
    assert err.value.status == 400
    with pytest.raises(GeoappError, match="Système de coordonnées inconnu : « 3857 »"):
        parse_options(FORMATS["gpkg"], crs="3857")
    with pytest.raises(GeoappError, match="Thème inconnu"):
        make_export(atlas, FakeStore([]), target="all", fmt="csv", theme="cuisine")
    with pytest.raises(GeoappError, match="Statut inconnu"):
        make_export(atlas, FakeStore([]), target="all", fmt="csv", status="rêvée")
    with pytest.raises(GeoappError, match="Le quartier « paris » n’existe pas.") as err:
        make_export(atlas, FakeStore([]), target="paris", fmt="png")
    assert err.value.status == 404


def test_defaults_per_format():
    assert parse_options(FORMATS["png"]).size == "diapo"
    assert parse_options(FORMATS["pdf"]).size == "a4"
    assert parse_options(FORMATS["gpkg"], crs="EPSG:4326").crs == 4326
    assert parse_options(FORMATS["csv"], size="a4").size == "diapo"  # size is irrelevant


def test_file_names_say_what_is_inside(atlas):
    store = FakeStore([])
    names = {(fmt, tuple(opts.items())): make_export(atlas, store, target="all", fmt=fmt,
                                                      today=DAY, **opts).filename
             for fmt, opts in [("png", {"size": "a4"}), ("fiche", {}), ("gpkg", {"crs": 4326}),
                               ("csv", {"theme": "espaces publics"})]}
    assert list(names.values()) == ["qmi-programme-carte-a4.png", "qmi-programme-fiche.pdf",
                                    "qmi-programme-donnees-wgs84.gpkg",
                                    "qmi-programme-espaces-publics-experimentations.csv"]


def test_cache_serves_until_the_data_version_changes(atlas, tmp_path, rows):
    store = FakeStore(rows)
    cache = ExportCache(tmp_path / "cache")
    first = make_export(atlas, store, target="sceaux-les-blagis", fmt="png", cache=cache,
                        today=DAY)
    again = make_export(atlas, store, target="sceaux-les-blagis", fmt="png", cache=cache,
                        today=DAY)
    assert again.data == first.data and store.listed == 1
    assert len(list((tmp_path / "cache").iterdir())) == 1
    store.rows.append(experiment_row(atlas, "sceaux-les-blagis", 7, title="Nouvelle",
                                     theme="espaces publics"))
    store.version += 1
    fresh = make_export(atlas, store, target="sceaux-les-blagis", fmt="png", cache=cache,
                        today=DAY)
    assert fresh.data != first.data and store.listed == 2
    assert [p.name[:2] for p in (tmp_path / "cache").iterdir()] == ["v2"]  # old one pruned


def test_cache_keys_every_parameter(atlas, tmp_path, rows):
    store = FakeStore(rows)
    cache = ExportCache(tmp_path)
    for theme in (None, "mobilité"):
        for fmt in ("csv", "geojson"):
            make_export(atlas, store, target="all", fmt=fmt, theme=theme, cache=cache,
                        today=DAY)
    assert store.listed == 4 and len(list(tmp_path.iterdir())) == 4


def test_disabled_or_unwritable_cache_still_exports(atlas, tmp_path, rows):
    store = FakeStore(rows)
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    for cache in (ExportCache(None), ExportCache(blocked / "sub")):
        made = make_export(atlas, store, target="all", fmt="csv", cache=cache, today=DAY)
        assert made.data.startswith(b"\xef\xbb\xbfid;")


def test_batch_covers_every_district_and_the_programme(atlas):
    jobs = batch_jobs(atlas)
    assert len(jobs) == 5 * 11
    assert {t for t, _, _ in jobs} == {*atlas.slugs, "all"}
    assert len(batch_jobs(atlas, fmt="gpkg")) == 10
    with pytest.raises(GeoappError):
        batch_jobs(atlas, target="lyon")
