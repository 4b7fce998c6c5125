"""Time the urban-cut analysis of each district: corridors, detours and a what-if.

Run ``python benchmarks/bench_whatif.py [--geo-dir DIR] [--runs N] [--spacing M]``. For each
area it prints the median wall time in milliseconds of

* ``cut_corridors`` (rail lines → corridors),
* ``detour_factors`` (station crossings + detour statistics),
* ``what_if_crossing`` (one crossing proposed on the main corridor, before/after),

on the area itself and on its study zone (area buffered by 500 m), plus the figures, so a
regression in speed or in results shows at a glance. The areas are provisional rules built
from the commune and station layers; `district_areas` is the one place to change when the
app's real district perimeters are used instead.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from geoapp.analysis import ANALYSIS_CRS
from geoapp.analysis.cuts import cut_corridors, station_crossings
from geoapp.analysis.detour import detour_factors, what_if_crossing

ROOT = Path(__file__).resolve().parents[1]
GEO_DIRS = (ROOT / "data" / "geo", Path("/work/shared/geo"))
STUDY_BUFFER_M = 500.0


def load(geo_dir: Path) -> dict[str, gpd.GeoDataFrame]:
    """Communes, rail lines and stations in the analysis CRS."""
    return {key: gpd.read_file(geo_dir / name).to_crs(ANALYSIS_CRS) for key, name in (
        ("communes", "communes_mgp.geojson"), ("rail", "rail_lignes_idfm.geojson"),
        ("stations", "gares_idfm.geojson"))}


def district_areas(layers: dict[str, gpd.GeoDataFrame]) -> dict[str, shapely.Geometry]:
    """Provisional district areas: a commune, or a commune within a radius of stations."""
    communes, stations = layers["communes"], layers["stations"]

    def commune(code):
        return communes.geometry[communes["code_insee"] == code].union_all()

    def near(code, names, radius_m):
        discs = stations.geometry[stations["nom"].isin(names)].buffer(radius_m).union_all()
        return commune(code).intersection(discs)

    return {
        "Sceaux (commune)": commune("92071"),
        "Aulnay, 800 m de la gare": near("93005", ["Aulnay-sous-Bois"], 800),
        "Noisy, 700 m de Mont d'Est": near("93051", ["Noisy-le-Grand-Mont d'Est"], 700),
        "Meudon, 800 m du T6": near("92048", ["Meudon-la-Forêt", "Georges Millandy"], 800),
    }


def timed(runs: int, func, *args, **kwargs):
    """Median milliseconds over ``runs`` calls, and the last result."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = func(*args, **kwargs)
        times.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(times), result


def bench_area(layers, area, runs: int, spacing_m: float) -> dict:
    """Timings (ms) and figures for one area."""
    t_cut, corridors = timed(runs, cut_corridors, layers["rail"], area,
                             study_buffer_m=STUDY_BUFFER_M)
    crossings = station_crossings(layers["stations"], corridors)
    t_detour, stats = timed(runs, detour_factors, area, corridors, crossings,
                            spacing_m=spacing_m)
    # Proposed crossing: the point of the main corridor, inside the area, farthest from
    # every existing crossing (where a new footbridge would matter most).
    inside = corridors.geometry.iloc[0].intersection(area)
    if inside.is_empty:
        inside = corridors.geometry.iloc[0]
    candidates = shapely.line_interpolate_point(inside, np.linspace(0, 1, 201),
                                                normalized=True)
    gaps = shapely.distance(candidates, crossings.geometry.union_all())
    proposed = candidates[int(np.argmax(gaps))]
    t_whatif, result = timed(runs, what_if_crossing, area, corridors, crossings, proposed,
                             spacing_m=spacing_m)
    return {"cut": t_cut, "detour": t_detour, "whatif": t_whatif, "stats": stats,
            "before": result.before, "after": result.after}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--geo-dir", type=Path,
                        default=next((p for p in GEO_DIRS if p.is_dir()), GEO_DIRS[0]))
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--spacing", type=float, default=100.0, help="grid spacing, metres")
    args = parser.parse_args()
    layers = load(args.geo_dir)
    print(f"{'zone':34} {'ha':>5} {'cut ms':>7} {'detour':>7} {'what-if':>7} "
          f"{'trips':>7} {'cut':>6} {'no x.':>5}  median p90 before → after")
    for name, district in district_areas(layers).items():
        for label, area in ((name, district),
                            (f"  + {STUDY_BUFFER_M:g} m", district.buffer(STUDY_BUFFER_M))):
            row = bench_area(layers, area, args.runs, args.spacing)
            stats, before, after = row["stats"], row["before"], row["after"]
            print(f"{label:34} {area.area / 1e4:5.0f} {row['cut']:7.1f} {row['detour']:7.1f} "
                  f"{row['whatif']:7.1f} {stats.n_pairs_total:7d} {stats.n_pairs:6d} "
                  f"{stats.n_pairs_no_crossing:5d}  {before.median:.3f} {before.p90:.3f} → "
                  f"{after.median:.3f} {after.p90:.3f}")


if __name__ == "__main__":
    main()
