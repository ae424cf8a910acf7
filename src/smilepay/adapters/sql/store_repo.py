"""``SqlStoreUnit``: the store's unit of work on SQLite or PostgreSQL.

One database transaction holds the store's rows and the money core's (``SqlMoneyTx`` on the
same connection, finished before the commit), so a trip and its hold, capture or debt commit
together or not at all.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, Table, and_, insert, literal_column, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import ReturningInsert

from smilepay.adapters.sql import store_schema as s
from smilepay.adapters.sql.engine import TransactionRunner
from smilepay.adapters.sql.tx import SqlMoneyTx
from smilepay.adapters.store.device_keys import configured_key_ring
from smilepay.ports.identity import KeyRing
from smilepay.ports.store import StoreTx

T = TypeVar("T")
Row = dict[str, Any]
_IGNORE_STATEMENTS: dict[tuple[str, bool], ReturningInsert[Any]] = {}

TABLES: dict[str, Table] = {
    "stores": s.stores, "gates": s.gates, "devices": s.devices, "slots": s.slots,
    "products": s.products, "events": s.events, "trips": s.trips, "lines": s.trip_lines,
    "review": s.review_items, "taken_picks": s.taken_picks, "sold_tags": s.sold_tags,
    "alerts": s.alerts, "entry_codes": s.entry_codes, "debts": s.debts,
    "disputes": s.disputes,
}


def _table(name: str) -> Table:
    table = TABLES.get(name)
    if table is None:
        raise KeyError(f"expected a store table name, got {name!r}")
    return table


def _where(table: Table, where: dict[str, Any]) -> Any:
    return and_(*(table.c[k] == v for k, v in where.items())) if where else True


class SqlStoreTx:
    def __init__(self, conn: Connection,
                 device_keys: Callable[[], KeyRing] = configured_key_ring) -> None:
        self.conn = conn
        self.money = SqlMoneyTx(conn)
        self._pg = conn.dialect.name == "postgresql"
        self._device_keys = device_keys

    @property
    def device_keys(self) -> KeyRing:
        """The unit's key ring (by default the install's, ``configured_key_ring``)."""
        return self._device_keys()

    def insert(self, table: str, row: Row) -> None:
        self.conn.execute(insert(_table(table)), [row])

    def insert_ignore(self, table: str, rows: Sequence[Row]) -> int:
        """One cached statement sent as executemany: SQLAlchemy's "insertmanyvalues" turns it
        into multi-row INSERTs on both engines, and RETURNING counts the new rows (psycopg's
        rowcount is -1 for executemany). A multi-row ``.values()`` compiles anew every call."""
        if not rows:
            return 0
        key = (table, self._pg)
        stmt = _IGNORE_STATEMENTS.get(key)
        if stmt is None:
            dialect_insert = postgresql.insert if self._pg else sqlite.insert
            stmt = (dialect_insert(_table(table)).on_conflict_do_nothing()
                    .returning(literal_column("1")))
            _IGNORE_STATEMENTS[key] = stmt
        return len(self.conn.execute(stmt, list(rows)).all())

    def update(self, table: str, key: Row, values: Row) -> int:
        target = _table(table)
        result = self.conn.execute(update(target).where(_where(target, key)).values(**values))
        return result.rowcount

    def one(self, table: str, *, for_update: bool = False, **where: Any) -> Row | None:
        target = _table(table)
        stmt = select(target).where(_where(target, where)).limit(1)
        if for_update and self._pg:
            stmt = stmt.with_for_update(key_share=True)
        found = self.conn.execute(stmt).first()
        return None if found is None else dict(found._mapping)

    def rows(self, table: str, *, order_by: str | None = None, descending: bool = False,
             limit: int | None = None, **where: Any) -> list[Row]:
        target = _table(table)
        stmt = select(target).where(_where(target, where))
        if order_by is not None:
            column = target.c[order_by]
            stmt = stmt.order_by(column.desc() if descending else column)
        if limit is not None:
            stmt = stmt.limit(limit)
        return [dict(r._mapping) for r in self.conn.execute(stmt)]

    def rows_in(self, table: str, column: str, values: Sequence[Any], **where: Any) -> list[Row]:
        if not values:
            return []
        target = _table(table)
        stmt = select(target).where(target.c[column].in_(list(values)), _where(target, where))
        return [dict(r._mapping) for r in self.conn.execute(stmt)]

    def events_between(self, store_id: str, kind: str, start_ms: int, end_ms: int
                       ) -> list[Row]:
        e = s.events
        stmt = (select(e).where(e.c.store_id == store_id, e.c.kind == kind,
                                e.c.at_ms >= start_ms, e.c.at_ms <= end_ms)
                .order_by(e.c.at_ms, e.c.device_id, e.c.event_id))
        return [dict(r._mapping) for r in self.conn.execute(stmt)]

    def silent_devices(self, before_ms: int) -> list[Row]:
        d = s.devices
        stmt = select(d).where(d.c.silent_alerted.is_(False), d.c.last_seen_ms.is_not(None),
                               d.c.last_seen_ms < before_ms, d.c.revoked_at_ms.is_(None))
        return [dict(r._mapping) for r in self.conn.execute(stmt)]


class SqlStoreUnit:
    """``device_keys`` seals the devices' secrets; without one, the install's key ring (the
    face secrets file, ``adapters.store.device_keys``), loaded on first use."""

    def __init__(self, engine: Engine, device_keys: KeyRing | None = None) -> None:
        self.engine = engine
        self._runner = TransactionRunner(engine)
        self._device_keys = device_keys

    @property
    def device_keys(self) -> KeyRing:
        if self._device_keys is None:
            self._device_keys = configured_key_ring()
        return self._device_keys

    def run(self, work: Callable[[StoreTx], T], *, write: bool = True) -> T:
        def in_tx(conn: Connection) -> T:
            tx = SqlStoreTx(conn, lambda: self.device_keys)
            result = work(tx)
            tx.money.finish()
            return result

        return self._runner.run(in_tx, write=write)
