"""Two face contexts on one database act as two worker processes: the gallery and the frame
sessions they share (the FAISS gallery kept by the change log, sessions in the SQL database or
Redis). The multi-process proof with ``smilepay serve --workers 2`` is
tests/integration/test_scaleout_*.py; these pin the service wiring itself."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from smilepay.adapters.sql.identity_store import SqlIdentityStore
from smilepay.adapters.sql.migrate import upgrade_engine
from smilepay.bootstrap import build_face_context
from smilepay.config import FaceSettings, Settings
from smilepay.domain.consent import consent_text
from smilepay.domain.identity import FaceAlreadyEnrolled
from smilepay.domain.tenants import Scope
from smilepay.services.enrol import give_consent, store_template
from smilepay.services.erase import erase_face
from smilepay.services.face_context import FaceContext
from smilepay.services.face_sessions import FrameSession
from smilepay.vision.liveness.types import Action, Challenge
from support import require

pytestmark = pytest.mark.integration

SCOPE = Scope("ten_shared", False)
MODEL = "scripted_model"
T0 = 1_765_000_000_000


def _contexts(url: str, tmp: Path, redis_url: str = "") -> list[FaceContext]:
    from smilepay.adapters.sql.engine import make_engine

    app = Settings(var_dir=tmp, redis_url=redis_url)
    settings = FaceSettings(challenge="smile", secrets_file=str(tmp / "secrets.json"))
    return [build_face_context(SqlIdentityStore(make_engine(url)), settings, app=app)
            for _ in range(2)]


def _sqlite(tmp: Path) -> str:
    from smilepay.adapters.sql.engine import make_engine

    url = f"sqlite:///{tmp / 'shared.db'}"
    upgrade_engine(make_engine(url))
    return url


@pytest.fixture(params=["sqlite", "postgres"])
def workers(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[list[FaceContext]]:
    """SQLite with the FAISS gallery, PostgreSQL with pgvector (the defaults)."""
    from smilepay.adapters.sql.provision import scratch_database

    pg = request.getfixturevalue("postgres_url") if request.param == "postgres" else None
    with scratch_database(request.param, tmp_path, pg) as url:
        found = _contexts(url, tmp_path)
        assert found[0].gallery.name == ("faiss" if request.param == "sqlite" else "pgvector")
        yield found
        for fc in found:
            fc.gallery.close()
            fc.identity.engine.dispose()  # type: ignore[attr-defined]


def _face(seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal(128).astype(np.float32)
    return v / np.linalg.norm(v)


def _enrol(fc: FaceContext, customer: str, vector: np.ndarray) -> dict[str, object]:
    text = consent_text()
    give_consent(fc, SCOPE, customer, text.version, text.digest, T0)
    return store_template(fc, SCOPE, customer, [vector], [1.0], MODEL, T0, source="test")


def test_an_enrolment_on_one_worker_is_found_by_the_other_and_blocks_a_duplicate(
        workers: list[FaceContext]) -> None:
    first, second = workers
    face = _face(1)
    assert second.search(SCOPE, MODEL, face) == []  # the second worker has loaded its gallery
    enrolled = _enrol(first, "cus_a", face)
    hits = second.search(SCOPE, MODEL, face)
    assert [(h.template_id, h.customer_id) for h in hits] == [(enrolled["template"], "cus_a")]
    assert hits[0].score == pytest.approx(1.0, abs=1e-5)
    near = face + 0.05 * _face(2)
    with pytest.raises(FaceAlreadyEnrolled):
        _enrol(second, "cus_b", near / np.linalg.norm(near))
    assert second.identity.templates_of(SCOPE, "cus_b") == []  # rolled back with the check
    assert [h.customer_id for h in first.search(SCOPE, MODEL, face)] == ["cus_a"]
    other = _enrol(second, "cus_b", _face(3))  # another face is welcome
    assert first.search(SCOPE, MODEL, _face(3))[0].template_id == other["template"]


def test_re_enrolment_replaces_the_old_template_in_the_gallery(
        workers: list[FaceContext]) -> None:
    first, second = workers
    old = _enrol(first, "cus_a", _face(1))
    new = _enrol(second, "cus_a", _face(4))
    assert new["replaced_templates"] == 1
    ids = {h.template_id for h in first.search(SCOPE, MODEL, _face(1))}
    assert old["template"] not in ids and new["template"] in ids


def test_an_erasure_on_one_worker_is_unsearchable_on_the_other_at_once(
        workers: list[FaceContext], tmp_path: Path) -> None:
    first, second = workers
    face = _face(5)
    enrolled = _enrol(first, "cus_a", face)
    assert second.search(SCOPE, MODEL, face)  # loaded and seen
    faiss = second.gallery.name == "faiss"
    second.gallery.close()  # FAISS: writes its snapshot cache with the template in it
    assert (tmp_path / "face-index" / "gallery.snapshot").is_file() == faiss
    receipt = erase_face(first, SCOPE, "cus_a", T0 + 1)
    assert receipt.template_count == 1
    assert second.search(SCOPE, MODEL, face) == []
    assert first.search(SCOPE, MODEL, face) == []
    assert first.identity.templates_of(SCOPE, "cus_a") == []
    snapshots = list((tmp_path / "face-index").glob("*"))
    assert all(enrolled["template"].encode() not in p.read_bytes() for p in snapshots)
    assert not any(p.name == "gallery.snapshot" for p in snapshots)  # dropped by the erasure


def _session(fc: FaceContext, challenge_id: str) -> FrameSession:
    session = FrameSession(challenge_id, SCOPE, "pay", "pi_x",
                           Challenge("pi_x:n", (Action.SMILE,), T0, 6000, T0 + 8000),
                           owner="terminal:trm_x")
    fc.sessions.put(session)
    return session


def _race(workers: list[FaceContext]) -> None:
    """Eight threads on two workers add 15 frames each to one session: none is lost."""
    _session(workers[0], "chl_race")

    errors: list[BaseException] = []

    def post(fc: FaceContext) -> None:
        try:
            for _ in range(15):
                fc.sessions.update("chl_race", lambda s: setattr(s, "frames_seen",
                                                                     s.frames_seen + 1))
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=post, args=(workers[i % 2],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == [] and not any(t.is_alive() for t in threads)
    assert workers[1].sessions.get("chl_race", "terminal:trm_x").frames_seen == 120
    with pytest.raises(Exception, match="expected an open face session"):
        workers[1].sessions.get("chl_race", "terminal:trm_other")


def test_frames_of_one_session_on_two_workers_are_never_lost_sql(
        workers: list[FaceContext]) -> None:
    _race(workers)


def test_frames_of_one_session_on_two_workers_are_never_lost_redis(tmp_path: Path) -> None:
    import redis

    url = os.environ.get("SMILEPAY_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        require(False, f"Redis at {url} ({type(exc).__name__})")
    found = _contexts(_sqlite(tmp_path), tmp_path, redis_url=url)
    assert type(found[0].sessions.store).__name__ == "RedisSessionStore"
    try:
        _race(found)
        found[0].sessions.drop("chl_race")
        with pytest.raises(Exception, match="expected an open face session"):
            found[1].sessions.get("chl_race")
    finally:
        for fc in found:
            fc.gallery.close()


def test_a_session_expires_after_its_ttl(workers: list[FaceContext]) -> None:
    first, second = workers
    first.sessions.ttl_s = 1
    _session(first, "chl_short")
    assert second.sessions.get("chl_short").challenge_id == "chl_short"
    time.sleep(1.3)
    with pytest.raises(Exception, match="expected an open face session"):
        second.sessions.get("chl_short")


def test_a_rebuild_indexes_templates_the_gallery_lacks_once_and_every_worker_sees_them(
        workers: list[FaceContext]) -> None:
    from smilepay.services.face_index import rebuild_gallery, unindexed

    first, second = workers
    kept = _enrol(first, "cus_a", _face(6))
    face = _face(7)
    sealed = first.seal(SCOPE, "cus_b", face, MODEL, 1.0, T0)  # stored before the gallery
    first.identity.add_template(sealed)
    assert unindexed(second) == {SCOPE: 1}
    assert second.search(SCOPE, MODEL, face)[0].customer_id != "cus_b"
    assert rebuild_gallery(first, SCOPE) == 2
    assert rebuild_gallery(first, SCOPE) == 2  # again: nothing doubled
    assert unindexed(second) == {}
    assert second.gallery.size(SCOPE) == 2
    hits = second.search(SCOPE, MODEL, face)
    assert (hits[0].template_id, hits[0].customer_id) == (sealed.template_id, "cus_b")
    assert second.search(SCOPE, MODEL, _face(6))[0].template_id == kept["template"]
