"""Identity gates: boarding fares (a departure's fare currency, the payment that charged a
ticket's fare).

Revision ID: identity_0003
Revises: identity_0002
Create Date: 2026-12-06

``identity_0002`` creates its tables from ``gates_schema`` as it stands, which now declares
these columns too; on a database created that way they exist already, so each is added only
when missing (SQLite has no ``ADD COLUMN IF NOT EXISTS``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "identity_0003"
down_revision = "identity_0002"
branch_labels = None
depends_on = None

COLUMNS = (("departures", "fare_currency", sa.String(3)),
           ("tickets", "fare_payment_id", sa.String(40)))


def _has(table: str, column: str) -> bool:
    return column in {c["name"] for c in sa.inspect(op.get_bind()).get_columns(table)}


def upgrade() -> None:
    for table, column, kind in COLUMNS:
        if not _has(table, column):
            op.add_column(table, sa.Column(column, kind, nullable=True))


def downgrade() -> None:
    for table, column, _ in reversed(COLUMNS):
        if _has(table, column):
            with op.batch_alter_table(table) as batch:
                batch.drop_column(column)
