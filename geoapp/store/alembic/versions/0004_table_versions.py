"""Per-table write counters beside ``data_version``: cut reports depend on crossings only.

Revision ID: 0004_table_versions
Revises: 0003_session_epoch
Create Date: 2025-01-01

``PRAGMA user_version = 4`` before Alembic, the last version of those days.
"""

from alembic import op

revision = "0004_table_versions"
down_revision = "0003_session_epoch"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("INSERT INTO meta (key, value) VALUES ('experiments_version', 0)")
    op.execute("INSERT INTO meta (key, value) VALUES ('crossings_version', 0)")


def downgrade() -> None:
    raise NotImplementedError("QMI Atlas migrations go forward only: append a new revision.")
