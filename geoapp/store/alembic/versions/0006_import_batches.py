"""Import previews kept on the server until their confirmation; registry indexes.

Revision ID: 0006_import_batches
Revises: 0005_postgis_geometry
Create Date: 2026-12-02

An import is previewed, then applied on confirmation. The uploaded file waits here,
keyed by a random token and tied to the account that sent it, so the confirmation
re-reads the file the server itself received (never data sent back by the browser) and
works whichever process or machine serves it. ``digest`` is the SHA-256 of the previewed
plan: the confirmation applies only the plan that was shown.

Three indexes let the registry page stay fast at 100 000 experiments: its default order
(district, then title ignoring case, then id) and the title order are read from an
index instead of sorting the table, and its figures (counts per district, theme and
status) are counted from a covering index. The title is folded as `geoapp.store.db.nocase`
folds it in queries (SQLite ``COLLATE NOCASE``; PostgreSQL ``translate`` then ``"C"``).
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006_import_batches"
down_revision = "0005_postgis_geometry"
branch_labels = None
depends_on = None

NOCASE_TEXT = sa.Text(collation="NOCASE").with_variant(postgresql.CITEXT(), "postgresql")
UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


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
    if op.get_bind().dialect.name == "postgresql":
        title = f"(translate(title, '{UPPER}', '{UPPER.lower()}') COLLATE \"C\")"
    else:
        title = "title COLLATE NOCASE"
    op.execute(
        f"CREATE INDEX experiments_registry_order ON experiments (withdrawn, district, {title}, id)"
    )
    op.execute(f"CREATE INDEX experiments_by_title ON experiments (withdrawn, {title}, id)")
    op.execute("CREATE INDEX experiments_tally ON experiments (withdrawn, district, theme, status)")


def downgrade() -> None:
    raise NotImplementedError("QMI Atlas migrations go forward only: append a new revision.")
