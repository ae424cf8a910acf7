"""The per-worker cache of authenticated keys: it expires, it forgets a revoked key, it can
be turned off."""

from __future__ import annotations

from smilepay.domain.tenants import KeyKind, Scope
from smilepay.services.tenants import Caller, CallerCache

CALLER = Caller(Scope("ten_1", False), KeyKind.SECRET, "key_1", None)


class Ticks:
    def __init__(self) -> None:
        self.now = 0

    def __call__(self) -> int:
        return self.now


def test_a_checked_key_is_trusted_for_the_ttl_only() -> None:
    ticks = Ticks()
    cache = CallerCache(1000, monotonic_ms=ticks)
    cache.put("hash", CALLER)
    ticks.now = 999
    assert cache.get("hash") == CALLER
    ticks.now = 1000
    assert cache.get("hash") is None


def test_revoking_forgets_the_key_at_once() -> None:
    cache = CallerCache(60_000, monotonic_ms=Ticks())
    other = Caller(Scope("ten_1", False), KeyKind.TERMINAL, "key_2", "term_1")
    cache.put("hash", CALLER)
    cache.put("hash2", other)
    cache.forget("key_1")
    assert (cache.get("hash"), cache.get("hash2")) == (None, other)


def test_ttl_zero_checks_every_call_in_the_database() -> None:
    cache = CallerCache(0, monotonic_ms=Ticks())
    cache.put("hash", CALLER)
    assert cache.get("hash") is None


def test_the_cache_stays_bounded() -> None:
    cache = CallerCache(60_000, max_entries=3, monotonic_ms=Ticks())
    for i in range(10):
        cache.put(f"hash{i}", CALLER)
    assert sum(cache.get(f"hash{i}") is not None for i in range(10)) <= 3
