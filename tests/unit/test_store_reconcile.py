"""Reconciliation of tunnel reads with shelf picks: dedup, tag-less picks, cross-reads,
ambiguous picks, put-backs, sold tags; and attribution by presence."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from smilepay.domain.store.attribution import (
    DEFAULT_NOISE_G,
    FOREVER_MS,
    Interval,
    Pick,
    PresenceAction,
    PresenceEvent,
    ShelfEvent,
    attribute_picks,
    presence_intervals,
    scale_noise_g,
    units_from_weight,
)
from smilepay.domain.store.reconcile import (
    TagRead,
    Window,
    dedup_reads,
    reconcile_trip,
    settle_shared,
)
from smilepay.domain.store.sgtin import encode_sgtin96

TEA = "80614141123458"
PEN = "04006381333931"


def epc(gtin: str, serial: int) -> str:
    return encode_sgtin96(gtin, 7, serial)


def reads(tag: str, at_ms: int, rssi: float = -50.0, n: int = 3) -> list[TagRead]:
    return [TagRead(tag, antenna=i % 4, rssi=rssi - i, at_ms=at_ms + 100 * i) for i in range(n)]


def pick(event_id: str, gtin: str, units: int, *trips: str, ok: bool = True) -> Pick:
    return Pick(event_id, "slot", gtin, units, ok, 0, tuple(sorted(trips)))


W = Window("A", 10_000, 13_000)


def test_repeated_reads_fold_into_one_pass_per_tag_whatever_the_order() -> None:
    raw = reads(epc(TEA, 1), 10_000, n=6) + reads(epc(TEA, 2), 10_500, rssi=-40)
    passes, invalid = dedup_reads(reversed(raw))
    assert invalid == 0
    assert [(p.epc, p.reads) for p in passes] == [(epc(TEA, 1), 6), (epc(TEA, 2), 3)]
    assert passes[1].peak_rssi == -40 and passes[1].peak_ms == 10_500
    assert passes[0].antennas == 4


def test_reads_far_apart_are_separate_passes_and_bad_epcs_counted() -> None:
    raw = reads(epc(TEA, 1), 0) + reads(epc(TEA, 1), 60_000) + [TagRead("ZZ", 0, -50, 1)]
    passes, invalid = dedup_reads(raw, gap_ms=2000)
    assert len(passes) == 2 and invalid == 1


def test_tags_matching_picks_are_charged_with_their_serials() -> None:
    passes, _ = dedup_reads(reads(epc(TEA, 1), 11_000) + reads(epc(PEN, 7), 11_200))
    basket = reconcile_trip(W, passes, [pick("e1", TEA, 1, "A"), pick("e2", PEN, 1, "A")])
    assert basket.quantities() == {TEA: 1, PEN: 1}
    assert set(basket.sold_epcs) == {epc(TEA, 1), epc(PEN, 7)}
    assert basket.review == ()


def test_a_tagless_pick_whose_weight_matched_is_charged() -> None:
    passes, _ = dedup_reads(reads(epc(TEA, 1), 11_000))
    basket = reconcile_trip(W, passes, [pick("e1", TEA, 2, "A")])
    assert basket.quantities() == {TEA: 2}
    assert basket.lines[0].evidence == "pick" and basket.lines[0].epcs == (epc(TEA, 1),)


def test_a_tag_without_any_pick_goes_to_review_not_to_the_bill() -> None:
    passes, _ = dedup_reads(reads(epc(TEA, 1), 11_000))
    basket = reconcile_trip(W, passes, [])
    assert basket.lines == ()
    assert [(r.reason, r.ref) for r in basket.review] == [("tag_without_pick", epc(TEA, 1))]


def test_a_weak_cross_read_is_left_to_the_neighbour_who_picked_it() -> None:
    neighbour = Window("B", 14_000, 17_000)
    raw = reads(epc(TEA, 1), 11_000) + reads(epc(PEN, 9), 11_500, rssi=-75)
    passes, _ = dedup_reads(raw)
    mine = reconcile_trip(W, passes, [pick("e1", TEA, 1, "A")], others=[neighbour])
    assert mine.quantities() == {TEA: 1}
    assert mine.cross_reads == (epc(PEN, 9),)
    # the neighbour's own pass missed the pen: its pick is charged, with the cross-read serial
    theirs = reconcile_trip(neighbour, passes, [pick("e2", PEN, 1, "B")], others=[W])
    assert theirs.quantities() == {PEN: 1} and theirs.lines[0].epcs == (epc(PEN, 9),)


def test_ambiguous_pick_is_resolved_by_the_tag_of_the_trip_that_carries_it() -> None:
    passes, _ = dedup_reads(reads(epc(TEA, 1), 11_000))
    shared = [pick("e1", TEA, 1, "A", "B")]
    mine = reconcile_trip(W, passes, shared)
    assert mine.quantities() == {TEA: 1} and mine.resolved_picks == ("e1",)
    other = reconcile_trip(Window("B", 20_000, 22_000), passes, shared,
                           taken_picks=frozenset(mine.resolved_picks))
    assert other.lines == ()


def test_ambiguous_pick_without_a_tag_is_charged_to_nobody() -> None:
    basket = reconcile_trip(W, [], [pick("e1", TEA, 1, "A", "B")])
    assert basket.lines == () and basket.resolved_picks == ()


def test_put_backs_net_out_and_ambiguous_put_back_leaves_doubt_to_review() -> None:
    sure = reconcile_trip(W, [], [pick("e1", TEA, 2, "A"), pick("e2", TEA, -1, "A")])
    assert sure.quantities() == {TEA: 1}
    doubtful = reconcile_trip(W, [], [pick("e1", TEA, 1, "A"), pick("e2", TEA, -1, "A", "B")])
    assert doubtful.lines == ()
    assert [r.reason for r in doubtful.review] == ["ambiguous_put_back"]
    passes, _ = dedup_reads(reads(epc(TEA, 1), 11_000))  # the tag proves it left with A
    proven = reconcile_trip(W, passes, [pick("e1", TEA, 1, "A"), pick("e2", TEA, -1, "A", "B")])
    assert proven.quantities() == {TEA: 1} and proven.review == ()


def test_weight_mismatch_and_sold_tags() -> None:
    passes, _ = dedup_reads(reads(epc(TEA, 1), 11_000) + reads(epc(TEA, 2), 11_000))
    basket = reconcile_trip(W, passes, [pick("e1", TEA, 1, "A"), pick("e9", PEN, 0, "A", ok=False)],
                            sold=frozenset({epc(TEA, 2)}))
    assert basket.quantities() == {TEA: 1} and basket.ignored_sold == 1
    assert [r.reason for r in basket.review] == ["weight_mismatch"]


def test_a_strong_read_inside_two_trips_windows_only_fills_a_pick() -> None:
    other = Window("B", 12_000, 15_000)
    passes, _ = dedup_reads(reads(epc(TEA, 1), 12_500))
    assert reconcile_trip(W, passes, [], others=[other]).lines == ()
    basket = reconcile_trip(W, passes, [pick("e1", TEA, 1, "A")], others=[other])
    assert basket.quantities() == {TEA: 1} and basket.lines[0].epcs == (epc(TEA, 1),)


def test_units_from_weight() -> None:
    assert units_from_weight(-330, 330) == 1
    assert units_from_weight(-665, 330) == 2
    assert units_from_weight(331, 330) == -1
    assert units_from_weight(-160, 330) is None
    assert units_from_weight(-3, 330) is None
    assert units_from_weight(0, 330) is None


def test_presence_places_events_by_time_and_attributes_picks() -> None:
    events = [
        PresenceEvent("B", "z1", PresenceAction.ENTER, 5_000),
        PresenceEvent("A", "z1", PresenceAction.LEAVE, 4_000),
        PresenceEvent("A", "z1", PresenceAction.ENTER, 1_000),  # arrives last, placed first
    ]
    intervals = presence_intervals(events)
    assert sorted(intervals, key=lambda i: i.trip_id) == [
        Interval("A", "z1", 1_000, 4_000), Interval("B", "z1", 5_000, FOREVER_MS)]
    shelf = [ShelfEvent("s1", "slot1", "z1", TEA, 330, -330, 2_000),
             ShelfEvent("s2", "slot1", "z1", TEA, 330, -330, 6_000),
             ShelfEvent("s3", "slot1", "z1", TEA, 330, -330, 4_200),
             ShelfEvent("s4", "slot2", "z2", TEA, 330, -330, 2_000)]
    got = {p.event_id: p.candidates for p in attribute_picks(shelf, intervals, slack_ms=500)}
    assert got == {"s1": ("A",), "s2": ("B",), "s3": ("A",), "s4": ()}


@settings(max_examples=60, deadline=None)
@given(
    carried=st.lists(st.sampled_from([TEA, PEN]), max_size=8),
    missed=st.lists(st.booleans(), min_size=8, max_size=8),
    foreign=st.lists(st.sampled_from([TEA, PEN]), max_size=4),
)
def test_never_charges_more_than_was_picked(carried: list[str], missed: list[bool],
                                            foreign: list[str]) -> None:
    """Whatever is missed or cross-read, each GTIN's charge is at most what the trip picked,
    and with every pick attributed it is exactly that."""
    raw: list[TagRead] = []
    picks = []
    for i, gtin in enumerate(carried):
        picks.append(pick(f"e{i}", gtin, 1, "A"))
        if not missed[i]:
            raw += reads(epc(gtin, i), 11_000 + 10 * i)
    for j, gtin in enumerate(foreign):
        raw += reads(epc(gtin, 100 + j), 11_000, rssi=-80)
    passes, _ = dedup_reads(raw)
    basket = reconcile_trip(W, passes, picks)
    want = {g: carried.count(g) for g in set(carried)}
    assert basket.quantities() == want


def test_an_ambiguous_pick_larger_than_the_unexplained_tags_is_not_taken() -> None:
    """Two tags, two shared picks of 1 and 2 units: the 2-unit pick explains them; taking the
    1-unit one first would have charged 3."""
    passes, _ = dedup_reads(reads(epc(TEA, 1), 11_000) + reads(epc(TEA, 2), 11_100))
    picks = [pick("small", TEA, 1, "A", "B"), pick("large", TEA, 2, "A", "B")]
    basket = reconcile_trip(W, passes, picks)
    assert basket.quantities() == {TEA: 2} and basket.resolved_picks == ("large",)


def test_a_shared_pick_whose_other_candidate_left_is_resolved_first() -> None:
    passes, _ = dedup_reads(reads(epc(TEA, 1), 11_000))
    picks = [pick("with_b", TEA, 1, "A", "B"), pick("with_c", TEA, 1, "A", "C")]
    basket = reconcile_trip(W, passes, picks, exited=frozenset({"C"}))
    assert basket.resolved_picks == ("with_c",)


def test_one_tag_read_in_two_bursts_is_one_item() -> None:
    raw = reads(epc(TEA, 1), 10_100, n=3) + reads(epc(TEA, 1), 12_800, n=3)
    passes, _ = dedup_reads(raw, gap_ms=2000)
    assert len(passes) == 2
    basket = reconcile_trip(W, passes, [pick("a", TEA, 1, "A", "B"), pick("b", TEA, 1, "A", "C")])
    assert basket.quantities() == {TEA: 1}


def test_a_put_back_whose_weight_matched_nothing_leaves_only_tags_charged() -> None:
    passes, _ = dedup_reads(reads(epc(TEA, 1), 11_000))
    back = Pick("odd", "slot", TEA, 0, False, 5, ("A",), delta_g=290)
    basket = reconcile_trip(W, passes, [pick("e1", TEA, 2, "A"), back])
    assert basket.quantities() == {TEA: 1}
    assert sorted(r.reason for r in basket.review) == ["ambiguous_put_back", "weight_mismatch"]


def test_a_tag_read_once_does_not_settle_a_shared_pick() -> None:
    """A neighbour's item read across the tunnel looks like this: strong, but one read."""
    passes, _ = dedup_reads(reads(epc(TEA, 1), 11_000, n=1))
    basket = reconcile_trip(W, passes, [pick("shared", TEA, 1, "A", "B")])
    assert basket.lines == () and basket.resolved_picks == ()
    assert [r.reason for r in basket.review] == ["tag_without_pick"]


def test_a_neighbours_item_read_stronger_on_its_own_pass_is_not_mine() -> None:
    raw = reads(epc(TEA, 1), 11_000, rssi=-60) + reads(epc(TEA, 1), 14_500, rssi=-40)
    passes, _ = dedup_reads(raw, gap_ms=1000)
    basket = reconcile_trip(W, passes, [pick("shared", TEA, 1, "A", "B")],
                            others=[Window("B", 14_000, 17_000)])
    assert basket.lines == ()


def test_a_take_of_unknown_units_is_charged_as_its_tags_prove() -> None:
    passes, _ = dedup_reads(reads(epc(PEN, 1), 11_000, n=1) + reads(epc(PEN, 2), 11_100, n=1))
    odd = Pick("odd", "slot", PEN, 0, False, 5, ("A",), delta_g=-18)
    basket = reconcile_trip(W, passes, [odd])
    assert basket.quantities() == {PEN: 2} and basket.lines[0].evidence == "tag+weight"
    alone = reconcile_trip(W, [], [odd])
    assert alone.lines == () and [r.reason for r in alone.review] == ["weight_mismatch"]


def test_the_one_shared_take_left_goes_to_the_trip_whose_sure_tag_explains_it() -> None:
    passes, _ = dedup_reads(reads(epc(TEA, 1), 11_000, n=4))
    two = reconcile_trip(W, passes, [pick("both", TEA, 2, "A", "B")])
    assert two.quantities() == {TEA: 2} and two.resolved_picks == ("both",)
    odd = Pick("odd", "slot", TEA, 0, False, 5, ("A", "B"), delta_g=-500)
    unknown = reconcile_trip(W, passes, [odd])
    assert unknown.quantities() == {TEA: 1}
    several = reconcile_trip(W, passes, [pick("x", TEA, 2, "A", "B"), pick("y", TEA, 3, "A", "C")])
    assert several.lines == ()


def test_two_sure_tags_take_the_two_unit_pick_not_the_one_unit_one() -> None:
    passes, _ = dedup_reads(reads(epc(TEA, 1), 11_000, n=4) + reads(epc(TEA, 2), 11_200, n=4))
    picks = [pick("one", TEA, 1, "A", "C"), pick("two", TEA, 2, "A", "B", "C")]
    basket = reconcile_trip(W, passes, picks, exited=frozenset({"C"}))
    assert basket.quantities() == {TEA: 2} and basket.resolved_picks == ("two",)


def test_a_tag_read_once_settles_a_shared_pick_nobody_else_can_claim_any_more() -> None:
    passes, _ = dedup_reads(reads(epc(TEA, 1), 11_000, n=1))
    shared = [pick("shared", TEA, 1, "A", "B")]
    assert reconcile_trip(W, passes, shared).lines == ()
    basket = reconcile_trip(W, passes, shared, exited=frozenset({"B"}))
    assert basket.quantities() == {TEA: 1} and basket.resolved_picks == ("shared",)


def test_the_scales_noise_is_told_by_heavy_items_only() -> None:
    heavy = [(-500 + d, 500) for d in (3, -3, 2, -2, 4, -4, 1, -1, 3, -3, 2, -2)]
    assert 2.5 < scale_noise_g(heavy) < 4.0  # median left-over 2.5 g x 1.4826
    # a 12 g item's left-over folds onto another count: it says nothing of the noise
    assert scale_noise_g(heavy[:4] + [(-31, 12)] * 20) == DEFAULT_NOISE_G
    assert scale_noise_g([(-500, 500)] * 20) == 1.0  # never under a gram


def test_a_count_the_scales_noise_cannot_tell_apart_is_left_to_the_tags() -> None:
    """34 g off a shelf of 12 g items: 3 units 2 g off, or 2 units 10 g off. Under 3 g of
    noise 2 units is not 10,000 times less likely: no count. Under 1 g it is: 3 units."""
    assert units_from_weight(-34, 12) == 3  # without the noise: the old tolerance only
    assert units_from_weight(-34, 12, noise_g=3.0) is None
    assert units_from_weight(-12, 12, noise_g=3.0) is None  # 12 g is 4 noises: too light
    assert units_from_weight(-34, 12, noise_g=1.0) == 3
    assert units_from_weight(-506, 500, noise_g=3.0) == 1
    assert units_from_weight(-31, 25, noise_g=2.0) == 1  # 6 g off: 3 noises, no other count
    assert units_from_weight(-31, 25) is None
    shelf = [ShelfEvent("s", "slot", "z", TEA, 12, -34, 1_000)]
    alone = [Interval("A", "z", 0, 5_000)]
    assert attribute_picks(shelf, alone, noise_g=3.0)[0].weight_ok is False
    assert attribute_picks(shelf, alone, noise_g=1.0)[0].units == 3


def test_sure_tags_settle_a_shared_take_of_unknown_units_beside_a_whole_one() -> None:
    """Three sure tags; the trip shared a 1-unit take and one the weight could not count
    with another trip: both are its (its tags prove three left with it)."""
    raw = [r for k in (1, 2, 3) for r in reads(epc(TEA, k), 11_000 + 100 * k, n=4)]
    passes, _ = dedup_reads(raw)
    whole = pick("whole", TEA, 1, "A", "B")
    odd = Pick("odd", "slot", TEA, 0, False, 5, ("A", "B"), delta_g=-31)
    basket = reconcile_trip(W, passes, [whole, odd])
    assert basket.quantities() == {TEA: 3} and set(basket.resolved_picks) == {"whole", "odd"}
    assert basket.review == ()


def test_a_shared_take_of_unknown_units_with_no_sure_tag_goes_to_review_uncharged() -> None:
    """Ambiguous: the other trip is still in the store and this trip's tag was read once (a
    cross-read looks so), or not at all: nobody is charged, the tag waits for staff."""
    odd = Pick("odd", "slot", TEA, 0, False, 5, ("A", "B"), delta_g=-31)
    other = pick("other", TEA, 1, "A", "C")
    once, _ = dedup_reads(reads(epc(TEA, 1), 11_000, n=1))
    basket = reconcile_trip(W, once, [odd, other])
    assert basket.lines == () and basket.resolved_picks == ()
    assert [r.reason for r in basket.review] == ["tag_without_pick"]
    untagged = reconcile_trip(W, [], [odd, other])
    assert untagged.lines == () and untagged.resolved_picks == () and untagged.review == ()
    # once every other candidate has left, its own tag settles it
    left = reconcile_trip(W, once, [odd, other], exited=frozenset({"B", "C"}))
    assert left.quantities() == {TEA: 1}


def test_tags_settle_the_takes_nobody_else_can_claim_before_an_exact_contested_one() -> None:
    """Two sure tags. Three 1-unit takes shared with B, who left without claiming them, and a
    2-unit take shared with C, still in the store. The 2-unit take would explain both tags,
    but then B's three takes would have to be B's with three tags missed: the tags settle
    two of B's, and C's take is left for C."""
    passes, _ = dedup_reads(reads(epc(TEA, 1), 11_000, n=4) + reads(epc(TEA, 2), 11_200, n=4))
    picks = [pick(f"b{k}", TEA, 1, "A", "B") for k in range(3)] + [pick("c", TEA, 2, "A", "C")]
    basket = reconcile_trip(W, passes, picks, exited=frozenset({"B"}))
    assert basket.quantities() == {TEA: 2}
    assert "c" not in basket.resolved_picks and len(basket.resolved_picks) == 2


def test_settle_shared_explains_most_tags_within_what_is_sure() -> None:
    picks = [pick("one", TEA, 1, "A", "B"), pick("two", TEA, 2, "A", "B"),
             pick("three", TEA, 3, "A", "B")]
    assert [p.event_id for p in settle_shared("A", picks, 3, 3)] == ["three"]
    assert [p.event_id for p in settle_shared("A", picks, 3, 2)] == ["two"]
    assert settle_shared("A", picks, 3, 0) == []  # no sure tag: a contested take stays open
    # once B has left, any own tag settles them; the most tags explained still wins
    assert {p.event_id for p in settle_shared("A", picks, 3, 0, frozenset({"B"}))} == {"three"}


def test_a_pass_strong_only_in_one_read_does_not_settle_a_contested_shared_take() -> None:
    """The hard scenario's cross-read: a waiting shopper's item read 3 times by 2 antennas,
    once at -64.5 dBm and twice at -71. Its typical read is weak: not a sure tag. It does not
    settle a take the other shopper may still claim (review instead, never charged); it
    still explains a take of the trip's own, and one nobody else can claim any more."""
    tag = epc(TEA, 1)
    raw = [TagRead(tag, 3, -71.2, 11_000), TagRead(tag, 0, -64.5, 11_400),
           TagRead(tag, 0, -71.7, 11_800)]
    passes, _ = dedup_reads(raw)
    assert passes[0].peak_rssi == -64.5 and passes[0].median_rssi == -71.2
    shared = [pick("shared", TEA, 1, "A", "B")]
    basket = reconcile_trip(W, passes, shared)
    assert basket.lines == () and basket.resolved_picks == ()
    assert [r.reason for r in basket.review] == ["tag_without_pick"]
    assert reconcile_trip(W, passes, [pick("own", TEA, 1, "A")]).quantities() == {TEA: 1}
    gone = reconcile_trip(W, passes, shared, exited=frozenset({"B"}))
    assert gone.quantities() == {TEA: 1}
