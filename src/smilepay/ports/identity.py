"""Identity ports: where templates live, how they are searched, how they are sealed.

- ``KeyRing``        authenticated encryption with key ids and rotation (AES-GCM).
- ``Rotations``      the tenant rotation matrices of one vector size (a secret per install).
- ``IdentityStore``  everything the face flows keep in the database: templates, consent,
                     audit, receipts, sign-up codes, wallet sessions, challenges, promotions.

Transactions: the template writes take an optional ``tx`` (the open transaction of
``IdentityStore.transaction``) so that a template and its gallery entry (``ports.gallery``)
commit or roll back together.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

import numpy as np
import numpy.typing as npt

from smilepay.domain.consent import ConsentRecord, DeletionReceipt
from smilepay.domain.happy_go import Promotion
from smilepay.domain.identity import AuditEntry, OneTimeCode
from smilepay.domain.templates import SealedBlob, SealedTemplate
from smilepay.domain.tenants import Scope

T = TypeVar("T")


@dataclass(frozen=True)
class StoredChallenge:
    id: str
    scope: Scope
    purpose: str
    subject_id: str
    terminal_id: str | None
    nonce: str
    steps: tuple[str, ...]
    issued_at_ms: int
    expires_at_ms: int
    state: str
    outcome: dict[str, Any] | None


@dataclass(frozen=True)
class WalletSession:
    scope: Scope
    customer_id: str
    expires_at_ms: int


class KeyRing(Protocol):
    @property
    def active_key_id(self) -> str: ...

    def seal(self, plaintext: bytes, associated_data: bytes) -> SealedBlob: ...

    def open(self, blob: SealedBlob, associated_data: bytes) -> bytes: ...

    def reseal(self, blob: SealedBlob, associated_data: bytes) -> SealedBlob:
        """Re-encrypt under the active key (after a rotation)."""
        ...


class Rotations(Protocol):
    """The orthogonal rotations of one vector size, by tenant space and version."""

    def matrix(self, tenant_id: str, version: int) -> npt.NDArray[np.float64]:
        """``tenant_id`` is the rotation space (``domain.templates.rotation_space``)."""
        ...


class IdentityStore(Protocol):
    """The face flows' database (``adapters.sql.identity_store.SqlIdentityStore``)."""

    def transaction(self, work: Callable[[object], T]) -> T:
        """Run ``work(tx)`` in one write transaction (retried on transient conflicts)."""
        ...

    # templates
    def add_template(self, template: SealedTemplate, *, tx: object | None = None) -> None: ...

    def templates_of(self, scope: Scope, customer_id: str) -> list[SealedTemplate]: ...

    def all_templates(self, scope: Scope, *, tx: object | None = None) -> list[SealedTemplate]:
        """Inside ``tx`` the rows stay locked until it ends (an erasure waits for it)."""
        ...

    def owners(self, scope: Scope, template_ids: Iterable[str]) -> dict[str, str]: ...

    def delete_templates_of(self, scope: Scope, customer_id: str, *,
                            tx: object | None = None) -> list[str]: ...

    def replace_sealed(self, scope: Scope, template_id: str, sealed: SealedBlob) -> None: ...

    def template_counts(self) -> dict[tuple[str, bool], int]: ...

    # consent, erasure, receipts, audit
    def active_consent(self, scope: Scope, customer_id: str) -> ConsentRecord | None: ...

    def add_consent(self, scope: Scope, record: ConsentRecord) -> None: ...

    def touch_consent(self, scope: Scope, consent_id: str, at: datetime) -> None: ...

    def expired_consents(self, before_ms: int) -> list[tuple[Scope, ConsentRecord]]: ...

    def erase_customer(
        self, scope: Scope, customer_id: str, make_receipt: Callable[[int], DeletionReceipt],
        audit: Callable[[DeletionReceipt], tuple[str, AuditEntry]],
        also: Callable[[object, list[str]], object] | None = None,
    ) -> tuple[DeletionReceipt, list[str]]:
        """Delete the templates, revoke consent, write receipt and audit in one transaction;
        ``also(tx, template_ids)`` runs inside it (the gallery removal)."""
        ...

    def receipts_of(self, scope: Scope, customer_id: str) -> list[DeletionReceipt]: ...

    def add_audit(self, scope: Scope, audit_id: str, entry: AuditEntry) -> None: ...

    def audit_entries(self, scope: Scope, subject_id: str | None = None,
                      limit: int = 100) -> list[dict[str, Any]]: ...

    # sign-up codes, wallet sessions, challenges, promotions
    def add_code(self, scope: Scope, code: OneTimeCode, phone_ciphertext: bytes) -> None: ...

    def get_code(self, scope: Scope, code_id: str) -> tuple[OneTimeCode, bytes] | None: ...

    def add_wallet_session(self, scope: Scope, token_hash: str, customer_id: str, now_ms: int,
                           expires_at_ms: int) -> None: ...

    def find_wallet_session(self, token_hash: str) -> WalletSession | None: ...

    def add_challenge(self, found: StoredChallenge) -> None: ...

    def count_challenges(self, scope: Scope, subject_id: str) -> int: ...

    def finish_challenge(self, scope: Scope, challenge_id: str, state: str,
                         outcome: dict[str, Any]) -> bool: ...

    def active_promotion(self, scope: Scope) -> Promotion | None: ...

    def set_promotion(self, scope: Scope, promotion: Promotion | None, now_ms: int) -> None: ...
