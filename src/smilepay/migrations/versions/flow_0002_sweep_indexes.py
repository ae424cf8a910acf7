"""Flow: indexes for the sweeps (open challenges past their deadline, old rate events).

Revision ID: flow_0002
Revises: flow_0001
Create Date: 2026-12-06

``flow_0001`` creates its tables from ``flow_schema`` as it stands, which now declares the rate
events' index too; on a database created that way it exists already, hence ``if_not_exists``.
"""

from __future__ import annotations

from alembic import op

revision = "flow_0002"
down_revision = "flow_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_face_challenges_open_expiry", "face_challenges",
                    ["state", "expires_at_ms"], if_not_exists=True)
    op.create_index("ix_flow_rate_events_at", "flow_rate_events", ["at_ms"], if_not_exists=True)


def downgrade() -> None:
    op.drop_index("ix_flow_rate_events_at", table_name="flow_rate_events", if_exists=True)
    op.drop_index("ix_face_challenges_open_expiry", table_name="face_challenges",
                  if_exists=True)
