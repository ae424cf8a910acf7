"""The composition root: the only place that chooses adapters.

Settings come from ``smilepay.config.Settings``: ``SMILEPAY_PHONE_KEY`` (base64 of 32+ bytes;
without it a DEV-ONLY key is derived and a warning logged), ``SMILEPAY_SMTP_HOST``/``_PORT``/
``_SENDER`` (use SMTP instead of the log notifier), ``SMILEPAY_LIVE`` (serve live keys: the
container refuses to build without the live secrets, ``check_live_secrets``),
``SMILEPAY_WEBHOOKS_ALLOW_LOOPBACK`` (test-mode webhooks to this machine).

The face side (``build_face_context``): ``SMILEPAY_FACE_*`` (``FaceSettings``), the gallery
by ``SMILEPAY_GALLERY`` (faiss | pgvector | milvus, + ``SMILEPAY_GALLERY_URL``; default pgvector
on PostgreSQL, else FAISS kept exact by the change log) and the session store by
``SMILEPAY_REDIS_URL`` (Redis when set, else the SQL database). Services see only the ports.
"""

from __future__ import annotations

import atexit
import base64
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from smilepay.adapters.notify.httpx_webhooks import HttpxWebhookSender
from smilepay.adapters.notify.log_notifier import LogNotifier
from smilepay.adapters.notify.smtp_notifier import SmtpNotifier
from smilepay.adapters.sql.identity_store import SqlIdentityStore
from smilepay.adapters.sql.migrate import upgrade_engine
from smilepay.adapters.sql.store import SqlMoneyStore
from smilepay.config import FaceSettings, Settings, get_settings
from smilepay.errors import SmilePayError
from smilepay.ports.money import Clock
from smilepay.ports.notify import Notifier, WebhookSender
from smilepay.services.context import MoneyContext, MoneyPolicy, SystemClock
from smilepay.services.face_context import FaceContext
from smilepay.services.face_policy import FacePolicy, policy_from
from smilepay.services.face_sessions import FrameSessions
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


def layered_liveness(policy: FacePolicy) -> Any:
    """The ``LivenessCheck`` port: challenge always; fr_liveness as an advisory passive layer."""
    from smilepay.services.face_challenge import verifier_settings
    from smilepay.vision.liveness.layered import LayeredLivenessCheck

    passive: list[Any] = []
    if policy.passive_liveness:
        from smilepay.adapters.liveness.fr_liveness import FrLivenessScorer

        passive.append(FrLivenessScorer())
    return LayeredLivenessCheck(passive=passive, verifier=verifier_settings(policy))


def build_face_context(identity: SqlIdentityStore, settings: FaceSettings | None = None,
                       policy: FacePolicy | None = None,
                       load_pipeline: Callable[[], Any] | None = None,
                       load_liveness: Callable[[], Any] | None = None, *,
                       app: Settings | None = None) -> FaceContext:
    """The face side of the composition root: secrets file, gallery and session adapters,
    lazy face engine. ``settings`` defaults to ``app.face()`` (``SMILEPAY_FACE_*``)."""
    from smilepay.adapters.crypto import TenantRotations, load_or_create_secrets
    from smilepay.adapters.gallery.settings import GallerySettings, build_gallery, build_sessions
    from smilepay.adapters.sql.flow_store import SqlFlowStore

    app = app or get_settings()
    settings = settings or app.face()
    found = load_or_create_secrets(Path(settings.secrets_file or app.var_dir / "face-secrets.json"))
    chosen = policy or policy_from(settings)
    if chosen.fixed_steps is not None:
        log.warning("face challenge fixed to %s: a recording can answer it, so it does not stop "
                    "replays; use the random challenge for payments (docs/liveness.md)",
                    ",".join(a.value for a in chosen.fixed_steps))
    gallery_settings = GallerySettings(
        gallery=app.gallery, gallery_url=app.gallery_url,
        gallery_cache_dir=app.gallery_cache_dir or settings.index_dir
        or str(app.var_dir / "face-index"),
        gallery_nprobe=app.gallery_nprobe,
        gallery_ivf_from=settings.exact_below or app.gallery_ivf_from,
        gallery_ef_search=app.gallery_ef_search,
        gallery_ef_construction=app.gallery_ef_construction, redis_url=app.redis_url)
    engine = identity.engine
    gallery = build_gallery(gallery_settings, engine, found.key_ring, app.var_dir)
    store = build_sessions(gallery_settings, engine)
    secret = found.rotation_secret

    def default_pipeline() -> Any:
        from smilepay.adapters.models.pipeline_factory import load_pipeline as load

        return load()  # the configured strategy

    holder: dict[str, FaceContext] = {}
    ctx = FaceContext(identity=identity, keys=found.key_ring,
                      rotations=lambda dim: TenantRotations(secret, dim), pepper=found.pepper,
                      gallery=gallery, sessions=FrameSessions(store, chosen.session_ttl_s),
                      flow=SqlFlowStore(engine), policy=chosen,
                      load_pipeline=load_pipeline or default_pipeline,
                      load_liveness=load_liveness or (lambda: layered_liveness(
                          holder["ctx"].policy)))
    holder["ctx"] = ctx
    atexit.register(ctx.close)
    atexit.register(gallery.close)  # the FAISS gallery writes its snapshot cache
    return ctx


_FACE_BUILD_LOCK = threading.Lock()


def face_context_of(container: Container) -> FaceContext:
    """The container's face context, built once on first use (models load lazily inside it).
    Sync routes run in a thread pool, so two first requests must not each build one."""
    with _FACE_BUILD_LOCK:
        found = container.extras.get("face")
        if found is None:
            found = build_face_context(SqlIdentityStore(container.store.engine))
            container.extras["face"] = found
    assert isinstance(found, FaceContext)
    return found
