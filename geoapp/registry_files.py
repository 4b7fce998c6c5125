"""The experiment registry as files: CSV for French Excel and GeoJSON, both ways.

One column list serves export and import, so an exported file imports back unchanged.
CSV is semicolon-separated UTF-8 with a BOM: French Excel opens it with accents intact
and decimal commas do not clash with the separator.
"""

from __future__ import annotations

import csv
import io
import json

from geoapp.errors import DEEP_JSON, GeoappError
from geoapp.vocabulary import EXPERIMENT_FIELDS, LIST_SEPARATOR, fr_num

# Every registry field but ``source``, which only the seed and the store set.
COLUMNS = [f for f in EXPERIMENT_FIELDS if f != "source"]
_SCALE_UP_TEXT = {True: "oui", False: "non", None: ""}
# Free-text columns: a cell starting like a formula gets a leading apostrophe on export
# (Excel then shows it as text instead of running it) and loses it again on import. A
# value that itself starts with an apostrophe gets one too, so the import can tell the
# added apostrophe from the user's own: every value round-trips unchanged.
_TEXT_COLUMNS = {
    "title",
    "organisation",
    "objectives",
    "description",
    "location_note",
    "evaluation_outcome",
}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_GUARDED_START = ("'", *_FORMULA_START)


def _cell(field: str, value) -> str:
    if field == "objectives":
        text = LIST_SEPARATOR.join(value or [])
    elif field == "evaluation_scale_up":
        text = _SCALE_UP_TEXT[value]
    else:
        text = "" if value is None else str(value)
    if field in _TEXT_COLUMNS and text.startswith(_GUARDED_START):
        return "'" + text
    return text


def _uncell(field: str, text: str | None) -> str | None:
    """Undo `_cell`'s guard: drop one apostrophe, and only one `_cell` would have added
    (``'=1`` -> ``=1``, ``''x`` -> ``'x``; ``'x`` stays as typed)."""
    if (
        field in _TEXT_COLUMNS
        and text
        and text.startswith("'")
        and text[1:].startswith(_GUARDED_START)
    ):
        return text[1:]
    return text


def write_csv(rows: list[dict]) -> bytes:
    """Experiments as CSV bytes (``;``, UTF-8 with BOM, one objective list per cell)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows([_cell(c, row.get(c)) for c in COLUMNS] for row in rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def read_csv(data: bytes) -> list[dict]:
    """Rows of an uploaded CSV as form-like dicts (``objectives`` split into a list)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise GeoappError("Le fichier CSV n’est pas encodé en UTF-8.", 400) from exc
    reader = csv.DictReader(io.StringIO(text), delimiter=";")
    missing = [c for c in ("district", "title") if c not in (reader.fieldnames or [])]
    if missing:
        raise GeoappError(
            f"Colonnes obligatoires absentes du CSV : {', '.join(missing)} "
            "(séparateur attendu : point-virgule).",
            400,
        )
    try:
        return [_split_objectives({k: _uncell(k, v) for k, v in row.items()}) for row in reader]
    except csv.Error as exc:
        raise GeoappError(_csv_error(reader.reader.line_num, exc), 400) from exc


def _csv_error(line: int, exc: csv.Error) -> str:
    """French reason for a CSV the reader gave up on (a giant cell, broken quoting)."""
    if "field larger than field limit" in str(exc):
        limit = fr_num(csv.field_size_limit(), 0)
        return f"CSV illisible à la ligne {line} : une cellule dépasse {limit} caractères."
    return f"CSV illisible à la ligne {line} : guillemets ou séparateurs mal formés."


def _split_objectives(row: dict) -> dict:
    text = row.get("objectives") or ""
    row["objectives"] = [o.strip() for o in text.split(LIST_SEPARATOR.strip()) if o.strip()]
    return row


def write_geojson(rows: list[dict]) -> str:
    """Experiments as a WGS84 GeoJSON FeatureCollection (properties = CSV columns)."""
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [row["lon"], row["lat"]]},
            "properties": {c: row.get(c) for c in COLUMNS if c not in ("lon", "lat")},
        }
        for row in rows
    ]
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False)


def read_geojson(data: bytes) -> list[dict]:
    """Rows of an uploaded GeoJSON FeatureCollection of points, as form-like dicts."""
    try:
        features = json.loads(data.decode("utf-8-sig"))["features"]
        rows = []
        for number, feature in enumerate(features, start=1):
            lon, lat = feature["geometry"]["coordinates"][:2]
            row = {**(feature.get("properties") or {}), "lon": lon, "lat": lat}
            _check_flat(row, number)
            rows.append(row)
    except RecursionError as exc:
        raise GeoappError(f"GeoJSON illisible : {DEEP_JSON}.", 400) from exc
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise GeoappError(
            "GeoJSON illisible : une FeatureCollection de points avec leurs "
            "propriétés est attendue.",
            400,
        ) from exc
    return rows


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
