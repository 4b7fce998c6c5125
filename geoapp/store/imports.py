"""SQL for import previews: the uploaded file kept until its confirmation.

A preview stores the file under a random token for its account; the confirmation reads
it back for the same account only, within `BATCH_LIFETIME_S`, and removes it once
applied. An account keeps one pending preview: a new upload replaces the previous one,
and expired ones of any account go at every save, so the table stays tiny.
"""

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from geoapp.store.schema import import_batches

BATCH_LIFETIME_S = 3600  # a preview left open longer must be uploaded again


def save(
    conn: sa.Connection,
    token: str,
    *,
    user: str,
    filename: str,
    data: bytes,
    digest: str,
    at: str,
) -> None:
    """Keep ``data`` under ``token`` for ``user`` (replacing the account's previous one)."""
    c = import_batches.c
    oldest = _iso(datetime.fromisoformat(at) - timedelta(seconds=BATCH_LIFETIME_S))
    conn.execute(sa.delete(import_batches).where(sa.or_(c.username == user, c.created_at < oldest)))
    conn.execute(
        sa.insert(import_batches).values(
            token=token, username=user, created_at=at, filename=filename, data=data, digest=digest
        )
    )


def load(conn: sa.Connection, token: str, *, user: str, at: str) -> dict[str, Any] | None:
    """The pending batch ``token`` of ``user``, or ``None`` (unknown, another account's,
    or older than `BATCH_LIFETIME_S`)."""
    c = import_batches.c
    oldest = _iso(datetime.fromisoformat(at) - timedelta(seconds=BATCH_LIFETIME_S))
    query = sa.select(import_batches).where(
        c.token == token, c.username == user, c.created_at >= oldest
    )
    row = conn.execute(query).mappings().first()
    return dict(row) if row else None


def drop(conn: sa.Connection, token: str) -> None:
    """Forget a batch (applied, or cancelled)."""
    conn.execute(sa.delete(import_batches).where(import_batches.c.token == token))


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")
