"""Age from a birth date, and the guardian rule: under 14 needs a verified adult guardian."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from smilepay.errors import SmilePayError

GUARDIAN_AGE = 14  # below this, a guardian must consent (China's PIPL art. 28/31)
ADULT_AGE = 18


class GuardianRequired(SmilePayError):
    """A minor under the guardian age without a valid guardian."""

    code = "guardian_required"


def age_on(birth_date: date, today: date) -> int:
    """Completed years on ``today`` (a 29 February birthday counts from 1 March in other years)."""
    if birth_date > today:
        raise ValueError(f"expected a birth date not after {today}, got {birth_date}")
    years = today.year - birth_date.year
    if (today.month, today.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


def needs_guardian(birth_date: date, today: date) -> bool:
    return age_on(birth_date, today) < GUARDIAN_AGE


@dataclass(frozen=True)
class Guardian:
    """The customer offered as guardian, as the identity records know them."""

    customer_id: str
    verified: bool  # a completed identity verification (KYC)
    birth_date: date | None  # from that verification


def check_guardian(subject_birth: date, guardian: Guardian | None, today: date,
                   subject_customer_id: str | None = None) -> str | None:
    """The guardian's customer id when one is required and valid; ``None`` when none is needed.

    Raises ``GuardianRequired`` when the subject is under 14 and the guardian is missing, not
    verified, not an adult, or the subject themself."""
    if not needs_guardian(subject_birth, today):
        return None
    if guardian is None:
        raise GuardianRequired(f"expected a guardian for a customer under {GUARDIAN_AGE}, got none")
    if subject_customer_id is not None and guardian.customer_id == subject_customer_id:
        raise GuardianRequired("expected a guardian other than the customer, got the customer")
    if not guardian.verified or guardian.birth_date is None:
        raise GuardianRequired("expected a guardian with a verified identity, got an unverified "
                               "customer")
    guardian_age = age_on(guardian.birth_date, today)
    if guardian_age < ADULT_AGE:
        raise GuardianRequired(f"expected an adult guardian (>= {ADULT_AGE}), got age "
                               f"{guardian_age}")
    return guardian.customer_id
