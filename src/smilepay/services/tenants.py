"""Tenants, API keys (shown once, stored hashed, revocable), terminals, and authentication."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from smilepay.domain.ids import new_id
from smilepay.domain.money_errors import AuthenticationFailed
from smilepay.domain.tenants import (
    ApiKey,
    KeyKind,
    Scope,
    Tenant,
    Terminal,
    generate_api_key,
    hash_api_key,
    parse_api_key,
)
from smilepay.errors import InvalidInput, NotFound
from smilepay.ports.money import MoneyTx


@dataclass(frozen=True)
class Caller:
    """Who is calling: the scope their key opens, and what kind of key it is."""

    scope: Scope
    key_kind: KeyKind
    key_id: str
    terminal_id: str | None


@dataclass(frozen=True)
class IssuedKey:
    key: ApiKey
    raw: str  # shown once; never stored


def create_tenant(tx: MoneyTx, name: str, now_ms: int, fee_bps: int = 0) -> Tenant:
    if not name.strip() or len(name) > 200:
        raise InvalidInput(f"expected a name of 1..200 chars, got {len(name)}", param="name")
    tenant = Tenant(id=new_id("ten", now_ms), name=name.strip(), fee_bps=fee_bps,
                    created_at_ms=now_ms)
    tx.insert(tenant)
    return tenant


def issue_api_key(
    tx: MoneyTx, scope: Scope, kind: KeyKind, now_ms: int, terminal_id: str | None = None
) -> IssuedKey:
    if kind is KeyKind.TERMINAL and (
        terminal_id is None or tx.get(Terminal, terminal_id, scope) is None
    ):
        raise InvalidInput(
                f"expected a terminal of this account for a terminal key, got {terminal_id!r}",
                param="terminal",
            )
    raw = generate_api_key(kind, scope.livemode)
    key = ApiKey(
        id=new_id("key", now_ms), tenant_id=scope.tenant_id, livemode=scope.livemode, kind=kind,
        key_hash=hash_api_key(raw), display_prefix=raw[:12], terminal_id=terminal_id,
        created_at_ms=now_ms, revoked_at_ms=None,
    )
    tx.insert(key)
    return IssuedKey(key, raw)


def revoke_api_key(tx: MoneyTx, scope: Scope, key_id: str, now_ms: int) -> ApiKey:
    key = tx.get(ApiKey, key_id, scope)
    if key is None:
        raise NotFound(f"no API key {key_id} in this account", param="id")
    if key.revoked_at_ms is None:
        key = replace(key, revoked_at_ms=now_ms)
        tx.update(key)
    return key


def authenticate(tx: MoneyTx, raw_key: str) -> Caller:
    kind, livemode = parse_api_key(raw_key)
    key = tx.find_api_key(hash_api_key(raw_key))
    if key is None or key.revoked_at_ms is not None or key.kind is not kind:
        raise AuthenticationFailed("expected a valid, unrevoked API key, got an unknown one")
    if key.livemode is not livemode:
        raise AuthenticationFailed("expected a key whose prefix matches its mode")
    return Caller(Scope(key.tenant_id, key.livemode), key.kind, key.id, key.terminal_id)


class CallerCache:
    """Keys authenticated in the last ``ttl_ms``, by hash: an API call finds its key here
    instead of in the database (a read transaction per call, a large share of a payment's).

    The price is revocation: the process that revokes a key forgets it at once; every other
    worker process refuses it within ``ttl_ms``. Unknown or refused keys are never cached, so a
    new key works at once. ``ttl_ms=0`` turns the cache off."""

    def __init__(self, ttl_ms: int, *, max_entries: int = 4096,
                 monotonic_ms: Callable[[], int] = lambda: time.monotonic_ns() // 1_000_000
                 ) -> None:
        self._ttl_ms = ttl_ms
        self._max_entries = max_entries
        self._now_ms = monotonic_ms
        self._entries: dict[str, tuple[int, Caller]] = {}

    def get(self, key_hash: str) -> Caller | None:
        entry = self._entries.get(key_hash)
        if entry is None or self._now_ms() >= entry[0]:
            return None
        return entry[1]

    def put(self, key_hash: str, caller: Caller) -> None:
        if self._ttl_ms <= 0:
            return
        if len(self._entries) >= self._max_entries:
            self._entries.clear()  # simplest bound: start over (each key costs one read)
        self._entries[key_hash] = (self._now_ms() + self._ttl_ms, caller)

    def forget(self, key_id: str) -> None:
        for key_hash, (_, caller) in list(self._entries.items()):
            if caller.key_id == key_id:
                self._entries.pop(key_hash, None)


def create_terminal(
    tx: MoneyTx, scope: Scope, name: str, now_ms: int, store_gate: str | None = None
) -> Terminal:
    if not name.strip() or len(name) > 200:
        raise InvalidInput(f"expected a name of 1..200 chars, got {len(name)}", param="name")
    terminal = Terminal(
        id=new_id("term", now_ms), tenant_id=scope.tenant_id, livemode=scope.livemode,
        name=name.strip(), store_gate=store_gate, created_at_ms=now_ms,
    )
    tx.insert(terminal)
    return terminal
