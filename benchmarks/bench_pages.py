"""Build time and weight of the main pages.

Prints the time to build the atlas (start-up), the time to render ``/`` and a district
page (median of several requests), and the page weight: the HTML plus every local JS/CSS
file it loads (what a browser downloads with no tile server).

    python benchmarks/bench_pages.py
"""

from __future__ import annotations

import re
import statistics
import tempfile
import time
from pathlib import Path

from geoapp import create_app
from geoapp.atlas import build_atlas
from geoapp.config import PROJECT_ROOT

RUNS = 7


def timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return (time.perf_counter() - start) * 1000, result


def page_weight(client, html: str) -> tuple[int, int]:
    """(HTML bytes, HTML + local assets bytes)."""
    assets = set(re.findall(r'(?:src|href)="(/vendor/[^"]+)"', html))
    total = len(html.encode())
    for url in assets:
        with client.get(url) as response:
            total += len(response.data)
    return len(html.encode()), total


def main() -> None:
    build_ms, atlas = timed(lambda: build_atlas(PROJECT_ROOT / "data"))
    print(f"atlas build (start-up): {build_ms:8.0f} ms")
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"ATLAS": atlas, "DATABASE": str(Path(tmp) / "bench.sqlite3")})
        client = app.test_client()
        for url in ("/", "/quartiers/aulnay-centre-gare", "/experimentations"):
            times = [timed(lambda u=url: client.get(u))[0] for _ in range(RUNS)]
            html = client.get(url).get_data(as_text=True)
            html_bytes, total = page_weight(client, html)
            print(
                f"{url:32s} render median {statistics.median(times):7.0f} ms   "
                f"HTML {html_bytes / 1024:7.0f} KiB   with JS/CSS {total / 1024:7.0f} KiB"
            )


if __name__ == "__main__":
    main()
