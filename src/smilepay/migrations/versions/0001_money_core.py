"""Money core: tenants, keys, terminals, customers, ledger, payments, idempotency, outbox.

Revision ID: 0001_money_core
Revises:
Create Date: 2026-11-22

The tables are created from ``adapters.sql.schema`` as it stands at this revision; any later
change to the schema comes as a new revision with explicit operations.
"""

from __future__ import annotations

from alembic import op

from smilepay.adapters.sql.schema import metadata

revision = "0001_money_core"
down_revision = None
branch_labels = None
depends_on = None

_MESSAGE = "transfers are immutable: reverse a transfer instead"


def upgrade() -> None:
    bind = op.get_bind()
    metadata.create_all(bind=bind)
    if bind.dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION smilepay_refuse_change() RETURNS trigger AS $$ BEGIN "
            f"RAISE EXCEPTION '{_MESSAGE}'; END $$ LANGUAGE plpgsql"
        )
        op.execute(
            "CREATE TRIGGER transfers_immutable BEFORE UPDATE OR DELETE ON transfers "
            "FOR EACH ROW EXECUTE FUNCTION smilepay_refuse_change()"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER transfers_no_{verb.lower()} BEFORE {verb} ON transfers "
                f"BEGIN SELECT RAISE(ABORT, '{_MESSAGE}'); END"
            )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS transfers_immutable ON transfers")
        op.execute("DROP FUNCTION IF EXISTS smilepay_refuse_change()")
    metadata.drop_all(bind=bind)
