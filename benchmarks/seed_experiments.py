"""Fill a database with N realistic experiments, through the store, for the benchmarks.

Random points inside the four districts (sampled in each district's box in Lambert-93
and kept where the polygon contains them, vectorised), every theme and status in turn,
40-character titles and 300-character descriptions, the district's own objectives, and
validated like a submitted form. The database is the one the app would open:
``GEOAPP_DATABASE`` (SQLite path or PostgreSQL URL), created and migrated if needed.

    GEOAPP_DATABASE=/tmp/bench.sqlite3 python benchmarks/seed_experiments.py --n 10000
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import shapely
from pyproj import Transformer

from geoapp.analysis import ANALYSIS_CRS
from geoapp.atlas import Atlas
from geoapp.registry import validate_experiment
from geoapp.store import Store
from geoapp.vocabulary import ORG_KINDS, PRECISIONS, STATUSES, THEMES

TITLE_WORDS = "atelier jardin mobilité capteurs énergie îlot fraîcheur passerelle vélo".split()
TEXT = (
    "Expérimentation en conditions réelles menée avec les habitants et les services "
    "de la commune pendant dix-huit mois, évaluée sur l’usage, le coût et la capacité "
    "à être reproduite ailleurs dans la Métropole ; le dispositif est installé sur "
    "l’espace public, suivi chaque mois et ajusté selon les retours des usagers du quartier. "
)
BATCH = 5_000  # rows per store call: one transaction each


def points_inside(polygon, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` uniform random (x, y) Lambert-93 points inside ``polygon``: draw in its box,
    keep the ones it contains, until there are enough (no loop over points)."""
    xmin, ymin, xmax, ymax = polygon.bounds
    found = np.empty((0, 2))
    while len(found) < n:
        xy = rng.uniform((xmin, ymin), (xmax, ymax), size=(2 * n + 16, 2))
        found = np.vstack([found, xy[shapely.contains_xy(polygon, xy[:, 0], xy[:, 1])]])
    return found[:n]


def fixed_width(text: str, width: int) -> str:
    return (text * (width // max(len(text), 1) + 1))[:width]


def rows_for(atlas: Atlas, n: int, rng: np.random.Generator) -> list[dict]:
    """``n`` validated experiment rows spread evenly over the districts."""
    to_lonlat = Transformer.from_crs(ANALYSIS_CRS, "EPSG:4326", always_xy=True)
    slugs = list(atlas.slugs)
    counts = np.bincount(np.arange(n) % len(slugs), minlength=len(slugs))
    rows = []
    for slug, count in zip(slugs, counts, strict=True):
        district = atlas.district(slug)
        xy = points_inside(district.geometry, int(count), rng)
        lons, lats = to_lonlat.transform(xy[:, 0], xy[:, 1])
        objectives = list(district["objectifs"])
        for i, (lon, lat) in enumerate(zip(lons, lats, strict=True)):
            words = " ".join(rng.choice(TITLE_WORDS, 6))
            form = {
                "title": fixed_width(f"{words.capitalize()} n° {len(rows) + 1} ", 40).strip(),
                "organisation": f"Structure {i % 97}",
                "org_kind": ORG_KINDS[i % len(ORG_KINDS)],
                "theme": THEMES[i % len(THEMES)],
                "objectives": [objectives[i % len(objectives)]],
                "description": fixed_width(TEXT, 300),
                "status": STATUSES[(i // len(THEMES)) % len(STATUSES)],
                "start_date": "2024-03-01",
                "end_date": "2025-09-30",
                "lon": f"{lon:.6f}",
                "lat": f"{lat:.6f}",
                "precision": PRECISIONS[i % len(PRECISIONS)],
            }
            rows.append({**validate_experiment(form, objectives=objectives), "district": slug})
    return rows


def seed(store: Store, atlas: Atlas, n: int, *, random_seed: int = 0) -> int:
    """Add ``n`` experiments to ``store`` (in batches, history action "import")."""
    rows = rows_for(atlas, n, np.random.default_rng(random_seed))
    for start in range(0, len(rows), BATCH):
        store.import_experiments(rows[start : start + BATCH], user="benchmark")
    return len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, required=True, help="experiments to add")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    args = parser.parse_args()
    from geoapp import create_app

    app = create_app()  # GEOAPP_DATABASE, GEOAPP_DATA_DIR… as the app reads them
    started = time.perf_counter()
    added = seed(
        app.extensions["qmi_store"], app.extensions["qmi_atlas"], args.n, random_seed=args.seed
    )
    print(f"{added} expérimentations ajoutées en {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
