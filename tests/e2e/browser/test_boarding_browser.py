"""The boarding gate page in a real browser (Debian chromium, fake camera: the bona fide webcam
feed of the person of ``pad_apfol``, enrolled for boarding from their photos, holding a
ticket): they board by face; at the gate again their face finds no valid ticket and the used
ticket's QR code is refused; a fellow passenger boards with the QR code; the rates count the
captured faces and the matches apart. At a taxi's gate (a fare), a wallet that cannot pay
keeps the gate shut and says what to do; topped up, the same QR code boards and pays."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from e2e.browser.conftest import SCREENSHOTS, LiveServer, collecting_console, launch_page
from facepay_support import build_face_app, sign_up
from support import require

pytestmark = pytest.mark.e2e
REAL = "video/bona_fide/apfol_webcam_real.webm"
# A step longer than one loop of the feed (11.7 s) plus slack for a loaded machine: wherever in
# the loop a challenge starts, the feed's smile comes round within the step.
STEP_MS = 20_000


def enrol_passenger(world: Any, customer_id: str, data_dir: Path) -> None:
    from smilepay.adapters.sql.gates_store import SqlGatesStore
    from smilepay.adapters.sql.gates_templates import SqlGateTemplates
    from smilepay.domain.purposes import Purpose, grant_purpose_consent, purpose_text
    from smilepay.domain.templates import merge_embeddings
    from smilepay.domain.tenants import Scope
    from smilepay.services.face_context import now_utc
    from smilepay.vision.decode import read_image

    scope = Scope(world.keys.tenant_id, livemode=False)
    vectors, model = [], ""
    for path in sorted((data_dir / "pad_apfol" / "live").glob("*.png"))[:5]:
        found = world.face.pipeline.analyze_frame(read_image(str(path)), signals=False)
        assert found.embedding is not None
        vectors.append(world.face.rotate(scope, found.embedding.vector))
        model = found.embedding.model_id
    now = int(time.time() * 1000)
    SqlGatesStore(world.container.store.engine).add_purpose_consent(scope, grant_purpose_consent(
        consent_id=f"pcon_{customer_id}", tenant_id=scope.tenant_id, customer_id=customer_id,
        purpose=Purpose.BOARDING, accepted_digest=purpose_text(Purpose.BOARDING).digest,
        now=now_utc(now)))
    sealed = world.face.seal(scope, customer_id, merge_embeddings(vectors), model, 1.0, now)
    SqlGateTemplates(world.container.store.engine).add(sealed, Purpose.BOARDING)


def gate_face(page: Any, expected: str, tries: int = 3) -> None:
    for _ in range(tries):
        page.click("#board-face")
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            page.wait_for_timeout(250)
            if expected in page.inner_text("#result") and page.is_visible("#result"):
                return
            if page.is_enabled("#board-face") and "try again" in page.inner_text("#message"):
                break
    raise AssertionError((expected, page.inner_text("#message"), page.inner_text("#result")))


def test_board_by_face_then_qr_fallbacks(tmp_path: Path, feed: Callable[..., Path],
                                         playwright_driver: Any, data_dir: Path) -> None:
    require((data_dir / REAL).exists(), f"bona fide video {data_dir / REAL}")
    from smilepay.services.face_frames import warm_up

    world = build_face_app(tmp_path, challenge="smile", real_clock=True,
                           step_timeout_ms=STEP_MS)
    warm_up(world.face)
    client, merchant = world.client, world.as_merchant()
    now = int(time.time() * 1000)
    dep = client.post("/v1/identity/departures", json={
        "kind": "train", "name": "G7", "opens_ms": now - 60_000,
        "closes_ms": now + 3_600_000}, headers=merchant).json()["id"]
    taxi = client.post("/v1/identity/departures", json={
        "kind": "taxi", "name": "Cab 4", "opens_ms": now - 60_000, "closes_ms": now + 3_600_000,
        "fare_minor": 1250, "fare_currency": "EUR"}, headers=merchant).json()["id"]
    ids, tokens = [], []
    for phone in ("+4915100000031", "+4915100000032"):
        token = sign_up(world, phone=phone)
        wallet = client.get("/v1/face/wallet", headers={"Authorization": f"Bearer {token}"})
        ids.append(wallet.json()["customer"]["id"])
        tokens.append(token)
    enrol_passenger(world, ids[0], data_dir)  # and their boarding consent
    tickets = [client.post(f"/v1/identity/departures/{dep}/tickets", json={"customer": c},
                           headers=merchant).json() for c in ids]
    ride = client.post(f"/v1/identity/departures/{taxi}/tickets", json={"customer": ids[0]},
                       headers=merchant).json()
    camera = feed(REAL, "apfol_real_15fps")
    with LiveServer(world.client.app) as server:
        browser, page = launch_page(playwright_driver, camera, server.url)
        try:
            with collecting_console(page) as console:
                page.goto(f"{server.url}/identity/boarding#key={world.keys.terminal_key}"
                          f"&departure={dep}")
                gate_face(page, "Boarded")
                assert page.get_attribute("#result", "data-kind") == "face", console
                page.screenshot(path=str(SCREENSHOTS / "boarding_face.png"), full_page=True)
                gate_face(page, "Not recognised")  # the ticket is used: no candidate left
                page.fill("#qr", tickets[0]["qr"])
                page.click("#board-qr")
                page.wait_for_selector("#result[data-kind=refused]")
                assert "already used" in page.inner_text("#result")
                page.fill("#qr", tickets[1]["qr"])
                page.click("#board-qr")
                page.wait_for_selector("#result[data-kind=qr]")
                page.goto(f"{server.url}/identity/boarding#key={world.keys.terminal_key}"
                          f"&departure={taxi}")  # the taxi: the wallet is empty
                page.reload()  # a new hash alone does not load the page again
                page.fill("#qr", ride["qr"])
                page.click("#board-qr")
                page.wait_for_selector("#result[data-kind=fare_declined]")
                assert "can't pay the 12.50 EUR fare" in page.inner_text("#message")
                assert "pay the driver" in page.inner_text("#message")
                page.screenshot(path=str(SCREENSHOTS / "boarding_fare_declined.png"),
                                full_page=True)
                r = client.post("/v1/face/wallet/topups", json={"amount_minor": 2000},
                                headers={"Authorization": f"Bearer {tokens[0]}"})
                assert r.status_code == 200, r.text
                page.fill("#qr", ride["qr"])
                page.click("#board-qr")
                page.wait_for_selector("#result[data-kind=qr]")
                assert "12.50 EUR paid" in page.inner_text("#message"), console
        finally:
            browser.close()
    rates = client.get(f"/v1/identity/departures/{dep}/rates", headers=merchant).json()
    world.close()
    assert (rates["travellers"], rates["captured"], rates["matched"]) == (3, 2, 1)
    assert rates["boarded_by_face"] == 1 and rates["boarded_by_qr"] == 1
