"""Two app processes (two `Store` objects, separate engines) on one database."""

import subprocess
import sys
import threading

from geoapp.config import PROJECT_ROOT
from geoapp.errors import ConflictError
from geoapp.store import Store
from tests.store.conftest import NOISY, NOISY_CENTRE, noisy_objectives

AULNAY = "aulnay-centre-gare"
SEED = PROJECT_ROOT / "data" / "experiments_seed.json"


def run_together(*calls):
    """Start ``calls`` on threads released at the same instant; return results or errors."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def worker(index, call):
        barrier.wait()
        try:
            results[index] = call()
        except Exception as error:  # collected, so the test sees it, not a thread warning
            results[index] = error

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_two_stores_see_each_others_writes(database, make_values):
    first, second = Store(database), Store(database)
    created = first.create_experiment(make_values(), district=AULNAY, user="ana")
    assert second.get_experiment(created["id"]) == created
    second.update_experiment(created["id"], make_values(title="Vu"), expected_version=1, user="b")
    assert first.get_experiment(created["id"])["title"] == "Vu"
    assert first.data_version() == second.data_version() == 2


def test_simultaneous_saves_of_one_version_one_wins(database, make_values):
    first, second = Store(database), Store(database)
    first.create_experiment(make_values(), district=AULNAY, user="ana")
    results = run_together(
        lambda: first.update_experiment(1, make_values(title="A"), expected_version=1, user="a"),
        lambda: second.update_experiment(1, make_values(title="B"), expected_version=1, user="b"),
    )
    winners = [r for r in results if isinstance(r, dict)]
    losers = [r for r in results if isinstance(r, ConflictError)]
    assert len(winners) == 1 and len(losers) == 1, results
    assert losers[0].status == 409
    stored = first.get_experiment(1)
    assert stored == winners[0] and stored["version"] == 2
    assert [h["action"] for h in first.history(1)] == ["création", "modification"]


def test_concurrent_creations_all_land(database, make_values):
    stores = [Store(database) for _ in range(4)]
    calls = [
        lambda s=s, n=n: s.create_experiment(
            make_values(title=f"E{n}"), district=AULNAY, user=f"u{n}"
        )
        for n, s in enumerate(stores * 2)
    ]
    results = run_together(*calls)
    assert all(isinstance(r, dict) for r in results), results
    assert sorted(r["id"] for r in results) == list(range(1, 9))
    assert stores[0].data_version() == 8


# A script each writing process runs: N experiments through its own Store.
_WRITER = """
import sys
from geoapp.store import Store
from tests.store.conftest import _experiment_values

store = Store(sys.argv[1])
for n in range(int(sys.argv[2])):
    store.create_experiment(_experiment_values(title=f"P{n}"), district=sys.argv[3], user="p")
"""


def test_version_counters_stay_exact_under_writers_in_several_processes(database):
    """Each write bumps the counters inside its own transaction: however the processes
    interleave, the counters end at the number of writes."""
    Store(database)  # migrated before the writers start
    writers = [
        subprocess.Popen([sys.executable, "-c", _WRITER, database, "6", AULNAY], cwd=PROJECT_ROOT)
        for _ in range(3)
    ]
    assert [w.wait(timeout=120) for w in writers] == [0, 0, 0]
    store = Store(database)
    assert len(store.list_experiments()) == 18
    assert store.data_version() == store.data_version("experiments") == 18
    assert store.data_version("crossings") == 0


def test_two_processes_seeding_together_seed_once(database, objectives):
    stores = [Store(database) for _ in range(3)]
    results = run_together(
        *(
            lambda s=s: s.seed_if_empty(
                SEED,
                anchors={AULNAY: (2.495, 48.938), NOISY: NOISY_CENTRE},
                objectives={AULNAY: objectives, NOISY: noisy_objectives()},
            )
            for s in stores
        )
    )
    assert sorted(results) == [0, 0, 4], results  # Aulnay's three and EcoFlow
    assert len(stores[0].list_experiments()) == 4
