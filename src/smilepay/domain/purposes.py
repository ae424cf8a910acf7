"""Consent per purpose: each use of a face is granted, revoked and erased on its own.

Purposes: payment, store entry, attendance, boarding, identity verification. Every purpose has
its own consent text and a non-face alternative (face is never the only way). Templates carry
the purpose they were enrolled for; erasing one purpose leaves the others. Pure rules, no I/O;
the text type and digests are those of ``domain.consent``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum

from smilepay.domain.consent import ConsentRequired, ConsentText
from smilepay.domain.documents.age import Guardian, check_guardian
from smilepay.errors import InvalidInput


class Purpose(StrEnum):
    PAYMENT = "payment"
    STORE_ENTRY = "store_entry"
    ATTENDANCE = "attendance"
    BOARDING = "boarding"
    IDENTITY_VERIFICATION = "identity_verification"


def parse_purpose(raw: str) -> Purpose:
    try:
        return Purpose(raw)
    except ValueError:
        raise InvalidInput(f"expected a purpose in {[p.value for p in Purpose]}, got {raw!r}",
                           param="purpose") from None


# The alternative every flow must offer beside the face (China's 2025 rules, GDPR art. 9).
NON_FACE_ALTERNATIVE: dict[Purpose, str] = {
    Purpose.PAYMENT: "phone number and one-time code, or a card at the till",
    Purpose.STORE_ENTRY: "a QR code from the app",
    Purpose.ATTENDANCE: "PIN or badge, approved by a manager",
    Purpose.BOARDING: "the ticket's QR code",
    Purpose.IDENTITY_VERIFICATION: "a staff check of the document at a counter",
}

_DELETE = ("Revoke this purpose on your account page at any time: its templates are removed at "
           "once and you get a deletion receipt; your other purposes are not touched.")

PURPOSE_TEXTS: dict[Purpose, ConsentText] = {
    Purpose.ATTENDANCE: ConsentText(
        version="2026-12-attendance-v1",
        purpose=("Clock in and out at your employer's terminals by looking at the camera. Only "
                 "the terminals of your employer's sites search for your face."),
        what_is_kept=("An encrypted face template for attendance only, your punches (time, "
                      "site, method) and the scores of each face decision. No photos."),
        retention_days=180, how_to_delete=_DELETE),
    Purpose.BOARDING: ConsentText(
        version="2026-12-boarding-v2",
        purpose=("Board a departure you hold a ticket for by looking at the gate camera. The "
                 "gate searches only the passengers of that departure. When the departure has "
                 "a fare (a taxi ride, a shuttle), boarding it, by face or by the ticket's QR "
                 "code, charges that fare to your SmilePay wallet, once per ticket; if the "
                 "wallet can't pay, the gate stays shut and you pay another way."),
        what_is_kept=("An encrypted face template for boarding only, and per ticket whether it "
                      "was used, when, by face or QR code, and the payment of its fare. No "
                      "photos."),
        retention_days=365, how_to_delete=_DELETE),
    Purpose.IDENTITY_VERIFICATION: ConsentText(
        version="2026-12-identity-v1",
        purpose=("Check that you are the holder of an identity document by comparing its "
                 "portrait with a live selfie, once."),
        what_is_kept=("The outcome only: verified or not, the scores, the document type and "
                      "country, a keyed hash of its number and your birth year. Neither the "
                      "document image nor the selfie is kept."),
        retention_days=3 * 365, how_to_delete=_DELETE),
    Purpose.STORE_ENTRY: ConsentText(
        version="2026-12-store-entry-v2",
        purpose=("Use your face at the gates of this merchant's checkout-free stores: at the "
                 "entry gate it opens your trip (and places the entry hold on your wallet); at "
                 "the exit gate it finds your trip, and your wallet pays for what you took. "
                 "The gates compare your face only with the customers who turned this on. "
                 "Without it, show the entry code from your wallet at the gates."),
        what_is_kept=("A copy of the face template you enrolled for payments, encrypted and "
                      "kept apart for store gates only: erasing your payment face does not "
                      "remove it, and turning this off does not remove your payment face. "
                      "The scores of each gate decision. No photos."),
        retention_days=365,
        how_to_delete=("Turn off 'Let the store's gates recognise you' on your wallet's store "
                       "page at any time: the copy is removed at once and the gates stop "
                       "recognising you (your entry code still works); your other purposes "
                       "are not touched."),
        retention_since=("a store gate last recognised you (counted from the day you "
                         "turned this on until one does)")),
}

# Store-entry texts that say what the gates do (a copy of the payment template, kept for the
# gates; entry AND exit). A grant on the first text ("2026-12-store-entry-v1", which named the
# entrance only and promised a template of its own that the code never made) names nobody at
# a gate: the customer is asked to renew it on the wallet's store page, which makes the copy.
STORE_FACE_VERSIONS = frozenset({"2026-12-store-entry-v2"})


def store_consent_current(version: str) -> bool:
    return version in STORE_FACE_VERSIONS


@dataclass(frozen=True)
class PurposeConsent:
    """One customer's grant for one purpose (payment keeps its record in ``domain.consent``)."""

    consent_id: str
    tenant_id: str
    customer_id: str
    purpose: Purpose
    version: str
    text_digest: str
    granted_at: datetime
    guardian_customer_id: str | None = None
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def purpose_text(purpose: Purpose) -> ConsentText:
    if purpose not in PURPOSE_TEXTS:
        raise InvalidInput(f"expected a purpose with its own text in "
                           f"{sorted(p.value for p in PURPOSE_TEXTS)}, got {purpose.value!r} "
                           "(payment consent lives in domain.consent)")
    return PURPOSE_TEXTS[purpose]


def grant_purpose_consent(
    *, consent_id: str, tenant_id: str, customer_id: str, purpose: Purpose,
    accepted_digest: str, now: datetime, birth_date: date | None = None,
    guardian: Guardian | None = None,
) -> PurposeConsent:
    """A grant of exactly the text shown; an under-14 (when the birth date is known) needs a
    verified adult guardian, who is recorded with the grant."""
    text = purpose_text(purpose)
    if accepted_digest != text.digest:
        raise ConsentRequired(f"expected the digest of the {purpose.value} consent text, got "
                              f"{accepted_digest[:12]!r}", purpose=purpose.value)
    guardian_id = None
    if birth_date is not None:
        guardian_id = check_guardian(birth_date, guardian, now.date(), customer_id)
    return PurposeConsent(consent_id=consent_id, tenant_id=tenant_id, customer_id=customer_id,
                          purpose=purpose, version=text.version, text_digest=text.digest,
                          granted_at=now, guardian_customer_id=guardian_id)


def revoke_purpose_consent(record: PurposeConsent, now: datetime) -> PurposeConsent:
    return record if not record.active else replace(record, revoked_at=now)


def require_consent(consents: Iterable[PurposeConsent], customer_id: str,
                    purpose: Purpose) -> PurposeConsent:
    """The customer's active grant for ``purpose``; ``ConsentRequired`` when there is none."""
    for record in consents:
        if record.customer_id == customer_id and record.purpose is purpose and record.active:
            return record
    raise ConsentRequired(f"expected an active {purpose.value} consent, got none",
                          purpose=purpose.value)


@dataclass(frozen=True)
class PurposeTemplate:
    template_id: str
    customer_id: str
    purpose: Purpose


@dataclass(frozen=True)
class ErasurePlan:
    remove: tuple[str, ...]  # template ids
    keep: tuple[str, ...]


def plan_purpose_erasure(templates: Sequence[PurposeTemplate], customer_id: str,
                         purpose: Purpose) -> ErasurePlan:
    """Which of the customer's templates go when one purpose is erased: that purpose's only."""
    own = [t for t in templates if t.customer_id == customer_id]
    return ErasurePlan(remove=tuple(t.template_id for t in own if t.purpose is purpose),
                       keep=tuple(t.template_id for t in own if t.purpose is not purpose))
