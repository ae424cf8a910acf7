"""The store's HTTP API end to end on both engines: set-up by the merchant, the wallet's
entry QR code read from a gate frame, sensor events through the HTTP batch, the exit
decision, the receipt on the wallet, a refunded dispute, and who may call what."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from smilepay.adapters.sql.identity_store import SqlIdentityStore
from smilepay.adapters.store.qr import qr_png
from smilepay.api.app import create_app
from smilepay.bootstrap import Container, build_container
from smilepay.domain.store.catalogue import catalogue_csv
from smilepay.domain.store.sgtin import encode_sgtin96
from smilepay.domain.tenants import KeyKind
from smilepay.ports.money import MoneyTx
from smilepay.services.enrol import hash_token
from smilepay.services.seed import seed_merchant
from smilepay.services.tenants import authenticate, create_terminal, issue_api_key
from store_support import PEN, SOAP, TEA, SeededStore, Sensors

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def container(money_url: str) -> Iterator[Container]:
    """The app's container on each engine (``money_url`` is migrated already)."""
    built = build_container(money_url, migrate=False)
    yield built
    built.close()


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_a_wallet_qr_opens_the_gate_and_the_exit_charges_and_refunds(
        container: Container) -> None:
    client = TestClient(create_app(container))
    sk = seed_merchant(container.store, container.ctx, "Corner").secret_key
    scope = container.store.run(lambda tx: authenticate(tx, sk)).scope

    def terminals(tx: MoneyTx) -> tuple[str, str, str, str]:
        now = container.ctx.clock.now_ms()
        entry = create_terminal(tx, scope, "entry", now).id
        exit_ = create_terminal(tx, scope, "exit", now).id
        other = create_terminal(tx, scope, "till", now).id
        return entry, exit_, issue_api_key(tx, scope, KeyKind.TERMINAL, now, entry).raw, \
            issue_api_key(tx, scope, KeyKind.TERMINAL, now, other).raw

    entry_term, exit_term, entry_key, other_key = container.store.run(terminals)
    store = client.post("/v1/stores", headers=bearer(sk), json={
        "name": "Corner", "currency": "EUR", "entry_hold_minor": 2000,
        "auto_refund_max_minor": 300}).json()
    sid = store["id"]
    bad = client.post(f"/v1/stores/{sid}/catalogue", headers=bearer(sk),
                      json={"csv": "gtin,name,price_minor,unit_weight_g\n123,x,1,1\n"})
    assert bad.status_code == 400 and "line 2" in bad.json()["error"]["message"]
    done = client.post(f"/v1/stores/{sid}/catalogue", headers=bearer(sk),
                       json={"csv": catalogue_csv([TEA, PEN, SOAP])}).json()
    assert (done["added"], done["updated"]) == (3, 0)
    gate_in = client.post(f"/v1/stores/{sid}/gates", headers=bearer(sk),
                          json={"kind": "entry", "terminal": entry_term}).json()["id"]
    gate_out = client.post(f"/v1/stores/{sid}/gates", headers=bearer(sk),
                           json={"kind": "exit", "terminal": exit_term}).json()["id"]
    devices = {kind: client.post(f"/v1/stores/{sid}/devices", headers=bearer(sk),
                                 json={"kind": kind, "zone": zone}).json()
               for kind, zone in (("rfid", "tunnel"), ("shelf", "aisle1"),
                                  ("presence", "aisle1"))}
    slots = {p.gtin: client.post(f"/v1/stores/{sid}/slots", headers=bearer(sk), json={
        "device": devices["shelf"]["id"], "zone": "aisle1", "gtin": p.gtin}).json()
        for p in (TEA, PEN, SOAP)}
    # a customer with a wallet session (as the wallet page's sign-in makes)
    cus = client.post("/v1/customers", headers=bearer(sk),
                      json={"phone": f"+49151{secrets.randbelow(10**8):08d}"}).json()
    client.post(f"/v1/customers/{cus['id']}/topups", headers=bearer(sk),
                json={"amount_minor": 5000, "currency": "EUR"})
    token = "ws_" + secrets.token_urlsafe(24)
    now = container.ctx.clock.now_ms()
    SqlIdentityStore(container.store.engine).add_wallet_session(
        scope, hash_token(token), cus["id"], now, now + 3_600_000)
    code = client.post("/v1/wallet/store/entry_code", headers=bearer(token)).json()
    assert code["svg"].startswith("<svg") and code["expires_in_s"] == 30
    frame = base64.b64encode(qr_png(code["code"])).decode()
    refused = client.post(f"/v1/store_gates/{gate_in}/entry", headers=bearer(other_key),
                          json={"frames": [frame]})
    assert refused.status_code == 403  # another terminal cannot drive this gate
    opened = client.post(f"/v1/store_gates/{gate_in}/entry", headers=bearer(entry_key),
                         json={"frames": [frame]}).json()
    assert opened["open"] and opened["display"] == "Welcome", opened
    trip = opened["trip_id"]
    passage = client.post(f"/v1/store_gates/{gate_in}/passage", headers=bearer(entry_key),
                          json={"trip": trip, "people_seen": 2}).json()
    assert passage["status"] == "in_store"
    dash = client.get(f"/v1/stores/{sid}/dashboard", headers=bearer(sk)).json()
    assert [a["kind"] for a in dash["alerts"]] == ["tailgating"]
    assert [t["id"] for t in dash["live_trips"]] == [trip]
    # the sensors, through the integrators' HTTP batch
    shop = SeededStore(scope, sk, store, devices["rfid"], devices["shelf"], devices["presence"],
                       slots, entry_term, exit_term)
    s = Sensors(shop)
    tea = encode_sgtin96(TEA.gtin, 7, 5)
    messages = [s.presence(trip, "aisle1", "enter", 10_000), s.shelf(TEA.gtin, -331, 11_000),
                s.shelf(PEN.gtin, -12, 12_000), s.presence(trip, "aisle1", "leave", 13_000),
                s.presence(trip, "tunnel", "enter", 14_000), s.tunnel([tea], 14_200),
                s.presence(trip, "tunnel", "leave", 16_000)]
    forged = (messages[0][0], b"f" * 64 + messages[0][1][64:])
    body = {"messages": [{"topic": t, "payload": p.decode()} for t, p in [*messages, forged]]}
    ingested = client.post("/v1/store_events", json=body).json()
    assert ingested["inserted"] == ingested["events"] == 9
    assert ingested["rejected"] == ["expected a message signed by its device, got a bad MAC"]
    left = client.post(f"/v1/store_gates/{gate_out}/exit", headers=bearer(sk),
                       json={"trip": trip}).json()
    assert left["open"] and left["display"] == "Goodbye"
    lines = {line["gtin"]: line for line in left["trip"]["lines"]}
    assert {g: (v["quantity"], v["evidence"]) for g, v in lines.items()} == {
        TEA.gtin: (1, "tag+pick"), PEN.gtin: (1, "pick")}
    trips = client.get("/v1/wallet/store/trips", headers=bearer(token)).json()["data"]
    assert trips[0]["charged_minor"] == 370 and len(trips[0]["lines"]) == 2
    dispute = client.post(f"/v1/wallet/store/lines/{lines[TEA.gtin]['id']}/dispute",
                          headers=bearer(token), json={"reason": "item_not_taken"}).json()
    assert dispute["status"] == "refunded"
    after = client.get("/v1/wallet/store/trips", headers=bearer(token)).json()["data"]
    assert {line["gtin"]: line["dispute"] for line in after[0]["lines"]} == {
        TEA.gtin: "refunded", PEN.gtin: None}
    assert client.get("/v1/wallet/store/trips").status_code == 401
    assert client.post("/v1/stores", json={"name": "x", "currency": "EUR",
                                           "entry_hold_minor": 1},
                       headers=bearer(entry_key)).status_code == 403
