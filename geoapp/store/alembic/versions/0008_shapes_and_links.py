"""Lines and areas as an experiment's place, and its web links.

Revision ID: 0008_shapes_and_links
Revises: 0007_place_index
Create Date: 2026-12-02

``shape`` holds the experiment's line or area as a GeoJSON geometry in WGS84 (text, on
both databases); ``NULL`` means the place is the point lon/lat. For a line or an area,
lon/lat keep a point *on* the shape (its anchor), so every question asked around a point
(clusters, the placement prefilter, the nearest experiments) still reads one indexed
pair. ``links`` holds the experiment's web links, one per line.

On PostgreSQL ``footprint geometry(Geometry, 4326)`` is computed by the server from the
shape, or the point when there is none (``GENERATED ALWAYS … STORED``, like 0005's
``geom``), with a GiST index: the whole place, for spatial questions in SQL.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_shapes_and_links"
down_revision = "0007_place_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("experiments", sa.Column("shape", sa.Text))
    op.add_column("experiments", sa.Column("links", sa.Text))
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "ALTER TABLE experiments ADD COLUMN footprint geometry(Geometry, 4326)"
        " GENERATED ALWAYS AS (ST_SetSRID(COALESCE(ST_GeomFromGeoJSON(shape),"
        " ST_MakePoint(lon, lat)), 4326)) STORED"
    )
    op.execute("CREATE INDEX experiments_footprint ON experiments USING gist (footprint)")


def downgrade() -> None:
    raise NotImplementedError("QMI Atlas migrations go forward only: append a new revision.")
