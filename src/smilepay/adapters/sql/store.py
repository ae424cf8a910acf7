"""``SqlMoneyStore``: the money store on SQLite or PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Connection, Engine

from smilepay.adapters.sql.engine import TransactionRunner, make_engine
from smilepay.adapters.sql.tx import SqlMoneyTx
from smilepay.ports.money import MoneyTx

T = TypeVar("T")


class SqlMoneyStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._runner = TransactionRunner(engine)

    @classmethod
    def from_url(cls, url: str) -> SqlMoneyStore:
        return cls(make_engine(url))

    def run(self, work: Callable[[MoneyTx], T], *, write: bool = True) -> T:
        def in_tx(conn: Connection) -> T:
            tx = SqlMoneyTx(conn)
            result = work(tx)
            tx.flush_credits()  # last: see SqlMoneyTx.credit_at_commit
            return result

        return self._runner.run(in_tx, write=write)

    def dispose(self) -> None:
        self.engine.dispose()
