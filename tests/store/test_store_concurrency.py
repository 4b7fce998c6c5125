"""Two app processes (two `Store` objects, separate engines) on one database."""

import threading

from geoapp.errors import ConflictError
from geoapp.store import Store

AULNAY = "aulnay-centre-gare"


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
