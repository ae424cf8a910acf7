"""The checkout-free store's tables. Created by migration ``store_0001`` (branch "store");
``store_0002`` sealed the devices' secrets.

Every row carries ``tenant_id`` and ``livemode``; times are integer ms since the epoch.
Sensor events are one wide table: the unique key (store, device, event id) drops a
redelivered or duplicated event, and reads order by the device's time (``at_ms``), so an
event that arrives late is placed where it happened.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from smilepay.adapters.sql.scoped_columns import ID, scope_columns, scoped_table

store_metadata = MetaData()


stores = scoped_table(
    "store_stores", store_metadata,
    Column("name", String(120), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("entry_hold_minor", BigInteger, nullable=False),
    Column("auto_refund_max_minor", BigInteger, nullable=False),
    Column("created_at_ms", BigInteger, nullable=False),
)

gates = scoped_table(
    "store_gates", store_metadata,
    Column("store_id", ID, nullable=False),
    Column("kind", String(8), nullable=False),  # entry | exit
    Column("terminal_id", ID, nullable=False),
    Column("created_at_ms", BigInteger, nullable=False),
)

devices = scoped_table(
    "store_devices", store_metadata,
    Column("store_id", ID, nullable=False),
    Column("kind", String(16), nullable=False),  # rfid | shelf | presence | camera
    Column("zone", String(40), nullable=False),  # "tunnel" for the exit tunnel's readers
    # the HMAC key of its messages (shown once), sealed: AES-256-GCM under the install's key
    # ring, bound to tenant, mode, store and device (services.store_device_secrets; migration
    # store_0002); NULL once revoked. Never in clear.
    Column("secret_key_id", String(40)),
    Column("secret_nonce", LargeBinary(16)),
    Column("secret_ciphertext", LargeBinary),
    Column("revoked_at_ms", BigInteger),  # a revoked device's messages are rejected
    Column("last_seen_ms", BigInteger),  # server time of its last message
    Column("watermark_ms", BigInteger),  # the latest device time it has reported
    Column("silent_alerted", Boolean, nullable=False),
    Column("created_at_ms", BigInteger, nullable=False),
    Index("ix_store_devices_store", "store_id"),
)

slots = scoped_table(
    "store_slots", store_metadata,
    Column("store_id", ID, nullable=False),
    Column("device_id", ID, nullable=False),
    Column("zone", String(40), nullable=False),
    Column("gtin", String(14), nullable=False),
    Column("created_at_ms", BigInteger, nullable=False),
)

products = Table(
    "store_products", store_metadata,
    Column("store_id", ID, nullable=False), *scope_columns(),
    Column("gtin", String(14), nullable=False),
    Column("name", String(120), nullable=False),
    Column("price_minor", BigInteger, nullable=False),
    Column("unit_weight_g", Integer, nullable=False),
    PrimaryKeyConstraint("store_id", "gtin"),
)

events = Table(
    "store_events", store_metadata,
    Column("store_id", ID, nullable=False),
    Column("device_id", ID, nullable=False),
    Column("event_id", String(64), nullable=False),
    Column("kind", String(10), nullable=False),  # rfid | shelf | presence | heartbeat
    Column("source", String(40), nullable=False),  # reader, slot, zone or device id
    Column("at_ms", BigInteger, nullable=False),  # device time
    Column("received_ms", BigInteger, nullable=False),
    Column("epc", String(24)),
    Column("antenna", Integer),
    Column("rssi", Float),
    Column("delta_g", Integer),
    Column("trip_id", ID),
    Column("action", String(8)),
    PrimaryKeyConstraint("store_id", "device_id", "event_id"),
    Index("ix_store_events_time", "store_id", "kind", "at_ms"),
    Index("ix_store_events_trip", "trip_id"),
)

trips = scoped_table(
    "store_trips", store_metadata,
    Column("store_id", ID, nullable=False),
    Column("customer_id", ID, nullable=False),
    Column("status", String(16), nullable=False),
    Column("entry_method", String(8), nullable=False),
    Column("people", Integer, nullable=False),
    Column("payment_intent_id", ID),
    Column("extra_payment_intent_id", ID),
    Column("hold_minor", BigInteger, nullable=False),
    Column("total_minor", BigInteger, nullable=False),
    Column("charged_minor", BigInteger, nullable=False),
    Column("debt_minor", BigInteger, nullable=False),
    Column("entered_at_ms", BigInteger),
    Column("exited_at_ms", BigInteger),
    Column("created_at_ms", BigInteger, nullable=False),
    Column("updated_at_ms", BigInteger, nullable=False),
    Index("ix_store_trips_customer", "tenant_id", "livemode", "customer_id"),
    Index("ix_store_trips_store_status", "store_id", "status"),
)

trip_lines = scoped_table(
    "store_trip_lines", store_metadata,
    Column("trip_id", ID, nullable=False),
    Column("gtin", String(14), nullable=False),
    Column("name", String(120), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("unit_price_minor", BigInteger, nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("refunded_minor", BigInteger, nullable=False),
    Column("evidence", String(24), nullable=False),
    Column("epcs", Text, nullable=False),  # space-separated
    Index("ix_store_trip_lines_trip", "trip_id"),
)

review_items = scoped_table(
    "store_review_items", store_metadata,
    Column("store_id", ID, nullable=False),
    Column("trip_id", ID),
    Column("reason", String(24), nullable=False),
    Column("gtin", String(14), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("ref", String(64), nullable=False),
    Column("resolved", Boolean, nullable=False),
    Column("created_at_ms", BigInteger, nullable=False),
)

taken_picks = Table(  # ambiguous picks an exit decision gave to one trip
    "store_taken_picks", store_metadata,
    Column("store_id", ID, nullable=False),
    Column("event_id", String(130), nullable=False),
    Column("trip_id", ID, nullable=False),
    PrimaryKeyConstraint("store_id", "event_id"),
)

sold_tags = Table(
    "store_sold_tags", store_metadata,
    Column("store_id", ID, nullable=False),
    Column("epc", String(24), nullable=False),
    Column("trip_id", ID, nullable=False),
    Column("sold_at_ms", BigInteger, nullable=False),
    PrimaryKeyConstraint("store_id", "epc"),
)

alerts = scoped_table(
    "store_alerts", store_metadata,
    Column("store_id", ID, nullable=False),
    Column("kind", String(24), nullable=False),
    Column("subject", String(64), nullable=False),
    Column("message", String(300), nullable=False),
    Column("at_ms", BigInteger, nullable=False),
    Column("resolved_at_ms", BigInteger),
    Index("ix_store_alerts_store", "store_id", "at_ms"),
)

entry_codes = Table(
    "store_entry_codes", store_metadata,
    Column("id", String(40), primary_key=True), *scope_columns(),
    Column("customer_id", ID, nullable=False),
    Column("expires_at_ms", BigInteger, nullable=False),
    Column("used_at_ms", BigInteger),
)

debts = scoped_table(
    "store_debts", store_metadata,
    Column("store_id", ID, nullable=False),
    Column("trip_id", ID, nullable=False),
    Column("customer_id", ID, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("paid_at_ms", BigInteger),
    Column("payment_intent_id", ID),
    Column("created_at_ms", BigInteger, nullable=False),
    Index("ix_store_debts_customer", "tenant_id", "livemode", "customer_id"),
)

disputes = scoped_table(
    "store_disputes", store_metadata,
    Column("store_id", ID, nullable=False),
    Column("trip_id", ID, nullable=False),
    Column("line_id", ID, nullable=False),
    Column("customer_id", ID, nullable=False),
    Column("reason", String(24), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("status", String(12), nullable=False),  # refunded | queued | rejected
    Column("refund_id", ID),
    Column("created_at_ms", BigInteger, nullable=False),
    Column("decided_at_ms", BigInteger),
)
