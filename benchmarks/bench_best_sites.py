"""Time the best places to cross, and show what the road cuts change.

Run ``python benchmarks/bench_best_sites.py [--runs N]``. On the app's real data it prints

* per district, the median wall time in seconds over ``N`` cold runs (3 by default) of
  ``report_best_sites`` (candidates every 40 m, scored at once, refined, the best three
  checked exactly; target < 2 s) with its CPU time, beside the cut report itself, and
  what a planner would spend testing the same candidates one what-if at a time (one
  ``what_if`` call timed, times the number of candidates) with the ratio;
* the best three sites per district with their before/after figures;
* the figures of the four districts before (rail only: ``data/coupures.json`` removed)
  and after (with the road cuts it declares: the N118 at Meudon-la-Forêt).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from geoapp.analysis.cut_report import report_best_sites, what_if
from geoapp.atlas import build_atlas
from geoapp.config import PROJECT_ROOT
from geoapp.layers import CUT_LAYERS_FILE, points_frame

NO_STORED_CROSSINGS = points_frame([], columns=["id", "kind", "status", "name", "lon", "lat"])


def timed(runs: int, func, *args):
    """Median wall and CPU seconds over ``runs`` calls, and the last result. CPU time is
    what the machine spent on this process: on a shared, loaded machine it is the closer
    estimate of the wall time a quiet server would see."""
    wall, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = func(*args)
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(wall), statistics.median(cpu), result


def report_of(atlas, slug: str):
    """The cut report the web builds for ``slug`` with no stored crossing."""
    return atlas.cut_report(slug, NO_STORED_CROSSINGS)


def rail_only_atlas():
    """The atlas built from a copy of data/ without coupures.json: rail cuts only."""
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        shutil.copytree(PROJECT_ROOT / "data", data)
        (data / CUT_LAYERS_FILE).unlink()
        return build_atlas(data)


def figures(atlas, slug: str) -> dict:
    report = report_of(atlas, slug)
    d = report.detour
    return {
        "cut_in_m": report.corridors["length_in_m"].sum(),
        "cut_near_m": report.corridors["length_near_m"].sum(),
        "corridors": ", ".join(report.corridors["names"]),
        "sides": report.n_sides,
        "exp250": report.exposure[250],
        "median": d.median,
        "p90": d.p90,
        "share": d.share_over_1_5,
        "n_pairs": d.n_pairs,
    }


def print_timings(atlas, runs: int) -> None:
    load = os.getloadavg()[0]
    print(f"cold timings, median of {runs} runs, seconds (load average {load:.1f})")
    print(
        f"{'quartier':20} {'report':>7} {'best sites':>11} {'(CPU)':>6} {'cands':>6} "
        f"{'1 what-if':>10} {'by hand':>8} {'ratio':>6}"
    )
    for slug in atlas.slugs:
        study = atlas.study_area(slug)
        t_report, _, report = timed(runs, report_of, atlas, slug)
        t_best, cpu_best, best = timed(runs, report_best_sites, report, study)
        point = best.sites.geometry.iloc[0]
        t_one, _, _ = timed(runs, what_if, report, study, point)
        by_hand = t_one * best.n_candidates
        print(
            f"{slug:20} {t_report:7.2f} {t_best:11.2f} {cpu_best:6.2f} {best.n_candidates:6d} "
            f"{t_one:10.3f} {by_hand:8.1f} {by_hand / t_best:5.0f}×"
        )


def print_best_sites(atlas) -> None:
    print("\nbest sites: share of trips lengthened > 50 % and median, before → after")
    for slug in atlas.slugs:
        best = report_best_sites(report_of(atlas, slug), atlas.study_area(slug))
        b = best.before
        for site, after in zip(best.sites.itertuples(), best.after, strict=True):
            print(
                f"{slug:20} n° {site.rang} {site.names[:28]:28} "
                f"{100 * b.share_over_1_5:5.1f} % → {100 * after.share_over_1_5:5.1f} %   "
                f"{b.median:.3f} → {after.median:.3f}"
            )


def print_before_after(before_atlas, after_atlas) -> None:
    print("\nfigures before (rail only) → after (with the road cuts of coupures.json)")
    keys = [
        ("cut_in_m", "cut in district (m)", "{:.0f}"),
        ("cut_near_m", "cut within 500 m (m)", "{:.0f}"),
        ("sides", "sides of the study area", "{}"),
        ("exp250", "district within 250 m", "{:.1%}"),
        ("median", "detour median", "{:.3f}"),
        ("p90", "detour p90", "{:.3f}"),
        ("share", "trips lengthened > 50 %", "{:.1%}"),
        ("n_pairs", "trips that must cross", "{}"),
    ]
    for slug in after_atlas.slugs:
        old, new = figures(before_atlas, slug), figures(after_atlas, slug)
        print(f"{slug}: {old['corridors']} → {new['corridors']}")
        for key, label, fmt in keys:
            mark = "" if old[key] == new[key] else "   *"
            print(f"    {label:26} {fmt.format(old[key]):>9} → {fmt.format(new[key]):>9}{mark}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    atlas = build_atlas(PROJECT_ROOT / "data")
    print_timings(atlas, args.runs)
    print_best_sites(atlas)
    print_before_after(rail_only_atlas(), atlas)


if __name__ == "__main__":
    main()
