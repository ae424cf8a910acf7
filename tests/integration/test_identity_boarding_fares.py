"""Boarding fares through the money core, on SQLite and PostgreSQL: boarding a departure with a
fare (by face with a real video, or by the ticket's QR code) consumes the ticket and charges the
wallet exactly the fare in one transaction, with a receipt; a retry never charges twice; a
wallet that cannot pay keeps the gate shut and the ticket valid, and says what to do; a free
departure charges nothing."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from facepay_support import FaceApp, stream, video_frames
from flow_support import bearer, build_flow_app, wallet_of
from support import require

pytestmark = pytest.mark.integration
REAL = "video/bona_fide/apfol_webcam_real.webm"
HOUR = 3_600_000


@pytest.fixture(scope="module")
def world(money_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaceApp]:
    built = build_flow_app(money_url, tmp_path_factory.mktemp("fares"))
    yield built
    built.close()


def merchant(world: FaceApp, path: str, body: dict[str, Any]) -> Any:
    r = world.client.post(f"/v1/identity{path}", json=body, headers=world.as_merchant())
    assert r.status_code == 200, r.text
    return r.json()


def departure(world: FaceApp, fare_minor: int, currency: str | None = "EUR",
              kind: str = "taxi") -> str:
    now = world.clock.now
    body: dict[str, Any] = {"kind": kind, "name": "Ride", "opens_ms": now - 60_000,
                            "closes_ms": now + HOUR, "fare_minor": fare_minor}
    if currency is not None:
        body["fare_currency"] = currency
    made = merchant(world, "/departures", body)
    assert (made["fare_minor"], made["fare_currency"]) == (fare_minor, currency)
    return str(made["id"])


def passenger(world: FaceApp, phone: str, top_up: int) -> tuple[str, str]:
    """(customer id, wallet token) of a passenger who agreed to boarding, topped up in EUR."""
    customer, token = wallet_of(world, phone)
    text = world.client.get("/v1/identity/consent_text/boarding").json()
    r = world.client.post("/v1/identity/boarding/enrolments",
                          json={"consent_digest": text["digest"]}, headers=bearer(token))
    assert r.status_code == 200, r.text  # the consent is granted; enrolment may stop here
    if top_up:
        r = world.client.post("/v1/face/wallet/topups", json={"amount_minor": top_up},
                              headers=bearer(token))
        assert r.status_code == 200, r.text
    return customer, token


def ticket(world: FaceApp, dep: str, customer: str) -> dict[str, Any]:
    return dict(merchant(world, f"/departures/{dep}/tickets", {"customer": customer}))


def qr(world: FaceApp, dep: str, code: str, attempt: str | None = None) -> Any:
    return world.client.post(f"/v1/identity/departures/{dep}/qr",
                             json={"qr": code, "attempt": attempt},
                             headers=world.as_terminal())


def wallet(world: FaceApp, token: str) -> dict[str, Any]:
    r = world.client.get("/v1/face/wallet", headers=bearer(token))
    assert r.status_code == 200, r.text
    return dict(r.json())


def balance(world: FaceApp, token: str) -> int:
    return int(wallet(world, token)["balance"]["available_minor"])


def scope(world: FaceApp) -> Any:
    from smilepay.domain.tenants import Scope

    return Scope(world.keys.tenant_id, livemode=False)


def ledger_total(world: FaceApp) -> int:
    """Every account of the merchant's test space summed: 0 when the ledger is balanced."""
    accounts = world.container.store.run(lambda tx: tx.all_accounts(scope(world)), write=False)
    return sum(a.balance_minor for a in accounts)


def stored_ticket(world: FaceApp, ticket_id: str) -> Any:
    from smilepay.adapters.sql.gates_boarding import SqlBoarding

    found = SqlBoarding(world.container.store.engine).get_ticket(scope(world), ticket_id)
    assert found is not None
    return found


def fare_payments(world: FaceApp, ticket_id: str) -> list[Any]:
    from smilepay.adapters.sql import schema

    t = schema.payment_intents
    with world.container.store.engine.connect() as c:
        return list(c.execute(select(t).where(t.c.description.contains(ticket_id))).all())


def test_qr_boarding_charges_the_fare_once(world: FaceApp) -> None:
    dep = departure(world, 1250)
    customer, token = passenger(world, "+4915100000101", 5000)
    tk = ticket(world, dep, customer)
    r = qr(world, dep, tk["qr"])
    assert r.status_code == 200, r.text
    boarded = r.json()
    assert boarded["boarded"] and boarded["method"] == "qr"
    fare = boarded["fare"]
    assert (fare["amount_minor"], fare["currency"], fare["status"]) == (1250, "EUR", "paid")
    assert balance(world, token) == 5000 - 1250
    assert ledger_total(world) == 0
    used = stored_ticket(world, tk["id"])
    assert used.status.value == "consumed" and used.fare_payment_id == fare["payment"]
    (payment,) = fare_payments(world, tk["id"])  # the authorisation names ticket and consent
    assert payment.id == fare["payment"] and payment.status == "succeeded"
    assert payment.amount_minor == 1250 and "boarding consent pcon_" in payment.description
    notes = wallet(world, token)["notifications"]
    assert any("Paid 12.50 EUR" in n["body"] for n in notes), notes  # the receipt
    again = qr(world, dep, tk["qr"])  # a network retry of the same scan
    assert again.status_code == 409 and again.json()["error"]["code"] == "ticket_already_used"
    assert balance(world, token) == 5000 - 1250 and len(fare_payments(world, tk["id"])) == 1


def test_a_wallet_that_cannot_pay_keeps_the_gate_shut(world: FaceApp) -> None:
    dep = departure(world, 1250)
    customer, token = passenger(world, "+4915100000102", 500)
    tk = ticket(world, dep, customer)
    r = qr(world, dep, tk["qr"])
    assert r.status_code == 200, r.text
    refused = r.json()
    assert not refused["boarded"] and refused["state"] == "fare_declined"
    assert refused["reason"] == "insufficient_funds" and refused["fallback"] == "staff"
    assert refused["message"].startswith("Your wallet can't pay the 12.50 EUR fare: top it up")
    assert refused["message"].endswith("or pay the driver.")
    assert "5.00" not in refused["message"]  # the balance is not shown at the gate
    assert stored_ticket(world, tk["id"]).status.value == "valid"
    assert balance(world, token) == 500 and ledger_total(world) == 0
    (failed,) = fare_payments(world, tk["id"])  # the failed attempt stays recorded
    assert failed.status == "failed" and failed.last_error_code == "insufficient_funds"
    # topped up, the same ticket boards and pays once
    r = world.client.post("/v1/face/wallet/topups", json={"amount_minor": 1000},
                          headers=bearer(token))
    assert r.status_code == 200, r.text
    paid = qr(world, dep, tk["qr"], refused["id"]).json()
    assert paid["boarded"] and paid["fare"]["status"] == "paid"
    assert balance(world, token) == 1500 - 1250 and ledger_total(world) == 0
    rates = world.client.get(f"/v1/identity/departures/{dep}/rates",
                             headers=world.as_merchant()).json()
    assert (rates["travellers"], rates["boarded_by_qr"]) == (1, 1)  # one traveller, closed


def test_staff_board_a_ticket_paid_another_way(world: FaceApp) -> None:
    dep = departure(world, 1250)
    customer, token = passenger(world, "+4915100000110", 0)  # an empty wallet
    tk = ticket(world, dep, customer)
    refused = qr(world, dep, tk["qr"]).json()
    assert not refused["boarded"] and refused["fallback"] == "staff"
    path = f"/v1/identity/departures/{dep}/tickets/{tk['id']}/board"
    assert world.client.post(path, json={}, headers=world.as_terminal()).status_code in (
        401, 403)  # not the gate: the operator's key
    r = world.client.post(path, json={"attempt": refused["id"]}, headers=world.as_merchant())
    assert r.status_code == 200, r.text
    boarded = r.json()  # cash to the driver: nothing charged, the ticket closed
    assert boarded["boarded"] and boarded["method"] == "staff"
    assert boarded["fare"]["status"] == "paid_elsewhere" and boarded["fare"]["payment"] is None
    used = stored_ticket(world, tk["id"])
    assert used.status.value == "consumed" and used.fare_payment_id is None
    assert balance(world, token) == 0 and ledger_total(world) == 0
    assert qr(world, dep, tk["qr"]).status_code == 409  # it can neither board nor pay again
    again = world.client.post(path, json={}, headers=world.as_merchant())
    assert again.status_code == 409
    rates = world.client.get(f"/v1/identity/departures/{dep}/rates",
                             headers=world.as_merchant()).json()
    assert (rates["travellers"], rates["boarded_by_staff"], rates["boarded_by_qr"]) == (1, 1, 0)


def test_a_wallet_in_another_currency_cannot_pay(world: FaceApp) -> None:
    dep = departure(world, 700, "GBP", kind="shuttle")
    customer, token = passenger(world, "+4915100000103", 5000)  # euros only
    tk = ticket(world, dep, customer)
    refused = qr(world, dep, tk["qr"]).json()
    assert not refused["boarded"] and refused["reason"] == "insufficient_funds"
    assert "7.00 GBP" in refused["message"] and "ask the staff" in refused["message"]
    assert stored_ticket(world, tk["id"]).status.value == "valid"
    assert balance(world, token) == 5000


def test_a_passenger_without_boarding_consent_is_not_charged(world: FaceApp) -> None:
    dep = departure(world, 300)
    customer, token = wallet_of(world, "+4915100000104")  # no boarding consent
    r = world.client.post("/v1/face/wallet/topups", json={"amount_minor": 1000},
                          headers=bearer(token))
    assert r.status_code == 200, r.text
    tk = ticket(world, dep, customer)
    refused = qr(world, dep, tk["qr"]).json()
    assert not refused["boarded"] and refused["reason"] == "no_boarding_consent"
    assert refused["fare"]["payment"] is None and fare_payments(world, tk["id"]) == []
    assert stored_ticket(world, tk["id"]).status.value == "valid"
    assert balance(world, token) == 1000


def test_a_consent_given_before_fares_must_be_renewed(world: FaceApp) -> None:
    from datetime import UTC, datetime

    from smilepay.adapters.sql.gates_store import SqlGatesStore
    from smilepay.domain.purposes import Purpose, PurposeConsent

    dep = departure(world, 300)
    customer, token = wallet_of(world, "+4915100000109")
    r = world.client.post("/v1/face/wallet/topups", json={"amount_minor": 1000},
                          headers=bearer(token))
    assert r.status_code == 200, r.text
    SqlGatesStore(world.container.store.engine).add_purpose_consent(scope(world), PurposeConsent(
        f"pcon_v1_{customer}", world.keys.tenant_id, customer, Purpose.BOARDING,
        "2026-12-boarding-v1", "0" * 64,  # the text without fares, granted a day ago
        datetime.fromtimestamp((world.clock.now - 24 * HOUR) / 1000, UTC)))
    tk = ticket(world, dep, customer)
    refused = qr(world, dep, tk["qr"]).json()
    assert not refused["boarded"] and refused["reason"] == "consent_without_fares"
    assert "accept the new boarding terms" in refused["message"]
    assert balance(world, token) == 1000 and fare_payments(world, tk["id"]) == []
    text = world.client.get("/v1/identity/consent_text/boarding").json()
    r = world.client.post("/v1/identity/boarding/enrolments",
                          json={"consent_digest": text["digest"]}, headers=bearer(token))
    assert r.status_code == 200, r.text  # renewed with the text that names fares
    assert qr(world, dep, tk["qr"]).json()["boarded"]
    assert balance(world, token) == 700


def test_a_free_departure_charges_nothing(world: FaceApp) -> None:
    dep = departure(world, 0, None, kind="train")
    customer, token = passenger(world, "+4915100000105", 1000)
    tk = ticket(world, dep, customer)
    boarded = qr(world, dep, tk["qr"]).json()
    assert boarded["boarded"] and boarded["fare"] is None
    assert balance(world, token) == 1000 and fare_payments(world, tk["id"]) == []
    assert stored_ticket(world, tk["id"]).fare_payment_id is None


def test_a_fare_needs_a_currency(world: FaceApp) -> None:
    now = world.clock.now
    r = world.client.post("/v1/identity/departures", json={
        "kind": "taxi", "name": "Ride", "opens_ms": now, "closes_ms": now + HOUR,
        "fare_minor": 1250}, headers=world.as_merchant())
    assert r.status_code == 400 and r.json()["error"]["param"] == "fare_currency", r.text


def test_the_fare_key_alone_stops_a_second_charge(world: FaceApp) -> None:
    """Even with the ticket made valid again behind the gate's back, its fare key replays:
    nothing is charged and nothing is consumed."""
    from smilepay.adapters.sql.gates_schema import tickets

    dep = departure(world, 400)
    customer, token = passenger(world, "+4915100000106", 1000)
    tk = ticket(world, dep, customer)
    assert qr(world, dep, tk["qr"]).json()["boarded"]
    with world.container.store.engine.begin() as c:
        c.execute(update(tickets).where(tickets.c.id == tk["id"]).values(status="valid"))
    again = qr(world, dep, tk["qr"])
    assert again.status_code == 409 and again.json()["error"]["code"] == "ticket_already_used"
    assert stored_ticket(world, tk["id"]).status.value == "valid"  # rolled back with it
    assert balance(world, token) == 600 and len(fare_payments(world, tk["id"])) == 1


def test_two_gates_scanning_one_ticket_at_once_charge_once(world: FaceApp) -> None:
    from smilepay.domain.boarding import TicketAlreadyUsed
    from smilepay.services.boarding import board_by_qr

    dep = departure(world, 250)
    customer, token = passenger(world, "+4915100000107", 1000)
    tk = ticket(world, dep, customer)
    board = world.container.extras["boarding"]  # the app's, built by the calls above
    outcomes: list[str] = []
    start = threading.Barrier(4)

    def scan() -> None:
        start.wait()
        try:
            out = board_by_qr(world.face, board, scope(world), dep, tk["qr"], world.clock.now)
            outcomes.append("boarded" if out["boarded"] else "refused")
        except TicketAlreadyUsed:
            outcomes.append("already_used")

    threads = [threading.Thread(target=scan) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["already_used"] * 3 + ["boarded"]
    assert balance(world, token) == 750 and len(fare_payments(world, tk["id"])) == 1
    assert ledger_total(world) == 0


def test_face_boarding_charges_the_fare_once(world: FaceApp, data_dir: Path) -> None:
    require((data_dir / REAL).exists(), f"bona fide video {data_dir / REAL}")
    dep = departure(world, 1250)
    customer, token = wallet_of(world, "+4915100000108")
    text = world.client.get("/v1/identity/consent_text/boarding").json()
    r = world.client.post("/v1/identity/boarding/enrolments",
                          json={"consent_digest": text["digest"]}, headers=bearer(token))
    assert r.status_code == 200, r.text
    session = r.json()
    frames = video_frames(data_dir / REAL)
    assert stream(world, session["id"], frames, bearer(token))["state"] == "passed"
    r = world.client.post(f"/v1/identity/boarding/enrolments/{session['id']}/complete",
                          headers=bearer(token))
    assert r.status_code == 200, r.text
    r = world.client.post("/v1/face/wallet/topups", json={"amount_minor": 2000},
                          headers=bearer(token))
    assert r.status_code == 200, r.text
    tk = ticket(world, dep, customer)

    def at_gate() -> dict[str, Any]:
        r = world.client.post(f"/v1/identity/departures/{dep}/gate",
                              headers=world.as_terminal())
        assert r.status_code == 200, r.text
        gate = r.json()
        answer = stream(world, gate["id"], video_frames(data_dir / REAL), world.as_terminal())
        assert answer["state"] == "passed", answer
        r = world.client.post(f"/v1/identity/departures/{dep}/gate/{gate['id']}/board",
                              headers=world.as_terminal())
        assert r.status_code == 200, r.text
        return dict(r.json())

    boarded = at_gate()
    assert boarded["boarded"] and boarded["method"] == "face" and boarded["ticket"] == tk["id"]
    assert boarded["fare"]["status"] == "paid"
    assert balance(world, token) == 2000 - 1250 and ledger_total(world) == 0
    again = at_gate()  # the same face again: its ticket is used, nothing is charged
    assert not again["boarded"] and again["state"] == "no_match"
    assert qr(world, dep, tk["qr"]).status_code == 409
    assert balance(world, token) == 750 and len(fare_payments(world, tk["id"])) == 1
