"""The simulator's store: merchant, store, catalogue, devices, slots, gates, customers."""

from __future__ import annotations

from dataclasses import dataclass

from smilepay.adapters.sql.store import SqlMoneyStore
from smilepay.adapters.sql.store_repo import SqlStoreUnit
from smilepay.domain.store.catalogue import Product, catalogue_csv
from smilepay.domain.store.simulation import Scenario
from smilepay.domain.tenants import Scope
from smilepay.ports.store import Row, StoreTx
from smilepay.services.context import MoneyContext
from smilepay.services.customers import create_customer, top_up
from smilepay.services.seed import seed_merchant
from smilepay.services.store_admin import (
    add_device,
    add_gate,
    add_slot,
    create_store,
    import_catalogue,
)
from smilepay.services.tenants import create_terminal

RICH_WALLET_MINOR = 1_000_000


@dataclass
class SimStore:
    scope: Scope
    store: Row
    devices: dict[str, Row]  # "tunnel", "presence", "shelf:<zone>", "backroom"
    slots: dict[str, str]  # gtin -> slot id
    entry_gate: str
    exit_gate: str
    customers: list[str]


def set_up(money: SqlMoneyStore, unit: SqlStoreUnit, ctx: MoneyContext, s: Scenario,
           broke: list[bool]) -> SimStore:
    scope = seed_merchant(money, ctx, f"Sim {s.name}").scope

    def store_work(tx: StoreTx) -> SimStore:
        now = ctx.clock.now_ms()
        store = create_store(tx, scope, now, name=s.name, currency="EUR",
                             entry_hold_minor=s.hold_minor, auto_refund_max_minor=500)
        import_catalogue(tx, scope, store["id"], catalogue_csv(
            [Product(p.gtin, p.name, p.price_minor, p.unit_weight_g) for p in s.products]))
        devices = {"tunnel": add_device(tx, scope, now, store["id"], kind="rfid", zone="tunnel"),
                   "backroom": add_device(tx, scope, now, store["id"], kind="rfid",
                                          zone="backroom"),
                   "presence": add_device(tx, scope, now, store["id"], kind="presence",
                                          zone="cameras")}
        for zone in s.zones:
            devices[f"shelf:{zone}"] = add_device(tx, scope, now, store["id"], kind="shelf",
                                                  zone=zone)
        slots = {p.gtin: add_slot(tx, scope, now, store["id"],
                                  device_id=devices[f"shelf:{p.zone}"]["id"], zone=p.zone,
                                  gtin=p.gtin)["id"] for p in s.products}
        gates = [add_gate(tx, scope, now, store["id"], kind=kind,
                          terminal_id=create_terminal(tx.money, scope, f"{kind} gate", now).id)
                 for kind in ("entry", "exit")]
        return SimStore(scope, store, devices, slots, gates[0]["id"], gates[1]["id"], [])

    sim = unit.run(store_work)
    for start in range(0, len(broke), 100):
        def customers(tx: StoreTx, start: int = start) -> list[str]:
            made = []
            for i in range(start, min(len(broke), start + 100)):
                who = create_customer(tx.money, ctx, scope, f"+4917{i:09d}")
                top_up(tx.money, ctx, scope, who.id,
                       s.hold_minor + 100 if broke[i] else RICH_WALLET_MINOR, "EUR")
                made.append(who.id)
            return made

        sim.customers += unit.run(customers)
    return sim
