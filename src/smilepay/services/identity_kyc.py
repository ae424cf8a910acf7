"""KYC: link an identity document to a customer by face.

1. ``start_verification``: the typed document is validated first (no face work for a bad
   number), consent to identity verification is recorded, the guardian rule applied, a number
   already verified for another customer refused; then a liveness challenge opens, the same
   as enrolment's.
2. The selfie frames go through ``/v1/face/sessions/{id}/frames``.
3. ``complete_verification``: the portrait page is read; a face turned beyond the selfie's
   pose limit is refused (``document_not_frontal``: the staff check follows); else its face is
   compared 1:1 with the selfie's best frames (which passed the enrolment quality gate and are
   near-frontal) at the document threshold; only the outcome is kept, never the image.
   A verified customer's risk limits rise to ``VERIFIED_LIMITS``.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import replace
from datetime import date

import numpy as np

from smilepay.domain.consent import ConsentRequired
from smilepay.domain.customers import Customer
from smilepay.domain.documents import (
    Guardian,
    IdentityDocument,
    check_guardian,
    document_number_digest,
)
from smilepay.domain.documents.verification import IdentityVerification, VerificationStatus
from smilepay.domain.ids import new_id
from smilepay.domain.purposes import (
    Purpose,
    grant_purpose_consent,
    require_consent,
)
from smilepay.domain.risk import CustomerLimits
from smilepay.domain.templates import merge_embeddings
from smilepay.domain.tenants import Scope
from smilepay.errors import Conflict, InvalidInput, NotFound
from smilepay.ports.gates import GatesStore
from smilepay.ports.money import MoneyStore, MoneyTx
from smilepay.services.face_context import FaceContext, FrameSession, now_utc
from smilepay.services.face_feedback import parse_capability
from smilepay.services.face_guard import open_owned_challenge
from smilepay.services.identity_document import (
    DocumentEntry,
    check_document_image,
    document_calibration,
    document_frontal,
    document_source,
    parse_document,
)
from smilepay.vision.decode import decode_image

KYC_PURPOSE = "kyc"  # the challenge purpose of the selfie
DOCUMENT_FAR = 1e-4
VERIFIED_LIMITS = CustomerLimits(per_payment_minor=200_000, per_day_minor=1_000_000)


class DocumentAlreadyLinked(Conflict):
    code = "document_already_linked"


def number_key(pepper: bytes, scope: Scope) -> bytes:
    """The tenant's key for document-number hashes (derived, never stored)."""
    return hmac.new(pepper, f"document-number|{scope.tenant_id}|{scope.livemode}".encode(),
                    hashlib.sha256).digest()


def verified_birth_date(store: GatesStore, scope: Scope,
                        customer_id: str) -> date | None:
    """A conservative birth date (31 December of the verified birth year), or None."""
    years = [v.birth_year for v in store.verifications_of(scope, customer_id)
             if v.status is VerificationStatus.VERIFIED]
    return date(max(years), 12, 31) if years else None


def start_verification(fc: FaceContext, gates: GatesStore, scope: Scope, customer_id: str,
                       entry: DocumentEntry, consent_digest: str, now_ms: int, owner: str,
                       guardian_customer_id: str | None = None, capability: str = "rgb",
                       ) -> tuple[IdentityVerification, FrameSession]:
    now = now_utc(now_ms)
    document: IdentityDocument = parse_document(entry, now.date())  # before any face work
    guardian = None
    if guardian_customer_id:
        guardian = Guardian(guardian_customer_id, verified=True,
                            birth_date=verified_birth_date(gates, scope,
                                                           guardian_customer_id))
        if guardian.birth_date is None:
            guardian = replace(guardian, verified=False)
    guardian_id = check_guardian(document.birth_date, guardian, now.date(), customer_id)
    consents = gates.purpose_consents(scope, customer_id)
    try:
        require_consent(consents, customer_id, Purpose.IDENTITY_VERIFICATION)
    except ConsentRequired:
        record = grant_purpose_consent(
            consent_id=new_id("pcon", now_ms), tenant_id=scope.tenant_id,
            customer_id=customer_id, purpose=Purpose.IDENTITY_VERIFICATION,
            accepted_digest=consent_digest, now=now, birth_date=document.birth_date,
            guardian=guardian)
        gates.add_purpose_consent(scope, record)
    digest = document_number_digest(number_key(fc.pepper, scope), document.document_type,
                                     document.country, document.number)
    owner_of_number = gates.verified_owner_of(scope, digest)
    if owner_of_number is not None and owner_of_number != customer_id:
        fc.audit(scope, "kyc", "refused", ("document_already_linked",), customer_id, now_ms,
                 {"document_type": document.document_type.value, "country": document.country})
        raise DocumentAlreadyLinked("expected a document not linked to another customer, got "
                                    "one that is", param="document")
    session = open_owned_challenge(fc, scope, KYC_PURPOSE, customer_id, None, owner, now_ms,
                                   parse_capability(capability))
    verification = IdentityVerification(
        verification_id=new_id("idv", now_ms), tenant_id=scope.tenant_id,
        livemode=scope.livemode, customer_id=customer_id, status=VerificationStatus.PENDING,
        document_type=document.document_type, country=document.country, number_digest=digest,
        birth_year=document.birth_year, challenge_id=session.challenge_id, created_at_ms=now_ms,
        guardian_customer_id=guardian_id)
    gates.add_verification(verification)
    return verification, session


def _pending(gates: GatesStore, scope: Scope, customer_id: str,
             verification_id: str) -> IdentityVerification:
    found = gates.get_verification(scope, verification_id)
    if found is None or found.customer_id != customer_id:
        raise NotFound(f"expected an identity verification of this customer, got "
                       f"{verification_id!r}", param="verification")
    if found.status is not VerificationStatus.PENDING:
        raise Conflict(f"expected a pending verification, got a {found.status.value} one",
                       param="verification")
    return found


def raise_limits(money: MoneyStore, scope: Scope, customer_id: str) -> None:
    """A verified identity: the customer's limits rise to at least ``VERIFIED_LIMITS``."""
    def work(tx: MoneyTx) -> None:
        customer = tx.get(Customer, customer_id, scope)
        if customer is None:
            return
        tx.update(replace(
            customer,
            limit_per_payment_minor=max(customer.limit_per_payment_minor,
                                        VERIFIED_LIMITS.per_payment_minor),
            limit_per_day_minor=max(customer.limit_per_day_minor,
                                    VERIFIED_LIMITS.per_day_minor)))

    money.run(work)


def complete_verification(fc: FaceContext, gates: GatesStore, money: MoneyStore, scope: Scope,
                          customer_id: str, verification_id: str, document_jpeg: bytes,
                          now_ms: int, owner: str) -> IdentityVerification:
    """Compare the portrait page with the passed selfie challenge and keep the outcome."""
    from smilepay.vision.errors import AmbiguousFaces, NoFaceFound

    pending = _pending(gates, scope, customer_id, verification_id)
    session = fc.sessions.get(pending.challenge_id, owner)
    if session.last_state != "passed" or not session.best or session.model_id is None:
        raise InvalidInput(f"expected a passed selfie challenge, got {session.last_state}",
                           param="session")
    image = check_document_image(decode_image(document_jpeg))
    calibration = document_calibration(session.model_id, document_source(image))
    threshold = calibration.table.threshold_at_far(DOCUMENT_FAR)
    reason: str | None = None
    score: float | None = None
    try:
        analysis = fc.pipeline.analyze_frame(image)  # with signals: the pose decides
    except NoFaceFound:
        reason = "document_no_face"
    except AmbiguousFaces:
        reason = "document_several_faces"
    else:
        embedding = analysis.embedding
        if not document_frontal(analysis.quality):
            reason = "document_not_frontal"
        elif embedding is None or embedding.model_id != session.model_id:
            reason = "model_mismatch"
        else:
            selfie = merge_embeddings([v for _, v in session.best[: fc.policy.probe_frames]],
                                      [max(q, 0.05) for q, _ in
                                       session.best[: fc.policy.probe_frames]])
            doc = fc.rotate(scope, embedding.vector)
            score = float(np.dot(selfie, doc))
            reason = None if score >= threshold else "below_threshold"
    del image
    decided = replace(
        pending, status=VerificationStatus.VERIFIED if reason is None else
        VerificationStatus.REFUSED, reason=reason, model_id=session.model_id, score=score,
        threshold=threshold, threshold_source=f"{calibration.table.model_id}@{DOCUMENT_FAR:g}",
        decided_at_ms=now_ms)
    fc.sessions.drop(session.challenge_id)
    if not gates.decide(decided):
        raise Conflict("expected a pending verification, got one decided meanwhile",
                       param="verification")
    fc.audit(scope, "kyc", "accepted" if reason is None else "refused",
             () if reason is None else (reason,), customer_id, now_ms,
             {"verification": verification_id, "score": None if score is None else
              round(score, 4), "threshold": round(threshold, 4), "model_id": session.model_id,
              "document_type": pending.document_type.value, "country": pending.country,
              "source": calibration.source})
    if reason is None:
        raise_limits(money, scope, customer_id)
    return decided
