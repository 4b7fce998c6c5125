"""Time the urban-cut report and one what-if recomputation of each district.

Run ``python benchmarks/bench_whatif.py [--runs N]``. On the app's real atlas (the
indicative district perimeters, their 500 m study areas and their corridors), for each
district it prints the median wall time in milliseconds over ``N`` runs (7 by default) of

* ``Atlas.cut_report``: sides, exposure, crossings and both detour scenarios, with the
  station crossings and no stored crossing (what a district page computes on a cold cache);
* ``cut_report.what_if``: one crossing proposed at the point of the main corridor, inside
  the district, farthest from every existing crossing (where a new footbridge would matter
  most), before/after;
* ``GET /api/quartiers/<slug>/what-if`` at that point through the Flask test client, on a
  warm report cache: the time a planner waits for the answer, minus the network;

and the before → after median and 90th-percentile detour factors, so a regression in
speed or in results shows at a glance.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from geoapp import create_app
from geoapp.analysis import ANALYSIS_CRS, DISPLAY_CRS
from geoapp.analysis.cut_report import what_if
from geoapp.atlas import build_atlas
from geoapp.config import PROJECT_ROOT
from geoapp.layers import points_frame

NO_STORED_CROSSINGS = points_frame([], columns=["id", "kind", "status", "name", "lon", "lat"])


def timed(runs: int, func, *args, **kwargs):
    """Median milliseconds over ``runs`` calls, and the last result."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = func(*args, **kwargs)
        times.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(times), result


def proposed_point(report, district) -> shapely.Point:
    """The point of the main corridor, inside the district if it runs there, farthest
    from every existing crossing (EPSG:2154)."""
    line = report.corridors.geometry.iloc[0]
    inside = line.intersection(district)
    if not inside.is_empty and inside.length > 0:
        line = inside
    candidates = shapely.line_interpolate_point(line, np.linspace(0, 1, 201), normalized=True)
    existing = report.crossings[report.crossings["status"] == "existant"]
    gaps = shapely.distance(candidates, existing.geometry.union_all())
    return candidates[int(np.argmax(gaps))]


def bench_district(atlas, client, slug: str, runs: int) -> dict:
    """Timings (ms) and before/after figures for one district."""
    district, study = atlas.district(slug).geometry, atlas.study_area(slug)
    t_report, report = timed(runs, atlas.cut_report, slug, NO_STORED_CROSSINGS)
    point = proposed_point(report, district)
    t_whatif, result = timed(runs, what_if, report, study, point)
    lonlat = gpd.GeoSeries([point], crs=ANALYSIS_CRS).to_crs(DISPLAY_CRS).iloc[0]
    url = f"/api/quartiers/{slug}/what-if?lat={lonlat.y:.6f}&lon={lonlat.x:.6f}"

    def get():
        with client.get(url) as response:
            if response.status_code != 200:
                raise SystemExit(f"{url} : {response.status_code} {response.get_json()}")
            return response.get_json()

    get()  # warm the report cache, as a page view before the click would
    t_http, answer = timed(runs, get)
    return {
        "report": t_report,
        "whatif": t_whatif,
        "http": t_http,
        "result": result,
        "answer": answer,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    atlas = build_atlas(PROJECT_ROOT / "data")
    with tempfile.TemporaryDirectory() as instance:
        app = create_app(
            {
                "TESTING": True,
                "ATLAS": atlas,
                "SECRET_KEY": "bench",
                "DATABASE": str(Path(instance) / "bench.sqlite3"),
                "EXPORT_CACHE_DIR": str(Path(instance) / "exports"),
            }
        )
        client = app.test_client()
        print(f"median of {args.runs} runs, milliseconds; detour factors before → after")
        print(
            f"{'quartier':20} {'report':>7} {'what-if':>8} {'HTTP':>6} {'trips':>7} "
            f"{'cut':>6}  {'median':>13}  {'p90':>13}"
        )
        for slug in atlas.slugs:
            row = bench_district(atlas, client, slug, args.runs)
            before, after = row["result"].before, row["result"].after
            assert row["answer"]["avant"]["median"] == round(before.median, 3)
            print(
                f"{slug:20} {row['report']:7.1f} {row['whatif']:8.1f} {row['http']:6.1f} "
                f"{before.n_pairs_total:7d} {before.n_pairs:6d}  "
                f"{before.median:.3f} → {after.median:.3f}  "
                f"{before.p90:.3f} → {after.p90:.3f}"
            )


if __name__ == "__main__":
    main()
