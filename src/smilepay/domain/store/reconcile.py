"""The exit decision's basket: tunnel tag reads reconciled with a trip's shelf picks.

Tunnel reads come from several antennas, each tag many times with its RSSI. ``dedup_reads``
folds one tag's reads into passes (reads closer than ``gap_ms`` are one pass) and keeps the
strongest read. ``reconcile_trip`` then decides, per GTIN, for the trip in the tunnel:

- its picks (weight matched a whole number of units, it alone in the zone), net of put-backs;
- its own tags: strong passes whose peak lies in its tunnel window and no other trip's;
- a tag-less pick is charged by its weight (the tag was missed, or the item has none);
- own tags beyond the picks first resolve ambiguous picks (several trips in the zone) that
  name this trip, never more units than the tags left unexplained, and only as many
  as there are confident tags (read ``CONFIDENT_READS`` times by two antennas or more, the
  median read as strong as ``strong_rssi``: a neighbour's item read across the tunnel is read
  a few times by one or two, and strongly only now and then), unless every
  other candidate has left without claiming the pick (``settle_shared``: of the sets of
  shared takes that fit, the one explaining most tags, then the one taking most units
  nobody else can claim any more); a shared take whose weight fit no whole number of units
  takes the sure tags still unexplained; any tags still unexplained go to review, never
  charged;
- a tag read in two trips' windows belongs where it was read strongest;
- weak passes (below ``strong_rssi``: a neighbour's basket read across the tunnel) are not this
  trip's evidence; they only lend serials to tag-less picks of a later trip (the cross-read
  goes to that trip);
- a strong pass while another trip was in the tunnel too (shared) only lends its serial to
  a pick; unused, it goes to review;
- an ambiguous put-back that may be this trip's leaves the uncertain units to review;
- a pick whose weight matched no whole unit goes to review; when weight came back (a
  put-back of unknown units) the GTIN is charged only as far as its tags prove.
Sold tags are ignored. Nothing uncertain is charged: the charge never exceeds what the
evidence supports, and what it cannot support goes to review with its reason.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from smilepay.domain.store.attribution import Pick
from smilepay.domain.store.errors import InvalidEpc
from smilepay.domain.store.sgtin import decode_sgtin96

STRONG_RSSI_DBM = -65.0
CONFIDENT_READS = 3
MAX_SETTLE_PICKS = 12  # shared takes of one GTIN a trip's tags are matched against at once


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
    median_rssi: float  # the pass's typical read (a single lucky read does not make it)


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
                   len(group), len({r.antenna for r in group}),
                   statistics.median(r.rssi for r in group))


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
    confident: int = 0  # own tags read often, by several antennas
    uncertain: list[str] = field(default_factory=list)  # its own takes of unknown units
    shared: list[str] = field(default_factory=list)
    weak: list[str] = field(default_factory=list)
    lent: list[str] = field(default_factory=list)  # weak, before the window
    ambiguous: list[Pick] = field(default_factory=list)
    putback_doubt: int = 0


def reconcile_trip(
    window: Window, passes: Iterable[TagPass], picks: Iterable[Pick], *,
    others: Iterable[Window] = (), sold: frozenset[str] = frozenset(),
    taken_picks: frozenset[str] = frozenset(), exited: frozenset[str] = frozenset(),
    strong_rssi: float = STRONG_RSSI_DBM,
    slack_ms: int = 300, lookback_ms: int = 30_000,
) -> Basket:
    """The trip's basket. ``passes``: tunnel passes around its window; ``picks``: picks that
    name it among their candidates; ``others``: the other trips' tunnel windows;
    ``taken_picks``: ambiguous picks already given to another trip; ``exited``: trips already
    decided (an ambiguous pick they shared is more surely this trip's)."""
    trip = window.trip_id
    others = [o for o in others if o.trip_id != trip]
    ev: dict[str, _Evidence] = defaultdict(_Evidence)
    review: list[ReviewItem] = []
    ignored = 0
    # one item per EPC, however many passes it made; where it was read strongest is where it
    # was carried (a neighbour's item read across the tunnel is read stronger on its own pass)
    best: dict[str, TagPass] = {}
    for p in passes:
        known = best.get(p.epc)
        if known is None or (p.peak_rssi, p.peak_ms) > (known.peak_rssi, known.peak_ms):
            best[p.epc] = p
    for p in best.values():
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
                e.confident += p.reads >= CONFIDENT_READS and p.antennas >= 2 \
                    and p.median_rssi >= strong_rssi
        elif p.peak_rssi < strong_rssi and \
                window.start_ms - lookback_ms <= p.peak_ms < window.start_ms:
            e.lent.append(p.epc)
    for pick in picks:
        if trip not in pick.candidates or pick.event_id in taken_picks:
            continue
        e = ev[pick.gtin]
        if not pick.weight_ok:
            if pick.delta_g > 0:  # something went back, how many unknown: only tags count
                e.putback_doubt += 10**6
                if pick.candidates == (trip,):
                    review.append(ReviewItem("weight_mismatch", pick.gtin, 1, pick.event_id))
            elif pick.candidates == (trip,):
                e.uncertain.append(pick.event_id)
            else:
                e.ambiguous.append(pick)  # a shared take of unknown units
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
        budget = min(need, e.confident)  # only tags read surely settle a shared pick
        # a pick whose other candidates have left already (they cannot claim it) first, then
        # the larger ones; never one of more units than the unexplained tags
        ranked = sorted(e.ambiguous, key=lambda p: (
            sum(c not in exited and c != trip for c in p.candidates), -p.units, p.at_ms))
        chosen = settle_shared(trip, [p for p in ranked if p.weight_ok], need, budget, exited)
        for pick in chosen:
            resolved.append(pick.event_id)
            via_ambiguous += pick.units
        need -= via_ambiguous
        budget = min(need, budget - sum(p.units for p in chosen
                                        if not _alone(p, trip, exited)))
        if budget > 0 and len(ranked) == 1 and not via_ambiguous:
            # one shared take names this trip, and this trip's sure tags of the GTIN still
            # unexplained: it took them (one weight change is one person's take); its units
            # as the weight says, or as many as the tags when the weight fit no whole number
            units = ranked[0].units if ranked[0].units > 0 else budget
            resolved.append(ranked[0].event_id)
            via_ambiguous += units
            need -= units
            budget = 0
        for pick in ranked:
            # a shared take whose weight fit no whole number of units (it took some): the
            # trip's sure tags still unexplained are its units (any own tag once every other
            # candidate has left); the tags say how many, the take only that they could
            alone = all(c == trip or c in exited for c in pick.candidates)
            units = need if alone else budget
            if not pick.weight_ok and units > 0 and pick.event_id not in resolved:
                resolved.append(pick.event_id)
                via_ambiguous += units
                need -= units
                budget = 0
        # its own take of unknown units (the weight fit no whole number): its tags say how many
        via_weight = max(0, need) if e.uncertain else 0
        if e.uncertain and not via_weight:
            review.extend(ReviewItem("weight_mismatch", gtin, 1, ref) for ref in e.uncertain)
        explained = picked + via_ambiguous + via_weight
        review.extend(ReviewItem("tag_without_pick", gtin, 1, epc) for epc in e.own[explained:])
        doubt = min(e.putback_doubt, max(0, picked - len(e.own)))
        if doubt:
            review.append(ReviewItem("ambiguous_put_back", gtin, doubt, gtin))
        cross.extend(e.weak)
        quantity = explained - doubt
        spare = e.own[:explained] + e.shared + e.lent
        filled = max(0, quantity - len(e.own[:explained]))
        review.extend(ReviewItem("shared_tunnel_read", gtin, 1, epc)
                      for epc in e.shared[filled:])
        if quantity <= 0:
            continue
        epcs = tuple(spare[:quantity])
        evidence = "tag+ambiguous_pick" if via_ambiguous else "tag+weight" if via_weight \
            else "tag+pick" if len(epcs) >= quantity else "pick"
        lines.append(Line(gtin, quantity, epcs, evidence))
    return Basket(trip, tuple(lines), tuple(review), tuple(resolved), tuple(cross), ignored,
                  tuple(epc for line in lines for epc in line.epcs))


def _alone(pick: Pick, trip: str, exited: frozenset[str]) -> bool:
    """Every other candidate of the pick has left without claiming it."""
    return all(c == trip or c in exited for c in pick.candidates)


def settle_shared(trip: str, picks: list[Pick], need: int, budget: int,
                  exited: frozenset[str] = frozenset(), *, most: int = MAX_SETTLE_PICKS
                  ) -> list[Pick]:
    """The shared takes (whole units) the trip's unexplained tags settle: of every set whose
    units fit (the takes some other candidate may still claim at most ``budget``, the sure
    tags; all of them at most ``need``, every own tag), the one explaining most tags; among
    those, the one leaving fewest units of takes nobody else can claim any more (their
    other candidates left without claiming them: unless this trip took them, someone's tag
    was missed), then the fewest takes, then the earliest in ``picks``' order. Only the
    first ``most`` takes are looked at (every set of them is tried)."""
    picks = picks[:most]
    best: tuple[int, int, int, tuple[int, ...]] | None = None
    chosen: list[Pick] = []
    for mask in range(1, 1 << len(picks)):
        idx = [i for i in range(len(picks)) if mask >> i & 1]
        units = sum(picks[i].units for i in idx)
        orphans = sum(picks[i].units for i in idx if _alone(picks[i], trip, exited))
        if units > need or units - orphans > budget:
            continue
        key = (units, orphans, -len(idx), tuple(-i for i in idx))
        if best is None or key > best:
            best, chosen = key, [picks[i] for i in idx]
    return chosen


def swappable_picks(trip_id: str, gtin: str, picks: Iterable[Pick], taken: dict[str, str]
                    ) -> dict[str, str]:
    """Ambiguous picks of ``gtin`` that name ``trip_id`` but were given to another trip U
    which could have had an untaken pick of the same units instead (one U shared with
    others, not with this trip): ``{pick this trip may take: the untaken pick for U}``. U's
    charge stays the same; the tags that decided it said how many, not which pick."""
    pool = [p for p in picks if p.gtin == gtin and p.weight_ok and p.units > 0
            and len(p.candidates) > 1]
    swaps: dict[str, str] = {}
    used: set[str] = set()
    for p in pool:
        owner = taken.get(p.event_id)
        if trip_id not in p.candidates or owner is None or owner == trip_id:
            continue
        for q in pool:
            if q.event_id in taken or q.event_id in used or trip_id in q.candidates:
                continue
            if owner in q.candidates and q.units == p.units:
                swaps[p.event_id] = q.event_id
                used.add(q.event_id)
                break
    return swaps
