"""Identity gates: consent per purpose and identity verifications (KYC).

Revision ID: identity_0001
Revises: 0003_challenge_subject_index
Create Date: 2026-12-06

Branch ``identity``. Tables are created with explicit operations from
``adapters.sql.gates_schema`` as it stands at this revision.
"""

from __future__ import annotations

from alembic import op

from smilepay.adapters.sql.gates_schema import identity_verifications, purpose_consents

revision = "identity_0001"
down_revision = "0003_challenge_subject_index"
branch_labels = ("identity",)
depends_on = None

TABLES = (purpose_consents, identity_verifications)


def upgrade() -> None:
    bind = op.get_bind()
    for table in TABLES:
        table.create(bind=bind, checkfirst=True)


def downgrade() -> None:
    bind = op.get_bind()
    for table in reversed(TABLES):
        table.drop(bind=bind, checkfirst=True)
