"""The phone-replay video of the enrolled person must not pay silently.

Two terminal policies. Smile-only (what a recorded bona fide video can answer): the replay's
smile, seen through a phone screen, stays below the smile threshold, so the challenge is not
met. Random five-step challenge (the default): no recording answers it except by the stated
chance (0.47%), and a payment allows three challenges. Either way the refusal is audited with
its reasons. The customer is enrolled by an operator from the ``pad_apfol/live`` photos.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from facepay_support import FaceApp, build_face_app, enrol_from_photos, stream, video_frames
from support import require

pytestmark = pytest.mark.integration
REPLAY = "video/replay_attack/apfol_phone_replay.webm"


def attempt(world: FaceApp, pi: str, data_dir: Path) -> tuple[dict[str, object], dict[str, object]]:
    r = world.client.post("/v1/face/payments", json={"payment_intent": pi},
                          headers=world.as_terminal())
    assert r.status_code == 200, r.text
    session = r.json()
    answer = stream(world, session["id"], video_frames(data_dir / REPLAY), world.as_terminal())
    r = world.client.post(f"/v1/face/payments/{session['id']}/confirm", json={"phone": "5678"},
                          headers=world.as_terminal())
    assert r.status_code == 200, r.text
    return answer, r.json()


def new_payment(world: FaceApp) -> str:
    r = world.client.post("/v1/payment_intents", headers=world.as_merchant(), json={
        "amount_minor": 990, "currency": "eur", "terminal": world.keys.terminal_id})
    assert r.status_code == 200, r.text
    return str(r.json()["id"])


@pytest.mark.parametrize("challenge", ["smile", "random"])
def test_the_phone_replay_is_refused_and_the_refusal_is_audited(
    tmp_path: Path, data_dir: Path, challenge: str
) -> None:
    require((data_dir / REPLAY).exists(), f"replay video {data_dir / REPLAY}")
    world = build_face_app(tmp_path, challenge=challenge)
    try:
        check_replay(world, data_dir, challenge)
    finally:
        world.close()


def check_replay(world: FaceApp, data_dir: Path, challenge: str) -> None:
    enrol_from_photos(world, data_dir)
    pi = new_payment(world)
    tries = 1 if challenge == "smile" else 3
    for _ in range(tries):
        answer, result = attempt(world, pi, data_dir)
        assert answer["state"] == "failed", answer
        assert result["status"] == "refused" and result["reason"] == "challenge_not_passed"
    intent = world.client.get(f"/v1/payment_intents/{pi}", headers=world.as_merchant()).json()
    assert intent["status"] == "requires_confirmation" and intent["amount_captured_minor"] == 0
    audit = world.client.get("/v1/face/audit", params={"subject": pi},
                             headers=world.as_merchant()).json()["data"]
    liveness = [a for a in audit if a["kind"] == "liveness_pay"]
    assert len(liveness) == tries and all(a["decision"] == "failed" for a in liveness)
    pay_entries = [a for a in audit if a["kind"] == "pay"]
    assert len(pay_entries) == tries
    for entry in pay_entries:
        assert entry["decision"] == "refused"
        assert entry["reasons"][0] == "challenge_not_passed" and len(entry["reasons"]) >= 2
        assert entry["values"]["liveness_challenge"] == 0.0
    if challenge == "random":
        r = world.client.post("/v1/face/payments", json={"payment_intent": pi},
                              headers=world.as_terminal())
        assert r.status_code == 409, "a payment allows three challenges, no more"
