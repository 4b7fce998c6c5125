"""What experiments and crossings share: optimistic versions and an audit trail.

Every editable row carries a ``version``. A writer states the version it read; the
``UPDATE ... WHERE id = ? AND version = ?`` matches no row if someone saved in between,
so a stale form can never silently overwrite a newer save, on SQLite (where the write
lock already orders writers) as on PostgreSQL (where READ COMMITTED re-checks the WHERE
clause against the row a concurrent writer just committed). Each change writes one
history row (who, when in UTC ISO 8601, action, ``{field: [old, new]}`` as JSON) in the
same transaction as the change itself.
"""

import json
from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa

from geoapp.errors import ConflictError
from geoapp.store.db import bump_data_version
from geoapp.store.schema import crossing_history, crossings, experiment_history, experiments

# Callers check field names against their EDITABLE lists: never user input.
_TABLES = {"experiments": experiments, "crossings": crossings}
_HISTORY = {
    "experiments": (experiment_history, "experiment_id"),
    "crossings": (crossing_history, "crossing_id"),
}


def diff(current: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, list[Any]]:
    """The fields of ``values`` that differ from ``current``, as ``{field: [old, new]}``."""
    return {f: [current.get(f), v] for f, v in values.items() if current.get(f) != v}


def conflict(template: str, version: int) -> ConflictError:
    """The 409 for a stale write; ``template`` names the object and takes ``{version}``."""
    return ConflictError(template.format(version=version), details={"version": version})


def insert(
    conn: sa.Connection, table: str, columns: Mapping[str, Any], *, user: str, at: str
) -> int:
    """Insert a row at version 1 stamped with ``user`` and ``at``; return its id."""
    stamped = {
        **columns,
        "created_at": at,
        "updated_at": at,
        "created_by": user,
        "updated_by": user,
    }
    result = conn.execute(sa.insert(_TABLES[table]).values(stamped))
    return result.inserted_primary_key[0]


def save(
    conn: sa.Connection,
    table: str,
    current: Mapping[str, Any],
    values: Mapping[str, Any],
    *,
    expected_version: int,
    user: str,
    at: str,
    action: str,
    stale: str,
    to_sql: Callable[[str, Any], Any] = lambda field, value: value,
) -> bool:
    """Write the fields of ``values`` that differ from ``current`` (the row as read in
    this transaction), its history row and a data-version bump; return whether anything
    changed. 409 (message ``stale``) unless the row is still at ``expected_version``.

    Saving unchanged values writes nothing: no new version, no empty history row.
    """
    if current["version"] != expected_version:
        raise conflict(stale, current["version"])
    changes = diff(current, values)
    if not changes:
        return False
    rows = _TABLES[table]
    # The version in the WHERE clause keeps this correct on PostgreSQL, whose
    # transactions do not lock the row between the read of ``current`` and this write.
    result = conn.execute(
        sa.update(rows)
        .where(rows.c.id == current["id"], rows.c.version == expected_version)
        .values(
            {
                **{f: to_sql(f, new) for f, (_, new) in changes.items()},
                "version": rows.c.version + 1,
                "updated_at": at,
                "updated_by": user,
            }
        )
    )
    if result.rowcount != 1:  # someone committed in between (PostgreSQL only)
        now = conn.execute(sa.select(rows.c.version).where(rows.c.id == current["id"]))
        raise conflict(stale, now.scalar() or current["version"])
    record(conn, table, current["id"], user=user, at=at, action=action, changes=changes)
    bump_data_version(conn, table)
    return True


def record(
    conn: sa.Connection,
    table: str,
    row_id: int,
    *,
    user: str,
    at: str,
    action: str,
    changes: Mapping[str, list[Any]],
) -> None:
    """Append one history row for a change to ``table``'s row ``row_id``."""
    history, key = _HISTORY[table]
    conn.execute(
        sa.insert(history).values(
            {
                key: row_id,
                "at": at,
                "author": user,
                "action": action,
                "changes": json.dumps(changes, ensure_ascii=False),
            }
        )
    )


def record_many(
    conn: sa.Connection,
    table: str,
    changes: list[tuple[int, Mapping[str, list[Any]]]],
    *,
    user: str,
    at: str,
    action: str,
) -> None:
    """Append one history row per ``(row_id, changes)`` pair in one batched statement."""
    history, key = _HISTORY[table]
    params = [
        {
            key: row_id,
            "at": at,
            "author": user,
            "action": action,
            "changes": json.dumps(change, ensure_ascii=False),
        }
        for row_id, change in changes
    ]
    if params:
        conn.execute(sa.insert(history), params)


def read(conn: sa.Connection, table: str, row_id: int) -> list[dict[str, Any]]:
    """The history of one row, oldest first."""
    history, key = _HISTORY[table]
    c = history.c
    rows = conn.execute(
        sa.select(c.at, c.author, c.action, c.changes).where(c[key] == row_id).order_by(c.id)
    ).mappings()
    return [
        {
            "at": r["at"],
            "user": r["author"],
            "action": r["action"],
            "changes": json.loads(r["changes"]),
        }
        for r in rows
    ]
