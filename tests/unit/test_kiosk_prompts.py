"""The kiosk's prompt table: every failure reason the face check can give has one clear sentence."""

from __future__ import annotations

import re
from importlib import resources

import pytest

from smilepay.domain.tenants import Scope
from smilepay.services.face_context import FrameSession
from smilepay.services.face_feedback import feedback as _feedback
from smilepay.services.kiosk_prompts import CUSTOMER_PROMPTS, customer_prompt
from smilepay.vision.liveness.types import Action, Challenge

LIVENESS = resources.files("smilepay.vision.liveness")


def reasons_in_liveness_code() -> set[str]:
    """Every reason literal the liveness layers append, with step reasons spelled per action."""
    found: set[str] = set()
    for name in ("verify.py", "fusion.py", "layered.py", "depth.py"):
        source = (LIVENESS / name).read_text()
        found |= set(re.findall(r'reasons\.append\("([a-z_:]+)"\)', source))
        found |= set(re.findall(r'reason: str = ""  # "" when measured; "([a-z_]+)"', source))
        for suffix in re.findall(r'why = "([a-z_]+)"', source):
            found |= {f"{a.value}_{suffix}" for a in Action}
        if 'f"unexpected_{other.value}"' in source:
            found |= {f"unexpected_{a.value}" for a in Action}
    return found


def test_the_source_scan_finds_the_reasons_it_should() -> None:
    found = reasons_in_liveness_code()
    assert {"face_lost", "frame_gap", "unexpected_turn_left", "smile_not_released",
            "depth:flat_or_bent_surface", "depth_missing"} <= found


@pytest.mark.parametrize("reason", sorted(reasons_in_liveness_code()))
def test_every_liveness_reason_has_its_own_prompt(reason: str) -> None:
    assert reason in CUSTOMER_PROMPTS, f"no kiosk prompt for {reason!r}"


def test_a_head_turn_during_another_step_asks_to_keep_still() -> None:
    assert customer_prompt(["unexpected_turn_left"]) == "Please keep your head still."
    assert customer_prompt(["challenge:unexpected_turn_right"]) == "Please keep your head still."


def test_step_prompts_name_the_step() -> None:
    assert "smile" in customer_prompt(["smile_not_done"])
    assert "to your left" in customer_prompt(["turn_left_not_done"])
    assert customer_prompt(["open_mouth_not_released"]).startswith("After opening your mouth")


def test_the_first_known_reason_wins_and_unknown_ones_fall_back_to_their_family() -> None:
    assert customer_prompt(["something_new", "face_lost"]) == CUSTOMER_PROMPTS["face_lost"]
    assert customer_prompt(["depth:new_thing"]) == CUSTOMER_PROMPTS["challenge_failed"]
    assert customer_prompt([], fallback="no_match") == CUSTOMER_PROMPTS["no_match"]
    assert customer_prompt([], fallback="not_a_code") == CUSTOMER_PROMPTS["challenge_failed"]


def test_attack_reasons_do_not_say_which_layer_objected() -> None:
    for reason in ("depth:flat_or_bent_surface", "passive:attack_like_texture"):
        text = customer_prompt([reason]).lower()
        assert "depth" not in text and "texture" not in text and "staff" in text


@pytest.mark.parametrize("reason", sorted(CUSTOMER_PROMPTS))
def test_sentences_read_as_sentences_without_codes_or_jargon(reason: str) -> None:
    text = CUSTOMER_PROMPTS[reason]
    assert text[0].isupper() and text.endswith((".", "!"))
    assert "_" not in text and "minor units" not in text
    assert not re.search(r"\b(cus|acct|pi|term|chl)_", text)


def test_a_failed_check_shows_the_prompt_of_its_reason_not_a_generic_one() -> None:
    steps = (Action.SMILE, Action.TURN_LEFT)
    session = FrameSession("chl_x", Scope("ten_x", False), "pay", "pi_x",
                           Challenge("n", steps, 0, 3000, 9000))
    failed = _feedback(session, "failed", "challenge_failed", ("unexpected_turn_left",))
    assert failed.message == "Please keep your head still."
    assert failed.reasons == ("unexpected_turn_left",)
    expired = _feedback(session, "failed", "expired", ("smile_not_done",))
    assert "did not see you smile" in expired.message
    collecting = _feedback(session, "collecting", "prompt")
    assert collecting.message == "Smile"
