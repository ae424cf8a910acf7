"""Boarding fares, the rule: a fare needs a currency we accept, a free departure charges
nothing, one idempotency key per ticket, and a wallet that cannot pay is told in plain words
what to do instead (no balance or limit on a screen others may see)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from smilepay.domain.boarding import (
    BoardMethod,
    Departure,
    Fare,
    GateAttempt,
    Ticket,
    consent_covers_fares,
    consume,
    fare_description,
    fare_due,
    fare_key,
    fare_refusal,
    gate_rates,
)
from smilepay.domain.purposes import Purpose, purpose_text
from smilepay.errors import InvalidInput

NOW = datetime(2026, 12, 6, 10, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)


def taxi(fare_minor: int = 1250, currency: str | None = "EUR") -> Departure:
    return Departure("dep_taxi", "taxi", NOW, LATER, fare_minor, currency)


def test_a_fare_needs_a_currency_we_accept() -> None:
    with pytest.raises(InvalidInput) as missing:
        taxi(1250, None)
    assert missing.value.details["param"] == "fare_currency"
    with pytest.raises(InvalidInput) as unknown:
        taxi(1250, "XXX")
    assert unknown.value.details["param"] == "fare_currency"
    with pytest.raises(InvalidInput) as negative:
        taxi(-1, "EUR")
    assert negative.value.details["param"] == "fare_minor"
    with pytest.raises(InvalidInput):
        taxi(10**12 + 1, "EUR")
    assert taxi(1250, "eur").fare_currency == "EUR"  # normalised to the ISO code


def test_the_fare_due_and_a_free_departure() -> None:
    assert fare_due(taxi(1250, "EUR")) == Fare(1250, "EUR")
    assert fare_due(taxi(1250, "EUR")).text == "12.50 EUR"  # type: ignore[union-attr]
    assert fare_due(taxi(500, "JPY")).text == "500 JPY"  # type: ignore[union-attr]
    assert fare_due(taxi(0, None)) is None
    assert fare_due(taxi(0, "EUR")) is None  # a currency alone charges nothing


def test_one_key_per_ticket_and_the_authorisation_on_the_payment() -> None:
    assert fare_key("tkt_1") == fare_key("tkt_1") != fare_key("tkt_2")
    text = fare_description(taxi(), "tkt_1", "pcon_9")
    assert "tkt_1" in text and "pcon_9" in text and text.startswith("Taxi fare")
    assert len(fare_key("tkt_" + "x" * 36)) <= 255  # within the money core's key limit


def test_consuming_records_the_fare_payment() -> None:
    used = consume(Ticket("tkt_1", "dep_taxi", "cus_a"), NOW, BoardMethod.QR, "pi_1")
    assert used.fare_payment_id == "pi_1" and used.method is BoardMethod.QR
    assert consume(Ticket("tkt_2", "dep_taxi", "cus_a"), NOW, BoardMethod.FACE) \
        .fare_payment_id is None


@pytest.mark.parametrize(("reason", "says"), [
    ("insufficient_funds", "Your wallet can't pay the 12.50 EUR fare: top it up"),
    ("amount_limit_exceeded", "above your wallet's spending limit"),
    ("daily_limit_exceeded", "above your wallet's spending limit"),
    ("customer_locked_out", "paused for a while"),
    ("no_boarding_consent", "agree to face boarding"),
    ("consent_without_fares", "accept the new boarding terms"),
    ("something_new", "Your wallet can't pay the 12.50 EUR fare"),
])
def test_a_refusal_says_what_to_do_and_offers_another_way(reason: str, says: str) -> None:
    text = fare_refusal(taxi(), reason)
    assert says in text and text.endswith("pay the driver.")
    assert "_" not in text  # no codes on the gate


def test_elsewhere_the_other_way_is_the_staff() -> None:
    train = Departure("dep_train", "train", NOW, LATER, 450, "GBP")
    assert fare_refusal(train, "insufficient_funds") == (
        "Your wallet can't pay the 4.50 GBP fare: top it up in the SmilePay app and try "
        "again, or pay at the desk or ask the staff.")


def test_only_a_consent_text_that_names_fares_authorises_one() -> None:
    text = purpose_text(Purpose.BOARDING)
    assert "fare" in text.purpose and "wallet" in text.purpose
    assert consent_covers_fares(text.version)
    assert not consent_covers_fares("2026-12-boarding-v1")  # said nothing of fares


def test_staff_boardings_are_counted_apart() -> None:
    rates = gate_rates([GateAttempt(True, True, None),  # matched, the wallet could not pay
                        GateAttempt(False, False, BoardMethod.STAFF),
                        GateAttempt(True, True, BoardMethod.FACE)])
    assert (rates.travellers, rates.boarded_by_staff, rates.boarded_by_face) == (3, 1, 1)
    assert rates.boarded_by_qr == 0 and rates.match_rate == 1.0
