"""What an exit decision reads: the trip's tunnel window, the tunnel's tag passes around it,
the other trips' tunnel windows, and the shelf picks attributed by presence.

All times here are the devices' (``at_ms``); the tunnel is the zone ``tunnel``.
"""

from __future__ import annotations

from dataclasses import dataclass

from smilepay.domain.store.attribution import (
    Pick,
    PresenceAction,
    PresenceEvent,
    ShelfEvent,
    attribute_picks,
    presence_intervals,
    scale_noise_g,
)
from smilepay.domain.store.reconcile import TagPass, TagRead, Window, dedup_reads
from smilepay.ports.store import Row, StoreTx

TUNNEL = "tunnel"
LOOKBACK_MS = 30_000
SLACK_MS = 500
READ_GAP_MS = 5_000  # reads of one tag closer than this are one pass
NOISE_LOOKBACK_MS = 600_000  # the shelf scales' noise is estimated over this much before


@dataclass(frozen=True)
class Evidence:
    window: Window | None  # None: the trip never showed in the tunnel
    passes: list[TagPass]
    others: list[Window]
    picks: list[Pick]  # those naming the trip
    invalid_reads: int
    all_picks: list[Pick]  # every pick around the trip's stay
    noise_g: float | None = None  # the shelf scales' noise the picks were counted with


def presence_events(rows: list[Row]) -> list[PresenceEvent]:
    return [PresenceEvent(r["trip_id"], r["source"], PresenceAction(r["action"]), r["at_ms"])
            for r in rows]


def tunnel_windows(events: list[PresenceEvent], since_ms: int | None = None
                   ) -> dict[str, Window]:
    return {i.trip_id: Window(i.trip_id, i.start_ms, i.end_ms)
            for i in presence_intervals((e for e in events if e.zone == TUNNEL), since_ms)}


def gather(tx: StoreTx, store_id: str, trip_id: str) -> Evidence:
    own = presence_events(tx.rows("events", kind="presence", store_id=store_id, trip_id=trip_id))
    if not own:
        return Evidence(None, [], [], [], 0, [])
    span_start = min(e.at_ms for e in own) - SLACK_MS
    span_end = max(e.at_ms for e in own) + SLACK_MS
    since = span_start - LOOKBACK_MS
    around = presence_events(tx.events_between(store_id, "presence", since,
                                               span_end + LOOKBACK_MS))
    windows = tunnel_windows(around, since)
    window = windows.get(trip_id)
    passes: list[TagPass] = []
    invalid = 0
    if window is not None:
        readers = {d["id"] for d in tx.rows("devices", store_id=store_id, kind="rfid",
                                            zone=TUNNEL)}
        reads = [TagRead(r["epc"], r["antenna"] or 0, r["rssi"], r["at_ms"])
                 for r in tx.events_between(store_id, "rfid", window.start_ms - LOOKBACK_MS,
                                            window.end_ms + READ_GAP_MS)
                 if r["source"] in readers]
        passes, invalid = dedup_reads(reads, gap_ms=READ_GAP_MS)
    # the span's weight changes make the picks; those of the minutes before tell the noise
    shelf_rows = tx.events_between(store_id, "shelf", span_start - NOISE_LOOKBACK_MS, span_end)
    slots = {s["id"]: s for s in tx.rows_in("slots", "id",
                                            sorted({r["source"] for r in shelf_rows}))}
    weights = {p["gtin"]: p["unit_weight_g"] for p in tx.rows_in(
        "products", "gtin", sorted({s["gtin"] for s in slots.values()}), store_id=store_id)}
    shelf = [ShelfEvent(f"{r['device_id']}:{r['event_id']}", r["source"],
                        slots[r["source"]]["zone"], slots[r["source"]]["gtin"],
                        weights.get(slots[r["source"]]["gtin"], 0), r["delta_g"], r["at_ms"])
             for r in shelf_rows if r["source"] in slots]
    noise = scale_noise_g((e.delta_g, e.unit_weight_g) for e in shelf)
    every = attribute_picks([e for e in shelf if e.at_ms >= span_start],
                            presence_intervals(around, since), SLACK_MS, noise)
    picks = [p for p in every if trip_id in p.candidates]
    others = [w for t, w in windows.items() if t != trip_id]
    return Evidence(window, passes, others, picks, invalid, every, noise)


def sensors_caught_up(tx: StoreTx, store_id: str, trip_id: str) -> bool:
    """Whether every device that holds evidence for the trip has reported device time past
    it (each device's messages arrive in order, so all of its earlier events are committed):
    the tunnel's readers past the trip's tunnel exit, the shelves past its last zone exit.
    A device alerted as silent is not waited for: the other evidence decides without it."""
    own = tx.rows("events", kind="presence", store_id=store_id, trip_id=trip_id)
    tunnel = [r["at_ms"] for r in own if r["source"] == TUNNEL and r["action"] == "leave"]
    if not tunnel:
        return False
    zones = [r["at_ms"] for r in own if r["source"] != TUNNEL]
    need = {"rfid": max(tunnel), "shelf": max(zones, default=0)}
    for d in tx.rows("devices", store_id=store_id):
        if d["silent_alerted"] or d["kind"] not in need:
            continue
        if d["kind"] == "rfid" and d["zone"] != TUNNEL:
            continue
        if (d["watermark_ms"] or 0) < need[d["kind"]]:
            return False
    return True
