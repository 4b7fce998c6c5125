"""What experiments and crossings share: optimistic versions and an audit trail.

Every editable row carries a ``version``. A writer states the version it read; the
``UPDATE ... WHERE id = ? AND version = ?`` matches no row if someone saved in between,
so a stale form can never silently overwrite a newer save. Each change writes one
history row (who, when in UTC ISO 8601, action, ``{field: [old, new]}`` as JSON) in the
same transaction as the change itself.
"""

import json
import sqlite3
from collections.abc import Callable, Mapping
from typing import Any

from geoapp.errors import ConflictError
from geoapp.store.db import bump_data_version

# Table and column names in the f-strings below are this package's constants (callers
# check field names against their EDITABLE lists), never user input.
_HISTORY = {
    "experiments": ("experiment_history", "experiment_id"),
    "crossings": ("crossing_history", "crossing_id"),
}


def diff(current: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, list[Any]]:
    """The fields of ``values`` that differ from ``current``, as ``{field: [old, new]}``."""
    return {f: [current.get(f), v] for f, v in values.items() if current.get(f) != v}


def conflict(template: str, version: int) -> ConflictError:
    """The 409 for a stale write; ``template`` names the object and takes ``{version}``."""
    return ConflictError(template.format(version=version), details={"version": version})


def insert(
    conn: sqlite3.Connection, table: str, columns: Mapping[str, Any], *, user: str, at: str
) -> int:
    """Insert a row at version 1 stamped with ``user`` and ``at``; return its id."""
    stamped = {
        **columns,
        "created_at": at,
        "updated_at": at,
        "created_by": user,
        "updated_by": user,
    }
    cursor = conn.execute(
        f"INSERT INTO {table} ({', '.join(stamped)}) VALUES ({', '.join('?' * len(stamped))})",
        list(stamped.values()),
    )
    return cursor.lastrowid


def save(
    conn: sqlite3.Connection,
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
    assignments = "".join(f"{field} = ?, " for field in changes)
    # The version in the WHERE clause keeps this correct even on a backend whose
    # transactions do not lock the row between the read of ``current`` and this write.
    cursor = conn.execute(
        f"UPDATE {table} SET {assignments}version = version + 1, updated_at = ?,"
        " updated_by = ? WHERE id = ? AND version = ?",
        [
            *(to_sql(f, new) for f, (_, new) in changes.items()),
            at,
            user,
            current["id"],
            expected_version,
        ],
    )
    if cursor.rowcount != 1:  # unreachable under SQLite's write lock; kept for other backends
        row = conn.execute(f"SELECT version FROM {table} WHERE id = ?", (current["id"],))
        raise conflict(stale, (row.fetchone() or current)["version"])
    record(conn, table, current["id"], user=user, at=at, action=action, changes=changes)
    bump_data_version(conn, table)
    return True


def record(
    conn: sqlite3.Connection,
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
        f"INSERT INTO {history} ({key}, at, author, action, changes) VALUES (?, ?, ?, ?, ?)",
        (row_id, at, user, action, json.dumps(changes, ensure_ascii=False)),
    )


def read(conn: sqlite3.Connection, table: str, row_id: int) -> list[dict[str, Any]]:
    """The history of one row, oldest first."""
    history, key = _HISTORY[table]
    rows = conn.execute(
        f"SELECT at, author, action, changes FROM {history} WHERE {key} = ? ORDER BY id",
        (row_id,),
    )
    return [
        {
            "at": r["at"],
            "user": r["author"],
            "action": r["action"],
            "changes": json.loads(r["changes"]),
        }
        for r in rows
    ]
