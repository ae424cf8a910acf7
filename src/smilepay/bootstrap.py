"""The composition root: the only place that chooses adapters.

Settings come from ``smilepay.config.Settings``: ``SMILEPAY_PHONE_KEY`` (base64 of 32+ bytes;
without it a DEV-ONLY key is derived and a warning logged), ``SMILEPAY_SMTP_HOST``/``_PORT``/
``_SENDER`` (use SMTP instead of the log notifier), ``SMILEPAY_LIVE`` (serve live keys: the
container refuses to build without the live secrets, ``check_live_secrets``),
``SMILEPAY_WEBHOOKS_ALLOW_LOOPBACK`` (test-mode webhooks to this machine).
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
from smilepay.errors import SmilePayError
from smilepay.ports.money import Clock
from smilepay.ports.notify import Notifier, WebhookSender
from smilepay.services.context import MoneyContext, MoneyPolicy, SystemClock
from smilepay.services.phones import DEV_ONLY_MASTER_KEY, PhoneCipher
from smilepay.services.tenants import CallerCache
from smilepay.webhook_targets import TargetPolicy

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
    live: bool = False  # live keys are served only when the live secrets were checked
    webhook_policy: TargetPolicy = field(default_factory=TargetPolicy)

    def close(self) -> None:
        self.store.dispose()


class LiveSecretsMissing(SmilePayError):
    """``SMILEPAY_LIVE`` is on but a secret live mode needs is missing or a development one."""

    code = "live_secrets_missing"


def _phone_key(settings: Settings) -> bytes | None:
    try:
        raw = base64.b64decode(settings.phone_key, validate=True)
    except ValueError:
        return None
    return raw if len(raw) >= 32 else None


def check_live_secrets(settings: Settings) -> None:
    """Live mode starts only with its secrets: raises naming every one missing (never their
    values)."""
    if not settings.live:
        return
    missing = []
    if _phone_key(settings) in (None, DEV_ONLY_MASTER_KEY):
        missing.append("SMILEPAY_PHONE_KEY (base64 of 32+ random bytes, not the dev key)")
    if settings.webhooks_allow_loopback:
        missing.append("SMILEPAY_WEBHOOKS_ALLOW_LOOPBACK unset (a development setting)")
    if missing:
        raise LiveSecretsMissing("expected the live secrets with SMILEPAY_LIVE=true, got "
                                 "none or a development value for: " + "; ".join(missing))


def phone_cipher(settings: Settings) -> PhoneCipher:
    if not settings.phone_key:
        log.warning("SMILEPAY_PHONE_KEY is unset: using a DEV-ONLY phone key (test mode only)")
        return PhoneCipher(DEV_ONLY_MASTER_KEY)
    key = _phone_key(settings)
    if key is None:
        raise LiveSecretsMissing("expected SMILEPAY_PHONE_KEY to be base64 of 32+ random "
                                 "bytes, got another form")
    return PhoneCipher(key)


def build_container(
    database_url: str | None = None, *, migrate: bool = True, clock: Clock | None = None,
    policy: MoneyPolicy | None = None, settings: Settings | None = None,
) -> Container:
    money = settings or get_settings()
    check_live_secrets(money)
    store = SqlMoneyStore.from_url(database_url or money.resolved_database_url())
    if migrate:
        upgrade_engine(store.engine)
    notifier: Notifier = (
        SmtpNotifier(money.smtp_host, money.smtp_port, money.smtp_sender)
        if money.smtp_host else LogNotifier()
    )
    ctx = MoneyContext(clock=clock or SystemClock(), phones=phone_cipher(money),
                       policy=policy or MoneyPolicy(unpaid_ttl_s=money.unpaid_ttl_s))
    webhook_policy = TargetPolicy(allow_loopback=money.webhooks_allow_loopback)
    return Container(store=store, ctx=ctx, notifier=notifier,
                     webhook_sender=HttpxWebhookSender(policy=webhook_policy),
                     callers=CallerCache(ttl_ms=money.auth_cache_ms), live=money.live,
                     webhook_policy=webhook_policy)
