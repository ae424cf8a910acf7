"""The money tables. Alembic migrations create them; this module is their single description.

Why transfers are debit/credit pairs: a transfer row names one debit account, one credit account
and one positive amount, so its legs sum to zero by construction, and the database keeps it so:
``amount_minor > 0``, the two accounts differ, and composite foreign keys ``(account, currency)``
make both accounts hold the transfer's currency. Transfers are immutable (triggers refuse UPDATE
and DELETE); a mistake is undone by a reversal, which may exist once per transfer.
Accounts carry the balance rule as a CHECK:
``pending_out_minor >= 0 AND (allow_negative OR balance_minor - pending_out_minor >= 0)``.
Times are integer milliseconds since the epoch (``*_at_ms``): the same on both engines.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.sql.schema import SchemaItem

from smilepay.adapters.sql.scoped_columns import ID

metadata = MetaData()


def _scoped(name: str, *items: SchemaItem) -> Table:
    return Table(
        name,
        metadata,
        Column("id", ID, primary_key=True),
        Column("tenant_id", ID, ForeignKey("tenants.id"), nullable=False),
        Column("livemode", Boolean, nullable=False),
        Column("created_at_ms", BigInteger, nullable=False),
        *items,
    )


tenants = Table(
    "tenants",
    metadata,
    Column("id", ID, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("fee_bps", Integer, nullable=False),
    Column("created_at_ms", BigInteger, nullable=False),
    CheckConstraint("fee_bps >= 0 AND fee_bps <= 10000", name="ck_tenants_fee_bps"),
)

api_keys = _scoped(
    "api_keys",
    Column("kind", String(16), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("display_prefix", String(20), nullable=False),
    Column("terminal_id", ID, nullable=True),
    Column("revoked_at_ms", BigInteger, nullable=True),
)

terminals = _scoped(
    "terminals",
    Column("name", String(200), nullable=False),
    Column("store_gate", String(200), nullable=True),
)

customers = _scoped(
    "customers",
    Column("phone_ciphertext", LargeBinary, nullable=False),
    Column("phone_hmac", String(64), nullable=False),
    Column("phone_last4_hmac", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("email", String(320), nullable=True),
    Column("limit_per_payment_minor", BigInteger, nullable=False),
    Column("limit_per_day_minor", BigInteger, nullable=False),
    UniqueConstraint("tenant_id", "livemode", "phone_hmac", name="uq_customers_phone"),
    Index("ix_customers_last4", "tenant_id", "livemode", "phone_last4_hmac"),
)

accounts = _scoped(
    "accounts",
    Column("kind", String(32), nullable=False),
    Column("owner_id", ID, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("allow_negative", Boolean, nullable=False),
    Column("balance_minor", BigInteger, nullable=False),
    Column("pending_out_minor", BigInteger, nullable=False),
    UniqueConstraint("id", "currency", name="uq_accounts_id_currency"),
    UniqueConstraint(
        "tenant_id", "livemode", "kind", "owner_id", "currency", name="uq_accounts_owner"
    ),
    CheckConstraint("pending_out_minor >= 0", name="ck_accounts_pending"),
    CheckConstraint(
        "allow_negative OR balance_minor - pending_out_minor >= 0", name="ck_accounts_floor"
    ),
)

transfers = _scoped(
    "transfers",
    Column("kind", String(16), nullable=False),
    Column("debit_account_id", ID, nullable=False),
    Column("credit_account_id", ID, nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("payment_intent_id", ID, nullable=True, index=True),
    Column("reverses_id", ID, ForeignKey("transfers.id"), nullable=True, unique=True),
    CheckConstraint("amount_minor > 0", name="ck_transfers_amount"),
    CheckConstraint("debit_account_id <> credit_account_id", name="ck_transfers_two_accounts"),
    ForeignKeyConstraint(
        ["debit_account_id", "currency"], ["accounts.id", "accounts.currency"],
        name="fk_transfers_debit",
    ),
    ForeignKeyConstraint(
        ["credit_account_id", "currency"], ["accounts.id", "accounts.currency"],
        name="fk_transfers_credit",
    ),
    Index("ix_transfers_debit", "debit_account_id", "id"),
    Index("ix_transfers_credit", "credit_account_id", "id"),
)

holds = _scoped(
    "holds",
    Column("debit_account_id", ID, nullable=False),
    Column("credit_account_id", ID, nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("status", String(16), nullable=False),
    Column("captured_minor", BigInteger, nullable=False),
    Column("expires_at_ms", BigInteger, nullable=False),
    Column("payment_intent_id", ID, nullable=True),
    Column("resolved_at_ms", BigInteger, nullable=True),
    CheckConstraint("amount_minor > 0", name="ck_holds_amount"),
    CheckConstraint(
        "captured_minor >= 0 AND captured_minor <= amount_minor", name="ck_holds_captured"
    ),
    ForeignKeyConstraint(
        ["debit_account_id", "currency"], ["accounts.id", "accounts.currency"],
        name="fk_holds_debit",
    ),
    ForeignKeyConstraint(
        ["credit_account_id", "currency"], ["accounts.id", "accounts.currency"],
        name="fk_holds_credit",
    ),
    Index("ix_holds_pending", "status", "expires_at_ms"),
)

payment_intents = _scoped(
    "payment_intents",
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("status", String(32), nullable=False),
    Column("capture_method", String(16), nullable=False),
    Column("customer_id", ID, ForeignKey("customers.id"), nullable=True),
    Column("terminal_id", ID, ForeignKey("terminals.id"), nullable=True),
    Column("description", String(500), nullable=False),
    Column("hold_id", ID, ForeignKey("holds.id"), nullable=True),
    Column("amount_captured_minor", BigInteger, nullable=False),
    Column("amount_refunded_minor", BigInteger, nullable=False),
    Column("last_error_code", String(64), nullable=True),
    Column("last_error_message", String(500), nullable=True),
    Column("updated_at_ms", BigInteger, nullable=False),
    Column("cancellation_reason", String(32), nullable=True),  # 0004
    CheckConstraint("amount_minor > 0", name="ck_pi_amount"),
    CheckConstraint(
        "amount_refunded_minor >= 0 AND amount_refunded_minor <= amount_captured_minor "
        "AND amount_captured_minor <= amount_minor",
        name="ck_pi_refund_le_captured",
    ),
    Index("ix_pi_customer_day", "customer_id", "status", "updated_at_ms"),
    # unpaid intents: expired by age, and one waiting per terminal (0004)
    Index("ix_pi_status_created", "status", "created_at_ms"),
    Index("ix_pi_terminal_status", "terminal_id", "status"),
)

refunds = _scoped(
    "refunds",
    Column("payment_intent_id", ID, ForeignKey("payment_intents.id"), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("reason", String(200), nullable=False),
    Column("transfer_id", ID, ForeignKey("transfers.id"), nullable=False),
    CheckConstraint("amount_minor > 0", name="ck_refunds_amount"),
)

payment_attempts = _scoped(
    "payment_attempts",
    Column("customer_id", ID, ForeignKey("customers.id"), nullable=False),
    Column("payment_intent_id", ID, nullable=True),
    Column("succeeded", Boolean, nullable=False),
    Column("reason", String(64), nullable=False),
    Index("ix_attempts_customer", "customer_id", "created_at_ms"),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("tenant_id", ID, primary_key=True),
    Column("livemode", Boolean, primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("status_code", Integer, nullable=True),
    Column("response_body", LargeBinary, nullable=True),
    Column("created_at_ms", BigInteger, nullable=False),
    Column("expires_at_ms", BigInteger, nullable=False, index=True),
)

events = _scoped(
    "events",
    Column("type", String(64), nullable=False),
    Column("data_json", Text, nullable=False),
)

webhook_endpoints = _scoped(
    "webhook_endpoints",
    Column("url", String(2000), nullable=False),
    Column("secret", String(100), nullable=False),
    Column("enabled_events", String(2000), nullable=False),
    Column("disabled", Boolean, nullable=False),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", ID, primary_key=True),
    Column("event_id", ID, ForeignKey("events.id"), nullable=False),
    Column("endpoint_id", ID, ForeignKey("webhook_endpoints.id"), nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at_ms", BigInteger, nullable=False),
    Column("last_status_code", Integer, nullable=True),
    Column("created_at_ms", BigInteger, nullable=False),
    Index("ix_deliveries_due", "status", "next_attempt_at_ms"),
)

webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("delivery_id", ID, ForeignKey("webhook_deliveries.id"), nullable=False, index=True),
    Column("attempted_at_ms", BigInteger, nullable=False),
    Column("status_code", Integer, nullable=True),
    Column("error", String(500), nullable=True),
    Column("duration_ms", Integer, nullable=False),
)

notifications = _scoped(
    "notifications",
    Column("customer_id", ID, ForeignKey("customers.id"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("body", Text, nullable=False),
    Column("delivered_at_ms", BigInteger, nullable=True),
    Index("ix_notifications_customer", "customer_id", "id"),
)

IMMUTABLE_TABLES = ("transfers",)
