"""Load: concurrent clients reading and writing, on SQLite (1 process) and PostGIS (4).

Each set-up is a real ``geoapp serve`` subprocess on a loopback port: SQLite with one
waitress process, then PostgreSQL/PostGIS (a throwaway cluster from tests/postgres.py, on a
Unix socket) with ``--workers 4`` gunicorn processes. ``--clients`` threads (32), each a
browser tab with its own cookies and login, loop for ``--seconds`` (60): about 80 % reads
(overview, district page, district GeoJSON, experiments GeoJSON, placement API) and 20 %
writes (create an experiment, edit one of its own at the version it knows). Then the
database is read back: every acknowledged creation must exist and every acknowledged edit
be stored (lost updates must be 0). Server RSS is the peak, sampled twice a second, of the
server process and all its children. One Markdown table is printed, with ratios.

    python benchmarks/bench_load.py [--seconds 60] [--clients 32]

Bounded: each request times out, each client stops at ``--max-requests``, the whole run
stops at a hard time-out, and the servers are stopped whatever happens. A set-up that
cannot run (PostGIS before the store speaks it) prints its error in its row.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests/ holds the PostgreSQL server and the load clients

from geoapp.atlas import build_atlas  # noqa: E402
from geoapp.config import PROJECT_ROOT  # noqa: E402
from tests.load import SCEAUX, Client, Ledger, Writer, check_ledger, inside_points  # noqa: E402
from tests.postgres import TestServer  # noqa: E402
from tests.serving import free_port, geoapp_command, stop, wait_until_answering  # noqa: E402

ACCOUNTS = 4  # clients share them: only failed logins are throttled
PASSWORD = "charge-de-test-2025"
START_TIMEOUT_S = 180.0
READ_SHARE, CREATE_SHARE = 0.80, 0.10  # the rest edits


@dataclass
class ClientStats:
    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@dataclass
class Result:
    requests: int
    seconds: float
    latencies_ms: list[float]
    errors: int
    first_error: str
    acknowledged: int
    lost: int
    broken: list[str]
    peak_rss_mib: float


def process_tree_rss_kib(pid: int) -> int:
    """VmRSS of ``pid`` and every descendant, in KiB (0 for a process already gone)."""
    total = 0
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            total += int(line.split()[1])
    return total + sum(process_tree_rss_kib(int(c)) for c in children)


class RssSampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_kib = 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.5):
            self.peak_kib = max(self.peak_kib, process_tree_rss_kib(self.pid))


def start_server(tmp: Path, database: str, workers: int) -> tuple[subprocess.Popen, str]:
    """Accounts, then ``geoapp serve`` on a free port; returns once it answers."""
    env = {
        **os.environ,
        "GEOAPP_DATABASE": database,
        "GEOAPP_SECRET_KEY": "cle-du-banc-de-charge",
        "GEOAPP_EXPORT_CACHE_DIR": str(tmp / "exports"),
        "GEOAPP_NEW_PASSWORD": PASSWORD,
    }
    for i in range(ACCOUNTS):
        subprocess.run(
            [geoapp_command(), "users", "add", f"blagis-{i}", "--role", "editeur"]
            + ["--commune", "92071"],
            env=env,
            cwd=tmp,
            check=True,
            capture_output=True,
            timeout=120,
        )
    port = free_port()
    command = [geoapp_command(), "serve", "--port", str(port)]
    if workers > 1:
        command += ["--workers", str(workers)]
    log = (tmp / "serve.log").open("w")
    process = subprocess.Popen(command, env=env, cwd=tmp, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_answering(process, f"{base}/", tmp / "serve.log", timeout_s=START_TIMEOUT_S)
    except RuntimeError as exc:  # one line for the table's row: the log's last
        stop(process)
        raise RuntimeError(str(exc).strip().splitlines()[-1]) from exc
    return process, base


def client_loop(
    index: int,
    base: str,
    atlas,
    points: list,
    ledger: Ledger,
    start: threading.Barrier,
    deadline: list[float],
    max_requests: int,
    stats: ClientStats,
) -> None:
    """Log in, wait for every client, then read and write until the deadline."""
    client = Client(base)
    try:
        client.login(f"blagis-{index % ACCOUNTS}", PASSWORD)
    except (OSError, RuntimeError) as exc:
        stats.errors.append(f"login: {exc}")
        start.abort()
        return
    start.wait()
    writer = Writer(client, ledger, atlas, f"Charge {index}", points)
    rng = random.Random(index)
    reads = [
        "/",
        f"/quartiers/{SCEAUX}",
        "/api/quartiers.geojson",
        f"/api/experimentations.geojson?quartier={SCEAUX}",
        "placement",
    ]
    for _ in range(max_requests):
        if time.monotonic() >= deadline[0]:
            return
        draw = rng.random()
        began = time.perf_counter()
        try:
            if draw < READ_SHARE:
                path = rng.choice(reads)
                if path == "placement":
                    lon, lat = rng.choice(points)
                    path = f"/api/placement?quartier={SCEAUX}&lat={lat}&lon={lon}"
                answer, expected = client.get(path), 200
            elif draw < READ_SHARE + CREATE_SHARE or not writer.versions:
                path, answer, expected = "create", writer.create(), 302
            else:
                path = "edit"
                answer, expected = writer.edit(rng.choice(list(writer.versions))), 302
        except OSError as exc:
            answer, expected = None, 0
            stats.errors.append(f"{path}: {exc}")
        stats.latencies_ms.append((time.perf_counter() - began) * 1000)
        if answer is None and expected == 302:
            stats.errors.append(f"{path}: connection failed")
        elif answer is not None and answer.status != expected:
            stats.errors.append(f"{path}: HTTP {answer.status}")


def run_setup(database: str, workers: int, args, atlas, tmp: Path, check=None) -> Result:
    """One set-up: start its server, load it, read the database back, stop the server."""
    process, base = start_server(tmp, database, workers)
    try:
        if check:
            check()
        sampler = RssSampler(process.pid)
        sampler.start()
        ledger = Ledger()
        points = inside_points(atlas)
        start = threading.Barrier(args.clients + 1)
        deadline = [float("inf")]
        stats = [ClientStats() for _ in range(args.clients)]
        threads = [
            threading.Thread(
                target=client_loop,
                args=(i, base, atlas, points, ledger, start, deadline, args.max_requests, s),
                daemon=True,
            )
            for i, s in enumerate(stats)
        ]
        for t in threads:
            t.start()
        start.wait(timeout=START_TIMEOUT_S)  # every client logged in
        began = time.monotonic()
        deadline[0] = began + args.seconds
        for t in threads:
            t.join(timeout=args.seconds + 120)
        elapsed = time.monotonic() - began
        sampler.done.set()
        sampler.join()
        from geoapp.store import Store

        users = {f"blagis-{i}" for i in range(ACCOUNTS)}
        store = Store(database)
        try:
            verdict = check_ledger(store, ledger, users=users)
        finally:
            store.close()
    finally:
        stop(process)
    latencies = [ms for s in stats for ms in s.latencies_ms]
    errors = [e for s in stats for e in s.errors]
    return Result(
        requests=len(latencies),
        seconds=elapsed,
        latencies_ms=latencies,
        errors=len(errors),
        first_error=errors[0] if errors else "",
        acknowledged=ledger.acknowledged(),
        lost=len(verdict.lost),
        broken=verdict.broken,
        peak_rss_mib=sampler.peak_kib / 1024,
    )


def percentiles(latencies: list[float]) -> tuple[float, float, float]:
    q = statistics.quantiles(latencies, n=100, method="inclusive")
    return q[49], q[94], q[98]


def row(name: str, r: Result | str) -> str:
    if isinstance(r, str):
        return f"| {name} | error: {r} |" + " |" * 8
    p50, p95, p99 = percentiles(r.latencies_ms)
    return (
        f"| {name} | {r.requests} | {r.requests / r.seconds:.1f} | {p50:.0f} | {p95:.0f} "
        f"| {p99:.0f} | {r.errors} | {r.acknowledged} | {r.lost} | {r.peak_rss_mib:.0f} |"
    )


def ratio_row(a: Result | str, b: Result | str) -> str | None:
    if isinstance(a, str) or isinstance(b, str):
        return None
    pa, pb = percentiles(a.latencies_ms), percentiles(b.latencies_ms)
    rate = (b.requests / b.seconds) / (a.requests / a.seconds)
    cells = [f"{rate:.2f}×", *(f"{y / x:.2f}×" for x, y in zip(pa, pb, strict=True))]
    return (
        f"| PostGIS ÷ SQLite | | {cells[0]} | {cells[1]} | {cells[2]} | {cells[3]} | | "
        f"| | {b.peak_rss_mib / a.peak_rss_mib:.2f}× |"
    )


def one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[-1] if text else ''}"[:300]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--max-requests", type=int, default=100_000, help="per client")
    args = parser.parse_args()
    hard_s = int(2 * (args.seconds + 2 * START_TIMEOUT_S + 120))

    def too_long(signum, frame):
        raise TimeoutError(f"hard time-out of {hard_s} s reached")

    signal.signal(signal.SIGALRM, too_long)
    signal.alarm(hard_s)
    atlas = build_atlas(PROJECT_ROOT / "data")
    results: dict[str, Result | str] = {}
    with tempfile.TemporaryDirectory(prefix="qmi-load-") as tmp:
        tmp = Path(tmp)
        (tmp / "sqlite").mkdir()
        name = "SQLite, 1 process"
        try:
            results[name] = run_setup(
                str(tmp / "sqlite" / "qmi.sqlite3"), 1, args, atlas, tmp / "sqlite"
            )
        except Exception as exc:  # noqa: BLE001 - printed in its row
            results[name] = one_line(exc)
        name = "PostGIS, 4 workers"
        pg = None
        try:
            why = TestServer.available()
            if why:
                raise RuntimeError(why)
            pg = TestServer().start()
            url = pg.new_database()
            (tmp / "pg").mkdir()

            def tables_in_postgres() -> None:  # not SQLite at a path spelled like a URL
                try:
                    pg.psql(urlparse(url).path.lstrip("/"), "SELECT count(*) FROM experiments")
                except subprocess.CalledProcessError as exc:
                    raise RuntimeError(
                        f"the server wrote no experiments table in PostgreSQL: {exc.stderr}"
                    ) from exc

            results[name] = run_setup(url, 4, args, atlas, tmp / "pg", tables_in_postgres)
        except Exception as exc:  # noqa: BLE001 - printed in its row
            results[name] = one_line(exc)
        finally:
            if pg is not None:
                pg.stop()
    signal.alarm(0)
    print(
        f"\n{args.clients} clients, {args.seconds:.0f} s, "
        f"{READ_SHARE:.0%} reads / {1 - READ_SHARE:.0%} writes, loopback\n"
    )
    print(
        "| set-up | requests | req/s | p50 ms | p95 ms | p99 ms | errors | writes acknowledged "
        "| lost updates | peak server RSS MiB |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, r in results.items():
        print(row(name, r))
    ratio = ratio_row(*results.values())
    if ratio:
        print(ratio)
    for name, r in results.items():
        if isinstance(r, Result) and (r.first_error or r.broken):
            print(f"\n{name}: first error « {r.first_error} »; broken rows: {r.broken[:5]}")
    bad = any(isinstance(r, Result) and (r.lost or r.broken) for r in results.values())
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
