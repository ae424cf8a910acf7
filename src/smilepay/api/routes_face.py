"""/v1/face: sign-up, consent, enrolment, kiosk payment, wallet, erase, promotions, audit.

Who may call: the kiosk and enrol pages use a terminal key (``tk_``); a customer's wallet uses
the session token (``ws_``) given after the one-time code; the merchant's dashboard uses a
secret key. Frames are posted as JPEG bodies with an ``X-Capture-Ms`` header; a terminal with a
3D camera (session capability ``rgb_depth``) posts ``multipart/form-data`` with a ``frame``
(JPEG) and a ``depth`` (16-bit PNG, docs/depth-format.md) part instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel, Field
from starlette.datastructures import UploadFile

from smilepay.api.auth import bearer, container_of, require_secret_key, require_terminal_key
from smilepay.api.mutation import page_payload
from smilepay.bootstrap import face_context_of
from smilepay.domain.consent import consent_text
from smilepay.domain.money_errors import AuthenticationFailed
from smilepay.domain.tenants import Scope
from smilepay.errors import InvalidInput, NotFound
from smilepay.services import enrol, erase, face_pay
from smilepay.services.face_context import FaceContext, FrameSession
from smilepay.services.face_feedback import PROMPTS
from smilepay.services.face_frames import MAX_FRAME_BYTES, add_frame
from smilepay.services.face_guard import api_key_owner, wallet_owner
from smilepay.services.face_wallet import (
    list_pending_payment,
    set_promotion,
    top_up_wallet,
    wallet_summary,
)
from smilepay.services.tenants import Caller
from smilepay.vision.decode import check_frame_header
from smilepay.vision.liveness.depth_png import MAX_DEPTH_BYTES

router = APIRouter(prefix="/v1/face", tags=["face"])


def face_of(request: Request) -> FaceContext:
    """The app's face context, built once on first use (``bootstrap.face_context_of``)."""
    return face_context_of(container_of(request))


def now_ms(request: Request) -> int:
    return container_of(request).ctx.clock.now_ms()


@dataclass(frozen=True)
class WalletCaller:
    scope: Scope
    customer_id: str
    owner: str  # the wallet session, as the owner of the face sessions it opens


def require_wallet(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)
) -> WalletCaller:
    token = credentials.credentials if credentials else ""
    if not token.startswith("ws_"):
        raise AuthenticationFailed("expected a wallet session (Bearer ws_...), got none")
    token_hash = enrol.hash_token(token)
    found = face_of(request).identity.find_wallet_session(token_hash)
    if found is None or found.expires_at_ms < now_ms(request):
        raise AuthenticationFailed("expected a live wallet session, got an unknown or old one")
    return WalletCaller(scope=found.scope, customer_id=found.customer_id,
                        owner=wallet_owner(token_hash))


def session_json(session: FrameSession) -> dict[str, Any]:
    c = session.challenge
    return {"id": session.challenge_id, "object": "face_session", "purpose": session.purpose,
            "steps": [a.value for a in c.steps], "prompts": [PROMPTS[a] for a in c.steps],
            "issued_at_ms": c.issued_at_ms, "expires_at_ms": c.expires_at_ms,
            "step_timeout_ms": c.step_timeout_ms, "capability": session.capability.value}


# --- consent and sign-up --------------------------------------------------------------------
@router.get("/consent_text")
def get_consent_text() -> dict[str, Any]:
    text = consent_text()
    return {"object": "consent_text", "version": text.version, "body": text.body,
            "digest": text.digest, "retention_days": text.retention_days}


class SignUpBody(BaseModel):
    phone: str = Field(min_length=6, max_length=32)


@router.post("/signups")
def post_signup(body: SignUpBody, request: Request,
                caller: Caller = Depends(require_terminal_key)) -> dict[str, Any]:
    found = enrol.start_signup(face_of(request), container_of(request), caller.scope, body.phone,
                               now_ms(request), api_key_owner(caller.terminal_id, caller.key_id))
    return {"id": found.code_id, "object": "signup", "phone": found.phone_masked,
            "test_code": found.test_code}


class VerifyBody(BaseModel):
    code: str = Field(min_length=4, max_length=12)
    name: str = Field(default="", max_length=100)


@router.post("/signups/{signup_id}/verify")
def post_verify(signup_id: str, body: VerifyBody, request: Request,
                caller: Caller = Depends(require_terminal_key)) -> dict[str, Any]:
    login = enrol.verify_signup(face_of(request), container_of(request), caller.scope, signup_id,
                                body.code, body.name, now_ms(request))
    # no customer id: this answer goes to the terminal; the wallet session reads its own
    return {"object": "wallet_session", "session_token": login.session_token,
            "created": login.created}


class ConsentBody(BaseModel):
    version: str = Field(max_length=64)
    digest: str = Field(min_length=64, max_length=64)


@router.post("/consent")
def post_consent(body: ConsentBody, request: Request,
                 who: WalletCaller = Depends(require_wallet)) -> dict[str, Any]:
    record = enrol.give_consent(face_of(request), who.scope, who.customer_id, body.version,
                                body.digest, now_ms(request))
    return {"id": record.consent_id, "object": "face_consent", "version": record.version,
            "granted": int(record.granted_at.timestamp())}


@router.delete("/consent")
def delete_consent(request: Request, who: WalletCaller = Depends(require_wallet)) -> dict[str, Any]:
    receipt = erase.erase_face(face_of(request), who.scope, who.customer_id, now_ms(request))
    return {"id": receipt.receipt_id, "object": "deletion_receipt",
            "templates_deleted": receipt.template_count, "reason": receipt.reason,
            "deleted": int(receipt.deleted_at.timestamp()), "digest": receipt.digest}


# --- enrolment ------------------------------------------------------------------------------
class EnrolmentBody(BaseModel):
    capability: str = Field(default="rgb", max_length=16)  # "rgb_depth": frames with depth


@router.post("/enrolments")
def post_enrolment(request: Request, body: EnrolmentBody | None = None,
                   who: WalletCaller = Depends(require_wallet)) -> dict[str, Any]:
    session = enrol.start_enrolment(face_of(request), who.scope, who.customer_id,
                                    now_ms(request), (body or EnrolmentBody()).capability,
                                    owner=who.owner)
    return session_json(session)


@router.post("/enrolments/{session_id}/complete")
def post_enrolment_complete(session_id: str, request: Request,
                            who: WalletCaller = Depends(require_wallet)) -> dict[str, Any]:
    return enrol.finish_enrolment(face_of(request), who.scope, who.customer_id, session_id,
                                  now_ms(request), owner=who.owner)


async def frame_body(request: Request) -> bytes:
    if not request.headers.get("content-type", "").startswith("image/jpeg"):
        raise InvalidInput("expected a JPEG frame (Content-Type: image/jpeg), got "
                           f"{request.headers.get('content-type')!r}", param="frame")
    jpeg = await request.body()
    check_frame_header(jpeg)  # 400 before any work: not an image, cut short, > 1920x1080
    return jpeg


@dataclass(frozen=True)
class FrameParts:
    jpeg: bytes
    depth_png: bytes | None  # on rgb_depth sessions: the 16-bit PNG depth map


async def _read_part(found: object, name: str, limit: int) -> bytes | None:
    if found is None:
        return None
    if not isinstance(found, UploadFile):
        raise InvalidInput(f"expected a file part {name!r}, got a text field", param=name)
    data = await found.read(limit + 1)
    if len(data) > limit:
        raise InvalidInput(f"expected a {name} part of <= {limit} bytes, got more", param=name)
    return data


async def frame_parts(request: Request) -> FrameParts:
    """A JPEG body, or ``multipart/form-data`` with ``frame`` (JPEG) and ``depth`` (PNG)."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("image/jpeg"):
        body = await request.body()
        check_frame_header(body)  # 400 before any work: not an image, cut short, > 1920x1080
        return FrameParts(body, None)
    if not content_type.startswith("multipart/form-data"):
        raise InvalidInput("expected a JPEG frame (Content-Type: image/jpeg) or multipart/"
                           f"form-data with 'frame' and 'depth' parts, got {content_type!r}",
                           param="frame")
    async with request.form(max_files=2, max_fields=2, max_part_size=MAX_FRAME_BYTES) as form:
        jpeg = await _read_part(form.get("frame"), "frame", MAX_FRAME_BYTES)
        depth = await _read_part(form.get("depth"), "depth", MAX_DEPTH_BYTES)
    if jpeg is None:
        raise InvalidInput("expected a 'frame' part (JPEG) in the multipart body, got "
                           f"{sorted(form.keys())}", param="frame")
    check_frame_header(jpeg)  # 400 before any work: not an image, cut short, > 1920x1080
    return FrameParts(jpeg, depth)


def caller_owner(request: Request, credentials: HTTPAuthorizationCredentials | None
                 ) -> tuple[Scope, str]:
    """The caller's scope and its identity as a session owner (terminal or wallet session)."""
    token = credentials.credentials if credentials else ""
    if token.startswith("ws_"):
        who = require_wallet(request, credentials)
        return who.scope, who.owner
    caller = require_terminal_key(request, credentials)
    return caller.scope, api_key_owner(caller.terminal_id, caller.key_id)


@router.post("/sessions/{session_id}/frames")
def post_frame(session_id: str, request: Request, parts: FrameParts = Depends(frame_parts),
               x_capture_ms: int | None = Header(default=None),
               credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
               ) -> dict[str, Any]:
    scope, owner = caller_owner(request, credentials)
    fc = face_of(request)
    # another caller's session: the same 404; a decided one answers late frames with its decision
    session = fc.sessions.get(session_id, owner, decided_ok=True)
    if session.scope != scope:
        raise NotFound(f"expected an open face session, got {session_id!r} "
                       "(expired or unknown: start again)", param="session")
    t = now_ms(request)
    return add_frame(fc, session, parts.jpeg, x_capture_ms or t, t, parts.depth_png).as_json()


# --- kiosk payment --------------------------------------------------------------------------
@router.get("/terminal")
def get_terminal(request: Request, caller: Caller = Depends(require_terminal_key)
                 ) -> dict[str, Any]:
    return list_pending_payment(face_of(request), container_of(request), caller)


class FacePaymentBody(BaseModel):
    payment_intent: str = Field(max_length=40)
    capability: str = Field(default="rgb", max_length=16)  # "rgb_depth": frames with depth


@router.post("/payments")
def post_face_payment(body: FacePaymentBody, request: Request,
                      caller: Caller = Depends(require_terminal_key)) -> dict[str, Any]:
    session, intent = face_pay.start_face_payment(
        face_of(request), container_of(request), caller.scope, body.payment_intent,
        caller.terminal_id, now_ms(request), body.capability,
        owner=api_key_owner(caller.terminal_id, caller.key_id))
    return {**session_json(session), "amount_minor": intent.amount_minor,
            "currency": intent.currency, "description": intent.description,
            "phone_policy": face_of(request).policy.phone_policy.value}


class ConfirmBody(BaseModel):
    phone: str = Field(min_length=4, max_length=32)


@router.post("/payments/{session_id}/confirm")
def post_face_confirm(session_id: str, body: ConfirmBody, request: Request,
                      caller: Caller = Depends(require_terminal_key)) -> dict[str, Any]:
    return face_pay.confirm_face_payment(face_of(request), container_of(request), caller.scope,
                                         session_id, body.phone, now_ms(request),
                                         owner=api_key_owner(caller.terminal_id, caller.key_id))


@router.post("/camera-check")
def post_camera_check(request: Request, jpeg: bytes = Depends(frame_body),
                      caller: Caller = Depends(require_terminal_key)) -> dict[str, Any]:
    from smilepay.vision.decode import decode_frame

    faces = face_of(request).pipeline.find_faces(decode_frame(jpeg))
    return {"object": "camera_check", "faces": len(faces),
            "largest_face_px": round(min(faces[0].width, faces[0].height)) if faces else 0}


# --- wallet ---------------------------------------------------------------------------------
@router.get("/wallet")
def get_wallet(request: Request, who: WalletCaller = Depends(require_wallet),
               currency: str = "eur") -> dict[str, Any]:
    return wallet_summary(face_of(request), container_of(request), who.scope, who.customer_id,
                          currency)


class TopUpBody(BaseModel):
    amount_minor: int = Field(gt=0, le=1_000_000, strict=True)
    currency: str = Field(default="eur", min_length=3, max_length=3)


@router.post("/wallet/topups")
def post_wallet_topup(body: TopUpBody, request: Request,
                      who: WalletCaller = Depends(require_wallet)) -> dict[str, Any]:
    return top_up_wallet(container_of(request), who.scope, who.customer_id, body.amount_minor,
                         body.currency)


# --- merchant -------------------------------------------------------------------------------
class PromotionBody(BaseModel):
    active: bool
    max_discount_bps: int = Field(default=1000, ge=1, le=5000, strict=True)
    cap_minor: int = Field(default=500, ge=0, le=100_000_000, strict=True)
    min_smile: float = Field(default=0.3, ge=0.0, lt=1.0)


@router.post("/promotions")
def post_promotion(body: PromotionBody, request: Request,
                   caller: Caller = Depends(require_secret_key)) -> dict[str, Any]:
    return set_promotion(face_of(request), caller.scope, body.active, body.max_discount_bps,
                         body.cap_minor, body.min_smile, now_ms(request))


@router.get("/audit")
def get_audit(request: Request, caller: Caller = Depends(require_secret_key),
              subject: str | None = Query(None, max_length=64),
              limit: int = Query(50, ge=1, le=200)) -> dict[str, Any]:
    entries = face_of(request).identity.audit_entries(caller.scope, subject, limit + 1)
    return page_payload(request.url.path, entries[:limit], len(entries) > limit)
