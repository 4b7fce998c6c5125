"""An index for the questions asked around a point within one district.

Revision ID: 0007_place_index
Revises: 0006_import_batches
Create Date: 2026-12-02

The placement check asks for the experiments of one district near a point. Given the
district, SQLite's planner reads the whole district through its index (25 000 rows for a
crowded one at 100 000 experiments, ~90 ms) rather than the ``(lon, lat)`` box. With
``(district, withdrawn, lon, lat)`` both equalities and the box are answered by one
index, which also holds every column the first pass reads (the id is the row id). On
PostGIS the GiST index on ``geom`` answers, so the index is made on SQLite only (there
it would only tempt the planner away from the GiST index).
"""

from alembic import op

revision = "0007_place_index"
down_revision = "0006_import_batches"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.create_index("experiments_place", "experiments", ["district", "withdrawn", "lon", "lat"])


def downgrade() -> None:
    raise NotImplementedError("QMI Atlas migrations go forward only: append a new revision.")
