"""Enrol from the bona fide webcam video, pay with it, refuse a stranger and a duplicate, erase.

Real models, a scratch SQLite database, the HTTP API through TestClient, a simulated clock
(15 frames a second). The terminal policy is a smile challenge: the recorded video can answer
a smile but not a random sequence (see test_facepay_replay for the random policy).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from facepay_support import FaceApp, build_face_app, sign_up, slideshow_frames, stream, video_frames
from support import require

pytestmark = pytest.mark.integration
REAL = "video/bona_fide/apfol_webcam_real.webm"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Iterator[FaceApp]:
    require((data_dir / REAL).exists(), f"bona fide video {data_dir / REAL}")
    found = build_face_app(tmp_path_factory.mktemp("facepay"))
    yield found
    found.close()


@pytest.fixture(scope="module")
def enrolled(world: FaceApp, data_dir: Path) -> str:
    token = sign_up(world)
    auth = {"Authorization": f"Bearer {token}"}
    session = world.client.post("/v1/face/enrolments", headers=auth).json()
    assert session["steps"] == ["smile"]
    answer = stream(world, session["id"], video_frames(data_dir / REAL), auth)
    assert answer["state"] == "passed", answer
    r = world.client.post(f"/v1/face/enrolments/{session['id']}/complete", headers=auth)
    assert r.status_code == 200, r.text
    assert r.json()["frames_used"] >= 1
    r = world.client.post("/v1/face/wallet/topups", json={"amount_minor": 5000}, headers=auth)
    assert r.status_code == 200, r.text
    return token


def new_payment(world: FaceApp, amount_minor: int = 1250) -> str:
    r = world.client.post("/v1/payment_intents", headers=world.as_merchant(), json={
        "amount_minor": amount_minor, "currency": "eur", "terminal": world.keys.terminal_id,
        "description": "Coffee and cake"})
    assert r.status_code == 200, r.text
    return str(r.json()["id"])


def pay(world: FaceApp, frames: object, phone: str) -> dict[str, object]:
    pi = new_payment(world)
    r = world.client.post("/v1/face/payments", json={"payment_intent": pi},
                          headers=world.as_terminal())
    assert r.status_code == 200, r.text
    session = r.json()
    answer = stream(world, session["id"], frames, world.as_terminal())  # type: ignore[arg-type]
    r = world.client.post(f"/v1/face/payments/{session['id']}/confirm", json={"phone": phone},
                          headers=world.as_terminal())
    assert r.status_code == 200, r.text
    return {**r.json(), "challenge": answer}


def test_the_enrolled_customer_pays_with_a_smile_and_the_wallet_shows_the_receipt(
    world: FaceApp, enrolled: str, data_dir: Path
) -> None:
    result = pay(world, video_frames(data_dir / REAL), "5678")
    assert result["status"] == "succeeded", result
    wallet = world.client.get("/v1/face/wallet",
                              headers={"Authorization": f"Bearer {enrolled}"}).json()
    assert wallet["balance"]["available_minor"] == 5000 - 1250  # the first payment
    assert any(n["kind"] == "receipt" for n in wallet["notifications"])
    assert wallet["face"]["templates"] == 1 and wallet["consent"] is not None
    audit = world.client.get("/v1/face/audit", headers=world.as_merchant()).json()["data"]
    accepted = [a for a in audit if a["kind"] == "pay" and a["decision"] == "accepted"]
    assert accepted and accepted[0]["values"]["score"] >= accepted[0]["values"]["threshold"]
    first = world.client.get("/v1/face/audit", params={"limit": 1},
                             headers=world.as_merchant()).json()
    assert first["data"] == audit[:1] and first["has_more"] is (len(audit) > 1)


def test_a_happy_go_promotion_turns_the_smile_into_a_merchant_funded_discount(
    world: FaceApp, enrolled: str, data_dir: Path
) -> None:
    r = world.client.post("/v1/face/promotions", headers=world.as_merchant(), json={
        "active": True, "max_discount_bps": 1000, "cap_minor": 500, "min_smile": 0.2})
    assert r.status_code == 200, r.text
    try:
        result = pay(world, video_frames(data_dir / REAL), "5678")
    finally:
        world.client.post("/v1/face/promotions", headers=world.as_merchant(),
                          json={"active": False})
    assert result["status"] == "succeeded", result
    receipt = result["receipt"]
    assert 0 < receipt["discount_minor"] <= 125  # at most 10% of 12.50
    assert receipt["paid_minor"] == 1250 - receipt["discount_minor"]
    assert result["payment"]["amount_refunded_minor"] == receipt["discount_minor"]


def test_the_right_face_with_the_wrong_number_does_not_pay(
    world: FaceApp, enrolled: str, data_dir: Path
) -> None:
    result = pay(world, video_frames(data_dir / REAL), "0000")
    assert result["status"] == "refused" and result["reason"] == "no_match"


def test_a_stranger_who_smiles_does_not_pay(
    world: FaceApp, enrolled: str, data_dir: Path
) -> None:
    stranger = data_dir / "smile_pairs" / "dong"
    frames = slideshow_frames([(stranger / "neutral.jpg", 1.5), (stranger / "smile.jpg", 1.0),
                               (stranger / "neutral.jpg", 1.5)])
    result = pay(world, frames, "5678")
    assert result["challenge"]["state"] == "passed", result  # a slideshow answers a smile
    assert result["status"] == "refused" and result["reason"] == "no_match", result


def test_the_same_face_cannot_enrol_on_a_second_account(
    world: FaceApp, enrolled: str, data_dir: Path
) -> None:
    token = sign_up(world, phone="+4917099990000", name="Copycat")
    auth = {"Authorization": f"Bearer {token}"}
    session = world.client.post("/v1/face/enrolments", headers=auth).json()
    assert stream(world, session["id"], video_frames(data_dir / REAL), auth)["state"] == "passed"
    r = world.client.post(f"/v1/face/enrolments/{session['id']}/complete", headers=auth)
    assert r.status_code == 409 or r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "face_already_enrolled"


def test_erase_deletes_the_face_at_once_and_then_the_face_no_longer_pays(
    world: FaceApp, enrolled: str, data_dir: Path
) -> None:
    auth = {"Authorization": f"Bearer {enrolled}"}
    r = world.client.delete("/v1/face/consent", headers=auth)
    assert r.status_code == 200, r.text
    receipt = r.json()
    assert receipt["templates_deleted"] == 1 and len(receipt["digest"]) == 16
    wallet = world.client.get("/v1/face/wallet", headers=auth).json()
    assert wallet["face"]["templates"] == 0 and wallet["consent"] is None
    assert wallet["deletion_receipts"][0]["id"] == receipt["id"]
    result = pay(world, video_frames(data_dir / REAL), "5678")
    assert result["status"] == "refused" and result["reason"] == "no_match"
    r = world.client.post("/v1/face/enrolments", headers=auth)
    assert r.json()["error"]["code"] == "consent_required"


def test_the_camera_check_counts_faces_for_a_terminal_only(world: FaceApp, data_dir: Path) -> None:
    from facepay_support import jpeg

    frame = jpeg(next(iter(video_frames(data_dir / REAL))))
    headers = {"Content-Type": "image/jpeg"}
    r = world.client.post("/v1/face/camera-check", content=frame, headers=headers)
    assert r.status_code == 401
    r = world.client.post("/v1/face/camera-check", content=frame,
                          headers={**headers, **world.as_terminal()})
    assert r.status_code == 200 and r.json()["faces"] == 1 and r.json()["largest_face_px"] > 80
