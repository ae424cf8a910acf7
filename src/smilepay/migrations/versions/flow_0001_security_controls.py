"""Flow security controls: mandates, phone-factor attempts, rate events; open challenges by
terminal.

Revision ID: flow_0001
Revises: 0003_challenge_subject_index
Create Date: 2026-12-06

The three tables are created from ``adapters.sql.flow_schema`` as it stands at this revision;
a later change comes as a new revision on the ``flow`` branch with explicit operations. The
index on ``face_challenges`` lets a new session count and close its terminal's open ones.
"""

from __future__ import annotations

from alembic import op

from smilepay.adapters.sql.flow_schema import flow_metadata

revision = "flow_0001"
down_revision = "0003_challenge_subject_index"
branch_labels = ("flow",)
depends_on = None


def upgrade() -> None:
    flow_metadata.create_all(bind=op.get_bind(), checkfirst=True)
    op.create_index("ix_face_challenges_terminal_state", "face_challenges",
                    ["tenant_id", "livemode", "terminal_id", "state"], if_not_exists=True)


def downgrade() -> None:
    op.drop_index("ix_face_challenges_terminal_state", table_name="face_challenges",
                  if_exists=True)
    flow_metadata.drop_all(bind=op.get_bind(), checkfirst=True)
