"""The experiment registry as files: CSV and .xlsx for French Excel, GeoJSON, both ways;
GeoPackage and KML in.

One column list serves export and import, so an exported file imports back unchanged.
Headers are French (`geoapp.vocabulary.COLUMN_HEADERS`); the import also takes the
internal field names, in any case and with or without accents. CSV is semicolon-separated
UTF-8 with a BOM (French Excel opens it with accents intact); the import detects the
separator and the encoding (`geoapp.spreadsheets`).

What this module reads is *raw*: cells keyed by field, as typed (text, numbers, Excel
dates). `geoapp.imports` interprets them (dates, vocabulary, district, objectives).
Geometry is handled in one place, `place_of` / `geometry_of`: a point, or a line or area
(``shape``, `geoapp.shapes`), which spreadsheets carry as WKT in one column.
"""

from __future__ import annotations

import functools
import io
import json
import re
import unicodedata
import warnings
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pyogrio

from geoapp.analysis import DISPLAY_CRS
from geoapp.errors import DEEP_JSON, GeoappError
from geoapp.shapes import shape_wkt
from geoapp.spreadsheets import (
    Table,
    delimiter_name,
    read_csv_table,
    read_xlsx_table,
    too_many_rows,
    write_csv_table,
    write_xlsx_table,
)
from geoapp.vocabulary import COLUMN_HEADERS, EXPERIMENT_FIELDS, LIST_SEPARATOR

# Every registry field but ``source`` (set by the seed only), then the row's version.
COLUMNS = [f for f in EXPERIMENT_FIELDS if f != "source"] + ["version"]
HEADERS = [COLUMN_HEADERS[c] for c in COLUMNS]
REQUIRED_COLUMNS = ("district", "title")
_SCALE_UP_TEXT = {True: "oui", False: "non", None: ""}
# Free-text columns: a CSV cell starting like a formula gets a leading apostrophe on export
# (Excel then shows it as text instead of running it) and loses it again on import. A
# value that itself starts with an apostrophe gets one too, so the import can tell the
# added apostrophe from the user's own: every value round-trips unchanged. (.xlsx cells
# are typed as text instead: no apostrophe there.)
_TEXT_COLUMNS = {
    "title",
    "organisation",
    "objectives",
    "description",
    "location_note",
    "evaluation_outcome",
    "links",
}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_GUARDED_START = ("'", *_FORMULA_START)
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")


@functools.lru_cache(maxsize=8192)
def _fold_text(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.replace("’", "'"))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return " ".join(bare.split())


def fold(text: Any) -> str:
    """``text`` compared the way people type it: no case, no accents, one space between
    words, typographic apostrophes as plain ones (« Déployée » == « deployee »). Cached:
    an import folds the same few vocabulary words thousands of times."""
    return _fold_text(str(text))


def loose(text: Any) -> str:
    """`fold`, punctuation as spaces too: « Meudon-la-Forêt » == « meudon la foret »."""
    return _NOT_ALNUM.sub(" ", fold(text)).strip()


# Both the French header and the field name find the field; "id" also as "identifiant".
_FIELD_BY_HEADER = {
    **{loose(f): f for f in COLUMNS},
    **{loose(COLUMN_HEADERS[f]): f for f in COLUMNS},
    loose("id_experimentation"): "id",
}


@dataclass
class RawRows:
    """An uploaded file's rows as ``{field: raw cell}``, each with the number a person
    sees (``first`` for the first one: 2 in a spreadsheet, 1 for a GeoJSON feature)."""

    rows: list[dict[str, Any]]
    columns: list[str]  # the fields the file has a column for
    unit: str = "Ligne"
    first: int = 2
    ignored: list[str] = field(default_factory=list)  # headers matching no field
    detected: str = ""  # « CSV Windows-1252, séparateur point-virgule »…

    def number(self, index: int) -> int:
        return self.first + index


_KINDS = {
    ".xlsx": "xlsx",
    ".csv": "csv",
    ".txt": "csv",
    ".geojson": "geojson",
    ".json": "geojson",
    ".gpkg": "gpkg",
    ".kml": "kml",
}
# A file's layers of experiments: the export's own name first, else its only layer.
EXPERIMENT_LAYER = "experimentations"


def kind_of(filename: str) -> str:
    """``csv``, ``xlsx``, ``geojson``, ``gpkg`` or ``kml`` from an upload's name; 400 in
    French otherwise."""
    name = (filename or "").lower()
    for suffix, kind in _KINDS.items():
        if name.endswith(suffix):
            return kind
    raise GeoappError(
        "Type de fichier non pris en charge : importez un classeur Excel (.xlsx), un CSV "
        "(.csv), un GeoJSON (.geojson), un GeoPackage (.gpkg) ou un KML (.kml).",
        400,
    )


def read_rows(filename: str, data: bytes, *, max_rows: int) -> RawRows:
    """The rows of an uploaded file, by its kind (`kind_of`); 400/413 in French."""
    kind = kind_of(filename)
    if kind == "geojson":
        return read_geojson_rows(data, max_rows=max_rows)
    if kind in ("gpkg", "kml"):
        return read_geofile_rows(data, kind, max_rows=max_rows)
    reader = read_xlsx_table if kind == "xlsx" else read_csv_table
    table = reader(data, max_rows=max_rows)
    raw = _from_table(table, unguard=kind == "csv")
    if kind == "csv":
        raw.detected = f"CSV {table.encoding}, séparateur {delimiter_name(table.delimiter)}"
    else:
        raw.detected = "classeur Excel (.xlsx)"
    return raw


def _from_table(table: Table, *, unguard: bool) -> RawRows:
    """Raw rows keyed by field; ``unguard`` drops the CSV formula guard (`_uncell`)."""
    fields: list[str | None] = []
    ignored = []
    for header in table.headers:
        found = _FIELD_BY_HEADER.get(loose(header))
        if found is not None and found in fields:
            raise GeoappError(f"La colonne « {COLUMN_HEADERS[found]} » figure deux fois.", 400)
        fields.append(found)
        if found is None and str(header).strip():
            ignored.append(str(header).strip())
    _require_columns([f for f in fields if f])
    undo = _uncell if unguard else lambda field, value: value
    rows = [
        {f: undo(f, v) for f, v in zip(fields, row, strict=False) if f is not None}
        for row in table.rows
    ]
    return RawRows(rows, [f for f in fields if f], first=table.first, ignored=ignored)


def _require_columns(columns: list[str]) -> None:
    missing = [COLUMN_HEADERS[c] for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise GeoappError(
            "Colonnes obligatoires absentes : "
            + ", ".join(f"« {m} »" for m in missing)
            + " (la première ligne du fichier doit porter les en-têtes du modèle d’import).",
            400,
        )


# Writing -------------------------------------------------------------------------------


def _cell(field: str, value, names: dict[str, str]) -> Any:
    """A stored value as a spreadsheet shows it (typed: dates and numbers stay so)."""
    if field == "objectives":
        return LIST_SEPARATOR.join(value or [])
    if field == "links":  # one URL per line of the cell (Alt+Entrée in Excel)
        return "\n".join(value or [])
    if field == "evaluation_scale_up":
        return _SCALE_UP_TEXT[value]
    if field == "shape":
        return shape_wkt(value)
    if field == "district":
        return names.get(value, value)
    return "" if value is None else value


def _csv_cell(field: str, value, names: dict[str, str]) -> str:
    text = str(_cell(field, value, names))
    if field in _TEXT_COLUMNS and text.startswith(_GUARDED_START):
        return "'" + text
    return text


def _uncell(field: str, value: Any) -> Any:
    """Undo the CSV guard: drop one apostrophe, and only one `_csv_cell` would have added
    (``'=1`` -> ``=1``, ``''x`` -> ``'x``; ``'x`` stays as typed)."""
    if (
        field in _TEXT_COLUMNS
        and isinstance(value, str)
        and value.startswith("'")
        and value[1:].startswith(_GUARDED_START)
    ):
        return value[1:]
    return value


def write_csv(rows: list[dict], *, district_names: dict[str, str] | None = None) -> bytes:
    """Experiments as CSV bytes for French Excel (``;``, UTF-8 with BOM, French headers,
    one objective list per cell); ``district_names`` writes names instead of slugs."""
    names = district_names or {}
    return write_csv_table(
        HEADERS, ([_csv_cell(c, r.get(c), names) for c in COLUMNS] for r in rows)
    )


def _xlsx_value(field: str, value, names: dict[str, str]) -> Any:
    if field in ("start_date", "end_date") and value:
        return date.fromisoformat(value)
    return _cell(field, value, names)


def write_xlsx(rows: list[dict], *, district_names: dict[str, str] | None = None) -> bytes:
    """Experiments as an .xlsx workbook with the CSV's French headers; dates are Excel
    dates, text cells are text (never formulas)."""
    names = district_names or {}
    return write_xlsx_table(
        HEADERS, ([_xlsx_value(c, r.get(c), names) for c in COLUMNS] for r in rows)
    )


def write_template(choices: dict[str, list[str]], help_lines: list[str]) -> bytes:
    """« Modèle d’import.xlsx »: the headers, drop-downs (``choices`` by field) on the
    controlled columns, and the instructions sheet."""
    by_header = {COLUMN_HEADERS[f]: values for f, values in choices.items()}
    widths = {COLUMN_HEADERS[f]: 40 for f in ("title", "objectives", "description")}
    return write_xlsx_table(HEADERS, [], choices=by_header, help_lines=help_lines, widths=widths)


# Compatibility readers: rows keyed by field, objectives split ---------------------------


def read_csv(data: bytes, *, max_rows: int = 10**6) -> list[dict]:
    """Rows of a CSV (this module's or French Excel's) as form-like dicts keyed by field,
    ``objectives`` split into a list: for callers that read an export back."""
    return [
        _split_objectives(r)
        for r in _from_table(read_csv_table(data, max_rows=max_rows), unguard=True).rows
    ]


def _split_objectives(row: dict) -> dict:
    text = row.get("objectives") or ""
    row["objectives"] = [o.strip() for o in str(text).split(LIST_SEPARATOR.strip()) if o.strip()]
    return row


# GeoJSON and geometry ------------------------------------------------------------------


def place_of(geometry: Any) -> dict[str, Any]:
    """The place columns of a GeoJSON geometry: ``{"lon", "lat", "shape": None}`` for a
    Point, ``{"shape": geometry}`` for a line or an area (its anchor is computed when
    the row is validated).

    The one place a file's geometry becomes row values; `ValueError` for anything else
    (the validator names what a shape may be).
    """
    if not isinstance(geometry, dict) or not isinstance(geometry.get("coordinates"), list):
        raise ValueError("geometry: a GeoJSON geometry is expected")
    if geometry.get("type") != "Point":
        return {"shape": geometry}
    lon, lat = geometry["coordinates"][:2]
    if not all(isinstance(v, int | float | str) and not isinstance(v, bool) for v in (lon, lat)):
        raise ValueError("geometry: a Point's coordinates are two numbers")  # the validator
        # reads numbers written as text too; nested lists never reach it
    return {"lon": lon, "lat": lat, "shape": None}


def geometry_of(row: dict) -> dict[str, Any]:
    """The GeoJSON geometry of a stored experiment (WGS84): its line or area, or its
    point; the inverse of `place_of`."""
    return row.get("shape") or {"type": "Point", "coordinates": [row["lon"], row["lat"]]}


def write_geojson(rows: list[dict]) -> str:
    """Experiments as a WGS84 GeoJSON FeatureCollection (properties = the columns, by
    field name: other GIS tools read those more easily than French headers)."""
    features = [
        {
            "type": "Feature",
            "geometry": geometry_of(row),
            "properties": {c: row.get(c) for c in COLUMNS if c not in ("lon", "lat", "shape")},
        }
        for row in rows
    ]
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False)


def read_geojson_rows(data: bytes, *, max_rows: int) -> RawRows:
    """The features of an uploaded FeatureCollection as raw rows (properties by field
    name or French header, place from the geometry)."""
    try:
        features = json.loads(data.decode("utf-8-sig"))["features"]
        if len(features) > max_rows:
            raise too_many_rows(len(features), max_rows)
        rows = []
        for number, feature in enumerate(features, start=1):
            properties = feature.get("properties") or {}
            _check_flat(properties, number)
            row = {_FIELD_BY_HEADER.get(loose(k)): v for k, v in properties.items()}
            row.pop(None, None)
            rows.append({**row, **place_of(feature["geometry"])})
    except RecursionError as exc:
        raise GeoappError(f"GeoJSON illisible : {DEEP_JSON}.", 400) from exc
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise GeoappError(
            "GeoJSON illisible : une FeatureCollection de points, lignes ou polygones avec leurs "
            "propriétés est attendue.",
            400,
        ) from exc
    columns = list(dict.fromkeys(f for r in rows for f in r))
    if rows:
        _require_columns(columns)
    return RawRows(rows, columns, unit="Entité", first=1)


def read_geofile_rows(data: bytes, kind: str, *, max_rows: int) -> RawRows:
    """The experiments of a GeoPackage or KML (GDAL through pyogrio) as raw rows: the
    layer (KML: folder) named « experimentations », or the file's only layer, in WGS84,
    then read as a GeoJSON upload is (`read_geojson_rows`)."""
    label = {"gpkg": "GeoPackage", "kml": "KML"}[kind]
    source = io.BytesIO(data)
    try:
        with warnings.catch_warnings():  # GDAL notes that an upload has no file name
            warnings.filterwarnings("ignore", "File /vsimem/", RuntimeWarning)
            layers = [str(name) for name, _ in pyogrio.list_layers(source)]
            layer = _experiment_layer(layers, label)
            frame = pyogrio.read_dataframe(source, layer=layer, max_features=max_rows + 1)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise GeoappError(
            f"{label} illisible : le fichier est abîmé ou d’un autre type.", 400
        ) from exc
    if len(frame) > max_rows:
        raise too_many_rows(len(frame), max_rows)
    if frame.crs is None and kind == "gpkg":
        raise GeoappError(
            f"{label} : la couche « {layer} » n’a pas de système de coordonnées.", 400
        )
    frame = frame[frame.geometry.notna()]
    if frame.crs is not None:
        frame = frame.to_crs(DISPLAY_CRS)
    if kind == "kml":  # a placemark's id is the file's, not the registry's (that one is
        # in its ExtendedData); its name is its title when the data holds none
        frame = frame.drop(columns=["id"], errors="ignore")
        if "Name" in frame and not {"title", "Titre"} & set(frame.columns):
            frame = frame.rename(columns={"Name": "title"})
    collection = frame.to_json(na="drop", drop_id=True, to_wgs84=False)
    raw = read_geojson_rows(collection.encode("utf-8"), max_rows=max_rows)
    raw.detected = f"{label}, couche « {layer} »"
    return raw


def _experiment_layer(layers: list[str], label: str) -> str:
    if EXPERIMENT_LAYER in layers:
        return EXPERIMENT_LAYER
    if len(layers) == 1:
        return layers[0]
    shown = ", ".join(f"« {n} »" for n in layers[:8]) or "aucune"
    raise GeoappError(
        f"{label} : aucune couche « {EXPERIMENT_LAYER} » et plusieurs couches ({shown}) : "
        "gardez une seule couche ou nommez celle des expérimentations « experimentations ».",
        400,
    )


def read_geojson(data: bytes) -> list[dict]:
    """Rows of an uploaded GeoJSON as form-like dicts keyed by field."""
    return read_geojson_rows(data, max_rows=10**6).rows


_SCALARS = (str, int, float, bool, type(None))


def _check_flat(row: dict, number: int) -> None:
    """Refuse a value no form field takes: an object, or a list holding more than text.

    Besides giving a clear message, this keeps nested structures (hundreds of levels
    still parse) away from the validators, whose ``str()`` would recurse through them.
    """
    for name, value in row.items():
        if isinstance(value, list) and all(isinstance(v, _SCALARS) for v in value):
            continue
        if not isinstance(value, _SCALARS):
            shown = name if len(name) <= 60 else name[:59] + "…"
            raise GeoappError(
                f"GeoJSON illisible : la valeur « {shown} » de l’entité n° "
                f"{number} n’est ni un texte, ni un nombre, ni une liste de "
                "textes.",
                400,
            )
