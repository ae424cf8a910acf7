"""Gallery: the change log, the FAISS adapter's sealed vectors, shared sessions, and (on
PostgreSQL with the extension) the pgvector table.

Revision ID: gallery_0001
Revises: 0003_challenge_subject_index
Create Date: 2026-12-06

The pgvector table is created only on PostgreSQL where the ``vector`` extension is available;
with ``SMILEPAY_GALLERY=pgvector`` a server without it fails the migration with a message
(``PgvectorMissing``) instead of a gallery that cannot start.
"""

from __future__ import annotations

import os

from alembic import op

from smilepay.adapters.gallery.schema import (
    PGVECTOR_TABLE,
    create_pgvector_table,
    gallery_metadata,
    pgvector_available,
)
from smilepay.adapters.sessions.schema import sessions_metadata

revision = "gallery_0001"
down_revision = "0003_challenge_subject_index"
branch_labels = ("gallery",)
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    gallery_metadata.create_all(bind=bind)
    sessions_metadata.create_all(bind=bind)
    wanted = os.environ.get("SMILEPAY_GALLERY", "").strip().lower() == "pgvector"
    if pgvector_available(bind) or wanted:
        create_pgvector_table(bind)  # raises PgvectorMissing when wanted but absent


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute(f"DROP TABLE IF EXISTS {PGVECTOR_TABLE}")
    sessions_metadata.drop_all(bind=bind)
    gallery_metadata.drop_all(bind=bind)
