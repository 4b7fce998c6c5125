"""Importing a commune's file into the registry: one plan, previewed, then applied.

The web upload and ``geoapp import`` both call `plan_import` then, on confirmation,
`apply_plan`: one code path. A plan says, row by row, what would happen — *création*,
*modification* (with the fields that change, old → new), *inchangée*, or *erreur* (by
French column) — and nothing is written until it is applied, all rows or none, in one
transaction.

No duplicates, ever: a row with an ``Identifiant`` updates that experiment (its
``Version``, when given, must still be the stored one); a row without one is matched with
the experiment of the same district, title and organisation (ignoring case and accents)
when there is one, and creates it otherwise; a row identical to what is stored is
*inchangée*. Importing a file twice therefore changes nothing the second time.

Placement is checked for the whole file in one vectorised pass per district (the
distance of every new or moved point to its perimeter, in Lambert-93), never by re-reading
each district's experiments row by row.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from geoapp.errors import GeoappError
from geoapp.french import human_value
from geoapp.import_cells import CellReader
from geoapp.layers import points_frame
from geoapp.registry import (
    ValidationError,
    forbidden_message,
    may_edit,
    outside_message,
    validate_experiment,
)
from geoapp.registry_files import RawRows, fold, read_rows, write_template
from geoapp.store.experiments import EDITABLE
from geoapp.vocabulary import (
    COLUMN_HEADERS,
    FIELD_LABELS,
    LIST_SEPARATOR,
    ORG_KINDS,
    PRECISIONS,
    STATUSES,
    THEMES,
    fr_num,
)

CREATE, UPDATE, SAME, ERROR = "création", "modification", "inchangée", "erreur"


@dataclass
class PlannedRow:
    """One row of the file and what importing it would do."""

    number: int
    title: str
    action: str = CREATE
    district: str | None = None
    experiment_id: int | None = None
    version: int | None = None
    values: dict[str, Any] | None = None
    changes: dict[str, list[Any]] = field(default_factory=dict)  # field -> [old, new]
    errors: dict[str, str] = field(default_factory=dict)  # field -> French message
    form: dict[str, Any] = field(default_factory=dict, repr=False)
    current: dict[str, Any] | None = field(default=None, repr=False)

    def fail(self, field_name: str, message: str) -> None:
        self.errors.setdefault(field_name, message)

    @property
    def column_errors(self) -> dict[str, str]:
        """The errors by French column, as the report shows them."""
        return {COLUMN_HEADERS.get(f, f): m for f, m in self.errors.items()}


@dataclass
class ImportPlan:
    """Every row of one file with its fate; `counts` and `digest` summarise it."""

    rows: list[PlannedRow]
    unit: str
    detected: str
    ignored: list[str]

    @property
    def counts(self) -> dict[str, int]:
        actions = [r.action for r in self.rows]
        return {a: actions.count(a) for a in (CREATE, UPDATE, SAME, ERROR)}

    @property
    def ok(self) -> bool:
        return not self.counts[ERROR]

    def digest(self) -> str:
        """SHA-256 of what applying would write: the confirmation must find the same."""
        plan = [(r.action, r.district, r.experiment_id, r.version, r.values) for r in self.rows]
        text = json.dumps(plan, sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def summary(self) -> str:
        """« 3 à créer, 1 à modifier, 10 inchangées, 0 erreur » (web and CLI alike)."""
        c = self.counts
        return (
            f"{fr_num(c[CREATE], 0)} à créer, {fr_num(c[UPDATE], 0)} à modifier, "
            f"{fr_num(c[SAME], 0)} inchangée(s), {fr_num(c[ERROR], 0)} erreur(s)"
        )


def preview_file(
    filename: str, data: bytes, *, atlas, store, user: dict, max_rows: int
) -> ImportPlan:
    """Read an uploaded file (its kind from its name) and plan its import: the one entry
    point of the web upload and ``geoapp import``. A file over ``max_rows`` rows
    (``GEOAPP_IMPORT_MAX_ROWS``) is refused before any row is interpreted."""
    raw = read_rows(filename, data, max_rows=max_rows)
    if not raw.rows:
        raise GeoappError("Le fichier ne contient aucune ligne.", 400)
    return plan_import(raw, atlas=atlas, store=store, user=user)


def plan_import(raw: RawRows, *, atlas, store, user: dict) -> ImportPlan:
    """What importing ``raw`` as ``user`` would do, given the stored registry.

    Reads the store twice (the experiments named by id, and those of the file's
    districts, for matching) and writes nothing.
    """
    reader = CellReader(atlas.districts)
    # Each district row once: looking one up in the frame costs milliseconds, per row.
    districts = {row.slug: row for row in atlas.districts.itertuples()}
    rows = [_read_row(reader, raw.number(i), cells) for i, cells in enumerate(raw.rows)]
    _match(rows, store, districts)
    for row in rows:
        if not row.errors.get("district"):
            _validate(row, districts)
    _check_places(rows, districts)
    for row in rows:
        _decide(row)
        _check_permission(row, districts, user)
    return ImportPlan(rows, raw.unit, raw.detected, raw.ignored)


def apply_plan(plan: ImportPlan, *, store, user: str, batch: str | None = None) -> tuple[int, int]:
    """Write an error-free plan in one transaction; (created, modified)."""
    creates = [(r.district, r.values) for r in plan.rows if r.action == CREATE]
    updates = [
        (r.experiment_id, r.version, {f: new for f, (_, new) in r.changes.items()})
        for r in plan.rows
        if r.action == UPDATE
    ]
    return store.apply_import(creates, updates, user=user, batch=batch)


def _read_row(reader: CellReader, number: int, cells: dict[str, Any]) -> PlannedRow:
    # A GeoJSON feature may lack a property its neighbours have: a missing district is
    # an empty one (the French error), never a row without a district to check against.
    form, errors = reader.read({"district": None, **cells})
    row = PlannedRow(number, str(form.get("title") or "").strip(), form=form, errors=errors)
    row.district = form.get("district")
    return row


def _match(rows: list[PlannedRow], store, districts: dict) -> None:
    """Tie each row to its stored experiment (by id, else by district + title +
    organisation), refusing rows repeated in the file."""
    ids = sorted({r.form["id"] for r in rows if r.form.get("id")})
    by_id = store.experiments_by_id(ids) if ids else {}
    districts = sorted({r.district for r in rows if r.district})
    by_key: dict[tuple, list[dict]] = defaultdict(list)
    for experiment in store.experiments_of_districts(districts) if districts else []:
        by_key[_key(experiment)].append(experiment)
    seen: dict[Any, int] = {}
    for row in rows:
        if row.district is None:
            continue
        experiment_id = row.form.get("id")
        if experiment_id:
            _match_id(row, by_id.get(experiment_id), districts)
            mark = ("id", experiment_id)
        else:
            _match_key(row, by_key.get(_key({**row.form, "district": row.district}), []))
            mark = _key({**row.form, "district": row.district})
        if mark in seen:
            where = "id" if experiment_id else "title"
            row.fail(
                where,
                f"Déjà présente à la ligne {seen[mark]} du fichier : une "
                "expérimentation ne s’importe qu’une fois.",
            )
        seen.setdefault(mark, row.number)


def _key(experiment: dict) -> tuple:
    return (
        experiment.get("district"),
        fold(experiment.get("title") or ""),
        fold(experiment.get("organisation") or ""),
    )


def _match_id(row: PlannedRow, current: dict | None, districts: dict) -> None:
    if current is None:
        row.fail(
            "id",
            f"Aucune expérimentation n° {row.form['id']} : laissez l’identifiant vide pour "
            "en créer une.",
        )
    elif current["district"] != row.district:
        name = districts[current["district"]].nom
        row.fail(
            "district",
            f"L’expérimentation n° {current['id']} est dans le quartier {name} : un import "
            "ne change pas le quartier d’une expérimentation.",
        )
    else:
        row.current = current


def _match_key(row: PlannedRow, candidates: list[dict]) -> None:
    if len(candidates) == 1:
        row.current = candidates[0]
    elif len(candidates) > 1:
        numbers = ", ".join(str(c["id"]) for c in candidates)
        row.fail(
            "title",
            f"Plusieurs expérimentations de ce quartier ont ce titre et cette structure "
            f"(n° {numbers}) : indiquez dans la colonne « Identifiant » celle à modifier.",
        )


def _validate(row: PlannedRow, districts: dict) -> None:
    """The registry's own checks on the row (stored values fill absent columns)."""
    stored = {f: row.current[f] for f in EDITABLE} if row.current else {}
    given = {k: v for k, v in row.form.items() if k not in ("id", "version", "district")}
    try:
        values = validate_experiment(
            {**stored, **given}, objectives=list(districts[row.district].objectifs)
        )
    except ValidationError as exc:
        for name, message in exc.errors.items():
            row.fail(name, message)
        return
    row.values = values


def _check_places(rows: list[PlannedRow], districts: dict) -> None:
    """One vectorised distance per district for every new or moved point (Lambert-93)."""
    pending: dict[str, list[PlannedRow]] = defaultdict(list)
    for row in rows:
        if row.values is None or row.errors:
            continue
        moved = row.current is None or (row.current["lon"], row.current["lat"]) != (
            row.values["lon"],
            row.values["lat"],
        )
        if moved:
            pending[row.district].append(row)
    for slug, group in pending.items():
        district = districts[slug]
        points = points_frame([{"lon": r.values["lon"], "lat": r.values["lat"]} for r in group])
        distances = points.distance(district.geometry).to_numpy()
        tolerance = float(district.tolerance_m)
        for row, distance in zip(group, distances, strict=True):
            if distance > tolerance:
                row.fail("lat", outside_message(distance, tolerance, district.nom))


def _check_permission(row: PlannedRow, districts: dict, user: dict) -> None:
    """A row that would write must be in a district the account edits; an unchanged row
    of another commune is harmless (an editor re-imports a whole registry export)."""
    if row.action not in (CREATE, UPDATE):
        return
    district = districts[row.district]
    if not may_edit(user, district.code_insee):
        row.fail("district", forbidden_message(district.nom, district.commune))
        row.action, row.values, row.changes = ERROR, None, {}


def _decide(row: PlannedRow) -> None:
    if row.errors or row.values is None:
        row.action = ERROR
        row.values = None
        return
    if row.current is None:
        row.action = CREATE
        return
    row.experiment_id = row.current["id"]
    row.changes = {
        f: [row.current.get(f), v] for f, v in row.values.items() if row.current.get(f) != v
    }
    if not row.changes:
        row.action = SAME
        return
    given = row.form.get("version")
    if given is not None and given != row.current["version"]:
        row.fail(
            "version",
            f"L’expérimentation n° {row.experiment_id} a été modifiée depuis ce fichier "
            f"(version {row.current['version']} enregistrée, version {given} dans le "
            "fichier) : exportez à nouveau le registre et reportez-y vos changements.",
        )
        row.action, row.values = ERROR, None
        return
    row.action, row.version = UPDATE, row.current["version"]


def report_lines(plan: ImportPlan) -> list[str]:
    """The plan as French text lines (the CLI's report): each row that is not
    unchanged, its changes (old → new) or its errors by column, then the counts."""
    lines = [f"Fichier lu : {plan.detected}." if plan.detected else "Fichier lu."]
    if plan.ignored:
        lines.append("Colonnes ignorées : " + ", ".join(plan.ignored) + ".")
    for row in plan.rows:
        if row.action == SAME:
            continue
        number = f" (n° {row.experiment_id})" if row.experiment_id else ""
        lines.append(f"{plan.unit} {row.number} « {row.title} » : {row.action}{number}")
        lines += [f"    {column} : {message}" for column, message in row.column_errors.items()]
        lines += [
            f"    {FIELD_LABELS.get(f, f)} : {human_value(old, f)} → {human_value(new, f)}"
            for f, (old, new) in row.changes.items()
        ]
    lines.append(plan.summary()[:1].upper() + plan.summary()[1:] + ".")
    return lines


def import_template(atlas) -> bytes:
    """« Modèle d’import.xlsx »: French headers, drop-down lists (district, theme,
    status, kind of organisation, precision, scale-up) and an instructions sheet that
    lists each district's numbered objectives."""
    names = list(atlas.districts["nom"])
    choices = {
        "district": names,
        "theme": THEMES,
        "status": STATUSES,
        "org_kind": ORG_KINDS,
        "precision": PRECISIONS,
        "evaluation_scale_up": ["oui", "non"],
    }
    return write_template(choices, _help_lines(atlas))


def _help_lines(atlas) -> list[str]:
    h = COLUMN_HEADERS
    lines = [
        "Modèle d’import du registre des expérimentations QMI",
        "",
        "Une ligne par expérimentation, sur la feuille « Expérimentations ». Gardez la "
        "première ligne (les en-têtes) telle quelle.",
        f"« {h['id']} » et « {h['version']} » : laissez-les vides pour une nouvelle "
        "expérimentation ; un export du registre les remplit, et réimporter la ligne "
        "modifie alors cette expérimentation au lieu d’en créer une autre.",
        f"Obligatoires : {h['district']}, {h['title']}, {h['organisation']}, "
        f"{h['org_kind']}, {h['theme']}, {h['objectives']}, {h['description']}, "
        f"{h['status']}, {h['lon']}, {h['lat']}, {h['precision']}.",
        f"« {h['district']} » : le nom du quartier, de sa commune, son code INSEE ou son "
        "identifiant (liste déroulante).",
        f"« {h['start_date']} », « {h['end_date']} » : jj/mm/aaaa (12/03/2024) ou "
        "aaaa-mm-jj ; facultatives.",
        f"« {h['lon']} », « {h['lat']} » : degrés décimaux WGS84 (virgule ou point "
        "décimal), par exemple 2,3031 et 48,7828 ; le point doit être dans le quartier.",
        f"« {h['objectives']} » : le numéro ou le texte de chaque objectif servi, séparés "
        f"par « {LIST_SEPARATOR.strip()} » ou un retour à la ligne (Alt+Entrée).",
        "Majuscules et accents sont sans importance (« deployee » vaut « déployée »).",
        "L’import montre d’abord un aperçu (à créer, à modifier, inchangées, erreurs) et "
        "n’enregistre rien avant votre confirmation ; une seule ligne en erreur et rien "
        "n’est importé.",
        "",
        "Objectifs de chaque quartier :",
    ]
    for row in atlas.districts.itertuples():
        lines.append(f"{row.nom} ({row.commune}, {row.code_insee}) :")
        lines += [f"  {i} = {o}" for i, o in enumerate(row.objectifs, start=1)]
    return lines
