"""Exports built off the request threads: a bounded pool, a bounded queue, one job each.

A cold export can take seconds (a programme sheet, an A4 map at 300 dpi). Built on the
thread that received the request, a few of them would hold every server thread and map
pages would wait behind them. :class:`ExportJobs` runs them on at most ``workers``
threads of its own, queues at most ``queue`` more (beyond that, :class:`ExportsBusy`: a
French 503, try again shortly) and gives every request for the same export (same
:attr:`~geoapp.exports.ExportPlan.key`: parameters, data version, day) the one job
already under way, so twenty clicks build one file (single flight).

Finished jobs are kept, the last ``keep`` of them, so a page polling for its export
finds the result (or the failure) even when the disk cache is disabled. Threads rather
than processes: jobs share the atlas already in memory and the store's connection pool,
and matplotlib figures made without pyplot are safe to build side by side (saving holds
:data:`~geoapp.exports.static_maps.SAVE_LOCK`). Nothing here imports Flask.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from geoapp.errors import GeoappError
from geoapp.exports import Export, ExportPlan

log = logging.getLogger(__name__)

QUEUED, RUNNING, DONE, FAILED = "en file d’attente", "en cours", "prête", "échec"
FAILED_MESSAGE = (
    "La préparation de l’export a échoué ; l’incident est enregistré. Réessayez, ou "
    "choisissez un autre format."
)


class ExportsBusy(GeoappError):
    """Every worker is busy and the queue is full: a French 503, try again shortly."""

    def __init__(self) -> None:
        super().__init__(
            "Trop d’exports sont en préparation en ce moment. Réessayez dans quelques "
            "secondes : les exports déjà demandés continuent.",
            503,
        )


@dataclass
class Job:
    """One export being built (or built): its plan, its future, when it was asked for."""

    plan: ExportPlan
    future: Future
    asked: float = field(default_factory=time.monotonic)  # seconds, monotonic clock

    @property
    def state(self) -> str:
        if not self.future.done():
            return RUNNING if self.future.running() else QUEUED
        return FAILED if self.future.exception() is not None else DONE

    def result(self, timeout: float | None = 0) -> Export | None:
        """The export once built (``None`` while not, after waiting ``timeout`` seconds).

        Re-raises a ``GeoappError`` of the build as is; any other failure becomes the
        French :data:`FAILED_MESSAGE` (500), never a hung page.
        """
        try:
            return self.future.result(timeout=timeout)
        except TimeoutError:
            return None
        except GeoappError:
            raise
        except Exception as exc:  # a bug in a builder: logged, reported in French
            raise GeoappError(FAILED_MESSAGE, 500) from exc


class ExportJobs:
    """Background builds of exports, shared by every request of one server process."""

    def __init__(self, *, workers: int = 1, queue: int = 8, keep: int = 8):
        if workers < 1 or queue < 0:
            raise ValueError(f"workers >= 1 and queue >= 0 expected, got {workers}, {queue}")
        self.workers, self.queue, self.keep = workers, queue, keep
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="qmi-export")
        self._lock = threading.Lock()
        self._active: dict[str, Job] = {}
        self._finished: OrderedDict[str, Job] = OrderedDict()
        # At most ``workers`` request threads wait for a job at once; others answer at once.
        self._waiters = threading.BoundedSemaphore(workers)
        self.started = 0  # builds started since creation (the tests count them)

    def submit(self, plan: ExportPlan) -> Job:
        """The job building ``plan``: the one under way or just finished, else a new one.

        Raises :class:`ExportsBusy` when ``workers + queue`` jobs are already waiting or
        running.
        """
        with self._lock:
            job = self._active.get(plan.key) or self._finished.get(plan.key)
            if job is not None:
                return job
            if len(self._active) >= self.workers + self.queue:
                raise ExportsBusy()
            job = Job(plan, self._pool.submit(self._build, plan))
            self._active[plan.key] = job
            self.started += 1
        job.future.add_done_callback(lambda _: self._finish(job))
        return job

    def wait(self, job: Job, timeout: float | None) -> Export | None:
        """``job``'s export, waiting up to ``timeout`` seconds (``None``: until done).

        Only ``workers`` callers wait at a time: a burst of cold requests cannot hold
        every server thread, the others get ``None`` (not ready) at once. Raises the
        job's error (see :meth:`Job.result`).
        """
        if timeout == 0 or not self._waiters.acquire(blocking=False):
            return job.result(timeout=0)
        try:
            return job.result(timeout=timeout)
        finally:
            self._waiters.release()

    def ahead_of(self, job: Job) -> int:
        """How many jobs were asked for before ``job`` and are still waiting or running."""
        with self._lock:
            return sum(1 for other in self._active.values() if other.asked < job.asked)

    def forget(self, job: Job) -> None:
        """Drop a finished job (a failure once reported), so the next request retries."""
        with self._lock:
            if self._finished.get(job.plan.key) is job:
                del self._finished[job.plan.key]

    def _build(self, plan: ExportPlan) -> Export:
        try:
            return plan.run()
        except GeoappError:
            raise
        except Exception:
            log.exception("export %s failed", plan.filename)
            raise

    def _finish(self, job: Job) -> None:
        with self._lock:
            self._active.pop(job.plan.key, None)
            self._finished[job.plan.key] = job
            while len(self._finished) > self.keep:
                self._finished.popitem(last=False)

    def shutdown(self) -> None:
        """Wait for the running jobs, start no queued one (server or test teardown)."""
        self._pool.shutdown(wait=True, cancel_futures=True)
