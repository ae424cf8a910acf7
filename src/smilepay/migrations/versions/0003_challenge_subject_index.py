"""An index on face challenges by subject: a new challenge counts the subject's earlier ones.

Revision ID: 0003_challenge_subject_index
Revises: 0002_identity
Create Date: 2026-11-22

0002 creates its tables from ``identity_schema`` as it stands, which now declares this index
too; on a database created that way the index exists already, hence ``if_not_exists``.
"""

from __future__ import annotations

from alembic import op

revision = "0003_challenge_subject_index"
down_revision = "0002_identity"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_face_challenges_subject", "face_challenges",
                    ["tenant_id", "livemode", "subject_id"], if_not_exists=True)


def downgrade() -> None:
    op.drop_index("ix_face_challenges_subject", table_name="face_challenges", if_exists=True)
