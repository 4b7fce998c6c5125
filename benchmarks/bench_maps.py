"""The map pages at 3, 1 000, 10 000 and 100 000 experiments, against what a user would
build instead with the same data: ``GeoDataFrame.explore()`` and folium's
``MarkerCluster``, in the same run.

For each size, on a fresh SQLite database filled by ``seed_experiments.py``:

* server time of the overview and of a district page, HTML plus the experiments' data
  request (what a page load asks of the server), *cold* (just after a data change, so
  every cache is stale) and *warm* (median of 5);
* bytes on the wire, HTML + data, as served to a browser accepting brotli/gzip;
* Chromium (network blocked) time from navigation until every experiment is drawn;
* the placement check's p95 (200 random points) and a registry page (median of 5);
* ``explore()`` and ``MarkerCluster``: time to build their HTML, its size and its gzip'd
  size, and the ratios (theirs / ours);
* the process's peak RSS (the app runs in this process).

    python -m benchmarks.bench_maps [--sizes 3,1000,10000,100000] [--explore-up-to 10000]

Targets (issue 10): at 10 000, warm overview ≥ 10× faster than explore(), bytes ≤ 0.3×
explore()'s gzip'd HTML, drawn < 1.5 s; at 100 000, drawn < 4 s, RSS < 1.5 GB,
placement p95 < 30 ms, registry page < 150 ms.
"""

from __future__ import annotations

import argparse
import gzip
import html
import re
import resource
import statistics
import tempfile
import time
from pathlib import Path

import folium
import folium.plugins
import numpy as np
from pyproj import Transformer

from benchmarks.seed_experiments import points_inside, seed
from geoapp import create_app
from geoapp.atlas import build_atlas
from geoapp.config import PROJECT_ROOT
from geoapp.layers import experiments_frame
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, served  # the browser tests' Chromium

DISTRICT = "sceaux-les-blagis"
BROWSER_HEADERS = {"Accept-Encoding": "br, gzip"}
TO_LONLAT = Transformer.from_crs("EPSG:2154", "EPSG:4326", always_xy=True)


def ms(fn) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return (time.perf_counter() - start) * 1000, result


def page_load(client, url: str) -> tuple[float, int]:
    """Server time (ms) and bytes on the wire of ``url`` plus its experiments' data."""
    t_page, page = ms(lambda: client.get(url, headers=BROWSER_HEADERS))
    text = client.get(url).get_data(as_text=True)
    data_url = html.unescape(re.search(r'data-experiments="([^"]*)"', text).group(1))
    t_data, data = ms(lambda: client.get(data_url, headers=BROWSER_HEADERS))
    return t_page + t_data, len(page.data) + len(data.data)


def touch(store, atlas) -> None:
    """A data change: one more experiment, so every cache keyed on the version is stale."""
    seed(store, atlas, 1, random_seed=int(time.time()))


def server_figures(client, store, atlas, url: str) -> dict:
    page_load(client, url)  # what start-up and a first visit build once (cut reports…)
    touch(store, atlas)
    cold, wire = page_load(client, url)
    warm = statistics.median(page_load(client, url)[0] for _ in range(5))
    return {"cold": cold, "warm": warm, "bytes": wire}


def drawn_ms(base: str, path: str, browser) -> float:
    """Chromium: ms from navigation until the map reports every experiment drawn."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.route(
        "**/*",
        lambda r: r.continue_() if r.request.url.startswith(base) else r.abort(),
    )
    page.goto(base + path)
    page.wait_for_function("() => window.QMI && QMI.loaded", timeout=120_000)
    value = page.evaluate("QMI.drawnAt")
    context.close()
    return float(value)


def placement_p95(client, atlas, rng) -> float:
    """p95 ms of the placement check at 200 random points of the district."""
    xy = points_inside(atlas.district(DISTRICT).geometry, 200, rng)
    lons, lats = TO_LONLAT.transform(xy[:, 0], xy[:, 1])
    times = [
        ms(
            lambda lo=lo, la=la: client.get(f"/api/placement?quartier={DISTRICT}&lon={lo}&lat={la}")
        )[0]
        for lo, la in zip(lons, lats, strict=True)
    ]
    return float(np.percentile(times, 95))


def alternatives(store) -> dict:
    """explore() and MarkerCluster of every stored experiment: build ms, bytes, gzip'd."""
    gdf = experiments_frame(store.list_experiments()).to_crs("EPSG:4326")
    out = {}
    t, page = ms(lambda: gdf.explore().get_root().render().encode())
    out["explore"] = {"ms": t, "bytes": len(page), "gzip": len(gzip.compress(page))}

    def cluster() -> bytes:
        m = folium.Map(location=[48.85, 2.35], zoom_start=11)
        locations = list(zip(gdf.geometry.y, gdf.geometry.x, strict=True))
        folium.plugins.MarkerCluster(locations, popups=list(gdf["title"])).add_to(m)
        return m.get_root().render().encode()

    t, page = ms(cluster)
    out["cluster"] = {"ms": t, "bytes": len(page), "gzip": len(gzip.compress(page))}
    return out


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(n: int, atlas, browser, explore_up_to: int, rng) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {"DATABASE": str(Path(tmp) / "maps.sqlite3"), "SECRET_KEY": "bench", "ATLAS": atlas}
        )
        store = app.extensions["qmi_store"]
        extra = max(n - store.count_experiments(), 0)
        seed_ms, _ = ms(lambda: seed(store, atlas, extra) if extra else 0)
        client = app.test_client()
        row = {"n": store.count_experiments(), "seed_s": seed_ms / 1000}
        row["overview"] = server_figures(client, store, atlas, "/")
        row["district"] = server_figures(client, store, atlas, f"/quartiers/{DISTRICT}")
        for url in ("/", f"/quartiers/{DISTRICT}"):  # the browser times drawing, not a rebuild
            page_load(client, url)
        with served(app) as base:
            row["drawn_overview"] = drawn_ms(base, "/", browser)
            row["drawn_district"] = drawn_ms(base, f"/quartiers/{DISTRICT}", browser)
        row["placement_p95"] = placement_p95(client, atlas, rng)
        row["registry"] = statistics.median(
            ms(lambda: client.get("/experimentations"))[0] for _ in range(5)
        )
        row["alternatives"] = alternatives(store) if n <= explore_up_to else None
        row["rss_mb"] = rss_mb()
        store.close()
    return row


def report(rows: list[dict]) -> None:
    print("\n## Pages (server ms, cold after a change / warm; bytes on the wire, compressed)\n")
    print(
        "| N | overview cold | overview warm | district cold | district warm "
        "| overview bytes | district bytes | drawn overview | drawn district |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        o, d = r["overview"], r["district"]
        print(
            f"| {r['n']} | {o['cold']:.0f} | {o['warm']:.0f} | {d['cold']:.0f} | {d['warm']:.0f} "
            f"| {o['bytes'] / 1024:.0f} KiB | {d['bytes'] / 1024:.0f} KiB "
            f"| {r['drawn_overview']:.0f} ms | {r['drawn_district']:.0f} ms |"
        )
    print("\n## Against explore() and MarkerCluster (same data, same run)\n")
    print(
        "| N | explore() ms | its HTML | its gzip | MarkerCluster ms | its gzip "
        "| warm overview: explore()/ours | bytes: ours/explore() gzip |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        a = r["alternatives"]
        if a is None:
            print(f"| {r['n']} | not run (beyond --explore-up-to) | | | | | | |")
            continue
        e, c = a["explore"], a["cluster"]
        print(
            f"| {r['n']} | {e['ms']:.0f} | {e['bytes'] / 1e6:.1f} MB | {e['gzip'] / 1e6:.2f} MB "
            f"| {c['ms']:.0f} | {c['gzip'] / 1e6:.2f} MB "
            f"| {e['ms'] / r['overview']['warm']:.1f}× "
            f"| {r['overview']['bytes'] / e['gzip']:.2f}× |"
        )
    print("\n## Other figures\n")
    print("| N | placement p95 | registry page | peak RSS | seeding |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['n']} | {r['placement_p95']:.1f} ms | {r['registry']:.0f} ms "
            f"| {r['rss_mb']:.0f} MB | {r['seed_s']:.1f} s |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="3,1000,10000,100000")
    parser.add_argument("--explore-up-to", type=int, default=10_000)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    atlas = build_atlas(PROJECT_ROOT / "data")
    rng = np.random.default_rng(0)
    rows = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for n in (int(s) for s in args.sizes.split(",")):
            rows.append(measure(n, atlas, browser, args.explore_up_to, rng))
            print(f"N = {rows[-1]['n']} measuré", flush=True)
        browser.close()
    report(rows)


if __name__ == "__main__":
    main()
