"""The outbox workers' reads and writes (webhook deliveries, notifications), as a part of
``SqlMoneyTx``: they run in the same transaction type, after its buffered writes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table, select

from smilepay.adapters.sql import schema
from smilepay.adapters.sql.records import from_row
from smilepay.domain.events import DeliveryStatus, Notification, WebhookDelivery


class OutboxTx:
    conn: Connection
    _pg: bool

    def _flush(self, *tables: Table) -> None:
        raise NotImplementedError  # SqlMoneyTx: send buffered inserts into ``tables``

    def _flush_all(self) -> None:
        raise NotImplementedError  # SqlMoneyTx: send every buffered write

    def due_deliveries(self, now_ms: int, limit: int) -> list[WebhookDelivery]:
        self._flush(schema.webhook_deliveries)
        t = schema.webhook_deliveries
        query = (
            select(t).where(
                t.c.status == DeliveryStatus.PENDING.value, t.c.next_attempt_at_ms <= now_ms
            ).order_by(t.c.next_attempt_at_ms, t.c.id).limit(limit)
        )
        if self._pg:
            query = query.with_for_update(key_share=True, skip_locked=True)
        return [from_row(WebhookDelivery, r) for r in self.conn.execute(query).all()]

    def record_webhook_attempt(
        self, delivery_id: str, now_ms: int, status_code: int | None, error: str | None,
        duration_ms: int,
    ) -> None:
        self._flush_all()
        self.conn.execute(schema.webhook_attempts.insert().values(
            delivery_id=delivery_id, attempted_at_ms=now_ms, status_code=status_code,
            error=error, duration_ms=duration_ms,
        ))

    def webhook_attempts(self, delivery_id: str) -> list[dict[str, Any]]:
        t = schema.webhook_attempts
        rows = self.conn.execute(
            select(t).where(t.c.delivery_id == delivery_id).order_by(t.c.id)
        ).all()
        return [dict(r._mapping) for r in rows]

    def deliveries_for_event(self, event_id: str) -> list[WebhookDelivery]:
        self._flush(schema.webhook_deliveries)
        t = schema.webhook_deliveries
        rows = self.conn.execute(select(t).where(t.c.event_id == event_id).order_by(t.c.id)).all()
        return [from_row(WebhookDelivery, r) for r in rows]

    def undelivered_notifications(self, limit: int) -> list[Notification]:
        self._flush(schema.notifications)
        t = schema.notifications
        rows = self.conn.execute(
            select(t).where(t.c.delivered_at_ms.is_(None)).order_by(t.c.id).limit(limit)
        ).all()
        return [from_row(Notification, r) for r in rows]
