"""What the face use cases share: the ports they use (templates and audit, gallery, sessions,
flow counters, keys, rotations), the policy and the lazily loaded face engine.

``FaceContext`` is built once per process by the composition root (``smilepay.bootstrap.
build_face_context``), which chooses the adapters; this module imports none. Frames are
decoded, analysed and dropped: a ``FrameSession`` (``face_sessions``) keeps only numbers.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from smilepay.domain.identity import AuditEntry, AuditValue
from smilepay.domain.ids import new_id
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
from smilepay.instruments import record_decision
from smilepay.ports.flow import FlowStore
from smilepay.ports.gallery import Gallery, GalleryEntry, GalleryMatch
from smilepay.ports.identity import IdentityStore, KeyRing, Rotations
from smilepay.services.face_policy import FacePolicy, now_utc, threshold_for
from smilepay.services.face_sessions import FrameSession, FrameSessions

__all__ = ["ROTATION_VERSION", "FaceContext", "FacePolicy", "FrameSession", "FrameSessions",
           "liveness_values", "now_utc", "threshold_for"]

ROTATION_VERSION = 1


@dataclass
class FaceContext:
    identity: IdentityStore
    keys: KeyRing
    rotations: Callable[[int], Rotations]  # the rotation family of one vector size
    pepper: bytes
    gallery: Gallery
    sessions: FrameSessions
    flow: FlowStore
    policy: FacePolicy
    load_pipeline: Callable[[], Any]
    load_liveness: Callable[[], Any]
    vector_sizes: set[int] = field(default_factory=set)  # the strategy's, seen by the warm-up
    _rotations: dict[int, Rotations] = field(default_factory=dict)
    _pipeline: Any = None
    _liveness: Any = None
    _pipeline_lock: threading.Lock = field(default_factory=threading.Lock)

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

    def rotations_for(self, dim: int) -> Rotations:
        """One rotation family per vector size: the lead member's per-frame vectors and the
        strategy's full vectors differ in size and alternate within one session."""
        found = self._rotations.get(dim)
        if found is None:
            found = self.rotations(dim)  # deterministic: a race is harmless
            self._rotations[dim] = found
        return found

    def rotate(self, scope: Scope, vector: Vector) -> Vector:
        matrix = self.rotations_for(int(vector.shape[0])).matrix(
            rotation_space(scope.tenant_id, scope.livemode), ROTATION_VERSION)
        return rotate_vector(matrix, vector)

    def prepare_rotations(self, scope: Scope) -> None:
        """Compute (and cache) the scope's rotations for every known vector size now: a QR
        decomposition each, about 0.2 s, that a frame would otherwise wait for."""
        for dim in sorted(self.vector_sizes):
            self.rotations_for(dim).matrix(rotation_space(scope.tenant_id, scope.livemode),
                                           ROTATION_VERSION)

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

    def gallery_entry(self, template: SealedTemplate, vector: Vector) -> GalleryEntry:
        """The searchable form of a stored template (its rotated vector, opened)."""
        return GalleryEntry(template.template_id, Scope(template.tenant_id, template.livemode),
                            template.customer_id, template.model_id, vector)

    def search(self, scope: Scope, model_id: str, probe: Vector) -> list[GalleryMatch]:
        """The gallery's nearest "pay" templates of the scope, best first (one per template)."""
        return self.gallery.search(scope, model_id, probe, self.policy.search_k)

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
