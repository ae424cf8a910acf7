"""The SQL session table (migration ``gallery_0001``): JSON numbers, a version, an expiry."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, MetaData, String, Table, Text

sessions_metadata = MetaData()

shared_sessions = Table(
    "shared_sessions", sessions_metadata,
    Column("kind", String(16), primary_key=True),
    Column("key", String(64), primary_key=True),
    Column("value_json", Text, nullable=False),
    Column("version", BigInteger, nullable=False),
    Column("expires_at_ms", BigInteger, nullable=False),
    Index("ix_shared_sessions_expiry", "expires_at_ms"),
)
