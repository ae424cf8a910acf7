"""``SqlMoneyTx``: the money core's reads and writes inside one open transaction.

Row locks on PostgreSQL are ``FOR NO KEY UPDATE`` (``key_share=True``): we never change a key,
and unlike ``FOR UPDATE`` it does not conflict with the ``KEY SHARE`` lock a foreign-key check
takes, so "insert a row that references X, then lock X" cannot deadlock two transactions.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any, TypeVar

from sqlalchemy import Connection, Table, and_, select, update

from smilepay.adapters.sql import schema
from smilepay.adapters.sql import statements as st
from smilepay.adapters.sql.engine import pipelined
from smilepay.adapters.sql.outbox_tx import OutboxTx
from smilepay.adapters.sql.read_ahead import ReadAhead, standing_from_row
from smilepay.adapters.sql.records import TABLES, from_row, to_row
from smilepay.adapters.sql.write_buffer import WriteBuffer
from smilepay.domain.customers import Customer
from smilepay.domain.events import (
    WebhookEndpoint,
)
from smilepay.domain.ledger import Account, AccountKind, Hold, HoldStatus, Transfer
from smilepay.domain.money_errors import IdempotencyKeyReused
from smilepay.domain.payments import UNPAID, PaymentIntent
from smilepay.domain.tenants import ApiKey, Scope, Tenant
from smilepay.ports.money import Hint, KeyClaim, Page, PayerStanding, StoredResponse

R = TypeVar("R")


class SqlMoneyTx(OutboxTx):
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._pg = conn.dialect.name == "postgresql"
        self._credits: dict[str, int] = {}  # account id -> delta, see credit_at_commit
        self._buffer = WriteBuffer()  # appends sent many at a time, see write_buffer
        # Rows every payment reads (a tenant's fee, its webhook endpoints, the merchant's
        # account), keyed by (class, ...): read once per transaction, which group commit shares
        # between payments, until a write to their table (see _forget). Accounts are kept as
        # read; pending credits and buffered saves are laid over them on the way out.
        self._read_once: dict[tuple[object, ...], Any] = {}
        self._ahead = ReadAhead()  # a batch's claims, wallet locks and standings, see read_ahead

    def read_ahead(self, hints: Sequence[Hint | None]) -> None:
        """Group commit's first statements: what the batch's units will ask first."""
        self._ahead.read(self.conn, hints, pg=self._pg)

    # balance deltas applied last -----------------------------------------------------------
    def credit_at_commit(self, account_id: str, amount_minor: int) -> None:
        """A credit applied by the last statement before COMMIT, as ``balance + delta``: on
        PostgreSQL the credited row (a merchant balance that every payment credits) is then
        locked only for the commit instead of the whole payment."""
        self._credits[account_id] = self._credits.get(account_id, 0) + amount_minor

    def pending_credit(self, account_id: str) -> int:
        return self._credits.get(account_id, 0)

    def finish(self) -> None:
        """The transaction's last statements: every buffered write, then the credits (on
        PostgreSQL sent as one pipeline, see ``pipelined``)."""
        with pipelined(self.conn):
            self._flush_all()
            self.flush_credits()

    def flush_credits(self, account_ids: Iterable[str] | None = None) -> None:
        """Apply the pending deltas (of ``account_ids``, or all) in id order, the order every
        lock here is taken in. Locked reads flush first, so a balance saved after one
        includes them; plain reads add the pending delta to what they return instead."""
        ids = sorted(self._credits if account_ids is None else
                     {i for i in account_ids if i in self._credits})
        params = [{"b_id": i, "b_delta": d} for i in ids if (d := self._credits.pop(i))]
        if params:
            self._forget(Account)
            self._buffer.flush_balances(self.conn)  # absolute ones first
            self.conn.execute(st.add_balance_stmt(), params)

    def _with_pending(self, account: Account) -> Account:
        account = self._buffer.overlay(account)
        delta = self._credits.get(account.id, 0)
        return replace(account, balance_minor=account.balance_minor + delta) if delta else account

    def _flush(self, *tables: Table) -> None:
        """Before a statement that reads ``tables``: send their buffered inserts."""
        self._buffer.flush_inserts(self.conn, tables)

    def _flush_all(self) -> None:
        """Before a statement this class cannot vouch for, and before the commit."""
        self._forget(Account)
        self._buffer.flush_inserts(self.conn)
        self._buffer.flush_balances(self.conn)
        self._buffer.flush_responses(self.conn)

    # generic records -------------------------------------------------------------------
    def insert(self, record: object) -> None:
        self._forget_record(record)
        table, row = TABLES[type(record)], to_row(record)
        if not self._buffer.insert(table, row):
            self._flush_all()  # it may refer to a buffered row
            self.conn.execute(st.insert_stmt(table), row)

    def update(self, record: object) -> None:
        self._forget_record(record)
        self._flush_all()
        values = to_row(record)
        values["b_id"] = values.pop("id")
        self.conn.execute(st.update_stmt(TABLES[type(record)]), values)

    def get(
        self, cls: type[R], record_id: str, scope: Scope | None = None, *, for_update: bool = False
    ) -> R | None:
        if cls is Tenant and not for_update:
            key = (Tenant, record_id, scope)
            if key not in self._read_once:
                self._read_once[key] = self._get(cls, record_id, scope, for_update=False)
            found: R | None = self._read_once[key]
            return found
        return self._get(cls, record_id, scope, for_update=for_update)

    def _get(
        self, cls: type[R], record_id: str, scope: Scope | None, *, for_update: bool
    ) -> R | None:
        if cls is Account and for_update:
            self.flush_credits([record_id])
        self._flush(TABLES[cls])
        params: dict[str, object] = {"b_id": record_id}
        if scope is not None:
            params.update(b_tenant=scope.tenant_id, b_livemode=scope.livemode)
        query = st.get_stmt(TABLES[cls], scope is not None, for_update and self._pg)
        row = self.conn.execute(query, params).first()
        if row is None:
            return None
        record = from_row(cls, row)
        if isinstance(record, Account):
            return self._with_pending(record)  # type: ignore[return-value]  # R is Account
        return record

    def list_page(
        self,
        cls: type[R],
        scope: Scope,
        *,
        limit: int,
        starting_after: str | None = None,
        equals: dict[str, object] | None = None,
    ) -> Page[R]:
        """Newest first; ``starting_after`` is the last id of the previous page."""
        self.finish()
        table = TABLES[cls]
        query = select(table).where(st.in_scope(table, scope))
        for name, value in (equals or {}).items():
            query = query.where(table.c[name] == value)
        if starting_after is not None:
            query = query.where(table.c.id < starting_after)
        rows = self.conn.execute(query.order_by(table.c.id.desc()).limit(limit + 1)).all()
        return Page([from_row(cls, r) for r in rows[:limit]], has_more=len(rows) > limit)

    # keys and customers ----------------------------------------------------------------
    def find_api_key(self, key_hash: str) -> ApiKey | None:
        row = self.conn.execute(st.find_api_key_stmt(), {"b_hash": key_hash}).first()
        return None if row is None else from_row(ApiKey, row)

    def find_customers(
        self, scope: Scope, *, phone_hmac: str | None = None, last4_hmac: str | None = None,
        candidate_ids: Sequence[str] | None = None,
    ) -> list[Customer]:
        t = schema.customers
        query = select(t).where(st.in_scope(t, scope))
        if phone_hmac is not None:
            query = query.where(t.c.phone_hmac == phone_hmac)
        if last4_hmac is not None:
            query = query.where(t.c.phone_last4_hmac == last4_hmac)
        if candidate_ids is not None:
            query = query.where(t.c.id.in_(list(candidate_ids)))
        return [from_row(Customer, r) for r in self.conn.execute(query.order_by(t.c.id)).all()]

    # ledger ----------------------------------------------------------------------------
    def find_account(
        self, scope: Scope, kind: AccountKind, owner_id: str, currency: str
    ) -> Account | None:
        key = (Account, scope, kind, owner_id, currency)
        account: Account | None = self._read_once.get(key)
        if account is None:
            row = self.conn.execute(st.find_account_stmt(), {
                "b_tenant": scope.tenant_id, "b_livemode": scope.livemode, "b_kind": kind.value,
                "b_owner": owner_id, "b_currency": currency,
            }).first()
            if row is None:
                return None
            account = self._read_once[key] = from_row(Account, row)
        return self._with_pending(account)

    def lock_accounts(self, account_ids: Iterable[str]) -> dict[str, Account]:
        """The accounts, row-locked in id order (a stable order, so no deadlocks)."""
        account_ids = sorted(set(account_ids))
        self.flush_credits(account_ids)
        rows = self.conn.execute(st.lock_accounts_stmt(self._pg),
                                 {"b_ids": account_ids}).all()
        return {r.id: self._buffer.overlay(from_row(Account, r)) for r in rows}

    def lock_owned_accounts(
        self, scope: Scope, keys: Sequence[tuple[AccountKind, str, str]]
    ) -> list[Account]:
        """Accounts by (kind, owner, currency) in one query, row-locked in id order."""
        ahead = self._ahead.wallets(scope, keys)
        if ahead is not None and not any(a.id in self._credits for a in ahead):
            return sorted((self._buffer.overlay(a) for a in ahead), key=lambda a: a.id)
        params: dict[str, object] = {"b_tenant": scope.tenant_id, "b_livemode": scope.livemode}
        for i, (kind, owner, currency) in enumerate(keys):
            params.update({f"b_kind_{i}": kind.value, f"b_owner_{i}": owner,
                           f"b_currency_{i}": currency})
        query = st.lock_owned_stmt(len(keys), self._pg)
        rows = self.conn.execute(query, params).all()
        if any(r.id in self._credits for r in rows):  # rare: read again with the deltas applied
            self.flush_credits([r.id for r in rows])
            rows = self.conn.execute(query, params).all()
        return [self._buffer.overlay(from_row(Account, r)) for r in rows]

    def save_balances(self, accounts: Iterable[Account]) -> None:
        for account in accounts:  # sent with the batch's others (write_buffer)
            self._buffer.save_balance(account)

    def find_reversal(self, transfer_id: str) -> Transfer | None:
        self._flush(schema.transfers)
        t = schema.transfers
        row = self.conn.execute(select(t).where(t.c.reverses_id == transfer_id)).first()
        return None if row is None else from_row(Transfer, row)

    def all_accounts(self, scope: Scope | None = None) -> list[Account]:
        self.finish()
        t = schema.accounts
        query = select(t) if scope is None else select(t).where(st.in_scope(t, scope))
        return [from_row(Account, r) for r in self.conn.execute(query.order_by(t.c.id)).all()]

    def all_transfers(self, scope: Scope | None = None) -> list[Transfer]:
        self._flush(schema.transfers)
        t = schema.transfers
        query = select(t) if scope is None else select(t).where(st.in_scope(t, scope))
        return [from_row(Transfer, r) for r in self.conn.execute(query.order_by(t.c.id)).all()]

    def account_transfers(
        self, account_id: str, *, limit: int, starting_after: str | None
    ) -> Page[Transfer]:
        self._flush(schema.transfers)
        t = schema.transfers
        query = select(t).where(
            (t.c.debit_account_id == account_id) | (t.c.credit_account_id == account_id)
        )
        if starting_after is not None:
            query = query.where(t.c.id < starting_after)
        rows = self.conn.execute(query.order_by(t.c.id.desc()).limit(limit + 1)).all()
        return Page([from_row(Transfer, r) for r in rows[:limit]], has_more=len(rows) > limit)

    def expired_holds(self, now_ms: int, limit: int) -> list[Hold]:
        t = schema.holds
        rows = self.conn.execute(
            select(t).where(t.c.status == HoldStatus.PENDING.value, t.c.expires_at_ms <= now_ms)
            .order_by(t.c.id).limit(limit)
        ).all()
        return [from_row(Hold, r) for r in rows]

    # unpaid payment intents -------------------------------------------------------------
    def unpaid_payments(
        self, *, created_before_ms: int | None = None, scope: Scope | None = None,
        terminal_id: str | None = None, limit: int = 500,
    ) -> list[PaymentIntent]:
        """Intents nobody has paid yet (``requires_confirmation`` or ``failed``), oldest first:
        those created before a time (every tenant's, for expiry) or one terminal's."""
        self._flush(schema.payment_intents)
        t = schema.payment_intents
        query = select(t).where(t.c.status.in_(sorted(s.value for s in UNPAID)))
        if created_before_ms is not None:
            query = query.where(t.c.created_at_ms < created_before_ms)
        if scope is not None:
            query = query.where(st.in_scope(t, scope))
        if terminal_id is not None:
            query = query.where(t.c.terminal_id == terminal_id)
        rows = self.conn.execute(query.order_by(t.c.created_at_ms, t.c.id).limit(limit)).all()
        return [from_row(PaymentIntent, r) for r in rows]

    # risk ------------------------------------------------------------------------------
    def payer_standing(
        self, scope: Scope, customer_id: str, currency: str, *, spent_since_ms: int,
        failures_since_ms: int,
    ) -> PayerStanding | None:
        ahead = self._ahead.standing(scope, customer_id, currency, spent_since_ms,
                                     failures_since_ms)
        if ahead is not None:
            return ahead
        if self._buffer.has_insert(schema.payment_intents, "customer_id", customer_id):
            self._flush(schema.payment_intents)  # this customer's spend must count them
        row = self.conn.execute(st.payer_standing_stmt(False), {
            "b_id": customer_id, "b_tenant": scope.tenant_id, "b_livemode": scope.livemode,
            "b_currency": currency, "b_spent_since": spent_since_ms,
            "b_failures_since": failures_since_ms,
        }).first()
        return None if row is None else standing_from_row(row)[0]

    def record_attempt(
        self, scope: Scope, attempt_id: str, customer_id: str, payment_intent_id: str | None,
        succeeded: bool, reason: str, now_ms: int,
    ) -> None:
        self._flush_all()
        self._ahead.forget_payer(customer_id)
        self.conn.execute(schema.payment_attempts.insert().values(
            id=attempt_id, tenant_id=scope.tenant_id, livemode=scope.livemode,
            customer_id=customer_id, payment_intent_id=payment_intent_id,
            succeeded=succeeded, reason=reason, created_at_ms=now_ms,
        ))

    def failure_times_ms(self, customer_id: str, since_ms: int) -> list[int]:
        rows = self.conn.execute(
            st.failure_times_stmt(), {"b_customer": customer_id, "b_since": since_ms}
        ).all()
        return [int(r[0]) for r in rows]

    # idempotency -----------------------------------------------------------------------
    def claim_idempotency_key(self, scope: Scope, claim: KeyClaim) -> StoredResponse | None:
        """None when this transaction now owns the key; the stored response for a replay."""
        if self._ahead.owns_claim(scope, claim):
            return None
        key, fingerprint = claim.key, claim.fingerprint
        now_ms, expires_at_ms = claim.now_ms, claim.expires_at_ms
        if self._buffer.has_response(scope.tenant_id, scope.livemode, key):
            self._buffer.flush_responses(self.conn)
        t = schema.idempotency_keys
        values = dict(
            tenant_id=scope.tenant_id, livemode=scope.livemode, key=key,
            fingerprint=fingerprint, created_at_ms=now_ms, expires_at_ms=expires_at_ms,
        )
        while True:
            inserted = self.conn.execute(st.claim_key_stmt(self._pg), values).first()
            if inserted is not None:
                return None
            where = and_(st.in_scope(t, scope), t.c.key == key)
            query = select(t).where(where)
            if self._pg:
                query = query.with_for_update(key_share=True)
            row = self.conn.execute(query).first()
            if row is None:
                continue  # the owner rolled back; try to own it
            if row.expires_at_ms <= now_ms or row.status_code is None:
                self.conn.execute(update(t).where(where).values(
                    fingerprint=fingerprint, created_at_ms=now_ms, expires_at_ms=expires_at_ms,
                    status_code=None, response_body=None,
                ))
                return None
            if row.fingerprint != fingerprint:
                raise IdempotencyKeyReused(
                    "expected the same request as the first use of this Idempotency-Key, "
                    "got a different one", param="Idempotency-Key",
                )
            return StoredResponse(int(row.status_code), bytes(row.response_body))

    def store_idempotent_response(self, scope: Scope, key: str, response: StoredResponse) -> None:
        self._buffer.store_response({
            "b_tenant": scope.tenant_id, "b_livemode": scope.livemode, "b_key": key,
            "b_status": response.status_code, "b_body": response.body,
        })

    def purge_idempotency_keys(self, now_ms: int) -> int:
        self._buffer.flush_responses(self.conn)
        t = schema.idempotency_keys
        return self.conn.execute(t.delete().where(t.c.expires_at_ms <= now_ms)).rowcount

    # webhooks outbox -------------------------------------------------------------------
    def endpoints(self, scope: Scope) -> list[WebhookEndpoint]:
        key = (WebhookEndpoint, scope)
        if key not in self._read_once:
            rows = self.conn.execute(st.endpoints_stmt(), {
                "b_tenant": scope.tenant_id, "b_livemode": scope.livemode}).all()
            self._read_once[key] = [from_row(WebhookEndpoint, r) for r in rows]
        return list(self._read_once[key])

    def _forget_record(self, record: object) -> None:
        """``record`` is being written: forget what it may make stale."""
        self._forget(type(record))
        if isinstance(record, PaymentIntent):
            self._ahead.forget_payer(record.customer_id)

    def _forget(self, cls: type[Any]) -> None:
        """A write to a table read once: read it again next time."""
        self._ahead.forget(cls)
        if any(key[0] is cls for key in self._read_once):
            self._read_once = {k: v for k, v in self._read_once.items() if k[0] is not cls}
