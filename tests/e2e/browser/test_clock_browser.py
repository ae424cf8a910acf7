"""The clock terminal page in a real browser (Debian chromium, fake camera: the bona fide
webcam feed of the person of ``pad_apfol``): a staff member enrolled from their photos clocks
in by face and, a minute later, out; with the server cut, a colleague's PIN punch waits on the
page with its device time and signature and is sent when the server is back, pending a
manager."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from e2e.browser.conftest import SCREENSHOTS, collecting_console, launch_page
from e2e.browser.pages_support import OVERFLOW_JS, PHONE_SIZE, Shop, text_of, wait_until
from facepay_support import build_face_app
from support import require

pytestmark = pytest.mark.e2e
REAL = "video/bona_fide/apfol_webcam_real.webm"
# A step longer than one loop of the feed (11.7 s) plus slack for a loaded machine: wherever in
# the loop a challenge starts, the feed's smile comes round within the step.
STEP_MS = 20_000


def wait_for_text(page: Any, selector: str, text: str, timeout_s: float = 60.0, *,
                  exact: bool = False) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        shown = page.inner_text(selector).strip()
        if (shown == text) if exact else (text in shown):
            return
        assert time.monotonic() < deadline, (f"{text!r} never appeared in {selector}",
                                             shown, page.inner_text("#message"))
        page.wait_for_timeout(100)


def _reusable_socket(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("127.0.0.1", port))
    return sock


class SamePortServer:
    """The app served from one port that this test holds from start to end, so that it can be
    cut and served again at the same origin: a bound socket that never listens keeps the port
    ours while the server is down (connections are refused, no other process can bind it), and
    each serving socket joins it through SO_REUSEPORT (no wait on TIME_WAIT, no lost race)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.reserve = _reusable_socket(0)
        self.port = int(self.reserve.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self.server: Any = None
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        import uvicorn

        assert self.thread is None, "already serving"
        sock = _reusable_socket(self.port)
        sock.listen(128)
        self.server = uvicorn.Server(uvicorn.Config(self.app, log_level="warning",
                                                    lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]},
                                       daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            assert self.thread.is_alive(), "the test server died while starting"
            assert time.monotonic() < deadline, "the test server did not start in 60 s"
            time.sleep(0.02)
        assert self.answers(), "the started server refuses connections"

    def stop(self) -> None:
        assert self.thread is not None, "not serving"
        self.server.should_exit = True
        self.thread.join(timeout=60)
        assert not self.thread.is_alive(), "the test server did not stop in 60 s"
        self.thread = None
        assert not self.answers(), "the stopped server still accepts connections"

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=5):
                return True
        except ConnectionRefusedError:
            return False

    def close(self) -> None:
        if self.thread is not None:
            self.stop()
        self.reserve.close()


def wait_past_double_punch_window(world: Any, site_id: str) -> None:
    """Wait, on the recorded punch rather than a guessed sleep, until a minute has passed since
    the last punch at the site, so that the next one is not taken for its double."""
    from smilepay.adapters.sql.gates_attendance import SqlAttendance
    from smilepay.domain.tenants import Scope

    scope = Scope(world.keys.tenant_id, livemode=False)
    punches = SqlAttendance(world.container.store.engine).punches_between(
        scope, site_id, 0, 2**62)
    assert punches, "no punch recorded"
    last_s = max(p.at.timestamp() for p in punches)
    remaining_s = last_s + 61 - time.time()
    if remaining_s > 0:
        time.sleep(remaining_s)


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

    world = build_face_app(tmp_path, challenge="smile", real_clock=True,
                           step_timeout_ms=STEP_MS)
    warm_up(world.face)
    client, merchant = world.client, world.as_merchant()
    site = client.post("/v1/identity/sites", json={"name": "Depot"}, headers=merchant).json()
    staff = client.post("/v1/identity/staff", json={"site": site["id"], "name": "Apfol",
                                                    "pin": "4321"}, headers=merchant).json()
    client.post("/v1/identity/staff", json={"site": site["id"], "name": "Bea", "pin": "5678"},
                headers=merchant)  # a colleague punches offline (Apfol's own would be a double)
    enrol_staff(world, staff["id"], data_dir)
    camera = feed(REAL, "apfol_real_15fps")
    server = SamePortServer(world.client.app)
    server.start()
    browser, page = launch_page(playwright_driver, camera, server.url)
    try:
        with collecting_console(page) as console:
            page.goto(f"{server.url}/identity/clock#key={world.keys.terminal_key}"
                      f"&site={site['id']}")
            face_punch(page, "Clocked in")
            page.screenshot(path=str(SCREENSHOTS / "clock_in.png"), full_page=True)
            wait_past_double_punch_window(world, site["id"])  # within a minute: the same punch
            face_punch(page, "Clocked out")
            # the server goes away (connections refused): a PIN punch waits on the page, signed
            server.stop()
            page.fill("#secret", "5678")
            page.click("#manual")
            wait_for_text(page, "#queued", "1", timeout_s=30, exact=True)
            assert page.get_attribute("#result", "data-kind") == "queued", console
            page.screenshot(path=str(SCREENSHOTS / "clock_offline.png"), full_page=True)
            # back at the same origin: the page's retry drains the queue
            server.start()
            wait_for_text(page, "#queued", "0", timeout_s=60, exact=True)
            wait_for_text(page, "#message", "Saved punches were sent", timeout_s=30)
    finally:
        browser.close()
        server.close()
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


WRONG_PIN = "That PIN is not right. Try again or ask your manager."


def test_a_wrong_pin_reads_the_same_whoever_it_might_be_and_never_shows_server_words(
        pages_shop: Shop, browse: Callable[..., Any]) -> None:
    """A wrong PIN, a PIN too short for the server, another site's PIN and a wrong badge all
    read as one plain sentence (nothing tells whether such a staff member exists); the PIN is
    masked, every control is labelled, and nothing runs off a phone. The right PIN punches;
    after five wrong ones the page says to ask the manager."""
    with pages_shop.api() as api:
        here = api.post("/v1/identity/sites", json={"name": "Depot"}).json()
        there = api.post("/v1/identity/sites", json={"name": "Harbour"}).json()
        r = api.post("/v1/identity/staff", json={"site": here["id"], "name": "Bea",
                                                 "pin": "5678", "badge": "BADGE-77"})
        assert r.status_code == 200, r.text
        r = api.post("/v1/identity/staff", json={"site": there["id"], "name": "Cem",
                                                 "pin": "2468"})
        assert r.status_code == 200, r.text
    page = browse(pages_shop.url, PHONE_SIZE)
    page.goto(f"{pages_shop.url}/identity/clock#key={pages_shop.world.keys.terminal_key}"
              f"&site={here['id']}")
    page.wait_for_selector("#manual:enabled")
    assert page.get_attribute("#secret", "type") == "password"
    for control in ("method", "secret"):
        assert page.locator(f"label[for={control}]").count() == 1, control
    assert not page.is_visible("#queue-note")  # nothing waiting: no "0" to puzzle over
    assert "site_" not in text_of(page, "header")

    def punch(method: str, secret: str) -> str:
        page.select_option("#method", method)
        page.fill("#secret", secret)
        page.evaluate("() => { const m = document.getElementById('message');"
                      " m.className = 'message'; m.textContent = ''; }")
        page.click("#manual")
        wait_until(lambda: page.is_visible("#message.error, #message.ok"), "the answer",
                   page=page)
        return text_of(page, "#message")

    shown = {secret: punch("pin", secret) for secret in ("0000", "12", "2468")}
    assert shown == {"0000": WRONG_PIN, "12": WRONG_PIN, "2468": WRONG_PIN}
    assert page.is_hidden("#result")
    assert page.evaluate("document.activeElement.id") == "secret"
    assert punch("badge", "NO-SUCH-BADGE") == ("That badge code is not right. "
                                                "Try again or ask your manager.")
    assert punch("pin", "5678") == "Thank you."
    assert "Clocked in" in text_of(page, "#result")
    assert page.evaluate(OVERFLOW_JS) <= 0
    # five wrong PINs or badges in 15 minutes lock this terminal's PINs, a right one included
    assert [punch("pin", secret) for secret in ("1111", "2222")] == [WRONG_PIN, WRONG_PIN]
    assert punch("pin", "5678") == "Too many wrong PINs. Ask your manager."
