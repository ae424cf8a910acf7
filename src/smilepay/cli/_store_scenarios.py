"""The shipped scenarios, made by the seeded generator: ``busy_hour`` (the issue's goals),
``noisy`` (more misses, cross-reads, duplicates and reordering, a reader outage, thefts,
tailgaters and wallets that cannot pay) and ``hard`` (the busy hour made harder for the
method: more tag misses, stronger and more frequent cross-reads, busier shelf bays)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from smilepay.domain.store.simulation import Scenario, make_catalogue

# zones are shelf bays: where the camera tracker says a trip stands
AISLES = ("fruit", "bakery", "dairy", "drinks", "snacks", "home", "frozen", "care")
ZONES = tuple(f"{aisle}-{side}" for aisle in AISLES for side in ("a", "b"))


def scenario_json(kind: str, seed: int) -> dict[str, Any]:
    products = tuple(make_catalogue(seed, ZONES, 3))
    base = Scenario(name=kind, seed=seed, duration_s=3600, shoppers_per_hour=200,
                    group_share=0.10, zones=ZONES, products=products, picks_per_zone=0.8,
                    zones_visited=(2, 6), dwell_s=(10, 45), tag_miss_rate=0.02,
                    cross_read_rate=0.01, duplicate_rate=0.02, reorder_rate=0.05)
    if kind == "busy_hour":
        chosen = base
    elif kind == "noisy":
        chosen = Scenario(**{**asdict(base), "products": products, "zones": ZONES,
                             "name": kind, "shoppers_per_hour": 240, "group_share": 0.2,
                             "tag_miss_rate": 0.08, "cross_read_rate": 0.05,
                             "cross_rssi": (-72.0, 5.0), "own_rssi": (-55.0, 6.0),
                             "weight_noise_g": 4.0, "duplicate_rate": 0.1,
                             "reorder_rate": 0.2, "reorder_max_ms": 8_000,
                             "outage_start_s": 1200, "outage_s": 120, "thefts": 3,
                             "tailgate_rate": 0.03, "broke_share": 0.03,
                             "put_back_rate": 0.15})
    elif kind == "hard":
        chosen = Scenario(**{**asdict(base), "products": products, "zones": ZONES,
                             "name": kind, "shoppers_per_hour": 300, "group_share": 0.2,
                             "dwell_s": (15, 60), "tag_miss_rate": 0.05,
                             "cross_read_rate": 0.03, "cross_rssi": (-70.0, 5.0),
                             "cross_reads": (1, 3), "weight_noise_g": 3.0,
                             "put_back_rate": 0.12, "duplicate_rate": 0.05,
                             "reorder_rate": 0.1, "reorder_max_ms": 5_000})
    else:
        raise ValueError(f"expected busy_hour, noisy or hard, got {kind!r}")
    return asdict(chosen)
