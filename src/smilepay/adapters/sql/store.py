"""``SqlMoneyStore``: the money store on SQLite or PostgreSQL.

Writes go through group commit (``group_commit.GroupCommit``): under load, several callers'
units of work share one transaction and one commit, which first reads ahead what their hints
say they will ask (``read_ahead``). Reads run alone, in their own transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Connection, Engine

from smilepay.adapters.sql.engine import TransactionRunner, make_engine
from smilepay.adapters.sql.group_commit import GroupCommit
from smilepay.adapters.sql.tx import SqlMoneyTx
from smilepay.ports.money import Hint, MoneyTx

T = TypeVar("T")


class SqlMoneyStore:
    def __init__(self, engine: Engine, *, max_batch: int = 32) -> None:
        self.engine = engine
        self._runner = TransactionRunner(engine)
        # finish: the buffered writes, then the merchant credits (their hot rows are locked
        # only from then to the commit)
        self._writes = GroupCommit(self._runner, SqlMoneyTx, SqlMoneyTx.finish,
                                   max_batch=max_batch, read_ahead=SqlMoneyTx.read_ahead)

    @classmethod
    def from_url(cls, url: str) -> SqlMoneyStore:
        return cls(make_engine(url))

    def run(
        self, work: Callable[[MoneyTx], T], *, write: bool = True, hint: Hint | None = None
    ) -> T:
        if write:
            payer = hint.payer if hint is not None else None
            return self._writes.run(work, order_key=payer.customer_id if payer else None,
                                    hint=hint)

        def in_tx(conn: Connection) -> T:
            tx = SqlMoneyTx(conn)
            result = work(tx)
            tx.finish()  # a read that wrote anyway still writes everything
            return result

        return self._runner.run(in_tx, write=False)

    def dispose(self) -> None:
        self.engine.dispose()
