"""The rules of the face flows: thresholds, challenge, phone policy, limits (``FacePolicy``),
read from ``FaceSettings`` (``SMILEPAY_FACE_*``), and the small helpers every flow shares."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from smilepay.config import FaceSettings
from smilepay.domain.identity import PhonePolicy
from smilepay.domain.risk import FactorLimits, FlowRateLimits
from smilepay.errors import InvalidInput, NotFound
from smilepay.vision.liveness.types import Action


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


def policy_from(settings: FaceSettings) -> FacePolicy:
    fixed = None
    if settings.challenge != "random":
        fixed = tuple(Action(a.strip()) for a in settings.challenge.split(",") if a.strip())
    return FacePolicy(phone_policy=PhonePolicy(settings.phone_policy), fixed_steps=fixed,
                      step_timeout_ms=settings.step_timeout_ms,
                      false_match_target=settings.false_match_target)


def now_utc(ms: int) -> datetime:
    """Epoch milliseconds (the clocks' unit) as an aware UTC datetime (the domain's)."""
    return datetime.fromtimestamp(ms / 1000, UTC)


def threshold_for(model_id: str, far: float, fallback: float) -> tuple[float, str]:
    """(threshold, source): the calibration table's value, or the fallback when none ships."""
    from smilepay.vision.calibration import threshold_at_far

    try:
        return threshold_at_far(model_id, far), "calibrated"
    except (NotFound, InvalidInput):  # no table, or too coarse: stay explicit in the audit
        return fallback, "fallback"
