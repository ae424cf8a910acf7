"""``SqlIdentityStore`` (the ``IdentityStore`` port): templates, consent, audit, receipts,
sign-up codes, wallet sessions, challenges and promotions on SQLite or PostgreSQL.

Each public method is one transaction (``TransactionRunner``: BEGIN IMMEDIATE on SQLite,
retries on transient conflicts); ``erase_customer`` deletes templates, revokes consent and
writes the receipt and the audit entry in one.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, delete, func, insert, select, update

from smilepay.adapters.sql.engine import TransactionRunner
from smilepay.adapters.sql.identity_schema import (
    face_audit,
    face_challenges,
    face_consents,
    face_deletion_receipts,
    face_templates,
    happy_go_promotions,
    signup_codes,
    wallet_sessions,
)
from smilepay.adapters.sql.scoped_columns import in_scope
from smilepay.domain.consent import ConsentRecord, DeletionReceipt
from smilepay.domain.happy_go import Promotion
from smilepay.domain.identity import AuditEntry, OneTimeCode
from smilepay.domain.templates import SealedBlob, SealedTemplate
from smilepay.domain.tenants import Scope
from smilepay.ports.identity import StoredChallenge, WalletSession

T = TypeVar("T")


def to_ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def from_ms(ms: int | None) -> datetime | None:
    return None if ms is None else datetime.fromtimestamp(ms / 1000, UTC)



class SqlIdentityStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._runner = TransactionRunner(engine)

    def _write(self, work: Callable[[Connection], T]) -> T:
        return self._runner.run(work, write=True)

    def _read(self, work: Callable[[Connection], T]) -> T:
        return self._runner.run(work, write=False)

    def _in_tx(self, tx: object | None, work: Callable[[Connection], T]) -> T:
        if tx is None:
            return self._write(work)
        if not isinstance(tx, Connection):
            raise TypeError(f"expected a SQLAlchemy Connection as tx, got {type(tx).__name__}")
        return work(tx)

    def transaction(self, work: Callable[[object], T]) -> T:
        """``work(tx)`` in one write transaction; ``tx`` goes to the ``tx`` parameters here
        and in the SQL gallery adapters."""
        return self._write(work)

    # --- templates ----------------------------------------------------------------------
    def add_template(self, template: SealedTemplate, *, tx: object | None = None) -> None:
        row = {
            "id": template.template_id, "tenant_id": template.tenant_id,
            "livemode": template.livemode, "customer_id": template.customer_id,
            "model_id": template.model_id, "rotation_version": template.rotation_version,
            "dim": template.dim, "quality": template.quality,
            "created_at_ms": to_ms(template.created_at), "key_id": template.sealed.key_id,
            "nonce": template.sealed.nonce, "ciphertext": template.sealed.ciphertext,
        }
        self._in_tx(tx, lambda c: c.execute(insert(face_templates).values(**row)))

    @staticmethod
    def _template(row: Any) -> SealedTemplate:
        return SealedTemplate(
            template_id=row.id, tenant_id=row.tenant_id, livemode=bool(row.livemode),
            customer_id=row.customer_id, model_id=row.model_id,
            rotation_version=row.rotation_version, dim=row.dim, quality=row.quality,
            created_at=from_ms(row.created_at_ms) or datetime.now(UTC),
            sealed=SealedBlob(row.key_id, bytes(row.nonce), bytes(row.ciphertext)),
        )

    def templates_of(self, scope: Scope, customer_id: str) -> list[SealedTemplate]:
        query = select(face_templates).where(
            in_scope(face_templates, scope) & (face_templates.c.customer_id == customer_id)
        ).order_by(face_templates.c.id)
        return self._read(lambda c: [self._template(r) for r in c.execute(query)])

    def all_templates(self, scope: Scope, *, tx: object | None = None) -> list[SealedTemplate]:
        """Every template of the scope; inside ``tx`` the rows stay locked until it ends (an
        erasure waits, so whatever ``tx`` makes of them cannot outlive it)."""
        query = (select(face_templates).where(in_scope(face_templates, scope))
                 .order_by(face_templates.c.id))
        if tx is not None:
            return self._in_tx(tx, lambda c: [self._template(r) for r in
                                              c.execute(query.with_for_update())])
        return self._read(lambda c: [self._template(r) for r in c.execute(query)])

    def owners(self, scope: Scope, template_ids: Iterable[str]) -> dict[str, str]:
        ids = list(template_ids)
        if not ids:
            return {}
        query = select(face_templates.c.id, face_templates.c.customer_id).where(
            in_scope(face_templates, scope) & face_templates.c.id.in_(ids)
        )
        return self._read(lambda c: {r.id: r.customer_id for r in c.execute(query)})

    def delete_templates_of(self, scope: Scope, customer_id: str, *,
                            tx: object | None = None) -> list[str]:
        return self._in_tx(tx, lambda c: self._delete_templates(c, scope, customer_id))

    @staticmethod
    def _delete_templates(conn: Connection, scope: Scope, customer_id: str) -> list[str]:
        where = in_scope(face_templates, scope) & (face_templates.c.customer_id == customer_id)
        ids = [r.id for r in conn.execute(select(face_templates.c.id).where(where))]
        conn.execute(delete(face_templates).where(where))
        return ids

    def replace_sealed(self, scope: Scope, template_id: str, sealed: SealedBlob) -> None:
        query = update(face_templates).where(
            in_scope(face_templates, scope) & (face_templates.c.id == template_id)
        ).values(key_id=sealed.key_id, nonce=sealed.nonce, ciphertext=sealed.ciphertext)
        self._write(lambda c: c.execute(query))

    def template_counts(self) -> dict[tuple[str, bool], int]:
        """Sealed templates per (tenant, mode): one ``GROUP BY`` over the
        ``(tenant_id, livemode, customer_id)`` index, no row loaded into Python (the gallery
        gauges sample it at every scrape interval)."""
        t = face_templates
        query = select(t.c.tenant_id, t.c.livemode, func.count()).group_by(t.c.tenant_id,
                                                                           t.c.livemode)
        return self._read(lambda c: {(str(tenant), bool(live)): int(n)
                                     for tenant, live, n in c.execute(query)})

    # --- consent ------------------------------------------------------------------------
    @staticmethod
    def _consent(row: Any) -> ConsentRecord:
        return ConsentRecord(
            consent_id=row.id, tenant_id=row.tenant_id, customer_id=row.customer_id,
            version=row.version, text_digest=row.text_digest,
            granted_at=from_ms(row.granted_at_ms) or datetime.now(UTC),
            revoked_at=from_ms(row.revoked_at_ms), last_used_at=from_ms(row.last_used_at_ms),
        )

    def active_consent(self, scope: Scope, customer_id: str) -> ConsentRecord | None:
        query = select(face_consents).where(
            in_scope(face_consents, scope) & (face_consents.c.customer_id == customer_id)
            & face_consents.c.revoked_at_ms.is_(None)
        ).order_by(face_consents.c.granted_at_ms.desc())
        return self._read(lambda c: next((self._consent(r) for r in c.execute(query)), None))

    def add_consent(self, scope: Scope, record: ConsentRecord) -> None:
        row = {
            "id": record.consent_id, "tenant_id": scope.tenant_id, "livemode": scope.livemode,
            "customer_id": record.customer_id, "version": record.version,
            "text_digest": record.text_digest, "granted_at_ms": to_ms(record.granted_at),
            "revoked_at_ms": None, "last_used_at_ms": None,
        }
        self._write(lambda c: c.execute(insert(face_consents).values(**row)))

    def touch_consent(self, scope: Scope, consent_id: str, at: datetime) -> None:
        query = update(face_consents).where(
            in_scope(face_consents, scope) & (face_consents.c.id == consent_id)
        ).values(last_used_at_ms=to_ms(at))
        self._write(lambda c: c.execute(query))

    def expired_consents(self, before_ms: int) -> list[tuple[Scope, ConsentRecord]]:
        """Active consents not used (nor granted) since ``before_ms``: retention has lapsed."""
        used = face_consents.c.last_used_at_ms
        query = select(face_consents).where(
            face_consents.c.revoked_at_ms.is_(None)
            & (((used.is_(None)) & (face_consents.c.granted_at_ms < before_ms))
               | (used < before_ms))
        )
        return self._read(lambda c: [
            (Scope(r.tenant_id, bool(r.livemode)), self._consent(r)) for r in c.execute(query)
        ])

    # --- erase (one transaction) ----------------------------------------------------------
    def erase_customer(
        self, scope: Scope, customer_id: str, make_receipt: Callable[[int], DeletionReceipt],
        audit: Callable[[DeletionReceipt], tuple[str, AuditEntry]],
        also: Callable[[object, list[str]], object] | None = None,
    ) -> tuple[DeletionReceipt, list[str]]:
        def work(conn: Connection) -> tuple[DeletionReceipt, list[str]]:
            ids = self._delete_templates(conn, scope, customer_id)
            receipt = make_receipt(len(ids))
            conn.execute(update(face_consents).where(
                in_scope(face_consents, scope) & (face_consents.c.customer_id == customer_id)
                & face_consents.c.revoked_at_ms.is_(None)
            ).values(revoked_at_ms=to_ms(receipt.deleted_at)))
            conn.execute(insert(face_deletion_receipts).values(
                id=receipt.receipt_id, tenant_id=scope.tenant_id, livemode=scope.livemode,
                customer_id=customer_id, template_count=receipt.template_count,
                reason=receipt.reason, deleted_at_ms=to_ms(receipt.deleted_at),
                digest=receipt.digest,
            ))
            audit_id, entry = audit(receipt)
            self._insert_audit(conn, scope, audit_id, entry)
            if also is not None:
                also(conn, ids)
            return receipt, ids

        return self._write(work)

    def receipts_of(self, scope: Scope, customer_id: str) -> list[DeletionReceipt]:
        query = select(face_deletion_receipts).where(
            in_scope(face_deletion_receipts, scope)
            & (face_deletion_receipts.c.customer_id == customer_id)
        ).order_by(face_deletion_receipts.c.deleted_at_ms)
        return self._read(lambda c: [
            DeletionReceipt(r.id, r.tenant_id, r.customer_id, r.template_count, r.reason,
                            from_ms(r.deleted_at_ms) or datetime.now(UTC))
            for r in c.execute(query)
        ])

    # --- audit --------------------------------------------------------------------------
    @staticmethod
    def _insert_audit(conn: Connection, scope: Scope, audit_id: str, entry: AuditEntry) -> None:
        conn.execute(insert(face_audit).values(
            id=audit_id, tenant_id=scope.tenant_id, livemode=scope.livemode, kind=entry.kind,
            decision=entry.decision, reasons=",".join(entry.reasons), subject_id=entry.subject_id,
            at_ms=to_ms(entry.at), values_json=json.dumps(dict(entry.values), sort_keys=True),
        ))

    def add_audit(self, scope: Scope, audit_id: str, entry: AuditEntry) -> None:
        self._write(lambda c: self._insert_audit(c, scope, audit_id, entry))

    def audit_entries(self, scope: Scope, subject_id: str | None = None,
                      limit: int = 100) -> list[dict[str, Any]]:
        where = in_scope(face_audit, scope)
        if subject_id is not None:
            where = where & (face_audit.c.subject_id == subject_id)
        query = select(face_audit).where(where).order_by(face_audit.c.at_ms.desc()).limit(limit)
        return self._read(lambda c: [
            {"id": r.id, "kind": r.kind, "decision": r.decision,
             "reasons": [x for x in r.reasons.split(",") if x], "subject": r.subject_id,
             "at_ms": r.at_ms, "values": json.loads(r.values_json)}
            for r in c.execute(query)
        ])

    # --- sign-up codes ------------------------------------------------------------------
    def add_code(self, scope: Scope, code: OneTimeCode, phone_ciphertext: bytes) -> None:
        self._write(lambda c: c.execute(insert(signup_codes).values(
            id=code.code_id, tenant_id=scope.tenant_id, livemode=scope.livemode,
            phone_digest=code.phone_digest, phone_ciphertext=phone_ciphertext,
            code_digest=code.code_digest, expires_at_ms=to_ms(code.expires_at),
            attempts=code.attempts, used=code.used,
        )))

    def get_code(self, scope: Scope, code_id: str) -> tuple[OneTimeCode, bytes] | None:
        query = select(signup_codes).where(
            in_scope(signup_codes, scope) & (signup_codes.c.id == code_id)
        )

        def read(c: Connection) -> tuple[OneTimeCode, bytes] | None:
            r = c.execute(query).first()
            if r is None:
                return None
            code = OneTimeCode(r.id, r.phone_digest, r.code_digest,
                               from_ms(r.expires_at_ms) or datetime.now(UTC), r.attempts,
                               bool(r.used))
            return code, bytes(r.phone_ciphertext)

        return self._read(read)

    # a code's tries and its use are counted by SqlFlowStore.claim_code_attempt / use_code:
    # conditional updates, never a read-modify-write of the row (parallel tries raced)

    # --- wallet sessions ----------------------------------------------------------------
    def add_wallet_session(self, scope: Scope, token_hash: str, customer_id: str, now_ms: int,
                           expires_at_ms: int) -> None:
        self._write(lambda c: c.execute(insert(wallet_sessions).values(
            token_hash=token_hash, tenant_id=scope.tenant_id, livemode=scope.livemode,
            customer_id=customer_id, created_at_ms=now_ms, expires_at_ms=expires_at_ms,
        )))

    def find_wallet_session(self, token_hash: str) -> WalletSession | None:
        query = select(wallet_sessions).where(wallet_sessions.c.token_hash == token_hash)

        def read(c: Connection) -> WalletSession | None:
            r = c.execute(query).first()
            if r is None:
                return None
            return WalletSession(Scope(r.tenant_id, bool(r.livemode)), r.customer_id,
                                 r.expires_at_ms)

        return self._read(read)

    # --- challenges ---------------------------------------------------------------------
    def add_challenge(self, found: StoredChallenge) -> None:
        self._write(lambda c: c.execute(insert(face_challenges).values(
            id=found.id, tenant_id=found.scope.tenant_id, livemode=found.scope.livemode,
            purpose=found.purpose, subject_id=found.subject_id, terminal_id=found.terminal_id,
            nonce=found.nonce, steps=",".join(found.steps), issued_at_ms=found.issued_at_ms,
            expires_at_ms=found.expires_at_ms, state=found.state,
            outcome_json=None if found.outcome is None else json.dumps(found.outcome),
        )))

    def count_challenges(self, scope: Scope, subject_id: str) -> int:
        query = select(func.count()).select_from(face_challenges).where(
            in_scope(face_challenges, scope) & (face_challenges.c.subject_id == subject_id)
        )
        return self._read(lambda c: int(c.execute(query).scalar_one()))

    def finish_challenge(self, scope: Scope, challenge_id: str, state: str,
                         outcome: dict[str, Any]) -> bool:
        """Move an open challenge to ``state`` once; False when it was already finished."""
        query = update(face_challenges).where(
            in_scope(face_challenges, scope) & (face_challenges.c.id == challenge_id)
            & (face_challenges.c.state == "open")
        ).values(state=state, outcome_json=json.dumps(outcome))
        return bool(self._write(lambda c: c.execute(query).rowcount) == 1)

    # --- Happy Go -----------------------------------------------------------------------
    def active_promotion(self, scope: Scope) -> Promotion | None:
        query = select(happy_go_promotions).where(
            in_scope(happy_go_promotions, scope) & happy_go_promotions.c.active.is_(True)
        ).order_by(happy_go_promotions.c.created_at_ms.desc())

        def read(c: Connection) -> Promotion | None:
            r = c.execute(query).first()
            if r is None:
                return None
            return Promotion(r.id, r.max_discount_bps, r.cap_minor, r.min_smile)

        return self._read(read)

    def set_promotion(self, scope: Scope, promotion: Promotion | None, now_ms: int) -> None:
        def work(c: Connection) -> None:
            c.execute(update(happy_go_promotions).where(in_scope(happy_go_promotions, scope))
                      .values(active=False))
            if promotion is not None:
                c.execute(insert(happy_go_promotions).values(
                    id=promotion.promotion_id, tenant_id=scope.tenant_id,
                    livemode=scope.livemode, active=True,
                    max_discount_bps=promotion.max_discount_bps, cap_minor=promotion.cap_minor,
                    min_smile=promotion.min_smile, created_at_ms=now_ms,
                ))

        self._write(work)
