"""The gallery change log: appended in the enrolling or erasing transaction, read by workers.

Sequence numbers must follow commit order, or a worker that has read ``seq`` 11 would never
see a ``seq`` 10 committed later. Writers therefore serialise: SQLite's ``BEGIN IMMEDIATE``
already admits one writer; on PostgreSQL each writing transaction first takes one
transaction-scoped advisory lock, so numbers are drawn and committed in the same order.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, func, insert, select, text

from smilepay.adapters.gallery.schema import gallery_changes, gallery_vectors
from smilepay.domain.tenants import Scope

_PG_LOG_LOCK = 0x6A_11_E2_7C
CATCH_UP_BATCH = 5000


@dataclass(frozen=True)
class Change:
    seq: int
    op: str
    scope: Scope
    model_id: str
    template_id: str
    # for an "add" whose template is still present: owner, purpose and the sealed vector
    customer_id: str | None = None
    purpose: str | None = None
    dim: int | None = None
    key_id: str | None = None
    nonce: bytes | None = None
    ciphertext: bytes | None = None


def lock_log(conn: Connection) -> None:
    """Take the writers' turn for this transaction (PostgreSQL; SQLite's BEGIN IMMEDIATE has)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOG_LOCK})


def append(conn: Connection, op: str, scope: Scope, model_id: str,
           template_ids: Sequence[str]) -> None:
    if not template_ids:
        return
    now = int(time.time() * 1000)
    conn.execute(insert(gallery_changes), [
        {"tenant_id": scope.tenant_id, "livemode": scope.livemode, "model_id": model_id,
         "template_id": tid, "op": op, "at_ms": now} for tid in template_ids])


def head(conn: Connection) -> int:
    return int(conn.execute(select(func.coalesce(func.max(gallery_changes.c.seq), 0))).scalar()
               or 0)


def removed_since(conn: Connection, seq: int) -> bool:
    query = (select(gallery_changes.c.seq)
             .where((gallery_changes.c.seq > seq) & (gallery_changes.c.op == "remove")).limit(1))
    return conn.execute(query).first() is not None


def changes_since(conn: Connection, applied: int, limit: int = CATCH_UP_BATCH) -> list[Change]:
    """The next changes after ``applied``, oldest first: one range read on the primary key,
    joined to the sealed vector of each add still present."""
    c, v = gallery_changes.c, gallery_vectors.c
    query = (
        select(c.seq, c.op, c.tenant_id, c.livemode, c.model_id, c.template_id,
               v.customer_id, v.purpose, v.dim, v.key_id, v.nonce, v.ciphertext)
        .select_from(gallery_changes.outerjoin(
            gallery_vectors, (c.op == "add") & (v.template_id == c.template_id)))
        .where(c.seq > applied).order_by(c.seq).limit(limit)
    )
    return [
        Change(seq=int(r.seq), op=r.op, scope=Scope(r.tenant_id, bool(r.livemode)),
               model_id=r.model_id, template_id=r.template_id, customer_id=r.customer_id,
               purpose=r.purpose, dim=r.dim, key_id=r.key_id,
               nonce=None if r.nonce is None else bytes(r.nonce),
               ciphertext=None if r.ciphertext is None else bytes(r.ciphertext))
        for r in conn.execute(query)
    ]
