"""Sessions port: short-lived state (frame, challenge, enrolment sessions) any worker can serve.

Values are JSON-able numbers and strings only, never pixels (``check_session_value`` refuses
bytes and caps the size). Every key has a time to live; an expired key reads as absent.
Updates are compare-and-set on a version number, so two workers writing one session never
lose each other's frames: read (value, version), compute, ``replace`` with the version read,
retry on ``None``; or call ``update`` which does that loop.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from smilepay.errors import InvalidInput

# The longest challenge (5 steps of 5 s plus 2 s of slack) at 20 frames a second, every frame
# with its 512-value identity vector (about 1.5 KB as JSON), is about 800 KB: 1 MiB holds it
# (tests/unit/test_face_sessions.py builds that session).
MAX_SESSION_BYTES = 1024 * 1024
MAX_TTL_S = 24 * 3600
KINDS = frozenset({"frames", "challenge", "enrol"})

Json = dict[str, Any]


@dataclass(frozen=True)
class Versioned:
    value: Json
    version: int


def check_key(kind: str, key: str) -> None:
    if kind not in KINDS:
        raise InvalidInput(f"expected a session kind in {sorted(KINDS)}, got {kind!r}")
    if not (3 <= len(key) <= 64) or not all(c.isalnum() or c in "_-" for c in key):
        raise InvalidInput(f"expected a session key of 3..64 letters, digits, _ or -, got {key!r}")


def check_ttl(ttl_s: float) -> None:
    if not (0 < ttl_s <= MAX_TTL_S):
        raise InvalidInput(f"expected a TTL in (0, {MAX_TTL_S}] s, got {ttl_s}")


def encode_session(value: Json) -> str:
    """The value as compact JSON; refuses bytes (pixels) and anything over the size cap."""
    if not isinstance(value, dict):
        raise InvalidInput(f"expected a JSON object, got {type(value).__name__}")
    try:
        text = json.dumps(value, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"expected numbers, strings, lists and objects, got {exc}") from exc
    if len(text) > MAX_SESSION_BYTES:
        raise InvalidInput(f"expected a session of at most {MAX_SESSION_BYTES} bytes, "
                           f"got {len(text)}")
    return text


def decode_session(text: str | bytes) -> Json:
    value = json.loads(text)
    if not isinstance(value, dict):
        raise InvalidInput(f"expected a stored JSON object, got {type(value).__name__}")
    return value


class SessionStore(Protocol):
    def put(self, kind: str, key: str, value: Json, ttl_s: float) -> int:
        """Create or overwrite; the new version (>= 1)."""
        ...

    def get(self, kind: str, key: str) -> Versioned | None: ...

    def replace(self, kind: str, key: str, value: Json, expected_version: int,
                ttl_s: float | None = None) -> int | None:
        """Write only if the stored version is ``expected_version``; the new version, or
        ``None`` when another writer came first or the session expired. The TTL is kept
        unless ``ttl_s`` is given."""
        ...

    def update(self, kind: str, key: str, change: Callable[[Json], Json],
               attempts: int = 20) -> Versioned | None:
        """Apply ``change`` atomically (compare-and-set loop); ``None`` when absent."""
        ...

    def drop(self, kind: str, key: str) -> bool: ...

    def count(self, kind: str) -> int:
        """Live (unexpired) sessions of a kind, for metrics."""
        ...

    def close(self) -> None: ...


class _VersionedStore(Protocol):
    def get(self, kind: str, key: str) -> Versioned | None: ...

    def replace(self, kind: str, key: str, value: Json, expected_version: int,
                ttl_s: float | None = None) -> int | None: ...


def update_by_versions(store: _VersionedStore, kind: str, key: str,
                       change: Callable[[Json], Json], attempts: int) -> Versioned | None:
    """``SessionStore.update`` on any store's ``get`` and ``replace``: read, change, write if
    the version is still the one read, up to ``attempts`` times; ``None`` when absent or every
    attempt lost to another writer."""
    for _ in range(attempts):
        found = store.get(kind, key)
        if found is None:
            return None
        value = change(found.value)
        version = store.replace(kind, key, value, found.version)
        if version is not None:
            return Versioned(value, version)
    return None
