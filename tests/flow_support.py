"""Helpers for the flow security tests (tests/security/test_flow_*.py): a face app on a given
database URL (SQLite or PostgreSQL), a second terminal of the same merchant, wallet sign-ups."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from facepay_support import FaceApp, verified_signup


def build_flow_app(url: str, tmp: Path, challenge: str = "smile", **policy: Any) -> FaceApp:
    """The HTTP app on ``url`` with a demo merchant (one terminal), a fixed clock and the face
    context (models load only when a frame is analysed)."""
    from smilepay.adapters.sql.identity_store import SqlIdentityStore
    from smilepay.api.app import create_app
    from smilepay.bootstrap import build_container, build_face_context
    from smilepay.config import FaceSettings
    from smilepay.services.context import FixedClock
    from smilepay.services.demo import create_demo_merchant
    from smilepay.services.face_policy import policy_from

    clock = FixedClock(now=int(time.time() * 1000))
    container = build_container(url, clock=clock)
    settings = FaceSettings(challenge=challenge, secrets_file=str(tmp / "secrets.json"),
                            index_dir=str(tmp / "index"))
    face = build_face_context(SqlIdentityStore(container.store.engine), settings,
                              replace(policy_from(settings), **policy))
    container.extras["face"] = face
    return FaceApp(TestClient(create_app(container)), container, face,
                   create_demo_merchant(container), clock)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def second_terminal(app: FaceApp, name: str = "Counter 2") -> tuple[str, str]:
    """(terminal id, terminal key) of another terminal of the same merchant."""
    merchant = app.as_merchant()
    term = app.client.post("/v1/terminals", json={"name": name}, headers=merchant)
    assert term.status_code == 200, term.text
    key = app.client.post("/v1/api_keys", json={"kind": "terminal", "terminal": term.json()["id"]},
                          headers=merchant)
    assert key.status_code == 200, key.text
    return str(term.json()["id"]), str(key.json()["key"])


def wallet_of(app: FaceApp, phone: str, name: str = "Ann") -> tuple[str, str]:
    """(customer id, wallet session token) of a customer signed up at the terminal."""
    token = verified_signup(app, phone, name)
    wallet = app.client.get("/v1/face/wallet", headers=bearer(token))
    assert wallet.status_code == 200, wallet.text
    return str(wallet.json()["customer"]["id"]), token


def consent(app: FaceApp, token: str) -> None:
    text = app.client.get("/v1/face/consent_text").json()
    r = app.client.post("/v1/face/consent", json={"version": text["version"],
                                                   "digest": text["digest"]},
                        headers=bearer(token))
    assert r.status_code == 200, r.text


def new_payment(app: FaceApp, amount_minor: int = 1250, **extra: Any) -> dict[str, Any]:
    body = {"amount_minor": amount_minor, "currency": "eur", "terminal": app.keys.terminal_id,
            **extra}
    r = app.client.post("/v1/payment_intents", json=body, headers=app.as_merchant())
    assert r.status_code == 200, r.text
    return dict(r.json())


def holds_no(value: object, needle: str) -> bool:
    """True when ``needle`` appears nowhere in a JSON value (keys and strings, at any depth)."""
    if isinstance(value, dict):
        return all(holds_no(k, needle) and holds_no(v, needle) for k, v in value.items())
    if isinstance(value, list):
        return all(holds_no(v, needle) for v in value)
    return needle not in str(value)
