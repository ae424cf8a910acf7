"""Staff clock-in with real models: enrol a staff member from the webcam video at site B; their
face at site A (whose staff is someone else) is refused with the PIN/badge fallback and no
punch; at site B it punches in, a second punch within a minute is the same punch; PIN punches
wait for a manager; an offline punch needs its signature and a late sync is flagged; the
report exports CSV."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from facepay_support import FaceApp, build_face_app, stream, video_frames
from support import require

pytestmark = pytest.mark.integration
REAL = "video/bona_fide/apfol_webcam_real.webm"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Iterator[FaceApp]:
    require((data_dir / REAL).exists(), f"bona fide video {data_dir / REAL}")
    found = build_face_app(tmp_path_factory.mktemp("clock"))
    yield found
    found.close()


def post(world: FaceApp, path: str, body: dict[str, Any], merchant: bool = False) -> Any:
    headers = world.as_merchant() if merchant else world.as_terminal()
    r = world.client.post(f"/v1/identity{path}", json=body, headers=headers)
    return r


@pytest.fixture(scope="module")
def sites(world: FaceApp, data_dir: Path) -> dict[str, str]:
    from smilepay.domain.purposes import Purpose
    from smilepay.domain.tenants import Scope
    from smilepay.vision.decode import read_image

    a = post(world, "/sites", {"name": "Site A"}, merchant=True).json()["id"]
    b = post(world, "/sites", {"name": "Site B"}, merchant=True).json()["id"]
    worker_a = post(world, "/staff", {"site": a, "name": "Ada", "pin": "1111"}, True).json()
    post(world, "/staff", {"site": a, "name": "Max", "role": "manager", "pin": "9999"}, True)
    worker_b = post(world, "/staff", {"site": b, "name": "Apfol", "pin": "2222",
                                      "badge": "BADGE-B-1"}, True).json()
    # site A's staff member is enrolled from a CelebA photo, straight through the services
    fc = world.face
    scope = Scope(world.keys.tenant_id, livemode=False)
    photo = sorted(next(iter(sorted((data_dir / "celeba_wild").iterdir()))).iterdir())[0]
    analysis = fc.pipeline.analyze_frame(read_image(str(photo)), signals=False)
    assert analysis.embedding is not None
    from smilepay.adapters.sql.gates_templates import SqlGateTemplates

    sealed = fc.seal(scope, worker_a["id"], fc.rotate(scope, analysis.embedding.vector),
                     analysis.embedding.model_id, 1.0, int(time.time() * 1000))
    SqlGateTemplates(world.container.store.engine).add(sealed, Purpose.ATTENDANCE)
    # site B's staff member enrols at the terminal with their own consent
    text = world.client.get("/v1/identity/consent_text/attendance").json()
    r = post(world, f"/staff/{worker_b['id']}/enrolments", {"consent_digest": text["digest"]})
    assert r.status_code == 200, r.text
    session = r.json()
    answer = stream(world, session["id"], video_frames(data_dir / REAL), world.as_terminal())
    assert answer["state"] == "passed", answer
    r = post(world, f"/staff/{worker_b['id']}/enrolments/{session['id']}/complete", {})
    assert r.status_code == 200, r.text
    return {"a": a, "b": b, "worker_a": worker_a["id"], "worker_b": worker_b["id"]}


def clock(world: FaceApp, data_dir: Path, site: str, key: str) -> dict[str, Any]:
    r = post(world, f"/sites/{site}/clock", {})
    assert r.status_code == 200, r.text
    session = r.json()
    answer = stream(world, session["id"], video_frames(data_dir / REAL), world.as_terminal())
    assert answer["state"] == "passed", answer
    r = post(world, f"/sites/{site}/clock/{session['id']}/punch", {"idempotency_key": key})
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_a_face_of_another_sites_staff_is_refused_with_the_fallback(
        world: FaceApp, sites: dict[str, str], data_dir: Path) -> None:
    refused = clock(world, data_dir, sites["a"], "key-site-a-1")
    assert refused["state"] == "no_match" and refused["fallback"] == ["pin", "badge"]
    audit = world.client.get("/v1/face/audit", headers=world.as_merchant()).json()["data"]
    clock_refusals = [e for e in audit if e["kind"] == "clock" and e["decision"] == "refused"]
    assert clock_refusals and clock_refusals[0]["values"]["candidates"] == 1


def test_the_own_site_punches_once_within_a_minute(
        world: FaceApp, sites: dict[str, str], data_dir: Path) -> None:
    first = clock(world, data_dir, sites["b"], "key-site-b-1")
    assert first["object"] == "punch" and first["staff"] == sites["worker_b"]
    assert first["kind"] == "in" and first["method"] == "face" and first["counts"]
    again = clock(world, data_dir, sites["b"], "key-site-b-2")  # seconds later
    assert again["id"] == first["id"] and again["duplicate"]


def test_pin_punches_wait_for_a_manager(world: FaceApp, sites: dict[str, str]) -> None:
    r = post(world, f"/sites/{sites['a']}/punches",
             {"method": "pin", "secret": "1111", "idempotency_key": "key-pin-1"})
    assert r.status_code == 200, r.text
    punch = r.json()
    assert punch["manual"] and not punch["counts"] and punch["staff"] == sites["worker_a"]
    retry = post(world, f"/sites/{sites['a']}/punches",
                 {"method": "pin", "secret": "1111", "idempotency_key": "key-pin-1"}).json()
    assert retry["id"] == punch["id"]
    assert post(world, f"/punches/{punch['id']}/approve",
                {"manager_pin": "1111"}).status_code == 404  # not a manager
    approved = post(world, f"/punches/{punch['id']}/approve", {"manager_pin": "9999"}).json()
    assert approved["counts"] and approved["approved_by"] is not None
    wrong = post(world, f"/sites/{sites['a']}/punches",
                 {"method": "pin", "secret": "2222", "idempotency_key": "key-pin-2"})
    assert wrong.status_code == 404  # site B's PIN at site A


def test_offline_punches_are_signed_and_a_late_sync_is_flagged(
        world: FaceApp, sites: dict[str, str]) -> None:
    from smilepay.api.routes_identity_attendance import offline_signature

    device_at = world.clock.now - 2 * 24 * 3600 * 1000
    body = {"method": "badge", "secret": "BADGE-B-1", "idempotency_key": "key-offline-1",
            "device_at_ms": device_at}
    unsigned = post(world, f"/sites/{sites['b']}/punches", body)
    assert unsigned.status_code == 400
    signature = offline_signature(world.keys.terminal_key, sites["b"], "badge", device_at,
                                  "key-offline-1")
    r = post(world, f"/sites/{sites['b']}/punches", {**body, "signature": signature})
    assert r.status_code == 200, r.text
    assert r.json()["flagged"] and r.json()["at_ms"] == device_at


def test_the_daily_report_exports_csv(world: FaceApp, sites: dict[str, str]) -> None:
    now = world.clock.now
    start = now - 3600 * 1000
    r = post(world, "/shifts", {"staff": sites["worker_b"], "start_ms": start,
                                "end_ms": start + 8 * 3600 * 1000}, merchant=True)
    assert r.status_code == 200, r.text
    clash = post(world, "/shifts", {"staff": sites["worker_b"], "start_ms": start + 9 * 3600_000,
                                    "end_ms": start + 10 * 3600_000}, merchant=True)
    assert clash.status_code == 400  # one hour of rest
    day = world.client.get(f"/v1/identity/sites/{sites['b']}/report",
                           params={"start_ms": start - 60_000, "period": "day"},
                           headers=world.as_merchant()).json()
    assert [row["staff"] for row in day["data"]] == [sites["worker_b"]]
    assert "late" in day["data"][0]["marks"]  # the face punch came an hour after the start
    csv_text = world.client.get(f"/v1/identity/sites/{sites['b']}/report",
                                params={"start_ms": start - 60_000, "format": "csv"},
                                headers=world.as_merchant()).text
    assert csv_text.splitlines()[0].startswith("staff,name,shift")
    assert "Apfol" in csv_text


def test_erasing_a_staff_face_refuses_the_next_face_punch(
        world: FaceApp, sites: dict[str, str], data_dir: Path) -> None:
    r = world.client.delete(f"/v1/identity/staff/{sites['worker_b']}/face",
                            headers=world.as_merchant())
    assert r.status_code == 200 and r.json()["records_erased"] == 1, r.text
    world.clock.now += 120_000
    refused = clock(world, data_dir, sites["b"], "key-site-b-after-erase")
    assert refused["state"] == "no_match"
