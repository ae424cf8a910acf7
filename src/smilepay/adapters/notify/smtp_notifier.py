"""``SmtpNotifier``: e-mails notifications to customers who gave an address."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from smilepay.domain.events import Notification
from smilepay.ports.notify import Contact


class SmtpNotifier:
    def __init__(self, host: str, port: int, sender: str, *, starttls: bool = False,
                 username: str | None = None, password: str | None = None,
                 timeout_s: float = 10.0) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.starttls, self.username, self.password = starttls, username, password
        self.timeout_s = timeout_s

    def send(self, notification: Notification, contact: Contact) -> None:
        if not contact.email:
            return  # nothing to send to; the wallet page still shows it
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = contact.email
        message["Subject"] = notification.subject
        message.set_content(notification.body)
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.username and self.password:
                smtp.login(self.username, self.password)
            smtp.send_message(message)
