"""The checkout-free store in Debian chromium: the wallet page links to its store trips,
which show the entry QR code; a PNG of it, turned into a ``.y4m`` feed, is the entry gate's
fake camera and opens the gate; picks and tunnel reads arrive over MQTT; staff name the trip
at the exit gate and it pays; the receipt is on the wallet page and a disputed line is
refunded. A second test: the exit gate's camera is the bona fide webcam clip, and the face
names the trip (smile challenge, store-entry consent) and lets it out."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from e2e.browser.feeds import make_y4m
from smilepay.adapters.mqtt.consumer import MqttIngestConsumer, MqttPublisher
from smilepay.adapters.sql.identity_store import SqlIdentityStore
from smilepay.adapters.sql.store_repo import SqlStoreUnit
from smilepay.api.app import create_app
from smilepay.bootstrap import build_container
from smilepay.domain.store.sgtin import encode_sgtin96
from smilepay.domain.tenants import KeyKind
from smilepay.ports.store import StoreTx
from smilepay.services.customers import create_customer, top_up
from smilepay.services.enrol import hash_token
from smilepay.services.store_admin import add_gate
from smilepay.services.store_ingest import ingest_messages
from smilepay.services.tenants import issue_api_key
from store_support import PEN, TEA, Sensors, broker_available, seed_store, wait_for

pytestmark = pytest.mark.e2e


def blank_feed(tmp_path: Path) -> Path:
    from PIL import Image

    still = tmp_path / "blank.png"
    Image.new("RGB", (640, 480), (200, 200, 200)).save(still)
    return make_y4m(still, f"store-blank-{secrets.token_hex(3)}", duration_s=2.0)


def test_qr_entry_picks_over_mqtt_exit_receipt_and_refund(
        tmp_path: Path, serve: Callable[[Any], Any], open_browser: Callable[[Path, str], Any],
        browser_tools: None) -> None:
    broker_available()
    container = build_container(f"sqlite:///{tmp_path}/store.db")
    server = serve(create_app(container))
    unit = SqlStoreUnit(container.store.engine)
    shop = seed_store(container.store, unit, container.ctx, hold_minor=2000,
                      auto_refund_max_minor=500)
    scope = shop.scope

    def setup(tx: StoreTx) -> tuple[str, str, str, str, str]:
        now = container.ctx.clock.now_ms()
        entry = add_gate(tx, scope, now, shop.store["id"], kind="entry",
                         terminal_id=shop.entry_terminal)["id"]
        exit_ = add_gate(tx, scope, now, shop.store["id"], kind="exit",
                         terminal_id=shop.exit_terminal)["id"]
        entry_key = issue_api_key(tx.money, scope, KeyKind.TERMINAL, now, shop.entry_terminal).raw
        exit_key = issue_api_key(tx.money, scope, KeyKind.TERMINAL, now, shop.exit_terminal).raw
        who = create_customer(tx.money, container.ctx, scope, "+4915199887766").id
        top_up(tx.money, container.ctx, scope, who, 5000, "EUR")
        return entry, exit_, entry_key, exit_key, who

    entry, exit_, entry_key, exit_key, who = unit.run(setup)
    token = "ws_" + secrets.token_urlsafe(24)
    now = container.ctx.clock.now_ms()
    SqlIdentityStore(container.store.engine).add_wallet_session(
        scope, hash_token(token), who, now, now + 3_600_000)

    # the wallet page shows the entry QR code; its picture becomes the gate's camera
    blank = blank_feed(tmp_path)
    wallet = open_browser(blank, server.url)
    # signed in on the wallet page, its "Store trips" link leads to the store part
    wallet.goto(f"{server.url}/wallet#token={token}")
    wallet.wait_for_load_state("networkidle")
    wallet.click("#store-trips")
    wallet.wait_for_url(f"{server.url}/store/wallet")
    wallet.wait_for_load_state("networkidle")  # its script has bound the button
    wallet.click("#new-code")
    wallet.wait_for_selector("#qr svg", state="attached")
    qr_png = tmp_path / "qr.png"
    wallet.locator("#qr").screenshot(path=str(qr_png))
    qr_feed = make_y4m(qr_png, f"store-qr-{secrets.token_hex(3)}", duration_s=3.0)
    gate = open_browser(qr_feed, server.url)
    gate.goto(f"{server.url}/store/gate#key={entry_key}&gate={entry}&mode=entry")
    gate.wait_for_selector("#gate[data-state='open']", timeout=30_000)  # (CSP: no eval)
    assert gate.text_content("#display") == "Welcome"
    trips = unit.run(lambda tx: tx.rows("trips", store_id=shop.store["id"]), write=False)
    assert [t["customer_id"] for t in trips] == [who]
    trip = trips[0]["id"]

    # picks and the tunnel over MQTT into the database
    def handle(messages: Sequence[tuple[str, bytes]]) -> None:
        ingest_messages(unit, messages, container.ctx.clock.now_ms())

    client_id = f"smilepay-browser-{secrets.token_hex(4)}"
    consumer = MqttIngestConsumer(handle, client_id=client_id,
                                  topic=f"smilepay/{scope.tenant_id}/stores/{shop.store['id']}/#")
    consumer.start()
    publisher = MqttPublisher()
    s = Sensors(shop)
    tea, pen = encode_sgtin96(TEA.gtin, 7, 41), encode_sgtin96(PEN.gtin, 7, 42)
    messages = [s.presence(trip, "aisle1", "enter", 10_000), s.shelf(TEA.gtin, -330, 11_000),
                s.shelf(PEN.gtin, -12, 12_000), s.presence(trip, "aisle1", "leave", 14_000),
                s.presence(trip, "tunnel", "enter", 15_000), s.tunnel([tea, pen], 15_200),
                s.presence(trip, "tunnel", "leave", 18_000), s.heartbeat(18_500)]
    try:
        for topic, payload in messages:
            publisher.publish(topic, payload)
        publisher.flush()
        assert wait_for(lambda: consumer.committed_messages >= len(messages))
    finally:
        publisher.close()
        consumer.stop()
        consumer.forget_session()

    # staff name the trip at the exit gate: the gate shows the decision
    exit_page = open_browser(blank, server.url)
    exit_page.goto(f"{server.url}/store/gate#key={exit_key}&gate={exit_}&mode=exit")
    exit_page.fill("#typed", trip)
    exit_page.click("#send-typed")
    exit_page.wait_for_selector("#gate[data-state='open']")
    assert exit_page.text_content("#display") == "Goodbye"
    assert "2 item(s)" in exit_page.text_content("#detail")

    # the receipt on the wallet page, and a disputed line refunded (under the store's 5.00)
    wallet.reload()
    wallet.wait_for_selector(f"[data-trip='{trip}'] tr[data-line]")
    rows = wallet.locator(f"[data-trip='{trip}'] tr[data-line]")
    assert rows.count() == 2
    assert "Tea" in wallet.text_content(f"[data-trip='{trip}']")
    wallet.locator(f"[data-trip='{trip}'] button.dispute").first.click()
    wallet.wait_for_selector(".dispute-state")
    assert "refunded" in wallet.text_content(".dispute-state")
    lines = unit.run(lambda tx: tx.rows("lines", trip_id=trip), write=False)
    assert sorted(line["refunded_minor"] for line in lines) in ([0, 120], [0, 250])
    container.close()


def test_the_exit_gate_names_the_trip_by_the_bona_fide_webcam_feed_and_pays(
        tmp_path: Path, serve: Callable[[Any], Any], open_browser: Callable[[Path, str], Any],
        feed: Callable[..., Path], data_dir: Path) -> None:
    """The customer (enrolled from photos, store-entry consent given) entered with the
    wallet's code; at the exit gate chromium's camera is the bona fide webcam clip: the gate
    runs the smile challenge, names the trip by the face and lets it out."""
    from facepay_support import build_face_app, enrol_from_photos
    from smilepay.services.face_frames import warm_up

    camera = feed("video/bona_fide/apfol_webcam_real.webm", "apfol_real_15fps")
    world = build_face_app(tmp_path / "face", challenge="smile", real_clock=True,
                           step_timeout_ms=9000)
    try:
        warm_up(world.face)
        token = enrol_from_photos(world, data_dir)
        wallet, sk = {"Authorization": f"Bearer {token}"}, world.as_merchant()
        store = world.client.post("/v1/stores", headers=sk, json={
            "name": "Corner", "currency": "EUR", "entry_hold_minor": 1000,
            "auto_refund_max_minor": 0}).json()
        gates = {kind: world.client.post(f"/v1/stores/{store['id']}/gates", headers=sk, json={
            "kind": kind, "terminal": world.keys.terminal_id}).json()["id"]
            for kind in ("entry", "exit")}
        text = world.client.get("/v1/identity/consent_text/store_entry").json()
        assert world.client.post("/v1/wallet/store/face_consent", headers=wallet,
                                 json={"digest": text["digest"]}).status_code == 200
        code = world.client.post("/v1/wallet/store/entry_code", headers=wallet).json()["code"]
        entered = world.client.post(f"/v1/store_gates/{gates['entry']}/entry",
                                    json={"code": code}, headers=world.as_terminal()).json()
        assert entered["open"] is True
        server = serve(world.client.app)
        page = open_browser(camera, server.url)
        page.goto(f"{server.url}/store/gate#key={world.keys.terminal_key}"
                  f"&gate={gates['exit']}&mode=exit")
        page.wait_for_selector("#gate[data-state='open']", timeout=90_000)
        assert page.text_content("#display") == "Goodbye"
        trips = world.client.get("/v1/wallet/store/trips", headers=wallet).json()["data"]
        assert [(t["id"], t["status"]) for t in trips] == [(entered["trip_id"], "charged")]
    finally:
        world.close()
