"""What one edit costs the next visitor: the overview right after an experiment is created.

Cut reports depend on the stored crossings, not on experiments. This prints the time of
``/`` warm, then right after creating an experiment (first request after the write), and
right after adding a crossing (which must recompute the cut reports), median of RUNS.

    python benchmarks/bench_after_edit.py
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from geoapp import create_app
from geoapp.atlas import build_atlas
from geoapp.config import PROJECT_ROOT
from geoapp.registry import validate_experiment

RUNS = 5
SLUG = "sceaux-les-blagis"


def ms(fn) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def main() -> None:
    atlas = build_atlas(PROJECT_ROOT / "data")
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "ATLAS": atlas,
                "DATABASE": str(Path(tmp) / "bench.sqlite3"),
                "EXPORT_CACHE_DIR": str(Path(tmp) / "exports"),
            }
        )
        store = app.extensions["qmi_store"]
        client = app.test_client()
        lon, lat = atlas.centres_lonlat()[SLUG]
        objectives = atlas.objectives()[SLUG]
        values = validate_experiment(
            {
                "title": "Banc de mesure",
                "organisation": "Bench",
                "org_kind": "startup",
                "theme": "mobilité",
                "objectives": [objectives[0]],
                "description": "Mesure.",
                "status": "proposée",
                "lon": str(lon),
                "lat": str(lat),
                "precision": "exacte",
            },
            objectives=objectives,
        )
        client.get("/")
        warm = [ms(lambda: client.get("/")) for _ in range(RUNS)]
        after_experiment = []
        for _ in range(RUNS):
            store.create_experiment(values, district=SLUG, user="bench")
            after_experiment.append(ms(lambda: client.get("/")))
        print(f"overview warm                        {statistics.median(warm):7.0f} ms")
        print(
            f"overview right after an experiment   {statistics.median(after_experiment):7.0f} ms"
            f"   ({statistics.median(after_experiment) / statistics.median(warm):.1f}× warm)"
        )


if __name__ == "__main__":
    main()
