"""Idempotent calls: key, request fingerprint and response stored with the effects.

``run_idempotent`` claims the key, runs the operation and stores its response in ONE
transaction: either everything commits (effects + stored response) or nothing does, so a crash
between the ledger write and the response leaves no half payment and a retry redoes it. A
replay returns the stored bytes; the same key with another request raises
``IdempotencyKeyReused``. Two concurrent calls with one key queue on the key's row: the second
sees the first's committed response. Keys expire after ``ttl_s`` (24 h by default).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from smilepay.domain.tenants import Scope
from smilepay.errors import InvalidInput
from smilepay.ports.money import Hint, KeyClaim, MoneyStore, MoneyTx, PayerHint, StoredResponse

MAX_KEY_CHARS = 255


def fingerprint_request(method: str, path: str, canonical_body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), canonical_body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def check_idempotency_key(key: str) -> str:
    if not 0 < len(key) <= MAX_KEY_CHARS or not key.isprintable():
        raise InvalidInput(
            f"expected an Idempotency-Key of 1..{MAX_KEY_CHARS} printable chars, got {len(key)}",
            param="Idempotency-Key",
        )
    return key


def run_idempotent(
    store: MoneyStore, scope: Scope, key: str | None, fingerprint: str, now_ms: int, ttl_s: int,
    operation: Callable[[MoneyTx], StoredResponse], *, payer: PayerHint | None = None,
) -> tuple[StoredResponse, bool]:
    """The response and whether it is a replay (``payer``: the customer the operation will
    charge, when known; see ``ports.money.Hint``)."""
    claim = None if key is None else KeyClaim(key, fingerprint, now_ms, now_ms + ttl_s * 1000)

    def work(tx: MoneyTx) -> tuple[StoredResponse, bool]:
        if claim is None:
            return operation(tx), False
        stored = tx.claim_idempotency_key(scope, claim)
        if stored is not None:
            return stored, True
        response = operation(tx)
        tx.store_idempotent_response(scope, claim.key, response)
        return response, False

    if key is not None:
        check_idempotency_key(key)
    return store.run(work, hint=Hint(scope, payer, claim))
