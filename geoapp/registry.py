"""The checks a submitted experiment or crossing must pass, against `geoapp.vocabulary`.

Pure on purpose: no database, no Flask. The web form, the CSV import, the seed loader and
the CLI all clean their input here, so one rule lives in one place and every message a
planner reads about a bad field is the same French sentence wherever it comes from.

Text is kept as typed (only surrounding whitespace is removed): escaping belongs to the
display layer, and storing ``&lt;`` would corrupt exports.
"""

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from geoapp.errors import GeoappError
from geoapp.shapes import DECIMALS, ShapeError, anchor_of, parse_shape, shape_json
from geoapp.vocabulary import (
    ADMIN,
    CROSSING_KINDS,
    CROSSING_STATUSES,
    FRANCE_LAT,
    FRANCE_LON,
    ORG_KINDS,
    PRECISIONS,
    STATUSES,
    THEMES,
    fr_num,
)

MAX_SHORT = 120
MAX_LONG = 2000
MAX_NOTE = 500
# Web links of an experiment: one per line of a textarea (one cell line in files).
MAX_LINKS = 10
MAX_LINK = 500
LINK_SCHEMES = ("http", "https")

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_SCALE_UP = {"": None, "oui": True, "non": False}
_LINE_BREAKS = "\n\t"
_MISSING_KIND = "Le type de structure est obligatoire."
# Bidirectional embeddings, overrides and isolates reorder the text shown after them: a
# title could then read on screen otherwise than it is stored (and sorted, and exported).
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Letters and symbols that draw nothing (Hangul fillers, blank Braille, the combining
# grapheme joiner); the format characters (category Cf: zero-width space and joiners,
# word joiner, BOM, soft hyphen, direction marks…) draw nothing either.
_BLANK_GLYPHS = frozenset("\u115f\u1160\u3164\uffa0\u2800\u034f")


def _invisible(char: str) -> bool:
    """True for a character that shows nothing on screen (spaces included)."""
    return char.isspace() or unicodedata.category(char) == "Cf" or char in _BLANK_GLYPHS


class ValidationError(GeoappError):
    """A submission with one or more bad fields; ``errors`` maps field name to French text.

    All fields are checked before raising, so a form can show every problem at once
    instead of making the planner resubmit once per mistake.
    """

    def __init__(self, errors: dict[str, str]):
        super().__init__("Le formulaire contient des erreurs.", 422, details={"errors": errors})
        self.errors = errors


class _Checker:
    """Collects per-field errors while cleaning, so validation never stops at the first one."""

    def __init__(self, form: Mapping[str, Any]):
        self.form = form
        self.errors: dict[str, str] = {}

    def fail(self, field: str, message: str) -> None:
        self.errors.setdefault(field, message)

    def raw(self, field: str) -> str:
        value = self.form.get(field)
        if value is None:
            return ""
        if isinstance(value, list):
            value = value[0] if value else ""
        return str(value).strip()

    def text(
        self, field: str, label: str, limit: int, *, required: bool, multiline: bool = False
    ) -> str | None:
        """Clean a text field; ``label`` starts the French message ("Le titre")."""
        value = self.raw(field)
        if multiline:
            # Browsers send textarea line breaks as CRLF: count them as one character.
            value = value.replace("\r\n", "\n")
        if not value:
            if required:
                self.fail(field, f"{label} est obligatoire.")
            return None
        allowed = _LINE_BREAKS if multiline else ""
        if any(unicodedata.category(c) == "Cc" and c not in allowed for c in value):
            self.fail(field, f"{label} contient des caractères de contrôle interdits.")
        elif not _BIDI_CONTROLS.isdisjoint(value):
            self.fail(
                field,
                f"{label} contient des caractères qui inversent le sens d’écriture (interdits).",
            )
        elif all(_invisible(c) for c in value):
            self.fail(field, f"{label} ne contient que des caractères invisibles.")
        elif len(value) > limit:
            self.fail(field, f"{label} dépasse {limit} caractères.")
        return value

    def choice(self, field: str, vocabulary: list[str], unknown: str, missing: str) -> str | None:
        value = self.raw(field)
        if not value:
            self.fail(field, missing)
            return None
        if value not in vocabulary:
            self.fail(field, f"{unknown} : « {_shorten(value)} ».")
            return None
        return value


def _shorten(value: str, limit: int = 60) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _values(form: Mapping[str, Any], field: str) -> list[str]:
    """All values of a multi-valued field, from a werkzeug MultiDict or a plain dict."""
    if hasattr(form, "getlist"):
        raw = form.getlist(field)
    else:
        raw = form.get(field)
        raw = [] if raw is None else raw if isinstance(raw, list | tuple) else [raw]
    return [str(v).strip() for v in raw if str(v).strip()]


def _objectives(check: _Checker, allowed: list[str]) -> list[str]:
    chosen = list(dict.fromkeys(_values(check.form, "objectives")))
    unknown = [o for o in chosen if o not in allowed]
    if unknown:
        check.fail("objectives", f"Objectif inconnu pour ce quartier : « {_shorten(unknown[0])} ».")
    elif not chosen:
        check.fail("objectives", "Choisissez au moins un objectif du quartier.")
    return chosen


def _date(check: _Checker, field: str, label: str) -> str | None:
    """An optional ISO date (YYYY-MM-DD); years outside 2000–2100 are treated as typos."""
    value = check.raw(field)
    if not value:
        return None
    try:
        if not _ISO_DATE.fullmatch(value):
            raise ValueError(value)
        parsed = date.fromisoformat(value)
    except ValueError:
        check.fail(field, f"{label} doit être une date valide au format AAAA-MM-JJ.")
        return None
    if not 2000 <= parsed.year <= 2100:
        check.fail(field, f"{label} doit être comprise entre 2000 et 2100.")
        return None
    return parsed.isoformat()


def _number(check: _Checker, field: str, label: str, bounds: tuple[float, float]) -> float | None:
    """A coordinate in decimal degrees; a French decimal comma ("48,93") is accepted."""
    value = check.raw(field)
    if not value:
        check.fail(field, f"{label} est obligatoire.")
        return None
    try:
        if not value.isascii() or "_" in value:  # float() also reads "٣" and "1_0"
            raise ValueError(value)
        number = float(value.replace(",", ".") if "." not in value else value)
    except ValueError:
        check.fail(field, f"{label} doit être un nombre en degrés décimaux.")
        return None
    low, high = bounds
    if not math.isfinite(number) or not low <= number <= high:
        french = f"{fr_num(low, trim=True)} et {fr_num(high, trim=True)}"
        check.fail(field, f"{label} doit être comprise entre {french} (France métropolitaine).")
        return None
    # 6 decimals (~0.1 m) is the registry's precision, whatever a file's reprojection adds
    return round(number, DECIMALS)


def _place(check: _Checker) -> dict[str, Any]:
    """``shape`` (a line or area, or ``None``) and lon/lat: for a shape, its anchor,
    whatever was posted beside it (the browser's estimate)."""
    try:
        shape = parse_shape(check.form.get("shape"))
    except ShapeError as exc:
        check.fail("shape", str(exc))
        return {"shape": None, "lon": None, "lat": None}
    if shape is None:
        return {
            "shape": None,
            "lon": _number(check, "lon", "La longitude", FRANCE_LON),
            "lat": _number(check, "lat", "La latitude", FRANCE_LAT),
        }
    lon, lat = anchor_of(shape)
    return {"shape": shape_json(shape), "lon": lon, "lat": lat}


def _link_lines(value: Any) -> list[str]:
    """The lines of a links field: a textarea's text (CRLF or LF) or a list (stored
    values, a GeoJSON property)."""
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return str(value).replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _link_problem(url: str) -> str | None:
    """Why ``url`` is not an acceptable web link (French), or ``None``.

    Only ``http``/``https`` with a host: ``javascript:``, ``data:``, ``ftp:``… never reach
    a page; no spaces, controls or invisible characters (they hide what a link is); no
    credentials or backslash (``https://mairie.fr@autre.site``, ``https:\\autre.site``
    lead elsewhere than they read)."""
    if len(url) > MAX_LINK:
        return f"le lien dépasse {MAX_LINK} caractères"
    if any(_invisible(c) or unicodedata.category(c) == "Cc" for c in url):
        return "le lien contient des espaces ou des caractères invisibles"
    if not _BIDI_CONTROLS.isdisjoint(url) or "\\" in url:
        return "le lien contient des caractères interdits"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError on a port that is not a number
    except ValueError:
        return "ce n’est pas une adresse web valide"
    if parts.scheme.lower() not in LINK_SCHEMES:
        return "seules les adresses web en http:// ou https:// sont acceptées"
    if not url[len(parts.scheme) :].startswith("://") or not parts.hostname:
        return "l’adresse doit commencer par http:// ou https:// suivi du nom du site"
    if "@" in parts.netloc:
        return "l’adresse ne doit pas contenir d’identifiant ni de mot de passe (@)"
    return None


def _links(check: _Checker) -> list[str]:
    """Web links, one per line, blank lines skipped, duplicates once; the scheme is
    written in lower case (``HTTPS://`` -> ``https://``) so every display reads it."""
    links: list[str] = []
    for number, line in enumerate(_link_lines(check.form.get("links")), start=1):
        url = line.strip()
        if not url:
            continue
        problem = _link_problem(url)
        if problem:
            check.fail("links", f"Lien de la ligne {number} (« {_shorten(url)} ») : {problem}.")
            return []
        scheme = urlsplit(url).scheme
        links.append(scheme.lower() + url[len(scheme) :])
    links = list(dict.fromkeys(links))
    if len(links) > MAX_LINKS:
        check.fail("links", f"{len(links)} liens : {MAX_LINKS} au plus par expérimentation.")
    return links


def link_label(url: str) -> str:
    """How a link reads on pages and sheets: its host and path (``mairie.fr/projet``),
    without the scheme, the query or a trailing slash."""
    parts = urlsplit(url)
    return (parts.hostname or "") + parts.path.rstrip("/")


def _scale_up(check: _Checker) -> bool | None:
    value = check.form.get("evaluation_scale_up")
    if value is None or isinstance(value, bool):
        return value
    key = check.raw("evaluation_scale_up").lower()
    if key not in _SCALE_UP:
        check.fail("evaluation_scale_up", "Le passage à l'échelle attend « oui » ou « non ».")
        return None
    return _SCALE_UP[key]


def validate_experiment(form: Mapping[str, Any], *, objectives: list[str]) -> dict[str, Any]:
    """Clean a submitted experiment or raise `ValidationError` listing every bad field.

    ``form`` is a request form (``getlist`` is used for ``objectives`` when present) or a
    plain dict (seed, import), whose numbers and booleans are accepted as such.
    ``objectives`` is the district's own list: an experiment serves its district's goals.
    Dates are optional (a proposal has none yet) but, when both are given, the end may not
    precede the start. Coordinates are WGS84 decimal degrees inside metropolitan France; a ``shape``
    (a GeoJSON line or area, `geoapp.shapes`) makes lon/lat its anchor.
    """
    check = _Checker(form)
    values: dict[str, Any] = {
        "title": check.text("title", "Le titre", MAX_SHORT, required=True),
        "organisation": check.text("organisation", "La structure", MAX_SHORT, required=True),
        "org_kind": check.choice("org_kind", ORG_KINDS, "Type de structure inconnu", _MISSING_KIND),
        "theme": check.choice("theme", THEMES, "Thème inconnu", "Le thème est obligatoire."),
        "objectives": _objectives(check, objectives),
        "description": check.text(
            "description", "La description", MAX_LONG, required=True, multiline=True
        ),
        "status": check.choice("status", STATUSES, "Statut inconnu", "Le statut est obligatoire."),
        "start_date": _date(check, "start_date", "La date de début"),
        "end_date": _date(check, "end_date", "La date de fin"),
        **_place(check),
        "precision": check.choice(
            "precision", PRECISIONS, "Précision inconnue", "La précision du point est obligatoire."
        ),
        "location_note": check.text(
            "location_note", "La note de localisation", MAX_NOTE, required=False, multiline=True
        ),
        "evaluation_outcome": check.text(
            "evaluation_outcome", "Le bilan", MAX_LONG, required=False, multiline=True
        ),
        "evaluation_scale_up": _scale_up(check),
        "links": _links(check),
    }
    start, end = values["start_date"], values["end_date"]
    if start and end and end < start:
        check.fail("end_date", "La date de fin doit être postérieure ou égale à la date de début.")
    if check.errors:
        raise ValidationError(check.errors)
    return values


def validate_place(form: Mapping[str, Any]) -> dict[str, Any]:
    """Clean only the place fields (``shape``, lon/lat) with the rules of the form:
    ``{"shape", "lon", "lat"}`` or `ValidationError`."""
    check = _Checker(form)
    place = _place(check)
    if check.errors:
        raise ValidationError(check.errors)
    return place


def validate_position(lon: Any, lat: Any) -> tuple[float, float]:
    """Clean a dragged marker position (WGS84 degrees) with the same rules as the form."""
    check = _Checker({"lon": lon, "lat": lat})
    clean_lon = _number(check, "lon", "La longitude", FRANCE_LON)
    clean_lat = _number(check, "lat", "La latitude", FRANCE_LAT)
    if clean_lon is None or clean_lat is None:
        raise ValidationError(check.errors)
    return clean_lon, clean_lat


def validate_caption(value: Any, limit: int) -> str | None:
    """Clean a photo's optional caption (one line of at most ``limit`` characters)."""
    check = _Checker({"caption": value})
    caption = check.text("caption", "La légende", limit, required=False)
    if check.errors:
        raise ValidationError(check.errors)
    return caption


def validate_crossing(form: Mapping[str, Any]) -> dict[str, Any]:
    """Clean a rail-corridor crossing (kind, status, optional name, WGS84 position)."""
    check = _Checker(form)
    values = {
        "kind": check.choice(
            "kind", CROSSING_KINDS, "Type de franchissement inconnu", "Le type est obligatoire."
        ),
        "status": check.choice(
            "status", CROSSING_STATUSES, "Statut inconnu", "Le statut est obligatoire."
        ),
        "name": check.text("name", "Le nom", MAX_SHORT, required=False),
        "lon": _number(check, "lon", "La longitude", FRANCE_LON),
        "lat": _number(check, "lat", "La latitude", FRANCE_LAT),
    }
    if check.errors:
        raise ValidationError(check.errors)
    return values


def may_edit(user: Mapping[str, Any] | None, commune: str) -> bool:
    """Whether the account ``user`` may write in the district of commune ``commune``
    (INSEE code): an administrator anywhere, an editor in its own commune only."""
    if not user:
        return False
    return user["role"] == ADMIN or user.get("commune") == commune


def forbidden_message(district_name: str, commune: str) -> str:
    """Why an account may not write in a district (form and import alike)."""
    return (
        f"Votre compte ne permet pas de modifier le quartier {district_name} ({commune}) : "
        "un éditeur ne modifie que le quartier de sa commune."
    )


def outside_message(
    distance_m: float, tolerance_m: float, district_name: str, *, shaped: bool = False
) -> str:
    """Why a place outside its district is refused (form, move and import alike);
    ``shaped`` for a line or an area, whose farthest part is measured."""
    where = (
        f"Le tracé ou la zone sort du quartier {district_name} de {distance_m:.0f} m"
        if shaped
        else f"Le point est à {distance_m:.0f} m en dehors du quartier {district_name}"
    )
    return (
        f"{where} (tolérance : {tolerance_m:.0f} m). Placez l’expérimentation dans le "
        "périmètre du quartier."
    )


def deployment_rate(statuses: Iterable[str]) -> float | None:
    """Share of experiments that reached the field among those the commune selected.

    Numerator: ``déployée`` + ``terminée``. Denominator, "selected or beyond":
    ``sélectionnée`` + ``déployée`` + ``terminée`` + ``abandonnée``. Abandoned experiments
    count in the denominator because, in this programme, abandonment is what happens to a
    *selected* project that never got deployed (a proposal turned down stays
    ``proposée`` or is withdrawn); leaving them out would inflate the rate exactly by the
    failures it is meant to show. This matches how the programme reports its 70 % rate.
    ``proposée`` is excluded. Returns a fraction in [0, 1], or ``None`` when nothing was
    selected (no rate rather than a misleading 0 %).
    """
    return _rate(Counter(statuses))


def _rate(counts: Counter) -> float | None:
    unknown = set(counts) - set(STATUSES)
    if unknown:
        raise ValueError(f"statuses: unknown status {sorted(unknown)!r}")
    deployed = counts["déployée"] + counts["terminée"]
    selected = deployed + counts["sélectionnée"] + counts["abandonnée"]
    return deployed / selected if selected else None


def _summary(tally: list[Mapping[str, Any]]) -> dict[str, Any]:
    statuses: Counter = Counter()
    for group in tally:
        statuses[group["status"]] += group.get("n", 1)
    covered = {t["theme"] for t in tally}
    return {
        "total": sum(statuses.values()),
        "by_status": {s: statuses[s] for s in STATUSES},
        "themes": [t for t in THEMES if t in covered],
        "deployment_rate": _rate(statuses),
    }


def summarise(
    experiments: Iterable[Mapping[str, Any]], *, districts: Iterable[str] = ()
) -> dict[str, Any]:
    """Counts per district and status, and the themes each district covers.

    Takes experiment dicts (``district``, ``status``, ``theme``) as the store returns them,
    or the store's counts of them (the same keys plus ``n``, `Store.experiment_tally`),
    so the registry's figures need not hold every row; the caller decides whether
    withdrawn ones belong (the store leaves them out by default). ``districts`` lists
    slugs to show even with no experiment yet. Returns ``{"total", "by_status", "themes",
    "deployment_rate", "districts": {slug: same keys}}`` with every status present (zero
    included) and themes in vocabulary order.
    """
    rows = list(experiments)
    per_district: dict[str, list[Mapping[str, Any]]] = {slug: [] for slug in districts}
    for row in rows:
        per_district.setdefault(row["district"], []).append(row)
    return {
        **_summary(rows),
        "districts": {slug: _summary(group) for slug, group in per_district.items()},
    }
