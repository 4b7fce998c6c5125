"""One small in-process cache: a value per key, valid for one version of what it depends on.

The web layer keeps derived results (cut reports, built maps) that are slow to compute and
depend on one of the store's version counters. A value is served while its version is the
current one and recomputed once when the version moves on; concurrent requests for the
same key wait for the one computation instead of starting their own.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")


class VersionedCache(Generic[T]):
    """Thread-safe ``key -> (version, value)``; only the newest version of a key is kept."""

    def __init__(self) -> None:
        self._entries: dict[Hashable, tuple[Hashable, T]] = {}
        self._locks: dict[Hashable, threading.Lock] = {}
        self._guard = threading.Lock()

    def versions(self) -> dict[Hashable, Hashable]:
        """The version each cached key holds (what a test or a status page can show)."""
        with self._guard:
            return {key: version for key, (version, _) in self._entries.items()}

    def get(self, key: Hashable, version: Hashable, compute: Callable[[], T]) -> T:
        """The value of ``key`` at ``version``, computing it (once) if not cached."""
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            hit = self._entries.get(key)
            if hit is not None and hit[0] == version:
                return hit[1]
            value = compute()
            self._entries[key] = (version, value)
            return value
