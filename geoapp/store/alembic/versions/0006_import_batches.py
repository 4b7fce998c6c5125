"""Import previews kept on the server until their confirmation.

Revision ID: 0006_import_batches
Revises: 0005_postgis_geometry
Create Date: 2026-12-02

An import is previewed, then applied on confirmation. The uploaded file waits here,
keyed by a random token and tied to the account that sent it, so the confirmation
re-reads the file the server itself received (never data sent back by the browser) and
works whichever process or machine serves it. ``digest`` is the SHA-256 of the previewed
plan: the confirmation applies only the plan that was shown.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006_import_batches"
down_revision = "0005_postgis_geometry"
branch_labels = None
depends_on = None

NOCASE_TEXT = sa.Text(collation="NOCASE").with_variant(postgresql.CITEXT(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "import_batches",
        sa.Column("token", sa.Text, primary_key=True),
        sa.Column("username", NOCASE_TEXT, nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("filename", sa.Text, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("digest", sa.Text, nullable=False),
    )


def downgrade() -> None:
    raise NotImplementedError("QMI Atlas migrations go forward only: append a new revision.")
