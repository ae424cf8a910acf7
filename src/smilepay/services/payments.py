"""Payment intents: create, confirm (risk rules, then the ledger), capture, cancel."""

from __future__ import annotations

from dataclasses import replace

from smilepay.domain.declines import decline_text
from smilepay.domain.events import EventType
from smilepay.domain.ids import new_id
from smilepay.domain.ledger import AccountKind, TransferKind
from smilepay.domain.mandates import mandate_required
from smilepay.domain.money import check_amount_minor, fee_minor, format_money, parse_currency
from smilepay.domain.money_errors import InvalidPaymentState, PaymentDeclined
from smilepay.domain.payments import (
    UNPAID,
    CaptureMethod,
    PaymentIntent,
    PaymentStatus,
    move_payment,
)
from smilepay.domain.risk import (
    DAY_MS,
    CustomerLimits,
    check_limits,
    check_not_locked,
    lookback_ms,
)
from smilepay.domain.tenants import Scope, Tenant, Terminal
from smilepay.errors import InvalidInput, NotFound
from smilepay.ports.money import MoneyTx, PayerHint
from smilepay.services.context import MoneyContext
from smilepay.services.customers import get_customer, new_attempt_id
from smilepay.services.events import notify_customer, record_event
from smilepay.services.ledger import (
    capture_hold,
    ensure_account,
    expire_holds,
    open_locked,
    pass_on_credit,
    place_hold,
    post_credit_last,
    void_hold,
)
from smilepay.services.views import payment_view

S = PaymentStatus


def create_payment(
    tx: MoneyTx, ctx: MoneyContext, scope: Scope, *, amount_minor: int, currency: str,
    capture_method: CaptureMethod = CaptureMethod.AUTOMATIC, customer_id: str | None = None,
    terminal_id: str | None = None, description: str = "", insert: bool = True,
) -> PaymentIntent:
    """A new intent in ``requires_confirmation``. ``insert=False`` leaves storing it to
    ``confirm_payment(created=...)`` in the same transaction (create-and-confirm: one write)."""
    check_amount_minor(amount_minor)
    currency = parse_currency(currency)
    if customer_id is not None and insert:  # create-and-confirm: _check_risk reads and locks it
        get_customer(tx, scope, customer_id)
    if terminal_id is not None and tx.get(Terminal, terminal_id, scope) is None:
        raise InvalidInput(f"expected a terminal id, got {terminal_id!r}", param="terminal")
    now_ms = ctx.clock.now_ms()
    intent = PaymentIntent(
        id=new_id("pi", now_ms), tenant_id=scope.tenant_id, livemode=scope.livemode,
        amount_minor=amount_minor, currency=currency, status=S.REQUIRES_CONFIRMATION,
        capture_method=capture_method, customer_id=customer_id, terminal_id=terminal_id,
        description=description, hold_id=None, amount_captured_minor=0,
        amount_refunded_minor=0, last_error_code=None, last_error_message=None,
        created_at_ms=now_ms, updated_at_ms=now_ms,
    )
    if terminal_id is not None:  # the kiosk follows this one: older ones there stop waiting
        supersede_terminal_payments(tx, scope, terminal_id, now_ms)
    if insert:
        tx.insert(intent)
    return intent


def _cancel(tx: MoneyTx, scope: Scope, intent: PaymentIntent, reason: str,
            now_ms: int) -> PaymentIntent:
    canceled = replace(move_payment(intent, S.CANCELED, now_ms), cancellation_reason=reason)
    tx.update(canceled)
    record_event(tx, scope, EventType.PAYMENT_CANCELED, payment_view(canceled), now_ms)
    return canceled


def _cancel_if_unpaid(tx: MoneyTx, scope: Scope, payment_id: str, reason: str,
                      now_ms: int) -> bool:
    """Cancel the intent when, locked, it is still unpaid (another worker may have paid or
    canceled it since it was listed)."""
    intent = get_payment(tx, scope, payment_id, lock=True)
    if intent.status not in UNPAID:
        return False
    _cancel(tx, scope, intent, reason, now_ms)
    return True


def supersede_terminal_payments(tx: MoneyTx, scope: Scope, terminal_id: str,
                                now_ms: int) -> int:
    """Cancel the unpaid intents waiting at ``terminal_id`` (a newer one is being sent)."""
    waiting = tx.unpaid_payments(scope=scope, terminal_id=terminal_id, limit=50)
    return sum(_cancel_if_unpaid(tx, scope, p.id, "superseded", now_ms) for p in waiting)


def expire_unpaid_payments(tx: MoneyTx, ctx: MoneyContext, limit: int = 500) -> int:
    """Cancel every intent still unpaid ``policy.unpaid_ttl_s`` after it was created (run by
    the worker loop and by ``serve``'s housekeeping)."""
    now_ms = ctx.clock.now_ms()
    stale = tx.unpaid_payments(created_before_ms=now_ms - ctx.policy.unpaid_ttl_s * 1000 + 1,
                               limit=limit)
    return sum(_cancel_if_unpaid(tx, Scope(p.tenant_id, p.livemode), p.id, "expired", now_ms)
               for p in stale)


def get_payment(tx: MoneyTx, scope: Scope, payment_id: str, *, lock: bool = False) -> PaymentIntent:
    intent = tx.get(PaymentIntent, payment_id, scope, for_update=lock)
    if intent is None:
        raise NotFound(f"no payment intent {payment_id} in this account", param="id")
    return intent


def record_verification_attempt(
    tx: MoneyTx, ctx: MoneyContext, scope: Scope, customer_id: str, *, succeeded: bool,
    reason: str, payment_id: str | None = None,
) -> None:
    """A face/phone verification outcome; failures count toward the lockout."""
    now_ms = ctx.clock.now_ms()
    tx.record_attempt(scope, new_attempt_id(now_ms), customer_id, payment_id, succeeded,
                      reason, now_ms)


def payer_hint(ctx: MoneyContext, customer_id: str | None, currency: str | None = None,
               ) -> PayerHint | None:
    """What confirming a payment by ``customer_id`` will read first (see ``ports.money.Hint``):
    with the ``currency`` known, its wallet and its standing as ``_check_risk`` reads it now."""
    if customer_id is None:
        return None
    try:
        currency = None if currency is None else parse_currency(currency)
    except InvalidInput:
        currency = None  # the payment itself will say why
    spent_since_ms, failures_since_ms = _risk_windows(ctx, ctx.clock.now_ms())
    return PayerHint(customer_id, currency, spent_since_ms, failures_since_ms)


def _risk_windows(ctx: MoneyContext, now_ms: int) -> tuple[int, int]:
    """Where the day's spend and the failures that can still lock a payer begin."""
    return now_ms - DAY_MS, now_ms - lookback_ms(ctx.policy.lockout)


def _check_risk(tx: MoneyTx, ctx: MoneyContext, intent: PaymentIntent, customer_id: str,
                require_mandate: bool = False) -> None:
    """Lockout and limits (in the payment's currency). The caller has locked the payer's wallet
    in that currency, so two payments that share a daily limit are checked one after the
    other (else both could pass it at once), and the spend read here is current."""
    now_ms = ctx.clock.now_ms()
    policy = ctx.policy.lockout
    spent_since_ms, since_ms = _risk_windows(ctx, now_ms)
    standing = tx.payer_standing(Scope(intent.tenant_id, intent.livemode), customer_id,
                                 intent.currency, spent_since_ms=spent_since_ms,
                                 failures_since_ms=since_ms)
    if standing is None:
        raise NotFound(f"no customer {customer_id} in this account", param="customer")
    if require_mandate and not standing.mandated:
        raise mandate_required(customer_id)
    if standing.failures >= policy.max_failures:  # else no window can hold enough of them
        check_not_locked(tx.failure_times_ms(customer_id, since_ms), policy, now_ms)
    customer = standing.customer
    limits = CustomerLimits(customer.limit_per_payment_minor, customer.limit_per_day_minor)
    check_limits(intent.amount_minor, standing.spent_minor, limits)


def _take_fee(tx: MoneyTx, scope: Scope, intent: PaymentIntent, amount_minor: int,
              now_ms: int) -> None:
    """The platform's fee out of the merchant's balance: out of the payment's own credit when it
    is still pending, else a locked transfer (``pass_on_credit`` decides)."""
    tenant = tx.get(Tenant, scope.tenant_id)
    fee = fee_minor(amount_minor, tenant.fee_bps if tenant else 0)
    if fee <= 0:
        return
    merchant = ensure_account(tx, scope, AccountKind.MERCHANT_BALANCE, intent.currency, now_ms)
    fees = ensure_account(tx, scope, AccountKind.PLATFORM_FEES, intent.currency, now_ms)
    pass_on_credit(tx, scope, debit=merchant, credit=fees, amount_minor=fee,
                   currency=intent.currency, kind=TransferKind.FEE, now_ms=now_ms,
                   payment_intent_id=intent.id)


def _succeed(tx: MoneyTx, scope: Scope, intent: PaymentIntent, captured_minor: int,
             now_ms: int, *, is_new: bool = False) -> PaymentIntent:
    done = replace(move_payment(intent, S.SUCCEEDED, now_ms),
                   amount_captured_minor=captured_minor)
    if is_new:
        tx.insert(done)
    else:
        tx.update(done)
    record_event(tx, scope, EventType.PAYMENT_SUCCEEDED, payment_view(done), now_ms)
    if done.customer_id is not None:
        notify_customer(
            tx, scope, done.customer_id, "receipt", f"Receipt {done.id}",
            f"Paid {format_money(captured_minor, done.currency)}. {done.description}".strip(),
            now_ms,
        )
    return done


def confirm_payment(
    tx: MoneyTx, ctx: MoneyContext, scope: Scope, payment_id: str,
    customer_id: str | None = None, *, created: PaymentIntent | None = None,
    require_mandate: bool = False,
) -> PaymentIntent:
    """Move the money (or place a hold); a decline is recorded on the intent, not raised.

    ``require_mandate``: a merchant's debit outside the face flow, allowed only while the payer
    has an active standing authorisation (``MandateRequired`` otherwise, nothing moves).

    ``created``: an intent made by ``create_payment(insert=False)`` in this same transaction;
    it is stored once, in its final state (create-and-confirm is one request)."""
    is_new = created is not None and created.id == payment_id
    intent = created if created is not None and is_new else get_payment(
        tx, scope, payment_id, lock=True)
    payer = customer_id or intent.customer_id
    if payer is None:
        raise InvalidInput("expected a customer to confirm the payment for, got none",
                           param="customer")
    now_ms = ctx.clock.now_ms()
    intent = replace(move_payment(intent, S.PROCESSING, now_ms), customer_id=payer,
                     last_error_code=None, last_error_message=None)

    def save(record: PaymentIntent) -> None:
        if is_new:
            tx.insert(record)
        else:
            tx.update(record)

    try:
        # Only the payer's wallet is locked (before the risk check: see _check_risk); the
        # merchant balance, which every payment credits, is credited by the transaction's last
        # statement (see post_credit_last).
        wallet_key = (AccountKind.CUSTOMER_WALLET, payer, intent.currency)
        found = tx.lock_owned_accounts(scope, [wallet_key])
        _check_risk(tx, ctx, intent, payer, require_mandate)
        # no wallet yet: the customer exists (checked above) and its new wallet is empty
        (wallet,) = found or open_locked(tx, scope, [wallet_key], now_ms)
        merchant = ensure_account(tx, scope, AccountKind.MERCHANT_BALANCE, intent.currency, now_ms)
        if intent.capture_method is CaptureMethod.MANUAL:
            hold = place_hold(tx, scope, debit_id=wallet.id, credit_id=merchant.id,
                              amount_minor=intent.amount_minor, currency=intent.currency,
                              now_ms=now_ms, ttl_s=ctx.policy.hold_ttl_s,
                              payment_intent_id=intent.id, locked_pair=(wallet, merchant))
            held = replace(move_payment(intent, S.REQUIRES_CAPTURE, now_ms), hold_id=hold.id)
            save(held)
            record_event(tx, scope, EventType.PAYMENT_REQUIRES_CAPTURE, payment_view(held), now_ms)
            return held
        post_credit_last(tx, scope, debit=wallet, credit=merchant,
                         amount_minor=intent.amount_minor, currency=intent.currency,
                         kind=TransferKind.PAYMENT, now_ms=now_ms, payment_intent_id=intent.id)
    except PaymentDeclined as declined:
        failed = replace(move_payment(intent, S.FAILED, now_ms), last_error_code=declined.code,
                         last_error_message=decline_text(declined, intent.amount_minor,
                                                         intent.currency))
        save(failed)
        record_event(tx, scope, EventType.PAYMENT_FAILED, payment_view(failed), now_ms)
        return failed
    _take_fee(tx, scope, intent, intent.amount_minor, now_ms)
    return _succeed(tx, scope, intent, intent.amount_minor, now_ms, is_new=is_new)


def capture_payment(
    tx: MoneyTx, ctx: MoneyContext, scope: Scope, payment_id: str,
    amount_to_capture_minor: int | None = None,
) -> PaymentIntent:
    intent = get_payment(tx, scope, payment_id, lock=True)
    if intent.status is not S.REQUIRES_CAPTURE or intent.hold_id is None:
        raise InvalidPaymentState(
            f"expected a payment intent in requires_capture, got {intent.status.value}",
            payment_intent=intent.id,
        )
    now_ms = ctx.clock.now_ms()
    amount = intent.amount_minor if amount_to_capture_minor is None else amount_to_capture_minor
    capture_hold(tx, scope, intent.hold_id, amount, now_ms)
    _take_fee(tx, scope, intent, amount, now_ms)
    return _succeed(tx, scope, intent, amount, now_ms)


def cancel_payment(tx: MoneyTx, ctx: MoneyContext, scope: Scope, payment_id: str) -> PaymentIntent:
    intent = get_payment(tx, scope, payment_id, lock=True)
    now_ms = ctx.clock.now_ms()
    move_payment(intent, S.CANCELED, now_ms)  # refused before the hold is touched
    if intent.status is S.REQUIRES_CAPTURE and intent.hold_id is not None:
        void_hold(tx, scope, intent.hold_id, now_ms)
    return _cancel(tx, scope, intent, "requested", now_ms)


def expire_payment_holds(tx: MoneyTx, ctx: MoneyContext) -> int:
    """Release expired holds and cancel the payments that waited on them."""
    now_ms = ctx.clock.now_ms()
    expired = expire_holds(tx, now_ms)
    for hold in expired:
        if hold.payment_intent_id is None:
            continue
        scope = Scope(hold.tenant_id, hold.livemode)
        intent = get_payment(tx, scope, hold.payment_intent_id, lock=True)
        if intent.status is S.REQUIRES_CAPTURE:
            _cancel(tx, scope, intent, "hold_expired", now_ms)
    return len(expired)
