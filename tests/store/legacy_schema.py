"""A frozen copy of the migrations of before Alembic, to build the databases they left.

Until revision 0005 the app migrated SQLite with these statements, recording each step in
``PRAGMA user_version`` (1 to 4). Such files must still open: `geoapp.store.migrations`
stamps them at the matching Alembic revision, then upgrades them. Never edit this file:
it is what real databases in the field were made with.
"""

import sqlite3
from pathlib import Path

V1_BASE = (
    """CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value INTEGER NOT NULL
    )""",
    "INSERT INTO meta (key, value) VALUES ('data_version', 0)",
    """CREATE TABLE experiments (
        id INTEGER PRIMARY KEY,
        district TEXT NOT NULL,
        title TEXT NOT NULL,
        organisation TEXT NOT NULL,
        org_kind TEXT NOT NULL,
        theme TEXT NOT NULL,
        objectives TEXT NOT NULL DEFAULT '[]',
        description TEXT NOT NULL,
        status TEXT NOT NULL,
        start_date TEXT,
        end_date TEXT,
        lon REAL NOT NULL CHECK (lon BETWEEN -180 AND 180),
        lat REAL NOT NULL CHECK (lat BETWEEN -90 AND 90),
        precision TEXT NOT NULL,
        evaluation_outcome TEXT,
        evaluation_scale_up INTEGER CHECK (evaluation_scale_up IN (0, 1)),
        withdrawn INTEGER NOT NULL DEFAULT 0 CHECK (withdrawn IN (0, 1)),
        version INTEGER NOT NULL DEFAULT 1,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        created_by TEXT NOT NULL,
        updated_by TEXT NOT NULL
    )""",
    "CREATE INDEX experiments_district ON experiments (district)",
    "CREATE INDEX experiments_lon_lat ON experiments (lon, lat)",
    """CREATE TABLE experiment_history (
        id INTEGER PRIMARY KEY,
        experiment_id INTEGER NOT NULL REFERENCES experiments (id),
        at TEXT NOT NULL,
        author TEXT NOT NULL,
        action TEXT NOT NULL,
        changes TEXT NOT NULL
    )""",
    "CREATE INDEX experiment_history_experiment ON experiment_history (experiment_id)",
    """CREATE TABLE users (
        username TEXT PRIMARY KEY COLLATE NOCASE,
        password_hash TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('editeur', 'administrateur')),
        commune TEXT,
        created_at TEXT NOT NULL,
        CHECK ((role = 'editeur') = (commune IS NOT NULL))
    )""",
)

V2_CROSSINGS_AND_LOGIN = (
    "ALTER TABLE experiments ADD COLUMN location_note TEXT",
    "ALTER TABLE experiments ADD COLUMN source TEXT",
    """CREATE TABLE crossings (
        id INTEGER PRIMARY KEY,
        district TEXT NOT NULL,
        kind TEXT NOT NULL
            CHECK (kind IN ('passerelle', 'souterrain', 'pont', 'passage à niveau')),
        status TEXT NOT NULL CHECK (status IN ('existant', 'projeté')),
        name TEXT,
        lon REAL NOT NULL CHECK (lon BETWEEN -180 AND 180),
        lat REAL NOT NULL CHECK (lat BETWEEN -90 AND 90),
        version INTEGER NOT NULL DEFAULT 1,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        created_by TEXT NOT NULL,
        updated_by TEXT NOT NULL
    )""",
    "CREATE INDEX crossings_district ON crossings (district)",
    "CREATE INDEX crossings_lon_lat ON crossings (lon, lat)",
    # No foreign key: the history of a deleted crossing is kept on purpose.
    """CREATE TABLE crossing_history (
        id INTEGER PRIMARY KEY,
        crossing_id INTEGER NOT NULL,
        at TEXT NOT NULL,
        author TEXT NOT NULL,
        action TEXT NOT NULL,
        changes TEXT NOT NULL
    )""",
    "CREATE INDEX crossing_history_crossing ON crossing_history (crossing_id)",
    # ``at`` is epoch seconds (REAL): the rate limit only compares instants.
    """CREATE TABLE login_attempts (
        id INTEGER PRIMARY KEY,
        username TEXT NOT NULL COLLATE NOCASE,
        ip TEXT NOT NULL,
        at REAL NOT NULL,
        success INTEGER NOT NULL CHECK (success IN (0, 1))
    )""",
    "CREATE INDEX login_attempts_username ON login_attempts (username, at)",
    "CREATE INDEX login_attempts_ip ON login_attempts (ip, at)",
)

# A session is valid only while it carries its account's current ``session_epoch``; a
# logout, a password change or a new account of the same name gets a new random value,
# which ends every session of the account. 0 (accounts of before this migration) matches
# no session: those were started before sessions carried an epoch.
V3_SESSION_EPOCH = ("ALTER TABLE users ADD COLUMN session_epoch INTEGER NOT NULL DEFAULT 0",)

# Per-table write counters beside ``data_version``: cut reports depend on crossings only.
V4_TABLE_VERSIONS = (
    "INSERT INTO meta (key, value) VALUES ('experiments_version', 0)",
    "INSERT INTO meta (key, value) VALUES ('crossings_version', 0)",
)

MIGRATIONS = [V1_BASE, V2_CROSSINGS_AND_LOGIN, V3_SESSION_EPOCH, V4_TABLE_VERSIONS]


def legacy_database(path: Path, version: int) -> sqlite3.Connection:
    """A SQLite file as the old code left it at ``user_version`` = ``version``; an open
    connection (autocommit) to add rows with, closed by the caller."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    for number, statements in enumerate(MIGRATIONS[:version], start=1):
        conn.execute("BEGIN IMMEDIATE")
        for statement in statements:
            conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {number}")
        conn.execute("COMMIT")
    return conn
