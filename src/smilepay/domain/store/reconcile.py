"""The exit decision's basket: tunnel tag reads reconciled with a trip's shelf picks.

Tunnel reads come from several antennas, each tag many times with its RSSI. ``dedup_reads``
folds one tag's reads into passes (reads closer than ``gap_ms`` are one pass) and keeps the
strongest read. ``reconcile_trip`` then decides, per GTIN, for the trip in the tunnel:

- its picks (weight matched a whole number of units, it alone in the zone), net of put-backs;
- its own tags: strong passes whose peak lies in its tunnel window and no other trip's;
- a tag-less pick is charged by its weight (the tag was missed, or the item has none);
- own tags beyond the picks first resolve ambiguous picks (several trips in the zone) that
  name this trip; any still unexplained go to review, never charged;
- weak passes (below ``strong_rssi``: a neighbour's basket read across the tunnel) are not this
  trip's evidence; they only lend serials to tag-less picks of a later trip (the cross-read
  goes to that trip);
- an ambiguous put-back that may be this trip's leaves the uncertain units to review;
- a pick whose weight matched no whole unit goes to review.
Sold tags are ignored. Nothing uncertain is charged: the charge never exceeds what the
evidence supports, and what it cannot support goes to review with its reason.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from smilepay.domain.store.attribution import Pick
from smilepay.domain.store.errors import InvalidEpc
from smilepay.domain.store.sgtin import decode_sgtin96

STRONG_RSSI_DBM = -65.0


@dataclass(frozen=True)
class TagRead:
    epc: str
    antenna: int
    rssi: float
    at_ms: int


@dataclass(frozen=True)
class TagPass:
    epc: str
    gtin: str
    first_ms: int
    last_ms: int
    peak_ms: int
    peak_rssi: float
    reads: int
    antennas: int


def dedup_reads(reads: Iterable[TagRead], *, gap_ms: int = 2000) -> tuple[list[TagPass], int]:
    """Passes of each tag (placed by time, whatever the arrival order) and how many reads
    carried no valid SGTIN-96."""
    by_epc: dict[str, list[TagRead]] = defaultdict(list)
    invalid = 0
    gtins: dict[str, str] = {}
    for read in reads:
        epc = read.epc.upper()
        if epc not in gtins:
            try:
                gtins[epc] = decode_sgtin96(epc).gtin14
            except InvalidEpc:
                invalid += 1
                continue
        by_epc[epc].append(read)
    passes: list[TagPass] = []
    for epc, seq in by_epc.items():
        seq.sort(key=lambda r: r.at_ms)
        group: list[TagRead] = [seq[0]]
        for read in seq[1:]:
            if read.at_ms - group[-1].at_ms > gap_ms:
                passes.append(_fold(epc, gtins[epc], group))
                group = []
            group.append(read)
        passes.append(_fold(epc, gtins[epc], group))
    passes.sort(key=lambda p: (p.peak_ms, p.epc))
    return passes, invalid


def _fold(epc: str, gtin: str, group: list[TagRead]) -> TagPass:
    peak = max(group, key=lambda r: (r.rssi, -r.at_ms))
    return TagPass(epc, gtin, group[0].at_ms, group[-1].at_ms, peak.at_ms, peak.rssi,
                   len(group), len({r.antenna for r in group}))


@dataclass(frozen=True)
class Window:
    trip_id: str
    start_ms: int
    end_ms: int

    def contains(self, at_ms: int, slack_ms: int) -> bool:
        return self.start_ms - slack_ms <= at_ms <= self.end_ms + slack_ms


@dataclass(frozen=True)
class Line:
    gtin: str
    quantity: int
    epcs: tuple[str, ...]
    evidence: str  # "tag+pick", "pick" (tag-less, by weight), "tag+ambiguous_pick"


@dataclass(frozen=True)
class ReviewItem:
    reason: str  # tag_without_pick, weight_mismatch, ambiguous_put_back
    gtin: str
    quantity: int
    ref: str  # an EPC or a shelf event id


@dataclass(frozen=True)
class Basket:
    trip_id: str
    lines: tuple[Line, ...]
    review: tuple[ReviewItem, ...]
    resolved_picks: tuple[str, ...]  # ambiguous picks this decision gave the trip
    cross_reads: tuple[str, ...]  # weak reads in the window left to the neighbours
    ignored_sold: int = 0
    sold_epcs: tuple[str, ...] = field(default=())

    def quantities(self) -> dict[str, int]:
        return {line.gtin: line.quantity for line in self.lines}


@dataclass
class _Evidence:
    net: int = 0
    own: list[str] = field(default_factory=list)
    shared: list[str] = field(default_factory=list)
    weak: list[str] = field(default_factory=list)
    lent: list[str] = field(default_factory=list)  # weak, before the window
    ambiguous: list[Pick] = field(default_factory=list)
    putback_doubt: int = 0


def reconcile_trip(
    window: Window, passes: Iterable[TagPass], picks: Iterable[Pick], *,
    others: Iterable[Window] = (), sold: frozenset[str] = frozenset(),
    taken_picks: frozenset[str] = frozenset(), strong_rssi: float = STRONG_RSSI_DBM,
    slack_ms: int = 300, lookback_ms: int = 30_000,
) -> Basket:
    """The trip's basket. ``passes``: tunnel passes around its window; ``picks``: picks that
    name it among their candidates; ``others``: the other trips' tunnel windows;
    ``taken_picks``: ambiguous picks already given to another trip."""
    trip = window.trip_id
    others = [o for o in others if o.trip_id != trip]
    ev: dict[str, _Evidence] = defaultdict(_Evidence)
    review: list[ReviewItem] = []
    ignored = 0
    for p in passes:
        if p.epc in sold:
            ignored += 1
            continue
        e = ev[p.gtin]
        if window.contains(p.peak_ms, slack_ms):
            if p.peak_rssi < strong_rssi:
                e.weak.append(p.epc)
            elif any(o.contains(p.peak_ms, slack_ms) for o in others):
                e.shared.append(p.epc)
            else:
                e.own.append(p.epc)
        elif p.peak_rssi < strong_rssi and \
                window.start_ms - lookback_ms <= p.peak_ms < window.start_ms:
            e.lent.append(p.epc)
    for pick in picks:
        if trip not in pick.candidates or pick.event_id in taken_picks:
            continue
        e = ev[pick.gtin]
        if not pick.weight_ok:
            if pick.candidates == (trip,):
                review.append(ReviewItem("weight_mismatch", pick.gtin, 1, pick.event_id))
        elif pick.candidates == (trip,):
            e.net += pick.units
        elif pick.units > 0:
            e.ambiguous.append(pick)
        else:
            e.putback_doubt += -pick.units
    lines: list[Line] = []
    resolved: list[str] = []
    cross: list[str] = []
    for gtin in sorted(ev):
        e = ev[gtin]
        picked = max(0, e.net)
        need, via_ambiguous = len(e.own) - picked, 0
        for pick in e.ambiguous:
            if need <= 0:
                break
            resolved.append(pick.event_id)
            via_ambiguous += pick.units
            need -= pick.units
        explained = picked + via_ambiguous
        review.extend(ReviewItem("tag_without_pick", gtin, 1, epc) for epc in e.own[explained:])
        doubt = min(e.putback_doubt, max(0, picked - len(e.own)))
        if doubt:
            review.append(ReviewItem("ambiguous_put_back", gtin, doubt, gtin))
        cross.extend(e.weak)
        quantity = explained - doubt
        if quantity <= 0:
            continue
        epcs = tuple((e.own[:explained] + e.shared + e.lent)[:quantity])
        evidence = "tag+ambiguous_pick" if via_ambiguous else (
            "tag+pick" if len(epcs) >= quantity else "pick")
        lines.append(Line(gtin, quantity, epcs, evidence))
    return Basket(trip, tuple(lines), tuple(review), tuple(resolved), tuple(cross), ignored,
                  tuple(epc for line in lines for epc in line.epcs))
