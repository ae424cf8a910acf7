"""The identity-gates tables (migration branch ``identity``) on SQLite and PostgreSQL: consent
per purpose revoked alone, a verification decided once, a verified number found by its hash."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import inspect

from smilepay.domain.documents.types import DocumentType
from smilepay.domain.documents.verification import IdentityVerification, VerificationStatus
from smilepay.domain.purposes import Purpose, grant_purpose_consent, purpose_text
from smilepay.domain.tenants import Scope

pytestmark = pytest.mark.integration
NOW = datetime(2026, 12, 6, 10, tzinfo=UTC)


@pytest.fixture(scope="module")
def gates(money_url: str) -> Iterator[object]:
    from smilepay.adapters.sql.engine import make_engine
    from smilepay.adapters.sql.gates_store import SqlGatesStore

    engine = make_engine(money_url)
    yield SqlGatesStore(engine)
    engine.dispose()


def test_the_branch_created_its_tables(gates: object) -> None:
    from smilepay.adapters.sql.gates_store import SqlGatesStore

    assert isinstance(gates, SqlGatesStore)
    tables = set(inspect(gates.engine).get_table_names())
    assert {"purpose_consents", "identity_verifications"} <= tables


def test_purposes_are_revoked_alone(gates: object) -> None:
    from smilepay.adapters.sql.gates_store import SqlGatesStore

    assert isinstance(gates, SqlGatesStore)
    scope = Scope("ten_gates1", False)
    for n, purpose in enumerate((Purpose.ATTENDANCE, Purpose.BOARDING)):
        gates.add_purpose_consent(scope, grant_purpose_consent(
            consent_id=f"pcon_{n}_{scope.tenant_id}", tenant_id=scope.tenant_id,
            customer_id="cus_1", purpose=purpose, accepted_digest=purpose_text(purpose).digest,
            now=NOW))
    assert gates.revoke_purpose(scope, "cus_1", Purpose.ATTENDANCE, 1) == 1
    assert gates.revoke_purpose(scope, "cus_1", Purpose.ATTENDANCE, 2) == 0
    active = {c.purpose for c in gates.purpose_consents(scope, "cus_1") if c.active}
    assert active == {Purpose.BOARDING}
    assert gates.purpose_consents(Scope("ten_gates1", True), "cus_1") == []


def test_a_verification_is_decided_once(gates: object) -> None:
    from smilepay.adapters.sql.gates_store import SqlGatesStore

    assert isinstance(gates, SqlGatesStore)
    pending = IdentityVerification(
        verification_id="idv_gates1", tenant_id="ten_gates2", livemode=False,
        customer_id="cus_1", status=VerificationStatus.PENDING,
        document_type=DocumentType.PASSPORT, country="UTO", number_digest="d" * 64,
        birth_year=1974, challenge_id="chl_1", created_at_ms=1)
    gates.add_verification(pending)
    scope = Scope("ten_gates2", False)
    assert gates.verified_owner_of(scope, "d" * 64) is None
    verified = IdentityVerification(**{**pending.__dict__, "status": VerificationStatus.VERIFIED,
                                       "score": 0.61, "threshold": 0.42, "decided_at_ms": 2})
    assert gates.decide(verified)
    refused = IdentityVerification(**{**pending.__dict__, "status": VerificationStatus.REFUSED,
                                      "reason": "below_threshold", "decided_at_ms": 3})
    assert not gates.decide(refused)
    stored = gates.get_verification(scope, "idv_gates1")
    assert stored is not None and stored.status is VerificationStatus.VERIFIED
    assert stored.score == pytest.approx(0.61) and stored.birth_year == 1974
    assert gates.verified_owner_of(scope, "d" * 64) == "cus_1"
    assert gates.erase_verifications(scope, "cus_1") == 1
    assert gates.get_verification(scope, "idv_gates1") is None
