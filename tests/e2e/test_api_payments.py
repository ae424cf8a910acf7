"""The HTTP API end to end on both engines: auth, customers, top-ups, payments, refunds,
idempotent replays, Stripe-shaped errors, cursor pagination, test/live isolation."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from smilepay.api.app import create_app
from smilepay.bootstrap import Container, build_container
from smilepay.domain.tenants import KeyKind, Scope
from smilepay.services.seed import seed_merchant
from smilepay.services.tenants import authenticate, issue_api_key

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def container(money_url: str) -> Iterator[Container]:
    """The app's container on each engine (``money_url`` is migrated already)."""
    built = build_container(money_url, migrate=False)
    yield built
    built.close()


@pytest.fixture
def client(container: Container) -> TestClient:
    return TestClient(create_app(container))


def auth(key: str, idem: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {key}"}
    if idem:
        headers["Idempotency-Key"] = idem
    return headers


def new_merchant(container: Container, livemode: bool = False) -> str:
    return seed_merchant(container.store, container.ctx, "Shop", livemode=livemode).secret_key


def mandate(container: Container, key: str, customer_id: str) -> None:
    """The customer's standing authorisation (granted on the wallet page; see
    tests/security/test_flow_mandates.py): a merchant debit by customer id needs one."""
    from smilepay.adapters.sql.flow_store import SqlFlowStore

    scope = container.store.run(lambda tx: authenticate(tx, key)).scope
    SqlFlowStore(container.store.engine).grant_mandate(scope, customer_id, 0)


def test_a_customer_tops_up_pays_and_gets_a_partial_refund(
    client: TestClient, container: Container
) -> None:
    key = new_merchant(container)
    cus = client.post("/v1/customers", json={"phone": "+49 151 2345 6789", "name": "Ann"},
                      headers=auth(key)).json()
    assert cus["id"].startswith("cus_") and cus["phone"] == "+*********6789"
    top = client.post(f"/v1/customers/{cus['id']}/topups",
                      json={"amount_minor": 5000, "currency": "eur"}, headers=auth(key))
    assert top.status_code == 200 and top.json()["wallet"]["available_minor"] == 5000
    mandate(container, key, cus["id"])

    pi = client.post("/v1/payment_intents", json={
        "amount_minor": 1250, "currency": "EUR", "customer": cus["id"], "confirm": True,
    }, headers=auth(key, "pay-1"))
    assert pi.status_code == 200, pi.text
    assert pi.json()["status"] == "succeeded" and pi.json()["amount_captured_minor"] == 1250

    refund = client.post("/v1/refunds", json={"payment_intent": pi.json()["id"],
                                              "amount_minor": 250}, headers=auth(key))
    assert refund.status_code == 200 and refund.json()["amount_minor"] == 250
    too_much = client.post("/v1/refunds", json={"payment_intent": pi.json()["id"],
                                                "amount_minor": 1001}, headers=auth(key))
    assert too_much.status_code == 400
    assert too_much.json()["error"]["code"] == "refund_exceeds_captured"

    wallet = client.get(f"/v1/customers/{cus['id']}/wallet?currency=EUR", headers=auth(key))
    assert wallet.json()["available_minor"] == 5000 - 1250 + 250
    balance = client.get("/v1/balance?currency=EUR", headers=auth(key)).json()
    assert balance["available_minor"] == 1000
    txns = client.get("/v1/balance_transactions", headers=auth(key)).json()
    assert [t["amount_minor"] for t in txns["data"]] == [-250, 1250]
    notes = client.get(f"/v1/customers/{cus['id']}/notifications", headers=auth(key)).json()
    assert [n["kind"] for n in notes["data"]] == ["refund", "receipt"]


def test_a_replay_is_byte_identical_and_a_changed_body_is_refused(
    client: TestClient, container: Container
) -> None:
    key = new_merchant(container)
    cus = client.post("/v1/customers", json={"phone": "+4915199990001"}, headers=auth(key))
    client.post(f"/v1/customers/{cus.json()['id']}/topups",
                json={"amount_minor": 900, "currency": "EUR"}, headers=auth(key))
    mandate(container, key, cus.json()["id"])
    body = {"amount_minor": 700, "currency": "EUR", "customer": cus.json()["id"],
            "confirm": True}
    first = client.post("/v1/payment_intents", json=body, headers=auth(key, "k-1"))
    again = client.post("/v1/payment_intents", json=body, headers=auth(key, "k-1"))
    assert first.status_code == again.status_code == 200
    assert first.content == again.content
    assert again.headers["Idempotent-Replayed"] == "true"
    listed = client.get("/v1/payment_intents", headers=auth(key)).json()["data"]
    assert len(listed) == 1

    changed = client.post("/v1/payment_intents", json={**body, "amount_minor": 701},
                          headers=auth(key, "k-1"))
    assert changed.status_code == 409
    assert changed.json()["error"] == {
        "type": "idempotency_error", "code": "idempotency_key_reused",
        "message": changed.json()["error"]["message"], "param": "Idempotency-Key",
    }
    # a decline is a stored outcome too: the replay returns the same 402
    declined = client.post("/v1/payment_intents", json=body, headers=auth(key, "k-2"))
    replayed = client.post("/v1/payment_intents", json=body, headers=auth(key, "k-2"))
    assert declined.status_code == replayed.status_code == 402
    assert declined.content == replayed.content
    assert declined.json()["error"]["code"] == "insufficient_funds"
    assert declined.json()["error"]["payment_intent"]["status"] == "failed"


def test_manual_capture_holds_then_captures_less(client: TestClient, container: Container) -> None:
    key = new_merchant(container)
    cus = client.post("/v1/customers", json={"phone": "+4915199990002"}, headers=auth(key))
    cid = cus.json()["id"]
    client.post(f"/v1/customers/{cid}/topups", json={"amount_minor": 3000, "currency": "EUR"},
                headers=auth(key))
    mandate(container, key, cid)
    pi = client.post("/v1/payment_intents", json={"amount_minor": 2000, "currency": "EUR",
                                                  "capture_method": "manual"},
                     headers=auth(key)).json()
    held = client.post(f"/v1/payment_intents/{pi['id']}/confirm", json={"customer": cid},
                       headers=auth(key)).json()
    assert held["status"] == "requires_capture"
    wallet = client.get(f"/v1/customers/{cid}/wallet", headers=auth(key)).json()
    assert (wallet["available_minor"], wallet["pending_minor"]) == (1000, 2000)
    done = client.post(f"/v1/payment_intents/{pi['id']}/capture",
                       json={"amount_to_capture_minor": 1500}, headers=auth(key)).json()
    assert (done["status"], done["amount_captured_minor"]) == ("succeeded", 1500)
    wallet = client.get(f"/v1/customers/{cid}/wallet", headers=auth(key)).json()
    assert (wallet["available_minor"], wallet["pending_minor"]) == (1500, 0)
    again = client.post(f"/v1/payment_intents/{pi['id']}/cancel", headers=auth(key))
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "payment_intent_unexpected_state"


def test_auth_modes_and_terminal_keys_are_kept_apart(
    client: TestClient, container: Container
) -> None:
    test_key = new_merchant(container)
    assert client.get("/v1/customers").status_code == 401
    bad = client.get("/v1/customers", headers=auth("sk_test_nope"))
    assert bad.status_code == 401 and bad.json()["error"]["type"] == "authentication_error"
    cus = client.post("/v1/customers", json={"phone": "+4915199990003"},
                      headers=auth(test_key)).json()
    other = new_merchant(container)
    assert client.get(f"/v1/customers/{cus['id']}", headers=auth(other)).status_code == 404

    term = client.post("/v1/terminals", json={"name": "Till 1"}, headers=auth(test_key)).json()
    tkey = client.post("/v1/api_keys", json={"kind": "terminal", "terminal": term["id"]},
                       headers=auth(test_key)).json()
    assert tkey["key"].startswith("tk_test_")
    denied = client.get("/v1/customers", headers=auth(tkey["key"]))
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "permission_denied"
    pi = client.post("/v1/payment_intents", json={"amount_minor": 10, "currency": "EUR",
                                                  "terminal": term["id"]},
                     headers=auth(test_key)).json()
    seen = client.get(f"/v1/payment_intents/{pi['id']}", headers=auth(tkey["key"]))
    assert seen.status_code == 200
    revoked = client.post(f"/v1/api_keys/{tkey['id']}/revoke", headers=auth(test_key))
    assert revoked.json()["revoked"] is True
    assert client.get(f"/v1/payment_intents/{pi['id']}",
                      headers=auth(tkey["key"])).status_code == 401

    # the same merchant's live key does not see its test objects; top-ups are test-only.
    # A server without SMILEPAY_LIVE refuses live keys (tests/security/test_live_secrets.py);
    # this one is switched to live for the rest of the test.
    tenant_id = cus_tenant(container, test_key)
    live_key = container.store.run(lambda tx: issue_api_key(
        tx, Scope(tenant_id, True), KeyKind.SECRET, 0).raw)
    assert client.get("/v1/customers", headers=auth(live_key)).status_code == 401
    container.live = True
    try:
        live_checks(client, cus, live_key)
    finally:
        container.live = False


def live_checks(client: TestClient, cus: dict[str, str], live_key: str) -> None:
    assert client.get(f"/v1/customers/{cus['id']}", headers=auth(live_key)).status_code == 404
    live_cus = client.post("/v1/customers", json={"phone": "+4915199990003"},
                           headers=auth(live_key)).json()
    assert live_cus["livemode"] is True and live_cus["id"] != cus["id"]
    live_top = client.post(f"/v1/customers/{live_cus['id']}/topups",
                           json={"amount_minor": 1, "currency": "EUR"}, headers=auth(live_key))
    assert live_top.status_code == 400 and live_top.json()["error"]["code"] == "test_mode_only"


def cus_tenant(container: Container, key: str) -> str:
    return container.store.run(lambda tx: authenticate(tx, key)).scope.tenant_id


def test_validation_errors_have_the_stripe_shape_and_lists_paginate(
    client: TestClient, container: Container
) -> None:
    key = new_merchant(container)
    bad = client.post("/v1/payment_intents", json={"amount_minor": -5, "currency": "EUR"},
                      headers=auth(key))
    assert bad.status_code == 400
    assert bad.json()["error"]["type"] == "invalid_request_error"
    assert bad.json()["error"]["param"] == "amount_minor"
    bad_currency = client.post("/v1/payment_intents", json={"amount_minor": 5,
                                                            "currency": "XYZ"},
                               headers=auth(key))
    assert bad_currency.json()["error"]["param"] == "currency"
    ids = [client.post("/v1/payment_intents", json={"amount_minor": i + 1, "currency": "EUR"},
                       headers=auth(key)).json()["id"] for i in range(5)]
    page1 = client.get("/v1/payment_intents?limit=2", headers=auth(key)).json()
    page2 = client.get(f"/v1/payment_intents?limit=2&starting_after={page1['data'][-1]['id']}",
                       headers=auth(key)).json()
    page3 = client.get(f"/v1/payment_intents?limit=2&starting_after={page2['data'][-1]['id']}",
                       headers=auth(key)).json()
    seen = [p["id"] for p in page1["data"] + page2["data"] + page3["data"]]
    assert seen == list(reversed(ids))
    assert (page1["has_more"], page2["has_more"], page3["has_more"]) == (True, True, False)
    assert client.get("/docs").status_code == 200
    assert client.get("/health").json()["status"] == "ok"


def test_ids_are_checked_at_the_edge_before_they_reach_sql(
    client: TestClient, container: Container
) -> None:
    """A NUL in an id is refused by PostgreSQL's driver itself: it must be a 400 naming the
    parameter, in the body, the path or the query, not a server error."""
    key = new_merchant(container)
    body = client.post("/v1/payment_intents", json={
        "amount_minor": 100, "currency": "EUR", "customer": "cus_\x00bad", "confirm": True,
    }, headers=auth(key, "nul-1"))
    path = client.get("/v1/payment_intents/pi_%00bad", headers=auth(key))
    query = client.get("/v1/payment_intents?starting_after=pi_%00bad", headers=auth(key))
    for answer, param in ((body, "customer"), (path, "payment_id"),
                          (query, "starting_after")):
        assert answer.status_code == 400, answer.text
        assert answer.json()["error"]["type"] == "invalid_request_error"
        assert answer.json()["error"]["param"] == param
    unknown = client.get("/v1/payment_intents/pi_unknown", headers=auth(key))
    assert unknown.status_code == 404  # a well-formed id still gets its own answer


def test_webhook_endpoints_show_their_secret_once_and_events_are_listed(
    client: TestClient, container: Container
) -> None:
    key = new_merchant(container)
    made = client.post("/v1/webhook_endpoints", json={"url": "https://shop.example/hooks"},
                       headers=auth(key)).json()
    assert made["secret"].startswith("whsec_")
    listed = client.get("/v1/webhook_endpoints", headers=auth(key)).json()["data"]
    assert [e["id"] for e in listed] == [made["id"]] and "secret" not in listed[0]
    cus = client.post("/v1/customers", json={"phone": "+4915199990004"}, headers=auth(key))
    event = client.get("/v1/events?type=customer.created", headers=auth(key)).json()["data"][0]
    assert event["data"]["object"]["id"] == cus.json()["id"]
    detail = client.get(f"/v1/events/{event['id']}", headers=auth(key)).json()
    assert detail["deliveries"] == [{"endpoint": made["id"], "status": "pending",
                                     "attempts": 0, "last_status_code": None}]
    gone = client.delete(f"/v1/webhook_endpoints/{made['id']}", headers=auth(key)).json()
    assert gone["disabled"] is True
    client.post("/v1/customers", json={"phone": "+4915199990005"}, headers=auth(key))
    newest = client.get("/v1/events?limit=1", headers=auth(key)).json()["data"][0]
    assert client.get(f"/v1/events/{newest['id']}",
                      headers=auth(key)).json()["deliveries"] == []


def test_every_list_is_scoped_filtered_and_checks_its_parent(
    client: TestClient, container: Container
) -> None:
    key, other = new_merchant(container), new_merchant(container)
    cus = client.post("/v1/customers", json={"phone": "+49 151 7777 0001"},
                      headers=auth(key)).json()
    client.post(f"/v1/customers/{cus['id']}/topups",
                json={"amount_minor": 900, "currency": "EUR"}, headers=auth(key))
    mandate(container, key, cus["id"])
    pi = client.post("/v1/payment_intents", json={
        "amount_minor": 500, "currency": "EUR", "customer": cus["id"], "confirm": True,
    }, headers=auth(key, "lists-1")).json()
    refund = client.post("/v1/refunds", json={"payment_intent": pi["id"], "amount_minor": 100},
                         headers=auth(key)).json()
    term = client.post("/v1/terminals", json={"name": "Till 9"}, headers=auth(key)).json()
    tkey = client.post("/v1/api_keys", json={"kind": "terminal", "terminal": term["id"]},
                       headers=auth(key)).json()

    def ids(path: str, k: str = key) -> list[str]:
        got = client.get(path, headers=auth(k))
        assert got.status_code == 200, got.text
        assert got.json()["object"] == "list"
        return [item["id"] for item in got.json()["data"]]

    assert ids(f"/v1/refunds?payment_intent={pi['id']}") == [refund["id"]]
    assert ids("/v1/refunds?payment_intent=pi_none") == []
    assert ids("/v1/terminals") == [term["id"]]
    assert tkey["id"] in ids("/v1/api_keys")
    assert ids("/v1/terminals", other) == [] and ids("/v1/refunds", other) == []
    missing = client.get("/v1/customers/cus_missing/notifications", headers=auth(key))
    assert missing.status_code == 404 and missing.json()["error"]["type"]
    foreign = client.get(f"/v1/customers/{cus['id']}/notifications", headers=auth(other))
    assert foreign.status_code == 404
