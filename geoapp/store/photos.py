"""Photos of experiments: their rows (SQL) and their files (the ``GEOAPP_PHOTOS`` folder).

A photo is a change to its experiment like any other: adding or removing one bumps the
experiment's version, writes one history row (so `geoapp.web.context.conflict_context`
still finds one row per version) and bumps the data version, so the caches keyed on it
(map popups, exports, sheets) refresh. The row is written in the caller's transaction
(`geoapp.store.db.write`); the limit of `MAX_PHOTOS` is counted in it after the
experiment's row is locked by its version bump, so two uploads at once cannot make six.

Files are content-addressed (`geoapp.photos.FILE_NAME`): the same picture sent twice is
one file, written once, atomically (a reader never sees half a file); a file is deleted
only when no row names it any more.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from geoapp.errors import GeoappError
from geoapp.photos import FILE_NAME, MAX_PHOTOS, Photo, thumbnail_name
from geoapp.store import history
from geoapp.store.db import bump_data_version
from geoapp.store.experiments import get
from geoapp.store.schema import experiment_photos, experiments

TOO_MANY = (
    f"Cette expérimentation a déjà {MAX_PHOTOS} photos, le maximum : retirez-en une avant "
    "d’en ajouter une autre."
)
ALREADY_THERE = "Cette photo figure déjà sur la fiche de l’expérimentation."
NOT_FOUND = "Photo introuvable."


def label(row: dict[str, Any]) -> str:
    """How the history names a photo: « Photo 2 » or « Photo 2 : <caption> »."""
    caption = row.get("caption")
    return f"Photo {row['position']}" + (f" : {caption}" if caption else "")


def list_for(conn: sa.Connection, experiment_id: int) -> list[dict[str, Any]]:
    """The photos of one experiment, in their order."""
    return list_for_many(conn, [experiment_id]).get(experiment_id, [])


def list_for_many(conn: sa.Connection, ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """The photos of several experiments, by experiment id, each list in order."""
    c = experiment_photos.c
    found: dict[int, list[dict[str, Any]]] = {}
    for start in range(0, len(ids), 500):  # under the bind-parameter limits
        query = (
            sa.select(experiment_photos)
            .where(c.experiment_id.in_(ids[start : start + 500]))
            .order_by(c.experiment_id, c.position, c.id)
        )
        for row in conn.execute(query).mappings():
            found.setdefault(row["experiment_id"], []).append(dict(row))
    return found


def by_file(conn: sa.Connection, file: str) -> list[dict[str, Any]]:
    """The rows naming ``file``, each with its experiment's ``district`` and
    ``withdrawn`` (a picture sent to two experiments is one file, two rows)."""
    p, e = experiment_photos.c, experiments.c
    query = (
        sa.select(experiment_photos, e.district, e.withdrawn)
        .join(experiments, e.id == p.experiment_id)
        .where(p.file == file)
    )
    return [{**r, "withdrawn": bool(r["withdrawn"])} for r in conn.execute(query).mappings()]


def _touch(conn: sa.Connection, experiment_id: int, *, user: str, at: str) -> dict[str, Any]:
    """Bump the experiment's version (locking its row until commit); 404 if unknown."""
    current = get(conn, experiment_id)
    conn.execute(
        sa.update(experiments)
        .where(experiments.c.id == experiment_id)
        .values(version=experiments.c.version + 1, updated_at=at, updated_by=user)
    )
    return current


def add(
    conn: sa.Connection,
    experiment_id: int,
    photo: Photo,
    *,
    caption: str | None,
    user: str,
    at: str,
) -> dict[str, Any]:
    """Add ``photo`` after the experiment's others; 422 beyond `MAX_PHOTOS`, 409 if this
    very picture is already on it. Returns the new row."""
    _touch(conn, experiment_id, user=user, at=at)
    present = list_for(conn, experiment_id)
    if len(present) >= MAX_PHOTOS:
        raise GeoappError(TOO_MANY, 422)
    if any(p["file"] == photo.file for p in present):
        raise GeoappError(ALREADY_THERE, 409)
    row = {
        "experiment_id": experiment_id,
        "file": photo.file,
        "position": max((p["position"] for p in present), default=0) + 1,
        "width": photo.width,
        "height": photo.height,
        "bytes": len(photo.data),
        "caption": caption,
        "created_at": at,
        "created_by": user,
    }
    new_id = conn.execute(sa.insert(experiment_photos).values(row)).inserted_primary_key[0]
    row["id"] = new_id
    _record(conn, experiment_id, "ajout d’une photo", [None, label(row)], user=user, at=at)
    return row


def remove(
    conn: sa.Connection, experiment_id: int, photo_id: int, *, user: str, at: str
) -> tuple[dict[str, Any], bool]:
    """Remove one photo of the experiment; 404 if it has no such photo. Returns the row
    and whether another row still names its file (then the file stays)."""
    _touch(conn, experiment_id, user=user, at=at)
    c = experiment_photos.c
    query = sa.select(experiment_photos).where(c.id == photo_id, c.experiment_id == experiment_id)
    row = conn.execute(query).mappings().first()
    if row is None:
        raise GeoappError(NOT_FOUND, 404)
    conn.execute(sa.delete(experiment_photos).where(c.id == photo_id))
    _record(conn, experiment_id, "retrait d’une photo", [label(row), None], user=user, at=at)
    still_used = conn.execute(sa.select(c.id).where(c.file == row["file"]).limit(1)).first()
    return dict(row), still_used is not None


def _record(
    conn: sa.Connection, experiment_id: int, action: str, change: list, *, user: str, at: str
) -> None:
    history.record(
        conn, "experiments", experiment_id, user=user, at=at, action=action,
        changes={"photo": change},
    )  # fmt: skip
    bump_data_version(conn, "experiments")


# Files -------------------------------------------------------------------------------


def path_of(folder: str | Path, file: str) -> Path | None:
    """Where ``file`` lives in ``folder``, or ``None`` for a name that is not a photo's
    or a thumbnail's (`geoapp.photos.FILE_NAME`): no other path can be asked for."""
    if not FILE_NAME.fullmatch(file):
        return None
    return Path(folder) / file


def write_files(folder: str | Path, photo: Photo) -> None:
    """Write the photo and its thumbnail (once: an existing file of that name holds the
    same bytes), each through a temporary file renamed into place."""
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    for name, data in ((photo.file, photo.data), (photo.thumbnail_file, photo.thumbnail)):
        final = target / name
        if final.exists() and final.stat().st_size == len(data):
            continue
        fd, temporary = tempfile.mkstemp(dir=target, prefix=".envoi-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(temporary, final)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


def delete_files(folder: str | Path, file: str) -> None:
    """Delete a photo's file and its thumbnail (nothing if already gone)."""
    for name in (file, thumbnail_name(file)):
        path = path_of(folder, name)
        if path is not None:
            path.unlink(missing_ok=True)
