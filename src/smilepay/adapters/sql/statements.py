"""SQL statements of the money transaction, each built once with bind parameters.

Building a SQLAlchemy statement per call (and computing its cache key) was a large share of
the Python time of a payment; these are built on first use and reused.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Table, and_, bindparam, exists, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from smilepay.adapters.sql import schema
from smilepay.adapters.sql.flow_schema import wallet_mandates
from smilepay.adapters.sql.scoped_columns import in_scope as in_scope  # tx.py uses st.in_scope
from smilepay.domain.payments import PaymentStatus


@cache
def insert_stmt(table: Table) -> Any:
    return table.insert()


@cache
def update_stmt(table: Table) -> Any:
    return table.update().where(table.c.id == bindparam("b_id"))


@cache
def get_stmt(table: Table, scoped: bool, for_update: bool) -> Any:
    query = select(table).where(table.c.id == bindparam("b_id"))
    if scoped:
        query = query.where(table.c.tenant_id == bindparam("b_tenant"),
                            table.c.livemode == bindparam("b_livemode"))
    return query.with_for_update(key_share=True) if for_update else query


@cache
def save_balance_stmt() -> Any:
    t = schema.accounts
    return t.update().where(t.c.id == bindparam("b_id")).values(
        balance_minor=bindparam("b_balance"), pending_out_minor=bindparam("b_pending"))


@cache
def add_balance_stmt() -> Any:
    t = schema.accounts
    return t.update().where(t.c.id == bindparam("b_id")).values(
        balance_minor=t.c.balance_minor + bindparam("b_delta"))


@cache
def lock_accounts_stmt(for_update: bool) -> Any:
    t = schema.accounts
    query = select(t).where(t.c.id.in_(bindparam("b_ids", expanding=True))).order_by(t.c.id)
    return query.with_for_update(key_share=True) if for_update else query


@cache
def find_account_stmt() -> Any:
    t = schema.accounts
    return select(t).where(
        t.c.tenant_id == bindparam("b_tenant"), t.c.livemode == bindparam("b_livemode"),
        t.c.kind == bindparam("b_kind"), t.c.owner_id == bindparam("b_owner"),
        t.c.currency == bindparam("b_currency"),
    )


@cache
def claim_key_stmt(pg: bool) -> Any:
    t = schema.idempotency_keys
    dialect_insert = postgresql.insert if pg else sqlite.insert
    return dialect_insert(t).on_conflict_do_nothing().returning(t.c.tenant_id, t.c.livemode,
                                                                t.c.key)


@cache
def find_api_key_stmt() -> Any:
    t = schema.api_keys
    return select(t).where(t.c.key_hash == bindparam("b_hash"))


@cache
def lock_owned_stmt(count: int, for_update: bool) -> Any:
    """Accounts by ``count`` (kind, owner, currency) keys: ``b_kind_i``, ``b_owner_i``, ..."""
    t = schema.accounts
    wanted = or_(*(
        and_(t.c.kind == bindparam(f"b_kind_{i}"), t.c.owner_id == bindparam(f"b_owner_{i}"),
             t.c.currency == bindparam(f"b_currency_{i}"))
        for i in range(count)
    ))
    query = select(t).where(t.c.tenant_id == bindparam("b_tenant"),
                            t.c.livemode == bindparam("b_livemode"), wanted).order_by(t.c.id)
    return query.with_for_update(key_share=True) if for_update else query


@cache
def payer_standing_stmt(many: bool) -> Any:
    """The customer (``many``: each of the ``b_ids``) with the day's spend, recent failures and
    whether an active mandate exists, as scalar subqueries. ``many`` also gives the oldest row
    each of the two counts counted (see ``read_ahead``): a later window start up to it counts
    the same rows."""
    c, pi, at = schema.customers, schema.payment_intents, schema.payment_attempts
    spent_rows = (
        pi.c.customer_id == c.c.id,
        # two equalities, not IN (a list): an IN list is re-expanded on every execution
        or_(pi.c.status == PaymentStatus.SUCCEEDED.value,
            pi.c.status == PaymentStatus.REQUIRES_CAPTURE.value),
        pi.c.currency == bindparam("b_currency"),
        pi.c.updated_at_ms >= bindparam("b_spent_since"),
    )
    failed_rows = (at.c.customer_id == c.c.id, at.c.succeeded.is_(False),
                   at.c.created_at_ms >= bindparam("b_failures_since"))
    wm = wallet_mandates
    columns: list[Any] = [
        c,
        select(func.coalesce(func.sum(pi.c.amount_minor), 0)).where(*spent_rows)
        .scalar_subquery().label("standing_spent"),
        select(func.count()).select_from(at).where(*failed_rows)
        .scalar_subquery().label("standing_failures"),
        # whether the customer lets the merchant debit outside the face flow (a mandate)
        exists().where(wm.c.tenant_id == c.c.tenant_id, wm.c.livemode == c.c.livemode,
                       wm.c.customer_id == c.c.id, wm.c.revoked_at_ms.is_(None))
        .label("standing_mandated"),
    ]
    if many:
        columns += [
            select(func.min(pi.c.updated_at_ms)).where(*spent_rows)
            .scalar_subquery().label("standing_oldest_spent"),
            select(func.min(at.c.created_at_ms)).where(*failed_rows)
            .scalar_subquery().label("standing_oldest_failure"),
        ]
    who = c.c.id.in_(bindparam("b_ids", expanding=True)) if many else c.c.id == bindparam("b_id")
    return select(*columns).where(who, c.c.tenant_id == bindparam("b_tenant"),
                                  c.c.livemode == bindparam("b_livemode"))


@cache
def lock_wallets_stmt(pg: bool) -> Any:
    """The wallets in ``b_currency`` of the customers ``b_owners``, locked on PostgreSQL in
    owner order: the order group commit runs payers in (by code point, as Python sorts)."""
    t = schema.accounts
    query = select(t).where(
        t.c.tenant_id == bindparam("b_tenant"), t.c.livemode == bindparam("b_livemode"),
        t.c.kind == bindparam("b_kind"), t.c.currency == bindparam("b_currency"),
        t.c.owner_id.in_(bindparam("b_owners", expanding=True)),
    )
    if not pg:  # SQLite's default collation is by code point; its writer lock serialises
        return query.order_by(t.c.owner_id)
    return query.order_by(t.c.owner_id.collate("C")).with_for_update(key_share=True)


@cache
def failure_times_stmt() -> Any:
    t = schema.payment_attempts
    return select(t.c.created_at_ms).where(
        t.c.customer_id == bindparam("b_customer"), t.c.succeeded.is_(False),
        t.c.created_at_ms >= bindparam("b_since"),
    )


@cache
def store_response_stmt() -> Any:
    t = schema.idempotency_keys
    return t.update().where(
        t.c.tenant_id == bindparam("b_tenant"), t.c.livemode == bindparam("b_livemode"),
        t.c.key == bindparam("b_key"),
    ).values(status_code=bindparam("b_status"), response_body=bindparam("b_body"))


@cache
def endpoints_stmt() -> Any:
    t = schema.webhook_endpoints
    return select(t).where(t.c.tenant_id == bindparam("b_tenant"),
                           t.c.livemode == bindparam("b_livemode")).order_by(t.c.id)
