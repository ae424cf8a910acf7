"""What the face use cases share: policy, sealed templates, per-tenant galleries, frame sessions.

``FaceContext`` is built once per process (``build_face_context``) next to the money
``Container``. Frames are decoded, analysed and dropped: a ``FrameSession`` keeps only numbers
(capture time, expression signals, quality, the per-frame identity vector of the strategy's
lead member and the full strategy embedding of the best frames, both rotated into the tenant
space) until the challenge is decided.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic_settings import BaseSettings, SettingsConfigDict

from smilepay.adapters.crypto import AesGcmKeyRing, TenantRotations
from smilepay.adapters.faiss_index import FaissIndex, IndexFileCorrupt
from smilepay.adapters.sql.flow_store import SqlFlowStore
from smilepay.adapters.sql.identity_store import SqlIdentityStore
from smilepay.domain.identity import AuditEntry, AuditValue, PhonePolicy
from smilepay.domain.ids import new_id
from smilepay.domain.risk import FactorLimits, FlowRateLimits
from smilepay.domain.templates import (
    SealedTemplate,
    Vector,
    pack_vector,
    rotate_vector,
    rotation_space,
    template_associated_data,
    unpack_vector,
)
from smilepay.domain.tenants import Scope
from smilepay.errors import InvalidInput, NotFound
from smilepay.instruments import record_decision
from smilepay.vision.liveness.types import (
    Action,
    Challenge,
    FrameEvidence,
    FrameObservation,
    TerminalCapability,
)

log = logging.getLogger("smilepay.face")
ROTATION_VERSION = 1


@dataclass(frozen=True)
class FacePolicy:
    """Thresholds and rules of the face flows (set from data; see docs/privacy.md)."""

    match_far: float = 1e-4  # 1:1 threshold of the paying face against the phone's owner
    duplicate_far: float = 1e-3  # a face this close to another account's is a duplicate
    fallback_match_threshold: float = 0.45  # used only when no calibration table ships
    fallback_duplicate_threshold: float = 0.40
    phone_policy: PhonePolicy = PhonePolicy.LAST_FOUR
    search_k: int = 20
    fixed_steps: tuple[Action, ...] | None = None  # e.g. (SMILE,) for a smile-only terminal
    step_timeout_ms: int = 6000  # for fixed steps; random ones follow the liveness policy
    passive_liveness: bool = True  # advisory passive scores in the audit (fr_liveness)
    enrol_templates_from: int = 3  # best frames merged into the template
    probe_frames: int = 3  # best frames merged into the payment's probe
    session_ttl_s: int = 120
    max_clock_skew_ms: int = 3000
    factor_limits: FactorLimits = field(default_factory=FactorLimits)  # per payment/terminal/face
    rate_limits: FlowRateLimits = field(default_factory=FlowRateLimits)  # sign-ups, sessions
    false_match_target: float = 1e-6  # above it, four digits are not enough: the full number


def now_utc(ms: int) -> datetime:
    """Epoch milliseconds (the clocks' unit) as an aware UTC datetime (the domain's)."""
    return datetime.fromtimestamp(ms / 1000, UTC)


@dataclass
class FrameSession:
    """What is kept of one challenge's frames: numbers only, never pixels."""

    challenge_id: str
    scope: Scope
    purpose: str
    subject_id: str
    challenge: Challenge
    capability: TerminalCapability = TerminalCapability.RGB  # chosen when the session opens
    owner: str = ""  # who opened it ("terminal:..", "key:..", "wallet:.."): only they may use it
    needs_full_phone: bool = False  # four digits were not enough for this match (security.md)
    created_s: float = field(default_factory=time.monotonic)
    observations: list[FrameObservation] = field(default_factory=list)
    evidence: list[FrameEvidence] = field(default_factory=list)
    best: list[tuple[float, Vector]] = field(default_factory=list)  # (quality, full vector),
    # the best good frames so far, best first, with the strategy's full embedding
    good_frames: int = 0  # frames with a face that passed the quality gate
    frames_seen: int = 0
    model_id: str | None = None  # of the vectors in ``best``
    last_state: str = "collecting"
    outcome: dict[str, Any] | None = None
    smile_max: float = 0.0
    steps_done: int = 0


class FrameSessions:
    def __init__(self, ttl_s: int) -> None:
        self._sessions: dict[str, FrameSession] = {}
        self._lock = threading.Lock()
        self.ttl_s = ttl_s

    def put(self, session: FrameSession) -> None:
        with self._lock:
            self._drop_stale()
            self._sessions[session.challenge_id] = session

    def get(self, challenge_id: str, owner: str | None = None) -> FrameSession:
        """The open session; with ``owner``, only the caller that opened it finds it (anyone
        else gets the same 404 as for an unknown id)."""
        with self._lock:
            found = self._sessions.get(challenge_id)
        if found is None or (owner is not None and found.owner != owner):
            raise NotFound(f"expected an open face session, got {challenge_id!r} "
                           "(expired or unknown: start again)", param="session")
        return found

    def drop(self, challenge_id: str) -> None:
        with self._lock:
            self._sessions.pop(challenge_id, None)

    def _drop_stale(self) -> None:
        limit = time.monotonic() - self.ttl_s
        for key in [k for k, s in self._sessions.items() if s.created_s < limit]:
            del self._sessions[key]


class Galleries:
    """One FAISS index per tenant and mode, loaded from disk or rebuilt from the store."""

    def __init__(self, identity: SqlIdentityStore, open_vector: Callable[[SealedTemplate], Vector],
                 index_dir: Path | None, exact_below: int = 100_000) -> None:
        self.identity = identity
        self.open_vector = open_vector
        self.index_dir = index_dir
        self.exact_below = exact_below
        self._indexes: dict[Scope, FaissIndex] = {}
        self._lock = threading.RLock()

    def _path(self, scope: Scope) -> Path | None:
        if self.index_dir is None:
            return None
        mode = "live" if scope.livemode else "test"
        return self.index_dir / f"{scope.tenant_id}_{mode}.faiss.npz"

    def index(self, scope: Scope, model_id: str, dim: int) -> FaissIndex:
        with self._lock:
            found = self._indexes.get(scope)
            if found is not None and found.dim == dim:
                return found
            stored = [t for t in self.identity.all_templates(scope) if t.model_id == model_id]
            path = self._path(scope)
            if path is not None and path.exists():
                try:
                    loaded = FaissIndex.load(path, exact_below=self.exact_below)
                    if loaded.dim == dim and len(loaded) == len(stored) and all(
                        t.template_id in loaded for t in stored
                    ):
                        self._indexes[scope] = loaded
                        return loaded
                except IndexFileCorrupt:
                    log.warning("index file for %s unreadable: rebuilding", scope.tenant_id)
            fresh = FaissIndex(dim, exact_below=self.exact_below)
            fresh.rebuild((t.template_id, self.open_vector(t)) for t in stored)
            self._indexes[scope] = fresh
            self._save(scope, fresh)
            return fresh

    def rebuild(self, scope: Scope, model_id: str, dim: int) -> int:
        with self._lock:
            self._indexes.pop(scope, None)
            path = self._path(scope)
            if path is not None:
                path.unlink(missing_ok=True)
            return len(self.index(scope, model_id, dim))

    def add(self, scope: Scope, model_id: str, template_id: str, vector: Vector) -> None:
        with self._lock:
            index = self.index(scope, model_id, int(vector.shape[0]))
            index.add([template_id], [vector])
            self._save(scope, index)

    def remove(self, scope: Scope, template_ids: list[str]) -> int:
        with self._lock:
            index = self._indexes.get(scope)
            removed = index.remove(template_ids) if index is not None else 0
            if index is not None:
                self._save(scope, index)
            return removed

    def _save(self, scope: Scope, index: FaissIndex) -> None:
        path = self._path(scope)
        if path is not None:
            index.save(path)


@dataclass
class FaceContext:
    identity: SqlIdentityStore
    keys: AesGcmKeyRing
    rotation_secret: bytes
    pepper: bytes
    galleries: Galleries
    sessions: FrameSessions
    policy: FacePolicy
    load_pipeline: Callable[[], Any]
    load_liveness: Callable[[], Any]
    _rotations: dict[int, TenantRotations] = field(default_factory=dict)
    _pipeline: Any = None
    _liveness: Any = None
    _pipeline_lock: threading.Lock = field(default_factory=threading.Lock)
    _flow: SqlFlowStore | None = None

    @property
    def flow(self) -> SqlFlowStore:
        """Mandates, phone-factor attempts, rate limits (same database as ``identity``)."""
        if self._flow is None:
            self._flow = SqlFlowStore(self.identity.engine)
        return self._flow

    @property
    def pipeline(self) -> Any:
        """The face engine (``FacePipeline``), loaded on first use."""
        with self._pipeline_lock:
            if self._pipeline is None:
                self._pipeline = self.load_pipeline()
            return self._pipeline

    @property
    def liveness(self) -> Any:
        """The ``LivenessCheck`` port (layered: challenge, passive, depth), loaded on first use."""
        with self._pipeline_lock:
            if self._liveness is None:
                self._liveness = self.load_liveness()
            return self._liveness

    def close(self) -> None:
        """Release the models that hold native threads (MediaPipe); safe to call twice."""
        with self._pipeline_lock:
            pipeline, self._pipeline = self._pipeline, None
        if pipeline is None:
            return
        closed: set[int] = set()
        for part in (getattr(pipeline, "analyzer", None), getattr(pipeline, "reader", None)):
            if part is not None and id(part) not in closed and hasattr(part, "close"):
                closed.add(id(part))
                part.close()

    def rotations_for(self, dim: int) -> TenantRotations:
        """One rotation family per vector size: the lead member's per-frame vectors and the
        strategy's full vectors differ in size and alternate within one session."""
        found = self._rotations.get(dim)
        if found is None:
            found = TenantRotations(self.rotation_secret, dim)  # deterministic: a race is harmless
            self._rotations[dim] = found
        return found

    def rotate(self, scope: Scope, vector: Vector) -> Vector:
        matrix = self.rotations_for(int(vector.shape[0])).matrix(
            rotation_space(scope.tenant_id, scope.livemode), ROTATION_VERSION)
        return rotate_vector(matrix, vector)

    def seal(self, scope: Scope, customer_id: str, rotated: Vector, model_id: str,
             quality: float, now_ms: int) -> SealedTemplate:
        template_id = new_id("ftpl", now_ms)
        aad = template_associated_data(rotation_space(scope.tenant_id, scope.livemode),
                                       template_id, model_id)
        return SealedTemplate(
            template_id=template_id, tenant_id=scope.tenant_id, livemode=scope.livemode,
            customer_id=customer_id, model_id=model_id, rotation_version=ROTATION_VERSION,
            dim=int(rotated.shape[0]), quality=quality, created_at=now_utc(now_ms),
            sealed=self.keys.seal(pack_vector(rotated), aad),
        )

    def open_vector(self, template: SealedTemplate) -> Vector:
        aad = template_associated_data(rotation_space(template.tenant_id, template.livemode),
                                       template.template_id, template.model_id)
        return unpack_vector(self.keys.open(template.sealed, aad), template.dim)

    def audit(self, scope: Scope, kind: str, decision: str, reasons: tuple[str, ...],
              subject_id: str | None, now_ms: int, values: dict[str, AuditValue]) -> None:
        entry = AuditEntry(kind, decision, reasons, subject_id, now_utc(now_ms), values)
        self.identity.add_audit(scope, new_id("aud", now_ms), entry)
        record_decision(kind, decision, reasons)  # /metrics (smilepay.instruments)


def liveness_values(session: FrameSession) -> dict[str, AuditValue]:
    """The liveness layer scores of a decided session, as flat audit values."""
    layers = (session.outcome or {}).get("layers", {})
    return {"liveness_" + "".join(ch if ch.isalnum() else "_" for ch in k).strip("_"): v
            for k, v in layers.items() if isinstance(v, int | float)}


def threshold_for(model_id: str, far: float, fallback: float) -> tuple[float, str]:
    """(threshold, source): the calibration table's value, or the fallback when none ships."""
    from smilepay.vision.calibration import threshold_at_far

    try:
        return threshold_at_far(model_id, far), "calibrated"
    except (NotFound, InvalidInput):  # no table, or too coarse: stay explicit in the audit
        return fallback, "fallback"


class FaceSettings(BaseSettings):
    """``SMILEPAY_FACE_*``: challenge ("random" or a fixed list like "smile"), phone policy,
    where secrets and index files live (default: ``var_dir``). The recognition strategy is
    ``smilepay.config.Settings.face_strategy`` (``SMILEPAY_FACE_STRATEGY``)."""

    model_config = SettingsConfigDict(env_prefix="SMILEPAY_FACE_", extra="ignore")

    challenge: str = "random"
    step_timeout_ms: int = 6000
    phone_policy: str = "last_four"
    secrets_file: str = ""
    index_dir: str = ""
    exact_below: int = 100_000
    false_match_target: float = 1e-6  # decision-level, face + last four digits (security.md)


def policy_from(settings: FaceSettings) -> FacePolicy:
    fixed = None
    if settings.challenge != "random":
        fixed = tuple(Action(a.strip()) for a in settings.challenge.split(",") if a.strip())
    return FacePolicy(phone_policy=PhonePolicy(settings.phone_policy), fixed_steps=fixed,
                      step_timeout_ms=settings.step_timeout_ms,
                      false_match_target=settings.false_match_target)


def build_face_context(identity: SqlIdentityStore, settings: FaceSettings | None = None,
                       policy: FacePolicy | None = None,
                       load_pipeline: Callable[[], Any] | None = None,
                       load_liveness: Callable[[], Any] | None = None) -> FaceContext:
    """The face side of the composition root (secrets file, galleries, lazy face engine)."""
    from smilepay.adapters.crypto import load_or_create_secrets
    from smilepay.config import get_settings

    settings = settings or FaceSettings()
    var_dir = get_settings().var_dir
    found = load_or_create_secrets(Path(settings.secrets_file or var_dir / "face-secrets.json"))
    index_dir = Path(settings.index_dir or var_dir / "face-index")

    def default_pipeline() -> Any:
        from smilepay.adapters.models.pipeline_factory import load_pipeline

        return load_pipeline()  # the configured strategy

    def default_liveness() -> Any:
        from smilepay.services.face_frames import layered_liveness

        return layered_liveness(holder["ctx"].policy)

    holder: dict[str, FaceContext] = {}
    galleries = Galleries(identity, lambda t: holder["ctx"].open_vector(t), index_dir,
                          settings.exact_below)
    chosen = policy or policy_from(settings)
    if chosen.fixed_steps is not None:
        log.warning("face challenge fixed to %s: a recording can answer it, so it does not stop "
                    "replays; use the random challenge for payments (docs/liveness.md)",
                    ",".join(a.value for a in chosen.fixed_steps))
    ctx = FaceContext(identity=identity, keys=found.key_ring,
                      rotation_secret=found.rotation_secret, pepper=found.pepper,
                      galleries=galleries, sessions=FrameSessions(chosen.session_ttl_s),
                      policy=chosen, load_pipeline=load_pipeline or default_pipeline,
                      load_liveness=load_liveness or default_liveness)
    holder["ctx"] = ctx
    atexit.register(ctx.close)
    return ctx
