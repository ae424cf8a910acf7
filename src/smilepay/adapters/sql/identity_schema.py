"""The identity tables: consent, encrypted templates, audit, deletion receipts, sign-up codes,
wallet sessions, challenges, Happy Go promotions. Created by migration ``0002_identity``.

Every row carries ``tenant_id`` and ``livemode``; times are integer ms since the epoch. No
table has a column that could hold a picture: templates are AES-GCM ciphertext of a rotated
vector, the audit holds scalar values only (``domain.identity.check_audit_values``).
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
    Table,
    Text,
)

from smilepay.adapters.sql.scoped_columns import ID, scope_columns, scoped_table

identity_metadata = MetaData()


face_consents = scoped_table(
    "face_consents", identity_metadata,
    Column("customer_id", ID, nullable=False),
    Column("version", String(64), nullable=False),
    Column("text_digest", String(64), nullable=False),
    Column("granted_at_ms", BigInteger, nullable=False),
    Column("revoked_at_ms", BigInteger),
    Column("last_used_at_ms", BigInteger),
    Index("ix_face_consents_customer", "tenant_id", "livemode", "customer_id"),
)

face_templates = scoped_table(
    "face_templates", identity_metadata,
    Column("customer_id", ID, nullable=False),
    Column("model_id", String(80), nullable=False),
    Column("rotation_version", Integer, nullable=False),
    Column("dim", Integer, nullable=False),
    Column("quality", Float, nullable=False),
    Column("created_at_ms", BigInteger, nullable=False),
    Column("key_id", String(40), nullable=False),
    Column("nonce", LargeBinary(16), nullable=False),
    Column("ciphertext", LargeBinary, nullable=False),
    Index("ix_face_templates_customer", "tenant_id", "livemode", "customer_id"),
)

face_audit = scoped_table(
    "face_audit", identity_metadata,
    Column("kind", String(32), nullable=False),
    Column("decision", String(32), nullable=False),
    Column("reasons", Text, nullable=False),
    Column("subject_id", ID),
    Column("at_ms", BigInteger, nullable=False),
    Column("values_json", Text, nullable=False),
    Index("ix_face_audit_subject", "tenant_id", "livemode", "subject_id"),
)

face_deletion_receipts = scoped_table(
    "face_deletion_receipts", identity_metadata,
    Column("customer_id", ID, nullable=False),
    Column("template_count", Integer, nullable=False),
    Column("reason", String(32), nullable=False),
    Column("deleted_at_ms", BigInteger, nullable=False),
    Column("digest", String(32), nullable=False),
)

signup_codes = scoped_table(
    "signup_codes", identity_metadata,
    Column("phone_digest", String(64), nullable=False),
    Column("phone_ciphertext", LargeBinary, nullable=False),
    Column("code_digest", String(64), nullable=False),
    Column("expires_at_ms", BigInteger, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("used", Boolean, nullable=False),
)

wallet_sessions = Table(
    "wallet_sessions", identity_metadata,
    Column("token_hash", String(64), primary_key=True), *scope_columns(),
    Column("customer_id", ID, nullable=False),
    Column("created_at_ms", BigInteger, nullable=False),
    Column("expires_at_ms", BigInteger, nullable=False),
)

face_challenges = scoped_table(
    "face_challenges", identity_metadata,
    Column("purpose", String(16), nullable=False),  # "enrol" | "pay"
    Column("subject_id", ID, nullable=False),  # customer (enrol) or payment intent (pay)
    Column("terminal_id", ID),
    Column("nonce", String(64), nullable=False),
    Column("steps", String(200), nullable=False),
    Column("issued_at_ms", BigInteger, nullable=False),
    Column("expires_at_ms", BigInteger, nullable=False),
    Column("state", String(24), nullable=False),
    Column("outcome_json", Text),
    # challenges issued per payment (or enrolment) are counted on every new one (0003)
    Index("ix_face_challenges_subject", "tenant_id", "livemode", "subject_id"),
)

happy_go_promotions = scoped_table(
    "happy_go_promotions", identity_metadata,
    Column("active", Boolean, nullable=False),
    Column("max_discount_bps", Integer, nullable=False),
    Column("cap_minor", BigInteger, nullable=False),
    Column("min_smile", Float, nullable=False),
    Column("created_at_ms", BigInteger, nullable=False),
)
