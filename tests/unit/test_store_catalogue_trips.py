"""The catalogue CSV import and the trip state machine."""

from __future__ import annotations

import pytest

from smilepay.domain.store.catalogue import Product, catalogue_csv, parse_catalogue_csv
from smilepay.domain.store.errors import InvalidCatalogue, InvalidTripState
from smilepay.domain.store.trips import (
    TRANSITIONS,
    EntryMethod,
    Trip,
    TripStatus,
    admit_guests,
    move_trip,
    split_charge,
)
from smilepay.errors import InvalidInput

GOOD = "gtin,name,price_minor,unit_weight_g\n80614141123458,Tea,250,330\n4006381333931,Pen,120,12\n"


def test_catalogue_csv_is_parsed_with_gtin14_and_integers() -> None:
    products = parse_catalogue_csv(GOOD.encode())
    assert products == [Product("80614141123458", "Tea", 250, 330),
                        Product("04006381333931", "Pen", 120, 12)]
    assert parse_catalogue_csv(catalogue_csv(products)) == products


@pytest.mark.parametrize(("text", "says"), [
    ("gtin,name,price\n1,a,2\n", "expected the header"),
    (GOOD + "80614141123459,Bad check,1,1\n", "line 4: expected a GTIN with check digit 8"),
    (GOOD + "80614141123458,Again,1,1\n", "line 4: expected each GTIN once"),
    (GOOD + "4006381333931X,Pen,1,1\n", "line 4: expected a GTIN of 8, 12, 13 or 14 digits"),
    (GOOD + "96385074,Gum,-1,5\n", "line 4: expected price_minor as a whole number"),
    (GOOD + "96385074,Gum,10,0\n", "line 4: expected unit_weight_g in 1..50000"),
    (GOOD + "96385074,,10,5\n", "line 4: expected a printable name"),
    (GOOD + "96385074,Gum,10\n", "line 4: expected 4 fields, got 3"),
    ("gtin,name,price_minor,unit_weight_g\n", "at least one product"),
])
def test_bad_catalogues_are_refused_naming_the_line(text: str, says: str) -> None:
    with pytest.raises(InvalidCatalogue, match=says):
        parse_catalogue_csv(text)


def test_non_utf8_catalogue_is_refused() -> None:
    with pytest.raises(InvalidCatalogue, match="UTF-8"):
        parse_catalogue_csv(b"gtin,name\xff")


def _trip(status: TripStatus = TripStatus.AUTHORISED, people: int = 1) -> Trip:
    return Trip("trip_1", "ten_1", False, "st_1", "cus_1", status, EntryMethod.QR, people,
                "pi_1", None, 1000, 0, 0, 0, None, None, 1, 1)


def test_a_trip_goes_in_out_and_is_charged() -> None:
    trip = move_trip(_trip(), TripStatus.IN_STORE, 10)
    assert trip.entered_at_ms == 10
    trip = move_trip(trip, TripStatus.EXITING, 20)
    assert trip.exited_at_ms == 20
    assert move_trip(trip, TripStatus.CHARGED, 30).status is TripStatus.CHARGED


def test_debt_can_be_paid_later_and_review_resolved() -> None:
    debt = _trip(TripStatus.DEBT)
    assert move_trip(debt, TripStatus.CHARGED, 1).status is TripStatus.CHARGED
    assert move_trip(_trip(TripStatus.REVIEW), TripStatus.CHARGED, 1).status \
        is TripStatus.CHARGED


@pytest.mark.parametrize("start", list(TripStatus))
def test_every_forbidden_move_is_refused(start: TripStatus) -> None:
    for to in TripStatus:
        if to in TRANSITIONS[start]:
            assert move_trip(_trip(start), to, 5).status is to
        else:
            with pytest.raises(InvalidTripState, match=f"can become {to.value}"):
                move_trip(_trip(start), to, 5)


def test_closed_trips_never_move_again() -> None:
    assert TRANSITIONS[TripStatus.CHARGED] == frozenset()
    assert TRANSITIONS[TripStatus.CANCELED] == frozenset()


def test_host_admits_guests_until_exit() -> None:
    trip = admit_guests(_trip(), 2, 5)
    assert trip.people == 3
    trip = admit_guests(move_trip(trip, TripStatus.IN_STORE, 6), 1, 7)
    assert trip.people == 4
    with pytest.raises(InvalidTripState):
        admit_guests(_trip(TripStatus.EXITING), 1, 8)
    with pytest.raises(InvalidInput, match="guests"):
        admit_guests(_trip(), 0, 8)
    with pytest.raises(InvalidInput, match="guests"):
        admit_guests(_trip(), 11, 8)


def test_charge_splits_into_hold_capture_and_incremental_authorisation() -> None:
    assert (split_charge(800, 1000).from_hold_minor, split_charge(800, 1000).incremental_minor) \
        == (800, 0)
    above = split_charge(1750, 1000)
    assert (above.from_hold_minor, above.incremental_minor) == (1000, 750)
    with pytest.raises(InvalidInput):
        split_charge(-1, 10)
