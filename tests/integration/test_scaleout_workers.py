"""``smilepay serve --workers 2`` as customers meet it: one gallery and one session store for
every worker (issue 12, section 4).

A real server with two worker processes, on SQLite with the FAISS gallery (sessions in the
database) and on PostgreSQL with pgvector (sessions in Redis); every request pinned to one
worker by the pid that holds its connection (``ss``). Real models, the bona fide webcam video,
a smile challenge with a long step timeout so the recorded clip answers it in real time.
The tests of one engine run in order against one server: enrol, pay, duplicate, a challenge
spread over both workers, erasure, then ``smilepay enrol`` and ``smilepay index rebuild``
beside it.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from scaleout_support import Answer, Server, smilepay, start_server, video_jpegs
from support import require

pytestmark = pytest.mark.integration
REAL = "video/bona_fide/apfol_webcam_real.webm"
PHONE, COPYCAT = "+4915112345678", "+4917099990000"
W1, W2 = 0, 1


@pytest.fixture(scope="module", params=["sqlite_faiss", "postgres_pgvector"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
           data_dir: Path) -> Iterator[Server]:
    from smilepay.adapters.sql.provision import scratch_database

    require((data_dir / REAL).is_file(), f"bona fide video {data_dir / REAL}")
    require(shutil.which("ss") is not None, "ss (iproute2) to tell which worker holds a socket")
    engine, gallery = str(request.param).split("_")
    pg = request.getfixturevalue("postgres_url") if engine == "postgres" else None
    work = tmp_path_factory.mktemp(engine)
    extra = {"SMILEPAY_GALLERY": gallery,
             "SMILEPAY_GALLERY_CACHE_DIR": str(work / "var" / "gallery-cache")}
    if engine == "postgres":
        extra["SMILEPAY_REDIS_URL"] = "redis://127.0.0.1:6379/0"
    with scratch_database("sqlite" if engine == "sqlite" else "postgres", work, pg) as url:
        found = start_server(work / "var", url, **extra)
        try:
            yield found
        finally:
            found.close()


@pytest.fixture(scope="module")
def state() -> dict[str, Any]:
    """What one test leaves to the next (the same server, in order)."""
    return {}


def terminal(server: Server) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.keys['terminal_key']}"}


def merchant(server: Server) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.keys['secret_key']}"}


def wallet(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def ok(answer: Answer) -> dict[str, Any]:
    assert answer.status == 200, (answer.status, answer.body)
    return answer.body


def sign_up(server: Server, worker: int, phone: str, name: str) -> str:
    signup = ok(server.call(worker, "POST", "/v1/face/signups", json_body={"phone": phone},
                            headers=terminal(server)))
    assert signup["test_code"], "a test-mode merchant shows the code"
    verified = ok(server.call(worker, "POST", f"/v1/face/signups/{signup['id']}/verify",
                              json_body={"code": signup["test_code"], "name": name},
                              headers=terminal(server)))
    token = str(verified["session_token"])
    text = ok(server.call(worker, "GET", "/v1/face/consent_text"))
    ok(server.call(worker, "POST", "/v1/face/consent", headers=wallet(token),
                   json_body={"version": text["version"], "digest": text["digest"]}))
    return token


def stream(server: Server, workers: list[int], session_id: str, frames: Iterator[bytes],
           headers: dict[str, str], limit: int = 120) -> tuple[dict[str, Any], list[str]]:
    """Frames posted round-robin over ``workers`` until the challenge is decided: the last
    answer and the pid that served each frame."""
    answer: dict[str, Any] = {"state": "no_frames"}
    served: list[str] = []
    for i, jpeg in enumerate(frames):
        assert i < limit, f"undecided after {limit} frames: {answer}"
        got = server.call(workers[i % len(workers)], "POST",
                          f"/v1/face/sessions/{session_id}/frames", content=jpeg,
                          headers={**headers, "Content-Type": "image/jpeg",
                                   "X-Capture-Ms": str(int(time.time() * 1000))})
        answer = ok(got)
        served.append(got.pid)
        if answer["state"] != "collecting":
            break
    return answer, served


def enrol(server: Server, worker: int, token: str, data_dir: Path) -> Answer:
    session = ok(server.call(worker, "POST", "/v1/face/enrolments", headers=wallet(token)))
    answer, _ = stream(server, [worker], session["id"], video_jpegs(data_dir / REAL),
                       wallet(token))
    assert answer["state"] == "passed", answer
    return server.call(worker, "POST", f"/v1/face/enrolments/{session['id']}/complete",
                       headers=wallet(token))


def pay(server: Server, workers: list[int], data_dir: Path, phone_tail: str = "5678",
        amount_minor: int = 1250) -> dict[str, Any]:
    """A payment intent, a face session on ``workers[0]``, frames over ``workers``, the
    confirmation on ``workers[-1]``."""
    intent = ok(server.call(workers[0], "POST", "/v1/payment_intents", headers=merchant(server),
                            json_body={"amount_minor": amount_minor, "currency": "eur",
                                       "terminal": server.keys["terminal_id"]}))
    session = ok(server.call(workers[0], "POST", "/v1/face/payments", headers=terminal(server),
                             json_body={"payment_intent": intent["id"]}))
    answer, served = stream(server, workers, session["id"], video_jpegs(data_dir / REAL),
                            terminal(server))
    confirmed = ok(server.call(workers[-1], "POST", f"/v1/face/payments/{session['id']}/confirm",
                               headers=terminal(server), json_body={"phone": phone_tail}))
    return {**confirmed, "challenge": answer, "served": served, "intent": intent["id"],
            "session": session["id"]}


def balance(server: Server, worker: int, token: str) -> int:
    found = ok(server.call(worker, "GET", "/v1/face/wallet", headers=wallet(token)))
    return int(found["balance"]["available_minor"])


def test_a_face_enrolled_through_worker_1_pays_through_worker_2(
        server: Server, state: dict[str, Any], data_dir: Path) -> None:
    # worker 2 searches its gallery first (a worker that loads it only on first use would
    # otherwise see the enrolment by chance)
    before = pay(server, [W2], data_dir)
    assert before["challenge"]["state"] == "passed", before["challenge"]
    assert before["status"] == "refused" and before["reason"] == "no_match", before
    token = sign_up(server, W1, PHONE, "Apfol")
    done = enrol(server, W1, token, data_dir)
    assert done.status == 200 and done.body["frames_used"] >= 1, done.body
    ok(server.call(W1, "POST", "/v1/face/wallet/topups", headers=wallet(token),
                   json_body={"amount_minor": 5000}))
    state["token"] = token
    result = pay(server, [W2], data_dir)
    assert set(result["served"]) == {server.pids[W2]}
    assert result["challenge"]["state"] == "passed", result["challenge"]
    assert result["status"] == "succeeded", result
    assert balance(server, W1, token) == 5000 - 1250


def test_the_same_face_is_refused_on_another_account_through_worker_2(
        server: Server, state: dict[str, Any], data_dir: Path) -> None:
    assert "token" in state, "needs the enrolment of the first test"
    token = sign_up(server, W2, COPYCAT, "Copycat")
    done = enrol(server, W2, token, data_dir)
    assert done.status in (409, 422), done.body
    assert done.body["error"]["code"] == "face_already_enrolled", done.body
    copycat = ok(server.call(W1, "GET", "/v1/face/wallet", headers=wallet(token)))
    assert copycat["face"]["templates"] == 0, copycat["face"]


def test_a_challenge_spread_over_both_workers_is_decided_once(
        server: Server, state: dict[str, Any], data_dir: Path) -> None:
    assert "token" in state, "needs the enrolment of the first test"
    result = pay(server, [W1, W2], data_dir)
    assert set(result["served"]) == set(server.pids), result["served"]  # both saw frames
    assert result["challenge"]["state"] == "passed", result["challenge"]
    assert result["status"] == "succeeded", result
    session = result["session"]
    paid = balance(server, W2, state["token"])
    # a late frame on either worker gets the decision already made, not a new one
    for worker in (W1, W2):
        late = next(video_jpegs(data_dir / REAL))
        again = ok(server.call(worker, "POST", f"/v1/face/sessions/{session}/frames",
                               content=late, headers={**terminal(server),
                                                      "Content-Type": "image/jpeg"}))
        assert again["state"] == "passed", again
    # a second confirmation on the other worker does not pay twice
    server.call(W1, "POST", f"/v1/face/payments/{session}/confirm", headers=terminal(server),
                json_body={"phone": "5678"})
    assert balance(server, W2, state["token"]) == paid
    mine = ok(server.call(W2, "GET", f"/v1/face/audit?subject={result['intent']}",
                          headers=merchant(server)))["data"]
    liveness = [a for a in mine if a["kind"] == "liveness_pay"]
    accepted = [a for a in mine if a["kind"] == "pay" and a["decision"] == "accepted"]
    assert len(liveness) == 1 and len(accepted) == 1, mine


def sealed_vectors(server: Server, customer_id: str) -> list[tuple[str, np.ndarray]]:
    """(template id, vector) of ``customer_id``'s templates, opened with the server's keys."""
    from sqlalchemy import create_engine

    from smilepay.adapters.crypto import load_or_create_secrets
    from smilepay.adapters.sql.identity_store import SqlIdentityStore
    from smilepay.domain.templates import rotation_space, template_associated_data, unpack_vector
    from smilepay.domain.tenants import Scope

    keys = load_or_create_secrets(server.var_dir / "face-secrets.json").key_ring
    engine = create_engine(server.env["SMILEPAY_DATABASE_URL"])
    try:
        templates = SqlIdentityStore(engine).templates_of(
            Scope(server.keys["tenant_id"], livemode=False), customer_id)
    finally:
        engine.dispose()
    found = []
    for t in templates:
        aad = template_associated_data(rotation_space(t.tenant_id, t.livemode), t.template_id,
                                       t.model_id)
        found.append((t.template_id, np.asarray(unpack_vector(keys.open(t.sealed, aad), t.dim))))
    return found


def files_holding(root: Path, needles: list[bytes]) -> list[str]:
    return [str(p) for p in root.rglob("*") if p.is_file()
            and any(n in p.read_bytes() for n in needles)]


def snapshots_holding(server: Server, template_id: str) -> list[str]:
    """Gallery snapshots (sealed) under the var dir that, opened, still list ``template_id``."""
    from smilepay.adapters.crypto import load_or_create_secrets
    from smilepay.adapters.gallery.snapshot import SnapshotFile

    keys = load_or_create_secrets(server.var_dir / "face-secrets.json").key_ring
    holding = []
    for path in server.var_dir.rglob("*.snapshot"):
        found = SnapshotFile(path, keys).read(50_000, 8)
        if found is not None and any(template_id in s.ids for s in found[1].values()):
            holding.append(str(path))
    return holding


def write_snapshot(server: Server) -> None:
    """A FAISS snapshot of the whole gallery in the server's cache dir, as a third worker that
    stopped leaves one (the server's own are written rarely)."""
    from smilepay.adapters.crypto import load_or_create_secrets
    from smilepay.adapters.gallery.faiss_gallery import FaissGallery
    from smilepay.adapters.sql.engine import make_engine

    keys = load_or_create_secrets(server.var_dir / "face-secrets.json").key_ring
    engine = make_engine(server.env["SMILEPAY_DATABASE_URL"])
    try:
        third = FaissGallery(engine, keys, cache_dir=Path(server.env["SMILEPAY_GALLERY_CACHE_DIR"]))
        third.catch_up()
        third.save_snapshot()
    finally:
        engine.dispose()


def test_an_erasure_through_worker_1_stops_the_very_next_match_on_worker_2(
        server: Server, state: dict[str, Any], data_dir: Path) -> None:
    assert "token" in state, "needs the enrolment of the first test"
    token = state["token"]
    customer = ok(server.call(W1, "GET", "/v1/face/wallet", headers=wallet(token)))["customer"]
    erased = sealed_vectors(server, customer["id"])
    assert len(erased) == 1
    faiss = server.env["SMILEPAY_GALLERY"] == "faiss"
    if faiss:
        write_snapshot(server)
        assert snapshots_holding(server, erased[0][0]) != [], "the snapshot holds it before"
    before = balance(server, W1, token)
    receipt = ok(server.call(W1, "DELETE", "/v1/face/consent", headers=wallet(token)))
    assert receipt["templates_deleted"] == 1, receipt
    state["customer"] = customer["id"]
    result = pay(server, [W2], data_dir)
    assert result["challenge"]["state"] == "passed", result["challenge"]
    assert result["status"] == "refused" and result["reason"] == "no_match", result
    assert balance(server, W2, token) == before
    template_id, vector = erased[0]
    plain = [vector.astype(np.float32).tobytes(), vector.astype(np.float16).tobytes()]
    # no file of the run (database, its WAL, caches, logs) holds the vector in the clear, and
    # none under the var dir (gallery cache, index, metrics) names the template
    assert files_holding(server.var_dir.parent, plain) == []
    assert files_holding(server.var_dir, [template_id.encode()]) == []
    assert snapshots_holding(server, template_id) == []  # dropped or rewritten without it


def test_smilepay_enrol_beside_the_live_server_is_seen_at_once(
        server: Server, state: dict[str, Any], data_dir: Path) -> None:
    assert "customer" in state, "needs the erasure of the test before"
    photos = sorted((data_dir / "pad_apfol" / "live").glob("*"))[:8]
    require(len(photos) >= 3, "live photos in pad_apfol/live")
    done = smilepay(server.env, "enrol", *map(str, photos), "--phone", PHONE,
                    "--consent-accepted")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert state["customer"] in done.stdout  # the same customer, enrolled again
    before = balance(server, W1, state["token"])
    result = pay(server, [W2], data_dir)  # no restart, no wait
    assert result["status"] == "succeeded", result
    assert balance(server, W1, state["token"]) == before - 1250


def test_smilepay_index_rebuild_beside_the_live_server_is_seen_at_once(
        server: Server, state: dict[str, Any], data_dir: Path) -> None:
    assert "customer" in state, "needs the erasure of the test before"
    rebuilt = smilepay(server.env, "index", "rebuild")
    assert rebuilt.returncode == 0, rebuilt.stdout[-2000:] + rebuilt.stderr[-2000:]
    assert server.keys["tenant_id"] in rebuilt.stdout
    before = balance(server, W2, state["token"])
    result = pay(server, [W1], data_dir)  # the other worker than the last payment
    assert result["status"] == "succeeded", result
    assert balance(server, W2, state["token"]) == before - 1250
