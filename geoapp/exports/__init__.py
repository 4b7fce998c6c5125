"""Exports for presentations and data users: images, sheets, offline HTML, data files.

:data:`FORMATS` maps a format key (the CLI's ``--format``, the URL's suffix) to its
builder. Every builder takes a :class:`~geoapp.exports.scene.Scene` (what is shown: one
district or the programme, the filtered experiments) and :class:`ExportOptions` and returns
bytes. :func:`plan_export` validates the parameters (French ``GeoappError``) and keys the
export by data version; :func:`make_export` (the CLI, the background jobs of
:mod:`geoapp.exports.jobs`) reads the experiments from the store, builds and caches the
result (:mod:`geoapp.exports.cache`). Nothing here imports Flask.
"""

from __future__ import annotations

import errno
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from geoapp.atlas import Atlas
from geoapp.errors import GeoappError
from geoapp.exports.cache import ExportCache
from geoapp.exports.scene import ALL, Scene, check_filters, make_scene, stored_crossings
from geoapp.exports.style import SIZES
from geoapp.layers import experiments_frame

# Bump when a builder's output changes, so cached files of the old look are not served.
FORMAT_VERSION = 3
CRS_CODES = (2154, 4326)
# What a map (png, svg, pdf) shows: the experiments, or the district's urban cut (numbered
# sides, crossings, best sites; `geoapp.exports.cut_page`).
EXPERIMENTS_VIEW = "experimentations"
CUT_VIEW = "coupure"
VIEWS = (EXPERIMENTS_VIEW, CUT_VIEW)


@dataclass(frozen=True)
class ExportOptions:
    """Page size (``diapo`` 16:9 or ``a4`` landscape), CRS (EPSG code) and, for maps,
    the view (``experimentations`` or ``coupure``) of an export."""

    size: str = "diapo"
    crs: int = 2154
    view: str = EXPERIMENTS_VIEW


@dataclass(frozen=True)
class ExportFormat:
    key: str
    suffix: str  # file extension, after the target name: "png", "fiche.pdf"
    mimetype: str
    label: str  # French, for the menu
    build: Callable[[Scene, ExportOptions], bytes]
    sized: bool = False  # honours ExportOptions.size
    projected: bool = False  # honours ExportOptions.crs
    default_size: str = "diapo"

    @property
    def extension(self) -> str:
        return self.suffix.rsplit(".", 1)[-1]


@dataclass(frozen=True)
class Export:
    data: bytes
    filename: str
    mimetype: str


# Builders import their module on first use: the app starts without loading matplotlib,
# fontTools or simplekml, which only an export needs.
def _static(fmt: str) -> Callable[[Scene, ExportOptions], bytes]:
    def build(scene: Scene, options: ExportOptions) -> bytes:
        from geoapp.exports.static_maps import render_map

        return render_map(scene, fmt=fmt, size=options.size, view=options.view)

    return build


def _sheet(scene: Scene, options: ExportOptions) -> bytes:
    from geoapp.exports.sheets import render_sheet

    return render_sheet(scene)


def _html(scene: Scene, options: ExportOptions) -> bytes:
    from geoapp.exports.standalone import render_standalone

    return render_standalone(scene)


def _data(name: str) -> Callable[[Scene, ExportOptions], bytes]:
    def build(scene: Scene, options: ExportOptions) -> bytes:
        from geoapp.exports import data

        if name == "gpkg":
            return data.write_geopackage(scene, crs=options.crs)
        return {
            "geojson": data.write_geojson,
            "csv": data.write_experiments_csv,
            "kml": data.write_kml,
        }[name](scene)

    return build


FORMATS: dict[str, ExportFormat] = {
    f.key: f
    for f in (
        ExportFormat("png", "png", "image/png", "Image PNG", _static("png"), sized=True),
        ExportFormat(
            "svg", "svg", "image/svg+xml", "Image vectorielle SVG", _static("svg"), sized=True
        ),
        ExportFormat(
            "pdf",
            "pdf",
            "application/pdf",
            "Carte PDF (vectorielle)",
            _static("pdf"),
            sized=True,
            default_size="a4",
        ),
        ExportFormat(
            "fiche",
            "fiche.pdf",
            "application/pdf",
            "Fiche quartier (PDF A4)",
            _sheet,
            default_size="a4",
        ),
        ExportFormat(
            "html", "html", "text/html; charset=utf-8", "Carte interactive hors ligne (HTML)", _html
        ),
        ExportFormat(
            "gpkg",
            "gpkg",
            "application/geopackage+sqlite3",
            "GeoPackage (SIG)",
            _data("gpkg"),
            projected=True,
        ),
        ExportFormat(
            "geojson", "geojson", "application/geo+json", "GeoJSON (WGS84)", _data("geojson")
        ),
        ExportFormat(
            "csv",
            "csv",
            "text/csv; charset=utf-8",
            "Tableau des expérimentations (CSV Excel)",
            _data("csv"),
        ),
        ExportFormat(
            "kml", "kml", "application/vnd.google-earth.kml+xml", "KML (Google Earth)", _data("kml")
        ),
    )
}
BY_SUFFIX = {f.suffix: f for f in FORMATS.values()}


def get_format(key: str) -> ExportFormat:
    """The format ``key`` (``png``, ``fiche``…), or a French 404 listing the valid ones."""
    try:
        return FORMATS[key]
    except KeyError:
        raise GeoappError(
            f"Format d’export inconnu : « {key} ». Formats possibles : " + ", ".join(FORMATS) + ".",
            404,
        ) from None


def parse_options(
    fmt: ExportFormat,
    *,
    size: str | None = None,
    crs: str | int | None = None,
    view: str | None = None,
) -> ExportOptions:
    """Check ``size``, ``crs`` and ``view`` (as typed by a user) -> options; French 400
    if wrong. ``view`` applies to maps (sized formats) only."""
    size = size or fmt.default_size
    if size not in SIZES:
        raise GeoappError(
            f"Taille inconnue : « {size} ». Tailles possibles : diapo (16:9, "
            "1920×1080) ou a4 (A4 paysage, 300 dpi).",
            400,
        )
    try:
        code = int(str(crs).removeprefix("EPSG:")) if crs not in (None, "") else 2154
    except ValueError:
        code = -1
    if code not in CRS_CODES:
        raise GeoappError(
            f"Système de coordonnées inconnu : « {crs} ». Choix possibles : "
            "2154 (Lambert-93) ou 4326 (WGS84).",
            400,
        )
    view = view or EXPERIMENTS_VIEW
    if view not in VIEWS:
        raise GeoappError(
            f"Vue inconnue : « {view} ». Vues possibles : experimentations (les "
            "expérimentations) ou coupure (côtés, franchissements, meilleurs sites).",
            400,
        )
    return ExportOptions(
        size=size if fmt.sized else fmt.default_size,
        crs=code,
        view=view if fmt.sized else EXPERIMENTS_VIEW,
    )


def export_filename(scene: Scene, fmt: ExportFormat, options: ExportOptions) -> str:
    """``qmi-<district|programme>[-<filters>]-<kind>[-<size>|-<crs>].<ext>`` in ASCII."""
    parts = ["qmi", scene.label]
    parts += [_ascii(v) for v in (scene.district, scene.theme, scene.status) if v]
    parts.append(
        {
            "png": "carte",
            "svg": "carte",
            "pdf": "carte",
            "html": "carte-interactive",
            "csv": "experimentations",
        }.get(fmt.key, "fiche" if fmt.key == "fiche" else "donnees")
    )
    if fmt.sized:
        parts += ["coupure"] if options.view == CUT_VIEW else []
        parts.append(options.size)
    if fmt.projected:
        parts.append("lambert93" if options.crs == 2154 else "wgs84")
    return "-".join(parts) + "." + fmt.extension


def _ascii(text: str) -> str:
    import unicodedata

    flat = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return "-".join("".join(c if c.isalnum() else " " for c in flat.lower()).split())


@dataclass(frozen=True)
class ExportPlan:
    """One export, validated and keyed: what :func:`plan_export` returns.

    ``key`` names the exact bytes (parameters, atlas, data version, day): the cache file
    and the background job of one export share it, so equal requests share one build.
    """

    key: str
    filename: str
    mimetype: str
    label: str  # French, for the "en préparation" page
    build: Callable[[], bytes]
    cache: ExportCache
    entry: dict  # ExportCache.get/put arguments

    def cached(self) -> bytes | None:
        """The bytes if a previous build is on disk, else ``None`` (nothing is built)."""
        return self.cache.get(**self.entry)

    def run(self) -> Export:
        """The export: from the cache, or built now (then cached)."""
        data = self.cached()
        if data is None:
            data = self.build()
            self.cache.put(data, **self.entry)
        return Export(data, self.filename, self.mimetype)


def plan_export(
    atlas: Atlas,
    store,
    *,
    target: str,
    fmt: str,
    size: str | None = None,
    crs: str | int | None = None,
    theme: str | None = None,
    status: str | None = None,
    district: str | None = None,
    cache: ExportCache | None = None,
    today: date | None = None,
    view: str | None = None,
) -> ExportPlan:
    """Check the parameters and say how to build one export, without building it.

    ``target`` is a district slug or ``"all"``; ``store`` gives ``list_experiments`` and
    ``data_version`` (withdrawn experiments are never exported). Raises ``GeoappError``
    (French): 404 for an unknown district or format, 400 for a bad size, CRS, view or
    filter (the cut view is a district's). The stored crossings (``list_crossings``) enter
    every export's cut analysis.
    """
    format_ = get_format(fmt)
    options = parse_options(format_, size=size, crs=crs, view=view)
    if target != ALL:
        atlas.district(target)
    elif options.view == CUT_VIEW:
        raise GeoappError(
            "La vue coupure montre un quartier : choisissez-en un (la fiche programme "
            "compare les quatre).",
            400,
        )
    check_filters(theme, status)
    today = today or date.today()
    theme, status, district = theme or None, status or None, district or None

    def build() -> bytes:
        rows = store.list_experiments(theme=theme, status=status)
        if format_.key == "fiche":  # the district sheet shows photos
            from geoapp.exports.sheets import with_photos

            rows = with_photos(store, rows)
        scene = make_scene(
            atlas,
            experiments_frame(rows),
            target,
            theme=theme,
            status=status,
            district=district,
            today=today,
            crossings=stored_crossings(store.list_crossings()),
        )
        return format_.build(scene, options)

    parts = {
        "v": FORMAT_VERSION,
        "atlas": atlas_fingerprint(atlas),
        "target": target,
        "fmt": format_.key,
        "size": options.size,
        "crs": options.crs,
        "view": options.view,
        "theme": theme,
        "status": status,
        "district": district,
    }
    entry = {
        "parts": parts,
        "version": store.data_version(),
        "day": today.isoformat(),
        "suffix": format_.extension,
    }
    name_scene = Scene(
        atlas,
        target,
        experiments_frame([]),
        theme,
        status,
        today,
        district if target == ALL else None,
    )
    return ExportPlan(
        key=ExportCache.name(**entry),
        filename=export_filename(name_scene, format_, options),
        mimetype=format_.mimetype,
        label=format_.label,
        build=build,
        cache=cache or ExportCache(None),
        entry=entry,
    )


def make_export(atlas: Atlas, store, **request) -> Export:
    """Build (or fetch from ``cache``) one export now: what the CLI and the background
    jobs run. Takes :func:`plan_export`'s arguments and raises its errors."""
    return plan_export(atlas, store, **request).run()


# Every export of one target, as the menu offers them: (format, options).
BATCH = [
    ("png", {"size": "diapo"}),
    ("png", {"size": "a4"}),
    ("png", {"size": "diapo", "view": CUT_VIEW}),
    ("pdf", {"size": "a4", "view": CUT_VIEW}),
    ("svg", {"size": "diapo"}),
    ("pdf", {"size": "a4"}),
    ("fiche", {}),
    ("html", {}),
    ("gpkg", {"crs": 2154}),
    ("gpkg", {"crs": 4326}),
    ("geojson", {}),
    ("csv", {}),
    ("kml", {}),
]


def batch_jobs(
    atlas: Atlas, *, target: str | None = None, fmt: str | None = None
) -> list[tuple[str, str, dict]]:
    """``(target, format, options)`` for every district and the programme (``--tout``),
    optionally narrowed to one target or one format (checked: French 404 if unknown)."""
    if target and target != ALL:
        atlas.district(target)
    if fmt:
        get_format(fmt)
    targets = [target] if target else [*atlas.slugs, ALL]
    return [
        (t, f, options)
        for t in targets
        for f, options in BATCH
        if (not fmt or f == fmt) and not (t == ALL and options.get("view") == CUT_VIEW)
    ]


def write_export(export: Export, out: Path, *, directory: bool = False) -> Path:
    """Write ``export`` to ``out`` (a file, or a folder where it keeps its own name).

    Raises ``GeoappError`` with a French message when the place cannot be written.
    """
    path = out / export.filename if directory or out.is_dir() else out
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(export.data)
    except OSError as exc:
        reason = _OS_ERRORS.get(exc.errno, exc.strerror or str(exc))
        raise GeoappError(f"Impossible d’écrire « {path} » : {reason}.", 500) from exc
    return path


_OS_ERRORS = {
    errno.ENOENT: "dossier introuvable",
    errno.EACCES: "permission refusée",
    errno.EPERM: "permission refusée",
    errno.ENOTDIR: "un élément du chemin n’est pas un dossier",
    errno.EISDIR: "c’est un dossier",
    errno.EROFS: "support en lecture seule",
    errno.ENOSPC: "disque plein",
}


_FINGERPRINTS: dict[int, tuple[Atlas, str]] = {}


def atlas_fingerprint(atlas: Atlas) -> str:
    """A short hash of the districts and cuts, so a data update never serves old files."""
    known = _FINGERPRINTS.get(id(atlas))
    if known and known[0] is atlas:
        return known[1]
    digest = hashlib.sha256()
    for frame in (atlas.districts, atlas.cuts, atlas.stations):
        digest.update(b"".join(frame.geometry.to_wkb()))
        digest.update(frame.drop(columns=frame.geometry.name).to_json().encode("utf-8"))
    _FINGERPRINTS[id(atlas)] = (atlas, digest.hexdigest()[:16])
    return _FINGERPRINTS[id(atlas)][1]


__all__ = [
    "ALL",
    "BATCH",
    "CUT_VIEW",
    "FORMATS",
    "Export",
    "ExportCache",
    "ExportFormat",
    "ExportOptions",
    "ExportPlan",
    "EXPERIMENTS_VIEW",
    "Scene",
    "VIEWS",
    "batch_jobs",
    "export_filename",
    "get_format",
    "make_export",
    "make_scene",
    "parse_options",
    "plan_export",
    "write_export",
]
