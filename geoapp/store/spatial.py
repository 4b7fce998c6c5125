"""Spatial questions asked of the database: experiments near a point, inside a box.

Distances are Lambert-93 (EPSG:2154, the app's one metric CRS) metres on both backends,
so the store answers alike whichever is used, and as the analysis would:

* PostGIS: ``ST_DWithin`` on the geography of the ``geom`` column (its GiST index,
  revision 0005) keeps the points within the radius on the spheroid, slightly widened
  (Lambert-93 stretches distances by at most a few per mille over France); the exact
  Lambert-93 test and distance are then ``ST_Distance`` of the ``ST_Transform``-ed points,
  in the same query.
* SQLite: a lon/lat box around the point that surely holds the circle is read through
  the ``(lon, lat)`` index, then the distances of those few rows are computed at once
  (pyproj, shapely arrays) and filtered, with no loop over rows.

Bounding boxes are WGS84 degrees, edges included; on PostGIS ``geom && envelope`` finds
the candidates through the index, the lon/lat comparison keeps the exact edge.
"""

import math
from functools import cache
from typing import Any

import numpy as np
import shapely
import sqlalchemy as sa
from pyproj import Transformer

from geoapp.analysis import ANALYSIS_CRS
from geoapp.store import experiments as rows
from geoapp.store.schema import experiments

WGS84_SRID = 4326
METRIC_SRID = int(ANALYSIS_CRS.split(":")[1])
# Lambert-93's scale factor stays within 0.9990-1.0030 over metropolitan France: a 1 %
# wider search keeps every point whose Lambert-93 distance is within the radius.
SCALE_MARGIN = 1.01
M_PER_DEGREE_LAT_MIN = 110_574.0  # a degree of latitude at the equator, its shortest
M_PER_DEGREE_LON_EQUATOR = 111_319.5  # a degree of longitude at the equator (sphere)
M_PER_DEGREE_LAT_MEAN = 111_132.0  # a degree of latitude at mid-latitudes (France: 111.1-111.2 km)
# Local planar metres (degrees x the two lengths above) differ from Lambert-93 metres by
# its scale factor (0.9990-1.0030 over France) and the sphere's approximation (< 0.3 %):
# a 2 % margin on either side holds every point the exact test could keep or drop.
PLANAR_MARGIN = 0.02
NEAREST_SPARE = 20  # planar order differs from Lambert-93 order only near ties


class _Geography(sa.types.UserDefinedType):
    """PostGIS's ``geography`` type, only for ``CAST(… AS geography)``."""

    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return "geography"


def near(
    conn: sa.Connection,
    lon: float,
    lat: float,
    radius_m: float,
    *,
    district: str | None = None,
    exclude: int | None = None,
) -> list[dict[str, Any]]:
    """Experiments (not withdrawn) within ``radius_m`` metres of WGS84 (lon, lat), nearest
    first (then by id), each with its Lambert-93 ``distance_m``."""
    where = _near_where(lon, lat, radius_m, district, exclude)
    if conn.dialect.name == "postgresql":
        return _near_postgis(conn, lon, lat, radius_m, where)
    return _near_lonlat(conn, lon, lat, radius_m, where)


def nearest(
    conn: sa.Connection,
    lon: float,
    lat: float,
    radius_m: float,
    limit: int,
    *,
    district: str | None = None,
    exclude: int | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """The ``limit`` experiments nearest to (lon, lat) within ``radius_m`` (as `near`
    gives them) and how many lie within it: a placement check names a few possible
    duplicates and counts the rest, so a crowded spot costs a handful of rows, not
    thousands."""
    where = _near_where(lon, lat, radius_m, district, exclude)
    if conn.dialect.name == "postgresql":
        found = _near_postgis(conn, lon, lat, radius_m, where, limit=limit, counted=True)
        return [{k: v for k, v in r.items() if k != "total"} for r in found], (
            int(found[0]["total"]) if found else 0
        )
    return _nearest_lonlat(conn, lon, lat, radius_m, limit, where)


def _nearest_lonlat(conn, lon, lat, radius_m, limit, where) -> tuple[list[dict[str, Any]], int]:
    """SQLite: the squared local planar distance (degrees scaled to metres at ``lat``),
    computed in SQL on the indexed lon/lat, is within `PLANAR_MARGIN` of the Lambert-93
    one. So the database counts the points surely inside and hands over only the thin
    ring where it cannot tell, plus the few nearest; those get the exact Lambert-93
    distance. A crowded spot (4 000 candidates at 100 000 experiments) then costs a few
    hundred rows, not thousands."""
    c = experiments.c
    kx = M_PER_DEGREE_LON_EQUATOR * math.cos(math.radians(lat))
    squared = ((c.lon - lon) * kx) * ((c.lon - lon) * kx) + (
        (c.lat - lat) * M_PER_DEGREE_LAT_MEAN
    ) * ((c.lat - lat) * M_PER_DEGREE_LAT_MEAN)
    inner, outer = (radius_m * (1 - PLANAR_MARGIN)) ** 2, (radius_m * (1 + PLANAR_MARGIN)) ** 2
    box = [*where, *_box(lon, lat, radius_m)]  # read through experiments_place
    surely = conn.execute(sa.select(sa.func.count()).where(*box, squared <= inner)).scalar_one()
    ring = _positions(
        conn, sa.select(c.id, c.lon, c.lat).where(*box, squared > inner, squared <= outer)
    )
    ring_in = int((lambert93_distances(lon, lat, ring[:, 1], ring[:, 2]) <= radius_m).sum())
    first = _positions(
        conn,
        sa.select(c.id, c.lon, c.lat)
        .where(*box, squared <= outer)
        .order_by(squared, c.id)
        .limit(limit + NEAREST_SPARE),
    )
    distances = lambert93_distances(lon, lat, first[:, 1], first[:, 2])
    keep = np.flatnonzero(distances <= radius_m)
    ids = first[:, 0].astype(np.int64)
    order = keep[np.lexsort((ids[keep], distances[keep]))][:limit]
    chosen = {int(ids[i]): float(distances[i]) for i in order}
    full = sa.select(experiments).where(c.id.in_(list(chosen)))
    by_id = {r["id"]: r for r in (rows.from_row(x) for x in conn.execute(full).mappings())}
    return [{**by_id[i], "distance_m": d} for i, d in chosen.items()], int(surely) + ring_in


def _positions(conn: sa.Connection, query: sa.Select) -> np.ndarray:
    """``(id, lon, lat)`` rows as an n x 3 float array (plain tuples: numpy probes a Row
    as a mapping first, at ~0.2 ms a row)."""
    found = conn.execute(query).all()
    return np.array([tuple(r) for r in found], dtype=float).reshape(-1, 3)


def in_bbox(
    conn: sa.Connection, west: float, south: float, east: float, north: float, **filters: Any
) -> list[dict[str, Any]]:
    """Experiments inside the WGS84 box (edges included) matching the registry's
    ``filters`` (`geoapp.store.experiments.filters`), in the registry's order."""
    for name, value in (("west", west), ("south", south), ("east", east), ("north", north)):
        if not math.isfinite(value):
            raise ValueError(f"{name}: a finite number of degrees is expected, got {value!r}")
    if west > east or south > north:
        raise ValueError(f"west, south, east, north: not a box ({west}, {south}, {east}, {north})")
    c = experiments.c
    where = [*rows.filters(**filters), c.lon.between(west, east), c.lat.between(south, north)]
    if conn.dialect.name == "postgresql":
        envelope = sa.func.ST_MakeEnvelope(west, south, east, north, WGS84_SRID)
        where.append(_geom().op("&&")(envelope))
    query = rows.ordered(conn, sa.select(experiments).where(*where))
    return [rows.from_row(row) for row in conn.execute(query).mappings()]


MAP_COLUMNS = ("id", "lon", "lat", "theme", "status", "title", "shape")


def map_points(conn: sa.Connection, **filters: Any) -> dict[str, list[Any]]:
    """What a map draws of each experiment matching ``filters``, as columns (one list per
    name of `MAP_COLUMNS`, in id order): read straight from the columns, no row dicts,
    so 100 000 experiments cost one light query.

    The table is read in its own (id) order: "not withdrawn" alone would send SQLite
    through an index starting with ``withdrawn`` in title order, then sort — 2 s at
    100 000 instead of 0.1 s — so that test is kept out of the indexes (``+ 0``).
    """
    c = experiments.c
    include = filters.pop("include_withdrawn", False)
    where = rows.filters(include_withdrawn=True, **filters)
    if not include:
        where.append(c.withdrawn + 0 == 0)
    query = sa.select(*(c[name] for name in MAP_COLUMNS)).where(*where)
    found = conn.execute(query.order_by(c.id)).all()
    columns = list(zip(*found, strict=True)) if found else [() for _ in MAP_COLUMNS]
    return {name: list(values) for name, values in zip(MAP_COLUMNS, columns, strict=True)}


def count(conn: sa.Connection, **filters: Any) -> int:
    """How many experiments match ``filters``, counted by the database."""
    query = sa.select(sa.func.count()).select_from(experiments).where(*rows.filters(**filters))
    return int(conn.execute(query).scalar_one())


def _near_where(lon, lat, radius_m, district, exclude) -> list[sa.ColumnElement[bool]]:
    """The arguments of a question around a point, checked; its WHERE clauses."""
    _check_point(lon, lat)
    if not (math.isfinite(radius_m) and radius_m >= 0):
        raise ValueError(f"radius_m: a distance in metres >= 0 is expected, got {radius_m!r}")
    where = rows.filters(district=district)
    if exclude is not None and -(2**63) <= exclude < 2**63:  # no row has an id past 64 bits
        where.append(experiments.c.id != exclude)
    return where


def _check_point(lon: float, lat: float) -> None:
    if not (math.isfinite(lon) and -180 <= lon <= 180):
        raise ValueError(f"lon: WGS84 degrees within [-180, 180] are expected, got {lon!r}")
    if not (math.isfinite(lat) and -90 <= lat <= 90):
        raise ValueError(f"lat: WGS84 degrees within [-90, 90] are expected, got {lat!r}")


def _geom() -> sa.ColumnElement[Any]:
    return sa.literal_column(f"{experiments.name}.geom")


def _near_postgis(
    conn, lon, lat, radius_m, where, *, limit: int | None = None, counted: bool = False
) -> list[dict[str, Any]]:
    point = sa.func.ST_SetSRID(sa.func.ST_MakePoint(lon, lat), WGS84_SRID)
    distance = sa.func.ST_Distance(
        sa.func.ST_Transform(_geom(), METRIC_SRID), sa.func.ST_Transform(point, METRIC_SRID)
    ).label("distance_m")
    wide = sa.func.ST_DWithin(
        sa.cast(_geom(), _Geography()), sa.cast(point, _Geography()), radius_m * SCALE_MARGIN
    )
    extra = [sa.func.count().over().label("total")] if counted else []
    query = (
        sa.select(experiments, distance, *extra)
        .where(*where, wide, distance <= radius_m)
        .order_by(distance, experiments.c.id)
        .limit(limit)
    )
    return [rows.from_row(row) for row in conn.execute(query).mappings()]


def _box(lon: float, lat: float, radius_m: float) -> list[sa.ColumnElement[bool]]:
    """A lon/lat box (read through the index) surely holding the circle of ``radius_m``."""
    dlat = radius_m * SCALE_MARGIN / M_PER_DEGREE_LAT_MIN
    farthest = min(89.0, abs(lat) + dlat)  # the box's edge where a degree of lon is shortest
    dlon = radius_m * SCALE_MARGIN / (M_PER_DEGREE_LON_EQUATOR * math.cos(math.radians(farthest)))
    c = experiments.c
    return [c.lon.between(lon - dlon, lon + dlon), c.lat.between(lat - dlat, lat + dlat)]


def _near_lonlat(conn, lon, lat, radius_m, where) -> list[dict[str, Any]]:
    query = sa.select(experiments).where(*where, *_box(lon, lat, radius_m))
    found = [rows.from_row(row) for row in conn.execute(query).mappings()]
    if not found:
        return []
    distances = lambert93_distances(lon, lat, [r["lon"] for r in found], [r["lat"] for r in found])
    keep = np.flatnonzero(distances <= radius_m)
    order = keep[np.lexsort(([found[i]["id"] for i in keep], distances[keep]))]
    return [{**found[i], "distance_m": float(distances[i])} for i in order]


@cache
def _to_metric() -> Transformer:
    return Transformer.from_crs("EPSG:4326", ANALYSIS_CRS, always_xy=True)


def lambert93_distances(lon: float, lat: float, lons, lats) -> np.ndarray:
    """Lambert-93 metres from WGS84 (lon, lat) to each of the points (``lons``, ``lats``):
    the same reprojection and the same GEOS distance as a GeoDataFrame's ``to_crs`` and
    ``distance``, so the analysis finds the same numbers."""
    x, y = _to_metric().transform(np.asarray(lons, float), np.asarray(lats, float))
    px, py = _to_metric().transform(lon, lat)
    return shapely.distance(shapely.points(x, y), shapely.Point(px, py))
