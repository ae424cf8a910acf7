"""Read-only counts for ``/metrics``, taken when Prometheus scrapes: outbox depth, open face
sessions (the tenant scopes a gallery's size is summed over come from
``IdentityStore.template_counts``). Each is one ``COUNT`` or
``GROUP BY`` statement (never rows loaded into Python) on its own short connection."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, case, func, select

from smilepay.adapters.sql import schema
from smilepay.adapters.sql.identity_schema import face_challenges
from smilepay.domain.events import DeliveryStatus


@dataclass(frozen=True)
class OutboxDepth:
    webhooks_due: int  # pending and due now: the delivery worker's backlog
    webhooks_pending: int  # pending, due now or waiting for a retry
    webhooks_failed: int  # retries exhausted (never delivered)
    notifications_unsent: int


def outbox_depth(engine: Engine, now_ms: int) -> OutboxDepth:
    """The same rows ``due_deliveries`` and ``undelivered_notifications`` read, counted. The
    webhook count uses the ``(status, next_attempt_at_ms)`` index."""
    t = schema.webhook_deliveries
    due = func.sum(case((t.c.next_attempt_at_ms <= now_ms, 1), else_=0))
    webhooks = (select(t.c.status, func.count(), due)
                .where(t.c.status.in_([DeliveryStatus.PENDING.value, DeliveryStatus.FAILED.value]))
                .group_by(t.c.status))
    n = schema.notifications
    unsent = select(func.count()).select_from(n).where(n.c.delivered_at_ms.is_(None))
    with engine.connect() as conn:
        by_status = {row[0]: (int(row[1]), int(row[2] or 0)) for row in conn.execute(webhooks)}
        notifications = int(conn.execute(unsent).scalar() or 0)
    pending, due_now = by_status.get(DeliveryStatus.PENDING.value, (0, 0))
    failed, _ = by_status.get(DeliveryStatus.FAILED.value, (0, 0))
    return OutboxDepth(due_now, pending, failed, notifications)


def open_face_sessions(engine: Engine, now_ms: int) -> dict[str, int]:
    """Face challenges still collecting frames and not expired, by purpose (all workers: the
    challenge rows are shared even while the frames live in one worker's memory)."""
    t = face_challenges
    query = (select(t.c.purpose, func.count())
             .where((t.c.state == "open") & (t.c.expires_at_ms > now_ms))
             .group_by(t.c.purpose))
    with engine.connect() as conn:
        return {str(purpose): int(count) for purpose, count in conn.execute(query)}

