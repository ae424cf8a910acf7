"""The demo merchant: a tenant with a test-mode secret key, a terminal and its terminal key.

``seed_demo`` runs on first start (``make run``): it creates them once and keeps the raw
test-mode keys in ``var/demo-keys.json`` (mode 0600) so the page addresses can be printed
again on every start. Test mode only: these keys never move real money.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from smilepay.domain.money_errors import AuthenticationFailed
from smilepay.domain.tenants import KeyKind, Scope
from smilepay.errors import InvalidInput
from smilepay.ports.money import MoneyTx
from smilepay.services.face_money import MoneySide
from smilepay.services.tenants import (
    authenticate,
    create_tenant,
    create_terminal,
    issue_api_key,
)


@dataclass(frozen=True)
class DemoKeys:
    tenant_id: str
    merchant: str
    secret_key: str
    terminal_id: str
    terminal_key: str

    def page_addresses(self, base_url: str) -> dict[str, str]:
        return {
            "kiosk": f"{base_url}/kiosk#key={self.terminal_key}",
            "enrol": f"{base_url}/enrol#key={self.terminal_key}",
            "wallet": f"{base_url}/wallet",
            "dashboard": f"{base_url}/dashboard#key={self.secret_key}",
        }


def create_demo_merchant(container: MoneySide, name: str = "Demo Café") -> DemoKeys:
    now_ms = container.ctx.clock.now_ms()

    def work(tx: MoneyTx) -> DemoKeys:
        tenant = create_tenant(tx, name, now_ms)
        scope = Scope(tenant.id, livemode=False)
        secret = issue_api_key(tx, scope, KeyKind.SECRET, now_ms)
        terminal = create_terminal(tx, scope, "Counter 1", now_ms)
        terminal_key = issue_api_key(tx, scope, KeyKind.TERMINAL, now_ms, terminal.id)
        return DemoKeys(tenant.id, tenant.name, secret.raw, terminal.id, terminal_key.raw)

    return container.store.run(work)


def seed_demo(container: MoneySide, keys_file: Path,
              write_secret: Callable[[Path, bytes], None]) -> tuple[DemoKeys, bool]:
    """(the demo keys, whether they were created now); ``write_secret`` keeps the raw keys in
    ``keys_file`` (atomically, owner-only: the entry point passes the file adapter)."""
    if keys_file.exists():
        kept = DemoKeys(**json.loads(keys_file.read_text()))
        try:
            container.store.run(lambda tx: authenticate(tx, kept.secret_key), write=False)
            return kept, False
        except AuthenticationFailed:  # the database was reset: make a new demo merchant
            keys_file.unlink()
    keys = create_demo_merchant(container)
    write_secret(keys_file, json.dumps(asdict(keys)).encode())
    return keys, True


@dataclass(frozen=True)
class ScriptedCustomer:
    customer_id: str
    wallet_token: str


def sign_up_customer(fc: Any, money: MoneySide, scope: Scope, phone: str, name: str,
                     now_ms: int) -> ScriptedCustomer:
    """What the enrol page does, scripted: code, verify, consent to the current text."""
    from smilepay.domain.consent import consent_text
    from smilepay.services.enrol import give_consent, start_signup, verify_signup

    signup = start_signup(fc, money, scope, phone, now_ms)
    if signup.test_code is None:
        raise InvalidInput("expected a test-mode merchant for a scripted sign-up, got live")
    login = verify_signup(fc, money, scope, signup.code_id, signup.test_code, name, now_ms)
    text = consent_text()
    give_consent(fc, scope, login.customer_id, text.version, text.digest, now_ms)
    return ScriptedCustomer(login.customer_id, login.session_token)


def run_scripted_checkout(fc: Any, money: MoneySide, scope: Scope, terminal_id: str,
                          frames: Iterable[Any], phone_entry: str, amount_minor: int,
                          clock: Any, frame_ms: int = 66) -> dict[str, Any]:
    """A payment at ``terminal_id`` answered by ``frames`` (BGR, one every ``frame_ms`` of the
    simulated ``clock``); the face-payment result (receipt on success)."""
    import cv2

    from smilepay.services.face_frames import add_frame
    from smilepay.services.face_pay import confirm_face_payment, start_face_payment
    from smilepay.services.payments import create_payment

    intent = money.store.run(lambda tx: create_payment(
        tx, money.ctx, scope, amount_minor=amount_minor, currency="EUR",
        terminal_id=terminal_id, description="Demo checkout"))
    session, _ = start_face_payment(fc, money, scope, intent.id, terminal_id, clock.now_ms())
    state = "collecting"
    for frame in frames:
        clock.advance_s(frame_ms / 1000)
        ok, jpeg = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 85])
        if not ok:
            continue
        state = add_frame(fc, session, bytes(jpeg), clock.now_ms(), clock.now_ms()).state
        if state != "collecting":
            break
    result = confirm_face_payment(fc, money, scope, session.challenge_id, phone_entry,
                                  clock.now_ms())
    return {**result, "challenge_state": state}


def video_frames(path: Path, every: int = 2) -> Iterable[Any]:
    """Every ``every``-th frame of a video file (BGR), decoded lazily."""
    import cv2

    capture = cv2.VideoCapture(str(path))
    index = 0
    try:
        while True:
            ok, frame = capture.read()
            if not ok:
                return
            if index % every == 0:
                yield frame
            index += 1
    finally:
        capture.release()
