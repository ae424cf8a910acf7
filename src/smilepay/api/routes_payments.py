"""/v1/payment_intents (create, confirm, capture, cancel, read, list) and /v1/refunds."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from smilepay.api.auth import container_of, require_secret_key, require_terminal_key
from smilepay.api.errors import ERROR_TABLE, error_payload
from smilepay.api.mutation import list_response, read, run_mutation
from smilepay.api.paging import Paging, paging
from smilepay.api.schemas import (
    ID_LIMITS,
    PaymentIntentCapture,
    PaymentIntentConfirm,
    PaymentIntentCreate,
    RefundCreate,
)
from smilepay.domain.mandates import FaceFlowRequired
from smilepay.domain.money_errors import PermissionDenied
from smilepay.domain.payments import CaptureMethod, PaymentIntent, PaymentStatus, Refund
from smilepay.domain.tenants import KeyKind
from smilepay.errors import NotFound
from smilepay.ports.money import MoneyTx
from smilepay.services import payments as svc
from smilepay.services.face_guard import terminal_payment_view
from smilepay.services.refunds import create_refund
from smilepay.services.tenants import Caller
from smilepay.services.views import payment_view, refund_view

router = APIRouter(prefix="/v1", tags=["payments"])


def payment_result(intent: PaymentIntent) -> tuple[int, Any]:
    """200 with the intent, or the decline as a 402 error that embeds the intent."""
    if intent.status is PaymentStatus.FAILED and intent.last_error_code:
        status, kind = ERROR_TABLE.get(intent.last_error_code, (402, "payment_error"))
        return status, error_payload(kind, intent.last_error_code,
                                     intent.last_error_message or "declined",
                                     payment_intent=payment_view(intent))
    return 200, payment_view(intent)


def _check_terminal(caller: Caller, intent: PaymentIntent) -> None:
    if caller.key_kind is KeyKind.TERMINAL and intent.terminal_id != caller.terminal_id:
        raise PermissionDenied("expected a payment intent of this terminal, got another")


@router.post("/payment_intents")
def create_payment_intent(
    body: PaymentIntentCreate, request: Request, caller: Caller = Depends(require_secret_key)
) -> Response:
    ctx = container_of(request).ctx
    def op(tx: MoneyTx) -> tuple[int, Any]:
        intent = svc.create_payment(
            tx, ctx, caller.scope, amount_minor=body.amount_minor, currency=body.currency,
            capture_method=CaptureMethod(body.capture_method), customer_id=body.customer,
            terminal_id=body.terminal, description=body.description, insert=not body.confirm,
        )
        if body.confirm:  # a merchant debit outside the face flow: the payer's mandate
            intent = svc.confirm_payment(tx, ctx, caller.scope, intent.id, created=intent,
                                         require_mandate=True)
        return payment_result(intent)

    payer = svc.payer_hint(ctx, body.customer, body.currency if body.confirm else None)
    return run_mutation(request, caller, body, op, payer=payer)


@router.get("/payment_intents/{payment_id}")
def get_payment_intent(
    payment_id: str, request: Request, caller: Caller = Depends(require_terminal_key)
) -> Response:
    def work(tx: MoneyTx) -> dict[str, Any]:
        intent = svc.get_payment(tx, caller.scope, payment_id)
        _check_terminal(caller, intent)
        if caller.key_kind is KeyKind.TERMINAL:
            return terminal_payment_view(intent)  # a terminal never sees customer ids
        return payment_view(intent)

    return read(request, work)


@router.get("/payment_intents")
def list_payment_intents(
    request: Request, caller: Caller = Depends(require_secret_key),
    page: Paging = Depends(paging), customer: str | None = Query(None, **ID_LIMITS),
) -> Response:
    return list_response(request, caller, page, PaymentIntent, payment_view,
                         equals={"customer_id": customer} if customer else None)


@router.post("/payment_intents/{payment_id}/confirm")
def confirm_payment_intent(
    payment_id: str, body: PaymentIntentConfirm, request: Request,
    caller: Caller = Depends(require_terminal_key),
) -> Response:
    if caller.key_kind is KeyKind.TERMINAL:
        raise FaceFlowRequired("expected the face flow (POST /v1/face/payments) to authorise a "
                               "payment at a terminal, got a confirm by customer id")
    ctx = container_of(request).ctx
    def op(tx: MoneyTx) -> tuple[int, Any]:  # a merchant debit outside the face flow
        return payment_result(svc.confirm_payment(tx, ctx, caller.scope, payment_id,
                                                  body.customer, require_mandate=True))

    return run_mutation(request, caller, body, op, payer=svc.payer_hint(ctx, body.customer))


@router.post("/payment_intents/{payment_id}/capture")
def capture_payment_intent(
    payment_id: str, body: PaymentIntentCapture, request: Request,
    caller: Caller = Depends(require_secret_key),
) -> Response:
    ctx = container_of(request).ctx
    return run_mutation(request, caller, body, lambda tx: (200, payment_view(
        svc.capture_payment(tx, ctx, caller.scope, payment_id, body.amount_to_capture_minor))))


@router.post("/payment_intents/{payment_id}/cancel")
def cancel_payment_intent(
    payment_id: str, request: Request, caller: Caller = Depends(require_secret_key)
) -> Response:
    ctx = container_of(request).ctx
    return run_mutation(request, caller, None, lambda tx: (200, payment_view(
        svc.cancel_payment(tx, ctx, caller.scope, payment_id))))


@router.post("/refunds")
def create_refund_route(
    body: RefundCreate, request: Request, caller: Caller = Depends(require_secret_key)
) -> Response:
    ctx = container_of(request).ctx

    def op(tx: MoneyTx) -> tuple[int, Any]:
        refund, _intent = create_refund(tx, ctx, caller.scope, body.payment_intent,
                                        body.amount_minor, body.reason)
        return 200, refund_view(refund)

    return run_mutation(request, caller, body, op)


@router.get("/refunds/{refund_id}")
def get_refund(
    refund_id: str, request: Request, caller: Caller = Depends(require_secret_key)
) -> Response:
    def work(tx: MoneyTx) -> dict[str, Any]:
        refund = tx.get(Refund, refund_id, caller.scope)
        if refund is None:
            raise NotFound(f"no refund {refund_id} in this account", param="id")
        return refund_view(refund)

    return read(request, work)


@router.get("/refunds")
def list_refunds(
    request: Request, caller: Caller = Depends(require_secret_key),
    page: Paging = Depends(paging),
    payment_intent: str | None = Query(None, **ID_LIMITS),
) -> Response:
    return list_response(request, caller, page, Refund, refund_view,
                         equals={"payment_intent_id": payment_intent} if payment_intent else None)
