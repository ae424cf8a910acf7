"""Idempotency keys on both engines: scoped to a tenant and mode, expiring after 24 h."""

from __future__ import annotations

import pytest

from smilepay.adapters.sql.store import SqlMoneyStore
from smilepay.domain.money_errors import IdempotencyKeyReused
from smilepay.domain.tenants import Scope
from smilepay.ports.money import MoneyTx, StoredResponse
from smilepay.services.context import FixedClock, MoneyContext
from smilepay.services.idempotency import run_idempotent
from smilepay.services.phones import DEV_ONLY_MASTER_KEY, PhoneCipher
from smilepay.services.seed import seed_merchant

pytestmark = pytest.mark.integration
DAY_S = 24 * 3600


def answer(text: str):  # type: ignore[no-untyped-def]
    def operation(_tx: MoneyTx) -> StoredResponse:
        return StoredResponse(200, text.encode())

    return operation


def test_keys_are_per_scope_and_expire_after_a_day(store: SqlMoneyStore) -> None:
    clock = FixedClock()
    ctx = MoneyContext(clock=clock, phones=PhoneCipher(DEV_ONLY_MASTER_KEY))
    scope = seed_merchant(store, ctx, "Keys").scope
    live = Scope(scope.tenant_id, True)

    def call(on: Scope, fingerprint: str, text: str) -> tuple[StoredResponse, bool]:
        return run_idempotent(store, on, "k", fingerprint, clock.now_ms(), DAY_S, answer(text))

    assert call(scope, "fp-a", "first") == (StoredResponse(200, b"first"), False)
    assert call(scope, "fp-a", "second") == (StoredResponse(200, b"first"), True)
    assert call(live, "fp-b", "live") == (StoredResponse(200, b"live"), False)
    with pytest.raises(IdempotencyKeyReused):
        call(scope, "fp-b", "other body")
    clock.advance_s(DAY_S - 1)
    assert call(scope, "fp-a", "still") == (StoredResponse(200, b"first"), True)
    clock.advance_s(1)
    assert call(scope, "fp-b", "after a day") == (StoredResponse(200, b"after a day"), False)
    assert store.run(lambda tx: tx.purge_idempotency_keys(clock.now_ms() + DAY_S * 1000)) == 2
