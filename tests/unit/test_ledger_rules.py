"""The ledger's pure rules: transfers conserve money, holds reserve it, floors hold."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smilepay.domain.ledger import (
    Account,
    AccountKind,
    Hold,
    HoldStatus,
    apply_transfer,
    available_minor,
    check_capture_minor,
    check_covered_transfer,
    obeys_balance_rule,
    release_hold,
    reserve_hold,
    sum_by_currency,
)
from smilepay.domain.money_errors import (
    CurrencyMismatch,
    HoldNotPending,
    InsufficientFunds,
    InvalidAmount,
)


def account(id_: str, balance: int = 0, *, negative: bool = False, currency: str = "EUR",
            pending: int = 0) -> Account:
    return Account(id=id_, tenant_id="ten_1", livemode=False, kind=AccountKind.CUSTOMER_WALLET,
                   owner_id="", currency=currency, allow_negative=negative,
                   balance_minor=balance, pending_out_minor=pending, created_at_ms=0)


def hold(amount: int, status: HoldStatus = HoldStatus.PENDING) -> Hold:
    return Hold(id="hold_1", tenant_id="ten_1", livemode=False, debit_account_id="a",
                credit_account_id="b", amount_minor=amount, currency="EUR", status=status,
                captured_minor=0, expires_at_ms=10, payment_intent_id=None, created_at_ms=0,
                resolved_at_ms=None)


def test_a_transfer_moves_money_from_debit_to_credit() -> None:
    debit, credit = apply_transfer(account("a", 100), account("b", 5), 60, "EUR")
    assert (debit.balance_minor, credit.balance_minor) == (40, 65)


def test_no_account_goes_below_its_floor_unless_allowed() -> None:
    with pytest.raises(InsufficientFunds) as raised:
        apply_transfer(account("a", 59), account("b"), 60, "EUR")
    assert raised.value.details["available_minor"] == 59
    funding, _ = apply_transfer(account("f", negative=True), account("b"), 60, "EUR")
    assert funding.balance_minor == -60 and obeys_balance_rule(funding)


def test_currencies_amounts_and_accounts_are_checked() -> None:
    with pytest.raises(CurrencyMismatch):
        apply_transfer(account("a", 100), account("b", currency="USD"), 1, "EUR")
    with pytest.raises(InvalidAmount):
        apply_transfer(account("a", 100), account("b"), 0, "EUR")
    with pytest.raises(InvalidAmount):
        apply_transfer(account("a", 100), account("a"), 1, "EUR")


def test_a_hold_reserves_money_until_released() -> None:
    debit = reserve_hold(account("a", 100), account("b"), 70, "EUR")
    assert available_minor(debit) == 30
    with pytest.raises(InsufficientFunds):
        reserve_hold(debit, account("b"), 31, "EUR")
    assert available_minor(release_hold(hold(70), debit)) == 100
    with pytest.raises(HoldNotPending):
        release_hold(hold(70, HoldStatus.VOIDED), debit)
    with pytest.raises(InvalidAmount):
        check_capture_minor(hold(70), 71)


@given(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 2), st.integers(1, 500)),
                max_size=60))
def test_any_sequence_of_transfers_sums_to_zero(moves: list[tuple[int, int, int]]) -> None:
    books = [account("f", negative=True), account("w1"), account("w2")]
    for src, dst, amount in moves:
        if src == dst:
            continue
        with contextlib.suppress(InsufficientFunds):
            books[src], books[dst] = apply_transfer(books[src], books[dst], amount, "EUR")
        assert all(obeys_balance_rule(a) for a in books)
    assert sum_by_currency(books) == {"EUR": 0}


def test_a_fee_out_of_a_pending_credit_needs_the_credit_not_the_balance() -> None:
    merchant, fees = account("m", balance=0), account("f")
    check_covered_transfer(merchant, fees, 29, "EUR", covering_minor=1000)  # empty balance: ok
    with pytest.raises(InsufficientFunds):
        check_covered_transfer(merchant, fees, 29, "EUR", covering_minor=28)
    with pytest.raises(CurrencyMismatch):
        check_covered_transfer(merchant, account("f", currency="USD"), 29, "EUR", 1000)
    with pytest.raises(InvalidAmount):
        check_covered_transfer(merchant, merchant, 29, "EUR", 1000)
