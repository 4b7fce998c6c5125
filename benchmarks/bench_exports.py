"""Time of every export format, for one district and for the whole programme.

Cold builds: the cache is disabled, so each figure is the full cost a user waits for on
a first download (the atlas and the experiments are loaded once, beforehand, and one
untimed export imports matplotlib and warms its font cache, as in a running app). Median
of a few runs, in milliseconds, with the size of the programme's file. A format with a
time budget (a district's slide PNG: 2 s, what a user accepts to wait for a download) says
whether the district's median keeps to it; the script exits 1 when one does not.

    python benchmarks/bench_exports.py [--runs 3] [--quartier sceaux-les-blagis]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from geoapp import create_app
from geoapp.exports import BATCH, ExportCache, make_export

# (format, options) -> the most a district's export may take, in milliseconds.
BUDGET_MS = {("png", (("size", "diapo"),)): 2000.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quartier", default="sceaux-les-blagis")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "DATABASE": str(Path(tmp) / "bench.sqlite3"),
                "SECRET_KEY": "bench",
                "EXPORT_CACHE_DIR": None,
            }
        )
        atlas = app.extensions["qmi_atlas"]
        store = app.extensions["qmi_store"]
        no_cache = ExportCache(None)
        make_export(atlas, store, target=args.quartier, fmt="png", cache=no_cache)  # warm-up
        print(
            f"{'format':<18}{args.quartier + ' (ms)':>28}{'programme (ms)':>18}"
            f"{'taille':>12}  budget"
        )
        over = []
        for fmt, options in BATCH:
            cells = []
            for target in (args.quartier, "all"):
                runs, size = [], 0
                for _ in range(args.runs):
                    start = time.perf_counter()
                    made = make_export(
                        atlas, store, target=target, fmt=fmt, cache=no_cache, **options
                    )
                    runs.append((time.perf_counter() - start) * 1000)
                    size = len(made.data)
                cells.append((statistics.median(runs), size))
            label = fmt + "".join(f" {v}" for v in options.values())
            budget = BUDGET_MS.get((fmt, tuple(options.items())))
            verdict = ""
            if budget is not None:
                verdict = f"  ≤ {budget:.0f} ms : " + ("oui" if cells[0][0] <= budget else "NON")
                if cells[0][0] > budget:
                    over.append(label)
            print(
                f"{label:<18}{cells[0][0]:>28.0f}{cells[1][0]:>18.0f}"
                f"{cells[1][1] / 1024:>10.0f} Ko{verdict}"
            )
        if over:
            raise SystemExit(f"budget dépassé : {', '.join(over)}")


if __name__ == "__main__":
    main()
