"""``LogNotifier``: writes notifications to the log, with the phone number masked."""

from __future__ import annotations

import logging
from collections import deque

from smilepay.domain.events import Notification
from smilepay.ports.notify import Contact

log = logging.getLogger("smilepay.notify")


class LogNotifier:
    def __init__(self, keep_last: int = 1000) -> None:
        # the last lines sent, for tests and the operator's eye; bounded in a long-running server
        self.sent: deque[str] = deque(maxlen=keep_last)

    def send(self, notification: Notification, contact: Contact) -> None:
        line = f"notify {contact.phone_masked} [{notification.kind}] {notification.subject}"
        self.sent.append(line)
        log.info(line)
