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
    if field == "objectives":
        return json.dumps(list(value or []), ensure_ascii=False)
    if field in ("evaluation_scale_up", "withdrawn") and value is not None:
        return int(value)
    return value


def from_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """A stored row as the store hands it out: objectives a list, flags booleans."""
    item = dict(row)
    item["objectives"] = json.loads(item["objectives"])
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
) -> list[sa.ColumnElement[bool]]:
    """The WHERE clauses of the registry's filters (withdrawn rows only on request)."""
    where = [
        equals(experiments.c[column], value)
        for column, value in (("district", district), ("theme", theme), ("status", status))
        if value is not None
    ]
    if not include_withdrawn:
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
    changes = {f: [None, created[f]] for f in ("district", *EDITABLE) if created[f] is not None}
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

    The caller's transaction makes this all-or-nothing: the first failing row raises a
    `GeoappError` naming it, and the rollback removes the rows inserted before it.
    """
    for number, row in enumerate(rows, start=1):
        values = {k: v for k, v in row.items() if k != "district"}
        try:
            insert(conn, values, district=row.get("district"), user=user, at=at, action="import")
        except (sa.exc.IntegrityError, ValueError) as error:
            raise GeoappError(
                f"Import annulé : la ligne {number} n'a pas pu être enregistrée (champ "
                "manquant ou invalide). Aucune expérimentation n'a été importée.",
                422,
                details={"row": number, "reason": str(error)},
            ) from error
    return len(rows)


def read_history(conn: sa.Connection, experiment_id: int) -> list[dict[str, Any]]:
    """The experiment's history, oldest first; 404 for an unknown id."""
    get(conn, experiment_id)
    return history.read(conn, "experiments", experiment_id)


def _check_fields(values: Mapping[str, Any]) -> None:
    unknown = set(values) - set(EDITABLE)
    if unknown:
        raise ValueError(f"values: not editable experiment fields {sorted(unknown)!r}")
