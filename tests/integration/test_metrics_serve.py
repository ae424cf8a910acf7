"""``smilepay serve --workers 2``: whichever worker a scrape lands on, ``/metrics`` reports the
requests and face decisions of both (prometheus-client's multiprocess mode), and each worker's
own gallery gauges, with the gallery and session store registered as docs/operations.md says
the composition root does (``create_watched_app`` below makes those calls)."""

from __future__ import annotations

import http.client
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from smilepay.cli._served import free_port
from support import require

pytestmark = pytest.mark.integration
TOKEN = secrets.token_urlsafe(32)


def create_watched_app() -> Any:
    """``create_app`` plus the registrations the gallery wiring makes (docs/operations.md),
    sampling every 0.5 s instead of 15 so the test need not wait."""
    from smilepay.api.app import create_app
    from smilepay.bootstrap import face_context_of
    from smilepay.instruments import watch_gallery, watch_sessions
    from smilepay.services.face_index import enrolled_scopes

    app = create_app()
    face = face_context_of(app.state.container)
    watch_gallery(face.gallery, lambda: enrolled_scopes(face.identity), every_s=0.5)
    watch_sessions(face.sessions.store)
    return app


def serving_pids(port: int) -> dict[int, str]:
    """client port -> pid of the worker holding that connection."""
    out = subprocess.run(["ss", "-tnpH", "state", "established", f"( sport = :{port} )"],
                         capture_output=True, text=True, check=True).stdout
    found = {}
    for line in out.splitlines():
        peer = re.search(r"\S+:(\d+)\s+\S+:(\d+)\s+users:.*pid=(\d+)", line)
        if peer and int(peer.group(1)) == port:
            found[int(peer.group(2))] = peer.group(3)
    return found


def call(conn: http.client.HTTPConnection, method: str, path: str,
         body: dict[str, Any] | None = None, token: str | None = None) -> tuple[int, bytes]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if body is not None:
        headers["Content-Type"] = "application/json"
    conn.request(method, path, body=json.dumps(body) if body is not None else None,
                 headers=headers)
    answer = conn.getresponse()
    return answer.status, answer.read()


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


HEALTH = ("smilepay_http_request_duration_seconds_count",
          frozenset({"method": "GET", "route": "/health", "status": "2xx"}.items()))
REFUSED = ("smilepay_face_decisions_total", frozenset(
    {"kind": "pay", "outcome": "refused", "reason": "challenge_not_passed"}.items()))
WORKERS = ("smilepay_workers", frozenset())


def scrape_from_every_worker(port: int) -> dict[str, dict[Any, float]]:
    """Scrapes over a burst of connections until both workers have answered one; by pid."""
    by_pid: dict[str, dict[Any, float]] = {}
    for _ in range(5):
        conns = [http.client.HTTPConnection("127.0.0.1", port, timeout=10) for _ in range(8)]
        for conn in conns:
            conn.connect()
        answers = [call(conn, "GET", "/metrics", token=TOKEN) for conn in conns]
        pids = serving_pids(port)  # answered: each connection is held by its worker now
        for conn, (status, text) in zip(conns, answers, strict=True):
            assert status == 200, text
            by_pid[pids[conn.sock.getsockname()[1]]] = samples(text.decode())
            conn.close()
        if len(by_pid) == 2:
            return by_pid
    raise AssertionError(f"scrapes reached only the workers {sorted(by_pid)}")


def add_one_template(url: str, var_dir: Path, tenant_id: str) -> int:
    """Enrol one template (its sealed row, its vector) through a FAISS gallery of this process
    on the server's database and key ring; the templates now searchable in the tenant's test
    mode."""
    from datetime import UTC, datetime

    import numpy as np

    from smilepay.adapters.crypto import load_or_create_secrets
    from smilepay.adapters.gallery.faiss_gallery import FaissGallery
    from smilepay.adapters.sql.engine import make_engine
    from smilepay.adapters.sql.identity_store import SqlIdentityStore
    from smilepay.domain.templates import SealedTemplate, pack_vector
    from smilepay.domain.tenants import Scope
    from smilepay.ports.gallery import GalleryEntry

    engine = make_engine(url)
    keys = load_or_create_secrets(var_dir / "face-secrets.json").key_ring
    gallery = FaissGallery(engine, keys)
    vector = np.random.default_rng(3).normal(size=128).astype(np.float32)
    vector /= np.linalg.norm(vector)
    scope = Scope(tenant_id, False)
    SqlIdentityStore(engine).add_template(SealedTemplate(
        "ftpl_metrics01", tenant_id, False, "cus_metrics01", "m1", 1, 128, 0.9,
        datetime.now(UTC), keys.seal(pack_vector(vector), b"ftpl_metrics01")))
    gallery.add([GalleryEntry("ftpl_metrics01", scope, "cus_metrics01", "m1", vector)])
    held = gallery.size(scope)
    engine.dispose()
    return held


def open_frame_sessions(url: str) -> int:
    from smilepay.adapters.sessions.sql_sessions import SqlSessionStore
    from smilepay.adapters.sql.engine import make_engine

    engine = make_engine(url)
    count = SqlSessionStore(engine).count("frames")
    engine.dispose()
    return count


def test_one_scrape_of_either_worker_reports_both(tmp_path: Path) -> None:
    require(shutil.which("ss") is not None, "ss (iproute2) to see which worker holds a connection")
    from smilepay.adapters.crypto import load_or_create_secrets
    from smilepay.bootstrap import build_container
    from smilepay.services.demo import create_demo_merchant

    url = f"sqlite:///{tmp_path / 'smilepay.db'}"
    container = build_container(url)  # migrated once, before two workers start
    keys = create_demo_merchant(container)
    container.close()
    load_or_create_secrets(tmp_path / "face-secrets.json")  # one set for both workers
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    here = Path(__file__).resolve().parent  # the workers import create_watched_app from here
    env.update({"SMILEPAY_DATABASE_URL": url, "SMILEPAY_VAR_DIR": str(tmp_path),
                "SMILEPAY_METRICS_TOKEN": TOKEN, "SMILEPAY_FACE_CHALLENGE": "smile",
                "PYTHONPATH": os.pathsep.join([str(here), str(here.parent),
                                               env.get("PYTHONPATH", "")])})
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "smilepay", "serve",
         "--app", "test_metrics_serve:create_watched_app", "--host", "127.0.0.1",
         "--port", str(port), "--workers", "2", "--no-access-log"],
        env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                probe = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                if call(probe, "GET", "/metrics", token=TOKEN)[0] == 200:
                    probe.close()
                    break
            except OSError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, "server did not start"
            time.sleep(0.3)
        assert sorted(p.name for p in (tmp_path / "metrics").iterdir()) == [str(port)]

        before = scrape_from_every_worker(port)
        counts = {pid: found.get(HEALTH, 0.0) for pid, found in before.items()}
        assert len(set(counts.values())) == 1, counts  # each worker reports the same total

        clients = [http.client.HTTPConnection("127.0.0.1", port, timeout=10) for _ in range(16)]
        for client in clients:
            client.connect()  # a burst: the kernel spreads it over both workers
        for client in clients:
            assert call(client, "GET", "/health")[0] == 200
        served = serving_pids(port)
        assert len({served[c.sock.getsockname()[1]] for c in clients}) == 2, served
        for client in clients:
            client.close()

        kiosk = http.client.HTTPConnection("127.0.0.1", port, timeout=30)  # one worker
        status, made = call(kiosk, "POST", "/v1/payment_intents", {
            "amount_minor": 1250, "currency": "eur", "terminal": keys.terminal_id},
            keys.secret_key)
        assert status == 200, made
        status, opened = call(kiosk, "POST", "/v1/face/payments",
                              {"payment_intent": json.loads(made)["id"]}, keys.terminal_key)
        assert status == 200, opened
        status, refused = call(kiosk, "POST",
                               f"/v1/face/payments/{json.loads(opened)['id']}/confirm",
                               {"phone": "5678"}, keys.terminal_key)
        assert status == 200 and json.loads(refused)["reason"] == "challenge_not_passed"
        kiosk.close()

        enrolled = add_one_template(url, tmp_path, keys.tenant_id)  # as a third process would
        time.sleep(1.5)  # both workers sample their gallery every 0.5 s
        after = scrape_from_every_worker(port)
        first = next(iter(counts.values()))
        frames = open_frame_sessions(url)
        for pid, found in after.items():
            assert found.get(HEALTH) == first + 16, (pid, found.get(HEALTH))
            assert found.get(REFUSED) == 1, pid
            assert found.get(WORKERS) == 2, pid
            for worker in after:  # every worker's own gallery, in any worker's scrape
                held = ("smilepay_gallery_templates",
                        frozenset({"gallery": "faiss", "pid": worker}.items()))
                assert found.get(held) == enrolled, (pid, worker)
            entries = ("smilepay_session_store_entries", frozenset({"kind": "frames"}.items()))
            assert found.get(entries) == frames >= 1, pid
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=60) == 0
        log.close()
        errors = (tmp_path / "serve.log").read_text()
        assert "Traceback" not in errors, errors[-3000:]
    assert not (tmp_path / "metrics" / str(port)).exists()  # the values died with the server
