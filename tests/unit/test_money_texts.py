"""Money as people read it: amounts in the currency's own unit, declines in plain words."""

from __future__ import annotations

import pytest

from smilepay.domain.declines import decline_text
from smilepay.domain.money import format_money
from smilepay.domain.money_errors import CustomerLockedOut, InsufficientFunds, PaymentLimitExceeded


@pytest.mark.parametrize(("minor", "currency", "text"), [
    (450, "EUR", "4.50 EUR"), (5, "usd", "0.05 USD"), (500, "JPY", "500 JPY"),
    (1_234_567, "KRW", "1,234,567 KRW"), (1250, "KWD", "1.250 KWD"), (-450, "EUR", "-4.50 EUR"),
    (0, "EUR", "0.00 EUR"),
])
def test_amounts_are_written_in_the_currencys_own_unit(minor: int, currency: str,
                                                       text: str) -> None:
    assert format_money(minor, currency) == text


def test_an_empty_wallet_in_the_payment_currency_says_what_to_do() -> None:
    declined = InsufficientFunds("expected at least 500 available on acct_x, got 0",
                                 account_id="acct_x", available_minor=0, requested_minor=500)
    text = decline_text(declined, 500, "JPY")
    assert text == "The wallet has no JPY balance: top it up in JPY or pay another way."


def test_a_short_wallet_says_how_much_is_there_and_needed() -> None:
    declined = InsufficientFunds("...", account_id="acct_x", available_minor=1200,
                                 requested_minor=4500)
    assert decline_text(declined, 4500, "EUR") == (
        "Not enough money in the wallet: 12.00 EUR available, 45.00 EUR needed. Top it up or "
        "pay another way.")


def test_limits_and_lockout_in_plain_words() -> None:
    per_payment = PaymentLimitExceeded("...", limit_minor=30_000)
    assert decline_text(per_payment, 45_000, "EUR") == (
        "450.00 EUR is above this customer's limit of 300.00 EUR per payment.")
    daily = PaymentLimitExceeded("...", daily=True, limit_minor=200_000)
    assert "daily limit of 2,000.00 EUR" in decline_text(daily, 500, "EUR")
    assert "paused" in decline_text(CustomerLockedOut("...", locked_until_ms=1), 500, "EUR")


@pytest.mark.parametrize("declined", [
    InsufficientFunds("on acct_1", account_id="acct_1", available_minor=3, requested_minor=9),
    PaymentLimitExceeded("expected at most 9 minor units", limit_minor=9),
])
def test_no_decline_names_an_account_or_minor_units(declined: InsufficientFunds) -> None:
    text = decline_text(declined, 9, "EUR")
    assert "acct_" not in text and "minor" not in text
