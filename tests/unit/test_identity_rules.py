"""Consent, "no consent, no template", match decisions, one-time codes, pixel-free audit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from smilepay.domain.consent import (
    ConsentRequired,
    consent_text,
    grant_consent,
    make_deletion_receipt,
    mark_used,
    revoke_consent,
)
from smilepay.domain.identity import (
    OTP_MAX_ATTEMPTS,
    AuditEntry,
    Candidate,
    CustomerCandidate,
    Match,
    NoMatch,
    PhonePolicy,
    best_per_customer,
    check_code,
    decide_identity,
    find_duplicate_owner,
    issue_code,
    normalise_phone_entry,
)
from smilepay.domain.templates import merge_embeddings, require_active_consent
from smilepay.errors import InvalidInput

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
PEPPER = b"p" * 32


def granted(customer: str = "cus_1") -> object:
    text = consent_text()
    return grant_consent(
        consent_id="con_1", tenant_id="acct_a", customer_id=customer, version=text.version,
        accepted_digest=text.digest, now=NOW,
    )


def test_consent_records_version_time_and_the_digest_of_the_text_shown() -> None:
    record = granted()
    assert record.version == consent_text().version and record.granted_at == NOW
    assert record.text_digest == consent_text().digest
    assert "365 days" in consent_text().body and "Erase my face" in consent_text().body


def test_consent_to_a_different_text_is_not_consent() -> None:
    with pytest.raises(ConsentRequired):
        grant_consent(
            consent_id="c", tenant_id="acct_a", customer_id="cus_1",
            version=consent_text().version, accepted_digest="0" * 64, now=NOW,
        )


def test_no_consent_no_template() -> None:
    with pytest.raises(ConsentRequired):
        require_active_consent(None, "cus_1")
    record = granted()
    assert require_active_consent(record, "cus_1") is record  # type: ignore[arg-type]
    with pytest.raises(ConsentRequired):
        require_active_consent(revoke_consent(record, NOW), "cus_1")  # type: ignore[arg-type]
    with pytest.raises(ConsentRequired):
        require_active_consent(record, "cus_2")  # type: ignore[arg-type]


def test_retention_runs_from_the_last_use() -> None:
    record = granted()
    assert not record.is_expired(NOW + timedelta(days=364))  # type: ignore[attr-defined]
    assert record.is_expired(NOW + timedelta(days=365))  # type: ignore[attr-defined]
    used = mark_used(record, NOW + timedelta(days=300))  # type: ignore[arg-type]
    assert not used.is_expired(NOW + timedelta(days=400))


def test_a_deletion_receipt_has_a_stable_digest_and_a_known_reason() -> None:
    receipt = make_deletion_receipt(
        receipt_id="del_1", tenant_id="acct_a", customer_id="cus_1", template_count=3,
        reason="revoked", now=NOW,
    )
    again = make_deletion_receipt(
        receipt_id="del_1", tenant_id="acct_a", customer_id="cus_1", template_count=3,
        reason="revoked", now=NOW,
    )
    other = make_deletion_receipt(
        receipt_id="del_1", tenant_id="acct_a", customer_id="cus_1", template_count=2,
        reason="revoked", now=NOW,
    )
    assert len(receipt.digest) == 16 and receipt.digest == again.digest != other.digest
    with pytest.raises(InvalidInput):
        make_deletion_receipt(
            receipt_id="d", tenant_id="a", customer_id="c", template_count=1, reason="bored",
            now=NOW,
        )


OWNERS = {"t1": "cus_a", "t2": "cus_a", "t3": "cus_b", "t4": "cus_c"}


def test_hits_collapse_to_the_best_template_per_customer() -> None:
    hits = [Candidate("t1", 0.5), Candidate("t2", 0.7), Candidate("t3", 0.6), Candidate("x", 0.9)]
    best = best_per_customer(hits, OWNERS)
    assert [(c.customer_id, c.template_id) for c in best] == [("cus_a", "t2"), ("cus_b", "t3")]


def test_the_payer_must_be_above_threshold_and_own_the_number() -> None:
    cands = [CustomerCandidate("cus_a", "t2", 0.71), CustomerCandidate("cus_b", "t3", 0.40)]
    decision = decide_identity(cands, threshold=0.45, phone_owners={"cus_a"})
    assert isinstance(decision, Match) and decision.customer_id == "cus_a"
    assert decision.margin == pytest.approx(0.31)
    wrong_number = decide_identity(cands, threshold=0.45, phone_owners={"cus_b"})
    assert wrong_number == NoMatch("phone_mismatch", 0.71, 0.45)
    too_low = decide_identity(cands, threshold=0.8, phone_owners={"cus_a"})
    assert isinstance(too_low, NoMatch) and too_low.reason == "below_threshold"
    assert decide_identity([], 0.45, {"cus_a"}).reason == "no_candidate"  # type: ignore[union-attr]


def test_a_face_enrolled_on_another_account_is_a_duplicate() -> None:
    cands = [CustomerCandidate("cus_me", "t9", 0.9), CustomerCandidate("cus_b", "t3", 0.6)]
    assert find_duplicate_owner(cands, 0.5, "cus_me") == cands[1]
    assert find_duplicate_owner(cands, 0.7, "cus_me") is None


def test_phone_entries_follow_the_policy() -> None:
    assert normalise_phone_entry("+33 6 12 34 56 78", PhonePolicy.FULL) == "33612345678"
    assert normalise_phone_entry("56-78", PhonePolicy.LAST_FOUR) == "5678"
    with pytest.raises(InvalidInput, match="last 4"):
        normalise_phone_entry("678", PhonePolicy.LAST_FOUR)
    with pytest.raises(InvalidInput, match="6 to 15"):
        normalise_phone_entry("12", PhonePolicy.FULL)


def test_a_one_time_code_works_once_before_it_expires() -> None:
    code = issue_code(pepper=PEPPER, code_id="otp_1", phone_digest="h", code="123456", now=NOW)
    assert "123456" not in repr(code)
    ok, used, reason = check_code(code, pepper=PEPPER, entered="123456", now=NOW)
    assert ok and reason == "ok"
    again = check_code(used, pepper=PEPPER, entered="123456", now=NOW)
    assert again[0] is False and again[2] == "used"
    late = check_code(code, pepper=PEPPER, entered="123456", now=NOW + timedelta(minutes=11))
    assert late[2] == "expired"


def test_wrong_codes_lock_the_code_after_the_limit() -> None:
    record = issue_code(pepper=PEPPER, code_id="otp_2", phone_digest="h", code="654321", now=NOW)
    for _ in range(OTP_MAX_ATTEMPTS):
        ok, record, reason = check_code(record, pepper=PEPPER, entered="000000", now=NOW)
        assert not ok and reason == "wrong_code"
    ok, record, reason = check_code(record, pepper=PEPPER, entered="654321", now=NOW)
    assert not ok and reason == "too_many_attempts"


def test_audit_entries_refuse_pixels_and_embeddings() -> None:
    entry = AuditEntry("pay", "refused", ("no_match",), "pi_1", NOW, {"score": 0.3, "model": "m"})
    assert entry.values["score"] == 0.3
    with pytest.raises(InvalidInput, match="scalar"):
        AuditEntry("pay", "refused", (), None, NOW, {"frame": np.zeros((2, 2))})  # type: ignore[dict-item]
    with pytest.raises(InvalidInput, match="audit string"):
        AuditEntry("pay", "refused", (), None, NOW, {"jpeg": "A" * 5000})


def test_a_multi_image_template_is_a_unit_vector_near_its_parts() -> None:
    rng = np.random.default_rng(0)
    base = rng.standard_normal(64)
    parts = [(base + 0.3 * rng.standard_normal(64)) for _ in range(4)]
    parts = [(p / np.linalg.norm(p)).astype(np.float32) for p in parts]
    merged = merge_embeddings(parts, [1.0, 1.0, 0.5, 0.0])
    assert np.linalg.norm(merged) == pytest.approx(1.0, abs=1e-5)
    assert all(float(merged @ p) > 0.8 for p in parts[:3])
