"""Flow port: mandates, phone-factor attempts, rate limits and one-time-code use, kept where
every worker process agrees (``adapters.sql.flow_store.SqlFlowStore``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from smilepay.domain.mandates import Mandate
from smilepay.domain.tenants import Scope


@dataclass(frozen=True)
class FactorAttempt:
    payment_id: str
    terminal_key: str
    face_key: str | None
    succeeded: bool
    reason: str
    false_match_p: float | None
    at_ms: int


@dataclass(frozen=True)
class FactorFailures:
    payment: int
    terminal: int
    face: int


class FlowStore(Protocol):
    def grant_mandate(self, scope: Scope, customer_id: str, now_ms: int) -> Mandate: ...

    def mandates_of(self, scope: Scope, customer_id: str) -> list[Mandate]: ...

    def active_mandate(self, scope: Scope, customer_id: str) -> str | None: ...

    def revoke_mandate(self, scope: Scope, customer_id: str, mandate_id: str,
                       now_ms: int) -> Mandate | None: ...

    def record_factor_attempt(self, scope: Scope, attempt: FactorAttempt) -> None: ...

    def factor_failures(self, scope: Scope, payment_id: str, terminal_key: str,
                        face_key: str | None, since_ms: int) -> FactorFailures: ...

    def take(self, scope: Scope, kind: str, key: str, now_ms: int,
             limits: Sequence[tuple[int, int]], *, record: bool = True
             ) -> tuple[int, int] | None:
        """Record one ``kind`` action for ``key`` unless a ``(window_ms, most)`` limit is
        reached; the limit that refused it, or None when it was recorded (``record=False``:
        only look, None when no limit is reached)."""
        ...

    def claim_code_attempt(self, scope: Scope, code_id: str, now_ms: int, limit: int) -> bool: ...

    def use_code(self, scope: Scope, code_id: str) -> bool: ...

    def close_open_challenges(self, scope: Scope, newest: str, *,
                              terminal_id: str | None = None, subject_id: str | None = None,
                              purpose: str, keep: int, now_ms: int) -> list[str]: ...
