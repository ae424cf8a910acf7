"""Seeding: a merchant with keys, customers with topped-up wallets (demos, tests, benchmarks)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from smilepay.domain.risk import CustomerLimits
from smilepay.domain.tenants import KeyKind, Scope
from smilepay.ports.money import MoneyStore, MoneyTx
from smilepay.services.context import MoneyContext
from smilepay.services.customers import create_customer, top_up
from smilepay.services.tenants import create_tenant, issue_api_key


@dataclass(frozen=True)
class SeededMerchant:
    scope: Scope
    secret_key: str


def seed_merchant(
    store: MoneyStore, ctx: MoneyContext, name: str, *, livemode: bool = False, fee_bps: int = 0
) -> SeededMerchant:
    def work(tx: MoneyTx) -> SeededMerchant:
        now_ms = ctx.clock.now_ms()
        tenant = create_tenant(tx, name, now_ms, fee_bps)
        scope = Scope(tenant.id, livemode)
        return SeededMerchant(scope, issue_api_key(tx, scope, KeyKind.SECRET, now_ms).raw)

    return store.run(work)


def seed_customers(
    store: MoneyStore, ctx: MoneyContext, scope: Scope, count: int, *, topup_minor: int,
    currency: str = "EUR", phone_base: int = 4915100000000,
    limits: CustomerLimits | None = None, batch: int = 200,
) -> list[str]:
    """``count`` customers with phones ``+<phone_base + i>``, each topped up once."""
    ids: list[str] = []

    def work(tx: MoneyTx, start: int, stop: int) -> list[str]:
        made = []
        for i in range(start, stop):
            customer = create_customer(tx, ctx, scope, f"+{phone_base + i}", name=f"c{i}",
                                       limits=limits)
            if topup_minor > 0:
                top_up(tx, ctx, scope, customer.id, topup_minor, currency)
            made.append(customer.id)
        return made

    for start in range(0, count, batch):
        stop = min(count, start + batch)
        ids += store.run(partial(work, start=start, stop=stop))
    return ids
