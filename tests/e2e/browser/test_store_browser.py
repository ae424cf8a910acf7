"""The checkout-free store in Debian chromium (docs/store.md, "Tests").

The whole trip, with the face at the exit: the customer, enrolled from photos, lets the store's
gates recognise the face on the wallet's store page and asks there for the entry QR code; a
PNG of it, turned into a ``.y4m`` feed, is the entry gate page's fake camera and opens the
gate; the shelf, presence and tunnel reads, each signed by its device, arrive over MQTT (the
local Mosquitto); the exit gate page, whose fake camera plays the bona fide webcam clip, runs
the smile challenge, names the trip by the face and charges the wallet for the basket; the
receipt is on the wallet page and a line disputed there is refunded.

The staff fallback: the exit gate cannot see the customer (a blank camera), staff type the
trip number (a wrong one first: the gate says so in words) and the trip pays.

A store in JPY: the wallet's store page names the store and shows yen without decimals.

Chromium takes one fake camera per browser process: each camera is a browser of its own.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from e2e.browser.feeds import make_y4m
from e2e.browser.pages_support import BROKEN_WORDS_JS, OVERFLOW_JS, PHONE_SIZE
from smilepay.adapters.sql.store_repo import SqlStoreUnit
from smilepay.api.app import create_app
from smilepay.bootstrap import build_container
from smilepay.domain.store.sgtin import encode_sgtin96
from smilepay.domain.tenants import Scope
from store_support import (
    PEN,
    TEA,
    SeededStore,
    Sensors,
    broker_available,
    gated_shopper,
    publish_over_mqtt,
    store_by_api,
)

pytestmark = pytest.mark.e2e


def blank_feed(tmp_path: Path) -> Path:
    from PIL import Image

    still = tmp_path / "blank.png"
    Image.new("RGB", (640, 480), (200, 200, 200)).save(still)
    return make_y4m(still, f"store-blank-{secrets.token_hex(3)}", duration_s=2.0)


def tea_and_pen(shop: SeededStore, trip: str) -> list[tuple[str, bytes]]:
    """A tea and a pen off the aisle's shelf, then through the tunnel: what the devices send."""
    s = Sensors(shop)
    tea, pen = encode_sgtin96(TEA.gtin, 7, 41), encode_sgtin96(PEN.gtin, 7, 42)
    return [s.presence(trip, "aisle1", "enter", 10_000), s.shelf(TEA.gtin, -330, 11_000),
            s.shelf(PEN.gtin, -12, 12_000), s.presence(trip, "aisle1", "leave", 14_000),
            s.presence(trip, "tunnel", "enter", 15_000), s.tunnel([tea, pen], 15_200),
            s.presence(trip, "tunnel", "leave", 18_000), s.heartbeat(18_500)]


def show_entry_code(wallet: Any, origin: str, token: str, tmp_path: Path) -> Path:
    """Signed in on the wallet page, its "Store trips" link, then "Show my entry code": the
    code's picture as a camera feed."""
    wallet.goto(f"{origin}/wallet#token={token}")
    wallet.wait_for_load_state("networkidle")
    wallet.click("#store-trips")
    wallet.wait_for_url(f"{origin}/store/wallet")
    wallet.wait_for_load_state("networkidle")  # its script has bound the buttons
    wallet.click("#new-code")
    wallet.wait_for_selector("#qr svg", state="attached")
    qr_png = tmp_path / "qr.png"
    wallet.locator("#qr").screenshot(path=str(qr_png))
    return make_y4m(qr_png, f"store-qr-{secrets.token_hex(3)}", duration_s=3.0)


def _balance(world: Any, wallet: dict[str, str]) -> int:
    r = world.client.get("/v1/face/wallet", headers=wallet)
    assert r.status_code == 200, r.text
    return int(r.json()["balance"]["balance_minor"])


def test_qr_entry_mqtt_picks_face_exit_pays_receipt_and_refund(
        tmp_path: Path, serve: Callable[[Any], Any], open_browser: Callable[[Path, str], Any],
        feed: Callable[..., Path], data_dir: Path, shoot: Callable[[Any, str], Path]) -> None:
    """The whole trip, the face at the exit (module docstring): the wallet is charged 2.50 +
    1.20 for a tea and a pen, and the disputed pen is refunded."""
    from facepay_support import build_face_app, enrol_from_photos
    from smilepay.services.face_frames import warm_up

    broker_available()
    camera = feed("video/bona_fide/apfol_webcam_real.webm", "apfol_real_15fps")
    world = build_face_app(tmp_path / "face", challenge="smile", real_clock=True,
                           step_timeout_ms=9000)
    try:
        warm_up(world.face)
        token = enrol_from_photos(world, data_dir)  # 50.00 topped up
        wallet_key = {"Authorization": f"Bearer {token}"}
        scope = Scope(world.keys.tenant_id, livemode=False)
        shop = store_by_api(world.client, world.keys.secret_key, scope, world.keys.terminal_id,
                            hold_minor=2000, auto_refund_max_minor=500)
        gates = {kind: world.client.post(
            f"/v1/stores/{shop.store['id']}/gates", headers=world.as_merchant(),
            json={"kind": kind, "terminal": world.keys.terminal_id}).json()["id"]
            for kind in ("entry", "exit")}
        before = _balance(world, wallet_key)
        server = serve(world.client.app)
        gate_url = f"{server.url}/store/gate#key={world.keys.terminal_key}"

        # on the wallet's store page: let the gates recognise the face, show the entry code
        wallet = open_browser(blank_feed(tmp_path), server.url)
        qr_feed = show_entry_code(wallet, server.url, token, tmp_path)
        wallet.wait_for_selector("#face-gates-on:not([disabled])")
        assert "store" in wallet.inner_text("#face-gates-text").lower()
        wallet.click("#face-gates-on")
        wallet.wait_for_selector("#face-gates-off", state="visible")
        shoot(wallet, "store-wallet-face-and-code")
        consents = world.client.get("/v1/identity/consents", headers=wallet_key).json()["data"]
        assert [(c["purpose"], c["active"]) for c in consents] == [("store_entry", True)]

        # the code's picture is the entry gate's camera: the gate opens
        entry_page = open_browser(qr_feed, server.url)
        entry_page.goto(f"{gate_url}&gate={gates['entry']}&mode=entry")
        entry_page.wait_for_selector("#gate[data-state='open']", timeout=60_000)
        assert entry_page.text_content("#display") == "Welcome"
        shoot(entry_page, "store-gate-entry-open")
        entry_page.context.browser.close()  # one camera per browser: the entry is done
        trips = world.client.get("/v1/wallet/store/trips", headers=wallet_key).json()["data"]
        assert [(t["status"], t["entry_method"]) for t in trips] == [("authorised", "qr")]
        trip = trips[0]["id"]

        # a tea and a pen: each device signs its messages, MQTT carries them into the database
        unit = SqlStoreUnit(world.container.store.engine)
        assert publish_over_mqtt(unit, scope, shop.store["id"], tea_and_pen(shop, trip),
                                 world.container.ctx.clock.now_ms) == []

        # the exit gate's camera plays the webcam clip: the face names the trip, which pays
        exit_page = open_browser(camera, server.url)
        exit_page.goto(f"{gate_url}&gate={gates['exit']}&mode=exit")
        exit_page.wait_for_selector("#gate[data-state='open']", timeout=120_000)
        assert exit_page.text_content("#display") == "Goodbye"
        assert exit_page.text_content("#detail") == "2 items, total €3.70"
        shoot(exit_page, "store-gate-exit-paid")
        exit_page.context.browser.close()
        total = TEA.price_minor + PEN.price_minor  # 2.50 + 1.20
        done = world.client.get("/v1/wallet/store/trips", headers=wallet_key).json()["data"]
        assert [(t["id"], t["status"], t["total_minor"], t["charged_minor"], t["debt_minor"])
                for t in done] == [(trip, "charged", total, total, 0)]
        assert sorted((x["name"], x["quantity"], x["amount_minor"]) for x in done[0]["lines"]) \
            == [("Pen", 1, PEN.price_minor), ("Tea", 1, TEA.price_minor)]
        assert _balance(world, wallet_key) == before - total

        # the receipt on the wallet page; the pen disputed there is refunded (under 5.00)
        wallet.reload()
        receipt = wallet.locator(f"[data-trip='{trip}']")
        receipt.locator("tr[data-line]").nth(1).wait_for()
        assert receipt.locator("tr[data-line]").count() == 2
        assert "Total paid\t€3.70" in receipt.inner_text()
        shoot(wallet, "store-wallet-receipt")
        pen_row = receipt.locator("tr[data-line]", has_text="Pen")
        pen_row.locator("button.dispute").click()
        pen_row.locator(".dispute-state").wait_for()
        assert pen_row.locator(".dispute-state").inner_text() == "Refunded €1.20"
        assert wallet.inner_text("#message") == "Refunded: €1.20 is back in your wallet."
        shoot(wallet, "store-wallet-refunded")
        wallet.set_viewport_size({"width": PHONE_SIZE[0], "height": PHONE_SIZE[1]})
        shoot(wallet, "store-wallet-refunded-phone")
        assert wallet.evaluate(OVERFLOW_JS) <= 0  # nothing runs off a phone's screen
        assert wallet.evaluate(BROKEN_WORDS_JS) == []
        lines = world.client.get("/v1/wallet/store/trips",
                                 headers=wallet_key).json()["data"][0]["lines"]
        assert sorted((x["name"], x["refunded_minor"]) for x in lines) == \
            [("Pen", PEN.price_minor), ("Tea", 0)]
        assert _balance(world, wallet_key) == before - total + PEN.price_minor
    finally:
        world.close()


def test_staff_type_the_trip_at_the_exit_when_the_camera_cannot_see_the_customer(
        tmp_path: Path, serve: Callable[[Any], Any], open_browser: Callable[[Path, str], Any],
        shoot: Callable[[Any, str], Path]) -> None:
    broker_available()
    container = build_container(f"sqlite:///{tmp_path}/store.db")
    server = serve(create_app(container))
    g = gated_shopper(container, hold_minor=2000, auto_refund_max_minor=500)
    unit, shop, scope = SqlStoreUnit(container.store.engine), g.shop, g.shop.scope
    who, token = g.customer, g.token
    entry, exit_, entry_key, exit_key = g.entry, g.exit, g.entry_key, g.exit_key

    blank = blank_feed(tmp_path)
    wallet = open_browser(blank, server.url)
    gate = open_browser(show_entry_code(wallet, server.url, token, tmp_path), server.url)
    gate.goto(f"{server.url}/store/gate#key={entry_key}&gate={entry}&mode=entry")
    gate.wait_for_selector("#gate[data-state='open']", timeout=60_000)  # (CSP: no eval)
    gate.context.browser.close()
    trips = unit.run(lambda tx: tx.rows("trips", store_id=shop.store["id"]), write=False)
    assert [t["customer_id"] for t in trips] == [who]
    trip = trips[0]["id"]
    assert publish_over_mqtt(unit, scope, shop.store["id"], tea_and_pen(shop, trip),
                             container.ctx.clock.now_ms) == []

    # staff type the trip number at the exit gate (a wrong one first: it says so in words)
    exit_page = open_browser(blank, server.url)
    exit_page.goto(f"{server.url}/store/gate#key={exit_key}&gate={exit_}&mode=exit")
    exit_page.fill("#typed", "trip_000000000000000000000000")
    exit_page.click("#send-typed")
    exit_page.wait_for_selector("#message.error:not([hidden])")
    assert exit_page.text_content("#message") == "No such trip at this store: check the number."
    shoot(exit_page, "store-gate-exit-typed-wrong")
    exit_page.fill("#typed", trip)
    exit_page.click("#send-typed")
    exit_page.wait_for_selector("#gate[data-state='open']")
    assert exit_page.text_content("#display") == "Goodbye"
    assert exit_page.text_content("#detail") == "2 items, total €3.70"

    # the receipt on the wallet page, and a disputed line refunded (under the store's 5.00)
    wallet.reload()
    wallet.wait_for_selector(f"[data-trip='{trip}'] tr[data-line]")
    assert wallet.locator(f"[data-trip='{trip}'] tr[data-line]").count() == 2
    wallet.locator(f"[data-trip='{trip}'] button.dispute").first.click()
    wallet.wait_for_selector(".dispute-state")
    assert wallet.text_content(".dispute-state") in ("Refunded €1.20", "Refunded €2.50")
    lines = unit.run(lambda tx: tx.rows("lines", trip_id=trip), write=False)
    assert sorted(line["refunded_minor"] for line in lines) in ([0, 120], [0, 250])
    container.close()


def test_a_jpy_stores_receipt_on_the_wallet_page_has_yen_without_decimals(
        tmp_path: Path, serve: Callable[[Any], Any], open_browser: Callable[[Path, str], Any],
        shoot: Callable[[Any, str], Path]) -> None:
    """A store in JPY (no minor unit): the wallet's store page names the store and shows ¥250,
    ¥120, "Total paid ¥370" and the refund "¥120", never a decimal or a euro sign."""
    import httpx

    from smilepay.services.store_ingest import ingest_messages

    container = build_container(f"sqlite:///{tmp_path}/store.db")
    server = serve(create_app(container))
    g = gated_shopper(container, hold_minor=1000, auto_refund_max_minor=500, currency="JPY")
    unit, shop, token = SqlStoreUnit(container.store.engine), g.shop, g.token
    entry, exit_, entry_key, exit_key = g.entry, g.exit, g.entry_key, g.exit_key
    code = httpx.post(f"{server.url}/v1/wallet/store/entry_code", json={},
                      headers={"Authorization": f"Bearer {token}"}).json()["code"]
    opened = httpx.post(f"{server.url}/v1/store_gates/{entry}/entry", json={"code": code},
                        headers={"Authorization": f"Bearer {entry_key}"}).json()
    assert opened["open"], opened
    trip = opened["trip_id"]
    assert ingest_messages(unit, tea_and_pen(shop, trip), 1).rejected == []
    left = httpx.post(f"{server.url}/v1/store_gates/{exit_}/exit", json={"trip": trip},
                      headers={"Authorization": f"Bearer {exit_key}"}).json()
    assert (left["open"], left["trip"]["currency"]) == (True, "JPY"), left

    wallet = open_browser(blank_feed(tmp_path), server.url)
    wallet.goto(f"{server.url}/store/wallet#token={token}")
    receipt = wallet.locator(f"[data-trip='{trip}']")
    receipt.locator("tr[data-line]").nth(1).wait_for()
    text = receipt.inner_text()
    assert receipt.locator("h3").inner_text().startswith("Corner · Trip on ")
    assert "Total paid\t¥370" in text and "¥250" in text and "¥120" in text
    assert "." not in text.split("Total paid")[1].split("\n")[0]  # no decimals
    assert "€" not in text and "EUR" not in text
    pen_row = receipt.locator("tr[data-line]", has_text="Pen")
    pen_row.locator("button.dispute").click()
    pen_row.locator(".dispute-state").wait_for()
    assert pen_row.locator(".dispute-state").inner_text() == "Refunded ¥120"
    assert wallet.inner_text("#message") == "Refunded: ¥120 is back in your wallet."
    shoot(wallet, "store-wallet-receipt-jpy")
    container.close()
