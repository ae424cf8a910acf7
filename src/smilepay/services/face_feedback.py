"""What the kiosk is told about a frame: state, a code, one sentence, the step it is on; and
the small input checks of a frame post (capability, depth map)."""

from __future__ import annotations

from dataclasses import dataclass

from smilepay.errors import InvalidInput
from smilepay.services.face_sessions import FrameSession
from smilepay.services.kiosk_prompts import customer_prompt
from smilepay.vision.liveness.errors import InvalidDepthMap
from smilepay.vision.liveness.types import Action, DepthMap, TerminalCapability

PROMPTS = {
    Action.SMILE: "Smile",
    Action.BLINK: "Blink",
    Action.TURN_LEFT: "Turn your head to your left",
    Action.TURN_RIGHT: "Turn your head to your right",
    Action.OPEN_MOUTH: "Open your mouth",
}
MESSAGES = {
    "no_face": "We can't see a face. Look at the camera.",
    "two_faces": "More than one face: only the person paying, please step forward.",
    "bad_image": "The camera sent a broken picture. Hold on.",
    "too_small": "Come a little closer to the camera.",
    "look_at_camera": "Look straight at the camera.",
    "too_dark": "It's too dark here: face the light.",
    "backlit": "There is bright light behind you: turn towards the light.",
    "too_bright": "Too much light on your face: step out of the glare.",
    "flat_light": "We can't make out your face: face the light.",
    "blurry": "Hold still for a moment.",
    "challenge_failed": "The check did not work. Please try again.",
    "expired": "Time is up. Please try again.",
    "passed": "Thank you!",
}


@dataclass(frozen=True)
class FrameFeedback:
    state: str  # "collecting" | "passed" | "failed"
    code: str  # what the kiosk shows: "prompt", "no_face", "two_faces", ... (MESSAGES)
    message: str
    step_index: int
    steps: tuple[str, ...]
    reasons: tuple[str, ...] = ()

    def as_json(self) -> dict[str, object]:
        return {"state": self.state, "code": self.code, "message": self.message,
                "step_index": self.step_index, "steps": list(self.steps),
                "reasons": list(self.reasons)}


def parse_capability(value: str) -> TerminalCapability:
    """``rgb`` (colour frames only, e.g. a browser kiosk) or ``rgb_depth`` (a 3D camera)."""
    try:
        return TerminalCapability(value)
    except ValueError:
        allowed = ", ".join(repr(c.value) for c in TerminalCapability)
        raise InvalidInput(f"expected a capability in ({allowed}), got {value!r}",
                           param="capability") from None


def read_depth(png: bytes, frame_hw: tuple[int, int]) -> DepthMap:
    """The frame's depth map, or ``InvalidInput`` on the ``depth`` parameter."""
    from smilepay.vision.liveness.depth_png import decode_depth_png

    try:
        return decode_depth_png(png, frame_hw)
    except InvalidDepthMap as exc:
        raise InvalidInput(exc.message, param="depth") from exc


def quality_code(reasons: tuple[str, ...]) -> str:
    first = reasons[0] if reasons else ""
    for key, code in (("small", "too_small"), ("turned", "look_at_camera"),
                      ("tilted", "look_at_camera"), ("backlit", "backlit"), ("dark", "too_dark"),
                      ("bright", "too_bright"), ("blurred", "blurry"), ("flat", "flat_light")):
        if key in first:
            return code
    return "look_at_camera"


def quality_score(face_px: float, sharpness: float, yaw_deg: float) -> float:
    return min(face_px, 250.0) / 250.0 + min(sharpness, 300.0) / 300.0 - abs(yaw_deg) / 60.0


def feedback(session: FrameSession, state: str, code: str,
              reasons: tuple[str, ...] = ()) -> FrameFeedback:
    steps = session.challenge.steps
    done = len(steps) if state == "passed" else min(session.steps_done, len(steps) - 1)
    if code == "prompt":
        message = PROMPTS[steps[min(done, len(steps) - 1)]]
    elif state == "failed":  # one sentence for the first reason the prompt table knows
        message = customer_prompt(reasons, fallback=code)
    else:
        message = MESSAGES.get(code, code)
    return FrameFeedback(state, code, message, done, tuple(a.value for a in steps), reasons)
