"""The composition root: the only place that chooses adapters.

Settings come from ``smilepay.config.Settings``: ``SMILEPAY_PHONE_KEY`` (base64 of 32+ bytes;
without it a DEV-ONLY key is derived and a warning logged), ``SMILEPAY_SMTP_HOST``/``_PORT``/
``_SENDER`` (use SMTP instead of the log notifier).
"""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass, field

from smilepay.adapters.notify.httpx_webhooks import HttpxWebhookSender
from smilepay.adapters.notify.log_notifier import LogNotifier
from smilepay.adapters.notify.smtp_notifier import SmtpNotifier
from smilepay.adapters.sql.migrate import upgrade_engine
from smilepay.adapters.sql.store import SqlMoneyStore
from smilepay.config import Settings, get_settings
from smilepay.ports.money import Clock
from smilepay.ports.notify import Notifier, WebhookSender
from smilepay.services.context import MoneyContext, MoneyPolicy, SystemClock
from smilepay.services.phones import DEV_ONLY_MASTER_KEY, PhoneCipher
from smilepay.services.tenants import CallerCache

log = logging.getLogger("smilepay.bootstrap")


@dataclass
class Container:
    """Everything the entry points need, built once per process."""

    store: SqlMoneyStore
    ctx: MoneyContext
    notifier: Notifier
    webhook_sender: WebhookSender
    callers: CallerCache = field(default_factory=lambda: CallerCache(ttl_ms=0))
    extras: dict[str, object] = field(default_factory=dict)

    def close(self) -> None:
        self.store.dispose()


def phone_cipher(settings: Settings) -> PhoneCipher:
    if not settings.phone_key:
        log.warning("SMILEPAY_PHONE_KEY is unset: using a DEV-ONLY phone key (not for production)")
        return PhoneCipher(DEV_ONLY_MASTER_KEY)
    return PhoneCipher(base64.b64decode(settings.phone_key))


def build_container(
    database_url: str | None = None, *, migrate: bool = True, clock: Clock | None = None,
    policy: MoneyPolicy | None = None,
) -> Container:
    money = get_settings()
    store = SqlMoneyStore.from_url(database_url or money.resolved_database_url())
    if migrate:
        upgrade_engine(store.engine)
    notifier: Notifier = (
        SmtpNotifier(money.smtp_host, money.smtp_port, money.smtp_sender)
        if money.smtp_host else LogNotifier()
    )
    ctx = MoneyContext(clock=clock or SystemClock(), phones=phone_cipher(money),
                       policy=policy or MoneyPolicy(unpaid_ttl_s=money.unpaid_ttl_s))
    return Container(store=store, ctx=ctx, notifier=notifier,
                     webhook_sender=HttpxWebhookSender(),
                     callers=CallerCache(ttl_ms=money.auth_cache_ms))
