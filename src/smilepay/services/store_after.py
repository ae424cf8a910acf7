"""After the trip: disputes of a receipt line (refunded at once under the store's amount,
else queued for the operator), refunds with reason codes (idempotent: one per line), paying
a debt, and the theft sweep (an unsold tag through the tunnel with no trip there). Staff
deciding review items: ``services.store_review``."""

from __future__ import annotations

from smilepay.domain.ids import new_id
from smilepay.domain.payments import PaymentIntent
from smilepay.domain.store.reconcile import STRONG_RSSI_DBM, TagRead, dedup_reads
from smilepay.domain.tenants import Scope
from smilepay.errors import Conflict, InvalidInput, NotFound
from smilepay.ports.store import Row, StoreTx
from smilepay.services.refunds import create_refund
from smilepay.services.store_entry import StoreContext
from smilepay.services.store_evidence import TUNNEL, presence_events, tunnel_windows
from smilepay.services.store_exit import ExitDecision, settle_trip_debt
from smilepay.services.store_review import resolve_review
from smilepay.services.store_trips import alert, get_trip

REASON_CODES = ("item_not_taken", "wrong_quantity", "wrong_price", "damaged", "other")


def _refund_line(tx: StoreTx, sctx: StoreContext, scope: Scope, trip_row: Row, line: Row,
                 amount: int, reason: str) -> str:
    """Refund ``amount`` of a line from the trip's payments (the entry hold's first)."""
    left = amount
    refund_ids = []
    for intent_id in (trip_row["payment_intent_id"], trip_row["extra_payment_intent_id"]):
        if left <= 0 or intent_id is None:
            continue
        intent = tx.money.get(PaymentIntent, intent_id, scope)
        if intent is None:
            continue
        room = intent.amount_captured_minor - intent.amount_refunded_minor
        take = min(room, left)
        if take > 0:
            refund, _ = create_refund(tx.money, sctx.money, scope, intent_id, take,
                                      reason=f"store:{reason}:{line['id']}")
            refund_ids.append(refund.id)
            left -= take
    if left > 0:
        raise Conflict(f"expected {amount} refundable on the trip, got {amount - left}")
    tx.update("lines", {"id": line["id"]},
              {"refunded_minor": line["refunded_minor"] + amount})
    return refund_ids[0]


def dispute_line(tx: StoreTx, sctx: StoreContext, scope: Scope, customer_id: str,
                 line_id: str, reason: str) -> Row:
    """The customer disputes a receipt line. Idempotent: a line has one dispute, and asking
    again returns it."""
    if reason not in REASON_CODES:
        raise InvalidInput(f"expected a reason in {REASON_CODES}, got another value",
                           param="reason")
    line = tx.one("lines", id=line_id, tenant_id=scope.tenant_id, livemode=scope.livemode)
    trip = None if line is None else tx.one("trips", for_update=True, id=line["trip_id"])
    if line is None or trip is None or trip["customer_id"] != customer_id:
        raise NotFound("expected a receipt line of yours, got an unknown one", param="line")
    existing = tx.one("disputes", line_id=line_id)
    if existing is not None:
        return existing
    store = tx.one("stores", id=trip["store_id"])
    assert store is not None
    now_ms = sctx.money.clock.now_ms()
    amount = line["amount_minor"] - line["refunded_minor"]
    row: Row = {"id": new_id("dsp", now_ms), "tenant_id": scope.tenant_id,
                "livemode": scope.livemode, "store_id": trip["store_id"],
                "trip_id": trip["id"], "line_id": line_id, "customer_id": customer_id,
                "reason": reason, "amount_minor": amount, "status": "queued",
                "refund_id": None, "created_at_ms": now_ms, "decided_at_ms": None}
    if 0 < amount <= store["auto_refund_max_minor"]:
        row.update(status="refunded", decided_at_ms=now_ms,
                   refund_id=_refund_line(tx, sctx, scope, trip, line, amount, reason))
    tx.insert("disputes", row)
    if row["status"] == "queued":
        alert(tx, scope, trip["store_id"], "dispute", row["id"],
              f"dispute of {amount} on trip {trip['id']} waits for the operator", now_ms)
    return row


def decide_dispute(tx: StoreTx, sctx: StoreContext, scope: Scope, dispute_id: str, *,
                   approve: bool) -> Row:
    """The operator refunds (approve) or rejects a queued dispute; deciding twice the same
    way returns it unchanged."""
    dispute = tx.one("disputes", for_update=True, id=dispute_id, tenant_id=scope.tenant_id,
                     livemode=scope.livemode)
    if dispute is None:
        raise NotFound("expected a dispute id, got an unknown one", param="dispute")
    want = "refunded" if approve else "rejected"
    if dispute["status"] == want:
        return dispute
    if dispute["status"] != "queued":
        raise Conflict(f"expected a queued dispute, got {dispute['status']}")
    now_ms = sctx.money.clock.now_ms()
    changes: Row = {"status": want, "decided_at_ms": now_ms}
    if approve:
        trip = tx.one("trips", id=dispute["trip_id"])
        line = tx.one("lines", id=dispute["line_id"])
        assert trip is not None and line is not None
        changes["refund_id"] = _refund_line(tx, sctx, scope, trip, line,
                                            dispute["amount_minor"], dispute["reason"])
    tx.update("disputes", {"id": dispute_id}, changes)
    return {**dispute, **changes}


def pay_debt(tx: StoreTx, sctx: StoreContext, scope: Scope, trip_id: str) -> ExitDecision:
    return settle_trip_debt(tx, sctx, scope, get_trip(tx, scope, trip_id, lock=True))


def sweep_theft(tx: StoreTx, scope: Scope, store_id: str, start_ms: int, end_ms: int,
                now_ms: int) -> int:
    """Alert once per unsold tag read strongly in the tunnel in [start, end] (device time)
    while no trip was there."""
    readers = {d["id"] for d in tx.rows("devices", store_id=store_id, kind="rfid", zone=TUNNEL)}
    reads = [TagRead(r["epc"], r["antenna"] or 0, r["rssi"], r["at_ms"])
             for r in tx.events_between(store_id, "rfid", start_ms, end_ms)
             if r["source"] in readers]
    passes, _ = dedup_reads(reads)
    windows = tunnel_windows(presence_events(
        tx.events_between(store_id, "presence", start_ms - 60_000, end_ms + 60_000)),
        start_ms - 60_000)
    sold = {r["epc"] for r in tx.rows_in("sold_tags", "epc", [p.epc for p in passes],
                                         store_id=store_id)}
    known = {a["subject"] for a in tx.rows("alerts", store_id=store_id, kind="theft")}
    raised = 0
    for p in passes:
        if p.epc in sold or p.epc in known or p.peak_rssi < STRONG_RSSI_DBM:
            continue
        if any(w.contains(p.peak_ms, 2_000) for w in windows.values()):
            continue
        alert(tx, scope, store_id, "theft", p.epc,
              f"unsold tag {p.epc} ({p.gtin}) left through the tunnel with no trip", now_ms)
        known.add(p.epc)
        raised += 1
    return raised


__all__ = ["REASON_CODES", "decide_dispute", "dispute_line", "pay_debt", "resolve_review",
           "sweep_theft"]
