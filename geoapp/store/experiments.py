"""SQL for experiments: reads, version-checked writes, withdrawal and their history.

Write functions expect to run inside the caller's transaction (`geoapp.store.db.write`)
so the change, its history row and the data-version bump commit together or not at all.
Values are cleaned by `geoapp.registry.validate_experiment` before they reach this module.
"""

import json
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from geoapp.errors import ConflictError, GeoappError
from geoapp.store import history
from geoapp.store.db import bump_data_version, equals, nocase
from geoapp.store.schema import experiments
from geoapp.vocabulary import EXPERIMENT_FIELDS

# The id is the row's, the district is chosen once at creation.
EDITABLE = tuple(f for f in EXPERIMENT_FIELDS if f not in ("id", "district"))
NOT_FOUND = "Expérimentation introuvable."
CONFLICT = (
    "Cette expérimentation a été modifiée par quelqu'un d'autre depuis que vous l'avez "
    "ouverte (version {version}). Rechargez la page : vos modifications n'ont pas été "
    "enregistrées."
)


def _to_sql(field: str, value: Any) -> Any:
    if field in ("objectives", "links"):
        return json.dumps(list(value or []), ensure_ascii=False)
    if field == "shape":  # a GeoJSON line or area (geoapp.shapes), NULL for a point
        return json.dumps(value, separators=(",", ":")) if value else None
    if field in ("evaluation_scale_up", "withdrawn") and value is not None:
        return int(value)
    return value


def from_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """A stored row as the store hands it out: objectives a list, the shape a GeoJSON
    dict, flags booleans."""
    item = dict(row)
    item["objectives"] = json.loads(item["objectives"])
    item["links"] = json.loads(item["links"]) if item.get("links") else []
    if item.get("shape") is not None:
        item["shape"] = json.loads(item["shape"])
    item["withdrawn"] = bool(item["withdrawn"])
    if item["evaluation_scale_up"] is not None:
        item["evaluation_scale_up"] = bool(item["evaluation_scale_up"])
    return item


def filters(
    *,
    district: str | None = None,
    theme: str | None = None,
    status: str | None = None,
    include_withdrawn: bool = False,
    only_withdrawn: bool = False,
) -> list[sa.ColumnElement[bool]]:
    """The WHERE clauses of the registry's filters (withdrawn rows only on request, or
    only them with ``only_withdrawn``)."""
    where = [
        equals(experiments.c[column], value)
        for column, value in (("district", district), ("theme", theme), ("status", status))
        if value is not None
    ]
    if only_withdrawn:
        where.append(experiments.c.withdrawn == 1)
    elif not include_withdrawn:
        where.append(experiments.c.withdrawn == 0)
    return where


def ordered(conn: sa.Connection, query: sa.Select) -> sa.Select:
    """``query`` in the registry's order: by district, then title ignoring case, then id."""
    c = experiments.c
    return query.order_by(c.district, nocase(conn, c.title), c.id)


def list_all(conn: sa.Connection, **where: Any) -> list[dict[str, Any]]:
    """Experiments matching every given filter (see `filters`), by district then title."""
    rows = conn.execute(ordered(conn, sa.select(experiments).where(*filters(**where))))
    return [from_row(row) for row in rows.mappings()]


def has_any(conn: sa.Connection) -> bool:
    """Whether any experiment is stored, withdrawn or not."""
    return conn.execute(sa.select(experiments.c.id).limit(1)).first() is not None


def get(conn: sa.Connection, experiment_id: int) -> dict[str, Any]:
    """One experiment, withdrawn or not; `GeoappError` 404 when the id is unknown."""
    query = sa.select(experiments).where(experiments.c.id == experiment_id)
    row = conn.execute(query).mappings().first()
    if row is None:
        raise GeoappError(NOT_FOUND, 404)
    return from_row(row)


def insert(
    conn: sa.Connection,
    values: Mapping[str, Any],
    *,
    district: str,
    user: str,
    at: str,
    action: str = "création",
) -> dict[str, Any]:
    """Insert one experiment (version 1) with its history row; missing fields are NULL,
    so an incomplete row fails on the schema's NOT NULL constraints."""
    _check_fields(values)
    columns = {"district": district, **{f: _to_sql(f, values.get(f)) for f in EDITABLE}}
    created = get(conn, history.insert(conn, "experiments", columns, user=user, at=at))
    stored = ("district", *EDITABLE)
    changes = {f: [None, created[f]] for f in stored if created[f] not in (None, [])}
    history.record(
        conn, "experiments", created["id"], user=user, at=at, action=action, changes=changes
    )
    bump_data_version(conn, "experiments")
    return created


def update(
    conn: sa.Connection,
    experiment_id: int,
    values: Mapping[str, Any],
    *,
    expected_version: int,
    user: str,
    at: str,
    action: str = "modification",
) -> dict[str, Any]:
    """Apply editable ``values`` if the row is still at ``expected_version``; 404, else 409.

    Saving an unchanged form writes nothing (no new version, no empty history row).
    """
    _check_fields(values)
    current = get(conn, experiment_id)
    return _apply(
        conn, current, values, expected_version=expected_version, user=user, at=at, action=action
    )


def set_withdrawn(
    conn: sa.Connection,
    experiment_id: int,
    withdrawn: bool,
    *,
    expected_version: int,
    user: str,
    at: str,
) -> dict[str, Any]:
    """Withdraw or restore: a reversible flag, so nothing a commune entered is ever lost."""
    current = get(conn, experiment_id)
    if current["version"] == expected_version and current["withdrawn"] == withdrawn:
        state = "est déjà retirée" if withdrawn else "n'est pas retirée"
        raise ConflictError(f"Cette expérimentation {state}.")
    action = "retrait" if withdrawn else "rétablissement"
    return _apply(
        conn,
        current,
        {"withdrawn": withdrawn},
        expected_version=expected_version,
        user=user,
        at=at,
        action=action,
    )


def _apply(
    conn: sa.Connection,
    current: dict[str, Any],
    values: Mapping[str, Any],
    *,
    expected_version: int,
    user: str,
    at: str,
    action: str,
) -> dict[str, Any]:
    changed = history.save(
        conn,
        "experiments",
        current,
        values,
        expected_version=expected_version,
        user=user,
        at=at,
        action=action,
        stale=CONFLICT,
        to_sql=_to_sql,
    )
    return get(conn, current["id"]) if changed else current


def import_rows(conn: sa.Connection, rows: list[Mapping[str, Any]], *, user: str, at: str) -> int:
    """Insert validated rows (each with its ``district``) with history action "import".

    The caller's transaction makes this all-or-nothing: a failing row raises a
    `GeoappError` naming it, and the rollback removes the rows inserted before it.
    """
    creates = [
        (row.get("district"), {k: v for k, v in row.items() if k != "district"}) for row in rows
    ]
    return insert_many(conn, creates, user=user, at=at)


def insert_many(
    conn: sa.Connection,
    creates: list[tuple[str, Mapping[str, Any]]],
    *,
    user: str,
    at: str,
    action: str = "import",
) -> int:
    """Insert ``(district, values)`` pairs and their history rows in two batched
    statements (one round trip each, ids returned in order), one data-version bump."""
    if not creates:
        return 0
    for _, values in creates:
        _check_fields(values)
    stamps = {"created_at": at, "updated_at": at, "created_by": user, "updated_by": user}
    params = [
        {"district": district, **{f: _to_sql(f, values.get(f)) for f in EDITABLE}, **stamps}
        for district, values in creates
    ]
    for number, row in enumerate(params, start=1):
        missing = [c for c in _REQUIRED if row.get(c) is None]
        if missing:
            raise _refused(number, f"missing {missing}")
    statement = sa.insert(experiments).returning(experiments.c.id, sort_by_parameter_order=True)
    try:
        ids = conn.execute(statement, params).scalars().all()
    except (sa.exc.IntegrityError, ValueError) as error:
        raise _refused(None, str(error.__cause__ or error)[:200]) from error
    history.record_many(
        conn,
        "experiments",
        [
            (new_id, {f: [None, v] for f, v in _stored_values(district, values).items()})
            for new_id, (district, values) in zip(ids, creates, strict=True)
        ],
        user=user,
        at=at,
        action=action,
    )
    bump_data_version(conn, "experiments")
    return len(ids)


_REQUIRED = [
    c.name for c in experiments.columns if not c.nullable and c.name in ("district", *EDITABLE)
]


def _refused(number: int | None, reason: str) -> GeoappError:
    which = f"la ligne {number}" if number else "une ligne"
    return GeoappError(
        f"Import annulé : {which} n'a pas pu être enregistrée (champ manquant ou "
        "invalide). Aucune expérimentation n'a été importée.",
        422,
        details={"row": number, "reason": reason},
    )


def _stored_values(district: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """What a new row holds, as the store hands it out (its first history row)."""
    return {
        "district": district,
        **{f: values.get(f) for f in EDITABLE if values.get(f) not in (None, [])},
    }


def apply_import(
    conn: sa.Connection,
    creates: list[tuple[str, Mapping[str, Any]]],
    updates: list[tuple[int, int, Mapping[str, Any]]],
    *,
    user: str,
    at: str,
) -> tuple[int, int]:
    """Create and update in the caller's one transaction: all or nothing. ``updates`` are
    ``(id, expected_version, values)``; a row saved since the preview is a 409 and the
    rollback undoes the whole import. Returns (created, modified)."""
    for experiment_id, version, values in updates:
        update(
            conn,
            experiment_id,
            values,
            expected_version=version,
            user=user,
            at=at,
            action="import",
        )
    return insert_many(conn, creates, user=user, at=at), len(updates)


def by_ids(conn: sa.Connection, ids: list[int]) -> dict[int, dict[str, Any]]:
    """Experiments by id, withdrawn ones included (chunks keep under bind-parameter limits)."""
    found: dict[int, dict[str, Any]] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        query = sa.select(experiments).where(experiments.c.id.in_(chunk))
        found.update({r["id"]: from_row(r) for r in conn.execute(query).mappings()})
    return found


def in_districts(conn: sa.Connection, districts: list[str]) -> list[dict[str, Any]]:
    """Every experiment of the given districts, withdrawn ones included."""
    query = sa.select(experiments).where(experiments.c.district.in_(districts))
    return [from_row(r) for r in conn.execute(ordered(conn, query)).mappings()]


# The registry's sortable columns (query value -> column); anything else sorts by default.
SORTS = {
    "titre": "title",
    "quartier": "district",
    "theme": "theme",
    "statut": "status",
    "debut": "start_date",
    "fin": "end_date",
    "structure": "organisation",
    "maj": "updated_at",
}


def page(
    conn: sa.Connection,
    *,
    sort: str | None,
    descending: bool,
    limit: int,
    offset: int,
    **where: Any,
) -> list[dict[str, Any]]:
    """One page of the registry: ``limit`` rows from ``offset`` in the order of ``sort``
    (a `SORTS` key; the id breaks ties so pages never overlap), filtered in SQL."""
    c = experiments.c
    query = sa.select(c.id).where(*filters(**where))
    column = c[SORTS[sort]] if sort in SORTS else None
    if column is None:
        query = ordered(conn, query)
    else:
        key = nocase(conn, column) if column.type.python_type is str else column
        query = query.order_by(key.desc() if descending else key.asc(), c.id)
    # The page's ids first, from the order's index alone; then only those rows.
    ids = conn.execute(query.limit(limit).offset(offset)).scalars().all()
    found = by_ids(conn, ids)
    return [found[i] for i in ids]


def count(conn: sa.Connection, **where: Any) -> int:
    """How many experiments match the filters (see `filters`)."""
    query = sa.select(sa.func.count()).select_from(experiments).where(*filters(**where))
    return conn.execute(query).scalar_one()


def tally(conn: sa.Connection) -> list[dict[str, Any]]:
    """``{district, theme, status, n}`` for the experiments not withdrawn: the registry's
    figures in one GROUP BY instead of every row in memory."""
    c = experiments.c
    query = (
        sa.select(c.district, c.theme, c.status, sa.func.count().label("n"))
        .where(c.withdrawn == 0)
        .group_by(c.district, c.theme, c.status)
    )
    return [dict(r) for r in conn.execute(query).mappings()]


def read_history(conn: sa.Connection, experiment_id: int) -> list[dict[str, Any]]:
    """The experiment's history, oldest first; 404 for an unknown id."""
    get(conn, experiment_id)
    return history.read(conn, "experiments", experiment_id)


def _check_fields(values: Mapping[str, Any]) -> None:
    unknown = set(values) - set(EDITABLE)
    if unknown:
        raise ValueError(f"values: not editable experiment fields {sorted(unknown)!r}")
