"""Rail-corridor crossings with their history, experiment notes and sources, login attempts.

Revision ID: 0002_crossings_and_login
Revises: 0001_base
Create Date: 2025-01-01

``PRAGMA user_version = 2`` before Alembic.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002_crossings_and_login"
down_revision = "0001_base"
branch_labels = None
depends_on = None

BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
DOUBLE = sa.REAL().with_variant(postgresql.DOUBLE_PRECISION(), "postgresql")
NOCASE_TEXT = sa.Text(collation="NOCASE").with_variant(postgresql.CITEXT(), "postgresql")


def upgrade() -> None:
    op.add_column("experiments", sa.Column("location_note", sa.Text))
    op.add_column("experiments", sa.Column("source", sa.Text))
    op.create_table(
        "crossings",
        sa.Column("id", BIGINT, primary_key=True),
        sa.Column("district", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("name", sa.Text),
        sa.Column("lon", DOUBLE, nullable=False),
        sa.Column("lat", DOUBLE, nullable=False),
        sa.Column("version", BIGINT, nullable=False, server_default=sa.text("1")),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("updated_at", sa.Text, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("updated_by", sa.Text, nullable=False),
        sa.CheckConstraint("kind IN ('passerelle', 'souterrain', 'pont', 'passage à niveau')"),
        sa.CheckConstraint("status IN ('existant', 'projeté')"),
        sa.CheckConstraint("lon BETWEEN -180 AND 180"),
        sa.CheckConstraint("lat BETWEEN -90 AND 90"),
    )
    op.create_index("crossings_district", "crossings", ["district"])
    op.create_index("crossings_lon_lat", "crossings", ["lon", "lat"])
    # No foreign key: the history of a deleted crossing is kept on purpose.
    op.create_table(
        "crossing_history",
        sa.Column("id", BIGINT, primary_key=True),
        sa.Column("crossing_id", BIGINT, nullable=False),
        sa.Column("at", sa.Text, nullable=False),
        sa.Column("author", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("changes", sa.Text, nullable=False),
    )
    op.create_index("crossing_history_crossing", "crossing_history", ["crossing_id"])
    # ``at`` is epoch seconds: the rate limit only compares instants.
    op.create_table(
        "login_attempts",
        sa.Column("id", BIGINT, primary_key=True),
        sa.Column("username", NOCASE_TEXT, nullable=False),
        sa.Column("ip", sa.Text, nullable=False),
        sa.Column("at", DOUBLE, nullable=False),
        sa.Column("success", sa.Integer, nullable=False),
        sa.CheckConstraint("success IN (0, 1)"),
    )
    op.create_index("login_attempts_username", "login_attempts", ["username", "at"])
    op.create_index("login_attempts_ip", "login_attempts", ["ip", "at"])


def downgrade() -> None:
    raise NotImplementedError("QMI Atlas migrations go forward only: append a new revision.")
