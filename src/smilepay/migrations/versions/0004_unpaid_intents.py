"""Unpaid payment intents: why one was canceled, and indexes to expire them by age and to
find the one waiting at a terminal.

Revision ID: 0004_unpaid_intents
Revises: 0003_challenge_subject_index
Create Date: 2026-12-06

0001 creates its tables from ``schema`` as it stands, which now declares these indexes too;
on a database created that way they exist already, hence ``if_not_exists``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_unpaid_intents"
down_revision = "0003_challenge_subject_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("payment_intents")}
    if "cancellation_reason" not in columns:  # SQLite has no ADD COLUMN IF NOT EXISTS
        op.add_column("payment_intents", sa.Column("cancellation_reason", sa.String(32),
                                                   nullable=True))
    op.create_index("ix_pi_status_created", "payment_intents", ["status", "created_at_ms"],
                    if_not_exists=True)
    op.create_index("ix_pi_terminal_status", "payment_intents", ["terminal_id", "status"],
                    if_not_exists=True)


def downgrade() -> None:
    op.drop_index("ix_pi_terminal_status", table_name="payment_intents", if_exists=True)
    op.drop_index("ix_pi_status_created", table_name="payment_intents", if_exists=True)
    op.drop_column("payment_intents", "cancellation_reason")
