"""The clock terminal page in a real browser (Debian chromium, fake camera: the bona fide
webcam feed of the person of ``pad_apfol``): a staff member enrolled from their photos clocks
in by face and, a minute later, out; with the server cut, a colleague's PIN punch waits on the
page with its device time and signature and is sent when the server is back, pending a
manager."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from e2e.browser.conftest import SCREENSHOTS, LiveServer, collecting_console, launch_page
from facepay_support import build_face_app
from support import require

pytestmark = pytest.mark.e2e
REAL = "video/bona_fide/apfol_webcam_real.webm"


def wait_for_text(page: Any, selector: str, text: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while text not in page.inner_text(selector):
        assert time.monotonic() < deadline, (f"{text!r} never appeared in {selector}",
                                             page.inner_text("#message"))
        page.wait_for_timeout(250)


def face_punch(page: Any, expected: str, tries: int = 3) -> None:
    """Press the face button until the result shows ``expected``; a challenge the loaded
    machine could not follow (the looping feed's smile missed) is tried again, as a person
    at the terminal would."""
    for _ in range(tries):
        page.click("#start-face")
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            page.wait_for_timeout(250)
            if expected in page.inner_text("#result"):
                return
            if page.is_enabled("#start-face") and "try again" in page.inner_text("#message"):
                break
    raise AssertionError((expected, page.inner_text("#message"), page.inner_text("#result")))


def enrol_staff(world: Any, staff_id: str, data_dir: Path) -> None:
    from smilepay.adapters.sql.gates_templates import SqlGateTemplates
    from smilepay.domain.purposes import Purpose, grant_purpose_consent, purpose_text
    from smilepay.domain.templates import merge_embeddings
    from smilepay.domain.tenants import Scope
    from smilepay.vision.decode import read_image

    scope = Scope(world.keys.tenant_id, livemode=False)
    vectors, model = [], ""
    for path in sorted((data_dir / "pad_apfol" / "live").glob("*.png"))[:5]:
        found = world.face.pipeline.analyze_frame(read_image(str(path)), signals=False)
        assert found.embedding is not None
        vectors.append(world.face.rotate(scope, found.embedding.vector))
        model = found.embedding.model_id
    from smilepay.adapters.sql.gates_store import SqlGatesStore
    from smilepay.services.face_context import now_utc

    now = int(time.time() * 1000)
    SqlGatesStore(world.container.store.engine).add_purpose_consent(scope, grant_purpose_consent(
        consent_id="pcon_browser1", tenant_id=scope.tenant_id, customer_id=staff_id,
        purpose=Purpose.ATTENDANCE, accepted_digest=purpose_text(Purpose.ATTENDANCE).digest,
        now=now_utc(now)))
    sealed = world.face.seal(scope, staff_id, merge_embeddings(vectors), model, 1.0, now)
    SqlGateTemplates(world.container.store.engine).add(sealed, Purpose.ATTENDANCE)


def test_clock_in_out_and_an_offline_pin_punch(
        tmp_path: Path, feed: Callable[..., Path], playwright_driver: Any,
        data_dir: Path) -> None:
    require((data_dir / REAL).exists(), f"bona fide video {data_dir / REAL}")
    from smilepay.services.face_frames import warm_up

    world = build_face_app(tmp_path, challenge="smile", real_clock=True, step_timeout_ms=9000)
    warm_up(world.face)
    client, merchant = world.client, world.as_merchant()
    site = client.post("/v1/identity/sites", json={"name": "Depot"}, headers=merchant).json()
    staff = client.post("/v1/identity/staff", json={"site": site["id"], "name": "Apfol",
                                                    "pin": "4321"}, headers=merchant).json()
    client.post("/v1/identity/staff", json={"site": site["id"], "name": "Bea", "pin": "5678"},
                headers=merchant)  # a colleague punches offline (Apfol's own would be a double)
    enrol_staff(world, staff["id"], data_dir)
    camera = feed(REAL, "apfol_real_15fps")
    server = LiveServer(world.client.app).__enter__()
    browser, page = launch_page(playwright_driver, camera, server.url)
    try:
        with collecting_console(page) as console:
            page.goto(f"{server.url}/identity/clock#key={world.keys.terminal_key}"
                      f"&site={site['id']}")
            face_punch(page, "Clocked in")
            page.screenshot(path=str(SCREENSHOTS / "clock_in.png"), full_page=True)
            time.sleep(61)  # a punch within a minute is the same punch
            face_punch(page, "Clocked out")
            # the server goes away: a PIN punch waits on the page, signed
            server.__exit__(None, None, None)
            page.fill("#secret", "5678")
            page.click("#manual")
            wait_for_text(page, "#queued", "1", timeout_s=20)
            assert page.get_attribute("#result", "data-kind") == "queued", console
            page.screenshot(path=str(SCREENSHOTS / "clock_offline.png"), full_page=True)
            # back on the same port: the queue drains
            import uvicorn

            again = uvicorn.Server(uvicorn.Config(world.client.app, host="127.0.0.1",
                                                  port=server.port, log_level="warning"))
            import threading

            thread = threading.Thread(target=again.run, daemon=True)
            thread.start()
            try:
                wait_for_text(page, "#queued", "0", timeout_s=30)
                wait_for_text(page, "#message", "Saved punches were sent", timeout_s=10)
            finally:
                again.should_exit = True
                thread.join(timeout=15)
    finally:
        browser.close()
        world.close()
    from smilepay.adapters.sql.gates_attendance import SqlAttendance
    from smilepay.domain.tenants import Scope

    scope = Scope(world.keys.tenant_id, livemode=False)
    punches = SqlAttendance(world.container.store.engine).punches_between(
        scope, site["id"], 0, 2**62)
    assert [(p.kind.value, p.method.value) for p in punches] == [
        ("in", "face"), ("out", "face"), ("in", "pin")]
    assert {p.staff_id for p in punches[:2]} == {staff["id"]}
    assert punches[2].staff_id != staff["id"] and not punches[2].counts  # waits for a manager
    assert not punches[2].flagged  # synced within the window
