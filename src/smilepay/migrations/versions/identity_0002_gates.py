"""Identity gates: sealed gate templates per purpose, attendance and boarding tables.

Revision ID: identity_0002
Revises: identity_0001
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

from smilepay.adapters.sql.gates_schema import (
    departures,
    gate_attempts,
    gate_templates,
    punches,
    shifts,
    sites,
    staff,
    tickets,
)

revision = "identity_0002"
down_revision = "identity_0001"
branch_labels = None
depends_on = None

TABLES = (gate_templates, sites, staff, shifts, punches, departures, tickets, gate_attempts)


def upgrade() -> None:
    bind = op.get_bind()
    for table in TABLES:
        table.create(bind=bind, checkfirst=True)


def downgrade() -> None:
    bind = op.get_bind()
    for table in reversed(TABLES):
        table.drop(bind=bind, checkfirst=True)
