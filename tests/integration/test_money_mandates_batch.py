"""The mandate rule inside the money core, both engines: a merchant debit outside the face flow
is checked from the payer's standing (read with the wallet lock, or by the batch's read-ahead),
so one group-commit batch pays the mandated payer and refuses only the other."""

from __future__ import annotations

import pytest

from money_support import queued_in_one_batch
from smilepay.adapters.sql.flow_store import SqlFlowStore
from smilepay.adapters.sql.store import SqlMoneyStore
from smilepay.domain.mandates import MandateRequired
from smilepay.domain.payments import PaymentIntent, PaymentStatus
from smilepay.domain.tenants import Scope
from smilepay.ports.money import Hint, MoneyTx
from smilepay.services import payments
from smilepay.services.context import FixedClock, MoneyContext
from smilepay.services.phones import DEV_ONLY_MASTER_KEY, PhoneCipher
from smilepay.services.seed import seed_customers, seed_merchant

pytestmark = pytest.mark.integration


@pytest.fixture
def ctx() -> MoneyContext:
    return MoneyContext(clock=FixedClock(), phones=PhoneCipher(DEV_ONLY_MASTER_KEY))


def debit(store: SqlMoneyStore, ctx: MoneyContext, scope: Scope, customer: str
          ) -> PaymentIntent:
    def work(tx: MoneyTx) -> PaymentIntent:
        created = payments.create_payment(tx, ctx, scope, amount_minor=250, currency="EUR",
                                          customer_id=customer, insert=False)
        return payments.confirm_payment(tx, ctx, scope, created.id, created=created,
                                        require_mandate=True)

    hint = Hint(scope, payer=payments.payer_hint(ctx, customer, "EUR"))
    return store.run(work, hint=hint)


def test_one_batch_pays_the_mandated_payer_and_refuses_the_other(
        store: SqlMoneyStore, ctx: MoneyContext) -> None:
    scope = seed_merchant(store, ctx, "Subscriptions").scope
    mandated, without = seed_customers(store, ctx, scope, 2, topup_minor=10_000,
                                       phone_base=4915182000000)
    SqlFlowStore(store.engine).grant_mandate(scope, mandated, ctx.clock.now_ms())
    paid, refused = queued_in_one_batch(store, [
        lambda: debit(store, ctx, scope, mandated), lambda: debit(store, ctx, scope, without)])
    assert paid.result().status is PaymentStatus.SUCCEEDED
    with pytest.raises(MandateRequired):
        refused.result()
    with pytest.raises(MandateRequired):  # alone too, without the read-ahead
        debit(store, ctx, scope, without)


def test_a_revoked_mandate_stops_the_next_debit(store: SqlMoneyStore, ctx: MoneyContext) -> None:
    scope = seed_merchant(store, ctx, "Revoked").scope
    (customer,) = seed_customers(store, ctx, scope, 1, topup_minor=10_000,
                                 phone_base=4915183000000)
    flow = SqlFlowStore(store.engine)
    mandate = flow.grant_mandate(scope, customer, ctx.clock.now_ms())
    assert debit(store, ctx, scope, customer).status is PaymentStatus.SUCCEEDED
    flow.revoke_mandate(scope, customer, mandate.mandate_id, ctx.clock.now_ms())
    with pytest.raises(MandateRequired):
        debit(store, ctx, scope, customer)
