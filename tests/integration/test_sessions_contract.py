"""One contract for both session stores (Redis, the SQL database on SQLite and PostgreSQL):
put/get, TTL expiry, compare-and-set, atomic updates from two "workers", numbers only."""

from __future__ import annotations

import os
import secrets
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from smilepay.errors import InvalidInput
from smilepay.ports.sessions import MAX_SESSION_BYTES, SessionStore
from support import require

pytestmark = pytest.mark.integration


@pytest.fixture(params=["redis", "sqlite", "postgres"])
def stores(request: pytest.FixtureRequest, tmp_path: Path
           ) -> Iterator[tuple[SessionStore, SessionStore]]:
    """Two store instances on one server or database (two workers)."""
    if request.param == "redis":
        import redis

        from smilepay.adapters.sessions.redis_sessions import RedisSessionStore

        url = os.environ.get("SMILEPAY_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
        try:
            redis.Redis.from_url(url, socket_connect_timeout=3).ping()
        except redis.RedisError as exc:
            require(False, f"Redis at {url} ({type(exc).__name__})")
        prefix = f"smilepay:test:{secrets.token_hex(4)}"
        pair = (RedisSessionStore(url, prefix=prefix), RedisSessionStore(url, prefix=prefix))
        yield pair
        for key in pair[0].client.scan_iter(match=f"{prefix}:*"):
            pair[0].client.delete(key)
        for s in pair:
            s.close()
        return
    from smilepay.adapters.sessions.sql_sessions import SqlSessionStore
    from smilepay.adapters.sql.engine import make_engine
    from smilepay.adapters.sql.migrate import upgrade_database
    from smilepay.adapters.sql.provision import scratch_database

    pg = request.getfixturevalue("postgres_url") if request.param == "postgres" else None
    with scratch_database(request.param, tmp_path, pg, migrate=False) as url:
        upgrade_database(url, "gallery@head")
        engines = [make_engine(url), make_engine(url)]
        yield SqlSessionStore(engines[0]), SqlSessionStore(engines[1])
        for e in engines:
            e.dispose()


def test_put_get_drop_across_workers(stores: tuple[SessionStore, SessionStore]) -> None:
    first, second = stores
    value = {"scope": ["ten_a", True], "quality": [0.91, 0.87], "steps_done": 2}
    assert first.put("frames", "chl_1", value, 60) == 1
    found = second.get("frames", "chl_1")
    assert found is not None and found.value == value and found.version == 1
    assert second.get("challenge", "chl_1") is None  # kinds are apart
    assert first.count("frames") == 1
    assert second.drop("frames", "chl_1") and first.get("frames", "chl_1") is None
    assert not second.drop("frames", "chl_1")


def test_expired_sessions_read_as_absent(stores: tuple[SessionStore, SessionStore]) -> None:
    first, second = stores
    first.put("enrol", "enr_1", {"n": 1}, 0.3)
    assert second.get("enrol", "enr_1") is not None
    time.sleep(0.45)
    assert second.get("enrol", "enr_1") is None
    assert second.replace("enrol", "enr_1", {"n": 2}, 1) is None
    assert second.count("enrol") == 0


def test_compare_and_set_lets_one_writer_win(stores: tuple[SessionStore, SessionStore]) -> None:
    first, second = stores
    first.put("frames", "chl_2", {"frames": 0}, 60)
    assert first.replace("frames", "chl_2", {"frames": 1}, 1) == 2
    assert second.replace("frames", "chl_2", {"frames": 99}, 1) is None  # stale version
    found = second.get("frames", "chl_2")
    assert found is not None and found.value == {"frames": 1} and found.version == 2


def test_concurrent_updates_from_two_workers_lose_nothing(
        stores: tuple[SessionStore, SessionStore]) -> None:
    first, second = stores
    first.put("frames", "chl_3", {"seen": []}, 60)

    def post_frames(store: SessionStore, offset: int) -> None:
        for i in range(8):
            result = store.update("frames", "chl_3",
                                  lambda v, i=i: {"seen": [*v["seen"], offset + i]},
                                  attempts=200)
            assert result is not None

    threads = [threading.Thread(target=post_frames, args=(s, 100 * n))
               for n, s in enumerate((first, second, first, second))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    found = first.get("frames", "chl_3")
    assert found is not None
    assert sorted(found.value["seen"]) == sorted(100 * n + i for n in range(4) for i in range(8))
    assert found.version == 1 + 32


def test_only_numbers_and_text_are_kept(stores: tuple[SessionStore, SessionStore]) -> None:
    first, _ = stores
    with pytest.raises(InvalidInput):
        first.put("frames", "chl_4", {"pixels": b"\x00\x01"}, 60)
    with pytest.raises(InvalidInput):
        first.put("frames", "chl_4", {"big": "x" * (MAX_SESSION_BYTES + 1)}, 60)
    with pytest.raises(InvalidInput):
        first.put("frames", "bad key!", {"n": 1}, 60)
    with pytest.raises(InvalidInput):
        first.put("photos", "chl_4", {"n": 1}, 60)
    with pytest.raises(InvalidInput):
        first.put("frames", "chl_4", {"n": 1}, 0)
    assert first.get("frames", "chl_4") is None
