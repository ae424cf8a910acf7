"""``RedisSessionStore``: shared sessions in Redis (``SMILEPAY_REDIS_URL``). One hash per
session (``v`` the JSON, ``n`` the version) with the TTL on the key; compare-and-set is a
small Lua script, so it is atomic on the server. Keys are ``<prefix>:<kind>:<key>``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import redis

from smilepay.ports.sessions import (
    Json,
    Versioned,
    check_key,
    check_ttl,
    decode_session,
    encode_session,
    update_by_versions,
)

_PUT = """
local n = redis.call('HINCRBY', KEYS[1], 'n', 1)
redis.call('HSET', KEYS[1], 'v', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return n
"""
_REPLACE = """
local n = redis.call('HGET', KEYS[1], 'n')
if not n or tonumber(n) ~= tonumber(ARGV[2]) then return nil end
redis.call('HSET', KEYS[1], 'v', ARGV[1], 'n', tonumber(n) + 1)
if tonumber(ARGV[3]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
return tonumber(n) + 1
"""


class RedisSessionStore:
    def __init__(self, url: str, *, prefix: str = "smilepay:sess") -> None:
        self.client: Any = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self.prefix = prefix
        self._put = self.client.register_script(_PUT)
        self._replace = self.client.register_script(_REPLACE)

    def _key(self, kind: str, key: str) -> str:
        check_key(kind, key)
        return f"{self.prefix}:{kind}:{key}"

    def put(self, kind: str, key: str, value: Json, ttl_s: float) -> int:
        check_ttl(ttl_s)
        return int(self._put(keys=[self._key(kind, key)],
                             args=[encode_session(value), int(ttl_s * 1000)]))

    def get(self, kind: str, key: str) -> Versioned | None:
        found = self.client.hmget(self._key(kind, key), "v", "n")
        if found[0] is None or found[1] is None:
            return None
        return Versioned(decode_session(found[0]), int(found[1]))

    def replace(self, kind: str, key: str, value: Json, expected_version: int,
                ttl_s: float | None = None) -> int | None:
        if ttl_s is not None:
            check_ttl(ttl_s)
        result = self._replace(keys=[self._key(kind, key)],
                               args=[encode_session(value), expected_version,
                                     0 if ttl_s is None else int(ttl_s * 1000)])
        return None if result is None else int(result)

    def update(self, kind: str, key: str, change: Callable[[Json], Json],
               attempts: int = 20) -> Versioned | None:
        return update_by_versions(self, kind, key, change, attempts)

    def drop(self, kind: str, key: str) -> bool:
        return bool(self.client.delete(self._key(kind, key)))

    def count(self, kind: str) -> int:
        check_key(kind, "xxx")
        return sum(1 for _ in self.client.scan_iter(match=f"{self.prefix}:{kind}:*",
                                                     count=1000))

    def close(self) -> None:
        self.client.close()
