"""The database behind QMI Atlas: experiments, crossings, accounts and their history.

`Store` is the whole interface the web layer and the CLI use, on SQLite or on
PostgreSQL/PostGIS alike (``GEOAPP_DATABASE``: a file path or ``sqlite:///…``, or
``postgresql://…``; see `geoapp.store.db`); the SQL, written once with SQLAlchemy Core,
lives in the modules it delegates to. Each call runs in its own short transaction on a
pooled connection, or on the one its thread holds with `Store.connection_scope` (one per
web request), so one `Store` is safe to share between the threads of a WSGI server, and
several processes may share one database.

Coordinates are WGS84 (EPSG:4326) longitude/latitude in decimal degrees. Timestamps
are UTC ISO 8601 strings. Every write to experiments or crossings bumps `data_version`.
"""

import os
import threading
import weakref
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from geoapp.errors import GeoappError
from geoapp.photos import Photo
from geoapp.registry import validate_position
from geoapp.store import crossings, experiments, imports, photos, spatial, users
from geoapp.store.db import (
    data_version,
    database_url,
    describe,
    lock_table,
    make_engine,
    read,
    write,
)
from geoapp.store.failures import StorageError, storage_errors
from geoapp.store.migrations import migrate, upgrade
from geoapp.store.schema import experiments as experiments_table
from geoapp.store.seed import Anchors, load_seed

__all__ = ["Store", "StorageError", "upgrade"]

Row = dict[str, Any]


def utc_now() -> datetime:
    """The default clock; tests pass their own to `Store` to move time by hand."""
    return datetime.now(UTC)


class Store:
    """The database at ``url_or_path`` (`geoapp.store.db.database_url`), upgraded to the
    latest schema revision on first use (a SQLite file and its folder are created).

    ``now`` returns an aware datetime; it stamps history rows and drives the login
    rate limit, so tests can inject a fake clock. ``photos`` is the folder of the
    experiments' photo files (``GEOAPP_PHOTOS``; `geoapp.store.photos`).
    """

    def __init__(
        self,
        url_or_path: str | Path,
        *,
        now: Callable[[], datetime] = utc_now,
        photos: str | Path | None = None,
    ):
        self.url = database_url(url_or_path)
        self.photo_folder = Path(photos) if photos else None
        self.backend = self.url.get_backend_name()  # "sqlite" or "postgresql"
        self._now = now
        self._local = threading.local()
        self.engine = make_engine(self.url)
        # Pooled connections are closed when the store goes (or the interpreter exits),
        # not left to the garbage collector: a PostgreSQL server then sees a clean goodbye.
        self._finalizer = weakref.finalize(self, self.engine.dispose)
        _forget_connections_after_fork(self.engine)
        try:
            with storage_errors():
                migrate(self.engine)
        except StorageError as exc:  # at start-up: say which database, for the admin
            raise GeoappError(
                f"La base de données « {describe(self.url)} » ne peut pas être ouverte, "
                f"créée ou mise à jour : {exc.reason}.",
                503,
            ) from exc

    def close(self) -> None:
        """Close the pooled connections (the store reopens some if used again)."""
        self._finalizer()

    @contextmanager
    def _connection(self) -> Iterator[sa.Connection]:
        """The thread's open connection (see `connection_scope`), else a pooled one for
        this call; storage failures come out as a French 503."""
        with storage_errors():
            shared = getattr(self._local, "conn", None)
            if shared is not None:
                yield shared
                return
            with self.engine.connect() as conn:
                yield conn

    @contextmanager
    def connection_scope(self) -> Iterator[None]:
        """Share one connection between the store calls of this thread until the block
        ends: a web request checks out one connection, not one per call. Each call still
        runs in its own transaction: each read sees the latest commits."""
        if getattr(self._local, "conn", None) is not None:  # nested: the outer one serves
            yield
            return
        with storage_errors():
            self._local.conn = self.engine.connect()
        try:
            yield
        finally:
            conn, self._local.conn = self._local.conn, None
            conn.close()

    @contextmanager
    def _read(self) -> Iterator[sa.Connection]:
        with self._connection() as conn, read(conn):
            yield conn

    @contextmanager
    def _write(self) -> Iterator[sa.Connection]:
        with self._connection() as conn, write(conn):
            yield conn

    def now(self) -> datetime:
        """The store's clock (the web layer dates logins with it too)."""
        return self._now()

    def _stamp(self) -> str:
        return self._now().astimezone(UTC).isoformat(timespec="seconds")

    def data_version(self, table: str | None = None) -> int:
        """A counter bumped by every experiment or crossing write, or by ``table``'s only
        (``"experiments"``, ``"crossings"``): the keys of the caches."""
        with self._read() as conn:
            return data_version(conn, table)

    # Experiments -------------------------------------------------------------------

    def list_experiments(
        self,
        *,
        district: str | None = None,
        theme: str | None = None,
        status: str | None = None,
        include_withdrawn: bool = False,
    ) -> list[Row]:
        """Experiments matching all given filters (withdrawn ones only on request)."""
        with self._read() as conn:
            return experiments.list_all(
                conn,
                district=district,
                theme=theme,
                status=status,
                include_withdrawn=include_withdrawn,
            )

    def get_experiment(self, experiment_id: int) -> Row:
        """One experiment, withdrawn or not; `GeoappError` 404 if unknown."""
        with self._read() as conn:
            return experiments.get(conn, experiment_id)

    def create_experiment(self, values: Mapping[str, Any], *, district: str, user: str) -> Row:
        """Store validated values (`geoapp.registry.validate_experiment`) as version 1."""
        with self._write() as conn:
            return experiments.insert(conn, values, district=district, user=user, at=self._stamp())

    def update_experiment(
        self, experiment_id: int, values: Mapping[str, Any], *, expected_version: int, user: str
    ) -> Row:
        """Save an edit made on ``expected_version``; 409 if someone saved since, 404."""
        with self._write() as conn:
            return experiments.update(
                conn,
                experiment_id,
                values,
                expected_version=expected_version,
                user=user,
                at=self._stamp(),
            )

    def move_experiment(
        self, experiment_id: int, lon: Any, lat: Any, *, expected_version: int, user: str
    ) -> Row:
        """Move the point (a map drag); 422 outside metropolitan France, 409, 404."""
        lon, lat = validate_position(lon, lat)
        with self._write() as conn:
            return experiments.update(
                conn,
                experiment_id,
                {"lon": lon, "lat": lat},
                expected_version=expected_version,
                user=user,
                at=self._stamp(),
                action="déplacement",
            )

    def withdraw_experiment(self, experiment_id: int, *, expected_version: int, user: str) -> Row:
        """Hide an experiment from maps and exports, reversibly; 409 if already withdrawn."""
        return self._set_withdrawn(experiment_id, True, expected_version, user)

    def restore_experiment(self, experiment_id: int, *, expected_version: int, user: str) -> Row:
        """Undo a withdrawal; 409 if the experiment is not withdrawn."""
        return self._set_withdrawn(experiment_id, False, expected_version, user)

    def _set_withdrawn(self, experiment_id: int, flag: bool, version: int, user: str) -> Row:
        with self._write() as conn:
            return experiments.set_withdrawn(
                conn, experiment_id, flag, expected_version=version, user=user, at=self._stamp()
            )

    def history(self, experiment_id: int) -> list[Row]:
        """``[{at, user, action, changes: {field: [old, new]}}]`` oldest first; 404."""
        with self._read() as conn:
            return experiments.read_history(conn, experiment_id)

    def import_experiments(self, rows: list[Mapping[str, Any]], *, user: str) -> int:
        """Insert validated rows (each with ``district``) all-or-nothing; 422 names the
        first failing row and nothing is kept. Returns the number imported."""
        with self._write() as conn:
            return experiments.import_rows(conn, rows, user=user, at=self._stamp())

    def experiments_by_id(self, ids: list[int]) -> dict[int, Row]:
        """The experiments of ``ids`` that exist (withdrawn included), by id."""
        with self._read() as conn:
            return experiments.by_ids(conn, list(ids))

    def experiments_of_districts(self, districts: list[str]) -> list[Row]:
        """Every experiment of these districts, withdrawn included (an import's matching)."""
        with self._read() as conn:
            return experiments.in_districts(conn, list(districts))

    def apply_import(
        self,
        creates: list[tuple[str, Mapping[str, Any]]],
        updates: list[tuple[int, int, Mapping[str, Any]]],
        *,
        user: str,
        batch: str | None = None,
    ) -> tuple[int, int]:
        """Create ``(district, values)`` and update ``(id, expected_version, values)`` in
        ONE transaction with history action "import", forgetting the preview ``batch``
        in it too: all or nothing (409 if a row was saved since). (created, modified)."""
        with self._write() as conn:
            done = experiments.apply_import(conn, creates, updates, user=user, at=self._stamp())
            if batch:
                imports.drop(conn, batch)
            return done

    def save_import_batch(
        self, token: str, *, user: str, filename: str, data: bytes, digest: str
    ) -> None:
        """Keep an uploaded file until its preview is confirmed (`geoapp.store.imports`)."""
        with self._write() as conn:
            imports.save(
                conn,
                token,
                user=user,
                filename=filename,
                data=data,
                digest=digest,
                at=self._stamp(),
            )

    def load_import_batch(self, token: str, *, user: str) -> Row | None:
        """``{token, username, filename, data, digest, created_at}`` of ``user``, or None."""
        with self._read() as conn:
            return imports.load(conn, token, user=user, at=self._stamp())

    def page_experiments(
        self,
        *,
        sort: str | None = None,
        descending: bool = False,
        limit: int = 100,
        offset: int = 0,
        **filters: Any,
    ) -> tuple[list[Row], int]:
        """One page of experiments (SQL LIMIT/OFFSET, sorted by a whitelisted column,
        `geoapp.store.experiments.SORTS`) and how many match the filters in all."""
        with self._read() as conn:
            rows = experiments.page(
                conn, sort=sort, descending=descending, limit=limit, offset=offset, **filters
            )
            return rows, experiments.count(conn, **filters)

    def experiment_tally(self) -> list[Row]:
        """``{district, theme, status, n}`` counts of the experiments not withdrawn."""
        with self._read() as conn:
            return experiments.tally(conn)

    def seed_if_empty(
        self,
        seed_path: str | Path,
        *,
        anchors: Anchors,
        objectives: Mapping[str, list[str]],
    ) -> int:
        """Load the seed file only into an empty experiments table (first start).

        ``anchors`` maps a district slug to its indicative centre ``(lon, lat)`` (see
        `geoapp.store.seed`); ``objectives`` maps each slug to its objective list for
        validation. The file is read only when the table is empty, so a later start does
        not depend on it; emptiness is checked again under the write lock, so two
        processes starting together seed once. Returns the number of rows inserted.
        """
        if self._has_experiments():
            return 0
        rows = load_seed(seed_path, anchors=anchors, objectives=objectives)
        with self._write() as conn:
            lock_table(conn, experiments_table)
            if experiments.has_any(conn):
                return 0
            return experiments.import_rows(conn, rows, user="seed", at=self._stamp())

    def _has_experiments(self) -> bool:
        with self._read() as conn:
            return experiments.has_any(conn)

    def experiments_near(
        self,
        lon: float,
        lat: float,
        radius_m: float,
        *,
        district: str | None = None,
        exclude: int | None = None,
    ) -> list[Row]:
        """Experiments (not withdrawn) within ``radius_m`` metres of WGS84 (lon, lat), of
        ``district`` if given, but ``exclude`` (an id), nearest first, each with its
        ``distance_m`` (Lambert-93 metres). Asked of PostGIS in SQL, of SQLite through the
        indexed lon/lat columns (`geoapp.store.spatial`)."""
        with self._read() as conn:
            return spatial.near(
                conn, float(lon), float(lat), float(radius_m), district=district, exclude=exclude
            )

    def experiments_nearest(
        self,
        lon: float,
        lat: float,
        radius_m: float,
        limit: int,
        *,
        district: str | None = None,
        exclude: int | None = None,
    ) -> tuple[list[Row], int]:
        """The ``limit`` nearest of `experiments_near`'s answer, and how many it holds."""
        with self._read() as conn:
            return spatial.nearest(
                conn,
                float(lon),
                float(lat),
                float(radius_m),
                int(limit),
                district=district,
                exclude=exclude,
            )

    def experiments_in_bbox(
        self, west: float, south: float, east: float, north: float, **filters: Any
    ) -> list[Row]:
        """Experiments inside the WGS84 box (degrees, edges included) that match the
        filters of `list_experiments`, in the same order."""
        with self._read() as conn:
            box = (float(west), float(south), float(east), float(north))
            return spatial.in_bbox(conn, *box, **filters)

    def experiment_map_points(self, **filters: Any) -> dict[str, list[Any]]:
        """The map's view of the experiments matching the filters of `list_experiments`:
        columns id, lon, lat, theme, status, title, shape (the GeoJSON text of a line or
        area, None for a point; `geoapp.store.spatial.map_points`)."""
        with self._read() as conn:
            return spatial.map_points(conn, **filters)

    def count_experiments(self, **filters: Any) -> int:
        """How many experiments match the filters of `list_experiments`."""
        with self._read() as conn:
            return spatial.count(conn, **filters)

    # Photos ------------------------------------------------------------------------

    def list_photos(self, experiment_id: int) -> list[Row]:
        """The photos of one experiment, in order (`geoapp.store.photos`)."""
        with self._read() as conn:
            return photos.list_for(conn, experiment_id)

    def photos_of(self, ids: list[int]) -> dict[int, list[Row]]:
        """The photos of several experiments, by id (those with none are absent)."""
        with self._read() as conn:
            return photos.list_for_many(conn, list(ids))

    def photo_rows(self, file: str) -> list[Row]:
        """The rows naming a photo file, with their experiment's district and withdrawn."""
        with self._read() as conn:
            return photos.by_file(conn, file)

    def add_photo(
        self,
        experiment_id: int,
        sent: list[Photo],
        *,
        caption: str | None,
        user: str,
    ) -> list[Row]:
        """Add prepared photos (`geoapp.photos.prepare`), all or none: their files into
        the photo folder, then in one transaction their rows, one history row and one version
        per photo; 404, 409 (already there), 422 beyond five. A refused upload leaves
        no file behind."""
        folder = self._photos()
        for photo in sent:
            photos.write_files(folder, photo)
        try:
            with self._write() as conn:
                at = self._stamp()
                return [
                    photos.add(conn, experiment_id, photo, caption=caption, user=user, at=at)
                    for photo in sent
                ]
        except BaseException:
            for photo in sent:
                if not self.photo_rows(photo.file):
                    photos.delete_files(folder, photo.file)
            raise

    def remove_photo(self, experiment_id: int, photo_id: int, *, user: str) -> Row:
        """Remove one photo of an experiment (history kept); its files go once no other
        experiment shows the same picture; 404."""
        with self._write() as conn:
            row, still_used = photos.remove(
                conn, experiment_id, photo_id, user=user, at=self._stamp()
            )
        if not still_used:
            photos.delete_files(self._photos(), row["file"])
        return row

    def photo_path(self, file: str) -> Path | None:
        """Where a photo or thumbnail file of that name lives (``None``: not such a name,
        or no photo folder); the file itself may be missing."""
        return photos.path_of(self.photo_folder, file) if self.photo_folder else None

    def _photos(self) -> Path:
        if self.photo_folder is None:
            raise GeoappError("Aucun dossier de photos n’est configuré (GEOAPP_PHOTOS).", 503)
        return self.photo_folder

    # Crossings ---------------------------------------------------------------------

    def list_crossings(self, district: str | None = None) -> list[Row]:
        """Rail-corridor crossings of one district, or all."""
        with self._read() as conn:
            return crossings.list_all(conn, district=district)

    def get_crossing(self, crossing_id: int) -> Row:
        """One crossing; 404 if unknown."""
        with self._read() as conn:
            return crossings.get(conn, crossing_id)

    def add_crossing(self, values: Mapping[str, Any], *, user: str) -> Row:
        """Store ``district`` plus values cleaned by `geoapp.registry.validate_crossing`."""
        with self._write() as conn:
            return crossings.insert(conn, values, user=user, at=self._stamp())

    def update_crossing(
        self, crossing_id: int, values: Mapping[str, Any], *, expected_version: int, user: str
    ) -> Row:
        """Change kind, status or name (e.g. a projected footbridge now built); 409, 404."""
        with self._write() as conn:
            return crossings.update(
                conn,
                crossing_id,
                values,
                expected_version=expected_version,
                user=user,
                at=self._stamp(),
            )

    def move_crossing(
        self, crossing_id: int, lon: Any, lat: Any, *, expected_version: int, user: str
    ) -> Row:
        """Move a crossing (a map drag); 422 outside metropolitan France, 409, 404."""
        lon, lat = validate_position(lon, lat)
        with self._write() as conn:
            return crossings.update(
                conn,
                crossing_id,
                {"lon": lon, "lat": lat},
                expected_version=expected_version,
                user=user,
                at=self._stamp(),
                action="déplacement",
            )

    def delete_crossing(self, crossing_id: int, *, expected_version: int, user: str) -> None:
        """Delete a crossing still at ``expected_version``; its history is kept; 409, 404."""
        with self._write() as conn:
            crossings.delete(
                conn, crossing_id, expected_version=expected_version, user=user, at=self._stamp()
            )

    def crossing_history(self, crossing_id: int) -> list[Row]:
        """A crossing's history, oldest first (empty for an id never used)."""
        with self._read() as conn:
            return crossings.read_history(conn, crossing_id)

    # Users -------------------------------------------------------------------------

    def add_user(
        self, username: str, password: str, *, role: str, commune: str | None = None
    ) -> Row:
        """Create an account (``editeur`` needs a commune INSEE code); 422, 409 if taken."""
        with self._write() as conn:
            return users.add(conn, username, password, role=role, commune=commune, at=self._stamp())

    def authenticate(self, username: str, password: str, *, ip: str) -> Row | None:
        """The account if the password matches, else ``None``; a French 429 with
        ``details["retry_after"]`` (seconds) while recent failures ask for a wait
        (`geoapp.store.users`: waits grow with failures, nothing locks an account)."""
        with self._connection() as conn:
            return users.authenticate(conn, username, password, ip=ip, now=self._now().timestamp())

    def login_wait(self, username: str, *, ip: str) -> int:
        """Whole seconds before ``username`` may try to log in from ``ip`` (0: now)."""
        with self._read() as conn:
            return users.required_wait(conn, username, ip, now=self._now().timestamp())

    def get_user(self, username: str) -> Row | None:
        """``{username, role, commune, created_at}`` or ``None``; never the hash."""
        with self._read() as conn:
            return users.get(conn, username)

    def list_users(self) -> list[Row]:
        """All accounts, by name, without hashes."""
        with self._read() as conn:
            return users.list_all(conn)

    def set_password(self, username: str, password: str) -> None:
        """Replace a password and end every session of the account; 422, 404 if unknown."""
        with self._write() as conn:
            users.set_password(conn, username, password)

    def delete_user(self, username: str) -> None:
        """Delete an account (which ends its sessions); 404 if unknown."""
        with self._write() as conn:
            users.delete(conn, username)

    def session_epoch(self, username: str) -> int | None:
        """What a new session of ``username`` must carry (``None``: no such account).

        It changes when the account's sessions must end: logout (`end_sessions`),
        password change, removal (a new account of the same name gets another one).
        """
        with self._read() as conn:
            return users.session_epoch(conn, username)

    def session_user(self, username: str, epoch: int) -> Row | None:
        """The account (as `get_user`) if a session carrying ``epoch`` is still valid."""
        with self._read() as conn:
            return users.session_user(conn, username, epoch)

    def end_sessions(self, username: str) -> None:
        """End every session of ``username``, on every device (logout)."""
        with self._write() as conn:
            users.end_sessions(conn, username)


def _forget_connections_after_fork(engine: sa.Engine) -> None:
    """A process forked from this one (a server worker) must not use, nor close, the
    pooled connections it inherited: they are the parent's (SQLAlchemy's documented
    ``dispose(close=False)`` in the child). Its pool starts empty instead."""
    ref = weakref.ref(engine)

    def forget() -> None:
        inherited = ref()
        if inherited is not None:
            inherited.dispose(close=False)

    os.register_at_fork(after_in_child=forget)
