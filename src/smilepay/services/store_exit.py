"""Leaving the store: reconcile, then collect the total from the entry hold (capture up to it;
above it an incremental authorisation, then capture). When the wallet cannot pay, the door
stays shut, staff are alerted, the trip stays open and what is missing becomes debt (the
entry hold is still captured: Adyen's "capture the hold, collect the rest later").
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from smilepay.domain.ids import new_id
from smilepay.domain.money import format_money
from smilepay.domain.money_errors import HoldNotPending
from smilepay.domain.store.errors import InvalidTripState
from smilepay.domain.store.reconcile import (
    Basket,
    ReviewItem,
    Window,
    reconcile_trip,
    swappable_picks,
)
from smilepay.domain.store.trips import Trip, TripStatus, move_trip, split_charge
from smilepay.domain.tenants import Scope
from smilepay.errors import NotFound
from smilepay.ports.store import Row, StoreTx
from smilepay.services.events import notify_customer
from smilepay.services.payments import (
    cancel_payment,
    capture_payment,
)
from smilepay.services.store_admin import get_store
from smilepay.services.store_entry import StoreContext
from smilepay.services.store_evidence import SLACK_MS, Evidence, gather
from smilepay.services.store_review import late_claims, pay_now
from smilepay.services.store_trips import alert, get_trip, save_trip

_PRESENT = frozenset({TripStatus.AUTHORISED.value, TripStatus.IN_STORE.value})


@dataclass(frozen=True)
class ExitDecision:
    open: bool
    display: str  # "Goodbye", "Please see staff"
    reason: str  # charged, review, payment_failed, debt_paid
    trip: Row
    lines: list[Row]
    review: int


def _exit_gate(tx: StoreTx, scope: Scope, gate_id: str) -> Row:
    gate = tx.one("gates", id=gate_id, tenant_id=scope.tenant_id, livemode=scope.livemode)
    if gate is None or gate["kind"] != "exit":
        raise NotFound("expected an exit gate id, got an unknown one", param="gate")
    return gate


def _collect(tx: StoreTx, sctx: StoreContext, scope: Scope, trip: Trip, total: int,
             currency: str) -> Trip:
    """Charge ``total``; returns the trip with charged, debt and the extra intent set."""
    assert trip.payment_intent_id is not None
    money, intent_id = sctx.money, trip.payment_intent_id
    label = "Store trip"
    if total == 0:
        cancel_payment(tx.money, money, scope, intent_id)
        return trip
    split = split_charge(total, trip.hold_minor)
    charged, extra_id = 0, None
    if split.incremental_minor:
        extra_id = pay_now(tx, sctx, scope, trip.customer_id, split.incremental_minor,
                            currency, f"{label} (incremental)", hold=True)
    try:
        capture_payment(tx.money, money, scope, intent_id, split.from_hold_minor)
        charged += split.from_hold_minor
    except HoldNotPending:  # the hold expired: charge it as a payment now
        if pay_now(tx, sctx, scope, trip.customer_id, split.from_hold_minor, currency, label):
            charged += split.from_hold_minor
    if extra_id is not None:
        capture_payment(tx.money, money, scope, extra_id, split.incremental_minor)
        charged += split.incremental_minor
    return replace(trip, charged_minor=charged, debt_minor=total - charged,
                   extra_payment_intent_id=extra_id)


def _line_rows(tx: StoreTx, scope: Scope, store_id: str, trip_id: str, basket: Basket,
               now_ms: int) -> list[Row]:
    products = {p["gtin"]: p for p in tx.rows_in(
        "products", "gtin", [line.gtin for line in basket.lines], store_id=store_id)}
    rows = []
    for line in basket.lines:
        product = products.get(line.gtin)
        if product is None:  # a tagged item the catalogue does not know: staff decide
            continue
        rows.append({"id": new_id("tl", now_ms), "tenant_id": scope.tenant_id,
                     "livemode": scope.livemode, "trip_id": trip_id, "gtin": line.gtin,
                     "name": product["name"], "quantity": line.quantity,
                     "unit_price_minor": product["price_minor"],
                     "amount_minor": line.quantity * product["price_minor"],
                     "refunded_minor": 0, "evidence": line.evidence,
                     "epcs": " ".join(line.epcs)})
    return rows


def _reconcile(tx: StoreTx, sctx: StoreContext, scope: Scope, store_id: str, trip_id: str,
               ev: Evidence, sold: frozenset[str]) -> Basket:
    """The basket; when own tags found no pick because another trip was given a shared pick
    it could have had an equal one for, that trip is given the equal one and this trip the
    first (the charges of both stay what their tags said)."""
    shared = [p.event_id for p in ev.all_picks if len(p.candidates) > 1]
    taken = {r["event_id"]: r["trip_id"]
             for r in tx.rows_in("taken_picks", "event_id", shared, store_id=store_id)}
    candidates = sorted({c for p in ev.picks for c in p.candidates if c != trip_id})
    exited = frozenset(t["id"] for t in tx.rows_in("trips", "id", candidates)
                       if t["status"] not in _PRESENT)

    def run() -> Basket:
        return reconcile_trip(ev.window or Window(trip_id, -2, -1), ev.passes, ev.picks,
                              others=ev.others, sold=sold,
                              taken_picks=frozenset(t for t, o in taken.items() if o != trip_id),
                              exited=exited, slack_ms=SLACK_MS)

    basket = run()
    lacking = {r.gtin for r in basket.review if r.reason == "tag_without_pick"}
    swaps = {p: q for g in sorted(lacking) for p, q in
             swappable_picks(trip_id, g, ev.all_picks, taken).items()}
    if swaps:
        owners = {p: taken.pop(p) for p in swaps}
        basket = run()
        for p, q in swaps.items():
            if p in basket.resolved_picks:  # p is now this trip's, q the owner's
                tx.update("taken_picks", {"store_id": store_id, "event_id": p},
                          {"trip_id": trip_id})
                tx.insert_ignore("taken_picks", [{"store_id": store_id, "event_id": q,
                                                  "trip_id": owners[p]}])
    # a shared pick nobody's tags claimed, and this trip the last of its candidates to
    # leave: nobody will claim it now, and either could have taken it: staff decide
    left = [p for p in ev.picks if len(p.candidates) > 1 and p.delta_g < 0
            and p.event_id not in taken and p.event_id not in basket.resolved_picks
            and all(c == trip_id or c in exited for c in p.candidates)]
    orphans = [ReviewItem("ambiguous_pick", p.gtin, max(1, p.units), p.event_id[-64:])
               for p in late_claims(tx, sctx, scope, store_id, trip_id, left)]
    return replace(basket, review=basket.review + tuple(orphans)) if orphans else basket


def decide_exit(tx: StoreTx, sctx: StoreContext, scope: Scope, gate_id: str, trip_id: str
                ) -> ExitDecision:
    gate = _exit_gate(tx, scope, gate_id)
    # one exit of a store at a time: which candidates of a shared pick have left (and so
    # whether this trip is the last of them) is what the decisions before this one left
    tx.one("stores", for_update=True, id=gate["store_id"])
    trip = get_trip(tx, scope, trip_id, lock=True)
    if trip.store_id != gate["store_id"]:
        raise NotFound("expected a trip of this store, got an unknown one", param="trip")
    if trip.status is TripStatus.DEBT:
        return settle_trip_debt(tx, sctx, scope, trip)
    if trip.status not in (TripStatus.AUTHORISED, TripStatus.IN_STORE):
        raise InvalidTripState(f"expected a trip in the store, got {trip.status.value}",
                               trip=trip.id)
    now_ms = sctx.money.clock.now_ms()
    store = get_store(tx, scope, trip.store_id)
    if trip.status is TripStatus.AUTHORISED:
        trip = move_trip(trip, TripStatus.IN_STORE, now_ms)
    trip = move_trip(trip, TripStatus.EXITING, now_ms)
    ev = gather(tx, store["id"], trip.id)
    sold = frozenset(r["epc"] for r in tx.rows_in("sold_tags", "epc",
                                                  [p.epc for p in ev.passes],
                                                  store_id=store["id"]))
    basket = _reconcile(tx, sctx, scope, store["id"], trip.id, ev, sold)
    lines = _line_rows(tx, scope, store["id"], trip.id, basket, now_ms)
    total = sum(r["amount_minor"] for r in lines)
    trip = _collect(tx, sctx, scope, replace(trip, total_minor=total), total, store["currency"])
    for row in lines:
        tx.insert("lines", row)
    tx.insert_ignore("taken_picks", [{"store_id": store["id"], "event_id": e, "trip_id": trip.id}
                                     for e in basket.resolved_picks])
    tx.insert_ignore("sold_tags", [{"store_id": store["id"], "epc": e, "trip_id": trip.id,
                                    "sold_at_ms": now_ms} for e in basket.sold_epcs])
    for item in basket.review:
        tx.insert("review", {"id": new_id("rev", now_ms), "tenant_id": scope.tenant_id,
                             "livemode": scope.livemode, "store_id": store["id"],
                             "trip_id": trip.id, "reason": item.reason, "gtin": item.gtin,
                             "quantity": item.quantity, "ref": item.ref[:64], "resolved": False,
                             "created_at_ms": now_ms})
    if trip.debt_minor > 0:
        tx.insert("debts", {"id": new_id("debt", now_ms), "tenant_id": scope.tenant_id,
                            "livemode": scope.livemode, "store_id": store["id"],
                            "trip_id": trip.id, "customer_id": trip.customer_id,
                            "currency": store["currency"], "amount_minor": trip.debt_minor,
                            "paid_at_ms": None, "payment_intent_id": None,
                            "created_at_ms": now_ms})
        alert(tx, scope, store["id"], "payment_failed", trip.id,
              f"wallet could not pay {format_money(trip.debt_minor, store['currency'])} of "
              f"{format_money(total, store['currency'])}: door shut", now_ms)
        row = save_trip(tx, move_trip(trip, TripStatus.DEBT, now_ms))
        return ExitDecision(False, "Please see staff", "payment_failed", row, lines,
                            len(basket.review))
    status = TripStatus.REVIEW if basket.review else TripStatus.CHARGED
    if basket.review:
        alert(tx, scope, store["id"], "review", trip.id,
              f"{len(basket.review)} item(s) of trip {trip.id} need review", now_ms)
    row = save_trip(tx, move_trip(trip, status, now_ms))
    _receipt(tx, scope, trip, lines, store["currency"], now_ms)
    return ExitDecision(True, "Goodbye", status.value, row, lines, len(basket.review))


def _receipt(tx: StoreTx, scope: Scope, trip: Trip, lines: list[Row], currency: str,
             now_ms: int) -> None:
    text = "; ".join(f"{r['quantity']} x {r['name']} {format_money(r['amount_minor'], currency)}"
                     for r in lines)
    notify_customer(tx.money, scope, trip.customer_id, "receipt", "Store receipt",
                    f"{text or 'nothing taken'}. "
                    f"Total {format_money(trip.charged_minor, currency)}.", now_ms)


def settle_trip_debt(tx: StoreTx, sctx: StoreContext, scope: Scope, trip: Trip
                     ) -> ExitDecision:
    """Try again to collect a trip's debt (the customer topped up): the door opens when it
    is paid."""
    now_ms = sctx.money.clock.now_ms()
    store = get_store(tx, scope, trip.store_id)
    unpaid = tx.rows("debts", trip_id=trip.id, paid_at_ms=None)
    for debt in unpaid:
        paid = pay_now(tx, sctx, scope, trip.customer_id, debt["amount_minor"],
                        debt["currency"], "Store debt")
        if paid is None:
            row = save_trip(tx, trip)
            return ExitDecision(False, "Please see staff", "payment_failed", row,
                                tx.rows("lines", trip_id=trip.id), 0)
        tx.update("debts", {"id": debt["id"]}, {"paid_at_ms": now_ms, "payment_intent_id": paid})
        trip = replace(trip, charged_minor=trip.charged_minor + debt["amount_minor"],
                       debt_minor=trip.debt_minor - debt["amount_minor"])
    trip = move_trip(trip, TripStatus.CHARGED, now_ms)
    row = save_trip(tx, trip)
    lines = tx.rows("lines", trip_id=trip.id)
    _receipt(tx, scope, trip, lines, store["currency"], now_ms)
    return ExitDecision(True, "Goodbye", "debt_paid", row, lines, 0)
