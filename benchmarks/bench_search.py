"""What the map search costs, from 3 to 100 000 experiments.

Run ``python benchmarks/bench_search.py [--sizes 3,10000,100000]``. For each size, a fresh
SQLite database is seeded through the store (`benchmarks/seed_experiments.py`), and the
script prints:

* the index's server time (``GET /api/recherche.json``), cold after a data change and
  warm, and its bytes as served (brotli) and raw;
* in the same run, the bytes of the map's own experiments payload
  (``/api/carte/experimentations``, brotli), which every map page already fetches: the
  ratio says what search adds to a page's traffic, once, on first use of the box;
* in headless Chromium (Debian's, ``GEOAPP_CHROMIUM``), the time from the first focus of
  the box until the index is fetched and prepared, and the median time of one search as
  typed (a district, a commune, an experiment's title), which runs on every keystroke.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

from werkzeug.serving import make_server

from benchmarks.seed_experiments import seed
from geoapp import create_app

CHROMIUM = os.environ.get("GEOAPP_CHROMIUM", "/usr/bin/chromium")
QUERIES = ("blagis", "aulnay", "jardin fraich")
BR = {"Accept-Encoding": "br"}


def app_with(n: int, folder: Path):
    app = create_app(
        {
            "DATABASE": str(folder / "bench.sqlite3"),
            "SECRET_KEY": "bench",
            "EXPORT_CACHE_DIR": str(folder / "exports"),
            "TILES": False,
        }
    )
    if n:
        seed(app.extensions["qmi_store"], app.extensions["qmi_atlas"], n)
    return app


def server_figures(app) -> dict:
    """Cold and warm index times (ms) and bytes, and the map payload's bytes."""
    client = app.test_client()
    start = time.perf_counter()
    cold = client.get("/api/recherche.json", headers=BR)
    cold_ms = (time.perf_counter() - start) * 1000
    warm = []
    for _ in range(5):
        start = time.perf_counter()
        client.get("/api/recherche.json", headers=BR)
        warm.append((time.perf_counter() - start) * 1000)
    raw = client.get("/api/recherche.json")
    points = client.get("/api/carte/experimentations", headers=BR)
    return {
        "cold_ms": cold_ms,
        "warm_ms": statistics.median(warm),
        "br_bytes": len(cold.data),
        "raw_bytes": len(raw.data),
        "map_br_bytes": len(points.data),
    }


def browser_figures(app) -> dict:
    """Index fetch + preparation and per-search times in Chromium (ms)."""
    from playwright.sync_api import sync_playwright

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{server.server_port}/")
            page.wait_for_function("() => window.QMI && QMI.map && QMI.search")
            load_ms = page.evaluate(
                "async () => { const t = performance.now(); await QMI.search.load();"
                " return performance.now() - t; }"
            )
            search_ms = page.evaluate(
                """(queries) => queries.map(q => { const runs = [];
                     for (let i = 0; i < 7; i++) { const t = performance.now();
                       QMI.search.search(q); runs.push(performance.now() - t); }
                     runs.sort((a, b) => a - b); return runs[3]; })""",
                list(QUERIES),
            )
            browser.close()
    finally:
        server.shutdown()
    return {"load_ms": load_ms, "search_ms": dict(zip(QUERIES, search_ms, strict=True))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="3,1000,10000,100000")
    sizes = [int(s) for s in parser.parse_args().sizes.split(",")]
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    print(
        "| experiments | index cold | warm | bytes (br) | raw | map payload (br) | index ÷ map"
        " | Chromium: fetch + prepare | one search (" + " / ".join(QUERIES) + ") |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            # The app seeds the 3 documented experiments into an empty database first.
            app = app_with(max(n - 3, 0), Path(tmp))
            s = server_figures(app)
            b = browser_figures(app)
            searches = " / ".join(f"{b['search_ms'][q]:.1f}" for q in QUERIES)
            print(
                f"| {n:,} | {s['cold_ms']:.0f} ms | {s['warm_ms']:.1f} ms"
                f" | {s['br_bytes'] / 1e3:,.0f} kB | {s['raw_bytes'] / 1e3:,.0f} kB"
                f" | {s['map_br_bytes'] / 1e3:,.0f} kB | {s['br_bytes'] / s['map_br_bytes']:.2f}×"
                f" | {b['load_ms']:.0f} ms | {searches} ms |",
                flush=True,
            )


if __name__ == "__main__":
    main()
