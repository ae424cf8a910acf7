"""Trips end to end on both engines (sensor messages ingested as the broker would deliver
them): QR entry with the hold placed first, exit reconciled and captured, capture above the
hold, a wallet that cannot pay (door shut, debt, entry blocked until paid), disputes,
sold tags and theft."""

from __future__ import annotations

import secrets

import pytest

from smilepay.adapters.sql.store import SqlMoneyStore
from smilepay.adapters.sql.store_repo import SqlStoreUnit
from smilepay.domain.ledger import Account
from smilepay.domain.store.sgtin import encode_sgtin96
from smilepay.domain.store.trips import EntryMethod
from smilepay.ports.store import Row, StoreTx
from smilepay.services.context import FixedClock, MoneyContext
from smilepay.services.customers import create_customer, top_up, wallet
from smilepay.services.phones import DEV_ONLY_MASTER_KEY, PhoneCipher
from smilepay.services.store_after import decide_dispute, dispute_line, sweep_theft
from smilepay.services.store_entry import (
    StoreContext,
    authorise_entry,
    enter_with_code,
    gate_passage,
    issue_entry_code,
)
from smilepay.services.store_exit import ExitDecision, decide_exit
from smilepay.services.store_ingest import ingest_messages
from store_support import PEN, SOAP, TEA, SeededStore, Sensors, seed_store

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def unit(store: SqlMoneyStore) -> SqlStoreUnit:
    return SqlStoreUnit(store.engine)


@pytest.fixture()
def sctx() -> StoreContext:
    return StoreContext(MoneyContext(FixedClock(), PhoneCipher(DEV_ONLY_MASTER_KEY)),
                        code_key=secrets.token_bytes(32))


@pytest.fixture()
def shop(store: SqlMoneyStore, unit: SqlStoreUnit, sctx: StoreContext) -> SeededStore:
    return seed_store(store, unit, sctx.money, hold_minor=1000, auto_refund_max_minor=200)


def customer(unit: SqlStoreUnit, sctx: StoreContext, shop: SeededStore, topup: int) -> str:
    def work(tx: StoreTx) -> str:
        made = create_customer(tx.money, sctx.money, shop.scope,
                               f"+49151{secrets.randbelow(10**8):08d}")
        if topup:
            top_up(tx.money, sctx.money, shop.scope, made.id, topup, "EUR")
        return made.id

    return unit.run(work)


def balance(unit: SqlStoreUnit, sctx: StoreContext, shop: SeededStore, who: str) -> int:
    def work(tx: StoreTx) -> Account:
        return wallet(tx.money, sctx.money, shop.scope, who, "EUR")

    found = unit.run(work)
    return found.balance_minor - found.pending_out_minor


def gates(unit: SqlStoreUnit, shop: SeededStore) -> tuple[str, str]:
    def work(tx: StoreTx) -> tuple[str, str]:
        from smilepay.services.store_admin import add_gate

        entry = add_gate(tx, shop.scope, 1, shop.store["id"], kind="entry",
                         terminal_id=shop.entry_terminal)
        exit_ = add_gate(tx, shop.scope, 1, shop.store["id"], kind="exit",
                         terminal_id=shop.exit_terminal)
        return entry["id"], exit_["id"]

    return unit.run(work)


def enter(unit: SqlStoreUnit, sctx: StoreContext, shop: SeededStore, gate: str, who: str
          ) -> str:
    decision = unit.run(lambda tx: authorise_entry(tx, sctx, shop.scope, gate, who,
                                                   EntryMethod.STAFF))
    assert decision.open and decision.trip_id is not None, decision
    unit.run(lambda tx: gate_passage(tx, sctx, shop.scope, gate, decision.trip_id or "", 1))
    return decision.trip_id


def shop_and_leave(unit: SqlStoreUnit, shop: SeededStore, trip: str, t0: int,
                   picks: list[tuple[str, int]], tags: list[str]) -> None:
    """The trip walks the aisle, takes ``picks`` (gtin, grams), then crosses the tunnel where
    ``tags`` are read."""
    s = Sensors(shop)
    messages = [s.presence(trip, "aisle1", "enter", t0)]
    messages += [s.shelf(gtin, -grams, t0 + 1000 * (i + 1)) for i, (gtin, grams) in
                 enumerate(picks)]
    messages += [s.presence(trip, "aisle1", "leave", t0 + 20_000),
                 s.presence(trip, "tunnel", "enter", t0 + 21_000)]
    if tags:
        messages.append(s.tunnel(tags, t0 + 21_500))
    messages += [s.presence(trip, "tunnel", "leave", t0 + 23_000), s.heartbeat(t0 + 23_500)]
    result = ingest_messages(unit, messages, 1)
    assert result.rejected == [] and result.inserted == result.events


def leave(unit: SqlStoreUnit, sctx: StoreContext, shop: SeededStore, gate: str, trip: str
          ) -> ExitDecision:
    return unit.run(lambda tx: decide_exit(tx, sctx, shop.scope, gate, trip))


def test_qr_entry_and_exit_charge_tags_and_tagless_picks(
        unit: SqlStoreUnit, sctx: StoreContext, shop: SeededStore) -> None:
    entry, exit_ = gates(unit, shop)
    who = customer(unit, sctx, shop, 5000)
    code = unit.run(lambda tx: issue_entry_code(tx, sctx, shop.scope, who))
    opened = unit.run(lambda tx: enter_with_code(tx, sctx, shop.scope, entry, code))
    assert opened.open and opened.display == "Welcome"
    assert balance(unit, sctx, shop, who) == 4000  # the hold is placed before the door opens
    again = unit.run(lambda tx: enter_with_code(tx, sctx, shop.scope, entry, code))
    assert (again.open, again.reason) == (False, "code_used")
    assert again.message == "This code has already been used: show a new code from your wallet."
    late = unit.run(lambda tx: issue_entry_code(tx, sctx, shop.scope, who))
    assert isinstance(sctx.money.clock, FixedClock)
    sctx.money.clock.advance_s(31)
    assert unit.run(lambda tx: enter_with_code(tx, sctx, shop.scope, entry, late)).reason \
        == "expired"
    forged = code[:-3] + ("AAA" if not code.endswith("AAA") else "BBB")
    bad = unit.run(lambda tx: enter_with_code(tx, sctx, shop.scope, entry, forged))
    assert (bad.reason, bad.message) == (
        "bad_code", "This is not a SmilePay entry code: show the entry code from your wallet.")
    trip = opened.trip_id or ""
    unit.run(lambda tx: gate_passage(tx, sctx, shop.scope, entry, trip, 1))
    tea = encode_sgtin96(TEA.gtin, 7, 1)
    pen = encode_sgtin96(PEN.gtin, 7, 1)  # two pens taken, only one tag read
    shop_and_leave(unit, shop, trip, 1_000_000, [(TEA.gtin, 330), (PEN.gtin, 24)], [tea, pen])
    decision = leave(unit, sctx, shop, exit_, trip)
    assert decision.open and decision.reason == "charged"
    assert sorted((r["gtin"], r["quantity"], r["amount_minor"]) for r in decision.lines) == \
        sorted([(TEA.gtin, 1, 250), (PEN.gtin, 2, 240)])
    assert decision.trip["charged_minor"] == 490
    assert balance(unit, sctx, shop, who) == 5000 - 490
    sold = unit.run(lambda tx: {r["epc"] for r in tx.rows("sold_tags",
                                                          store_id=shop.store["id"])})
    assert sold == {tea, pen}
    # the sold tea tag read again in the tunnel: neither theft nor anybody's item
    s = Sensors(shop)
    assert ingest_messages(unit, [s.tunnel([tea], 2_000_000)], 1).inserted == 3
    assert unit.run(lambda tx: sweep_theft(tx, shop.scope, shop.store["id"], 1_900_000,
                                           2_100_000, 5)) == 0
    stolen = encode_sgtin96(SOAP.gtin, 7, 77)
    ingest_messages(unit, [s.tunnel([stolen], 2_050_000)], 1)
    assert unit.run(lambda tx: sweep_theft(tx, shop.scope, shop.store["id"], 1_900_000,
                                           2_100_000, 5)) == 1
    # disputes: the pens (240) are above the store's 200 auto-refund: queued; tea refunded
    by_gtin = {r["gtin"]: r for r in decision.lines}
    tea_dispute = unit.run(lambda tx: dispute_line(tx, sctx, shop.scope, who,
                                                   by_gtin[TEA.gtin]["id"], "item_not_taken"))
    assert tea_dispute["status"] == "queued"
    pens = unit.run(lambda tx: dispute_line(tx, sctx, shop.scope, who,
                                            by_gtin[PEN.gtin]["id"], "wrong_quantity"))
    assert pens["status"] == "queued"
    approved = unit.run(lambda tx: decide_dispute(tx, sctx, shop.scope, pens["id"],
                                                  approve=True))
    assert approved["status"] == "refunded" and approved["refund_id"]
    twice = unit.run(lambda tx: decide_dispute(tx, sctx, shop.scope, pens["id"], approve=True))
    assert twice["refund_id"] == approved["refund_id"]
    assert balance(unit, sctx, shop, who) == 5000 - 250


def test_small_disputes_are_refunded_at_once_and_only_once(
        unit: SqlStoreUnit, sctx: StoreContext, shop: SeededStore) -> None:
    entry, exit_ = gates(unit, shop)
    who = customer(unit, sctx, shop, 3000)
    trip = enter(unit, sctx, shop, entry, who)
    shop_and_leave(unit, shop, trip, 3_000_000, [(PEN.gtin, 12)], [encode_sgtin96(PEN.gtin, 7, 9)])
    decision = leave(unit, sctx, shop, exit_, trip)
    line = decision.lines[0]["id"]
    first = unit.run(lambda tx: dispute_line(tx, sctx, shop.scope, who, line, "damaged"))
    again = unit.run(lambda tx: dispute_line(tx, sctx, shop.scope, who, line, "damaged"))
    assert first["status"] == "refunded" and again["id"] == first["id"]
    assert balance(unit, sctx, shop, who) == 3000


def test_a_basket_above_the_hold_is_authorised_incrementally_then_captured(
        unit: SqlStoreUnit, sctx: StoreContext, shop: SeededStore) -> None:
    entry, exit_ = gates(unit, shop)
    who = customer(unit, sctx, shop, 5000)
    trip = enter(unit, sctx, shop, entry, who)
    soaps = [encode_sgtin96(SOAP.gtin, 7, 100 + i) for i in range(3)]
    shop_and_leave(unit, shop, trip, 4_000_000, [(SOAP.gtin, 450)], soaps)
    decision = leave(unit, sctx, shop, exit_, trip)
    assert decision.open and decision.trip["total_minor"] == 1497
    assert decision.trip["charged_minor"] == 1497
    assert decision.trip["extra_payment_intent_id"] is not None
    assert balance(unit, sctx, shop, who) == 5000 - 1497
    receipts = [n for n in unit.run(lambda tx: tx.money.undelivered_notifications(50))
                if n.subject == "Store receipt" and n.customer_id == who]
    assert [(n.subject, n.body) for n in receipts] == [
        ("Store receipt", "3 x Soap 14.97 EUR. Total 14.97 EUR.")]


def test_wallet_that_cannot_pay_keeps_the_door_shut_and_debt_blocks_entry(
        unit: SqlStoreUnit, sctx: StoreContext, shop: SeededStore) -> None:
    entry, exit_ = gates(unit, shop)
    broke = customer(unit, sctx, shop, 0)
    refused = unit.run(lambda tx: authorise_entry(tx, sctx, shop.scope, entry, broke,
                                                  EntryMethod.FACE))
    assert (refused.open, refused.reason) == (False, "hold_failed")
    who = customer(unit, sctx, shop, 1200)
    trip = enter(unit, sctx, shop, entry, who)
    soaps = [encode_sgtin96(SOAP.gtin, 7, 200 + i) for i in range(3)]
    shop_and_leave(unit, shop, trip, 5_000_000, [(SOAP.gtin, 450)], soaps)
    decision = leave(unit, sctx, shop, exit_, trip)
    assert (decision.open, decision.reason) == (False, "payment_failed")
    assert decision.trip["status"] == "debt"
    assert (decision.trip["charged_minor"], decision.trip["debt_minor"]) == (1000, 497)
    alerts: list[Row] = unit.run(lambda tx: tx.rows("alerts", store_id=shop.store["id"],
                                                    kind="payment_failed"))
    assert [a["subject"] for a in alerts] == [trip]
    blocked = unit.run(lambda tx: authorise_entry(tx, sctx, shop.scope, entry, who,
                                                  EntryMethod.QR))
    assert (blocked.open, blocked.reason) == (False, "unpaid_debt")
    # what the gate shows the customer: the amount as people read it, no ids, no "minor units"
    assert blocked.message == ("An earlier store visit is still unpaid (4.97 EUR): pay it on "
                               "your wallet's store page, then come in.")
    assert refused.message == ("Your wallet could not set aside 10.00 EUR for this visit: top "
                               "it up, then try again.")
    unit.run(lambda tx: top_up(tx.money, sctx.money, shop.scope, who, 2000, "EUR"))
    paid = leave(unit, sctx, shop, exit_, trip)
    assert (paid.open, paid.reason, paid.trip["status"]) == (True, "debt_paid", "charged")
    assert balance(unit, sctx, shop, who) == 1200 + 2000 - 1497
    assert unit.run(lambda tx: authorise_entry(tx, sctx, shop.scope, entry, who,
                                               EntryMethod.QR)).open


def test_staff_charge_or_drop_what_went_to_review(
        unit: SqlStoreUnit, sctx: StoreContext, shop: SeededStore) -> None:
    from smilepay.services.store_after import resolve_review

    entry, exit_ = gates(unit, shop)
    who = customer(unit, sctx, shop, 5000)
    trip = enter(unit, sctx, shop, entry, who)
    # a tea tag with no pick, and a pen tag with no pick: both to review, nothing charged
    tags = [encode_sgtin96(TEA.gtin, 7, 300), encode_sgtin96(PEN.gtin, 7, 301)]
    shop_and_leave(unit, shop, trip, 6_000_000, [], tags)
    decision = leave(unit, sctx, shop, exit_, trip)
    assert decision.open and decision.trip["status"] == "review"
    assert decision.trip["charged_minor"] == 0 and decision.review == 2
    items = {r["gtin"]: r["id"] for r in unit.run(lambda tx: tx.rows("review", trip_id=trip))}
    charged = unit.run(lambda tx: resolve_review(tx, sctx, shop.scope, items[TEA.gtin],
                                                 charge=True))
    assert charged["resolved"] and charged["charged"]
    again = unit.run(lambda tx: resolve_review(tx, sctx, shop.scope, items[TEA.gtin],
                                               charge=True))
    assert again["resolved"]  # once: no second charge
    unit.run(lambda tx: resolve_review(tx, sctx, shop.scope, items[PEN.gtin], charge=False))
    row = unit.run(lambda tx: tx.one("trips", id=trip))
    assert row is not None and (row["status"], row["charged_minor"]) == ("charged", 250)
    assert balance(unit, sctx, shop, who) == 5000 - 250
    lines = unit.run(lambda tx: tx.rows("lines", trip_id=trip))
    assert [(r["gtin"], r["evidence"]) for r in lines] == [(TEA.gtin, "review")]


def test_a_shared_pick_nobody_claimed_goes_later_to_the_trip_whose_tag_it_explains(
        unit: SqlStoreUnit, sctx: StoreContext, shop: SeededStore) -> None:
    """Two trips at the tea shelf when one tea was taken. The first leaves with a tea tag
    read once (not sure enough to settle a shared pick while the other is still inside): it
    goes to review. The second leaves with no tea: the pick is nobody else's now, so the
    first trip is charged for it then."""
    entry, exit_ = gates(unit, shop)
    first, second = customer(unit, sctx, shop, 5000), customer(unit, sctx, shop, 5000)
    a, b = enter(unit, sctx, shop, entry, first), enter(unit, sctx, shop, entry, second)
    s = Sensors(shop)
    tea = encode_sgtin96(TEA.gtin, 7, 500)
    t0 = 7_000_000
    messages = [s.presence(a, "aisle1", "enter", t0), s.presence(b, "aisle1", "enter", t0 + 100),
                s.shelf(TEA.gtin, -330, t0 + 1_000),
                s.presence(a, "aisle1", "leave", t0 + 5_000),
                s.presence(b, "aisle1", "leave", t0 + 6_000),
                s.presence(a, "tunnel", "enter", t0 + 10_000),
                s.tunnel([tea], t0 + 10_500, reads_each=1),
                s.presence(a, "tunnel", "leave", t0 + 13_000),
                s.presence(b, "tunnel", "enter", t0 + 14_000),
                s.presence(b, "tunnel", "leave", t0 + 17_000), s.heartbeat(t0 + 18_000)]
    assert ingest_messages(unit, messages, 1).rejected == []
    first_exit = leave(unit, sctx, shop, exit_, a)
    assert first_exit.lines == [] and first_exit.trip["status"] == "review"
    second_exit = leave(unit, sctx, shop, exit_, b)
    assert second_exit.lines == [] and second_exit.trip["status"] == "charged"
    row = unit.run(lambda tx: tx.one("trips", id=a))
    assert row is not None and (row["status"], row["charged_minor"]) == ("charged", 250)
    lines = unit.run(lambda tx: tx.rows("lines", trip_id=a))
    assert [(r["gtin"], r["evidence"], r["epcs"]) for r in lines] == [
        (TEA.gtin, "tag+late_pick", tea)]
    assert balance(unit, sctx, shop, first) == 5000 - 250
    assert balance(unit, sctx, shop, second) == 5000
