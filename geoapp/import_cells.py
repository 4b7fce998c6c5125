"""What a commune's spreadsheet cells mean: dates, numbers, vocabulary, district, objectives.

French Excel users type « Déployée », « 12/03/2024 », « 48,93 », « Sceaux » or « 2 » for
the second objective; `CellReader` turns each raw cell (`geoapp.registry_files.RawRows`)
into the value the registry's validator expects, or a French message naming the column
and what it allows. Pure: the districts come in as a frame, nothing is read here.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

import pandas as pd

from geoapp.registry_files import fold, loose
from geoapp.vocabulary import ORG_KINDS, PRECISIONS, STATUSES, THEMES

_FR_DATE = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]00:00(?::00)?)?")
_NUMBERED = re.compile(r"(?:objectif\s*)?(?:n\s*[°o]?\s*)?(\d{1,2})[.)]?")
_SCALE_UP = {
    **dict.fromkeys(["oui", "o", "vrai", "true", "yes", "1"], True),
    **dict.fromkeys(["non", "n", "faux", "false", "no", "0"], False),
}
_VOCABULARIES = {
    "theme": THEMES,
    "status": STATUSES,
    "org_kind": ORG_KINDS,
    "precision": PRECISIONS,
}
# Objectives in one cell: the export's `` | ``, or one per line (Alt+Entrée in Excel), or ;
_OBJECTIVE_SPLIT = re.compile(r"\s*(?:\||;|\n)\s*")
_TEXT_FIELDS = (
    "title",
    "organisation",
    "description",
    "location_note",
    "evaluation_outcome",
    "links",  # one URL per line; a GeoJSON list stays a list (the validator reads both)
)


def text_of(value: Any) -> str:
    """A cell as text: numbers without a spurious ``.0`` (Excel stores 2024 as 2024.0)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)


def _listing(values: list[str]) -> str:
    return ", ".join(f"« {v} »" for v in values)


def _shown(value: Any) -> str:
    text = text_of(value).strip()
    return text if len(text) <= 60 else text[:59] + "…"


class CellReader:
    """Interprets the cells of one import against the programme's districts.

    ``districts`` is the atlas' district frame (``slug``, ``nom``, ``commune``,
    ``code_insee``, ``objectifs``). A district is found by its name, its commune's name,
    its INSEE code or its slug, ignoring case and accents.
    """

    def __init__(self, districts: pd.DataFrame):
        self.names = dict(zip(districts["slug"], districts["nom"], strict=True))
        self.objectives = dict(zip(districts["slug"], districts["objectifs"], strict=True))
        keys: dict[str, set[str]] = {}
        for row in districts.itertuples():
            for key in (row.slug, row.nom, row.commune, row.code_insee):
                keys.setdefault(loose(key), set()).add(row.slug)
        self._district_keys = keys
        self._vocab = {f: {fold(v): v for v in values} for f, values in _VOCABULARIES.items()}
        self._objective_lookup = {
            slug: (list(goals), {fold(o).rstrip(". "): o for o in goals})
            for slug, goals in self.objectives.items()
        }

    def read(self, raw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        """``raw`` cells -> (form values for `geoapp.registry.validate_experiment`, errors
        by field). Fields absent from ``raw`` stay absent (an update keeps them)."""
        form: dict[str, Any] = {}
        errors: dict[str, str] = {}
        # The district first: objectives are read against its list.
        for field, value in sorted(raw.items(), key=lambda item: item[0] != "district"):
            try:
                form[field] = self._cell(field, value, form)
            except ValueError as exc:
                errors[field] = str(exc)
        return form, errors

    def _cell(self, field: str, value: Any, form: dict[str, Any]) -> Any:
        if field in ("id", "version"):
            return _whole_number(field, value)
        if field == "district":
            return self.district(value)
        if field in _VOCABULARIES:
            return self._choice(field, value)
        if field in ("start_date", "end_date"):
            return read_date(field, value)
        if field == "objectives":
            return self._objectives(value, form.get("district"))
        if field == "evaluation_scale_up":
            return _scale_up(value)
        if field in ("lon", "lat"):
            return _number_text(value)
        if field == "links" and isinstance(value, list):
            return value
        if field == "shape":  # GeoJSON from a file's geometry, or a WKT cell
            return value if isinstance(value, dict) else text_of(value) or None
        return text_of(value) if field in _TEXT_FIELDS else value

    def district(self, value: Any) -> str:
        """The slug of the district ``value`` names; `ValueError` listing the choices."""
        found = self._district_keys.get(loose(text_of(value)), set())
        if len(found) == 1:
            return next(iter(found))
        allowed = _listing(list(self.names.values()))
        if not text_of(value).strip():
            raise ValueError(f"Le quartier est obligatoire ({allowed}).")
        reason = "désigne plusieurs quartiers" if found else "quartier inconnu"
        raise ValueError(
            f"« {_shown(value)} » : {reason}. Indiquez le nom du quartier, de sa commune, son "
            f"code INSEE ou son identifiant ({allowed})."
        )

    def _choice(self, field: str, value: Any) -> str:
        text = text_of(value).strip()
        if not text:
            return ""  # the validator says it is required
        found = self._vocab[field].get(fold(text))
        if found is None:
            raise ValueError(
                f"« {_shown(value)} » n’est pas une valeur possible "
                f"({_listing(_VOCABULARIES[field])})."
            )
        return found

    def _objectives(self, value: Any, slug: str | None) -> list[str]:
        items = value if isinstance(value, list) else _OBJECTIVE_SPLIT.split(text_of(value))
        items = [text_of(i).strip() for i in items if text_of(i).strip()]
        if slug is None:
            return items  # unknown district: its own error says so
        allowed, by_text = self._objective_lookup[slug]
        chosen = []
        for item in items:
            number = _NUMBERED.fullmatch(fold(item))
            if number and 1 <= int(number.group(1)) <= len(allowed):
                chosen.append(allowed[int(number.group(1)) - 1])
            elif fold(item).rstrip(". ") in by_text:
                chosen.append(by_text[fold(item).rstrip(". ")])
            else:
                numbered = " ; ".join(f"{i} = {o}" for i, o in enumerate(allowed, start=1))
                raise ValueError(
                    f"« {_shown(item)} » n’est pas un objectif du quartier "
                    f"{self.names[slug]}. Indiquez son numéro ou son texte : {numbered}."
                )
        return list(dict.fromkeys(chosen))


def read_date(field: str, value: Any) -> str | None:
    """An ISO date from an Excel date cell, ``jj/mm/aaaa`` or ``aaaa-mm-jj``."""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = text_of(value).strip()
    if not text:
        return None
    french, iso = _FR_DATE.fullmatch(text), _ISO_DATE.fullmatch(text)
    try:
        if french:
            day, month, year = map(int, french.groups())
        elif iso:
            year, month, day = map(int, iso.groups())
        else:
            raise ValueError(text)
        return date(year, month, day).isoformat()
    except ValueError:
        raise ValueError(
            f"« {_shown(value)} » n’est pas une date : écrivez-la jj/mm/aaaa (12/03/2024) "
            "ou aaaa-mm-jj (2024-03-12)."
        ) from None


def _whole_number(field: str, value: Any) -> int | None:
    text = text_of(value).strip()
    if not text:
        return None
    if not text.isascii() or not text.isdigit() or len(text) > 18 or int(text) < 1:
        what = "un numéro d’expérimentation" if field == "id" else "un numéro de version"
        raise ValueError(f"« {_shown(value)} » n’est pas {what} (entier positif).")
    return int(text)


def _scale_up(value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    key = fold(text_of(value))
    if not key:
        return None
    if key not in _SCALE_UP:
        raise ValueError(f"« {_shown(value)} » : indiquez « oui », « non » ou laissez vide.")
    return _SCALE_UP[key]


def _number_text(value: Any) -> Any:
    """Numbers stay numbers; text loses spaces (« 48,930 1 ») for the validator, which
    reads decimal commas itself."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    return "".join(text_of(value).split())
