"""The checkout-free store: stores, gates, devices, slots, catalogue, sensor events, trips,
lines, review, sold tags, alerts, entry codes, debts, disputes.

Revision ID: store_0001
Revises: 0003_challenge_subject_index
Create Date: 2026-12-06

The first revision of the "store" branch: its tables are created from
``adapters.sql.store_schema`` as it stands here; later changes come as new revisions.
"""

from __future__ import annotations

from alembic import op

from smilepay.adapters.sql.store_schema import store_metadata

revision = "store_0001"
down_revision = "0003_challenge_subject_index"
branch_labels = ("store",)
depends_on = None


def upgrade() -> None:
    store_metadata.create_all(bind=op.get_bind())


def downgrade() -> None:
    store_metadata.drop_all(bind=op.get_bind())
