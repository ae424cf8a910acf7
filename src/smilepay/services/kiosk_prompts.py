"""What the kiosk says to the customer for every reason a face check or a payment can fail.

One table: each reason code the liveness layers, the identity decision or the money core can
give maps to one short sentence that tells the customer what to do next. The codes stay in the
audit and the API's ``reasons``; only the sentence is shown. A reason with no entry falls back
to its family's sentence (``challenge_failed``, ``no_match``, ``declined``), never to the code.
Sentences never name internal ids, thresholds or which layer caught an attack.
"""

from __future__ import annotations

from collections.abc import Iterable

from smilepay.vision.liveness.types import Action

# How each step is named in a sentence: (what to do, what doing it is called)
_ACTION_WORDS: dict[Action, tuple[str, str]] = {
    Action.SMILE: ("smile", "smiling"),
    Action.BLINK: ("blink", "blinking"),
    Action.TURN_LEFT: ("turn your head to your left", "turning your head"),
    Action.TURN_RIGHT: ("turn your head to your right", "turning your head"),
    Action.OPEN_MOUTH: ("open your mouth", "opening your mouth"),
}
_UNEXPECTED: dict[Action, str] = {
    Action.SMILE: "Please keep a straight face until the screen asks you to smile.",
    Action.BLINK: "Please keep your eyes open until the screen asks you to blink.",
    Action.TURN_LEFT: "Please keep your head still.",
    Action.TURN_RIGHT: "Please keep your head still.",
    Action.OPEN_MOUTH: "Please keep your mouth closed until the screen asks you to open it.",
}
_NOT_A_FACE = "We could not confirm that a real person is in front of the camera. Please see staff."


def _step_prompts() -> dict[str, str]:
    table: dict[str, str] = {}
    for action, (do, doing) in _ACTION_WORDS.items():
        table[f"unexpected_{action.value}"] = _UNEXPECTED[action]
        table[f"{action.value}_not_done"] = (
            f"We did not see you {do}. Please try again and {do} when the screen asks.")
        table[f"{action.value}_no_neutral_onset"] = (
            f"Start with a relaxed face looking at the camera, then {do} when asked.")
        table[f"{action.value}_not_released"] = (
            f"After {doing}, look straight at the camera again with a relaxed face.")
    return table


CUSTOMER_PROMPTS: dict[str, str] = {
    **_step_prompts(),
    # the challenge's timeline and the face across frames
    "face_lost": "We lost sight of your face. Please stay in front of the camera.",
    "face_changed": "Only the person paying should be in front of the camera.",
    "face_discontinuous": "Only the person paying should be in front of the camera.",
    "frame_gap": "The camera stalled for a moment. Please try again.",
    "timestamps_not_increasing": "The camera stalled for a moment. Please try again.",
    "frame_before_challenge": "The camera stalled for a moment. Please try again.",
    "no_face": "We could not see your face. Look at the camera and try again.",
    "no_frames": "We could not see your face. Look at the camera and try again.",
    "no_embedding": "We could not see your face clearly. Look straight at the camera.",
    "expired": "Time is up. Please try again and follow the prompts as they appear.",
    # depth (3D camera) and passive layers: say what to do, never which layer objected
    "depth:too_few_frames": "The 3D camera could not see your face. Please stand in front of "
                            "it and try again.",
    "depth_missing": "The 3D camera could not see your face. Please stand in front of it and "
                     "try again.",
    "depth:flat_or_bent_surface": _NOT_A_FACE,
    "passive:attack_like_texture": _NOT_A_FACE,
    # families: the fallback for a reason of that family with no entry of its own
    "challenge_failed": "The face check did not succeed. Please try again.",
    "challenge_not_passed": "The face check was not completed. Please try again.",
    # the identity decision
    "no_match": "We could not match your face with this phone number.",
    "no_candidate": "We could not match your face with this phone number.",
    "below_threshold": "We could not match your face with this phone number.",
    "phone_mismatch": "We could not match your face with this phone number.",
    # the money core
    "declined": "Payment declined. Please pay another way.",
    "insufficient_funds": "Not enough money in your wallet: top it up and try again.",
    "currency_mismatch": "Your wallet cannot pay in this currency. Please pay another way.",
    "amount_limit_exceeded": "This amount is above your limit per payment.",
    "daily_limit_exceeded": "Daily limit reached: try again tomorrow.",
    "customer_locked_out": "Too many failed attempts: face payment is paused for a while.",
    "payment_expired": "This payment has expired. Please ask the cashier to start again.",
}
_FAMILY = {"challenge": "challenge_failed", "depth": "challenge_failed",
           "passive": "challenge_failed"}


def customer_prompt(reasons: Iterable[str], fallback: str = "challenge_failed") -> str:
    """The sentence for the first reason the table knows (a ``layer:`` prefix such as
    ``challenge:`` is looked up with and without it), else the ``fallback`` family's."""
    for reason in reasons:
        found = CUSTOMER_PROMPTS.get(reason)
        if found is None and ":" in reason:
            layer, _, bare = reason.partition(":")
            found = CUSTOMER_PROMPTS.get(bare) or CUSTOMER_PROMPTS.get(_FAMILY.get(layer, ""))
        if found is not None:
            return found
    return CUSTOMER_PROMPTS.get(fallback, CUSTOMER_PROMPTS["challenge_failed"])
