"""Tables of the identity gates: consent per purpose, identity verifications (KYC), the gates'
own sealed templates, attendance (sites, staff, shifts, punches) and boarding (departures,
tickets, gate attempts). Migrations ``identity_0001``, ``identity_0002`` and ``identity_0003``
(a departure's fare currency, a ticket's fare payment; branch ``identity``). Every row carries
``tenant_id``
and ``livemode``; times are integer ms. No column can hold a picture or a document number:
a verification keeps its outcome, scores, document type and country, the number as a keyed
hash (HMAC-SHA256) and the birth year.
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
    String,
)

from smilepay.adapters.sql.scoped_columns import ID, scoped_table

gates_metadata = MetaData()


purpose_consents = scoped_table(
    "purpose_consents", gates_metadata,
    Column("customer_id", ID, nullable=False),
    Column("purpose", String(32), nullable=False),
    Column("version", String(64), nullable=False),
    Column("text_digest", String(64), nullable=False),
    Column("guardian_customer_id", ID),
    Column("granted_at_ms", BigInteger, nullable=False),
    Column("revoked_at_ms", BigInteger),
    Index("ix_purpose_consents_customer", "tenant_id", "livemode", "customer_id", "purpose"),
)

identity_verifications = scoped_table(
    "identity_verifications", gates_metadata,
    Column("customer_id", ID, nullable=False),
    Column("status", String(16), nullable=False),  # "pending" | "verified" | "refused"
    Column("reason", String(48)),
    Column("document_type", String(24), nullable=False),
    Column("country", String(3), nullable=False),
    Column("number_digest", String(64), nullable=False),
    Column("birth_year", Integer, nullable=False),
    Column("guardian_customer_id", ID),
    Column("challenge_id", ID, nullable=False),
    Column("model_id", String(80)),
    Column("score", Float),
    Column("threshold", Float),
    Column("threshold_source", String(80)),
    Column("created_at_ms", BigInteger, nullable=False),
    Column("decided_at_ms", BigInteger),
    Index("ix_identity_verifications_customer", "tenant_id", "livemode", "customer_id"),
    Index("ix_identity_verifications_number", "tenant_id", "livemode", "number_digest"),
)

# --- identity_0002: gate templates, attendance, boarding -------------------------------------
gate_templates = scoped_table(
    "gate_templates", gates_metadata,
    Column("subject_id", ID, nullable=False),  # a staff member or a customer
    Column("purpose", String(32), nullable=False),  # "attendance" | "boarding"
    Column("model_id", String(80), nullable=False),
    Column("rotation_version", Integer, nullable=False),
    Column("dim", Integer, nullable=False),
    Column("quality", Float, nullable=False),
    Column("created_at_ms", BigInteger, nullable=False),
    Column("key_id", String(40), nullable=False),
    Column("nonce", LargeBinary(16), nullable=False),
    Column("ciphertext", LargeBinary, nullable=False),
    # covering: a gate's candidate read never touches the table
    Index("ix_gate_templates_subject", "tenant_id", "livemode", "purpose", "subject_id", "id"),
)

sites = scoped_table(
    "sites", gates_metadata,
    Column("name", String(100), nullable=False),
    Column("created_at_ms", BigInteger, nullable=False),
)

staff = scoped_table(
    "staff", gates_metadata,
    Column("site_id", ID, nullable=False),
    Column("name", String(100), nullable=False),
    Column("role", String(16), nullable=False),  # "staff" | "manager"
    Column("pin_hash", String(64), nullable=False),
    Column("badge_hash", String(64)),
    Column("created_at_ms", BigInteger, nullable=False),
    Index("ix_staff_site", "tenant_id", "livemode", "site_id"),
)

shifts = scoped_table(
    "shifts", gates_metadata,
    Column("staff_id", ID, nullable=False),
    Column("site_id", ID, nullable=False),
    Column("start_ms", BigInteger, nullable=False),
    Column("end_ms", BigInteger, nullable=False),
    Index("ix_shifts_staff", "tenant_id", "livemode", "staff_id", "start_ms"),
)

punches = scoped_table(
    "punches", gates_metadata,
    Column("idempotency_key", String(64), nullable=False),
    Column("staff_id", ID, nullable=False),
    Column("site_id", ID, nullable=False),
    Column("kind", String(8), nullable=False),  # "in" | "out"
    Column("method", String(8), nullable=False),  # "face" | "pin" | "badge"
    Column("at_ms", BigInteger, nullable=False),  # the device's time for offline punches
    Column("received_at_ms", BigInteger, nullable=False),
    Column("approved_by", ID),
    Column("flagged", Boolean, nullable=False),
    Column("score", Float),
    Index("ix_punches_staff", "tenant_id", "livemode", "staff_id", "at_ms"),
    Index("ux_punches_key", "tenant_id", "livemode", "idempotency_key", unique=True),
)

departures = scoped_table(
    "departures", gates_metadata,
    Column("kind", String(16), nullable=False),
    Column("name", String(100), nullable=False),
    Column("opens_ms", BigInteger, nullable=False),
    Column("closes_ms", BigInteger, nullable=False),
    Column("fare_minor", BigInteger, nullable=False),
    Column("fare_currency", String(3)),  # identity_0003; set when fare_minor > 0
)

tickets = scoped_table(
    "tickets", gates_metadata,
    Column("departure_id", ID, nullable=False),
    Column("customer_id", ID, nullable=False),
    Column("status", String(16), nullable=False),  # "valid" | "consumed" | "cancelled"
    Column("qr_hash", String(64), nullable=False),
    Column("consumed_at_ms", BigInteger),
    Column("method", String(8)),
    Column("fare_payment_id", ID),  # identity_0003: the payment intent that charged the fare
    Index("ix_tickets_departure", "tenant_id", "livemode", "departure_id"),
    Index("ux_tickets_qr", "qr_hash", unique=True),
)

gate_attempts = scoped_table(
    "gate_attempts", gates_metadata,
    Column("departure_id", ID, nullable=False),
    Column("captured", Boolean, nullable=False),
    Column("matched", Boolean, nullable=False),
    Column("method", String(8)),  # how they boarded: "face" | "qr" | None
    Column("ticket_id", ID),
    Column("score", Float),
    Column("at_ms", BigInteger, nullable=False),
    Index("ix_gate_attempts_departure", "tenant_id", "livemode", "departure_id"),
)
