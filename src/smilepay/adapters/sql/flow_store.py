"""``SqlFlowStore``: mandates, phone-factor attempts, rate limits and one-time-code use, in the
database so that every worker process agrees.

Atomicity, on SQLite and PostgreSQL alike:
- a one-time code's attempt is claimed by ``UPDATE ... SET attempts = attempts + 1 WHERE
  attempts < limit AND used = false AND expires_at_ms > now`` and counts only when the row
  count is 1; the code is used by ``UPDATE ... SET used = true WHERE used = false``, which one
  caller alone can win;
- a rate-limited action counts and records itself in one write transaction, serialised per key
  (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: a transaction-scoped advisory lock on the key).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, delete, func, insert, select, text, update

from smilepay.adapters.sql.engine import TransactionRunner
from smilepay.adapters.sql.flow_schema import (
    face_factor_attempts,
    flow_rate_events,
    wallet_mandates,
)
from smilepay.adapters.sql.identity_schema import face_challenges, signup_codes
from smilepay.adapters.sql.scoped_columns import in_scope
from smilepay.domain.ids import new_id
from smilepay.domain.mandates import Mandate
from smilepay.domain.tenants import Scope
from smilepay.ports.flow import FactorAttempt, FactorFailures

T = TypeVar("T")
SWEEP_AFTER_MS = 2 * 24 * 3600 * 1000  # rate events older than this are dropped by any take



class SqlFlowStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._runner = TransactionRunner(engine)
        self._pg = engine.url.get_backend_name() == "postgresql"

    def _write(self, work: Callable[[Connection], T]) -> T:
        return self._runner.run(work, write=True)

    def _read(self, work: Callable[[Connection], T]) -> T:
        return self._runner.run(work, write=False)

    # --- mandates -----------------------------------------------------------------------
    @staticmethod
    def _mandate(row: Any) -> Mandate:
        return Mandate(row.id, row.customer_id, row.created_at_ms, row.revoked_at_ms)

    def grant_mandate(self, scope: Scope, customer_id: str, now_ms: int) -> Mandate:
        mandate = Mandate(new_id("mdt", now_ms), customer_id, now_ms, None)
        self._write(lambda c: c.execute(insert(wallet_mandates).values(
            id=mandate.mandate_id, tenant_id=scope.tenant_id, livemode=scope.livemode,
            customer_id=customer_id, created_at_ms=now_ms, revoked_at_ms=None)))
        return mandate

    def mandates_of(self, scope: Scope, customer_id: str) -> list[Mandate]:
        query = select(wallet_mandates).where(
            in_scope(wallet_mandates, scope) & (wallet_mandates.c.customer_id == customer_id)
        ).order_by(wallet_mandates.c.created_at_ms.desc(), wallet_mandates.c.id.desc())
        return self._read(lambda c: [self._mandate(r) for r in c.execute(query)])

    def active_mandate(self, scope: Scope, customer_id: str) -> str | None:
        query = select(wallet_mandates.c.id).where(
            in_scope(wallet_mandates, scope) & (wallet_mandates.c.customer_id == customer_id)
            & wallet_mandates.c.revoked_at_ms.is_(None)).limit(1)
        return self._read(lambda c: c.execute(query).scalar())

    def revoke_mandate(self, scope: Scope, customer_id: str, mandate_id: str,
                       now_ms: int) -> Mandate | None:
        """The mandate, revoked now (or earlier); None when it is not this customer's."""
        where = (in_scope(wallet_mandates, scope) & (wallet_mandates.c.id == mandate_id)
                 & (wallet_mandates.c.customer_id == customer_id))

        def work(c: Connection) -> Mandate | None:
            c.execute(update(wallet_mandates).where(
                where & wallet_mandates.c.revoked_at_ms.is_(None)).values(revoked_at_ms=now_ms))
            row = c.execute(select(wallet_mandates).where(where)).first()
            return None if row is None else self._mandate(row)

        return self._write(work)

    # --- phone-factor attempts ----------------------------------------------------------
    def record_factor_attempt(self, scope: Scope, attempt: FactorAttempt) -> None:
        self._write(lambda c: c.execute(insert(face_factor_attempts).values(
            id=new_id("ffa", attempt.at_ms), tenant_id=scope.tenant_id, livemode=scope.livemode,
            payment_id=attempt.payment_id, terminal_key=attempt.terminal_key,
            face_key=attempt.face_key, succeeded=attempt.succeeded, reason=attempt.reason,
            false_match_p=attempt.false_match_p, at_ms=attempt.at_ms)))

    def factor_failures(self, scope: Scope, payment_id: str, terminal_key: str,
                        face_key: str | None, since_ms: int) -> FactorFailures:
        t = face_factor_attempts
        failed = in_scope(t, scope) & t.c.succeeded.is_(False)

        def count(c: Connection, where: Any) -> int:
            return int(c.execute(select(func.count()).select_from(t).where(where)).scalar_one())

        def work(c: Connection) -> FactorFailures:
            face = 0 if face_key is None else count(
                c, failed & (t.c.face_key == face_key) & (t.c.at_ms >= since_ms))
            return FactorFailures(
                payment=count(c, failed & (t.c.payment_id == payment_id)),
                terminal=count(c, failed & (t.c.terminal_key == terminal_key)
                               & (t.c.at_ms >= since_ms)),
                face=face)

        return self._read(work)

    # --- rate limits --------------------------------------------------------------------
    def _lock_key(self, c: Connection, scope: Scope, kind: str, key: str) -> None:
        if self._pg:
            digest = hashlib.sha256(f"{scope.tenant_id}|{kind}|{key}".encode()).digest()
            c.execute(text("SELECT pg_advisory_xact_lock(:k)"),
                      {"k": int.from_bytes(digest[:8], "big", signed=True)})

    def take(self, scope: Scope, kind: str, key: str, now_ms: int,
             limits: Sequence[tuple[int, int]], *, record: bool = True
             ) -> tuple[int, int] | None:
        """Record one ``kind`` action for ``key`` unless a ``(window_ms, most)`` limit is
        reached; the limit that refused it, or None when it was recorded (``record=False``:
        only look, None when no limit is reached)."""
        t = flow_rate_events
        where = in_scope(t, scope) & (t.c.kind == kind) & (t.c.key == key)
        longest = max(w for w, _ in limits)

        def work(c: Connection) -> tuple[int, int] | None:
            self._lock_key(c, scope, kind, key)
            # no window is longer than SWEEP_AFTER_MS: older events of any key are dropped
            c.execute(delete(t).where(t.c.at_ms < now_ms - max(longest, SWEEP_AFTER_MS)))
            for window_ms, most in limits:
                seen = c.execute(select(func.count()).select_from(t).where(
                    where & (t.c.at_ms > now_ms - window_ms))).scalar_one()
                if int(seen) >= most:
                    return window_ms, most
            if not record:
                return None
            c.execute(insert(t).values(id=new_id("rte", now_ms), tenant_id=scope.tenant_id,
                                       livemode=scope.livemode, kind=kind, key=key,
                                       at_ms=now_ms))
            return None

        return self._write(work)

    # --- one-time codes (rows of ``signup_codes``) --------------------------------------
    def claim_code_attempt(self, scope: Scope, code_id: str, now_ms: int, limit: int) -> bool:
        """Count one try of a code, atomically: False when it is used, expired or tried
        ``limit`` times already (then the try is not checked at all)."""
        t = signup_codes
        query = update(t).where(
            in_scope(t, scope) & (t.c.id == code_id) & (t.c.attempts < limit)
            & (t.c.used.is_(False)) & (t.c.expires_at_ms > now_ms)
        ).values(attempts=t.c.attempts + 1)
        return bool(self._write(lambda c: c.execute(query).rowcount) == 1)

    def use_code(self, scope: Scope, code_id: str) -> bool:
        """Mark a code used; True for the one caller that did it."""
        t = signup_codes
        query = update(t).where(in_scope(t, scope) & (t.c.id == code_id) & t.c.used.is_(False)
                                ).values(used=True)
        return bool(self._write(lambda c: c.execute(query).rowcount) == 1)

    # --- open face sessions -------------------------------------------------------------
    def close_open_challenges(self, scope: Scope, newest: str, *,
                              terminal_id: str | None = None, subject_id: str | None = None,
                              purpose: str, keep: int, now_ms: int) -> list[str]:
        """Expire the tenant's open challenges past their deadline (anyone's: abandoned ones
        too), and close all of the owner's but the ``newest`` (just opened) and the
        ``keep - 1`` latest others (state ``superseded``); the ids closed."""
        t = face_challenges
        where = in_scope(t, scope) & (t.c.state == "open") & (t.c.purpose == purpose)
        if terminal_id is not None:
            where = where & (t.c.terminal_id == terminal_id)
        if subject_id is not None:
            where = where & (t.c.subject_id == subject_id)

        def work(c: Connection) -> list[str]:
            c.execute(update(t).where(in_scope(t, scope) & (t.c.state == "open")
                                      & (t.c.expires_at_ms < now_ms)).values(state="expired"))
            rows = c.execute(select(t.c.id).where(where & (t.c.id != newest))
                             .order_by(t.c.issued_at_ms.desc(), t.c.id.desc())).all()
            stale = [r.id for r in rows[max(keep - 1, 0):]]
            if stale:
                c.execute(update(t).where(where & t.c.id.in_(stale)).values(state="superseded"))
            return stale

        return self._write(work)
