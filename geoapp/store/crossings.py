"""SQL for rail-corridor crossings (footbridges, underpasses, bridges, level crossings).

Crossings feed the urban-cuts analysis: where walkers can get across a rail corridor.
They are edited on the map like experiments, with the same version check and history,
but a wrong point is deleted rather than withdrawn; its history stays (no foreign key).
Write functions run inside the caller's transaction.
"""

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from geoapp.errors import GeoappError
from geoapp.store import history
from geoapp.store.db import bump_data_version, equals
from geoapp.store.schema import crossings

EDITABLE = ("kind", "status", "name", "lon", "lat")
NOT_FOUND = "Franchissement introuvable."
CONFLICT = (
    "Ce franchissement a été modifié par quelqu'un d'autre depuis que vous l'avez ouvert "
    "(version {version}). Rechargez la page : vos modifications n'ont pas été enregistrées."
)


def list_all(conn: sa.Connection, *, district: str | None = None) -> list[dict[str, Any]]:
    """Crossings of one district (or all), by district then id."""
    query = sa.select(crossings).order_by(crossings.c.district, crossings.c.id)
    if district is not None:
        query = query.where(equals(crossings.c.district, district))
    return [dict(row) for row in conn.execute(query).mappings()]


def get(conn: sa.Connection, crossing_id: int) -> dict[str, Any]:
    """One crossing; `GeoappError` 404 when the id is unknown."""
    query = sa.select(crossings).where(crossings.c.id == crossing_id)
    row = conn.execute(query).mappings().first()
    if row is None:
        raise GeoappError(NOT_FOUND, 404)
    return dict(row)


def insert(conn: sa.Connection, values: Mapping[str, Any], *, user: str, at: str) -> dict[str, Any]:
    """Insert a crossing (``district`` plus the editable fields) at version 1."""
    _check_fields(values, extra=("district",))
    columns = {f: values.get(f) for f in ("district", *EDITABLE)}
    created = get(conn, history.insert(conn, "crossings", columns, user=user, at=at))
    changes = {f: [None, created[f]] for f in ("district", *EDITABLE) if created[f] is not None}
    history.record(
        conn, "crossings", created["id"], user=user, at=at, action="création", changes=changes
    )
    bump_data_version(conn, "crossings")
    return created


def update(
    conn: sa.Connection,
    crossing_id: int,
    values: Mapping[str, Any],
    *,
    expected_version: int,
    user: str,
    at: str,
    action: str = "modification",
) -> dict[str, Any]:
    """Apply ``values`` if the crossing is still at ``expected_version``; 404, else 409."""
    _check_fields(values)
    current = get(conn, crossing_id)
    changed = history.save(
        conn,
        "crossings",
        current,
        values,
        expected_version=expected_version,
        user=user,
        at=at,
        action=action,
        stale=CONFLICT,
    )
    return get(conn, crossing_id) if changed else current


def delete(
    conn: sa.Connection, crossing_id: int, *, expected_version: int, user: str, at: str
) -> None:
    """Delete a crossing still at ``expected_version``, keeping a history row of what it was."""
    current = get(conn, crossing_id)
    result = conn.execute(
        sa.delete(crossings).where(
            crossings.c.id == crossing_id, crossings.c.version == expected_version
        )
    )
    if result.rowcount != 1:
        raise history.conflict(CONFLICT, current["version"])
    changes = {f: [current[f], None] for f in ("district", *EDITABLE) if current[f] is not None}
    history.record(
        conn, "crossings", crossing_id, user=user, at=at, action="suppression", changes=changes
    )
    bump_data_version(conn, "crossings")


def read_history(conn: sa.Connection, crossing_id: int) -> list[dict[str, Any]]:
    """A crossing's history, oldest first, still readable after it was deleted."""
    return history.read(conn, "crossings", crossing_id)


def _check_fields(values: Mapping[str, Any], extra: tuple[str, ...] = ()) -> None:
    unknown = set(values) - set(EDITABLE) - set(extra)
    if unknown:
        raise ValueError(f"values: not editable crossing fields {sorted(unknown)!r}")
