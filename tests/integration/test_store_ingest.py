"""Sensor ingestion through the real Mosquitto broker into both database engines:
duplicates dropped, out-of-order events placed by device time, bad signatures refused,
silent devices alerted, and a crash between the broker and the commit loses nothing."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import textwrap
from collections.abc import Iterator, Sequence

import pytest

from smilepay.adapters.mqtt.consumer import MqttIngestConsumer, MqttPublisher
from smilepay.adapters.sql.store import SqlMoneyStore
from smilepay.adapters.sql.store_repo import SqlStoreUnit
from smilepay.domain.store.sgtin import encode_sgtin96
from smilepay.ports.store import StoreTx
from smilepay.services.context import FixedClock, MoneyContext
from smilepay.services.phones import DEV_ONLY_MASTER_KEY, PhoneCipher
from smilepay.services.store_ingest import (
    alert_silent_devices,
    ingest_messages,
    sign_message,
    topic_for,
)
from store_support import SeededStore, broker_available, forget_session, seed_store, wait_for

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def unit(store: SqlMoneyStore) -> SqlStoreUnit:
    return SqlStoreUnit(store.engine)


@pytest.fixture()
def shop(store: SqlMoneyStore, unit: SqlStoreUnit) -> SeededStore:
    broker_available()
    ctx = MoneyContext(FixedClock(), PhoneCipher(DEV_ONLY_MASTER_KEY))
    return seed_store(store, unit, ctx)


@pytest.fixture()
def client_id() -> Iterator[str]:
    name = f"smilepay-test-{secrets.token_hex(4)}"
    yield name
    forget_session(name)


def rfid_message(shop: SeededStore, events: list[dict[str, object]]) -> tuple[str, bytes]:
    topic = topic_for(shop.scope.tenant_id, shop.store["id"], "rfid", shop.reader["id"])
    return topic, sign_message(shop.reader["secret"], topic,
                               {"device": shop.reader["id"], "events": events})


def read(i: int, at_ms: int) -> dict[str, object]:
    return {"id": f"r{i}", "at_ms": at_ms, "epc": encode_sgtin96("80614141123458", 7, i),
            "antenna": i % 4, "rssi": -50.0}


def count_events(unit: SqlStoreUnit, shop: SeededStore) -> int:
    return len(unit.run(lambda tx: tx.rows("events", store_id=shop.store["id"], kind="rfid"),
                        write=False))


def consumer_for(unit: SqlStoreUnit, client_id: str, clock: FixedClock) -> MqttIngestConsumer:
    def handle(messages: Sequence[tuple[str, bytes]]) -> None:
        ingest_messages(unit, messages, clock.now_ms())

    return MqttIngestConsumer(handle, client_id=client_id)


def test_duplicates_are_dropped_and_late_events_placed_by_device_time(
        unit: SqlStoreUnit, shop: SeededStore, client_id: str) -> None:
    clock = FixedClock()
    consumer = consumer_for(unit, client_id, clock)
    consumer.start()
    publisher = MqttPublisher()
    try:
        # 30 reads sent newest first, in 3 messages; the middle message is sent twice and
        # the first message repeats two events of the last one
        times = {i: 1_000_000 + 10 * i for i in range(30)}
        chunks = [[read(i, times[i]) for i in range(29, 19, -1)],
                  [read(i, times[i]) for i in range(19, 9, -1)],
                  [read(i, times[i]) for i in range(9, -1, -1)]]
        chunks[0] += [read(0, times[0]), read(1, times[1])]
        for chunk in (chunks[0], chunks[1], chunks[1], chunks[2]):
            publisher.publish(*rfid_message(shop, chunk))
        publisher.flush()
        assert wait_for(lambda: consumer.committed_messages >= 4)
    finally:
        publisher.close()
        consumer.stop()
    rows = unit.run(lambda tx: tx.events_between(shop.store["id"], "rfid", 0, 2**60),
                    write=False)
    assert [r["event_id"] for r in rows] == [f"r{i}" for i in range(30)]
    assert [r["at_ms"] for r in rows] == sorted(times.values())


def test_bad_signatures_and_foreign_topics_are_refused(unit: SqlStoreUnit,
                                                       shop: SeededStore) -> None:
    topic, good = rfid_message(shop, [read(1, 5)])
    forged = b"0" * 64 + good[64:]
    shelf_topic = topic_for(shop.scope.tenant_id, shop.store["id"], "shelf", "slot_nope")
    wrong_source = sign_message(shop.reader["secret"], shelf_topic,
                                {"device": shop.reader["id"], "events": []})
    bad_event = rfid_message(shop, [{"id": "x", "at_ms": 5, "epc": "nothex", "rssi": -40}])
    result = ingest_messages(unit, [(topic, forged), (shelf_topic, wrong_source), bad_event,
                                    ("other/topic", good), (topic, b"not json")], 1)
    assert result.inserted == 0 and len(result.rejected) == 5
    reasons = " | ".join(result.rejected)
    for says in ("bad MAC", "slot this device weighs", "EPC of 24 hex digits",
                 "expected a topic smilepay/", "no MAC"):
        assert says in reasons
    assert "other/topic" not in reasons and "nothex" not in reasons  # the rule, not the input
    assert count_events(unit, shop) == 0


def alerts_of(unit: SqlStoreUnit, shop: SeededStore) -> list[str]:
    def work(tx: StoreTx) -> list[str]:
        return [a["subject"] for a in tx.rows("alerts", store_id=shop.store["id"],
                                              kind="device_silent")]

    return unit.run(work, write=False)


def test_a_silent_device_raises_one_store_alert(unit: SqlStoreUnit, shop: SeededStore) -> None:
    seen = shop.reader["last_seen_ms"]
    alert_silent_devices(unit, seen + 14_000)  # other tests' devices may be silent by now
    assert alerts_of(unit, shop) == []
    assert alert_silent_devices(unit, seen + 60_000) >= 3
    assert sorted(alerts_of(unit, shop)) == sorted(
        [shop.reader["id"], shop.shelf["id"], shop.presence["id"]])
    assert alert_silent_devices(unit, seen + 61_000) == 0  # once
    heartbeat_topic = topic_for(shop.scope.tenant_id, shop.store["id"], "heartbeat",
                                shop.reader["id"])
    beat = sign_message(shop.reader["secret"], heartbeat_topic,
                        {"device": shop.reader["id"], "events": [{"id": "hb1", "at_ms": 7}]})
    assert ingest_messages(unit, [(heartbeat_topic, beat)], seen + 62_000).inserted == 1
    assert alert_silent_devices(unit, seen + 63_000) == 0
    assert alert_silent_devices(unit, seen + 62_000 + 16_000) == 1


CRASHING_CONSUMER = textwrap.dedent("""
    import os, sys
    from smilepay.adapters.mqtt.consumer import MqttIngestConsumer

    def handle(messages):  # dies between the broker and the commit
        os._exit(3)

    consumer = MqttIngestConsumer(handle, client_id=sys.argv[1])
    consumer.start()
    print("ready", flush=True)
    sys.stdin.readline()
""")


def test_a_crash_between_broker_and_commit_loses_nothing(
        unit: SqlStoreUnit, shop: SeededStore, client_id: str) -> None:
    proc = subprocess.Popen([sys.executable, "-c", CRASHING_CONSUMER, client_id],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            env={**os.environ})
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        publisher = MqttPublisher()
        for start in range(0, 200, 20):
            publisher.publish(*rfid_message(shop, [read(i, 10_000 + i)
                                                   for i in range(start, start + 20)]))
        publisher.close()
        assert proc.wait(timeout=20) == 3  # it received a batch, then died before any commit
    finally:
        if proc.poll() is None:
            proc.kill()
    assert count_events(unit, shop) == 0
    consumer = consumer_for(unit, client_id, FixedClock())
    consumer.start()
    try:
        assert wait_for(lambda: count_events(unit, shop) == 200, timeout_s=30)
    finally:
        consumer.stop()
    assert count_events(unit, shop) == 200
