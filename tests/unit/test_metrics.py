"""The Prometheus instruments (``smilepay.instruments``): bounded labels, decisions counted,
a gallery's size and lag sampled per worker, and several worker processes in one scrape."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from smilepay import instruments
from smilepay.api.metrics import WorkerFiles
from smilepay.domain.tenants import Scope

SCOPES = [Scope("ten_a", False), Scope("ten_a", True), Scope("ten_b", False)]


class FakeGallery:
    """An in-process gallery as the port describes it: ``size`` catches up first."""

    def __init__(self, sizes: dict[Scope, int], head: int = 0, applied: int = 0,
                 name: str = "faiss") -> None:
        self.sizes = sizes
        self._head = head
        self._applied = applied
        self.name = name
        self.fail = False

    def size(self, scope: Scope, model_id: str | None = None) -> int:
        if self.fail:
            raise ConnectionError("database gone")
        self.catch_up()
        return self.sizes.get(scope, 0)

    def catch_up(self) -> int:
        done, self._applied = self._head - self._applied, self._head
        return done

    def applied(self) -> int:
        return self._applied

    def head(self) -> int:
        if self.fail:
            raise ConnectionError("database gone")
        return self._head


def registry_of(*collectors: object) -> CollectorRegistry:
    registry = CollectorRegistry()
    for collector in collectors:
        registry.register(collector)  # type: ignore[arg-type]
    return registry


@pytest.fixture
def watches() -> Iterator[list[instruments.GalleryWatch]]:
    made: list[instruments.GalleryWatch] = []
    yield made
    for watch in made:
        watch.close()


def test_label_values_stay_few_and_code_like() -> None:
    cap = instruments.LabelCap(3)
    assert [cap(v) for v in ("no_match", "challenge_not_passed", "no_match")] == [
        "no_match", "challenge_not_passed", "no_match"]
    assert cap("Robert'); DROP") == "other"  # not a code
    assert cap("cus_" + "x" * 60) == "other"  # too long for a code (an id would be)
    assert cap("+4915112345678") == "other"
    assert cap("locked_face") == "locked_face"  # the third distinct value
    assert cap("locked_payment") == "other"  # a fourth: over the cap
    assert cap("no_match") == "no_match"  # values already seen keep their name


def test_a_decision_is_counted_by_kind_outcome_and_first_reason() -> None:
    registry = registry_of(instruments.DECISIONS)

    def count(kind: str, outcome: str, reason: str) -> float:
        found = registry.get_sample_value("smilepay_face_decisions_total",
                                          {"kind": kind, "outcome": outcome, "reason": reason})
        return found or 0.0

    before = count("pay", "refused", "challenge_not_passed")
    instruments.record_decision("pay", "refused", ("challenge_not_passed", "timeout"))
    instruments.record_decision("pay", "refused", ("challenge_not_passed",))
    assert count("pay", "refused", "challenge_not_passed") == before + 2
    assert count("pay", "refused", "timeout") == 0  # only the first reason is a label
    accepted = count("enrol", "accepted", "none")
    instruments.record_decision("enrol", "accepted", ())
    assert count("enrol", "accepted", "none") == accepted + 1
    odd = count("pay", "refused", "other")
    instruments.record_decision("pay", "refused", ("Customer cus_123 failed",))
    assert count("pay", "refused", "other") == odd + 1


def test_a_gallery_reports_its_size_over_all_scopes_and_its_lag_before_catching_up(
    watches: list[instruments.GalleryWatch],
) -> None:
    registry = registry_of(instruments.GALLERY_TEMPLATES, instruments.GALLERY_LAG)
    gallery = FakeGallery({SCOPES[0]: 5, SCOPES[1]: 2, SCOPES[2]: 7}, head=12, applied=9)
    watches.append(instruments.watch_gallery(gallery, lambda: SCOPES))
    labels = {"gallery": "faiss"}
    assert registry.get_sample_value("smilepay_gallery_templates", labels) == 14
    assert registry.get_sample_value("smilepay_gallery_lag_changes", labels) == 3
    assert gallery.applied() == 12  # sampling the size caught the worker up
    gallery._head = 20
    gallery.sizes[SCOPES[2]] = 8
    instruments.refresh_watches()  # what a scrape of this worker does first
    assert registry.get_sample_value("smilepay_gallery_templates", labels) == 15
    assert registry.get_sample_value("smilepay_gallery_lag_changes", labels) == 8


def test_a_gallery_that_cannot_be_sampled_keeps_the_worker_up_and_says_so(
    watches: list[instruments.GalleryWatch], caplog: pytest.LogCaptureFixture,
) -> None:
    registry = registry_of(instruments.GALLERY_TEMPLATES)
    gallery = FakeGallery({SCOPES[0]: 4}, name="pgvector")
    watch = instruments.watch_gallery(gallery, lambda: SCOPES)
    watches.append(watch)
    gallery.fail = True
    with caplog.at_level(logging.WARNING, logger="smilepay.metrics"):
        instruments.refresh_watches()
        instruments.refresh_watches()
    said = [r.getMessage() for r in caplog.records if "could not be sampled" in r.getMessage()]
    assert said == ["gallery pgvector could not be sampled for /metrics: ConnectionError"]
    assert registry.get_sample_value("smilepay_gallery_templates", {"gallery": "pgvector"}) == 4
    watch.close()
    gallery.fail = False
    gallery.sizes[SCOPES[0]] = 9
    instruments.refresh_watches()  # a closed watch is sampled no more
    assert registry.get_sample_value("smilepay_gallery_templates", {"gallery": "pgvector"}) == 4


def test_a_later_gallery_of_the_same_name_replaces_the_earlier_one(
    watches: list[instruments.GalleryWatch], caplog: pytest.LogCaptureFixture,
) -> None:
    """One gallery per worker: a process that builds its face context again (tests build
    many) reports the newest gallery, and the replaced one is sampled no more."""
    registry = registry_of(instruments.GALLERY_TEMPLATES)
    first = FakeGallery({SCOPES[0]: 3}, name="milvus")
    second = FakeGallery({SCOPES[0]: 11}, name="milvus")
    watches.append(instruments.watch_gallery(first, lambda: SCOPES))
    watches.append(instruments.watch_gallery(second, lambda: SCOPES))
    first.fail = True  # sampled, it would say so in the log
    with caplog.at_level(logging.WARNING, logger="smilepay.metrics"):
        instruments.refresh_watches()
    assert not [r for r in caplog.records if "could not be sampled" in r.getMessage()]
    assert registry.get_sample_value("smilepay_gallery_templates", {"gallery": "milvus"}) == 11


def test_the_multiprocess_dir_is_the_operators_or_per_port_and_starts_empty(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(instruments.MULTIPROC_ENV, "unset below")
    monkeypatch.delenv(instruments.MULTIPROC_ENV)
    own = tmp_path / "var" / "metrics" / "8123"
    own.mkdir(parents=True)
    (own / "counter_4242.db").write_bytes(b"stale")
    (own / "keep.txt").write_text("not ours")
    assert instruments.prepare_multiprocess_dir(tmp_path / "var", 8123) == own
    assert os.environ[instruments.MULTIPROC_ENV] == str(own)
    assert sorted(p.name for p in own.iterdir()) == ["keep.txt"]
    instruments.release_multiprocess_dir(own)  # serve, once its last worker stopped
    assert not own.exists()
    given = tmp_path / "given"
    monkeypatch.setenv(instruments.MULTIPROC_ENV, str(given))
    assert instruments.prepare_multiprocess_dir(tmp_path / "var", 8123) == given
    instruments.release_multiprocess_dir(given)
    assert given.is_dir()  # the operator's folder stays


WORKER = """
import json, os, sys
from smilepay import instruments
from smilepay.api.metrics import WorkerFiles
from smilepay.domain.tenants import Scope

class Gallery:  # the gallery of one worker: catches up inside size()
    name = "faiss"
    def __init__(self, size, applied):
        self._size, self._applied = size, applied
    def head(self):
        return 5
    def applied(self):
        return self._applied
    def size(self, scope, model_id=None):
        self._applied = 5
        return self._size if scope.livemode else 0

instruments.watch_gallery(Gallery(int(sys.argv[1]), int(sys.argv[2])),
                          lambda: [Scope("ten_a", False), Scope("ten_a", True)], every_s=3600)
instruments.record_decision("pay", "refused", ("no_match", "below_threshold"))
instruments.WORKERS.set(1)
print(json.dumps(os.getpid()))
"""


def test_several_worker_processes_are_reported_in_one_scrape(tmp_path: Path) -> None:
    """What ``smilepay serve --workers 2`` does: each worker writes its own files; any one
    scrape sums the counters, keeps each worker's gallery gauges apart (``pid`` label) and
    drops an exited worker's gauges."""
    env = {**os.environ, instruments.MULTIPROC_ENV: str(tmp_path)}
    pids = []
    for size, applied in ((40, 5), (38, 3)):
        done = subprocess.run([sys.executable, "-c", WORKER, str(size), str(applied)], env=env,
                              capture_output=True, text=True, timeout=120, check=True)
        pids.append(json.loads(done.stdout.strip().splitlines()[-1]))

    def scrape() -> CollectorRegistry:
        registry = CollectorRegistry()
        registry.register(WorkerFiles(tmp_path))  # what /metrics reads with several workers
        return registry

    (tmp_path / "counter_31337.db").touch()  # a worker's file the instant it is created
    registry = scrape()
    for pid, size in zip(pids, (40, 38), strict=True):
        labels = {"gallery": "faiss", "pid": str(pid)}
        assert registry.get_sample_value("smilepay_gallery_templates", labels) == size
    # lag was measured before the size sample caught each worker up: 5-5 and 5-3
    assert registry.get_sample_value("smilepay_gallery_lag_changes",
                                     {"gallery": "faiss", "pid": str(pids[1])}) == 2
    decided = {"kind": "pay", "outcome": "refused", "reason": "no_match"}
    assert registry.get_sample_value("smilepay_face_decisions_total", decided) == 2
    assert registry.get_sample_value("smilepay_workers") == 2

    instruments.worker_exited(pids[0], tmp_path)
    registry = scrape()
    assert registry.get_sample_value("smilepay_gallery_templates",
                                     {"gallery": "faiss", "pid": str(pids[0])}) is None
    assert registry.get_sample_value("smilepay_gallery_templates",
                                     {"gallery": "faiss", "pid": str(pids[1])}) == 38
    assert registry.get_sample_value("smilepay_workers") == 1
    assert registry.get_sample_value("smilepay_face_decisions_total", decided) == 2  # kept


NO_FOLDER = """
import asyncio, logging, os, shutil
from fastapi import FastAPI
from smilepay import instruments
from smilepay.api.metrics import MetricsMiddleware

logging.basicConfig(level=logging.WARNING)
shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"])  # under the running worker
instruments.record_decision("pay", "accepted", ())
sent = []

async def answer(scope, receive, send):
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"paid"})

async def main():
    async def send(message):
        sent.append(message)
    scope = {"type": "http", "method": "POST", "path": "/v1/payment_intents", "headers": []}
    await MetricsMiddleware(answer, FastAPI())(scope, None, send)

asyncio.run(main())
print(sent[-1]["body"].decode())
"""


def test_a_metric_that_cannot_be_written_never_fails_the_request_or_decision(
    tmp_path: Path,
) -> None:
    """The workers' metrics folder deleted under a running server: the decision and the
    request go through; the log says the metric was lost."""
    (tmp_path / "deleted").mkdir()
    env = {**os.environ, instruments.MULTIPROC_ENV: str(tmp_path / "deleted")}
    done = subprocess.run([sys.executable, "-c", NO_FOLDER], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "paid"
    assert done.stderr.count("a metric could not be recorded") == 1, done.stderr[-2000:]
