"""Identity: consent, encrypted face templates, audit, deletion receipts, sign-up codes,
wallet sessions, challenges, Happy Go promotions.

Revision ID: 0002_identity
Revises: 0001_money_core
Create Date: 2026-11-22

The tables are created from ``adapters.sql.identity_schema`` as it stands at this revision;
a later change comes as a new revision with explicit operations.
"""

from __future__ import annotations

from alembic import op

from smilepay.adapters.sql.identity_schema import identity_metadata

revision = "0002_identity"
down_revision = "0001_money_core"
branch_labels = None
depends_on = None


def upgrade() -> None:
    identity_metadata.create_all(bind=op.get_bind())


def downgrade() -> None:
    identity_metadata.drop_all(bind=op.get_bind())
