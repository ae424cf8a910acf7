"""Issue 11, point 1: a terminal key cannot charge a customer by id, and a merchant debit
outside the face flow needs the customer's standing authorisation (mandate).

The attack: ``GET /v1/face/terminal`` showed the pending intent, and ``POST
/v1/payment_intents/{pi}/confirm {"customer": "cus_..."}`` with the same kiosk key paid it with
no face (the face audit stayed empty). Both engines, through the HTTP API.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from facepay_support import FaceApp
from flow_support import bearer, build_flow_app, holds_no, new_payment, wallet_of

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def app(money_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaceApp]:
    built = build_flow_app(money_url, tmp_path_factory.mktemp("mandates"))
    yield built
    built.close()


def funded(app: FaceApp, phone: str) -> tuple[str, str]:
    customer, token = wallet_of(app, phone)
    r = app.client.post("/v1/face/wallet/topups", json={"amount_minor": 5000},
                        headers=bearer(token))
    assert r.status_code == 200, r.text
    return customer, token


def balance(app: FaceApp, token: str) -> int:
    wallet = app.client.get("/v1/face/wallet", headers=bearer(token)).json()
    return int(wallet["balance"]["available_minor"])


def test_a_terminal_key_cannot_confirm_a_payment_by_customer_id(app: FaceApp) -> None:
    customer, token = funded(app, "+4915100000101")
    pi = new_payment(app)
    seen = app.client.get("/v1/face/terminal", headers=app.as_terminal())
    assert seen.status_code == 200 and seen.json()["payment"]["id"] == pi["id"]
    r = app.client.post(f"/v1/payment_intents/{pi['id']}/confirm", json={"customer": customer},
                        headers=app.as_terminal())
    assert r.status_code == 403, r.text
    assert r.json()["error"]["code"] == "face_flow_required"
    assert balance(app, token) == 5000
    after = app.client.get(f"/v1/payment_intents/{pi['id']}", headers=app.as_merchant())
    assert after.json()["status"] == "requires_confirmation"


def test_a_merchant_debit_needs_a_mandate_granted_and_not_revoked(app: FaceApp) -> None:
    customer, token = funded(app, "+4915100000102")
    body = {"amount_minor": 700, "currency": "eur", "customer": customer, "confirm": True}
    refused = app.client.post("/v1/payment_intents", json=body, headers=app.as_merchant())
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"]["code"] == "mandate_required"
    pi = new_payment(app, 300, customer=customer)  # a customer named at creation: same rule
    r = app.client.post(f"/v1/payment_intents/{pi['id']}/confirm", json={},
                        headers=app.as_merchant())
    assert r.status_code == 403 and r.json()["error"]["code"] == "mandate_required", r.text
    assert balance(app, token) == 5000

    granted = app.client.post("/v1/face/wallet/mandates", headers=bearer(token))
    assert granted.status_code == 200, granted.text
    mandate = granted.json()
    assert mandate["status"] == "active" and mandate["customer"] == customer
    paid = app.client.post("/v1/payment_intents", json=body, headers=app.as_merchant())
    assert paid.status_code == 200 and paid.json()["status"] == "succeeded", paid.text
    assert balance(app, token) == 5000 - 700

    gone = app.client.delete(f"/v1/face/wallet/mandates/{mandate['id']}", headers=bearer(token))
    assert gone.status_code == 200 and gone.json()["status"] == "revoked"
    again = app.client.post("/v1/payment_intents", json=body, headers=app.as_merchant())
    assert again.status_code == 403 and again.json()["error"]["code"] == "mandate_required"
    assert balance(app, token) == 5000 - 700
    listed = app.client.get("/v1/face/wallet/mandates", headers=bearer(token)).json()["data"]
    assert [(m["id"], m["status"]) for m in listed] == [(mandate["id"], "revoked")]
    audit = app.client.get("/v1/face/audit", params={"subject": customer},
                           headers=app.as_merchant()).json()["data"]
    kinds = [(a["kind"], a["decision"]) for a in audit if a["kind"] == "mandate"]
    assert sorted(kinds) == [("mandate", "granted"), ("mandate", "revoked")]


def test_a_mandate_is_the_customers_own(app: FaceApp) -> None:
    _, owner = funded(app, "+4915100000103")
    _, other = funded(app, "+4915100000104")
    mandate = app.client.post("/v1/face/wallet/mandates", headers=bearer(owner)).json()
    r = app.client.delete(f"/v1/face/wallet/mandates/{mandate['id']}", headers=bearer(other))
    assert r.status_code == 404, r.text
    assert app.client.get("/v1/face/wallet/mandates", headers=bearer(other)).json()["data"] == []
    for key in (app.as_terminal(), app.as_merchant()):  # only the wallet session manages them
        assert app.client.post("/v1/face/wallet/mandates", headers=key).status_code == 401
        assert app.client.get("/v1/face/wallet/mandates", headers=key).status_code == 401


def test_a_terminal_never_sees_the_customer_id(app: FaceApp) -> None:
    customer, _ = funded(app, "+4915100000105")
    pi = new_payment(app, 200, customer=customer)
    state = app.client.get("/v1/face/terminal", headers=app.as_terminal()).json()
    assert state["payment"]["id"] == pi["id"] and holds_no(state, customer)
    one = app.client.get(f"/v1/payment_intents/{pi['id']}", headers=app.as_terminal())
    assert one.status_code == 200 and holds_no(one.json(), customer)
    merchant = app.client.get(f"/v1/payment_intents/{pi['id']}", headers=app.as_merchant())
    assert merchant.json()["customer"] == customer  # the merchant's server still sees it


def test_a_replay_of_a_debit_made_under_a_mandate_answers_what_happened(app: FaceApp) -> None:
    """Revoking stops the next debit, not the record of the last one: a retry of the same
    Idempotency-Key returns the stored payment (it is not charged again)."""
    customer, token = funded(app, "+4915100000106")
    mandate = app.client.post("/v1/face/wallet/mandates", headers=bearer(token)).json()
    body = {"amount_minor": 400, "currency": "eur", "customer": customer, "confirm": True}
    headers = {**app.as_merchant(), "Idempotency-Key": f"mandate-replay-{customer}"}
    first = app.client.post("/v1/payment_intents", json=body, headers=headers)
    assert first.status_code == 200, first.text
    app.client.delete(f"/v1/face/wallet/mandates/{mandate['id']}", headers=bearer(token))
    again = app.client.post("/v1/payment_intents", json=body, headers=headers)
    assert again.status_code == 200 and again.content == first.content
    assert again.headers["Idempotent-Replayed"] == "true"
    assert balance(app, token) == 5000 - 400
    fresh = app.client.post("/v1/payment_intents", json=body, headers=app.as_merchant())
    assert fresh.status_code == 403 and fresh.json()["error"]["code"] == "mandate_required"
