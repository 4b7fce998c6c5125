"""What experiments and crossings share: optimistic versions and an audit trail.

Every editable row carries a ``version``. A writer states the version it read; the
``UPDATE ... WHERE id = ? AND version = ?`` matches no row if someone saved in between,
so a stale form can never silently overwrite a newer save. Each change writes one
history row (who, when in UTC ISO 8601, action, ``{field: [old, new]}`` as JSON) in the
same transaction as the change itself.
"""

import json
import sqlite3
from collections.abc import Mapping
from typing import Any

# Table names are constants chosen here, never user input: the f-strings below are safe.
_HISTORY = {
    "experiments": ("experiment_history", "experiment_id"),
    "crossings": ("crossing_history", "crossing_id"),
}


def diff(current: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, list[Any]]:
    """The fields of ``values`` that differ from ``current``, as ``{field: [old, new]}``."""
    return {f: [current.get(f), v] for f, v in values.items() if current.get(f) != v}


def versioned_update(
    conn: sqlite3.Connection,
    table: str,
    row_id: int,
    columns: Mapping[str, Any],
    *,
    expected_version: int,
    user: str,
    at: str,
) -> bool:
    """Write ``columns`` and bump the version only if it is still ``expected_version``."""
    assignments = "".join(f"{name} = ?, " for name in columns)
    cursor = conn.execute(
        f"UPDATE {table} SET {assignments}version = version + 1, updated_at = ?, updated_by = ?"
        " WHERE id = ? AND version = ?",
        [*columns.values(), at, user, row_id, expected_version],
    )
    return cursor.rowcount == 1


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
