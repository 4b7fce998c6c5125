"""The base schema: the version counter, experiments and their history, accounts.

Revision ID: 0001_base
Revises:
Create Date: 2025-01-01

Databases made by the app before Alembic recorded this as ``PRAGMA user_version = 1``;
`geoapp.store.migrations` stamps them here. Coordinates are WGS84 longitude/latitude in
decimal degrees, in indexed columns. Integers are 64-bit on PostgreSQL as on SQLite, and
account names ignore case on both (SQLite ``COLLATE NOCASE``, PostgreSQL ``citext``).
Like every revision, this file is frozen once shipped: a schema change is a new revision.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001_base"
down_revision = None
branch_labels = None
depends_on = None

BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
DOUBLE = sa.REAL().with_variant(postgresql.DOUBLE_PRECISION(), "postgresql")
NOCASE_TEXT = sa.Text(collation="NOCASE").with_variant(postgresql.CITEXT(), "postgresql")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS citext")  # a trusted extension
    op.create_table(
        "meta",
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("value", BIGINT, nullable=False),
    )
    op.execute("INSERT INTO meta (key, value) VALUES ('data_version', 0)")
    op.create_table(
        "experiments",
        sa.Column("id", BIGINT, primary_key=True),
        sa.Column("district", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("organisation", sa.Text, nullable=False),
        sa.Column("org_kind", sa.Text, nullable=False),
        sa.Column("theme", sa.Text, nullable=False),
        sa.Column("objectives", sa.Text, nullable=False, server_default=sa.text("'[]'")),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("start_date", sa.Text),
        sa.Column("end_date", sa.Text),
        sa.Column("lon", DOUBLE, nullable=False),
        sa.Column("lat", DOUBLE, nullable=False),
        sa.Column("precision", sa.Text, nullable=False),
        sa.Column("evaluation_outcome", sa.Text),
        sa.Column("evaluation_scale_up", sa.Integer),
        sa.Column("withdrawn", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("version", BIGINT, nullable=False, server_default=sa.text("1")),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("updated_at", sa.Text, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("updated_by", sa.Text, nullable=False),
        sa.CheckConstraint("lon BETWEEN -180 AND 180"),
        sa.CheckConstraint("lat BETWEEN -90 AND 90"),
        sa.CheckConstraint("evaluation_scale_up IN (0, 1)"),
        sa.CheckConstraint("withdrawn IN (0, 1)"),
    )
    op.create_index("experiments_district", "experiments", ["district"])
    op.create_index("experiments_lon_lat", "experiments", ["lon", "lat"])
    op.create_table(
        "experiment_history",
        sa.Column("id", BIGINT, primary_key=True),
        sa.Column("experiment_id", BIGINT, sa.ForeignKey("experiments.id"), nullable=False),
        sa.Column("at", sa.Text, nullable=False),
        sa.Column("author", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("changes", sa.Text, nullable=False),
    )
    op.create_index("experiment_history_experiment", "experiment_history", ["experiment_id"])
    op.create_table(
        "users",
        sa.Column("username", NOCASE_TEXT, primary_key=True),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("commune", sa.Text),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.CheckConstraint("role IN ('editeur', 'administrateur')"),
        sa.CheckConstraint("(role = 'editeur') = (commune IS NOT NULL)"),
    )


def downgrade() -> None:
    raise NotImplementedError("QMI Atlas migrations go forward only: append a new revision.")
