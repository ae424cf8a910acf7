"""Tables of the identity gates: consent per purpose, identity verifications (KYC).

Created by migration ``identity_0001`` (branch ``identity``). Every row carries ``tenant_id``
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
    MetaData,
    String,
    Table,
)

gates_metadata = MetaData()
ID = String(40)


def _scope_columns() -> list[Column[object]]:
    return [Column("tenant_id", ID, nullable=False), Column("livemode", Boolean, nullable=False)]


purpose_consents = Table(
    "purpose_consents", gates_metadata,
    Column("id", ID, primary_key=True), *_scope_columns(),
    Column("customer_id", ID, nullable=False),
    Column("purpose", String(32), nullable=False),
    Column("version", String(64), nullable=False),
    Column("text_digest", String(64), nullable=False),
    Column("guardian_customer_id", ID),
    Column("granted_at_ms", BigInteger, nullable=False),
    Column("revoked_at_ms", BigInteger),
    Index("ix_purpose_consents_customer", "tenant_id", "livemode", "customer_id", "purpose"),
)

identity_verifications = Table(
    "identity_verifications", gates_metadata,
    Column("id", ID, primary_key=True), *_scope_columns(),
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
