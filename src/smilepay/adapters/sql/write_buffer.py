"""Write-behind for the money transaction: rows a payment only appends, sent many at a time.

A payment inserts its intent, transfer, event, notification (and webhook deliveries), saves the
payer's balance and stores its idempotent response: six statements that nothing reads back in
the same payment. Executed one by one they are a large share of the payment's cost (each one is
a driver call, and on PostgreSQL a round trip). Buffered here and sent as one ``executemany`` per
table, they cost one call for a whole group-commit batch.

The transaction flushes a table's buffer before any statement that reads that table, so every
read sees every earlier write (``SqlMoneyTx`` names the tables each read touches), and flushes
everything before the commit. Balance saves are absolute values: a locked read of an account
that has one gets it laid over the row it read (``overlay``), as the row would be after a flush.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from typing import Any

from sqlalchemy import Connection, Table

from smilepay.adapters.sql import schema
from smilepay.adapters.sql import statements as st
from smilepay.domain.ledger import Account

# Tables whose inserts are buffered, in an order that respects their foreign keys
# (a webhook delivery names its event).
BUFFERED = (schema.payment_intents, schema.transfers, schema.events,
            schema.webhook_deliveries, schema.notifications)
_PARENTS: dict[Table, tuple[Table, ...]] = {schema.webhook_deliveries: (schema.events,)}


class WriteBuffer:
    def __init__(self) -> None:
        self._inserts: dict[Table, list[dict[str, Any]]] = {t: [] for t in BUFFERED}
        self._balances: dict[str, dict[str, Any]] = {}  # account id -> absolute values
        self._responses: list[dict[str, Any]] = []

    def insert(self, table: Table, row: dict[str, Any]) -> bool:
        """Buffer ``row`` when ``table`` is buffered; False means: run it now."""
        rows = self._inserts.get(table)
        if rows is None:
            return False
        rows.append(row)
        return True

    def has_insert(self, table: Table, column: str, value: object) -> bool:
        """Whether a buffered insert into ``table`` has ``column == value``."""
        return any(row[column] == value for row in self._inserts.get(table, ()))

    def has_response(self, tenant_id: str, livemode: bool, key: str) -> bool:
        return any((r["b_tenant"], r["b_livemode"], r["b_key"]) == (tenant_id, livemode, key)
                   for r in self._responses)

    def save_balance(self, account: Account) -> None:
        self._balances[account.id] = {"b_id": account.id, "b_balance": account.balance_minor,
                                      "b_pending": account.pending_out_minor}

    def has_balance(self, account_id: str) -> bool:
        return account_id in self._balances

    def overlay(self, account: Account) -> Account:
        """``account`` as read, with this transaction's unflushed save of it applied."""
        saved = self._balances.get(account.id)
        if saved is None:
            return account
        return replace(account, balance_minor=saved["b_balance"],
                       pending_out_minor=saved["b_pending"])

    def store_response(self, params: dict[str, Any]) -> None:
        self._responses.append(params)

    def flush_inserts(self, conn: Connection, tables: Collection[Table] | None = None) -> None:
        """Send the buffered inserts of ``tables`` (and of the tables they refer to), or all."""
        wanted = set(BUFFERED) if tables is None else {
            p for t in tables for p in (t, *_PARENTS.get(t, ()))}
        for table in BUFFERED:
            rows = self._inserts[table]
            if table in wanted and rows:
                self._inserts[table] = []
                conn.execute(st.insert_stmt(table), rows)

    def flush_balances(self, conn: Connection) -> None:
        if self._balances:
            params = [self._balances[i] for i in sorted(self._balances)]  # the lock order
            self._balances.clear()
            conn.execute(st.save_balance_stmt(), params)

    def flush_responses(self, conn: Connection) -> None:
        if self._responses:
            params, self._responses = self._responses, []
            conn.execute(st.store_response_stmt(), params)
