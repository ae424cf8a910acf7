"""The simulator's classification of items taken and not charged (domain/store/misses.py)."""

from __future__ import annotations

from smilepay.domain.store.misses import classify_misses
from smilepay.domain.store.sgtin import encode_sgtin96
from smilepay.domain.store.simulation import (
    Scenario,
    ScenarioProduct,
    Shopper,
    SimEvent,
    Timeline,
)

MILK = ScenarioProduct("80614141123458", "Milk", 120, 1000, "dairy")
TEA = ScenarioProduct("14012345000013", "Tea", 300, 80, "tea")


def _stay(trip: int, zone: str, start: int, end: int) -> list[SimEvent]:
    return [SimEvent(start, "presence", zone, ({"trip": trip, "action": "enter",
                                                "at_ms": start},), trip),
            SimEvent(end, "presence", zone, ({"trip": trip, "action": "leave",
                                              "at_ms": end},), trip)]


def _take(trip: int, product: ScenarioProduct, at: int) -> SimEvent:
    return SimEvent(at, "shelf", product.gtin,
                    ({"delta_g": -product.unit_weight_g, "at_ms": at},), trip)


def _reads(trip: int, epc: str, rssi: float) -> SimEvent:
    return SimEvent(90_000, "rfid", "tunnel",
                    ({"epc": epc, "antenna": 0, "rssi": rssi, "at_ms": 90_000},), trip)


def test_each_missed_unit_is_put_in_the_class_its_evidence_allows() -> None:
    s = Scenario("t", 1, 600, 10.0, 0.0, ("dairy", "tea"), (MILK, TEA))
    # 0 and 1 share the dairy bay when 0 takes milk; 0 alone takes tea; 2 alone takes tea
    messages = [*_stay(0, "dairy", 1_000, 20_000), *_stay(1, "dairy", 5_000, 30_000),
                _take(0, MILK, 10_000), *_stay(0, "tea", 21_000, 40_000), _take(0, TEA, 25_000),
                *_stay(2, "tea", 50_000, 60_000), _take(2, TEA, 55_000),
                _reads(0, encode_sgtin96(MILK.gtin, 7, 1), -80.0),  # weak: not its pass
                _reads(2, encode_sgtin96(TEA.gtin, 7, 2), -50.0)]
    shoppers = [Shopper(0, 0, 1, 1, False, {MILK.gtin: 1, TEA.gtin: 1}),
                Shopper(1, 0, 1, 1, False, {}),
                Shopper(2, 0, 1, 1, False, {TEA.gtin: 1})]
    timeline = Timeline(messages, [], shoppers, [])
    charged: dict[int, dict[str, int]] = {0: {}, 1: {}, 2: {}}
    assert classify_misses(s, timeline, charged) == {
        "tag_unread_shared_pick": 1, "tag_unread_own_pick": 1, "tag_read": 1}
    assert classify_misses(s, timeline, {0: {MILK.gtin: 1, TEA.gtin: 1},
                                         2: {TEA.gtin: 1}}) == {
        "tag_unread_shared_pick": 0, "tag_unread_own_pick": 0, "tag_read": 0}
