"""The face at the store's gates with real models: the bona fide webcam clip of a customer
enrolled from photos runs the kiosk's smile challenge at the entry gate; without the
store-entry consent nobody is named, with it (a copy of the payment template sealed for the
gates) the gate opens on the entry hold; when the decision-level false-match bound asks for
more, the keypad's last four digits decide (wrong digits: refused); the exit gate names the
trip by the same face and charges it. Purposes are erased alone: revoking store entry deletes
the copy (the face is refused, the QR code still opens the gate, the payment templates stay);
erasing the payment face leaves the copy (the gate still opens by face)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from facepay_support import (
    FaceApp,
    build_face_app,
    enrol_from_photos,
    jpeg,
    sign_up,
    video_frames,
)
from smilepay.api.built_once import gates_store
from smilepay.api.store_face import store_entry_templates
from smilepay.domain.purposes import Purpose, grant_purpose_consent, purpose_text
from smilepay.domain.tenants import Scope
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
    assert "exit gate" in text["body"] and "copy of the face template" in text["body"]
    granted = world.client.post("/v1/wallet/store/face_consent", headers=wallet,
                                json={"digest": text["digest"]})
    assert granted.status_code == 200 and granted.json()["active"] is True
    assert granted.json()["version"] == text["version"]
    assert granted.json()["templates_copied"] == 1  # the payment face, sealed anew
    copies = store_entry_templates(world.container).ids_for(_scope(world), Purpose.STORE_ENTRY,
                                                            [_customer(world, shop)])
    payment = world.face.identity.templates_of(_scope(world), _customer(world, shop))
    assert len(copies) == 1 and copies[0][0] not in {t.template_id for t in payment}
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
        # 1,000 customers let the gates recognise them: the face alone is 1,000 times
        # likelier to match someone else
        model = str(audit["values"]["model_id"])
        dim = world.face.identity.templates_of(scope, _customer(world, shop))[0].dim
        rng = np.random.default_rng(7)
        noise = rng.normal(size=(999, dim)).astype(np.float32)
        noise /= np.linalg.norm(noise, axis=1, keepdims=True)
        templates, gates = store_entry_templates(world.container), gates_store(world.container)
        text = purpose_text(Purpose.STORE_ENTRY)
        for i, v in enumerate(noise):
            who = f"cus_noise{i:04d}"
            gates.add_purpose_consent(scope, grant_purpose_consent(
                consent_id=f"pcon_noise{i:04d}", tenant_id=scope.tenant_id, customer_id=who,
                purpose=Purpose.STORE_ENTRY, accepted_digest=text.digest,
                now=datetime.now(UTC)))
            templates.add(world.face.seal(scope, who, v, model, 1.0, world.clock.now),
                          Purpose.STORE_ENTRY)
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
        left = world.client.post(f"/v1/store_gates/{shop['exit']}/exit",
                                 json={"trip": right["trip_id"]}, headers=world.as_terminal())
        assert left.json()["open"] is True, left.text  # staff name the trip: closed
    finally:
        world.face.policy = policy


def _customer(world: FaceApp, shop: dict[str, str]) -> str:
    wallet = world.client.get("/v1/face/wallet",
                              headers={"Authorization": f"Bearer {shop['token']}"}).json()
    return str(wallet["customer"]["id"])


def test_revoking_store_entry_erases_its_copy_refuses_the_face_and_keeps_qr_and_payment(
        world: FaceApp, shop: dict[str, str], data_dir: Path) -> None:
    wallet = {"Authorization": f"Bearer {shop['token']}"}
    customer = _customer(world, shop)
    payment = world.face.identity.templates_of(_scope(world), customer)
    r = world.client.delete("/v1/identity/consents/store_entry", headers=wallet)
    assert r.status_code == 200, r.text
    assert r.json()["consents_revoked"] == 1 and r.json()["records_erased"] == 1
    templates = store_entry_templates(world.container)
    assert templates.ids_for(_scope(world), Purpose.STORE_ENTRY, [customer]) == []
    refused = at_gate(world, data_dir, f"/v1/store_gates/{shop['entry']}/entry")
    assert (refused["open"], refused["reason"]) == (False, "not_recognised")
    # the non-face way in still works
    code = world.client.post("/v1/wallet/store/entry_code", headers=wallet, json={}).json()
    entered = world.client.post(f"/v1/store_gates/{shop['entry']}/entry",
                                json={"code": code["code"]}, headers=world.as_terminal()).json()
    assert (entered["open"], entered["reason"]) == (True, "ok"), entered
    left = world.client.post(f"/v1/store_gates/{shop['exit']}/exit",
                             json={"trip": entered["trip_id"]}, headers=world.as_terminal())
    assert left.json()["open"] is True, left.text
    # the payment face is untouched: the same templates, each still finds its customer
    assert world.face.identity.templates_of(_scope(world), customer) == payment
    for t in payment:
        hits = world.face.search(_scope(world), t.model_id, world.face.open_vector(t))
        assert hits[0].customer_id == customer and hits[0].score > 0.99
    assert world.client.get("/v1/face/wallet", headers=wallet).json()["consent"] is not None


def test_erasing_the_payment_face_leaves_store_entry_working(
        world: FaceApp, shop: dict[str, str], data_dir: Path) -> None:
    wallet = {"Authorization": f"Bearer {shop['token']}"}
    customer = _customer(world, shop)
    text = world.client.get("/v1/identity/consent_text/store_entry").json()
    granted = world.client.post("/v1/wallet/store/face_consent", headers=wallet,
                                json={"digest": text["digest"]}).json()
    assert (granted["active"], granted["templates_copied"]) == (True, 1)
    erased = world.client.delete("/v1/face/consent", headers=wallet)
    assert erased.status_code == 200 and erased.json()["templates_deleted"] >= 1, erased.text
    assert world.face.identity.templates_of(_scope(world), customer) == []
    copies = store_entry_templates(world.container).ids_for(_scope(world), Purpose.STORE_ENTRY,
                                                            [customer])
    assert len(copies) == 1
    entry = f"/v1/store_gates/{shop['entry']}/entry"
    opened = at_gate(world, data_dir, entry)
    if opened["reason"] == "digits_needed":  # the 1,000 store-entry customers of the test above
        opened = world.client.post(entry, json={"session": opened["session"], "digits": "5678"},
                                   headers=world.as_terminal()).json()
    assert (opened["open"], opened["reason"]) == (True, "ok"), opened
    trips = world.client.get("/v1/wallet/store/trips", headers=wallet).json()["data"]
    assert trips[0]["id"] == opened["trip_id"] and trips[0]["entry_method"] == "face"
    # asked again with no payment face: the copy stays the gates' face
    again = world.client.post("/v1/wallet/store/face_consent", headers=wallet,
                              json={"digest": text["digest"]}).json()
    assert (again["active"], again["templates_copied"]) == (True, 0)
    assert store_entry_templates(world.container).ids_for(
        _scope(world), Purpose.STORE_ENTRY, [customer]) == copies


def test_store_entry_by_face_needs_a_payment_face_first(world: FaceApp) -> None:
    token = sign_up(world, "+4915199990000", "Nobody")
    wallet = {"Authorization": f"Bearer {token}"}
    text = world.client.get("/v1/identity/consent_text/store_entry").json()
    r = world.client.post("/v1/wallet/store/face_consent", headers=wallet,
                          json={"digest": text["digest"]})
    assert r.status_code == 409, r.text
    assert r.json()["error"]["message"].startswith("Enrol your face for payments first")
    consents = world.client.get("/v1/identity/consents", headers=wallet).json()["data"]
    assert consents == []  # nothing recorded


def _scope(world: FaceApp) -> Scope:
    return Scope(world.keys.tenant_id, livemode=False)
