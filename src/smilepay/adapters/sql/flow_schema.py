"""Tables of the face and payment flows' security controls (migration branch ``flow``).

- ``wallet_mandates``: standing authorisations a customer granted on the wallet page; a merchant
  debit outside the face flow needs an active one. Revoking sets ``revoked_at_ms``; rows stay.
- ``face_factor_attempts``: every phone-factor decision of the face flow, with the payment, the
  terminal and the probe face it came from; failures are counted per each (never per victim).
- ``flow_rate_events``: one row per rate-limited action (a sign-up per phone number and per
  terminal, a face session per wallet and per terminal), counted over sliding windows.

Every row carries ``tenant_id`` and ``livemode``; times are integer ms since the epoch. No
phone number is stored: keys are the tenant's phone HMAC, terminal ids and template ids.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Float, Index, MetaData, String

from smilepay.adapters.sql.scoped_columns import ID, scoped_table

flow_metadata = MetaData()


wallet_mandates = scoped_table(
    "wallet_mandates", flow_metadata,
    Column("customer_id", ID, nullable=False),
    Column("created_at_ms", BigInteger, nullable=False),
    Column("revoked_at_ms", BigInteger),
    Index("ix_wallet_mandates_customer", "tenant_id", "livemode", "customer_id"),
)

face_factor_attempts = scoped_table(
    "face_factor_attempts", flow_metadata,
    Column("payment_id", ID, nullable=False),
    Column("terminal_key", String(80), nullable=False),  # "terminal:<id>" or "key:<id>"
    Column("face_key", ID),  # the template the probe matched above threshold, if any
    Column("succeeded", Boolean, nullable=False),
    Column("reason", String(40), nullable=False),
    Column("false_match_p", Float),
    Column("at_ms", BigInteger, nullable=False),
    Index("ix_face_factor_payment", "tenant_id", "livemode", "payment_id"),
    Index("ix_face_factor_terminal", "tenant_id", "livemode", "terminal_key", "at_ms"),
    Index("ix_face_factor_face", "tenant_id", "livemode", "face_key", "at_ms"),
)

flow_rate_events = scoped_table(
    "flow_rate_events", flow_metadata,
    Column("kind", String(24), nullable=False),
    Column("key", String(80), nullable=False),
    Column("at_ms", BigInteger, nullable=False),
    Index("ix_flow_rate_events_key", "tenant_id", "livemode", "kind", "key", "at_ms"),
    Index("ix_flow_rate_events_at", "at_ms"),  # the sweep of old events (flow_0002)
)
