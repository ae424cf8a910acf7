"""Identity decisions: gallery candidates, phone confirmation, one-time codes, audit entries.

A face alone never pays: 1:N search gives candidates; the phone number the customer types turns
that open search into a 1:few verification. The match must be a candidate above the 1:1
threshold that owns the number; anything else is a ``NoMatch`` with a reason. Pure rules only.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from smilepay.errors import InvalidInput, SmilePayError


class FaceAlreadyEnrolled(SmilePayError):
    """The face matches a template of another customer (one face, one account)."""

    code = "face_already_enrolled"


class OneTimeCodeRejected(SmilePayError):
    """A sign-up code was wrong, expired, used, or tried too often."""

    code = "one_time_code_rejected"


@dataclass(frozen=True)
class Candidate:
    """One gallery hit: a template and its cosine score against the probe."""

    template_id: str
    score: float


@dataclass(frozen=True)
class CustomerCandidate:
    customer_id: str
    template_id: str
    score: float


@dataclass(frozen=True)
class Match:
    customer_id: str
    template_id: str
    score: float
    threshold: float
    margin: float  # score minus the best other customer's score (1.0 when none)


@dataclass(frozen=True)
class NoMatch:
    reason: str  # "no_candidate" | "below_threshold" | "phone_mismatch"
    best_score: float | None
    threshold: float


IdentityDecision = Match | NoMatch


class PhonePolicy(StrEnum):
    FULL = "full"
    LAST_FOUR = "last_four"


def best_per_customer(
    candidates: Sequence[Candidate], owners: Mapping[str, str]
) -> list[CustomerCandidate]:
    """Collapse template hits to the best score per customer, best first."""
    best: dict[str, CustomerCandidate] = {}
    for c in candidates:
        customer = owners.get(c.template_id)
        if customer is None:
            continue
        if customer not in best or c.score > best[customer].score:
            best[customer] = CustomerCandidate(customer, c.template_id, c.score)
    return sorted(best.values(), key=lambda x: -x.score)


def decide_identity(
    candidates: Sequence[CustomerCandidate],
    threshold: float,
    phone_owners: Collection[str],
) -> IdentityDecision:
    """The paying customer: above the 1:1 threshold AND owning the phone number entered."""
    if not candidates:
        return NoMatch("no_candidate", None, threshold)
    ordered = sorted(candidates, key=lambda x: -x.score)
    best_score = ordered[0].score
    above = [c for c in ordered if c.score >= threshold]
    if not above:
        return NoMatch("below_threshold", best_score, threshold)
    owning = [c for c in above if c.customer_id in phone_owners]
    if not owning:
        return NoMatch("phone_mismatch", best_score, threshold)
    chosen = owning[0]
    others = [c.score for c in ordered if c.customer_id != chosen.customer_id]
    margin = chosen.score - max(others) if others else 1.0
    return Match(chosen.customer_id, chosen.template_id, chosen.score, threshold, margin)


def find_duplicate_owner(
    candidates: Sequence[CustomerCandidate], threshold: float, customer_id: str
) -> CustomerCandidate | None:
    """Another customer whose template already matches this face, if any."""
    for c in candidates:
        if c.customer_id != customer_id and c.score >= threshold:
            return c
    return None


def normalise_phone_entry(entered: str, policy: PhonePolicy) -> str:
    """The digits the kiosk sends: all of them, or exactly the last four."""
    digits = "".join(ch for ch in entered if ch.isdigit())
    if policy is PhonePolicy.LAST_FOUR:
        if len(digits) != 4:
            raise InvalidInput(f"expected the last 4 digits of a phone number, got {len(digits)}")
        return digits
    if not 6 <= len(digits) <= 15:
        raise InvalidInput(f"expected a phone number of 6 to 15 digits, got {len(digits)}")
    return digits


# --- one-time codes -------------------------------------------------------------------------

OTP_DIGITS = 6
OTP_TTL = timedelta(minutes=10)
OTP_MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class OneTimeCode:
    """A sign-up code as stored: only its keyed hash, never the digits."""

    code_id: str
    phone_digest: str
    code_digest: str
    expires_at: datetime
    attempts: int = 0
    used: bool = False


def draw_code() -> str:
    return f"{secrets.randbelow(10**OTP_DIGITS):0{OTP_DIGITS}d}"


def digest_code(pepper: bytes, code_id: str, code: str) -> str:
    return hmac.new(pepper, f"{code_id}|{code}".encode(), hashlib.sha256).hexdigest()


def issue_code(
    *, pepper: bytes, code_id: str, phone_digest: str, code: str, now: datetime
) -> OneTimeCode:
    return OneTimeCode(
        code_id=code_id, phone_digest=phone_digest, code_digest=digest_code(pepper, code_id, code),
        expires_at=now + OTP_TTL,
    )


def code_matches(record: OneTimeCode, *, pepper: bytes, entered: str) -> bool:
    """The entered code against the stored digest (constant time); counting the try and using
    the code are the store's atomic updates, not this function's."""
    return hmac.compare_digest(record.code_digest,
                               digest_code(pepper, record.code_id, entered.strip()))


def refusal_reason(record: OneTimeCode, now: datetime) -> str:
    """Why a code whose attempt could not be claimed is refused."""
    if record.used:
        return "used"
    if now >= record.expires_at:
        return "expired"
    return "too_many_attempts"


def check_code(
    record: OneTimeCode, *, pepper: bytes, entered: str, now: datetime
) -> tuple[bool, OneTimeCode, str]:
    """(ok, the updated record, reason). Every try counts; a used code never works again."""
    if record.used:
        return False, record, "used"
    if now >= record.expires_at:
        return False, record, "expired"
    if record.attempts >= OTP_MAX_ATTEMPTS:
        return False, record, "too_many_attempts"
    tried = replace(record, attempts=record.attempts + 1)
    expected = record.code_digest
    if not hmac.compare_digest(expected, digest_code(pepper, record.code_id, entered.strip())):
        return False, tried, "wrong_code"
    return True, replace(tried, used=True), "ok"


# --- audit ----------------------------------------------------------------------------------

AuditValue = str | int | float | bool | None


@dataclass(frozen=True)
class AuditEntry:
    """One biometric decision: scores, thresholds, model ids and reasons; never pixels."""

    kind: str  # "enrol" | "pay" | "erase" | "duplicate_check" | ...
    decision: str  # "accepted" | "refused" | ...
    reasons: tuple[str, ...]
    subject_id: str | None
    at: datetime
    values: Mapping[str, AuditValue] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_audit_values(self.values)


MAX_AUDIT_STRING = 200


def check_audit_values(values: Mapping[str, AuditValue]) -> None:
    """Only short scalars: a frame, an embedding or a blob can never be written to the audit."""
    for key, value in values.items():
        if value is not None and not isinstance(value, str | int | float | bool):
            raise InvalidInput(
                f"expected a scalar audit value for {key!r}, got {type(value).__name__}"
            )
        if isinstance(value, str) and len(value) > MAX_AUDIT_STRING:
            raise InvalidInput(
                f"expected an audit string of <= {MAX_AUDIT_STRING} chars for {key!r}, "
                f"got {len(value)}"
            )
