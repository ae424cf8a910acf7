"""The face at the store's gates with real models: the bona fide webcam clip of a customer
enrolled from photos runs the kiosk's smile challenge at the entry gate; without the
store-entry consent nobody is named, with it the gate opens on the entry hold; when the
decision-level false-match bound asks for more, the keypad's last four digits decide (wrong
digits: refused); the exit gate names the trip by the same face and charges it."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from facepay_support import FaceApp, build_face_app, enrol_from_photos, jpeg, video_frames
from smilepay.domain.tenants import Scope
from smilepay.ports.gallery import GalleryEntry
from support import require

pytestmark = pytest.mark.integration
REAL = "video/bona_fide/apfol_webcam_real.webm"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Iterator[FaceApp]:
    require((data_dir / REAL).exists(), f"bona fide video {data_dir / REAL}")
    require((data_dir / "pad_apfol" / "live").is_dir(), "photos of pad_apfol/live")
    found = build_face_app(tmp_path_factory.mktemp("gate"))
    yield found
    found.close()


@pytest.fixture(scope="module")
def shop(world: FaceApp, data_dir: Path) -> dict[str, str]:
    token = enrol_from_photos(world, data_dir)  # +4915112345678, 50.00 EUR in the wallet
    sk = world.as_merchant()
    store = world.client.post("/v1/stores", headers=sk, json={
        "name": "Corner", "currency": "EUR", "entry_hold_minor": 1000,
        "auto_refund_max_minor": 0}).json()
    gates = {kind: world.client.post(f"/v1/stores/{store['id']}/gates", headers=sk, json={
        "kind": kind, "terminal": world.keys.terminal_id}).json()["id"]
        for kind in ("entry", "exit")}
    return {"token": token, **gates}


def at_gate(world: FaceApp, data_dir: Path, path: str) -> dict[str, Any]:
    """Frames of the clip to the gate (one a request, the gate's session sent back) until
    the face is decided; the last answer."""
    answer: dict[str, Any] = {}
    session = None
    for frame in video_frames(data_dir / REAL):
        world.clock.now += 66
        body = {"frames": [base64.b64encode(jpeg(frame)).decode()], "session": session}
        r = world.client.post(path, json=body, headers=world.as_terminal())
        assert r.status_code == 200, r.text
        answer = r.json()
        if answer["reason"] != "face_collecting":
            return answer
        session = answer["session"]
    return answer


def test_only_customers_with_store_entry_consent_are_named_and_the_gate_opens(
        world: FaceApp, shop: dict[str, str], data_dir: Path) -> None:
    entry = f"/v1/store_gates/{shop['entry']}/entry"
    refused = at_gate(world, data_dir, entry)
    assert (refused["open"], refused["reason"]) == (False, "not_recognised")
    wallet = {"Authorization": f"Bearer {shop['token']}"}
    text = world.client.get("/v1/identity/consent_text/store_entry").json()
    bad = world.client.post("/v1/wallet/store/face_consent", headers=wallet,
                            json={"digest": "0" * 64})
    assert bad.status_code in (400, 403, 409) and "error" in bad.json()
    granted = world.client.post("/v1/wallet/store/face_consent", headers=wallet,
                                json={"digest": text["digest"]})
    assert granted.status_code == 200 and granted.json()["active"] is True
    opened = at_gate(world, data_dir, entry)
    assert (opened["open"], opened["display"], opened["reason"]) == (True, "Welcome", "ok")
    trips = world.client.get("/v1/wallet/store/trips", headers=wallet).json()["data"]
    assert [t["id"] for t in trips] == [opened["trip_id"]]
    assert trips[0]["entry_method"] == "face" and trips[0]["hold_minor"] == 1000
    left = at_gate(world, data_dir, f"/v1/store_gates/{shop['exit']}/exit")
    assert (left["open"], left["display"]) == (True, "Goodbye")
    assert left["trip"]["id"] == opened["trip_id"] and left["trip"]["charged_minor"] == 0


def test_the_keypad_digits_decide_when_the_false_match_bound_asks_for_them(
        world: FaceApp, shop: dict[str, str], data_dir: Path) -> None:
    entry = f"/v1/store_gates/{shop['entry']}/entry"
    policy = world.face.policy
    scope = Scope(world.keys.tenant_id, livemode=False)
    try:
        world.face.policy = replace(policy, false_match_target=0.0)
        asked = at_gate(world, data_dir, entry)
        assert (asked["open"], asked["reason"]) == (False, "digits_needed") and asked["session"]
        audit = next(a for a in world.face.identity.audit_entries(scope, shop["entry"])
                     if a["kind"] == "store_gate")  # newest first
        assert audit["decision"] == "digits_needed" and audit["values"]["compared"] == 1
        p_alone = float(audit["values"]["false_match_p"])
        # a gallery of 1,000: the face alone is 1,000 times likelier to match someone else
        model = str(audit["values"]["model_id"])
        dim = world.face.identity.templates_of(scope, _customer(world, shop))[0].dim
        rng = np.random.default_rng(7)
        noise = rng.normal(size=(999, dim)).astype(np.float32)
        noise /= np.linalg.norm(noise, axis=1, keepdims=True)
        world.face.gallery.add([GalleryEntry(f"ftpl_noise{i:04d}", scope, f"cus_noise{i:04d}",
                                             model, v) for i, v in enumerate(noise)])
        world.face.policy = replace(policy, false_match_target=p_alone * 30)
        asked = at_gate(world, data_dir, entry)
        assert asked["reason"] == "digits_needed", asked
        wrong = world.client.post(entry, json={"session": asked["session"], "digits": "0000"},
                                  headers=world.as_terminal()).json()
        assert (wrong["open"], wrong["reason"]) == (False, "not_recognised")
        asked = at_gate(world, data_dir, entry)
        other_gate = world.client.post(f"/v1/store_gates/{shop['exit']}/exit",
                                       json={"session": asked["session"], "digits": "5678"},
                                       headers=world.as_terminal())
        assert other_gate.status_code == 404  # a gate's session is its own
        right = world.client.post(entry, json={"session": asked["session"], "digits": "5678"},
                                  headers=world.as_terminal()).json()
        # named by face + digits; the customer's trip from the first test is closed, so the
        # gate opens a new one
        assert (right["open"], right["reason"]) == (True, "ok"), right
    finally:
        world.face.policy = policy


def _customer(world: FaceApp, shop: dict[str, str]) -> str:
    wallet = world.client.get("/v1/face/wallet",
                              headers={"Authorization": f"Bearer {shop['token']}"}).json()
    return str(wallet["customer"]["id"])
