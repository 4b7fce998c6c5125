"""Hand-made experiments for the export tests, placed inside the real districts."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pyproj
import pytest
import shapely

from geoapp.analysis import ANALYSIS_CRS, DISPLAY_CRS
from geoapp.exports.scene import make_scene
from geoapp.layers import experiments_frame
from geoapp.shapes import anchor_of
from geoapp.vocabulary import STATUSES, THEMES

TODAY = date(2025, 3, 1)
_TO_WGS84 = pyproj.Transformer.from_crs(ANALYSIS_CRS, DISPLAY_CRS, always_xy=True)


def experiment_row(atlas, slug: str, number: int, **overrides) -> dict:
    """A valid registry row for district ``slug``, at its centre (WGS84) unless moved."""
    lon, lat = atlas.centres_lonlat()[slug]
    row = {
        "id": number,
        "district": slug,
        "title": f"Expérimentation {number}",
        "organisation": "Association des habitants",
        "org_kind": "association",
        "theme": "mobilité",
        "objectives": [atlas.objectives()[slug][0]],
        "description": "Un test grandeur nature de 18 mois.",
        "status": "déployée",
        "start_date": "2024-03-01",
        "end_date": "2025-09-30",
        "lon": lon,
        "lat": lat,
        "precision": "exacte",
        "location_note": None,
        "evaluation_outcome": None,
        "evaluation_scale_up": None,
        "source": None,
    }
    return {**row, **overrides}


@pytest.fixture(scope="session")
def rows(atlas):
    """Two experiments in Sceaux (one right on the other), one in Aulnay."""
    return [
        experiment_row(
            atlas,
            "sceaux-les-blagis",
            1,
            title="Îlot de fraîcheur",
            theme="nature en ville et îlots de fraîcheur",
            status="sélectionnée",
        ),
        experiment_row(atlas, "sceaux-les-blagis", 2, title="Vélos partagés"),
        experiment_row(
            atlas,
            "aulnay-centre-gare",
            3,
            title="Marché nocturne",
            theme="commerce et attractivité",
            status="proposée",
            start_date=None,
            end_date=None,
        ),
    ]


@pytest.fixture(scope="session")
def experiments(rows):
    return experiments_frame(rows)


@pytest.fixture(scope="session")
def no_experiments():
    return experiments_frame([])


@pytest.fixture(scope="session")
def scene_of(atlas, experiments):
    def make(target: str, frame=None, **filters):
        frame = experiments if frame is None else frame
        return make_scene(atlas, frame, target, today=TODAY, **filters)

    return make


def rows_inside(atlas, slug: str, count: int, *, seed: int = 0, start: int = 1) -> list[dict]:
    """``count`` registry rows at random points inside district ``slug``, every theme and
    status in turn, numbered from ``start``."""
    rng = np.random.default_rng(seed)
    area = atlas.districts.set_index("slug").geometry[slug]
    x0, y0, x1, y1 = area.bounds
    xy = np.empty((0, 2))
    while len(xy) < count:
        candidates = rng.uniform((x0, y0), (x1, y1), size=(4 * count, 2))
        xy = np.vstack([xy, candidates[shapely.contains_xy(area, *candidates.T)]])
    lon, lat = _TO_WGS84.transform(xy[:count, 0], xy[:count, 1])
    return [
        experiment_row(
            atlas,
            slug,
            start + i,
            title=f"Site {start + i:05d}",
            theme=THEMES[i % len(THEMES)],
            status=STATUSES[(i // len(THEMES)) % len(STATUSES)],
            start_date=f"20{10 + i % 15:02d}-01-01",
            end_date=None,
            lon=float(lon[i]),
            lat=float(lat[i]),
        )
        for i in range(count)
    ]


# A ~420 m path and a ~0.5 ha square in Les Blagis (WGS84, 6 decimals, as stored).
IN_SCEAUX = (2.3031, 48.7828)


def _near(dx: float, dy: float) -> list[float]:
    return [round(IN_SCEAUX[0] + dx, 6), round(IN_SCEAUX[1] + dy, 6)]


PATH = {
    "type": "LineString",
    "coordinates": [_near(-0.0028, -0.0004), _near(0.0, 0.0), _near(0.0028, 0.0002)],
}
SQUARE = {
    "type": "Polygon",
    "coordinates": [
        [
            _near(-0.0005, -0.0016),
            _near(0.0005, -0.0016),
            _near(0.0005, -0.001),
            _near(-0.0005, -0.001),
            _near(-0.0005, -0.0016),
        ]
    ],
}


def shaped_row(atlas, number: int, shape: dict, **overrides) -> dict:
    """A registry row of Les Blagis whose place is ``shape``, lon/lat at its anchor."""
    lon, lat = anchor_of(shapely.from_geojson(json.dumps(shape)))
    return experiment_row(
        atlas, "sceaux-les-blagis", number, lon=lon, lat=lat, shape=shape, **overrides
    )


@pytest.fixture(scope="session")
def shaped_rows(atlas, rows):
    """The three point rows, a path (« tracé ») and an area (« zone ») in Sceaux."""
    return [
        *rows,
        shaped_row(atlas, 4, PATH, title="Parcours des écoles", theme="mobilité"),
        shaped_row(
            atlas,
            5,
            SQUARE,
            title="Placette renaturée",
            theme="nature en ville et îlots de fraîcheur",
            status="proposée",
        ),
    ]


@pytest.fixture(scope="session")
def shaped_scene(atlas, shaped_rows):
    return make_scene(atlas, experiments_frame(shaped_rows), "sceaux-les-blagis", today=TODAY)
