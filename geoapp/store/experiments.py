"""SQL for experiments: reads, version-checked writes, withdrawal and their history.

Write functions expect to run inside the caller's transaction (`geoapp.store.db.transaction`)
so the change, its history row and the data-version bump commit together or not at all.
Values are cleaned by `geoapp.registry.validate_experiment` before they reach this module.
"""

import json
import sqlite3
from collections.abc import Mapping
from typing import Any

from geoapp.errors import ConflictError, GeoappError
from geoapp.store import history
from geoapp.store.db import bump_data_version
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


def _from_row(row: sqlite3.Row) -> dict[str, Any]:
    item = dict(row)
    item["objectives"] = json.loads(item["objectives"])
    item["withdrawn"] = bool(item["withdrawn"])
    if item["evaluation_scale_up"] is not None:
        item["evaluation_scale_up"] = bool(item["evaluation_scale_up"])
    return item


def list_all(
    conn: sqlite3.Connection,
    *,
    district: str | None = None,
    theme: str | None = None,
    status: str | None = None,
    include_withdrawn: bool = False,
) -> list[dict[str, Any]]:
    """Experiments matching every given filter, by district then title."""
    where, params = ["1 = 1"], []
    for column, value in (("district", district), ("theme", theme), ("status", status)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    if not include_withdrawn:
        where.append("withdrawn = 0")
    rows = conn.execute(
        f"SELECT * FROM experiments WHERE {' AND '.join(where)}"
        " ORDER BY district, title COLLATE NOCASE, id",
        params,
    )
    return [_from_row(row) for row in rows]


def get(conn: sqlite3.Connection, experiment_id: int) -> dict[str, Any]:
    """One experiment, withdrawn or not; `GeoappError` 404 when the id is unknown."""
    row = conn.execute("SELECT * FROM experiments WHERE id = ?", (experiment_id,)).fetchone()
    if row is None:
        raise GeoappError(NOT_FOUND, 404)
    return _from_row(row)


def insert(
    conn: sqlite3.Connection,
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
    conn: sqlite3.Connection,
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
    conn: sqlite3.Connection,
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
    conn: sqlite3.Connection,
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


def import_rows(
    conn: sqlite3.Connection, rows: list[Mapping[str, Any]], *, user: str, at: str
) -> int:
    """Insert validated rows (each with its ``district``) with history action "import".

    The caller's transaction makes this all-or-nothing: the first failing row raises a
    `GeoappError` naming it, and the rollback removes the rows inserted before it.
    """
    for number, row in enumerate(rows, start=1):
        values = {k: v for k, v in row.items() if k != "district"}
        try:
            insert(conn, values, district=row.get("district"), user=user, at=at, action="import")
        except (sqlite3.IntegrityError, ValueError) as error:
            raise GeoappError(
                f"Import annulé : la ligne {number} n'a pas pu être enregistrée (champ "
                "manquant ou invalide). Aucune expérimentation n'a été importée.",
                422,
                details={"row": number, "reason": str(error)},
            ) from error
    return len(rows)


def read_history(conn: sqlite3.Connection, experiment_id: int) -> list[dict[str, Any]]:
    """The experiment's history, oldest first; 404 for an unknown id."""
    get(conn, experiment_id)
    return history.read(conn, "experiments", experiment_id)


def _check_fields(values: Mapping[str, Any]) -> None:
    unknown = set(values) - set(EDITABLE)
    if unknown:
        raise ValueError(f"values: not editable experiment fields {sorted(unknown)!r}")
