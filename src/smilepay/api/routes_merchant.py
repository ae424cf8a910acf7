"""The merchant's own objects: terminals, API keys, balance and its transactions, payouts,
events and webhook endpoints."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from smilepay.api.auth import container_of, require_secret_key
from smilepay.api.mutation import list_response, page_payload, read, run_mutation
from smilepay.api.paging import Paging, paging
from smilepay.api.schemas import (
    CURRENCY_LIMITS,
    EVENT_TYPE_LIMITS,
    ApiKeyCreate,
    PayoutCreate,
    TerminalCreate,
    WebhookEndpointCreate,
)
from smilepay.domain.events import Event, WebhookEndpoint
from smilepay.domain.ledger import Account, AccountKind
from smilepay.domain.money import parse_currency
from smilepay.domain.tenants import ApiKey, KeyKind, Terminal
from smilepay.errors import NotFound
from smilepay.ports.money import MoneyTx
from smilepay.services.events import event_payload
from smilepay.services.ledger import SYSTEM_OWNER
from smilepay.services.refunds import create_payout
from smilepay.services.tenants import Caller, create_terminal, issue_api_key, revoke_api_key
from smilepay.services.views import (
    account_view,
    api_key_view,
    endpoint_view,
    payout_view,
    terminal_view,
    transfer_view,
)
from smilepay.services.webhook_delivery import create_endpoint

router = APIRouter(prefix="/v1", tags=["merchant"])


def _now(request: Request) -> int:
    return container_of(request).ctx.clock.now_ms()


@router.post("/terminals")
def create_terminal_route(
    body: TerminalCreate, request: Request, caller: Caller = Depends(require_secret_key)
) -> Response:
    return run_mutation(request, caller, body, lambda tx: (200, terminal_view(create_terminal(
        tx, caller.scope, body.name, _now(request), body.store_gate))))


@router.get("/terminals")
def list_terminals(
    request: Request, caller: Caller = Depends(require_secret_key),
    page: Paging = Depends(paging),
) -> Response:
    return list_response(request, caller, page, Terminal, terminal_view)


@router.post("/api_keys")
def create_api_key(
    body: ApiKeyCreate, request: Request, caller: Caller = Depends(require_secret_key)
) -> Response:
    def op(tx: MoneyTx) -> tuple[int, Any]:
        issued = issue_api_key(tx, caller.scope, KeyKind(body.kind), _now(request), body.terminal)
        return 200, api_key_view(issued.key, issued.raw)

    return run_mutation(request, caller, body, op, secret_fields=("key",))


@router.get("/api_keys")
def list_api_keys(
    request: Request, caller: Caller = Depends(require_secret_key),
    page: Paging = Depends(paging),
) -> Response:
    return list_response(request, caller, page, ApiKey, api_key_view)


@router.post("/api_keys/{key_id}/revoke")
def revoke_api_key_route(
    key_id: str, request: Request, caller: Caller = Depends(require_secret_key)
) -> Response:
    response = run_mutation(request, caller, None, lambda tx: (200, api_key_view(
        revoke_api_key(tx, caller.scope, key_id, _now(request)))))
    container_of(request).callers.forget(key_id)
    return response


def _merchant_account(tx: MoneyTx, caller: Caller, currency: str) -> Account | None:
    return tx.find_account(caller.scope, AccountKind.MERCHANT_BALANCE, SYSTEM_OWNER, currency)


@router.get("/balance")
def get_balance(
    request: Request, caller: Caller = Depends(require_secret_key),
    currency: str = Query("EUR", **CURRENCY_LIMITS)
) -> Response:
    code = parse_currency(currency)

    def work(tx: MoneyTx) -> dict[str, Any]:
        account = _merchant_account(tx, caller, code)
        if account is None:
            return {"object": "balance", "currency": code, "available_minor": 0,
                    "pending_minor": 0, "balance_minor": 0}
        return account_view(account)

    return read(request, work)


@router.get("/balance_transactions")
def list_balance_transactions(
    request: Request, caller: Caller = Depends(require_secret_key),
    page: Paging = Depends(paging), currency: str = Query("EUR", **CURRENCY_LIMITS),
) -> Response:
    code = parse_currency(currency)

    def work(tx: MoneyTx) -> dict[str, Any]:
        account = _merchant_account(tx, caller, code)
        if account is None:
            return page_payload(request.url.path, [], False)
        got = tx.account_transfers(account.id, limit=page.limit,
                                   starting_after=page.starting_after)
        return page_payload(request.url.path, [transfer_view(t, account.id) for t in got.items],
                            got.has_more)

    return read(request, work)


@router.post("/payouts")
def create_payout_route(
    body: PayoutCreate, request: Request, caller: Caller = Depends(require_secret_key)
) -> Response:
    ctx = container_of(request).ctx

    def op(tx: MoneyTx) -> tuple[int, Any]:
        return 200, payout_view(create_payout(tx, ctx, caller.scope, body.amount_minor,
                                              body.currency))

    return run_mutation(request, caller, body, op)


@router.get("/events")
def list_events(
    request: Request, caller: Caller = Depends(require_secret_key),
    page: Paging = Depends(paging),
    type: str | None = Query(None, **EVENT_TYPE_LIMITS),
) -> Response:
    return list_response(request, caller, page, Event, event_payload,
                         equals={"type": type} if type else None)


@router.get("/events/{event_id}")
def get_event(
    event_id: str, request: Request, caller: Caller = Depends(require_secret_key)
) -> Response:
    def work(tx: MoneyTx) -> dict[str, Any]:
        event = tx.get(Event, event_id, caller.scope)
        if event is None:
            raise NotFound(f"no event {event_id} in this account", param="id")
        payload = event_payload(event)
        payload["deliveries"] = [
            {"endpoint": d.endpoint_id, "status": d.status.value, "attempts": d.attempts,
             "last_status_code": d.last_status_code}
            for d in tx.deliveries_for_event(event.id)
        ]
        return payload

    return read(request, work)


@router.post("/webhook_endpoints")
def create_webhook_endpoint(
    body: WebhookEndpointCreate, request: Request, caller: Caller = Depends(require_secret_key)
) -> Response:
    policy = container_of(request).webhook_policy
    policy.check_url(body.url, caller.scope.livemode)  # resolves the name: before the tx

    def op(tx: MoneyTx) -> tuple[int, Any]:
        made = create_endpoint(tx, caller.scope, body.url, body.enabled_events, _now(request),
                               policy)
        return 200, endpoint_view(made, with_secret=True)

    return run_mutation(request, caller, body, op, secret_fields=("secret",))


@router.get("/webhook_endpoints")
def list_webhook_endpoints(
    request: Request, caller: Caller = Depends(require_secret_key),
    page: Paging = Depends(paging),
) -> Response:
    return list_response(request, caller, page, WebhookEndpoint, endpoint_view)


@router.delete("/webhook_endpoints/{endpoint_id}")
def disable_webhook_endpoint(
    endpoint_id: str, request: Request, caller: Caller = Depends(require_secret_key)
) -> Response:
    """Stop delivering to this endpoint (deliveries already queued are kept as history)."""

    def op(tx: MoneyTx) -> tuple[int, Any]:
        endpoint = tx.get(WebhookEndpoint, endpoint_id, caller.scope)
        if endpoint is None:
            raise NotFound(f"no webhook endpoint {endpoint_id} in this account",
                           param="id")
        disabled = replace(endpoint, disabled=True)
        tx.update(disabled)
        return 200, endpoint_view(disabled)

    return run_mutation(request, caller, None, op)
