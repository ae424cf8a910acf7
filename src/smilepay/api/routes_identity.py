"""/v1/identity: consent per purpose and identity verification (KYC) by face.

A wallet session (``ws_``) calls every route: the customer types the document, takes a selfie
through the liveness challenge (frames go to ``/v1/face/sessions/{id}/frames``), then uploads
the document's portrait page as a JPEG body to ``.../complete``. The image is read and dropped.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from smilepay.api.auth import container_of
from smilepay.api.built_once import gates_store
from smilepay.api.routes_face import WalletCaller, face_of, now_ms, require_wallet, session_json
from smilepay.api.routes_identity_attendance import pages as clock_pages
from smilepay.api.routes_identity_attendance import router as attendance_router
from smilepay.api.routes_identity_boarding import boarding_of
from smilepay.api.routes_identity_boarding import router as boarding_router
from smilepay.api.store_face import store_entry_templates
from smilepay.domain.purposes import Purpose, parse_purpose, purpose_text
from smilepay.errors import InvalidInput
from smilepay.ports.gates import GatesStore
from smilepay.services import identity_kyc
from smilepay.services.erase import erase_purpose_templates
from smilepay.services.identity_document import MAX_DOCUMENT_BYTES, DocumentEntry

api = APIRouter(prefix="/v1/identity", tags=["identity"])
api.include_router(attendance_router)
api.include_router(boarding_router)


def gates_of(request: Request) -> GatesStore:
    return gates_store(container_of(request))


@api.get("/consent_text/{purpose}")
def get_consent_text(purpose: str) -> dict[str, Any]:
    chosen = parse_purpose(purpose)
    text = purpose_text(chosen)
    return {"object": "consent_text", "purpose": chosen.value, "version": text.version,
            "body": text.body, "digest": text.digest, "retention_days": text.retention_days}


@api.get("/consents")
def get_consents(request: Request, who: WalletCaller = Depends(require_wallet)) -> dict[str, Any]:
    records = gates_of(request).purpose_consents(who.scope, who.customer_id)
    return {"object": "list", "data": [
        {"id": r.consent_id, "object": "purpose_consent", "purpose": r.purpose.value,
         "version": r.version, "active": r.active, "guardian": r.guardian_customer_id,
         "granted_ms": int(r.granted_at.timestamp() * 1000)} for r in records]}


@api.delete("/consents/{purpose}")
def delete_consent(purpose: str, request: Request,
                   who: WalletCaller = Depends(require_wallet)) -> dict[str, Any]:
    """Revoke one purpose and erase what it kept: identity verification its outcomes, boarding
    its face template, store entry its copy of the payment template; the other purposes (and
    the payment templates) are not touched. (Staff erase attendance through
    ``DELETE /v1/identity/staff/{id}/face``: staff are not wallet customers.)"""
    chosen = parse_purpose(purpose)
    if chosen is Purpose.PAYMENT:
        raise InvalidInput("expected a purpose other than payment (use DELETE "
                           "/v1/face/consent), got payment", param="purpose")
    gates = gates_of(request)
    t = now_ms(request)
    revoked = gates.revoke_purpose(who.scope, who.customer_id, chosen, t)
    erased = 0
    if chosen is Purpose.IDENTITY_VERIFICATION:
        erased = gates.erase_verifications(who.scope, who.customer_id)
    elif chosen is Purpose.BOARDING:
        board = boarding_of(request)
        removed = board.templates.delete_of(who.scope, chosen, who.customer_id)
        board.matcher.forget(removed)
        erased = len(removed)
    elif chosen is Purpose.STORE_ENTRY:  # the gates' copy of the payment face
        erased = len(erase_purpose_templates(store_entry_templates(container_of(request)),
                                             who.scope, who.customer_id, chosen))
    face_of(request).audit(who.scope, "purpose_erase", "accepted", (), who.customer_id, t,
                           {"purpose": chosen.value, "consents_revoked": revoked,
                            "records_erased": erased})
    return {"object": "purpose_erasure", "purpose": chosen.value,
            "consents_revoked": revoked, "records_erased": erased}


class VerificationBody(BaseModel):
    document_type: str = Field(max_length=24)
    number: str = Field(default="", max_length=32)
    mrz_line1: str = Field(default="", max_length=44)
    mrz_line2: str = Field(default="", max_length=44)
    consent_digest: str = Field(default="", max_length=64)
    guardian: str | None = Field(default=None, max_length=40)
    capability: str = Field(default="rgb", max_length=16)


@api.post("/verifications")
def post_verification(body: VerificationBody, request: Request,
                      who: WalletCaller = Depends(require_wallet)) -> dict[str, Any]:
    entry = DocumentEntry(body.document_type, body.number, body.mrz_line1, body.mrz_line2)
    verification, session = identity_kyc.start_verification(
        face_of(request), gates_of(request), who.scope, who.customer_id, entry,
        body.consent_digest, now_ms(request), who.owner, body.guardian, body.capability)
    return {**verification.as_json(), "session": session_json(session)}


async def document_body(request: Request) -> bytes:
    if not request.headers.get("content-type", "").startswith("image/jpeg"):
        raise InvalidInput("expected the portrait page as a JPEG (Content-Type: image/jpeg), "
                           f"got {request.headers.get('content-type')!r}", param="document")
    data = b""
    async for chunk in request.stream():
        data += chunk
        if len(data) > MAX_DOCUMENT_BYTES:
            raise InvalidInput(f"expected a document photo of <= {MAX_DOCUMENT_BYTES} bytes, "
                               "got more", param="document")
    return data


@api.post("/verifications/{verification_id}/complete")
def post_verification_complete(verification_id: str, request: Request,
                               document: bytes = Depends(document_body),
                               who: WalletCaller = Depends(require_wallet)) -> dict[str, Any]:
    decided = identity_kyc.complete_verification(
        face_of(request), gates_of(request), container_of(request).store, who.scope,
        who.customer_id, verification_id, document, now_ms(request), who.owner)
    return decided.as_json()


@api.get("/verifications")
def get_verifications(request: Request,
                      who: WalletCaller = Depends(require_wallet)) -> dict[str, Any]:
    found = gates_of(request).verifications_of(who.scope, who.customer_id)
    return {"object": "list", "data": [v.as_json() for v in found]}


router = APIRouter()  # what the app mounts (ROUTER_MODULES)
router.include_router(api)
router.include_router(clock_pages)
