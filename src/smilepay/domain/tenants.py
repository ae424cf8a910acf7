"""Tenants (merchants), their API keys and terminals.

Keys are ``sk_test_...`` / ``sk_live_...`` (secret, for servers) and ``tk_test_...`` /
``tk_live_...`` (terminal, for kiosks). A key is shown once; only its SHA-256 is stored (keys carry
160 random bits, so a fast hash is enough). Test and live objects never see each other: every
record carries ``tenant_id`` and ``livemode``, and every lookup filters on both.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from enum import StrEnum

from smilepay.domain.money_errors import AuthenticationFailed


class KeyKind(StrEnum):
    SECRET = "secret"  # noqa: S105 (a key kind, not a password)
    TERMINAL = "terminal"


_PREFIX = {KeyKind.SECRET: "sk", KeyKind.TERMINAL: "tk"}


@dataclass(frozen=True)
class Scope:
    """Whose objects, and which mode: the filter under every read and write."""

    tenant_id: str
    livemode: bool


@dataclass(frozen=True)
class Tenant:
    id: str
    name: str
    fee_bps: int
    created_at_ms: int


@dataclass(frozen=True)
class ApiKey:
    id: str
    tenant_id: str
    livemode: bool
    kind: KeyKind
    key_hash: str
    display_prefix: str
    terminal_id: str | None
    created_at_ms: int
    revoked_at_ms: int | None


@dataclass(frozen=True)
class Terminal:
    id: str
    tenant_id: str
    livemode: bool
    name: str
    store_gate: str | None
    created_at_ms: int


def hash_api_key(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def generate_api_key(kind: KeyKind, livemode: bool) -> str:
    mode = "live" if livemode else "test"
    return f"{_PREFIX[kind]}_{mode}_{secrets.token_urlsafe(20)}"


def parse_api_key(raw_key: str) -> tuple[KeyKind, bool]:
    """The kind and mode a key claims by its prefix (the hash lookup decides if it is real)."""
    parts = raw_key.split("_", 2)
    kinds = {v: k for k, v in _PREFIX.items()}
    if len(parts) != 3 or parts[0] not in kinds or parts[1] not in ("test", "live"):
        raise AuthenticationFailed("expected an API key like sk_test_..., got something else")
    return kinds[parts[0]], parts[1] == "live"
