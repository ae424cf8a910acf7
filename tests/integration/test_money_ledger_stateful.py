"""Hypothesis stateful test over the real SQL ledger on both engines: any sequence of top-ups,
payments, holds, captures, voids, refunds, reversals and payouts keeps every currency summing
to zero, no balance below its floor, and balances equal to a replay of the transfers."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from smilepay.adapters.sql.store import SqlMoneyStore
from smilepay.domain.ledger import (
    AccountKind,
    available_minor,
    replay_balances,
    sum_by_currency,
)
from smilepay.domain.money_errors import InsufficientFunds, TransferAlreadyReversed
from smilepay.domain.payments import CaptureMethod, PaymentStatus
from smilepay.domain.risk import CustomerLimits
from smilepay.ports.money import MoneyTx
from smilepay.services import customers, ledger, payments, refunds
from smilepay.services.context import FixedClock, MoneyContext
from smilepay.services.phones import DEV_ONLY_MASTER_KEY, PhoneCipher
from smilepay.services.seed import seed_customers, seed_merchant

pytestmark = pytest.mark.integration

amounts = st.integers(min_value=1, max_value=5_000)
BIG = CustomerLimits(per_payment_minor=10**9, per_day_minor=10**12)


def ledger_machine(store: SqlMoneyStore) -> type[RuleBasedStateMachine]:
    class Ledger(RuleBasedStateMachine):
        held = Bundle("held")
        paid = Bundle("paid")
        topups = Bundle("topups")

        @initialize()
        def open_books(self) -> None:
            self.ctx = MoneyContext(clock=FixedClock(), phones=PhoneCipher(DEV_ONLY_MASTER_KEY))
            self.scope = seed_merchant(store, self.ctx, "Stateful").scope
            self.customers = seed_customers(store, self.ctx, self.scope, 2, topup_minor=0,
                                            limits=BIG)
            self.declines = 0

        def run(self, work):  # type: ignore[no-untyped-def]
            return store.run(work)

        @rule(target=topups, who=st.integers(0, 1), amount=amounts,
              currency=st.sampled_from(["EUR", "USD"]))
        def top_up(self, who: int, amount: int, currency: str) -> str:
            return self.run(lambda tx: customers.top_up(
                tx, self.ctx, self.scope, self.customers[who], amount, currency).id)

        def _pay(self, who: int, amount: int, currency: str, method: CaptureMethod) -> str:
            def work(tx: MoneyTx) -> tuple[str, PaymentStatus]:
                intent = payments.create_payment(
                    tx, self.ctx, self.scope, amount_minor=amount, currency=currency,
                    capture_method=method, customer_id=self.customers[who])
                done = payments.confirm_payment(tx, self.ctx, self.scope, intent.id)
                return done.id, done.status

            pid, status = self.run(work)
            self.declines += status is PaymentStatus.FAILED
            return pid if status is not PaymentStatus.FAILED else ""

        @rule(target=paid, who=st.integers(0, 1), amount=amounts,
              currency=st.sampled_from(["EUR", "USD"]))
        def pay(self, who: int, amount: int, currency: str) -> str:
            return self._pay(who, amount, currency, CaptureMethod.AUTOMATIC)

        @rule(target=held, who=st.integers(0, 1), amount=amounts)
        def hold(self, who: int, amount: int) -> str:
            return self._pay(who, amount, "EUR", CaptureMethod.MANUAL)

        @rule(target=paid, pid=consumes(held), share=st.floats(0.01, 1.0))
        def capture(self, pid: str, share: float) -> str:
            if not pid:
                return ""

            def work(tx: MoneyTx) -> str:
                intent = payments.get_payment(tx, self.scope, pid)
                amount = max(1, int(intent.amount_minor * share))
                return payments.capture_payment(tx, self.ctx, self.scope, pid, amount).id

            return self.run(work)

        @rule(pid=consumes(held))
        def void(self, pid: str) -> None:
            if pid:
                self.run(lambda tx: payments.cancel_payment(tx, self.ctx, self.scope, pid))

        @rule(pid=paid, share=st.floats(0.01, 1.0))
        def refund(self, pid: str, share: float) -> None:
            if not pid:
                return

            def work(tx: MoneyTx) -> None:
                intent = payments.get_payment(tx, self.scope, pid)
                left = intent.amount_captured_minor - intent.amount_refunded_minor
                if left > 0:
                    refunds.create_refund(tx, self.ctx, self.scope, pid,
                                          max(1, int(left * share)))

            with contextlib.suppress(InsufficientFunds):  # the merchant paid it out already
                self.run(work)

        @rule(tid=consumes(topups))
        def reverse(self, tid: str) -> None:
            try:
                self.run(lambda tx: ledger.reverse_transfer(
                    tx, self.scope, tid, self.ctx.clock.now_ms()))
            except InsufficientFunds:
                pass  # the customer spent it: the reversal is refused, not forced
            except TransferAlreadyReversed:
                raise AssertionError("a consumed top-up was reversed twice") from None

        @rule(amount=amounts)
        def payout(self, amount: int) -> None:
            with contextlib.suppress(InsufficientFunds):
                self.run(lambda tx: refunds.create_payout(tx, self.ctx, self.scope, amount,
                                                          "EUR"))

        @invariant()
        def books_balance(self) -> None:
            if not hasattr(self, "scope"):
                return
            accounts = store.run(lambda tx: tx.all_accounts(self.scope), write=False)
            transfers = store.run(lambda tx: tx.all_transfers(self.scope), write=False)
            assert all(v == 0 for v in sum_by_currency(accounts).values())
            for account in accounts:
                assert account.pending_out_minor >= 0
                if account.kind is not AccountKind.FUNDING:
                    assert available_minor(account) >= 0, account
            replayed = replay_balances(transfers)
            assert {a.id: a.balance_minor for a in accounts} == {
                a.id: replayed.get(a.id, 0) for a in accounts
            }

    return Ledger


def test_any_sequence_keeps_the_ledger_sound(money_url: str, store: SqlMoneyStore) -> None:
    engine = "sqlite" if money_url.startswith("sqlite") else "postgres"
    run_state_machine_as_test(
        ledger_machine(store),
        settings=settings(
            max_examples=60 if engine == "sqlite" else 20, stateful_step_count=25,
            deadline=None, suppress_health_check=list(HealthCheck), database=None,
        ),
    )
