"""PostGIS points on experiments and crossings, computed from lon/lat, with GiST indexes.

Revision ID: 0005_postgis_geometry
Revises: 0004_table_versions
Create Date: 2025-06-01

On PostgreSQL each table gets ``geom geometry(Point, 4326)``, a column the server
computes from lon/lat (``GENERATED ALWAYS … STORED``): no writer can let it drift from the
coordinates the app reads and writes. Two GiST indexes serve the spatial questions of
`geoapp.store.spatial`: one on the geometry (bounding boxes, ``&&``) and one on its
geography cast (``ST_DWithin`` in metres on the spheroid), which a plain geometry index
cannot serve.

The PostGIS extension needs a superuser: where the app's role is not one, a database
administrator runs ``CREATE EXTENSION postgis`` once beforehand (``IF NOT EXISTS`` then
makes this a no-op).

On SQLite nothing changes: lon/lat are already indexed together (``experiments_lon_lat``
of 0001, ``crossings_lon_lat`` of 0002), which is what the bounding-box prefilter uses.
"""

from alembic import op

revision = "0005_postgis_geometry"
down_revision = "0004_table_versions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    for table in ("experiments", "crossings"):
        op.execute(
            f"ALTER TABLE {table} ADD COLUMN geom geometry(Point, 4326)"
            " GENERATED ALWAYS AS (ST_SetSRID(ST_MakePoint(lon, lat), 4326)) STORED"
        )
        op.execute(f"CREATE INDEX {table}_geom ON {table} USING gist (geom)")
        op.execute(f"CREATE INDEX {table}_geog ON {table} USING gist ((geom::geography))")


def downgrade() -> None:
    raise NotImplementedError("QMI Atlas migrations go forward only: append a new revision.")
