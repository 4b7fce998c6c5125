"""Photos of an experiment: files kept outside the database, described here.

Revision ID: 0009_experiment_photos
Revises: 0008_shapes_and_links
Create Date: 2026-12-02

The image itself is a file in the photo folder (``GEOAPP_PHOTOS``), named by the digest
of its re-encoded bytes; a row says which experiment shows it, in which order, its pixel
size and its byte size (checked against the file when it is served), who added it and
when.
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_experiment_photos"
down_revision = "0008_shapes_and_links"
branch_labels = None
depends_on = None

BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "experiment_photos",
        sa.Column("id", BIGINT, primary_key=True),
        sa.Column("experiment_id", BIGINT, sa.ForeignKey("experiments.id"), nullable=False),
        sa.Column("file", sa.Text, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("width", sa.Integer, nullable=False),
        sa.Column("height", sa.Integer, nullable=False),
        sa.Column("bytes", sa.Integer, nullable=False),
        sa.Column("caption", sa.Text),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
    )
    op.create_index("experiment_photos_experiment", "experiment_photos", ["experiment_id"])


def downgrade() -> None:
    raise NotImplementedError("QMI Atlas migrations go forward only: append a new revision.")
