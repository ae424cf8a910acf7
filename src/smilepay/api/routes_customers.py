"""/v1/customers: create, read, list; wallet balance, test-mode top-ups, notifications."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from smilepay.api.auth import container_of, require_secret_key
from smilepay.api.mutation import list_response, read, run_mutation
from smilepay.api.paging import Paging, paging
from smilepay.api.schemas import CURRENCY_LIMITS, CustomerCreate, TopUpCreate
from smilepay.domain.customers import Customer
from smilepay.domain.events import Notification
from smilepay.domain.ledger import AccountKind
from smilepay.domain.money import parse_currency
from smilepay.domain.risk import CustomerLimits
from smilepay.ports.money import MoneyTx
from smilepay.services import customers as svc
from smilepay.services.tenants import Caller
from smilepay.services.views import account_view, notification_view, topup_view

router = APIRouter(prefix="/v1/customers", tags=["customers"])


@router.post("", status_code=200)
def create_customer(
    body: CustomerCreate, request: Request, caller: Caller = Depends(require_secret_key)
) -> Response:
    ctx = container_of(request).ctx
    limits = (CustomerLimits(body.limits.per_payment_minor, body.limits.per_day_minor)
              if body.limits else None)

    def op(tx: MoneyTx) -> tuple[int, Any]:
        customer = svc.create_customer(tx, ctx, caller.scope, body.phone, name=body.name,
                                       email=body.email, limits=limits)
        return 200, svc.render_customer(ctx, customer)

    return run_mutation(request, caller, body, op)


@router.get("/{customer_id}")
def get_customer(
    customer_id: str, request: Request, caller: Caller = Depends(require_secret_key)
) -> Response:
    ctx = container_of(request).ctx
    return read(request, lambda tx: svc.render_customer(
        ctx, svc.get_customer(tx, caller.scope, customer_id)))


@router.get("")
def list_customers(
    request: Request, caller: Caller = Depends(require_secret_key),
    page: Paging = Depends(paging),
) -> Response:
    ctx = container_of(request).ctx
    return list_response(request, caller, page, Customer,
                         lambda c: svc.render_customer(ctx, c))


@router.post("/{customer_id}/topups")
def top_up(
    customer_id: str, body: TopUpCreate, request: Request,
    caller: Caller = Depends(require_secret_key),
) -> Response:
    ctx = container_of(request).ctx

    def op(tx: MoneyTx) -> tuple[int, Any]:
        transfer = svc.top_up(tx, ctx, caller.scope, customer_id, body.amount_minor,
                              body.currency)
        wallet = svc.wallet(tx, ctx, caller.scope, customer_id, transfer.currency)
        return 200, {**topup_view(transfer, customer_id), "wallet": account_view(wallet)}

    return run_mutation(request, caller, body, op)


@router.get("/{customer_id}/wallet")
def get_wallet(
    customer_id: str, request: Request, currency: str = Query("EUR", **CURRENCY_LIMITS),
    caller: Caller = Depends(require_secret_key),
) -> Response:
    code = parse_currency(currency)

    def work(tx: MoneyTx) -> dict[str, Any]:
        svc.get_customer(tx, caller.scope, customer_id)
        account = tx.find_account(caller.scope, AccountKind.CUSTOMER_WALLET, customer_id, code)
        if account is None:  # never topped up or paid: an empty wallet
            return {"object": "balance", "currency": code, "available_minor": 0,
                    "pending_minor": 0, "balance_minor": 0}
        return account_view(account)

    return read(request, work)


@router.get("/{customer_id}/notifications")
def list_notifications(
    customer_id: str, request: Request, caller: Caller = Depends(require_secret_key),
    page: Paging = Depends(paging),
) -> Response:
    return list_response(request, caller, page, Notification, notification_view,
                         equals={"customer_id": customer_id},
                         check=lambda tx: svc.get_customer(tx, caller.scope, customer_id))
