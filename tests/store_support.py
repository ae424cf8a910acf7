"""Helpers for the store tests: a seeded store with devices, and MQTT plumbing."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from smilepay.adapters.sql.store import SqlMoneyStore
from smilepay.adapters.sql.store_repo import SqlStoreUnit
from smilepay.domain.store.catalogue import Product, catalogue_csv
from smilepay.domain.tenants import Scope
from smilepay.ports.store import Row, StoreTx
from smilepay.services.context import MoneyContext
from smilepay.services.seed import seed_merchant
from smilepay.services.store_admin import add_device, add_slot, create_store, import_catalogue
from smilepay.services.store_ingest import sign_message, topic_for
from smilepay.services.tenants import create_terminal
from support import require

TEA = Product("80614141123458", "Tea", 250, 330)
PEN = Product("04006381333931", "Pen", 120, 12)
SOAP = Product("09501101530003", "Soap", 499, 150)


@dataclass
class SeededStore:
    scope: Scope
    secret_key: str
    store: Row
    reader: Row  # tunnel RFID reader
    shelf: Row
    presence: Row
    slots: dict[str, Row]  # gtin -> slot
    entry_terminal: str
    exit_terminal: str


def seed_store(money: SqlMoneyStore, unit: SqlStoreUnit, ctx: MoneyContext, *,
               hold_minor: int = 2000, auto_refund_max_minor: int = 500,
               currency: str = "EUR") -> SeededStore:
    merchant = seed_merchant(money, ctx, f"Store {secrets.token_hex(3)}")
    scope = merchant.scope

    def work(tx: StoreTx) -> SeededStore:
        now = ctx.clock.now_ms()
        store = create_store(tx, scope, now, name="Corner", currency=currency,
                             entry_hold_minor=hold_minor,
                             auto_refund_max_minor=auto_refund_max_minor)
        import_catalogue(tx, scope, store["id"], catalogue_csv([TEA, PEN, SOAP]))
        reader = add_device(tx, scope, now, store["id"], kind="rfid", zone="tunnel")
        shelf = add_device(tx, scope, now, store["id"], kind="shelf", zone="aisle1")
        presence = add_device(tx, scope, now, store["id"], kind="presence", zone="aisle1")
        slots = {p.gtin: add_slot(tx, scope, now, store["id"], device_id=shelf["id"],
                                  zone="aisle1", gtin=p.gtin) for p in (TEA, PEN, SOAP)}
        entry = create_terminal(tx.money, scope, "entry gate", now).id
        exit_ = create_terminal(tx.money, scope, "exit gate", now).id
        return SeededStore(scope, merchant.secret_key, store, reader, shelf, presence, slots,
                           entry, exit_)

    return unit.run(work)


@dataclass
class GatedShopper:
    """A seeded store with its entry and exit gates, a terminal key for each, and one
    customer with a topped-up wallet and a signed-in wallet session (``token``)."""
    shop: SeededStore
    entry: str
    exit: str
    entry_key: str
    exit_key: str
    customer: str
    token: str  # the wallet session

    @property
    def wallet(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def gated_shopper(container: Any, *, hold_minor: int = 2000, auto_refund_max_minor: int = 500,
                  currency: str = "EUR", balance_minor: int = 5000) -> GatedShopper:
    from smilepay.adapters.sql.identity_store import SqlIdentityStore
    from smilepay.domain.tenants import KeyKind
    from smilepay.services.customers import create_customer, top_up
    from smilepay.services.enrol import hash_token
    from smilepay.services.store_admin import add_gate
    from smilepay.services.tenants import issue_api_key

    unit = SqlStoreUnit(container.store.engine)
    ctx = container.ctx
    shop = seed_store(container.store, unit, ctx, hold_minor=hold_minor,
                      auto_refund_max_minor=auto_refund_max_minor, currency=currency)
    scope = shop.scope

    def setup(tx: StoreTx) -> tuple[str, str, str, str, str]:
        now = ctx.clock.now_ms()
        entry = add_gate(tx, scope, now, shop.store["id"], kind="entry",
                         terminal_id=shop.entry_terminal)["id"]
        exit_ = add_gate(tx, scope, now, shop.store["id"], kind="exit",
                         terminal_id=shop.exit_terminal)["id"]
        entry_key = issue_api_key(tx.money, scope, KeyKind.TERMINAL, now, shop.entry_terminal).raw
        exit_key = issue_api_key(tx.money, scope, KeyKind.TERMINAL, now, shop.exit_terminal).raw
        who = create_customer(tx.money, ctx, scope, f"+49151{secrets.randbelow(10**8):08d}").id
        top_up(tx.money, ctx, scope, who, balance_minor, currency)
        return entry, exit_, entry_key, exit_key, who

    entry, exit_, entry_key, exit_key, who = unit.run(setup)
    token = "ws_" + secrets.token_urlsafe(24)
    now = ctx.clock.now_ms()
    SqlIdentityStore(container.store.engine).add_wallet_session(
        scope, hash_token(token), who, now, now + 3_600_000)
    return GatedShopper(shop, entry, exit_, entry_key, exit_key, who, token)


def broker_available(host: str = "127.0.0.1", port: int = 1883) -> None:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"probe-{secrets.token_hex(4)}")
    try:
        client.connect(host, port, keepalive=5)
        client.disconnect()
    except OSError as exc:
        require(False, f"Mosquitto at {host}:{port} ({type(exc).__name__})")


def forget_session(client_id: str) -> None:
    """Drop a persistent session the broker keeps for ``client_id``."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
    client.connect("127.0.0.1", 1883, keepalive=5)
    client.loop_start()
    time.sleep(0.2)
    client.disconnect()
    client.loop_stop()


def wait_for(check: Callable[[], bool], timeout_s: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()


class Sensors:
    """Signed messages from a seeded store's devices (what MQTT or the HTTP batch carries)."""

    def __init__(self, shop: SeededStore) -> None:
        self.shop = shop
        self.n = 0

    def _message(self, device: Row, kind: str, source: str,
                 events: list[dict[str, object]]) -> tuple[str, bytes]:
        topic = topic_for(self.shop.scope.tenant_id, self.shop.store["id"], kind, source)
        for event in events:
            self.n += 1
            event.setdefault("id", f"e{self.n}")
        return topic, sign_message(device["secret"], topic,
                                   {"device": device["id"], "events": events})

    def presence(self, trip: str, zone: str, action: str, at_ms: int) -> tuple[str, bytes]:
        return self._message(self.shop.presence, "presence", zone,
                             [{"trip": trip, "action": action, "at_ms": at_ms}])

    def shelf(self, gtin: str, delta_g: int, at_ms: int) -> tuple[str, bytes]:
        slot = self.shop.slots[gtin]["id"]
        return self._message(self.shop.shelf, "shelf", slot,
                             [{"delta_g": delta_g, "at_ms": at_ms}])

    def tunnel(self, epcs: list[str], at_ms: int, rssi: float = -50.0, reads_each: int = 3
               ) -> tuple[str, bytes]:
        reads: list[dict[str, object]] = [
            {"epc": epc, "antenna": k, "rssi": rssi - k, "at_ms": at_ms + 50 * k}
            for epc in epcs for k in range(reads_each)]
        return self._message(self.shop.reader, "rfid", self.shop.reader["id"], reads)

    def heartbeat(self, at_ms: int) -> tuple[str, bytes]:
        return self._message(self.shop.reader, "heartbeat", self.shop.reader["id"],
                             [{"at_ms": at_ms}])


def store_by_api(client: Any, secret_key: str, scope: Scope, terminal_id: str, *,
                 hold_minor: int = 2000, auto_refund_max_minor: int = 500) -> SeededStore:
    """A store set up as its merchant does it (the public API with the secret key): the
    catalogue (Tea, Pen, Soap), a tunnel RFID reader, a shelf and a presence sensor (their
    secrets from the answers), a slot per product; ``terminal_id`` stands for both the entry
    and the exit terminal (the caller adds the gates)."""
    headers = {"Authorization": f"Bearer {secret_key}"}

    def post(path: str, body: dict[str, object]) -> Row:
        r = client.post(path, headers=headers, json=body)
        assert r.status_code == 200, r.text
        return dict(r.json())

    store = post("/v1/stores", {"name": "Corner", "currency": "EUR",
                                "entry_hold_minor": hold_minor,
                                "auto_refund_max_minor": auto_refund_max_minor})
    base = f"/v1/stores/{store['id']}"
    post(f"{base}/catalogue", {"csv": catalogue_csv([TEA, PEN, SOAP])})
    reader = post(f"{base}/devices", {"kind": "rfid", "zone": "tunnel"})
    shelf = post(f"{base}/devices", {"kind": "shelf", "zone": "aisle1"})
    presence = post(f"{base}/devices", {"kind": "presence", "zone": "aisle1"})
    slots = {p.gtin: post(f"{base}/slots", {"device": shelf["id"], "zone": "aisle1",
                                            "gtin": p.gtin}) for p in (TEA, PEN, SOAP)}
    return SeededStore(scope, secret_key, store, reader, shelf, presence, slots, terminal_id,
                       terminal_id)


def publish_over_mqtt(unit: SqlStoreUnit, scope: Scope, store_id: str,
                      messages: Sequence[tuple[str, bytes]], now_ms: Callable[[], int]
                      ) -> list[str]:
    """``messages`` published to the local Mosquitto and consumed into the database by the
    ingest consumer (``services.store_ingest.ingest_messages``, which checks each device's
    signature), as the store's devices and the ingest worker do; waits until all are in.
    Returns the reasons of the messages the ingest rejected (none expected)."""
    from smilepay.adapters.mqtt.consumer import MqttIngestConsumer, MqttPublisher
    from smilepay.services.store_ingest import ingest_messages

    rejected: list[str] = []

    def handle(batch: Sequence[tuple[str, bytes]]) -> None:
        rejected.extend(ingest_messages(unit, batch, now_ms()).rejected)

    consumer = MqttIngestConsumer(handle, client_id=f"smilepay-test-{secrets.token_hex(4)}",
                                  topic=f"smilepay/{scope.tenant_id}/stores/{store_id}/#")
    consumer.start()
    publisher = MqttPublisher()
    try:
        for topic, payload in messages:
            publisher.publish(topic, payload)
        publisher.flush()
        assert wait_for(lambda: consumer.committed_messages >= len(messages))
    finally:
        publisher.close()
        consumer.stop()
        consumer.forget_session()
    return rejected
