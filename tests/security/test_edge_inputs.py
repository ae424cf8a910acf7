"""Issue 11, point 10 and issue 10's API-edge points, on SQLite and PostgreSQL: no plain-text
500s (a NUL in free text or a list filter, an integer beyond 64 bits, a 12-byte "JPEG"), amounts
are JSON integers only, list filters are checked before the database, and error messages name
the rule without echoing the input."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from edge_support import JPEG_HEADER_ONLY, Edge, assert_error, edge_on

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def edge(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[Edge]:
    yield from edge_on(request, tmp_path_factory.mktemp(f"inputs-{request.param}"))


def customer(edge: Edge, phone: str) -> str:
    made = edge.client.post("/v1/customers", json={"phone": phone}, headers=edge.merchant())
    assert made.status_code == 200, made.text
    cid: str = made.json()["id"]
    return cid


def test_a_nul_in_free_text_is_a_400_on_every_engine(edge: Edge) -> None:
    cases = [("/v1/customers", {"phone": "+4915111110001", "name": "a\u0000"}, "name"),
             ("/v1/terminals", {"name": "Till \u0000"}, "name"),
             ("/v1/payment_intents", {"amount_minor": 100, "currency": "EUR",
                                      "description": "x\u0000y"}, "description"),
             ("/v1/customers", {"phone": "+49151\u000011110002"}, "phone"),
             ("/v1/webhook_endpoints", {"url": "https://a.example/\u0000"}, "url")]
    for path, body, param in cases:
        error = assert_error(edge.client.post(path, json=body, headers=edge.merchant()), 400,
                             "invalid_input")
        assert error["param"] == param, error
        assert "\u0000" not in error["message"]


def test_a_nul_in_a_list_filter_is_a_400_before_the_database(edge: Edge) -> None:
    for url, param in (("/v1/events?type=a%00b", "type"),
                       ("/v1/payment_intents?customer=cus_%00x", "customer"),
                       ("/v1/refunds?payment_intent=pi_%00", "payment_intent"),
                       ("/v1/balance?currency=E%00R", "currency"),
                       ("/v1/face/audit?subject=a%00b", "subject")):
        error = assert_error(edge.client.get(url, headers=edge.merchant()), 400,
                             "invalid_input")
        assert error["param"] == param, (url, error)


def test_list_filters_are_checked_by_their_rule(edge: Edge) -> None:
    bad_type = assert_error(edge.client.get("/v1/events?type=DROP%20TABLE",
                                            headers=edge.merchant()), 400, "invalid_input")
    assert bad_type["param"] == "type" and "DROP" not in bad_type["message"]
    bad_customer = assert_error(edge.client.get("/v1/payment_intents?customer=x" + "y" * 50,
                                                headers=edge.merchant()), 400, "invalid_input")
    assert "3-40 letters, digits or underscores" in bad_customer["message"]
    fine = edge.client.get("/v1/events?type=customer.created", headers=edge.merchant())
    assert fine.status_code == 200, fine.text


def test_an_unknown_query_parameter_is_refused_not_ignored(edge: Edge) -> None:
    """A misspelt filter must not silently list everything."""
    typo = assert_error(edge.client.get("/v1/payment_intents?cusomer=cus_abc",
                                        headers=edge.merchant()), 400, "invalid_input")
    assert typo["param"] == "cusomer" and "customer" in typo["message"]
    fine = edge.client.get("/v1/payment_intents?customer=cus_abc&limit=5",
                           headers=edge.merchant())
    assert fine.status_code == 200, fine.text


def test_integers_beyond_64_bits_are_400_on_every_engine(edge: Edge) -> None:
    huge = 9223372036854775808
    promo = edge.client.post("/v1/face/promotions", json={"active": True, "cap_minor": huge},
                             headers=edge.merchant())
    assert assert_error(promo, 400, "invalid_input")["param"] == "cap_minor"
    intent = edge.client.post("/v1/payment_intents", json={"amount_minor": huge,
                                                           "currency": "EUR"},
                              headers=edge.merchant())
    assert assert_error(intent, 400, "invalid_input")["param"] == "amount_minor"
    limits = edge.client.post("/v1/customers", json={
        "phone": "+4915111110003", "limits": {"per_payment_minor": -huge * 4,
                                              "per_day_minor": 1}}, headers=edge.merchant())
    assert assert_error(limits, 400, "invalid_input")["param"] == "limits.per_payment_minor"
    fine = edge.client.post("/v1/face/promotions", json={"active": False, "cap_minor": 500},
                            headers=edge.merchant())
    assert fine.status_code == 200, fine.text


def test_a_twelve_byte_jpeg_is_a_400_on_frames_and_camera_check(edge: Edge) -> None:
    jpeg_headers = {**edge.terminal(), "Content-Type": "image/jpeg"}
    check = edge.client.post("/v1/face/camera-check", content=JPEG_HEADER_ONLY,
                             headers=jpeg_headers)
    assert assert_error(check, 400)["code"] in ("image_truncated", "not_an_image")
    intent = edge.client.post("/v1/payment_intents", json={
        "amount_minor": 120, "currency": "EUR", "terminal": edge.keys.terminal_id},
        headers=edge.merchant())
    assert intent.status_code == 200, intent.text
    session = edge.client.post("/v1/face/payments", json={"payment_intent": intent.json()["id"]},
                               headers=edge.terminal())
    assert session.status_code == 200, session.text
    frame = edge.client.post(f"/v1/face/sessions/{session.json()['id']}/frames",
                             content=JPEG_HEADER_ONLY, headers=jpeg_headers)
    assert assert_error(frame, 400)["code"] in ("image_truncated", "not_an_image")
    multipart = edge.client.post(f"/v1/face/sessions/{session.json()['id']}/frames",
                                 files={"frame": ("f.jpg", JPEG_HEADER_ONLY, "image/jpeg")},
                                 headers=edge.terminal())
    assert assert_error(multipart, 400)["code"] in ("image_truncated", "not_an_image")


NOT_INTEGERS = ["100", True, 1.0, 100.5, None, [100], {"v": 1}]


@pytest.mark.parametrize(("number", "amount"), list(enumerate(NOT_INTEGERS)))
def test_amounts_are_json_integers_only(edge: Edge, number: int, amount: object) -> None:
    cid = customer(edge, f"+4915111119{number:03d}")  # True == 1.0 == 1: index by position
    intent = edge.client.post("/v1/payment_intents", json={"amount_minor": 100,
                                                           "currency": "EUR"},
                              headers=edge.merchant()).json()
    calls = [
        ("/v1/payment_intents", {"amount_minor": amount, "currency": "EUR"}, "amount_minor"),
        (f"/v1/customers/{cid}/topups", {"amount_minor": amount, "currency": "EUR"},
         "amount_minor"),
        ("/v1/payouts", {"amount_minor": amount, "currency": "EUR"}, "amount_minor"),
        ("/v1/refunds", {"payment_intent": intent["id"], "amount_minor": amount},
         "amount_minor"),
        (f"/v1/payment_intents/{intent['id']}/capture", {"amount_to_capture_minor": amount},
         "amount_to_capture_minor"),
        ("/v1/customers", {"phone": "+4915111118888",
                           "limits": {"per_payment_minor": amount, "per_day_minor": 10}},
         "limits.per_payment_minor"),
        ("/v1/face/promotions", {"active": True, "cap_minor": amount}, "cap_minor"),
        ("/v1/stores", {"name": "Corner", "currency": "EUR", "entry_hold_minor": amount},
         "entry_hold_minor"),
    ]
    for path, body, param in calls:
        if amount is None and param in ("amount_minor", "amount_to_capture_minor") and (
                "refunds" in path or "capture" in path):
            continue  # optional there: null means "all of it"
        answer = edge.client.post(path, json=body, headers=edge.merchant())
        error = assert_error(answer, 400, "invalid_input")
        assert error["param"] == param, (path, error)
        assert "integer" in error["message"] or "null" in error["message"] or (
            "got" in error["message"]), error


def test_a_strict_amount_still_takes_a_plain_integer(edge: Edge) -> None:
    made = edge.client.post("/v1/payment_intents", json={"amount_minor": 100, "currency": "EUR",
                                                         "confirm": False},
                            headers=edge.merchant())
    assert made.status_code == 200 and made.json()["amount_minor"] == 100
    not_bool = edge.client.post("/v1/payment_intents", json={"amount_minor": 100,
                                                             "currency": "EUR",
                                                             "confirm": "yes"},
                                headers=edge.merchant())
    assert assert_error(not_bool, 400)["param"] == "confirm"


def test_bad_json_names_line_and_column(edge: Edge) -> None:
    body = b'{\n  "phone": "+4915111110004",\n  "name": oops\n}'
    answer = edge.client.post("/v1/customers", content=body, headers={
        **edge.merchant(), "Content-Type": "application/json"})
    error = assert_error(answer, 400, "invalid_input")
    assert error["message"] == "expected a JSON body, got invalid JSON at line 3 column 11"
    assert error["param"] is None


def test_an_unknown_id_says_so_and_a_malformed_id_names_the_rule(edge: Edge) -> None:
    unknown = assert_error(edge.client.get("/v1/customers/cus_x", headers=edge.merchant()),
                           404, "not_found")
    assert unknown["message"] == "no customer cus_x in this account"
    for path in ("/v1/payment_intents/pi_nothing", "/v1/refunds/re_nothing",
                 "/v1/events/evt_nothing"):
        missing = assert_error(edge.client.get(path, headers=edge.merchant()), 404, "not_found")
        assert missing["message"].startswith("no ") and "in this account" in missing["message"]
    malformed = assert_error(edge.client.get("/v1/customers/cus-bad!", headers=edge.merchant()),
                             400, "invalid_input")
    assert "an id of 3-40 letters, digits or underscores" in malformed["message"]
    assert malformed["param"] == "customer_id" and "cus-bad" not in malformed["message"]
    in_body = assert_error(edge.client.post("/v1/payment_intents", json={
        "amount_minor": 1, "currency": "EUR", "customer": "cus-bad!"}, headers=edge.merchant()),
        400, "invalid_input")
    assert "an id of 3-40 letters, digits or underscores" in in_body["message"]


def test_error_messages_do_not_echo_the_input(edge: Edge) -> None:
    probe = "<script>sk_live_zzzzzzzzzzzzzzzz</script>"
    answers = [
        edge.client.post("/v1/customers", json={"phone": probe * 2}, headers=edge.merchant()),
        edge.client.post("/v1/customers", json={"phone": "+4915111110005", "email": probe},
                         headers=edge.merchant()),
        edge.client.post("/v1/payment_intents", json={"amount_minor": probe, "currency": "EUR"},
                         headers=edge.merchant()),
        edge.client.post("/v1/payment_intents", json={"amount_minor": 1, "currency": probe},
                         headers=edge.merchant()),
        edge.client.post("/v1/webhook_endpoints", json={"url": probe}, headers=edge.merchant()),
        edge.client.get(f"/v1/events?type={probe}", headers=edge.merchant()),
        edge.client.post("/v1/api_keys", json={"kind": probe}, headers=edge.merchant()),
    ]
    for answer in answers:
        error = assert_error(answer, 400)
        assert "sk_live" not in error["message"] and "script" not in error["message"], error


def test_an_unexpected_crash_is_a_json_500_not_plain_text(edge: Edge, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from smilepay.api.app import create_app

    app = create_app(edge.container)

    @app.get("/v1/boom")
    def boom() -> None:
        raise RuntimeError("a bug with a secret whsec_abc in it")

    answer = TestClient(app, raise_server_exceptions=False).get("/v1/boom")
    error = assert_error(answer, 500, "internal_error")
    assert error["type"] == "api_error" and "whsec" not in answer.text
