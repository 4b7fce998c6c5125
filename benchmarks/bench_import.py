"""Import preview of 5 000 rows (CSV and .xlsx) and the registry page at 100 000 experiments.

Prints, for a French Excel file of 5 000 experiments spread over the four districts
(Windows-1252 CSV with jj/mm/aaaa dates and decimal commas; the same as .xlsx):

* the preview (read + interpret + validate + match + placement, nothing written) against
  what a user would otherwise run, ``pandas.read_csv`` of the same file (parsing only:
  no validation, no placement, no matching);
* applying it (one transaction), then the preview of the same file again (all
  « inchangée »);
* with 100 000 experiments stored: the registry page (first page, a deep sorted page,
  the GeoJSON API page) against reading every experiment as the page did before.

The budgets of issue 12 are 5 s for the preview and 150 ms for the registry page; the
script exits 1 when either is exceeded.

    python benchmarks/bench_import.py
"""

from __future__ import annotations

import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests/ logs clients in as the test suite does

from geoapp import create_app  # noqa: E402
from geoapp.analysis import DISPLAY_CRS  # noqa: E402
from geoapp.atlas import build_atlas  # noqa: E402
from geoapp.imports import apply_plan, preview_file  # noqa: E402
from geoapp.registry import validate_experiment  # noqa: E402
from geoapp.vocabulary import COLUMN_HEADERS  # noqa: E402
from tests.conftest import client_as  # noqa: E402

ROWS = 5_000
REGISTRY_SIZE = 100_000
PREVIEW_BUDGET_S = 5.0
PAGE_BUDGET_MS = 150.0
PAGE_RUNS = 15
ADMIN = {"username": "bench", "role": "administrateur", "commune": None}
# The columns a planner fills, with the export's French headers.
FIELDS = (
    "district title organisation org_kind theme objectives description status start_date "
    "end_date lon lat precision"
).split()
HEADERS = [COLUMN_HEADERS[f] for f in FIELDS]


def timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def french_rows(atlas, count: int, *, seed: int = 12) -> list[list]:
    """``count`` experiments as a planner types them, at random spots inside the districts."""
    rng = np.random.default_rng(seed)
    districts = atlas.districts
    per = -(-count // len(districts))
    points = gpd.GeoSeries(districts.geometry.buffer(-20), crs=districts.crs)
    spots = points.sample_points(per, rng=rng).explode(index_parts=False).to_crs(DISPLAY_CRS)
    rows = []
    for (_, district), group in zip(districts.iterrows(), _chunks(spots, per), strict=False):
        for n, point in enumerate(group):
            day = 1 + n % 28
            rows.append(
                [
                    district["commune"],
                    f"Expérimentation {district['code_insee']}-{n:05d}",
                    f"Structure {n % 97}",
                    ("Startup", "association", "ENTREPRISE")[n % 3],
                    "Espaces publics",
                    f"{1 + n % 4} | {1 + (n + 1) % 4}",
                    "Une description de l’expérimentation ; assez longue pour être réaliste.",
                    ("Proposée", "déployée", "Terminee")[n % 3],
                    f"{day:02d}/03/2024",
                    f"{day:02d}/09/2024",
                    f"{point.x:.6f}".replace(".", ","),
                    f"{point.y:.6f}".replace(".", ","),
                    "exacte",
                ]
            )
    return rows[:count]


def _chunks(series: gpd.GeoSeries, size: int):
    values = list(series)
    return [values[i : i + size] for i in range(0, len(values), size)]


def as_csv(rows: list[list]) -> bytes:
    lines = [HEADERS, *rows]
    text = "\r\n".join(";".join(_quote(c) for c in line) for line in lines)
    return (text + "\r\n").encode("cp1252")


def _quote(cell: str) -> str:
    return f'"{cell}"' if ";" in cell else cell


def as_xlsx(rows: list[list]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADERS)
    for row in rows:
        cells = list(row)
        cells[8], cells[9] = (pd.Timestamp(c[6:] + "-" + c[3:5] + "-" + c[:2]) for c in row[8:10])
        cells[10], cells[11] = (float(c.replace(",", ".")) for c in row[10:12])
        sheet.append(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def bench_preview(app, atlas, store) -> bool:
    rows = french_rows(atlas, ROWS)
    files = {"CSV (Windows-1252)": ("lot.csv", as_csv(rows)), ".xlsx": ("lot.xlsx", as_xlsx(rows))}
    limit = app.config["IMPORT_MAX_ROWS"]
    ok = True
    print(f"Import preview of {ROWS} rows (nothing written):")
    for label, (name, data) in files.items():
        runs = [
            timed(
                lambda d=data, n=name: preview_file(
                    n, d, atlas=atlas, store=store, user=ADMIN, max_rows=limit
                )
            )
            for _ in range(3)
        ]
        seconds = statistics.median(t for t, _ in runs)
        plan = runs[0][1]
        assert plan.ok and plan.counts["création"] == ROWS, plan.summary()
        if name.endswith(".csv"):
            base = statistics.median(
                timed(lambda d=data: pd.read_csv(io.BytesIO(d), sep=";", encoding="cp1252"))[0]
                for _ in range(3)
            )
        else:
            base = statistics.median(
                timed(lambda d=data: pd.read_excel(io.BytesIO(d), engine="openpyxl"))[0]
                for _ in range(3)
            )
        ok &= seconds < PREVIEW_BUDGET_S
        print(
            f"  {label:20s} preview {seconds:6.2f} s ({ROWS / seconds:7.0f} rows/s)   "
            f"pandas read only {base:6.2f} s   ratio ×{seconds / base:5.1f}   "
            f"{len(data) / 1024:6.0f} KiB   budget {PREVIEW_BUDGET_S:.0f} s"
        )
    name, data = files["CSV (Windows-1252)"]
    plan = preview_file(name, data, atlas=atlas, store=store, user=ADMIN, max_rows=limit)
    seconds, _ = timed(lambda: apply_plan(plan, store=store, user="bench"))
    print(f"  apply (one transaction, {ROWS} creates + history)   {seconds:6.2f} s")
    seconds, again = timed(
        lambda: preview_file(name, data, atlas=atlas, store=store, user=ADMIN, max_rows=limit)
    )
    print(f"  same file again: {again.summary()}   {seconds:6.2f} s")
    return ok


def fill_registry(atlas, store, total: int) -> None:
    """Store ``total`` experiments at once (the import's batched insert)."""
    have = len(store.list_experiments(include_withdrawn=True))
    rows = french_rows(atlas, 2_000, seed=7)
    slugs = {d["commune"]: d["slug"] for _, d in atlas.districts.iterrows()}
    objectives = atlas.objectives()
    template = []
    for row in rows:
        slug = slugs[row[0]]
        form = dict(
            zip(["district", "title", "organisation", "org_kind", "theme"], row, strict=False)
        )
        form.update(
            org_kind="startup",
            theme="espaces publics",
            objectives=[objectives[slug][0]],
            description=row[6],
            status="déployée",
            lon=row[10],
            lat=row[11],
            precision="exacte",
        )
        template.append((slug, validate_experiment(form, objectives=objectives[slug])))
    while have < total:
        batch = [
            (slug, {**values, "title": f"{values['title']} #{have + i}"})
            for i, (slug, values) in enumerate(template[: total - have])
        ]
        store.apply_import(batch, [], user="bench")
        have += len(batch)


def bench_registry(app, atlas, store) -> bool:
    fill_registry(atlas, store, REGISTRY_SIZE)
    client = client_as(app, "bench-admin", "administrateur")
    anon = app.test_client()
    print(f"Registry with {REGISTRY_SIZE} experiments (median and best of {PAGE_RUNS}):")
    ok = True
    for label, who, url in (
        ("page 1", anon, "/experimentations"),
        ("page 1, administrator", client, "/experimentations"),
        ("page 500 sorted by title", anon, "/experimentations?tri=titre&page=500"),
        ("page 300, one district", anon, "/experimentations?quartier=sceaux-les-blagis&page=200"),
        ("GeoJSON API page 900", anon, "/api/experimentations.geojson?page=900"),
    ):
        who.get(url)  # the figures are cached per data version: not the cost measured
        times = []
        for _ in range(PAGE_RUNS):
            seconds, response = timed(lambda u=url, c=who: c.get(u))
            assert response.status_code == 200, (url, response.status_code)
            times.append(seconds * 1000)
        median = statistics.median(times)
        if url == "/experimentations":
            ok &= median < PAGE_BUDGET_MS
        print(
            f"  {label:28s} {median:7.1f} ms   best {min(times):7.1f} ms   "
            f"budget {PAGE_BUDGET_MS:.0f} ms"
        )
    seconds, rows = timed(lambda: store.list_experiments(include_withdrawn=True))
    print(f"  before (every row in memory) {seconds * 1000:7.1f} ms just to read {len(rows)} rows")
    return ok


def main() -> int:
    atlas = build_atlas(ROOT / "data")
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"ATLAS": atlas, "DATABASE": str(Path(tmp) / "bench.sqlite3")})
        store = app.extensions["qmi_store"]
        ok = bench_preview(app, atlas, store)
        ok &= bench_registry(app, atlas, store)
        store.close()
    print("OK" if ok else "OVER BUDGET")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
