"""Entering the store: signed single-use QR codes, face through the ``GateIdentifier``, the
entry hold placed before the door opens, guests, and the gates' passage counts (tailgating).

A refused entry is a decision, not an error: the gate shows why and the door stays shut, and
a failed hold stays recorded on its payment intent. A decision carries a stable machine
``reason`` (``ok``, ``bad_code``, ``expired``, ``code_used``, ``unpaid_debt``, ``trip_open``,
``hold_failed``: what a program or the gate page branches on) and a ``message``: a plain
sentence for the person at the gate, which may change wording.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass

from smilepay.domain.money import format_money
from smilepay.domain.payments import CaptureMethod, PaymentStatus
from smilepay.domain.store.errors import EntryRefused
from smilepay.domain.store.trips import (
    IN_PROGRESS,
    EntryMethod,
    TripStatus,
    admit_guests,
    move_trip,
)
from smilepay.domain.tenants import Scope
from smilepay.errors import InvalidInput, NotFound
from smilepay.ports.store import Row, StoreTx
from smilepay.services.context import MoneyContext
from smilepay.services.payments import confirm_payment, create_payment
from smilepay.services.store_admin import get_store
from smilepay.services.store_trips import alert, as_row, get_trip, save_trip, trip_row

CODE_TTL_MS = 30_000
MAX_CODE_CHARS = 400


@dataclass(frozen=True)
class StoreContext:
    money: MoneyContext
    code_key: bytes  # signs entry QR codes


@dataclass(frozen=True)
class GateDecision:
    open: bool
    display: str  # what the gate shows: "Welcome", "Please wait", "Please see staff", ...
    reason: str  # stable machine code: ok, unpaid_debt, hold_failed, bad_code, ...
    trip_id: str | None = None
    message: str = ""  # a plain sentence saying what to do (wording may change)


NOT_A_CODE = "This is not a SmilePay entry code: show the entry code from your wallet."


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def issue_entry_code(tx: StoreTx, sctx: StoreContext, scope: Scope, customer_id: str) -> str:
    """A code for the wallet page's QR: signed, single use, valid for 30 s."""
    now_ms = sctx.money.clock.now_ms()
    nonce = secrets.token_urlsafe(18)
    body = {"t": scope.tenant_id, "l": scope.livemode, "c": customer_id, "n": nonce,
            "e": now_ms + CODE_TTL_MS}
    payload = _b64(json.dumps(body, separators=(",", ":")).encode())
    tag = _b64(hmac.new(sctx.code_key, payload.encode(), hashlib.sha256).digest())
    tx.insert("entry_codes", {"id": nonce, "tenant_id": scope.tenant_id,
                              "livemode": scope.livemode, "customer_id": customer_id,
                              "expires_at_ms": body["e"], "used_at_ms": None})
    return f"SP1.{payload}.{tag}"


def redeem_entry_code(tx: StoreTx, sctx: StoreContext, scope: Scope, code: str) -> str:
    """The customer a valid, unexpired, unused code names; it is used up here."""
    if not isinstance(code, str) or len(code) > MAX_CODE_CHARS or code.count(".") != 2:
        raise EntryRefused(NOT_A_CODE, reason="bad_code")
    prefix, payload, tag = code.strip().split(".")
    want = _b64(hmac.new(sctx.code_key, payload.encode(), hashlib.sha256).digest())
    if prefix != "SP1" or not hmac.compare_digest(want.encode(), tag.encode()):
        raise EntryRefused(NOT_A_CODE, reason="bad_code")
    body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    if (body["t"], body["l"]) != (scope.tenant_id, scope.livemode):
        raise EntryRefused("This code is for another company's stores: show the entry code "
                           "from your wallet for this store.", reason="bad_code")
    now_ms = sctx.money.clock.now_ms()
    if now_ms > int(body["e"]):
        raise EntryRefused("This code has expired (a code works for 30 seconds): show a new "
                           "code from your wallet.", reason="expired")
    if tx.update("entry_codes", {"id": body["n"], "used_at_ms": None},
                 {"used_at_ms": now_ms}) != 1:
        raise EntryRefused("This code has already been used: show a new code from your "
                           "wallet.", reason="code_used")
    return str(body["c"])


def outstanding_debt(tx: StoreTx, scope: Scope, customer_id: str) -> int:
    return sum(d["amount_minor"] for d in tx.rows(
        "debts", tenant_id=scope.tenant_id, livemode=scope.livemode, customer_id=customer_id,
        paid_at_ms=None))


def _gate(tx: StoreTx, scope: Scope, gate_id: str, kind: str) -> Row:
    gate = tx.one("gates", id=gate_id, tenant_id=scope.tenant_id, livemode=scope.livemode)
    if gate is None or gate["kind"] != kind:
        raise NotFound(f"This is not one of your store's {kind} gates: check the gate's "
                       "set-up.", param="gate")
    return gate


def authorise_entry(tx: StoreTx, sctx: StoreContext, scope: Scope, gate_id: str,
                    customer_id: str, method: EntryMethod) -> GateDecision:
    """Debt check, then the entry hold (a manual-capture payment); the door opens only with
    the hold in place."""
    gate = _gate(tx, scope, gate_id, "entry")
    store = get_store(tx, scope, gate["store_id"])
    now_ms = sctx.money.clock.now_ms()
    debt = outstanding_debt(tx, scope, customer_id)
    if debt > 0:
        return GateDecision(False, "Please see staff", "unpaid_debt", message=(
            f"An earlier store visit is still unpaid ({format_money(debt, store['currency'])})"
            ": pay it on your wallet's store page, then come in."))
    open_trips = [t for t in tx.rows("trips", store_id=store["id"], customer_id=customer_id)
                  if TripStatus(t["status"]) in IN_PROGRESS]
    if open_trips:
        return GateDecision(False, "Please see staff", "trip_open", open_trips[0]["id"],
                            "Your visit to this store has already started: staff can help "
                            "you at the gate.")
    intent = create_payment(tx.money, sctx.money, scope, amount_minor=store["entry_hold_minor"],
                            currency=store["currency"], capture_method=CaptureMethod.MANUAL,
                            customer_id=customer_id, description=f"Store {store['name']}")
    held = confirm_payment(tx.money, sctx.money, scope, intent.id)
    if held.status is not PaymentStatus.REQUIRES_CAPTURE:
        amount = format_money(store["entry_hold_minor"], store["currency"])
        alert(tx, scope, store["id"], "entry_hold_failed", customer_id,
              f"The customer's wallet could not set aside the entry amount of {amount}: "
              "the gate stayed shut.", now_ms)
        return GateDecision(False, "Please see staff", "hold_failed", message=(
            f"Your wallet could not set aside {amount} for this visit: top it up, then try "
            "again."))
    trip = trip_row(scope, store["id"], customer_id, method, held.id,
                    store["entry_hold_minor"], now_ms)
    tx.insert("trips", trip)
    return GateDecision(True, "Welcome", "ok", trip["id"])


def enter_with_code(tx: StoreTx, sctx: StoreContext, scope: Scope, gate_id: str, code: str
                    ) -> GateDecision:
    try:
        customer_id = redeem_entry_code(tx, sctx, scope, code)
    except EntryRefused as exc:
        return GateDecision(False, "Please see staff", str(exc.details.get("reason", "bad_code")),
                            message=exc.message)
    except (ValueError, KeyError):  # signed by us yet unreadable: never shown as it is
        return GateDecision(False, "Please see staff", "bad_code", message=NOT_A_CODE)
    return authorise_entry(tx, sctx, scope, gate_id, customer_id, EntryMethod.QR)


def admit(tx: StoreTx, sctx: StoreContext, scope: Scope, trip_id: str, guests: int) -> Row:
    trip = get_trip(tx, scope, trip_id, lock=True)
    return save_trip(tx, admit_guests(trip, guests, sctx.money.clock.now_ms()))


def gate_passage(tx: StoreTx, sctx: StoreContext, scope: Scope, gate_id: str, trip_id: str,
                 people_seen: int) -> Row:
    """The gate camera counted ``people_seen`` crossing for ``trip_id``: at the entry the trip
    is now in the store; more people than the trip authorised raise a tailgating alert."""
    if isinstance(people_seen, bool) or not isinstance(people_seen, int) \
            or not 0 <= people_seen <= 50:
        raise InvalidInput("Send people_seen as a whole number from 0 to 50.",
                           param="people_seen")
    gate = tx.one("gates", id=gate_id, tenant_id=scope.tenant_id, livemode=scope.livemode)
    if gate is None:
        raise NotFound("This is not one of your store's gates: check the gate's set-up.",
                       param="gate")
    trip = get_trip(tx, scope, trip_id, lock=True)
    now_ms = sctx.money.clock.now_ms()
    if people_seen > trip.people:
        alert(tx, scope, gate["store_id"], "tailgating", gate_id,
              f"{people_seen} people crossed the {gate['kind']} gate for trip {trip.id}, "
              f"which lets in {trip.people}.", now_ms)
    if gate["kind"] == "entry" and trip.status is TripStatus.AUTHORISED:
        return save_trip(tx, move_trip(trip, TripStatus.IN_STORE, now_ms))
    return as_row(trip)
