"""``SqlGatesStore``: consent per purpose and identity verifications (SQLite or PostgreSQL).

Each public method is one transaction. A verification is decided once: the decision is a
conditional update on ``status = 'pending'``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, delete, insert, select, update

from smilepay.adapters.sql.engine import TransactionRunner
from smilepay.adapters.sql.gates_schema import identity_verifications, purpose_consents
from smilepay.adapters.sql.identity_store import from_ms, to_ms
from smilepay.adapters.sql.scoped_columns import in_scope
from smilepay.domain.documents.types import DocumentType
from smilepay.domain.documents.verification import IdentityVerification, VerificationStatus
from smilepay.domain.purposes import Purpose, PurposeConsent
from smilepay.domain.tenants import Scope

T = TypeVar("T")



class SqlGatesStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._runner = TransactionRunner(engine)

    def _write(self, work: Callable[[Connection], T]) -> T:
        return self._runner.run(work, write=True)

    def _read(self, work: Callable[[Connection], T]) -> T:
        return self._runner.run(work, write=False)

    # --- consent per purpose ------------------------------------------------------------
    def add_purpose_consent(self, scope: Scope, record: PurposeConsent) -> None:
        row = {"id": record.consent_id, "tenant_id": scope.tenant_id,
               "livemode": scope.livemode, "customer_id": record.customer_id,
               "purpose": record.purpose.value, "version": record.version,
               "text_digest": record.text_digest,
               "guardian_customer_id": record.guardian_customer_id,
               "granted_at_ms": to_ms(record.granted_at), "revoked_at_ms": None}
        self._write(lambda c: c.execute(insert(purpose_consents).values(**row)))

    def purpose_consents(self, scope: Scope, customer_id: str) -> list[PurposeConsent]:
        def work(c: Connection) -> list[PurposeConsent]:
            rows = c.execute(select(purpose_consents).where(
                in_scope(purpose_consents, scope) & (purpose_consents.c.customer_id == customer_id)
            ).order_by(purpose_consents.c.granted_at_ms)).all()
            return [PurposeConsent(
                consent_id=r.id, tenant_id=r.tenant_id, customer_id=r.customer_id,
                purpose=Purpose(r.purpose), version=r.version, text_digest=r.text_digest,
                granted_at=from_ms(r.granted_at_ms),  # type: ignore[arg-type]
                guardian_customer_id=r.guardian_customer_id,
                revoked_at=from_ms(r.revoked_at_ms)) for r in rows]
        return self._read(work)

    def with_active_consent(self, scope: Scope, purpose: Purpose,
                            customer_ids: Iterable[str]) -> set[str]:
        """Which of ``customer_ids`` hold an active consent for ``purpose`` (one read per 1000)."""
        wanted = list(dict.fromkeys(customer_ids))
        t = purpose_consents
        found: set[str] = set()
        for start in range(0, len(wanted), 1000):
            chunk = wanted[start:start + 1000]
            rows = self._read(lambda c, chunk=chunk: c.execute(  # type: ignore[misc]
                select(t.c.customer_id).where(
                    in_scope(t, scope) & (t.c.purpose == purpose.value)
                    & t.c.revoked_at_ms.is_(None) & t.c.customer_id.in_(chunk))).all())
            found.update(str(r.customer_id) for r in rows)
        return found

    def revoke_purpose(self, scope: Scope, customer_id: str, purpose: Purpose,
                       at_ms: int) -> int:
        t = purpose_consents
        statement = update(t).where(
            in_scope(t, scope) & (t.c.customer_id == customer_id) & (t.c.purpose == purpose.value)
            & t.c.revoked_at_ms.is_(None)).values(revoked_at_ms=at_ms)
        return self._write(lambda c: c.execute(statement).rowcount)

    # --- identity verifications ---------------------------------------------------------
    def add_verification(self, v: IdentityVerification) -> None:
        row = {"id": v.verification_id, "tenant_id": v.tenant_id, "livemode": v.livemode,
               "customer_id": v.customer_id, "status": v.status.value, "reason": v.reason,
               "document_type": v.document_type.value, "country": v.country,
               "number_digest": v.number_digest, "birth_year": v.birth_year,
               "guardian_customer_id": v.guardian_customer_id, "challenge_id": v.challenge_id,
               "model_id": v.model_id, "score": v.score, "threshold": v.threshold,
               "threshold_source": v.threshold_source, "created_at_ms": v.created_at_ms,
               "decided_at_ms": v.decided_at_ms}
        self._write(lambda c: c.execute(insert(identity_verifications).values(**row)))

    @staticmethod
    def _verification(r: Any) -> IdentityVerification:
        return IdentityVerification(
            verification_id=r.id, tenant_id=r.tenant_id, livemode=bool(r.livemode),
            customer_id=r.customer_id, status=VerificationStatus(r.status),
            document_type=DocumentType(r.document_type), country=r.country,
            number_digest=r.number_digest, birth_year=int(r.birth_year),
            challenge_id=r.challenge_id, created_at_ms=int(r.created_at_ms),
            guardian_customer_id=r.guardian_customer_id, reason=r.reason, model_id=r.model_id,
            score=r.score, threshold=r.threshold, threshold_source=r.threshold_source,
            decided_at_ms=r.decided_at_ms)

    def get_verification(self, scope: Scope, verification_id: str) -> IdentityVerification | None:
        t = identity_verifications
        row = self._read(lambda c: c.execute(select(t).where(
            in_scope(t, scope) & (t.c.id == verification_id))).first())
        return None if row is None else self._verification(row)

    def verifications_of(self, scope: Scope, customer_id: str) -> list[IdentityVerification]:
        t = identity_verifications
        rows = self._read(lambda c: c.execute(select(t).where(
            in_scope(t, scope) & (t.c.customer_id == customer_id)
        ).order_by(t.c.created_at_ms)).all())
        return [self._verification(r) for r in rows]

    def verified_owner_of(self, scope: Scope, number_digest: str) -> str | None:
        """The customer a document number is already verified for, if any."""
        t = identity_verifications
        row = self._read(lambda c: c.execute(select(t.c.customer_id).where(
            in_scope(t, scope) & (t.c.number_digest == number_digest)
            & (t.c.status == VerificationStatus.VERIFIED.value)).limit(1)).first())
        return None if row is None else str(row.customer_id)

    def decide(self, decided: IdentityVerification) -> bool:
        """Write the decision if the verification is still pending; False when it was not."""
        t = identity_verifications
        scope = Scope(decided.tenant_id, decided.livemode)
        statement = update(t).where(
            in_scope(t, scope) & (t.c.id == decided.verification_id)
            & (t.c.status == VerificationStatus.PENDING.value)
        ).values(status=decided.status.value, reason=decided.reason, model_id=decided.model_id,
                 score=decided.score, threshold=decided.threshold,
                 threshold_source=decided.threshold_source, decided_at_ms=decided.decided_at_ms)
        return bool(self._write(lambda c: c.execute(statement).rowcount) == 1)

    def erase_verifications(self, scope: Scope, customer_id: str) -> int:
        """Identity-verification purpose erased: its outcomes go (pending ones are refused)."""
        t = identity_verifications
        statement = delete(t).where(in_scope(t, scope) & (t.c.customer_id == customer_id))
        return self._write(lambda c: c.execute(statement).rowcount)

