"""Reading the first-start experiments file (``data/experiments_seed.json``).

The file holds only documented, real experiments. Where a report does not publish the
exact site, a row has ``lon``/``lat`` null and a ``location_anchor`` instead, resolved
here from the ``anchors`` mapping the app computes at start-up:

* ``"district_centre"`` is looked up under the row's district slug (the app passes
  ``{slug: (lon, lat)}`` of each district's indicative perimeter centre);
* any other anchor name is looked up under that name.

Every row then goes through `geoapp.registry.validate_experiment` with its district's
objectives, exactly like a form, so the seed cannot hold what the app would refuse.
"""

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from geoapp.errors import DEEP_JSON, GeoappError
from geoapp.registry import ValidationError, validate_experiment

Anchors = Mapping[str, tuple[float, float]]


def load_seed(
    path: str | Path, *, anchors: Anchors, objectives: Mapping[str, list[str]]
) -> list[dict[str, Any]]:
    """Validated import rows (with ``district`` and ``source``) from a seed file.

    The file is either a list of rows or an object whose ``experiments`` key is that
    list (other keys are notes for readers). Raises `GeoappError` 500 naming the row
    when a district, an anchor or a field is wrong: a bad seed is a deployment error.
    """
    data = _read(Path(path))
    rows = data.get("experiments") if isinstance(data, dict) else data
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise GeoappError(
            f"Fichier d'amorçage invalide, {Path(path).name} : une liste "
            "d'expérimentations (objets JSON) est attendue.",
            500,
        )
    return [_clean(row, number, anchors, objectives) for number, row in enumerate(rows, 1)]


def _read(path: Path) -> Any:
    """The parsed seed file, or a French 500 naming it (a deployment error)."""

    def bad(reason: str) -> GeoappError:
        return GeoappError(f"Fichier d'amorçage invalide, {path.name} : {reason}.", 500)

    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except RecursionError as exc:
        raise bad(f"JSON illisible : {DEEP_JSON}") from exc
    except json.JSONDecodeError as exc:
        raise bad(f"JSON illisible, ligne {exc.lineno} colonne {exc.colno} ({exc.msg})") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise bad(f"fichier illisible ({exc})") from exc


def _clean(
    row: Mapping[str, Any], number: int, anchors: Anchors, objectives: Mapping[str, list[str]]
) -> dict[str, Any]:
    district = row.get("district")
    if district not in objectives:
        raise _bad(number, f"quartier inconnu « {district} »")
    form = dict(row)
    anchor = form.pop("location_anchor", None)
    if anchor is not None and form.get("lon") is None and form.get("lat") is None:
        key = district if anchor == "district_centre" else anchor
        if key not in anchors:
            raise _bad(number, f"ancre de localisation « {anchor} » non fournie pour « {key} »")
        form["lon"], form["lat"] = anchors[key]
    try:
        values = validate_experiment(form, objectives=objectives[district])
    except ValidationError as error:
        raise _bad(number, "; ".join(f"{k} : {v}" for k, v in error.errors.items())) from error
    return {**values, "district": district, "source": row.get("source")}


def _bad(number: int, reason: str) -> GeoappError:
    return GeoappError(f"Fichier d'amorçage invalide, expérimentation n° {number} : {reason}.", 500)
