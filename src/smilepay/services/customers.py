"""Customers: create with a verified phone number, look up by phone, top up, wallet balances."""

from __future__ import annotations

from collections.abc import Sequence

from smilepay.domain.customers import Customer, check_last_four, mask_phone, normalize_phone
from smilepay.domain.events import EventType
from smilepay.domain.ids import new_id
from smilepay.domain.ledger import Account, AccountKind, Transfer, TransferKind
from smilepay.domain.money import check_amount_minor, parse_currency
from smilepay.domain.money_errors import TestModeOnly
from smilepay.domain.risk import CustomerLimits
from smilepay.domain.tenants import Scope
from smilepay.errors import Conflict, NotFound
from smilepay.ports.money import MoneyTx
from smilepay.services.context import MoneyContext
from smilepay.services.events import record_event
from smilepay.services.ledger import ensure_account, post_transfer
from smilepay.services.views import customer_view, topup_view


def create_customer(
    tx: MoneyTx, ctx: MoneyContext, scope: Scope, phone: str, *, name: str = "",
    email: str | None = None, limits: CustomerLimits | None = None,
) -> Customer:
    """A customer whose phone number the caller has verified (e.g. by a one-time code)."""
    phone_e164 = normalize_phone(phone)
    phone_hmac = ctx.phones.full_hmac(phone_e164, scope.tenant_id)
    if tx.find_customers(scope, phone_hmac=phone_hmac):
        raise Conflict("expected a phone number not yet registered, got a known one",
                       param="phone")
    now_ms = ctx.clock.now_ms()
    chosen = limits or ctx.policy.default_limits
    customer = Customer(
        id=new_id("cus", now_ms), tenant_id=scope.tenant_id, livemode=scope.livemode,
        phone_ciphertext=ctx.phones.encrypt(phone_e164, scope.tenant_id),
        phone_hmac=phone_hmac,
        phone_last4_hmac=ctx.phones.last4_hmac_of(phone_e164, scope.tenant_id),
        name=name, email=email, limit_per_payment_minor=chosen.per_payment_minor,
        limit_per_day_minor=chosen.per_day_minor, created_at_ms=now_ms,
    )
    tx.insert(customer)
    record_event(tx, scope, EventType.CUSTOMER_CREATED, render_customer(ctx, customer), now_ms)
    return customer


def render_customer(ctx: MoneyContext, customer: Customer) -> dict[str, object]:
    phone = ctx.phones.decrypt(customer.phone_ciphertext, customer.tenant_id)
    return customer_view(customer, mask_phone(phone))


def get_customer(tx: MoneyTx, scope: Scope, customer_id: str) -> Customer:
    customer = tx.get(Customer, customer_id, scope)
    if customer is None:
        raise NotFound(f"no customer {customer_id} in this account", param="customer")
    return customer


def find_customer_by_phone(
    tx: MoneyTx, ctx: MoneyContext, scope: Scope, phone: str
) -> Customer | None:
    phone_hmac = ctx.phones.full_hmac(normalize_phone(phone), scope.tenant_id)
    found = tx.find_customers(scope, phone_hmac=phone_hmac)
    return found[0] if found else None


def find_customers_by_last4(
    tx: MoneyTx, ctx: MoneyContext, scope: Scope, last4: str,
    candidate_ids: Sequence[str] | None,
) -> list[Customer]:
    """Those of ``candidate_ids`` (e.g. the face search's top matches; None: every customer)
    whose number ends so."""
    mac = ctx.phones.last4_hmac(check_last_four(last4), scope.tenant_id)
    return tx.find_customers(scope, last4_hmac=mac, candidate_ids=candidate_ids)


def wallet(tx: MoneyTx, ctx: MoneyContext, scope: Scope, customer_id: str,
           currency: str) -> Account:
    get_customer(tx, scope, customer_id)
    return ensure_account(
        tx, scope, AccountKind.CUSTOMER_WALLET, parse_currency(currency), ctx.clock.now_ms(),
        owner_id=customer_id,
    )


def top_up(
    tx: MoneyTx, ctx: MoneyContext, scope: Scope, customer_id: str, amount_minor: int,
    currency: str,
) -> Transfer:
    """Test mode: move money from the funding account into the customer's wallet."""
    if scope.livemode:
        raise TestModeOnly("expected a test-mode key for a top-up, got a live one")
    check_amount_minor(amount_minor)
    currency = parse_currency(currency)
    now_ms = ctx.clock.now_ms()
    target = wallet(tx, ctx, scope, customer_id, currency)
    funding = ensure_account(tx, scope, AccountKind.FUNDING, currency, now_ms)
    transfer = post_transfer(
        tx, scope, debit_id=funding.id, credit_id=target.id, amount_minor=amount_minor,
        currency=currency, kind=TransferKind.TOPUP, now_ms=now_ms,
    )
    record_event(tx, scope, EventType.TOPUP_SUCCEEDED, topup_view(transfer, customer_id), now_ms)
    return transfer


def new_attempt_id(now_ms: int) -> str:
    return new_id("att", now_ms)
