"""Time-driven clean-up the money core needs: expired holds, unpaid payments, old idempotency keys.

Run by the outbox worker (``smilepay webhooks deliver --loop``) and, so that an embedded
``smilepay serve`` needs no second process, by each served worker every few seconds. Every step
re-reads under a lock and skips what another process has already done, so several runners
are safe.
"""

from __future__ import annotations

import logging
import threading

from smilepay.ports.money import MoneyStore, MoneyTx
from smilepay.services.context import MoneyContext
from smilepay.services.payments import expire_payment_holds, expire_unpaid_payments

log = logging.getLogger("smilepay.housekeeping")


def expire_due(tx: MoneyTx, ctx: MoneyContext) -> int:
    """Purge idempotency keys past their day; release expired holds and cancel their payments;
    cancel payments nobody paid in time. The number of holds and payments expired."""
    tx.purge_idempotency_keys(ctx.clock.now_ms())
    return expire_payment_holds(tx, ctx) + expire_unpaid_payments(tx, ctx)


def run_every(store: MoneyStore, ctx: MoneyContext, interval_s: float,
              stop: threading.Event) -> threading.Thread:
    """``expire_due`` every ``interval_s`` on a daemon thread until ``stop`` is set."""

    def loop() -> None:
        while not stop.wait(interval_s):
            try:
                expired = store.run(lambda tx: expire_due(tx, ctx))
            except Exception:  # a database hiccup must not end the loop; the next run retries
                log.exception("housekeeping failed; retrying in %.0f s", interval_s)
                continue
            if expired:
                log.info("housekeeping: %d holds and unpaid payments expired", expired)

    thread = threading.Thread(target=loop, name="smilepay-housekeeping", daemon=True)
    thread.start()
    return thread
