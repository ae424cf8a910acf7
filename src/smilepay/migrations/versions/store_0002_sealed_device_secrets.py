"""Store device secrets sealed at rest: ``store_devices.secret`` (the HMAC key in clear) gives
way to ``secret_key_id`` / ``secret_nonce`` / ``secret_ciphertext`` (AES-256-GCM under the
install's key ring, bound to tenant, mode, store and device) and ``revoked_at_ms``.

Revision ID: store_0002
Revises: store_0001
Create Date: 2026-12-06

Existing secrets are sealed here, row by row, with the key ring the server uses
(``adapters.store.device_keys``: ``SMILEPAY_FACE_SECRETS_FILE`` or
``var_dir/face-secrets.json``; created if missing), then the clear column is dropped: devices
keep working with the secret they have. Run the migration with the server's settings.
``store_0001`` creates its tables from the schema as it stands, so on a new database the sealed
columns are already there and this revision finds nothing to do; it looks before it acts.
Downgrade opens the secrets again into a clear column (a revoked device gets a random one
nobody knows).
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

from smilepay.adapters.store.device_keys import configured_key_ring
from smilepay.services import store_device_secrets as device_secrets

revision = "store_0002"
down_revision = "store_0001"
branch_labels = None
depends_on = None

TABLE = "store_devices"


def _columns() -> set[str]:
    return {c["name"] for c in sa.inspect(op.get_bind()).get_columns(TABLE)}


def _devices(*extra: str) -> sa.TableClause:
    names = ("id", "tenant_id", "livemode", "store_id", *extra)
    return sa.table(TABLE, *(sa.column(n) for n in names))


def upgrade() -> None:
    found = _columns()
    with op.batch_alter_table(TABLE) as batch:
        if "secret_key_id" not in found:
            batch.add_column(sa.Column("secret_key_id", sa.String(40)))
        if "secret_nonce" not in found:
            batch.add_column(sa.Column("secret_nonce", sa.LargeBinary(16)))
        if "secret_ciphertext" not in found:
            batch.add_column(sa.Column("secret_ciphertext", sa.LargeBinary))
        if "revoked_at_ms" not in found:
            batch.add_column(sa.Column("revoked_at_ms", sa.BigInteger))
    if "secret" not in found:
        return
    bind = op.get_bind()
    devices = _devices("secret", *device_secrets.SEALED_COLUMNS)
    rows = [dict(r._mapping) for r in bind.execute(
        sa.select(devices.c.id, devices.c.tenant_id, devices.c.livemode, devices.c.store_id,
                  devices.c.secret).where(devices.c.secret.is_not(None)))]
    if rows:
        keys = configured_key_ring()
        for row in rows:
            bind.execute(sa.update(devices).where(devices.c.id == row["id"]).values(
                **device_secrets.sealed_columns(keys, row, row["secret"])))
    with op.batch_alter_table(TABLE) as batch:
        batch.drop_column("secret")


def downgrade() -> None:
    found = _columns()
    if "secret" not in found:
        with op.batch_alter_table(TABLE) as batch:
            batch.add_column(sa.Column("secret", sa.String(64)))
    bind = op.get_bind()
    devices = _devices("secret", "revoked_at_ms", *device_secrets.SEALED_COLUMNS)
    rows = [dict(r._mapping) for r in bind.execute(sa.select(devices))]
    keys = configured_key_ring() if rows else None
    for row in rows:
        clear = secrets.token_hex(32)
        if keys is not None and row["revoked_at_ms"] is None \
                and row["secret_ciphertext"] is not None:
            clear = device_secrets.device_key(keys, row).decode("ascii")
        bind.execute(sa.update(devices).where(devices.c.id == row["id"]).values(secret=clear))
    with op.batch_alter_table(TABLE) as batch:
        batch.alter_column("secret", existing_type=sa.String(64), nullable=False)
        for name in (*device_secrets.SEALED_COLUMNS, "revoked_at_ms"):
            if name in found:
                batch.drop_column(name)
