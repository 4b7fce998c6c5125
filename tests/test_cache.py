"""The versioned cache: one computation per key and version, even under threads."""

from __future__ import annotations

import threading
import time

from geoapp.cache import VersionedCache


def test_a_value_is_served_until_its_version_moves_on():
    cache = VersionedCache()
    calls = []

    def compute(value):
        return lambda: calls.append(value) or value

    assert cache.get("a", 1, compute("a1")) == "a1"
    assert cache.get("a", 1, compute("ignored")) == "a1"
    assert cache.get("b", 1, compute("b1")) == "b1"
    assert cache.get("a", 2, compute("a2")) == "a2"
    assert calls == ["a1", "b1", "a2"]


def test_concurrent_requests_for_one_key_compute_it_once():
    cache = VersionedCache()
    calls = []

    def slow():
        calls.append(1)
        time.sleep(0.05)
        return "done"

    results = []
    threads = [
        threading.Thread(target=lambda: results.append(cache.get("k", 7, slow))) for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == ["done"] * 8 and len(calls) == 1
