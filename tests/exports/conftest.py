"""Hand-made experiments for the export tests, placed inside the real districts."""

from __future__ import annotations

from datetime import date

import pytest

from geoapp.exports.scene import make_scene
from geoapp.layers import experiments_frame

TODAY = date(2025, 3, 1)


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
