"""Send the customer notifications waiting in the outbox through a ``Notifier``."""

from __future__ import annotations

from dataclasses import replace
from functools import partial

from smilepay.domain.customers import Customer, mask_phone
from smilepay.domain.events import Notification
from smilepay.ports.money import Clock, MoneyStore, MoneyTx
from smilepay.ports.notify import Contact, Notifier
from smilepay.services.phones import PhoneCipher


def _save(tx: MoneyTx, record: Notification) -> None:
    tx.update(record)


def dispatch_notifications(
    store: MoneyStore, notifier: Notifier, phones: PhoneCipher, clock: Clock, limit: int = 100
) -> int:
    def pending(tx: MoneyTx) -> list[tuple[Notification, Contact]]:
        out = []
        for n in tx.undelivered_notifications(limit):
            customer = tx.get(Customer, n.customer_id)
            if customer is None:
                continue
            phone = phones.decrypt(customer.phone_ciphertext, customer.tenant_id)
            out.append((n, Contact(mask_phone(phone), customer.email)))
        return out

    batch = store.run(pending)
    for notification, contact in batch:
        notifier.send(notification, contact)
        delivered = replace(notification, delivered_at_ms=clock.now_ms())
        store.run(partial(_save, record=delivered))
    return len(batch)
