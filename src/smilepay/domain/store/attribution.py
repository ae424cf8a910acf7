"""Shelf weight events turned into picks, attributed to trips by presence events.

A presence event says a trip entered or left a zone (as camera tracking would send it); the
trips present in a slot's zone when its weight changed are the pick's candidates. One
candidate: the pick is that trip's. Several: it is ambiguous, to be resolved by the tunnel's
tags or by staff, never by a guess.

A weight change is counted in whole units only when the shelf scales' noise makes the
neighbouring counts implausible: ``scale_noise_g`` estimates the noise from the store's own
weight changes (what is left over once whole units are taken off, on items heavy enough
that the left-over is the noise), and ``units_from_weight`` refuses a count that a unit more
or less would explain within ``MIN_ODDS`` to one. A scale too noisy for an item's unit weight
leaves its count to the tags.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

FOREVER_MS = 2**62
DEFAULT_NOISE_G = 2.0  # assumed when too few weight changes tell the noise
MIN_ODDS = 10_000.0  # a count is this many times likelier than one unit more or less
NOISE_FROM_UNIT_G = 100  # items this heavy tell the noise (their left-over is the noise)
NOISE_MIN_SAMPLES = 12


class PresenceAction(StrEnum):
    ENTER = "enter"
    LEAVE = "leave"


@dataclass(frozen=True)
class PresenceEvent:
    trip_id: str
    zone: str
    action: PresenceAction
    at_ms: int


@dataclass(frozen=True)
class Interval:
    trip_id: str
    zone: str
    start_ms: int
    end_ms: int

    def contains(self, at_ms: int, slack_ms: int = 0) -> bool:
        return self.start_ms - slack_ms <= at_ms <= self.end_ms + slack_ms


@dataclass(frozen=True)
class ShelfEvent:
    event_id: str
    slot_id: str
    zone: str
    gtin: str
    unit_weight_g: int
    delta_g: int  # negative: taken off the shelf; positive: put back
    at_ms: int


@dataclass(frozen=True)
class Pick:
    event_id: str
    slot_id: str
    gtin: str
    units: int  # positive taken, negative put back; 0 when the weight matched no whole unit
    weight_ok: bool
    at_ms: int
    candidates: tuple[str, ...]  # trips present in the zone, sorted
    delta_g: int = 0  # the weight change itself (negative: taken)


def presence_intervals(events: Iterable[PresenceEvent], since_ms: int | None = None
                       ) -> list[Interval]:
    """Each trip's stays per zone, placed by time (events may arrive out of order). A stay
    still open ends at ``FOREVER_MS``. A leave with no enter started before what was read:
    at ``since_ms`` (the start of the events read), or at the leave when None. Unknown ends
    are taken wide, so a pick is never given to one trip while another may have been there."""
    by_key: dict[tuple[str, str], list[PresenceEvent]] = defaultdict(list)
    for event in events:
        by_key[(event.trip_id, event.zone)].append(event)
    intervals: list[Interval] = []
    for (trip_id, zone), seq in by_key.items():
        start: int | None = None
        for event in sorted(seq, key=lambda e: (e.at_ms, e.action != PresenceAction.ENTER)):
            if event.action is PresenceAction.ENTER:
                if start is None:
                    start = event.at_ms
            else:
                began = start if start is not None else (
                    event.at_ms if since_ms is None else min(since_ms, event.at_ms))
                intervals.append(Interval(trip_id, zone, began, event.at_ms))
                start = None
        if start is not None:
            intervals.append(Interval(trip_id, zone, start, FOREVER_MS))
    return intervals


def scale_noise_g(changes: Iterable[tuple[int, int]]) -> float:
    """The shelf scales' noise (one standard deviation, grams) from weight changes
    ``(delta_g, unit_weight_g)``: the median distance of each change from its nearest whole
    number of units (x 1.4826, a normal's MAD), over items of at least
    ``NOISE_FROM_UNIT_G`` (lighter ones fold the noise back onto another count). With fewer
    than ``NOISE_MIN_SAMPLES`` such changes, ``DEFAULT_NOISE_G``; never under 1 g (the
    grams are whole)."""
    left = sorted(abs(-delta - round(-delta / unit) * unit) for delta, unit in changes
                  if unit >= NOISE_FROM_UNIT_G and delta != 0 and round(-delta / unit) != 0)
    if len(left) < NOISE_MIN_SAMPLES:
        return DEFAULT_NOISE_G
    mid = len(left) // 2
    median = left[mid] if len(left) % 2 else (left[mid - 1] + left[mid]) / 2
    return max(1.0, 1.4826 * median)


def units_from_weight(delta_g: int, unit_weight_g: int, *, tolerance_g: int = 5,
                      tolerance_ratio: float = 0.1, noise_g: float | None = None
                      ) -> int | None:
    """The whole units a weight change is (signed like the pick: taken positive), or None
    when it is no whole number of units within the tolerance, or could be two numbers:
    never a weight one unit more or less could explain, and with the scales' ``noise_g``,
    never one whose count is not ``MIN_ODDS`` times likelier than its neighbours' (for a
    left-over r of a unit w under noise s, the odds are exp(w (w - 2r) / 2s^2))."""
    if unit_weight_g <= 0 or delta_g == 0:
        return None
    grams = -delta_g
    units = round(grams / unit_weight_g)
    if units == 0:
        return None
    left = abs(grams - units * unit_weight_g)
    allowed = max(tolerance_g, tolerance_ratio * unit_weight_g,
                  3 * (noise_g or 0.0)) * max(1, abs(units)) ** 0.5
    allowed = min(allowed, unit_weight_g / 3)  # never a weight one unit more could explain
    if left > allowed:
        return None
    if noise_g is not None and \
            unit_weight_g * (unit_weight_g - 2 * left) < 2 * math.log(MIN_ODDS) * noise_g ** 2:
        return None
    return units


def attribute_picks(events: Iterable[ShelfEvent], intervals: list[Interval],
                    slack_ms: int = 500, noise_g: float | None = None) -> list[Pick]:
    by_zone: dict[str, list[Interval]] = defaultdict(list)
    for interval in intervals:
        by_zone[interval.zone].append(interval)
    picks = []
    for event in sorted(events, key=lambda e: (e.at_ms, e.event_id)):
        units = units_from_weight(event.delta_g, event.unit_weight_g, noise_g=noise_g)
        present = sorted({i.trip_id for i in by_zone.get(event.zone, ())
                          if i.contains(event.at_ms, slack_ms)})
        picks.append(Pick(event.event_id, event.slot_id, event.gtin, units or 0,
                          units is not None, event.at_ms, tuple(present), event.delta_g))
    return picks
