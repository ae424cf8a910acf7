"""Receipts in the store's currency, through the API on both engines: a JPY store's trip (no
minor unit: 250 is ¥250) names its store and currency with the ISO 4217 exponent, on the exit
gate's decision and on the wallet's trips; a EUR store's says exponent 2. Entry refusals are
plain sentences beside a stable machine reason."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from smilepay.adapters.sql.store_repo import SqlStoreUnit
from smilepay.api.app import create_app
from smilepay.bootstrap import Container, build_container
from smilepay.domain.store.sgtin import encode_sgtin96
from smilepay.services.store_ingest import ingest_messages
from store_support import PEN, TEA, Sensors, gated_shopper

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def app(money_url: str) -> Iterator[tuple[Container, TestClient]]:
    container = build_container(money_url)
    with TestClient(create_app(container)) as client:
        yield container, client
    container.close()


def shop_trip(container: Container, client: TestClient, currency: str) -> dict[str, Any]:
    """A store in ``currency``; a customer enters by QR code, takes a tea and a pen, and leaves
    by the exit gate (staff name the trip): the exit decision and the wallet's trips."""
    g = gated_shopper(container, hold_minor=1000, auto_refund_max_minor=0, currency=currency)
    unit, shop, wallet = SqlStoreUnit(container.store.engine), g.shop, g.wallet
    entry, exit_, entry_key, exit_key = g.entry, g.exit, g.entry_key, g.exit_key
    code = client.post("/v1/wallet/store/entry_code", headers=wallet, json={}).json()["code"]
    at_entry = {"Authorization": f"Bearer {entry_key}"}
    opened = client.post(f"/v1/store_gates/{entry}/entry", json={"code": code},
                         headers=at_entry).json()
    assert (opened["open"], opened["reason"]) == (True, "ok"), opened
    again = client.post(f"/v1/store_gates/{entry}/entry", json={"code": code},
                        headers=at_entry).json()
    trip = opened["trip_id"]
    s = Sensors(shop)
    tea, pen = encode_sgtin96(TEA.gtin, 7, 41), encode_sgtin96(PEN.gtin, 7, 42)
    messages = [s.presence(trip, "aisle1", "enter", 10_000), s.shelf(TEA.gtin, -330, 11_000),
                s.shelf(PEN.gtin, -12, 12_000), s.presence(trip, "aisle1", "leave", 14_000),
                s.presence(trip, "tunnel", "enter", 15_000), s.tunnel([tea, pen], 15_200),
                s.presence(trip, "tunnel", "leave", 18_000), s.heartbeat(18_500)]
    assert ingest_messages(unit, messages, 1).rejected == []
    left = client.post(f"/v1/store_gates/{exit_}/exit", json={"trip": trip},
                       headers={"Authorization": f"Bearer {exit_key}"}).json()
    trips = client.get("/v1/wallet/store/trips", headers=wallet).json()["data"]
    return {"exit": left, "trips": trips, "again": again, "trip": trip}


def test_a_jpy_stores_receipt_names_the_store_and_has_no_minor_unit(
        app: tuple[Container, TestClient]) -> None:
    found = shop_trip(*app, "JPY")
    left = found["exit"]
    assert (left["open"], left["reason"]) == (True, "charged"), left
    expected = {"store_name": "Corner", "currency": "JPY", "currency_exponent": 0}
    assert {k: left["trip"][k] for k in expected} == expected
    assert left["trip"]["charged_minor"] == TEA.price_minor + PEN.price_minor  # ¥370
    [receipt] = found["trips"]
    assert receipt["id"] == found["trip"]
    assert {k: receipt[k] for k in expected} == expected
    assert sorted((x["name"], x["amount_minor"]) for x in receipt["lines"]) == [
        ("Pen", 120), ("Tea", 250)]


def test_a_eur_stores_receipt_says_two_decimals(app: tuple[Container, TestClient]) -> None:
    [receipt] = shop_trip(*app, "EUR")["trips"]
    assert (receipt["store_name"], receipt["currency"], receipt["currency_exponent"]) == (
        "Corner", "EUR", 2)


def test_a_used_code_is_refused_in_a_plain_sentence_with_a_stable_reason(
        app: tuple[Container, TestClient]) -> None:
    again = shop_trip(*app, "EUR")["again"]
    assert (again["open"], again["reason"], again["display"]) == (
        False, "code_used", "Please see staff")
    assert again["message"] == ("This code has already been used: show a new code from your "
                                "wallet.")
