"""Why the simulator's charged items fall short of the truth: each unit a trip took home and
was not charged is put in one class, from the timeline (the simulator's ground truth).

- ``tag_unread_shared_pick``: none of the trip's passes read that GTIN as many times as it
  carried it, and its take of it had other trips at the shelf bay. Which of them took it is
  then told apart by nothing the sensors sent (a missed tag is as likely on either side), so
  the method leaves it to review: the price of never guessing.
- ``tag_unread_own_pick``: the tag was not read but the trip stood alone at the bay (its
  weight did not count it: it fit no whole number of units, or the item is too light for the
  scales' noise to tell one unit from two).
- ``tag_read``: every unit's tag was read strongly and it was still not charged (the method
  could have done better).
"""

from __future__ import annotations

from collections import defaultdict

from smilepay.domain.store.sgtin import decode_sgtin96
from smilepay.domain.store.simulation import Scenario, Timeline

STRONG_DBM = -65.0


def classify_misses(s: Scenario, timeline: Timeline, shopper_charged: dict[int, dict[str, int]],
                    slack_ms: int = 500) -> dict[str, int]:
    """Units taken and not charged, per class (module docstring)."""
    zone_of = {p.gtin: p.zone for p in s.products}
    stays: dict[str, list[tuple[int, int, int]]] = defaultdict(list)
    opened: dict[tuple[int, str], int] = {}
    strong: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    takes: dict[tuple[int, str], list[int]] = defaultdict(list)
    for m in timeline.messages:
        if m.kind == "presence" and m.source != "tunnel":
            for e in m.events:
                key = (e["trip"], m.source)
                if e["action"] == "enter":
                    opened[key] = e["at_ms"]
                elif key in opened:
                    stays[m.source].append((e["trip"], opened.pop(key), e["at_ms"]))
        elif m.kind == "rfid" and m.shopper is not None:
            best: dict[str, float] = {}
            for e in m.events:
                best[e["epc"]] = max(best.get(e["epc"], -200.0), e["rssi"])
            for epc, rssi in best.items():
                if rssi >= STRONG_DBM:
                    strong[m.shopper][decode_sgtin96(epc).gtin14] += 1
        elif m.kind == "shelf" and m.shopper is not None and m.events[0]["delta_g"] < 0:
            takes[(m.shopper, m.source)].append(m.at_ms)
    out = {"tag_unread_shared_pick": 0, "tag_unread_own_pick": 0, "tag_read": 0}
    for shopper in timeline.shoppers:
        got = shopper_charged.get(shopper.index, {})
        for gtin, units in shopper.truth.items():
            missed = units - got.get(gtin, 0)
            if missed <= 0:
                continue
            if strong[shopper.index].get(gtin, 0) >= units:
                out["tag_read"] += missed
                continue
            shared = any(t != shopper.index and a - slack_ms <= at <= b + slack_ms
                         for at in takes[(shopper.index, gtin)]
                         for t, a, b in stays[zone_of[gtin]])
            out["tag_unread_shared_pick" if shared else "tag_unread_own_pick"] += missed
    return out
