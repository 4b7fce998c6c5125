"""Clients that write through a live server, and the ledger that checks what it acknowledged.

Shared by the fault tests (tests/test_faults.py) and the load benchmark
(benchmarks/bench_load.py). A `Client` is one browser tab on loopback: its own cookies, one
login, redirects *not* followed, because a write's 302 is the server's acknowledgement. A
`Writer` creates and edits its own experiments in Les Blagis and records each outcome in a
`Ledger`: acknowledged (302), refused (an HTTP error: nothing stored) or unknown (the
connection failed: stored or not, the client cannot tell). `check_ledger` then reads the
database through `geoapp.store.Store` and lists every acknowledged write it does not find,
and every stored row that is incomplete or has no history.
"""

from __future__ import annotations

import http.client
import http.cookiejar
import json
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import shapely

from geoapp.analysis import ANALYSIS_CRS, DISPLAY_CRS
from tests.web.experiments_helpers import form_for

SCEAUX = "sceaux-les-blagis"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
EXPERIMENT_URL = re.compile(r"/experimentations/(\d+)$")
ORGANISATION = "Banc d’essai de charge"
DESCRIPTION = "Écrite par un client de test.\r\nDeuxième ligne."


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # the 302 itself is the answer (urllib raises it as an HTTPError)


@dataclass(frozen=True)
class Answer:
    status: int
    body: str
    location: str = ""


class Client:
    """One browser tab: its own cookie jar, a time-out per request, no redirect followed.

    Connection failures (reset, refused, time-out) raise `OSError`: their outcome is
    unknown. Every HTTP answer, error statuses included, is returned as an `Answer`.
    """

    def __init__(self, base: str, *, timeout_s: float = 30.0) -> None:
        self.base = base
        self.timeout_s = timeout_s
        self.csrf_token = ""
        self._opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect()
        )

    def request(self, path: str, fields: dict | None = None) -> Answer:
        data = None if fields is None else urllib.parse.urlencode(fields, doseq=True).encode()
        try:
            with self._opener.open(self.base + path, data=data, timeout=self.timeout_s) as r:
                return Answer(r.status, r.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:  # a 302 or an error status: the answer is known
            with exc:
                try:
                    body = exc.read().decode("utf-8", "replace")
                except (http.client.HTTPException, OSError):
                    body = ""  # the worker died after its headers: the status still holds
            return Answer(exc.code, body, exc.headers.get("Location", ""))
        except http.client.HTTPException as exc:  # no status, or a 200 cut short
            raise ConnectionError(str(exc)) from exc

    def get(self, path: str) -> Answer:
        return self.request(path)

    def post(self, path: str, fields: dict) -> Answer:
        return self.request(path, {"csrf_token": self.csrf_token, **fields})

    def login(self, username: str, password: str) -> None:
        """Log in through /connexion, then keep the session's CSRF token for the forms."""
        self.csrf_token = CSRF.search(self.get("/connexion").body).group(1)
        answer = self.post("/connexion", {"username": username, "password": password})
        if answer.status != 302:
            raise RuntimeError(f"login of {username} answered {answer.status}")
        self.csrf_token = CSRF.search(self.get(f"/quartiers/{SCEAUX}").body).group(1)


def inside_points(atlas, slug: str = SCEAUX, *, n: int = 12) -> list[tuple[float, float]]:
    """``n`` (lon, lat) points at least 60 m inside the district, spread on a grid."""
    inner = atlas.district(slug).geometry.buffer(-60)
    xmin, ymin, xmax, ymax = inner.bounds
    xs, ys = np.meshgrid(np.linspace(xmin, xmax, 20), np.linspace(ymin, ymax, 20))
    grid = shapely.points(xs.ravel(), ys.ravel())
    inside = grid[shapely.contains(inner, grid)]
    chosen = inside[np.linspace(0, len(inside) - 1, n).astype(int)]
    lonlat = gpd.GeoSeries(chosen, crs=ANALYSIS_CRS).to_crs(DISPLAY_CRS)
    return [(round(p.x, 6), round(p.y, 6)) for p in lonlat]


def experiment_form(atlas, title: str, lon: float, lat: float, **overrides) -> dict:
    """A valid experiment form for Les Blagis at (lon, lat), as the browser posts it (the
    client adds the CSRF token it read from the page)."""
    form = form_for(
        atlas,
        SCEAUX,
        title=title,
        lon=str(lon),
        lat=str(lat),
        organisation=ORGANISATION,
        description=DESCRIPTION,
        objectives=[atlas.objectives()[SCEAUX][0]],
        **overrides,
    )
    del form["csrf_token"]
    return form


@dataclass
class Ledger:
    """Every write the clients attempted and what the server answered, thread-safe.

    ``created`` maps acknowledged ids to their creation title; ``unknown_creates`` holds the
    titles of creations whose answer never came; ``edits`` lists, per id, ``(title,
    acknowledged)`` in the order they were sent; ``refused`` counts HTTP error answers to
    writes, by status.
    """

    created: dict[int, str] = field(default_factory=dict)
    unknown_creates: list[str] = field(default_factory=list)
    edits: dict[int, list[tuple[str, bool]]] = field(default_factory=dict)
    refused: dict[int, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def acknowledged(self) -> int:
        with self._lock:
            return len(self.created) + sum(ok for e in self.edits.values() for _, ok in e)

    def unknown(self) -> int:
        with self._lock:
            edits = sum(not ok for e in self.edits.values() for _, ok in e)
            return len(self.unknown_creates) + edits

    def record_create(self, title: str, experiment_id: int | None) -> None:
        with self._lock:
            if experiment_id is None:
                self.unknown_creates.append(title)
            else:
                self.created[experiment_id] = title

    def record_edit(self, experiment_id: int, title: str, acknowledged: bool) -> None:
        with self._lock:
            self.edits.setdefault(experiment_id, []).append((title, acknowledged))

    def record_refused(self, status: int) -> None:
        with self._lock:
            self.refused[status] = self.refused.get(status, 0) + 1


class Writer:
    """One client's writes: it creates experiments and edits only its own ones.

    It knows each of its experiments' version (1 at creation, +1 per acknowledged edit),
    so a 409 would mean someone else wrote over it: a bug here, counted as refused. After
    an unknown outcome it reads the version again from the API.
    """

    def __init__(self, client: Client, ledger: Ledger, atlas, name: str, points: Sequence):
        self.client = client
        self.ledger = ledger
        self.atlas = atlas
        self.name = name
        self.points = points
        self.versions: dict[int, int] = {}
        self._count = 0

    def _next(self) -> tuple[str, tuple[float, float]]:
        self._count += 1
        return f"{self.name} n{self._count}", self.points[self._count % len(self.points)]

    def create(self) -> Answer | None:
        """Post one new experiment; its answer, or ``None`` if the connection failed."""
        title, (lon, lat) = self._next()
        try:
            answer = self.client.post(
                f"/quartiers/{SCEAUX}/experimentations",
                experiment_form(self.atlas, title, lon, lat),
            )
        except OSError:
            self.ledger.record_create(title, None)
            return None
        found = EXPERIMENT_URL.search(answer.location) if answer.status == 302 else None
        if found:
            self.ledger.record_create(title, int(found.group(1)))
            self.versions[int(found.group(1))] = 1
        else:
            self.ledger.record_refused(answer.status)
        return answer

    def edit(self, experiment_id: int) -> Answer | None:
        """Retitle one of this writer's experiments at the version it knows."""
        title, (lon, lat) = self._next()
        title = f"{title} (modifiée)"
        fields = experiment_form(self.atlas, title, lon, lat)
        fields["version"] = str(self.versions[experiment_id])
        try:
            answer = self.client.post(f"/experimentations/{experiment_id}", fields)
        except OSError:
            self.ledger.record_edit(experiment_id, title, False)
            self._reread(experiment_id)
            return None
        if answer.status == 302:
            self.ledger.record_edit(experiment_id, title, True)
            self.versions[experiment_id] += 1
        else:
            self.ledger.record_refused(answer.status)
        return answer

    def _reread(self, experiment_id: int) -> None:
        """The stored version after an unknown outcome; forget the experiment if unreadable."""
        try:
            answer = self.client.get(f"/api/experimentations/{experiment_id}")
            version = json.loads(answer.body)["experimentation"]["version"]
        except (OSError, ValueError, KeyError):
            self.versions.pop(experiment_id, None)
            return
        self.versions[experiment_id] = int(version)


@dataclass
class Verdict:
    """What `check_ledger` found: acknowledged writes missing from the database (lost),
    stored rows that are incomplete or lack their history (broken), and counts."""

    lost: list[str] = field(default_factory=list)
    broken: list[str] = field(default_factory=list)
    stored_creates: int = 0
    stored_unknown_creates: int = 0


def _titles(history: list[dict]) -> list[str]:
    """The successive titles an experiment's history records, creation first."""
    return [h["changes"]["title"][1] for h in history if "title" in h["changes"]]


def check_ledger(store, ledger: Ledger, *, users: set[str]) -> Verdict:
    """Compare the database (read through ``store``) with what the server acknowledged.

    Lost: an acknowledged creation missing, or an acknowledged edit absent from the
    history, or a current title other than the last acknowledged one (or an unknown edit
    sent after it). Broken: a row written by ``users`` with a field missing, a history
    whose length is not the row's version, or a row no client ever sent.
    """
    verdict = Verdict()
    rows = {
        e["id"]: e
        for e in store.list_experiments(include_withdrawn=True)
        if e["created_by"] in users
    }
    unknown = set(ledger.unknown_creates)
    for experiment_id, title in sorted(ledger.created.items()):
        if experiment_id not in rows:
            verdict.lost.append(f"creation of #{experiment_id} « {title} » not stored")
    for experiment_id, row in sorted(rows.items()):
        history = store.history(experiment_id)
        titles = _titles(history)
        first = titles[0] if titles else None
        if experiment_id in ledger.created:
            verdict.stored_creates += 1
            if first != ledger.created[experiment_id]:
                verdict.broken.append(f"#{experiment_id} created as « {first} »")
        elif first in unknown:
            verdict.stored_unknown_creates += 1
        else:
            verdict.broken.append(f"#{experiment_id} « {row['title']} » was never sent")
        missing = [
            f
            for f in ("title", "organisation", "description", "theme", "status", "lon", "lat")
            if row.get(f) in (None, "")
        ]
        if missing or row["organisation"] != ORGANISATION or not row["objectives"]:
            verdict.broken.append(f"#{experiment_id} incomplete: {missing or row}")
        if len(history) != row["version"]:
            verdict.broken.append(
                f"#{experiment_id} at version {row['version']} has {len(history)} history rows"
            )
        writes = [(first, True), *ledger.edits.get(experiment_id, [])]
        verdict.lost += _lost_edits(experiment_id, row["title"], titles, writes)
    return verdict


def _lost_edits(
    experiment_id: int, current: str, titles: list[str], writes: list[tuple[str, bool]]
) -> list[str]:
    """Acknowledged titles missing from the history, and a current title that is neither
    the last acknowledged one nor one sent after it with an unknown outcome."""
    lost = [
        f"edit of #{experiment_id} to « {t} » missing from its history"
        for t, ok in writes[1:]
        if ok and t not in titles
    ]
    last = max(i for i, (_, ok) in enumerate(writes) if ok)
    allowed = {t for t, _ in writes[last:]}
    if current not in allowed:
        lost.append(f"#{experiment_id} reads « {current} », last saved one of {sorted(allowed)}")
    return lost
