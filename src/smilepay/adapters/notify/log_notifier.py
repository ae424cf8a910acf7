"""``LogNotifier``: writes notifications to the log, with the phone number masked."""

from __future__ import annotations

import logging

from smilepay.domain.events import Notification
from smilepay.ports.notify import Contact

log = logging.getLogger("smilepay.notify")


class LogNotifier:
    def __init__(self) -> None:
        self.sent: list[str] = []

    def send(self, notification: Notification, contact: Contact) -> None:
        line = f"notify {contact.phone_masked} [{notification.kind}] {notification.subject}"
        self.sent.append(line)
        log.info(line)
