"""Liveness errors (subclasses of the one root)."""

from __future__ import annotations

from smilepay.errors import SmilePayError


class LivenessFailed(SmilePayError):
    """A presentation was judged an attack (or could not be judged live); ``reasons`` say why."""

    code = "liveness_failed"

    def __init__(self, reasons: tuple[str, ...], score: float) -> None:
        super().__init__(f"liveness failed: {', '.join(reasons) or 'no reason'}",
                         reasons=reasons, score=score)
        self.reasons = reasons
        self.score = score


class InvalidDepthMap(SmilePayError):
    """A depth map that does not follow docs/depth-format.md."""

    code = "invalid_depth_map"
