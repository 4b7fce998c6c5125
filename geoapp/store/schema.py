"""The tables as the queries see them (SQLAlchemy Core), at the latest revision.

The migrations in ``alembic/versions/`` create and change the tables; this module only
describes them for building statements, so it must follow the latest revision. Types
matter on PostgreSQL, where the driver casts each parameter to its column's type:

* integers are 64-bit there (``BIGINT``), like SQLite's: ids and versions up to
  2**63 - 1 reach the database as they do on SQLite (and find no row) instead of
  overflowing a 32-bit ``INTEGER``;
* coordinates and login instants are ``DOUBLE PRECISION`` (SQLite's ``REAL``);
* account names are ``CITEXT`` (SQLite: ``COLLATE NOCASE``), so ``username = :name``
  ignores case on both without ``lower()`` around every comparison.

The PostGIS ``geom`` columns of experiments and crossings (computed by the server from
lon/lat, revision 0005) and the experiments' ``footprint`` (from the shape, 0008) are left
out: rows carry lon/lat, and spatial queries name the column in SQL
(`geoapp.store.spatial`).
"""

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
DOUBLE = sa.REAL().with_variant(postgresql.DOUBLE_PRECISION(), "postgresql")
NOCASE_TEXT = sa.Text(collation="NOCASE").with_variant(postgresql.CITEXT(), "postgresql")

metadata = sa.MetaData()


def _stamps() -> list[sa.Column]:
    return [
        sa.Column("version", BIGINT, nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("updated_at", sa.Text, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("updated_by", sa.Text, nullable=False),
    ]


meta = sa.Table(
    "meta",
    metadata,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("value", BIGINT, nullable=False),
)

experiments = sa.Table(
    "experiments",
    metadata,
    sa.Column("id", BIGINT, primary_key=True),
    sa.Column("district", sa.Text, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("organisation", sa.Text, nullable=False),
    sa.Column("org_kind", sa.Text, nullable=False),
    sa.Column("theme", sa.Text, nullable=False),
    sa.Column("objectives", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("start_date", sa.Text),
    sa.Column("end_date", sa.Text),
    sa.Column("lon", DOUBLE, nullable=False),
    sa.Column("lat", DOUBLE, nullable=False),
    sa.Column("precision", sa.Text, nullable=False),
    sa.Column("evaluation_outcome", sa.Text),
    sa.Column("evaluation_scale_up", sa.Integer),
    sa.Column("withdrawn", sa.Integer, nullable=False),
    *_stamps(),
    sa.Column("location_note", sa.Text),
    sa.Column("source", sa.Text),
    # revision 0008: a line or an area as GeoJSON (WGS84), NULL for a point; links by line
    sa.Column("shape", sa.Text),
    sa.Column("links", sa.Text),
)

# Photos of an experiment (revision 0009): the files live in GEOAPP_PHOTOS.
experiment_photos = sa.Table(
    "experiment_photos",
    metadata,
    sa.Column("id", BIGINT, primary_key=True),
    sa.Column("experiment_id", BIGINT, nullable=False),
    sa.Column("file", sa.Text, nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("width", sa.Integer, nullable=False),
    sa.Column("height", sa.Integer, nullable=False),
    sa.Column("bytes", sa.Integer, nullable=False),
    sa.Column("caption", sa.Text),
    sa.Column("created_at", sa.Text, nullable=False),
    sa.Column("created_by", sa.Text, nullable=False),
)

experiment_history = sa.Table(
    "experiment_history",
    metadata,
    sa.Column("id", BIGINT, primary_key=True),
    sa.Column("experiment_id", BIGINT, nullable=False),
    sa.Column("at", sa.Text, nullable=False),
    sa.Column("author", sa.Text, nullable=False),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("changes", sa.Text, nullable=False),
)

crossings = sa.Table(
    "crossings",
    metadata,
    sa.Column("id", BIGINT, primary_key=True),
    sa.Column("district", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("name", sa.Text),
    sa.Column("lon", DOUBLE, nullable=False),
    sa.Column("lat", DOUBLE, nullable=False),
    *_stamps(),
)

crossing_history = sa.Table(
    "crossing_history",
    metadata,
    sa.Column("id", BIGINT, primary_key=True),
    sa.Column("crossing_id", BIGINT, nullable=False),
    sa.Column("at", sa.Text, nullable=False),
    sa.Column("author", sa.Text, nullable=False),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("changes", sa.Text, nullable=False),
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("username", NOCASE_TEXT, primary_key=True),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("commune", sa.Text),
    sa.Column("created_at", sa.Text, nullable=False),
    sa.Column("session_epoch", BIGINT, nullable=False),
)

login_attempts = sa.Table(
    "login_attempts",
    metadata,
    sa.Column("id", BIGINT, primary_key=True),
    sa.Column("username", NOCASE_TEXT, nullable=False),
    sa.Column("ip", sa.Text, nullable=False),
    sa.Column("at", DOUBLE, nullable=False),
    sa.Column("success", sa.Integer, nullable=False),
)

# Import previews awaiting confirmation (revision 0006): the uploaded file, its owner and
# the digest of the plan that was shown (`geoapp.store.imports`).
import_batches = sa.Table(
    "import_batches",
    metadata,
    sa.Column("token", sa.Text, primary_key=True),
    sa.Column("username", NOCASE_TEXT, nullable=False),
    sa.Column("created_at", sa.Text, nullable=False),
    sa.Column("filename", sa.Text, nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
    sa.Column("digest", sa.Text, nullable=False),
)
