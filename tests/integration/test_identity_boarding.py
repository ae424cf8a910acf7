"""Face boarding with real models: a passenger enrolled for boarding boards the departure they
hold a ticket for, is refused at another departure's gate (its gallery is only its own
passengers), cannot use the ticket twice; the QR fallback boards; capture and match rates
are reported apart."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from facepay_support import FaceApp, build_face_app, sign_up, stream, video_frames
from support import require

pytestmark = pytest.mark.integration
REAL = "video/bona_fide/apfol_webcam_real.webm"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Iterator[FaceApp]:
    require((data_dir / REAL).exists(), f"bona fide video {data_dir / REAL}")
    found = build_face_app(tmp_path_factory.mktemp("board"))
    yield found
    found.close()


def merchant(world: FaceApp, path: str, body: dict[str, Any]) -> Any:
    r = world.client.post(f"/v1/identity{path}", json=body, headers=world.as_merchant())
    assert r.status_code == 200, r.text
    return r.json()


def customer_id(world: FaceApp, token: str) -> str:
    wallet = world.client.get("/v1/face/wallet", headers={"Authorization": f"Bearer {token}"})
    return str(wallet.json()["customer"]["id"])


@pytest.fixture(scope="module")
def trip(world: FaceApp, data_dir: Path) -> dict[str, Any]:
    now = world.clock.now
    dep1 = merchant(world, "/departures", {"kind": "train", "name": "G101", "opens_ms": now,
                                           "closes_ms": now + 3600_000})["id"]
    dep2 = merchant(world, "/departures", {"kind": "shuttle", "name": "S7", "opens_ms": now,
                                           "closes_ms": now + 3600_000})["id"]
    token = sign_up(world, phone="+4915100000011")
    auth = {"Authorization": f"Bearer {token}"}
    text = world.client.get("/v1/identity/consent_text/boarding").json()
    r = world.client.post("/v1/identity/boarding/enrolments",
                          json={"consent_digest": text["digest"]}, headers=auth)
    assert r.status_code == 200, r.text
    session = r.json()
    assert stream(world, session["id"], video_frames(data_dir / REAL), auth)["state"] == "passed"
    r = world.client.post(f"/v1/identity/boarding/enrolments/{session['id']}/complete",
                          headers=auth)
    assert r.status_code == 200, r.text
    apfol = customer_id(world, token)
    other = customer_id(world, sign_up(world, phone="+4915100000012"))
    ticket_other = merchant(world, f"/departures/{dep1}/tickets", {"customer": other})
    ticket_apfol = merchant(world, f"/departures/{dep2}/tickets", {"customer": apfol})
    return {"dep1": dep1, "dep2": dep2, "apfol": apfol, "ticket_other": ticket_other,
            "ticket_apfol": ticket_apfol, "token": token}


def gate(world: FaceApp, data_dir: Path, departure: str) -> dict[str, Any]:
    r = world.client.post(f"/v1/identity/departures/{departure}/gate",
                          headers=world.as_terminal())
    assert r.status_code == 200, r.text
    session = r.json()
    answer = stream(world, session["id"], video_frames(data_dir / REAL), world.as_terminal())
    assert answer["state"] == "passed", answer
    r = world.client.post(f"/v1/identity/departures/{departure}/gate/{session['id']}/board",
                          headers=world.as_terminal())
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_only_the_departures_passengers_are_searched(
        world: FaceApp, trip: dict[str, Any], data_dir: Path) -> None:
    refused = gate(world, data_dir, trip["dep1"])  # apfol holds no ticket for dep1
    assert not refused["boarded"] and refused["state"] == "no_match"
    assert refused["fallback"] == "qr"
    r = world.client.post(f"/v1/identity/departures/{trip['dep1']}/qr",
                          json={"qr": trip["ticket_other"]["qr"]}, headers=world.as_terminal())
    assert r.status_code == 200 and r.json()["method"] == "qr", r.text
    rates = world.client.get(f"/v1/identity/departures/{trip['dep1']}/rates",
                             headers=world.as_merchant()).json()
    assert (rates["travellers"], rates["captured"], rates["matched"]) == (2, 1, 0)
    assert rates["boarded_by_qr"] == 1 and rates["match_rate"] == 0.0


def test_a_ticket_is_consumed_once(world: FaceApp, trip: dict[str, Any], data_dir: Path) -> None:
    boarded = gate(world, data_dir, trip["dep2"])
    assert boarded["boarded"] and boarded["method"] == "face"
    assert boarded["ticket"] == trip["ticket_apfol"]["id"]
    again = gate(world, data_dir, trip["dep2"])  # the same face again: no valid ticket left
    assert not again["boarded"] and again["state"] == "no_match"
    r = world.client.post(f"/v1/identity/departures/{trip['dep2']}/qr",
                          json={"qr": trip["ticket_apfol"]["qr"]}, headers=world.as_terminal())
    assert r.status_code == 409 and r.json()["error"]["code"] == "ticket_already_used"
    rates = world.client.get(f"/v1/identity/departures/{trip['dep2']}/rates",
                             headers=world.as_merchant()).json()
    assert (rates["travellers"], rates["captured"], rates["matched"]) == (2, 2, 1)
    assert rates["capture_rate"] == 1.0 and rates["match_rate"] == 0.5


def test_erasing_boarding_removes_the_template_and_keeps_payment(
        world: FaceApp, trip: dict[str, Any]) -> None:
    from smilepay.adapters.sql.gates_templates import SqlGateTemplates
    from smilepay.domain.purposes import Purpose
    from smilepay.domain.tenants import Scope

    templates = SqlGateTemplates(world.container.store.engine)
    scope = Scope(world.keys.tenant_id, livemode=False)
    assert templates.ids_for(scope, Purpose.BOARDING, [trip["apfol"]])
    token = trip["token"]
    auth = {"Authorization": f"Bearer {token}"}
    r = world.client.delete("/v1/identity/consents/boarding", headers=auth)
    assert r.status_code == 200 and r.json()["records_erased"] == 1, r.text
    assert templates.ids_for(scope, Purpose.BOARDING, [trip["apfol"]]) == []
    wallet = world.client.get("/v1/face/wallet", headers=auth).json()
    assert wallet["consent"] is not None  # the payment purpose is untouched
