"""Store device secrets at rest, on both engines: the devices' rows hold no secret in clear;
signed messages (MQTT through the real broker, and the HTTP batch) are still accepted and
unsigned or wrongly signed ones refused; a tampered sealed secret, or one moved onto another
device or store, refuses the device's messages; rotation makes the old secret fail and
revocation refuses the device; and a database made before the sealing keeps its devices
working after migration ``store_0002``."""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from fastapi.testclient import TestClient
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Engine,
    Index,
    MetaData,
    String,
    Table,
    inspect,
    select,
    text,
)

from smilepay.adapters.crypto import AesGcmKeyRing
from smilepay.adapters.mqtt.consumer import MqttIngestConsumer, MqttPublisher
from smilepay.adapters.sql.engine import make_engine
from smilepay.adapters.sql.migrate import upgrade_engine
from smilepay.adapters.sql.provision import scratch_database
from smilepay.adapters.sql.store import SqlMoneyStore
from smilepay.adapters.sql.store_repo import SqlStoreUnit
from smilepay.adapters.store.device_keys import configured_key_ring
from smilepay.api.app import create_app
from smilepay.bootstrap import Container, build_container
from smilepay.config import get_settings
from smilepay.domain.store.sgtin import encode_sgtin96
from smilepay.ports.store import Row
from smilepay.services import store_admin
from smilepay.services import store_device_secrets as device_secrets
from smilepay.services.context import FixedClock, MoneyContext
from smilepay.services.phones import DEV_ONLY_MASTER_KEY, PhoneCipher
from smilepay.services.seed import seed_merchant
from smilepay.services.store_ingest import IngestResult, ingest_messages, sign_message, topic_for
from store_support import SeededStore, broker_available, forget_session, seed_store, wait_for

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def ring() -> AesGcmKeyRing:
    return AesGcmKeyRing.generate()


@pytest.fixture(scope="module")
def unit(store: SqlMoneyStore, ring: AesGcmKeyRing) -> SqlStoreUnit:
    return SqlStoreUnit(store.engine, ring)


@pytest.fixture()
def shop(store: SqlMoneyStore, unit: SqlStoreUnit) -> SeededStore:
    return seed_store(store, unit, MoneyContext(FixedClock(), PhoneCipher(DEV_ONLY_MASTER_KEY)))


def read(i: int, at_ms: int) -> dict[str, object]:
    return {"id": f"r{i}", "at_ms": at_ms, "epc": encode_sgtin96("80614141123458", 7, i),
            "antenna": 1, "rssi": -50.0}


def rfid(shop: SeededStore, secret: str, events: list[dict[str, object]]
         ) -> tuple[str, bytes]:
    topic = topic_for(shop.scope.tenant_id, shop.store["id"], "rfid", shop.reader["id"])
    return topic, sign_message(secret, topic, {"device": shop.reader["id"], "events": events})


def presence(shop: SeededStore, secret: str, event_id: str) -> tuple[str, bytes]:
    topic = topic_for(shop.scope.tenant_id, shop.store["id"], "presence", "aisle1")
    return topic, sign_message(secret, topic, {"device": shop.presence["id"], "events": [
        {"id": event_id, "at_ms": 5, "trip": "trip_x1", "action": "enter"}]})


def raw_devices(engine: Engine, store_id: str) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(
            text("SELECT * FROM store_devices WHERE store_id = :s"), {"s": store_id})]


def as_bytes(value: Any) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    return str(value).encode()


def test_the_devices_rows_hold_no_secret_in_clear(store: SqlMoneyStore, shop: SeededStore,
                                                  money_url: str) -> None:
    clear = [shop.reader["secret"], shop.shelf["secret"], shop.presence["secret"]]
    assert all(len(s) == 64 for s in clear) and len(set(clear)) == 3
    forms = [f for s in clear for f in (s.encode(), s.upper().encode(), bytes.fromhex(s))]
    rows = raw_devices(store.engine, shop.store["id"])
    assert len(rows) == 3
    assert "secret" not in rows[0]
    for row in rows:
        assert row["secret_key_id"] and len(as_bytes(row["secret_ciphertext"])) == 64 + 16
        stored = b"|".join(as_bytes(v) for v in row.values())
        assert not any(f in stored for f in forms)
    if money_url.startswith("sqlite:///"):  # the file itself, and its write-ahead log
        path = Path(money_url.removeprefix("sqlite:///"))
        on_disk = b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())
        assert shop.store["id"].encode() in on_disk  # the rows are in what was read
        assert not any(f in on_disk for f in forms)


def test_signed_mqtt_messages_are_accepted_and_unsigned_or_wrongly_signed_refused(
        unit: SqlStoreUnit, shop: SeededStore) -> None:
    broker_available()
    results: list[IngestResult] = []

    def handle(messages: Sequence[tuple[str, bytes]]) -> None:
        results.append(ingest_messages(unit, messages, 1))

    client_id = f"smilepay-test-{secrets.token_hex(4)}"
    consumer = MqttIngestConsumer(  # this store's topics only (other runs share the broker)
        handle, client_id=client_id,
        topic=f"smilepay/{shop.scope.tenant_id}/stores/{shop.store['id']}/#")
    consumer.start()
    publisher = MqttPublisher()
    try:
        topic, good = rfid(shop, shop.reader["secret"], [read(1, 10), read(2, 20)])
        _, wrong = rfid(shop, shop.shelf["secret"], [read(3, 30)])  # another device's key
        _, forged = rfid(shop, secrets.token_hex(32), [read(4, 40)])
        unsigned = good.partition(b".")[2]
        for payload in (good, wrong, forged, unsigned):
            publisher.publish(topic, payload)
        publisher.flush()
        assert wait_for(lambda: consumer.committed_messages >= 4)
    finally:
        publisher.close()
        consumer.stop()
        forget_session(client_id)
    assert sum(r.inserted for r in results) == 2
    reasons = [reason for r in results for reason in r.rejected]
    assert len(reasons) == 3
    assert sum("bad MAC" in r for r in reasons) == 2 and sum("no MAC" in r for r in reasons) == 1
    events = unit.run(lambda tx: tx.rows("events", store_id=shop.store["id"]), write=False)
    assert sorted(e["event_id"] for e in events) == ["r1", "r2"]


def test_a_tampered_or_moved_sealed_secret_refuses_the_device(
        store: SqlMoneyStore, unit: SqlStoreUnit, shop: SeededStore) -> None:
    reader, shelf = shop.reader["id"], shop.shelf["id"]
    # accepted first, so the opened secret is in the cache: tampering must still be seen
    assert ingest_messages(unit, [rfid(shop, shop.reader["secret"], [read(1, 10)])],
                           1).inserted == 1
    original = unit.run(lambda tx: tx.one("devices", id=reader), write=False)
    assert original is not None

    def set_columns(device_id: str, values: Row) -> None:
        unit.run(lambda tx: tx.update("devices", {"id": device_id}, values))

    flipped = bytearray(original["secret_ciphertext"])
    flipped[5] ^= 0x01
    set_columns(reader, {"secret_ciphertext": bytes(flipped)})
    result = ingest_messages(unit, [rfid(shop, shop.reader["secret"], [read(2, 20)])], 1)
    assert result.inserted == 0 and "opens for this device" in result.rejected[0]
    set_columns(reader, {"secret_key_id": "key_000000000000",
                         "secret_ciphertext": original["secret_ciphertext"]})
    result = ingest_messages(unit, [rfid(shop, shop.reader["secret"], [read(3, 30)])], 1)
    assert result.inserted == 0 and "opens for this device" in result.rejected[0]
    set_columns(reader, {c: original[c] for c in device_secrets.SEALED_COLUMNS})
    assert ingest_messages(unit, [rfid(shop, shop.reader["secret"], [read(4, 40)])],
                           1).inserted == 1

    # the reader's sealed secret copied onto the presence device: the reader's key (known to
    # whoever holds the reader) does not sign for the presence device
    set_columns(shop.presence["id"], {c: original[c] for c in device_secrets.SEALED_COLUMNS})
    for secret in (shop.reader["secret"], shop.presence["secret"]):
        result = ingest_messages(unit, [presence(shop, secret, f"p{secret[:4]}")], 1)
        assert result.inserted == 0 and "opens for this device" in result.rejected[0]

    # the reader's row moved to another store of the same merchant: refused there
    other = seed_store(store, unit, MoneyContext(FixedClock(), PhoneCipher(DEV_ONLY_MASTER_KEY)))
    set_columns(reader, {"store_id": other.store["id"], "tenant_id": other.scope.tenant_id})
    topic = topic_for(other.scope.tenant_id, other.store["id"], "rfid", reader)
    moved = sign_message(shop.reader["secret"], topic, {"device": reader, "events": [read(5, 50)]})
    result = ingest_messages(unit, [(topic, moved)], 1)
    assert result.inserted == 0 and "opens for this device" in result.rejected[0]
    assert shelf  # the shelf device was never touched: still accepted below
    slot = shop.slots["80614141123458"]["id"]
    shelf_topic = topic_for(shop.scope.tenant_id, shop.store["id"], "shelf", slot)
    weighed = sign_message(shop.shelf["secret"], shelf_topic, {"device": shelf, "events": [
        {"id": "w1", "at_ms": 60, "delta_g": -330}]})
    assert ingest_messages(unit, [(shelf_topic, weighed)], 1).inserted == 1


def test_a_key_ring_rotation_reseals_the_secrets_and_the_devices_keep_working(
        store: SqlMoneyStore) -> None:
    keys = AesGcmKeyRing.generate()
    own = SqlStoreUnit(store.engine, keys)
    shop = seed_store(store, own, MoneyContext(FixedClock(), PhoneCipher(DEV_ONLY_MASTER_KEY)))
    old_key = keys.active_key_id
    keys.rotate()
    done = own.run(store_admin.reseal_device_secrets)
    assert done.moved == 3  # the other devices in this database are sealed by other rings
    assert {shop.reader["id"], shop.shelf["id"], shop.presence["id"]}.isdisjoint(done.unopened)
    keys.retire(old_key)
    rows = raw_devices(store.engine, shop.store["id"])
    assert {r["secret_key_id"] for r in rows} == {keys.active_key_id}
    assert ingest_messages(own, [rfid(shop, shop.reader["secret"], [read(1, 10)])],
                           1).inserted == 1
    assert own.run(store_admin.reseal_device_secrets).moved == 0


@pytest.fixture(scope="module")
def container(money_url: str) -> Iterator[Container]:
    built = build_container(money_url, migrate=False)
    yield built
    built.close()


def test_rotation_and_revocation_through_the_api_and_the_http_batch(
        container: Container) -> None:
    client = TestClient(create_app(container))
    sk = seed_merchant(container.store, container.ctx, "Corner").secret_key
    auth = {"Authorization": f"Bearer {sk}"}
    sid = client.post("/v1/stores", headers=auth, json={
        "name": "Corner", "currency": "EUR", "entry_hold_minor": 2000}).json()["id"]
    made = client.post(f"/v1/stores/{sid}/devices", headers=auth,
                       json={"kind": "rfid", "zone": "tunnel"})
    assert made.status_code == 200, made.text
    device = made.json()
    assert len(device["secret"]) == 64
    assert not set(device) & {"secret_key_id", "secret_nonce", "secret_ciphertext"}
    tenant = device["tenant_id"]
    topic = topic_for(tenant, sid, "rfid", device["id"])
    n = iter(range(1, 100))

    def batch(*payloads: bytes) -> dict[str, Any]:
        answer = client.post("/v1/store_events", json={"messages": [
            {"topic": topic, "payload": p.decode()} for p in payloads]})
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    def signed(secret: str) -> bytes:
        i = next(n)
        return sign_message(secret, topic, {"device": device["id"], "events": [read(i, i)]})

    first = device["secret"]
    done = batch(signed(first), signed(secrets.token_hex(32)), signed(first).partition(b".")[2])
    assert done["inserted"] == 1 and len(done["rejected"]) == 2

    rotated = client.post(f"/v1/stores/{sid}/devices/{device['id']}/rotate_secret",
                          headers=auth)
    assert rotated.status_code == 200, rotated.text
    second = rotated.json()["secret"]
    assert len(second) == 64 and second != first
    assert not set(rotated.json()) & {"secret_key_id", "secret_nonce", "secret_ciphertext"}
    done = batch(signed(first), signed(second))
    assert done["inserted"] == 1 and "bad MAC" in done["rejected"][0]
    assert second not in str(raw_devices(container.store.engine, sid))

    # another merchant's key cannot rotate or revoke this device
    other_sk = seed_merchant(container.store, container.ctx, "Other").secret_key
    other = {"Authorization": f"Bearer {other_sk}"}
    for action in ("rotate_secret", "revoke"):
        assert client.post(f"/v1/stores/{sid}/devices/{device['id']}/{action}",
                           headers=other).status_code == 404
    assert client.post(f"/v1/stores/{sid}/devices/{device['id']}/rotate_secret"
                       ).status_code == 401

    revoked = client.post(f"/v1/stores/{sid}/devices/{device['id']}/revoke", headers=auth)
    assert revoked.status_code == 200 and revoked.json()["revoked_at_ms"] is not None
    done = batch(signed(second))
    assert done["inserted"] == 0 and "revoked" in done["rejected"][0]
    row = raw_devices(container.store.engine, sid)[0]
    assert row["secret_ciphertext"] is None and row["secret_key_id"] is None
    again = client.post(f"/v1/stores/{sid}/devices/{device['id']}/rotate_secret", headers=auth)
    assert again.status_code == 409

    shelf = client.post(f"/v1/stores/{sid}/devices", headers=auth,
                        json={"kind": "shelf", "zone": "aisle1"}).json()
    assert client.post(f"/v1/stores/{sid}/devices/{shelf['id']}/revoke",
                       headers=auth).status_code == 200
    slot = client.post(f"/v1/stores/{sid}/slots", headers=auth, json={
        "device": shelf["id"], "zone": "aisle1", "gtin": "80614141123458"})
    assert slot.status_code == 404 and "active shelf device" in slot.text


OLD_DEVICES = MetaData()
Table(  # store_devices as store_0001 made it before the secrets were sealed
    "store_devices", OLD_DEVICES,
    Column("id", String(40), primary_key=True),
    Column("tenant_id", String(40), nullable=False),
    Column("livemode", Boolean, nullable=False),
    Column("store_id", String(40), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("zone", String(40), nullable=False),
    Column("secret", String(64), nullable=False),
    Column("last_seen_ms", BigInteger),
    Column("watermark_ms", BigInteger),
    Column("silent_alerted", Boolean, nullable=False),
    Column("created_at_ms", BigInteger, nullable=False),
    Index("ix_store_devices_store", "store_id"),
)


@pytest.fixture()
def bare(request: pytest.FixtureRequest, tmp_path: Path, money_url: str) -> Iterator[Engine]:
    """A database of its own on the module's engine, not migrated."""
    kind = "sqlite" if money_url.startswith("sqlite") else "postgres"
    pg = request.getfixturevalue("postgres_url") if kind == "postgres" else None
    with scratch_database(kind, tmp_path, pg, migrate=False) as url:
        built = make_engine(url)
        yield built
        built.dispose()


@pytest.fixture()
def secrets_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / "face-secrets.json"
    monkeypatch.setenv("SMILEPAY_FACE_SECRETS_FILE", str(path))
    get_settings.cache_clear()
    yield path
    monkeypatch.undo()
    get_settings.cache_clear()


def test_a_database_made_before_the_sealing_keeps_its_devices_working(
        bare: Engine, secrets_file: Path) -> None:
    upgrade_engine(bare, "store_0001")
    with bare.begin() as conn:
        conn.execute(text("DROP TABLE store_devices"))
    OLD_DEVICES.create_all(bare)
    clear = {f"dev_old{i}": secrets.token_hex(32) for i in range(3)}
    with bare.begin() as conn:
        conn.execute(OLD_DEVICES.tables["store_devices"].insert(), [
            {"id": d, "tenant_id": "ten_old", "livemode": False, "store_id": "st_old",
             "kind": "rfid", "zone": "tunnel", "secret": s, "last_seen_ms": 1,
             "watermark_ms": None, "silent_alerted": False, "created_at_ms": 1}
            for d, s in clear.items()])

    upgrade_engine(bare)
    columns = {c["name"] for c in inspect(bare).get_columns("store_devices")}
    assert "secret" not in columns
    assert {"secret_key_id", "secret_nonce", "secret_ciphertext", "revoked_at_ms"} <= columns
    assert "ix_store_devices_store" in {i["name"] for i in inspect(bare).get_indexes(
        "store_devices")}
    assert secrets_file.exists()  # sealed with the configured key ring
    rows = raw_devices(bare, "st_old")
    stored = b"|".join(as_bytes(v) for row in rows for v in row.values())
    assert not any(s.encode() in stored for s in clear.values())

    unit = SqlStoreUnit(bare)  # the install's key ring, as the server uses it
    assert unit.device_keys is configured_key_ring()
    for device_id, secret in clear.items():
        topic = topic_for("ten_old", "st_old", "rfid", device_id)
        good = sign_message(secret, topic, {"device": device_id, "events": [read(1, 10)]})
        bad = sign_message(secrets.token_hex(32), topic,
                           {"device": device_id, "events": [read(2, 20)]})
        result = ingest_messages(unit, [(topic, good), (topic, bad)], 1)
        assert result.inserted == 1 and len(result.rejected) == 1

    # and back: the downgrade opens the secrets into the clear column again
    config = Config()
    config.set_main_option("script_location", str(resources.files("smilepay") / "migrations"))
    with bare.connect() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "store_0001")
        conn.commit()
    with bare.connect() as conn:
        back = {r.id: r.secret for r in conn.execute(
            select(OLD_DEVICES.tables["store_devices"].c.id,
                   OLD_DEVICES.tables["store_devices"].c.secret))}
    assert back == clear


def test_a_new_database_gets_the_sealed_columns_and_no_clear_one(bare: Engine) -> None:
    upgrade_engine(bare)
    columns = {c["name"] for c in inspect(bare).get_columns("store_devices")}
    assert "secret" not in columns and "secret_ciphertext" in columns

