"""Prometheus instruments every layer may record into (``/metrics`` serves them: ``api.metrics``).

Only ``prometheus_client`` is imported here (no web framework, no database), so services record
decisions and the composition root registers its gallery without depending on the API.

Metrics are created unregistered (``registry=None``): each app builds its own registry from them
(``api.metrics``), so any number of apps in one test process never collide ("Duplicated
timeseries"). Under ``smilepay serve --workers N`` the environment variable
``PROMETHEUS_MULTIPROC_DIR`` is set before the workers start (``prepare_multiprocess_dir``):
every value is then written to a file per process there and one scrape of any worker reports
them all (docs/operations.md).

Label values are bounded: a value that is not a short lower-case code, or a new value once a
label has seen ``most`` distinct ones in this process, is recorded as ``"other"``.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

from prometheus_client import Counter, Gauge, disable_created_metrics

from smilepay.domain.tenants import Scope
from smilepay.ports.gallery import Gallery
from smilepay.ports.sessions import SessionStore

log = logging.getLogger("smilepay.metrics")
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
OTHER = "other"
_CODE = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
# no ``*_created`` series: the same output with one worker or several
disable_created_metrics()  # type: ignore[no-untyped-call]


class LabelCap:
    """Maps label values to themselves while they are few and code-like, else to ``"other"``."""

    def __init__(self, most: int) -> None:
        self.most = most
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, value: str) -> str:
        if not _CODE.match(value):
            return OTHER
        if value in self._seen:
            return value
        with self._lock:
            if len(self._seen) >= self.most:
                return OTHER
            self._seen.add(value)
            return value


DECISIONS = Counter(
    "smilepay_face_decisions", "Biometric decisions recorded in the audit, by kind (pay, enrol, "
    "liveness_pay, kyc, ...), outcome (accepted, refused, ...) and first reason code",
    ["kind", "outcome", "reason"], registry=None)
GALLERY_TEMPLATES = Gauge(
    "smilepay_gallery_templates", "Templates searchable in this worker's gallery (all scopes)",
    ["gallery"], multiprocess_mode="liveall", registry=None)
GALLERY_LAG = Gauge(
    "smilepay_gallery_lag_changes", "Committed gallery changes this worker had not applied yet "
    "when sampled (head - applied; 0 for shared engines)",
    ["gallery"], multiprocess_mode="liveall", registry=None)
WORKERS = Gauge("smilepay_workers", "Worker processes serving the API (live ones)",
                multiprocess_mode="livesum", registry=None)

_kinds, _outcomes, _reasons = LabelCap(32), LabelCap(16), LabelCap(64)


def record_decision(kind: str, outcome: str, reasons: tuple[str, ...]) -> None:
    """Count one audited decision (``FaceContext.audit``); the first reason is the label."""
    try:
        DECISIONS.labels(_kinds(kind), _outcomes(outcome),
                         _reasons(reasons[0]) if reasons else "none").inc()
    except Exception as exc:  # e.g. the metrics folder deleted: never fail the decision
        recording_failed(exc)


_failures = 0


def recording_failed(exc: Exception) -> None:
    """A value that could not be recorded: logged (the first and every 1000th), not raised."""
    global _failures
    _failures += 1
    if _failures % 1000 == 1:
        log.warning("a metric could not be recorded (%d so far): %s", _failures,
                    type(exc).__name__)


def multiprocess_dir() -> Path | None:
    found = os.environ.get(MULTIPROC_ENV)
    return Path(found) if found else None


class GalleryWatch:
    """Samples one gallery into this worker's gauges: now, on every scrape of this worker and,
    with several workers, every ``every_s`` seconds in a daemon thread (a scrape lands on one
    worker; the others' values come from their last sample)."""

    def __init__(self, gallery: Gallery, scopes: Callable[[], Iterable[Scope]],
                 every_s: float) -> None:
        self.gallery = gallery
        self.scopes = scopes
        self.every_s = every_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failing = False

    def sample(self) -> None:
        """Lag first: the in-process gallery catches up inside ``size``."""
        name = self.gallery.name
        try:
            lag = max(self.gallery.head() - self.gallery.applied(), 0)
            size = sum(self.gallery.size(scope) for scope in self.scopes())
        except Exception as exc:  # a metric must never take a worker down; the log says why
            if not self._failing:
                log.warning("gallery %s could not be sampled for /metrics: %s", name,
                            type(exc).__name__)
            self._failing = True
            return
        self._failing = False
        GALLERY_LAG.labels(name).set(lag)
        GALLERY_TEMPLATES.labels(name).set(size)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="gallery-metrics", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            self.sample()

    def close(self) -> None:
        self._stop.set()
        with _watch_lock:
            if self in _watches:
                _watches.remove(self)


_watches: list[GalleryWatch] = []
_watch_lock = threading.Lock()


def watch_gallery(gallery: Gallery, scopes: Callable[[], Iterable[Scope]], *,
                  every_s: float = 15.0) -> GalleryWatch:
    """Expose ``gallery``'s size (summed over ``scopes()``) and lag as this worker's gauges.
    Call it where the gallery is built; a later gallery of the same name replaces this one
    (one per worker; tests build many). ``close()`` the watch to stop."""
    watch = GalleryWatch(gallery, scopes, every_s)
    with _watch_lock:
        replaced = [w for w in _watches if w.gallery.name == gallery.name]
    for old in replaced:
        old.close()
    watch.sample()
    with _watch_lock:
        _watches.append(watch)
    if multiprocess_dir() is not None:
        watch.start()
    return watch


def refresh_watches() -> None:
    """Sample every gallery of this process now (before a scrape answers)."""
    with _watch_lock:
        current = list(_watches)
    for watch in current:
        watch.sample()


_sessions: list[SessionStore] = []


def watch_sessions(store: SessionStore) -> None:
    """Report the shared session store's live entries by kind when scraped (one value per kind:
    every worker sees the same store). The latest store registered replaces the one before."""
    with _watch_lock:
        _sessions[:] = [store]


def unwatch_sessions(store: SessionStore) -> None:
    with _watch_lock:
        _sessions[:] = [found for found in _sessions if found is not store]


def session_stores() -> list[SessionStore]:
    with _watch_lock:
        return list(_sessions)


def prepare_multiprocess_dir(var_dir: Path, port: int) -> Path:
    """``PROMETHEUS_MULTIPROC_DIR`` for a server with several workers: the operator's, or
    ``var/metrics/<port>``; emptied of the last run's files, then set for the workers."""
    given = multiprocess_dir()
    path = given or var_dir / "metrics" / str(port)
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink()
    os.environ[MULTIPROC_ENV] = str(path)
    if given is None:
        _own_dirs.add(path)
    return path


_own_dirs: set[Path] = set()


def release_multiprocess_dir(path: Path) -> None:
    """After the last worker stopped: delete ``var/metrics/<port>`` (the values died with the
    server); an operator's folder is left as it is."""
    if path in _own_dirs:
        _own_dirs.discard(path)
        shutil.rmtree(path, ignore_errors=True)


def worker_exited(pid: int | None, path: Path) -> None:
    """Drop an exited worker's live gauges (its counters stay in the totals)."""
    if pid is None:
        return
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(pid, str(path))  # type: ignore[no-untyped-call]
