"""Stored values as a French reader expects them: dates, Paris times, empty values.

The store keeps ISO dates (``2024-03-12``) and UTC instants (``2024-03-12T13:05:00+00:00``);
pages, the import preview and the CLI show « 12 mars 2024 » and « 12 mars 2024 à 14 h 05 »
(Europe/Paris, summer time included), lists joined, booleans as oui/non and nothing as
« (vide) ». Pure functions, no Flask: templates get them as filters.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from geoapp.shapes import describe
from geoapp.vocabulary import EMPTY_VALUE, MONTHS

PARIS = ZoneInfo("Europe/Paris")
_DATE_FIELDS = ("start_date", "end_date")


def fr_date(value: str | date | None) -> str:
    """``2024-03-12`` -> « 12 mars 2024 » (« 1er » for the first); ``None`` -> ``""``;
    text that is not an ISO date is returned as is."""
    if not value:
        return ""
    try:
        day = value if isinstance(value, date) else date.fromisoformat(str(value))
    except ValueError:
        return str(value)
    first = "1er" if day.day == 1 else str(day.day)
    return f"{first} {MONTHS[day.month - 1]} {day.year}"


def fr_datetime(value: str | None) -> str:
    """A stored UTC instant as Paris time: « 12 mars 2024 à 14 h 05 »."""
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if moment.tzinfo is None:  # the store writes UTC; an old naive stamp is UTC too
        moment = moment.replace(tzinfo=ZoneInfo("UTC"))
    local = moment.astimezone(PARIS)
    return f"{fr_date(local.date())} à {local.hour} h {local.minute:02d}"


def human_value(value: Any, field: str | None = None) -> str:
    """A stored value as text: « (vide) », oui/non, a list joined by « ; », French dates,
    a place's shape in words (`geoapp.shapes.describe`)."""
    if field == "shape":
        return describe(value)
    if value is None or value == "" or value == []:
        return EMPTY_VALUE
    if value is True or value is False:
        return "oui" if value else "non"
    if isinstance(value, list | tuple):
        return " ; ".join(map(str, value))
    if field in _DATE_FIELDS:
        return fr_date(value)
    return str(value)
