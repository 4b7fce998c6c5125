"""Fixtures for the storage tests: a fresh database per test, of each backend (SQLite,
PostgreSQL: see tests/conftest.py), and a hand-moved clock. Tests about SQLite itself
(files, PRAGMAs, pre-Alembic databases) use ``db_path`` and ``sqlite_store`` instead."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from geoapp.config import PROJECT_ROOT
from geoapp.registry import validate_experiment
from geoapp.store import Store

AULNAY = "aulnay-centre-gare"
AULNAY_OBJECTIVES = [
    "Renforcer l’attractivité du quartier en tant que centralité économique et résidentielle.",
    "Améliorer la qualité des espaces publics : créer des lieux de rencontre, de détente et de "
    "destination.",
    "Réduire les coupures urbaines entre le nord et le sud de la gare.",
    "Encourager les mobilités actives (marche, vélo) et améliorer l’intermodalité.",
    "Valoriser le patrimoine et les commerces tout en intégrant des usages festifs et culturels",
]


# EcoFlow, the seed's Noisy-le-Grand experiment, needs that district's anchor and objectives.
NOISY = "noisy-mont-d-est"
NOISY_CENTRE = (2.5517, 48.8405)  # stands in for the centre the app computes


def noisy_objectives() -> list[str]:
    """Le Mont d’Est's objectives, as data/quartiers.json lists them."""
    facts = json.loads((PROJECT_ROOT / "data" / "quartiers.json").read_text(encoding="utf-8"))
    return next(q["objectifs"] for q in facts["quartiers"] if q["slug"] == NOISY)


class Clock:
    """A clock the test moves by hand (the one thing these tests fake)."""

    def __init__(self) -> None:
        self.current = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def db_path(tmp_path):
    """A SQLite file path (not created yet), for the SQLite-only tests."""
    return tmp_path / "instance" / "geoapp.sqlite3"


@pytest.fixture
def database(new_database) -> str:
    """A fresh, empty database of the test's backend: a SQLite path or a PostgreSQL URL
    (no table yet: the store's first start migrates it, as on a new server)."""
    return new_database(migrated=False)


@pytest.fixture
def store(database, clock) -> Store:
    return Store(database, now=clock)


@pytest.fixture
def sqlite_store(db_path, clock) -> Store:
    """A store on the SQLite file ``db_path``, for tests about SQLite itself."""
    return Store(db_path, now=clock)


@pytest.fixture
def objectives() -> list[str]:
    """Aulnay Centre Gare's objectives, verbatim from the programme page."""
    return list(AULNAY_OBJECTIVES)


@pytest.fixture
def make_values():
    """Build valid experiment values through the real validator, like a submitted form."""
    return _experiment_values


def _experiment_values(**overrides):
    form = {
        "title": "Bancs ombragés",
        "organisation": "Association Test",
        "org_kind": "association",
        "theme": "espaces publics",
        "objectives": [AULNAY_OBJECTIVES[1]],
        "description": "Des bancs sous pergola végétalisée.",
        "status": "sélectionnée",
        "start_date": "2024-04-01",
        "end_date": "2024-10-31",
        "lon": "2.4953",
        "lat": "48.9381",
        "precision": "exacte",
        **overrides,
    }
    return validate_experiment(form, objectives=AULNAY_OBJECTIVES)
