"""A store scenario expanded into a timeline of sensor events and gate actions, with the
ground truth to score the charges against. Pure and seeded: the same scenario gives the
same timeline (docs/store.md describes the format).

Times are ms from the scenario's start (the driver adds the devices' clock base).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any

from smilepay.domain.store.sgtin import encode_sgtin96, gs1_check_digit

HEARTBEAT_TUNNEL_MS = 1_000
HEARTBEAT_OTHER_MS = 2_000


@dataclass(frozen=True)
class ScenarioProduct:
    gtin: str
    name: str
    price_minor: int
    unit_weight_g: int
    zone: str


@dataclass(frozen=True)
class Scenario:
    name: str
    seed: int
    duration_s: int
    shoppers_per_hour: float
    group_share: float
    zones: tuple[str, ...]
    products: tuple[ScenarioProduct, ...]
    picks_per_zone: float = 1.2
    zones_visited: tuple[int, int] = (1, 4)
    dwell_s: tuple[int, int] = (20, 90)
    put_back_rate: float = 0.08
    weight_noise_g: float = 2.0
    tag_miss_rate: float = 0.02
    cross_read_rate: float = 0.01
    own_rssi: tuple[float, float] = (-50.0, 5.0)  # mean, sd of an own tag's reads (dBm)
    cross_rssi: tuple[float, float] = (-77.0, 3.0)
    own_reads: tuple[int, int] = (3, 10)  # reads of a carried tag in one pass
    cross_reads: tuple[int, int] = (1, 2)
    duplicate_rate: float = 0.02
    reorder_rate: float = 0.05
    reorder_max_ms: int = 3_000
    outage_start_s: int | None = None
    outage_s: int = 0
    thefts: int = 0
    tailgate_rate: float = 0.0
    broke_share: float = 0.0
    hold_minor: int = 3_000

    @staticmethod
    def from_json(data: dict[str, Any]) -> Scenario:
        fields_ = dict(data)
        fields_["zones"] = tuple(fields_["zones"])
        fields_["products"] = tuple(ScenarioProduct(**p) for p in fields_["products"])
        for key in ("own_rssi", "cross_rssi", "zones_visited", "dwell_s", "own_reads",
                    "cross_reads"):
            if key in fields_:
                fields_[key] = tuple(fields_[key])
        return Scenario(**fields_)


@dataclass(frozen=True)
class SimEvent:
    """One device message: ``kind`` rfid|shelf|presence|heartbeat, ``source`` the reader,
    slot (a gtin here), zone or device; ``events`` its events (times from the start)."""

    at_ms: int  # when it is sent
    kind: str
    source: str
    events: tuple[dict[str, Any], ...]
    shopper: int | None = None  # whose trip the events name or carry (None: heartbeats)


@dataclass(frozen=True)
class GateAction:
    at_ms: int
    kind: str  # "entry" | "exit"
    shopper: int


@dataclass
class Shopper:
    index: int
    arrival_ms: int
    people: int
    people_seen: int
    broke: bool
    truth: dict[str, int] = field(default_factory=dict)  # gtin -> units taken home
    tunnel_ms: tuple[int, int] = (0, 0)


@dataclass
class Timeline:
    messages: list[SimEvent]
    actions: list[GateAction]
    shoppers: list[Shopper]
    thefts: list[str]  # EPCs carried out with no trip


def _poisson(rng: random.Random, mean: float) -> int:
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def expand(s: Scenario) -> Timeline:
    rng = random.Random(s.seed)
    by_zone: dict[str, list[ScenarioProduct]] = {z: [] for z in s.zones}
    for product in s.products:
        by_zone[product.zone].append(product)
    serials = iter(range(1, 10**9))
    messages: list[SimEvent] = []
    actions: list[GateAction] = []
    shoppers: list[Shopper] = []
    carried: dict[int, list[str]] = {}
    t = 0.0
    end_ms = s.duration_s * 1000
    while True:
        t += rng.expovariate(s.shoppers_per_hour / 3_600_000)
        if t >= end_ms:
            break
        i = len(shoppers)
        people = rng.randint(2, 4) if rng.random() < s.group_share else 1
        seen = people + (1 if rng.random() < s.tailgate_rate else 0)
        shopper = Shopper(i, int(t), people, seen, rng.random() < s.broke_share)
        shoppers.append(shopper)
        actions.append(GateAction(int(t), "entry", i))
        now = int(t) + rng.randint(2_000, 6_000)
        basket: list[tuple[ScenarioProduct, str]] = []
        for zone in rng.sample(s.zones, k=min(len(s.zones), rng.randint(*s.zones_visited))):
            messages.append(SimEvent(now, "presence", zone,
                                     ({"trip": i, "action": "enter", "at_ms": now},), i))
            dwell = rng.randint(s.dwell_s[0] * 1000, s.dwell_s[1] * 1000)
            moments = sorted(rng.randint(now + 1_000, now + dwell - 1_000)
                             for _ in range(_poisson(rng, s.picks_per_zone * people)))
            for at in moments:
                product = rng.choice(by_zone[zone])
                units = 2 if rng.random() < 0.1 else 1
                noise = rng.gauss(0, s.weight_noise_g)
                messages.append(_shelf(product, -units * product.unit_weight_g + noise, at, i))
                if rng.random() < s.put_back_rate:
                    back = rng.randint(at + 200, max(at + 200, now + dwell - 500))
                    messages.append(_shelf(product, units * product.unit_weight_g
                                           + rng.gauss(0, s.weight_noise_g), back, i))
                    continue
                basket += [(product, encode_sgtin96(product.gtin, 7, next(serials)))
                           for _ in range(units)]
            now += dwell
            messages.append(SimEvent(now, "presence", zone,
                                     ({"trip": i, "action": "leave", "at_ms": now},), i))
            now += rng.randint(2_000, 10_000)
        for product, _ in basket:
            shopper.truth[product.gtin] = shopper.truth.get(product.gtin, 0) + 1
        carried[i] = [epc for _, epc in basket]
        enter = now + rng.randint(5_000, 20_000)
        shopper.tunnel_ms = (enter, enter + 3_000)
    _tunnel(s, rng, shoppers, carried, messages, actions)
    thefts = _thefts(s, rng, serials, messages)
    _heartbeats(s, messages, end_ms + 300_000)
    messages.sort(key=lambda m: m.at_ms)
    actions.sort(key=lambda a: a.at_ms)
    return Timeline(messages, actions, shoppers, thefts)


def _shelf(product: ScenarioProduct, grams: float, at: int, shopper: int) -> SimEvent:
    return SimEvent(at, "shelf", product.gtin, ({"delta_g": round(grams), "at_ms": at},),
                    shopper)


def _in_outage(s: Scenario, at: int) -> bool:
    if s.outage_start_s is None:
        return False
    return s.outage_start_s * 1000 <= at < (s.outage_start_s + s.outage_s) * 1000


def _reads(rng: random.Random, epc: str, start: int, end: int, rssi: tuple[float, float],
           count: int) -> list[dict[str, Any]]:
    return [{"epc": epc, "antenna": rng.randrange(4),
             "rssi": round(max(-119.0, min(-1.0, rng.gauss(*rssi))), 1),
             "at_ms": rng.randint(start, end)} for _ in range(count)]


def _tunnel(s: Scenario, rng: random.Random, shoppers: list[Shopper],
            carried: dict[int, list[str]], messages: list[SimEvent],
            actions: list[GateAction]) -> None:
    order = sorted(shoppers, key=lambda x: x.tunnel_ms[0])
    free_at = 0
    for shopper in order:  # one trip at a time in the tunnel: the next waits at its door
        enter = max(shopper.tunnel_ms[0], free_at + 500)
        shopper.tunnel_ms = (enter, enter + 3_000)
        free_at = enter + 3_000
    for k, shopper in enumerate(order):
        enter, leave = shopper.tunnel_ms
        i = shopper.index
        messages.append(SimEvent(enter, "presence", "tunnel",
                                 ({"trip": i, "action": "enter", "at_ms": enter},), i))
        reads: list[dict[str, Any]] = []
        for epc in carried[i]:
            if rng.random() >= s.tag_miss_rate:
                reads += _reads(rng, epc, enter + 200, leave - 200, s.own_rssi,
                                rng.randint(*s.own_reads))
        following = order[k + 1] if k + 1 < len(order) else None
        if following is not None and following.tunnel_ms[0] - leave < 20_000:
            for epc in carried[following.index]:
                if rng.random() < s.cross_read_rate:
                    reads += _reads(rng, epc, enter + 200, leave - 200, s.cross_rssi,
                                    rng.randint(*s.cross_reads))
        if reads and not _in_outage(s, leave):
            reads.sort(key=lambda r: r["at_ms"])
            messages.append(SimEvent(leave - 150, "rfid", "tunnel", tuple(reads), i))
        messages.append(SimEvent(leave, "presence", "tunnel",
                                 ({"trip": i, "action": "leave", "at_ms": leave},), i))
        actions.append(GateAction(leave + 300, "exit", i))


def _thefts(s: Scenario, rng: random.Random, serials: Any, messages: list[SimEvent]
            ) -> list[str]:
    epcs = []
    for _ in range(s.thefts):
        product = rng.choice(s.products)
        epc = encode_sgtin96(product.gtin, 7, next(serials))
        at = rng.randint(60_000, s.duration_s * 1000)
        busy = [m for m in messages if m.kind == "presence" and m.source == "tunnel"
                and abs(m.at_ms - at) < 10_000]
        if busy or _in_outage(s, at):
            continue
        messages.append(SimEvent(at + 3_000, "rfid", "tunnel",
                                 tuple(_reads(rng, epc, at, at + 2_500, s.own_rssi, 4)), None))
        epcs.append(epc)
    return epcs


def _heartbeats(s: Scenario, messages: list[SimEvent], end_ms: int) -> None:
    for at in range(0, end_ms, HEARTBEAT_TUNNEL_MS):
        if not _in_outage(s, at):
            messages.append(SimEvent(at, "heartbeat", "tunnel", ({"at_ms": at},)))
    for at in range(0, end_ms, HEARTBEAT_OTHER_MS):
        messages.append(SimEvent(at, "heartbeat", "presence", ({"at_ms": at},)))
        messages += [SimEvent(at, "heartbeat", f"shelf:{z}", ({"at_ms": at},)) for z in s.zones]


def make_catalogue(seed: int, zones: tuple[str, ...], per_zone: int) -> list[ScenarioProduct]:
    """Products with valid GTIN-14s (company prefix 7 digits), prices and weights."""
    rng = random.Random(seed)
    products = []
    for z, zone in enumerate(zones):
        for k in range(per_zone):
            body = f"1{4012345}{z:02d}{k:03d}"
            gtin = body + str(gs1_check_digit(body))
            products.append(ScenarioProduct(gtin, f"Item {zone}-{k}",
                                            rng.randrange(50, 2000, 10),
                                            rng.choice([12, 25, 40, 80, 150, 250, 330, 500,
                                                        750, 1000]), zone))
    return products
