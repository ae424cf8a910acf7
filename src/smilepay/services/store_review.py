"""Review items: staff charge or drop them; and the late claim, where a shared pick nobody
claimed at their exits goes to the one candidate whose exit left a tag of that GTIN
unexplained (it carried such an item out, and no pick explained it then)."""

from __future__ import annotations

from dataclasses import replace

from smilepay.domain.ids import new_id
from smilepay.domain.payments import CaptureMethod, PaymentStatus
from smilepay.domain.store.attribution import Pick
from smilepay.domain.store.trips import TripStatus, move_trip
from smilepay.domain.tenants import Scope
from smilepay.errors import NotFound
from smilepay.ports.store import Row, StoreTx
from smilepay.services.payments import confirm_payment, create_payment
from smilepay.services.store_entry import StoreContext
from smilepay.services.store_trips import get_trip, save_trip


def pay_now(tx: StoreTx, sctx: StoreContext, scope: Scope, customer_id: str, amount: int,
             currency: str, description: str, *, hold: bool = False) -> str | None:
    """A payment of ``amount`` (a hold when ``hold``); its id when it went through."""
    method = CaptureMethod.MANUAL if hold else CaptureMethod.AUTOMATIC
    intent = create_payment(tx.money, sctx.money, scope, amount_minor=amount, currency=currency,
                            capture_method=method, customer_id=customer_id,
                            description=description)
    done = confirm_payment(tx.money, sctx.money, scope, intent.id)
    want = PaymentStatus.REQUIRES_CAPTURE if hold else PaymentStatus.SUCCEEDED
    return done.id if done.status is want else None


def resolve_review(tx: StoreTx, sctx: StoreContext, scope: Scope, item_id: str, *,
                   charge: bool, evidence: str = "review") -> Row:
    """Staff decide a review item (having looked at the video): ``charge`` bills its units to
    the trip's customer as a line of their own (a payment now; a wallet that cannot pay makes
    it debt), else it is dropped. The trip is charged once nothing of it waits for review.
    Deciding an item twice returns it unchanged."""
    item = tx.one("review", for_update=True, id=item_id, tenant_id=scope.tenant_id,
                  livemode=scope.livemode)
    if item is None or item["trip_id"] is None:
        raise NotFound("expected a review item of a trip, got an unknown one", param="item")
    if item["resolved"]:
        return item
    now_ms = sctx.money.clock.now_ms()
    trip = get_trip(tx, scope, item["trip_id"], lock=True)
    if charge:
        product = tx.one("products", store_id=item["store_id"], gtin=item["gtin"])
        store = tx.one("stores", id=item["store_id"])
        if product is None or store is None:
            raise NotFound(f"expected a product of the store, got {item['gtin']}", param="gtin")
        amount = product["price_minor"] * item["quantity"]
        paid = pay_now(tx, sctx, scope, trip.customer_id, amount, store["currency"],
                       f"Store trip {trip.id} (reviewed)") if amount else None
        tx.insert("lines", {"id": new_id("tl", now_ms), "tenant_id": scope.tenant_id,
                            "livemode": scope.livemode, "trip_id": trip.id,
                            "gtin": item["gtin"], "name": product["name"],
                            "quantity": item["quantity"],
                            "unit_price_minor": product["price_minor"], "amount_minor": amount,
                            "refunded_minor": 0, "evidence": evidence,
                            "epcs": item["ref"] if evidence != "review" else ""})
        if amount and paid is None:
            tx.insert("debts", {"id": new_id("debt", now_ms), "tenant_id": scope.tenant_id,
                                "livemode": scope.livemode, "store_id": item["store_id"],
                                "trip_id": trip.id, "customer_id": trip.customer_id,
                                "currency": store["currency"], "amount_minor": amount,
                                "paid_at_ms": None, "payment_intent_id": None,
                                "created_at_ms": now_ms})
            trip = replace(trip, total_minor=trip.total_minor + amount,
                           debt_minor=trip.debt_minor + amount)
        else:
            trip = replace(trip, total_minor=trip.total_minor + amount,
                           charged_minor=trip.charged_minor + amount)
    tx.update("review", {"id": item_id}, {"resolved": True})
    waiting = tx.rows("review", trip_id=trip.id, resolved=False)
    if trip.status is TripStatus.REVIEW and not waiting:
        trip = move_trip(trip, TripStatus.DEBT if trip.debt_minor else TripStatus.CHARGED,
                         now_ms)
    save_trip(tx, trip)
    return {**item, "resolved": True, "charged": charge}


def late_claims(tx: StoreTx, sctx: StoreContext, scope: Scope, store_id: str, trip_id: str,
                orphans: list[Pick]) -> list[Pick]:
    """Give each orphaned shared pick (every candidate has left, none claimed it) to the one
    other candidate whose exit sent an unsold tag of its GTIN to review as "tag without
    pick": that trip is charged now (evidence ``tag+late_pick``). Returns the picks still
    orphaned (several such candidates, or none)."""
    still = []
    for pick in orphans:
        others = [c for c in pick.candidates if c != trip_id]
        items = [r for r in tx.rows_in("review", "trip_id", others)
                 if r["reason"] == "tag_without_pick" and r["gtin"] == pick.gtin
                 and not r["resolved"]]
        sold = {r["epc"] for r in tx.rows_in("sold_tags", "epc", [r["ref"] for r in items],
                                             store_id=store_id)}
        items = [r for r in items if r["ref"] not in sold]
        claimers = {r["trip_id"] for r in items}
        units = max(1, pick.units)
        if len(claimers) != 1 or len(items) < units:
            still.append(pick)
            continue
        claimer = claimers.pop()
        now_ms = sctx.money.clock.now_ms()
        for item in items[:units]:
            resolve_review(tx, sctx, scope, item["id"], charge=True, evidence="tag+late_pick")
            tx.insert_ignore("sold_tags", [{"store_id": store_id, "epc": item["ref"],
                                            "trip_id": claimer, "sold_at_ms": now_ms}])
        tx.insert_ignore("taken_picks", [{"store_id": store_id, "event_id": pick.event_id,
                                          "trip_id": claimer}])
    return still
