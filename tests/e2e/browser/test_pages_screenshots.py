"""Screenshots of every page at a desktop and a phone size, kept as test artefacts.

``artifacts/screenshots/page_<name>_<w>x<h>.png`` (git-ignored): the kiosk with a payment and
the fake camera, enrol, the wallet signed in, the dashboard, the camera check, identity
verification signed in and out, the staff clock, the 404 page, Swagger UI and ReDoc. Each must
render without a script error, and the SmilePay pages must not scroll sideways nor break a word
across lines; on the kiosk, enrol, wallet, dashboard, identity verification and clock pages no
table scrolls inside its card either.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from e2e.browser.conftest import SCREENSHOTS, collecting_console
from e2e.browser.pages_support import (
    BROKEN_WORDS_JS,
    DESKTOP,
    OVERFLOW_JS,
    PHONE_SIZE,
    SCROLLING_TABLES_JS,
    Shop,
    wait_until,
)
from facepay_support import sign_up

pytestmark = pytest.mark.e2e
FEED = "video/webcam_feeds/apfol_real_320x240_10fps_4s.y4m"
# Pages whose tables fit their cards at both sizes (the dashboard's and wallet's stack on a
# phone).
NO_SCROLLING_BOXES = {"kiosk", "enrol", "wallet", "dashboard", "kyc", "kyc_signed_out",
                      "clock"}


def page_list(shop: Shop, wallet_token: str) -> list[tuple[str, str, str]]:
    """(name, path, selector of the page being ready)."""
    keys = shop.world.keys
    return [
        ("kiosk", f"/kiosk#key={keys.terminal_key}", "#status[data-state=checking], "
         "#status[data-state=failed], #status[data-state=phone]"),
        ("enrol", f"/enrol#key={keys.terminal_key}", "#step-phone:not([hidden])"),
        ("wallet", f"/wallet#token={wallet_token}", "#wallet[data-state=ready]"),
        ("dashboard", f"/dashboard#key={keys.secret_key}", "#dashboard[data-state=ready]"),
        ("camera", f"/camera#key={keys.terminal_key}", "#check:enabled"),
        ("kyc", f"/identity/kyc#token={wallet_token}", "#kyc-page[data-state=ready]"),
        ("kyc_signed_out", "/identity/kyc", "#kyc-page[data-state=signed_out]"),
        ("clock", f"/identity/clock#key={keys.terminal_key}&site={clock_site(shop)}",
         "#manual:enabled"),
        ("404", "/no-such-page", "#not-found"),
        ("docs", "/docs", ".opblock"),
        ("redoc", "/redoc", "[data-section-id^='tag/']"),
    ]


@pytest.mark.parametrize("size", [DESKTOP, PHONE_SIZE], ids=["1280x800", "390x844"])
def test_every_page_renders_and_is_kept_as_a_screenshot(
    pages_shop: Shop, browse: Callable[..., Any], data_dir: Path, size: tuple[int, int]
) -> None:
    camera = data_dir / FEED
    from support import require

    require(camera.is_file(), f"webcam feed {camera}")
    token = wallet_token(pages_shop)
    pages_shop.create_payment(1250)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    problems: dict[str, Any] = {}
    for name, path, ready in page_list(pages_shop, token):
        page = browse(pages_shop.url, size, camera)
        with collecting_console(page) as console:
            page.goto(pages_shop.url + path)
            page.wait_for_selector(ready)
            if name == "redoc":
                wait_until(lambda p=page: "/v1/payment_intents" in p.inner_text("body"),
                           "ReDoc's operations", page=page)
            shot = SCREENSHOTS / f"page_{name}_{size[0]}x{size[1]}.png"
            page.screenshot(path=str(shot), full_page=True)
            errors = [line for line in console if line.startswith(("pageerror", "error"))
                      and "404" not in line and not blocked_redoc_logo(line)]
            if name not in ("docs", "redoc"):
                broken = page.evaluate(BROKEN_WORDS_JS)
                overflow = page.evaluate(OVERFLOW_JS)
                boxes = page.evaluate(SCROLLING_TABLES_JS) if name in NO_SCROLLING_BOXES else []
                if broken or overflow > 0 or boxes:
                    problems[name] = {"broken words": broken, "sideways scroll px": overflow,
                                      "boxes scrolling sideways": boxes}
        if errors:
            problems.setdefault(name, {})["console"] = errors
        assert shot.stat().st_size > 5_000, shot
        page.context.browser.close() if page.context.browser else None
    assert problems == {}


def blocked_redoc_logo(line: str) -> bool:
    """ReDoc always links its logo from its CDN; /redoc's policy blocks it (routes_meta)."""
    return "cdn.redoc.ly" in line and "Content Security Policy" in line


_TOKENS: dict[int, str] = {}
_SITES: dict[int, str] = {}


def clock_site(shop: Shop) -> str:
    """One attendance site per shop, shared by both sizes."""
    key = id(shop)
    if key not in _SITES:
        with shop.api() as client:
            r = client.post("/v1/identity/sites", json={"name": "Depot"})
        assert r.status_code == 200, r.text
        _SITES[key] = str(r.json()["id"])
    return _SITES[key]


def wallet_token(shop: Shop) -> str:
    """One signed-up customer per shop, shared by both sizes, with something in every table:
    a top-up, a standing authorisation, two receipts (one partly refunded) and notifications."""
    key = id(shop)
    if key not in _TOKENS:
        token = sign_up(shop.world, phone="+4915112340000", name="Grace Hopper")
        wallet = {"Authorization": f"Bearer {token}"}
        client = shop.world.client
        r = client.post("/v1/face/wallet/topups", json={"amount_minor": 5000}, headers=wallet)
        assert r.status_code == 200, r.text
        assert client.post("/v1/face/wallet/mandates", headers=wallet).status_code == 200
        customer = client.get("/v1/face/wallet", headers=wallet).json()["customer"]["id"]
        paid = []
        for amount in (1234, 250):
            r = client.post("/v1/payment_intents", headers=shop.world.as_merchant(), json={
                "amount_minor": amount, "currency": "eur", "customer": customer,
                "confirm": True})
            assert r.status_code == 200, r.text
            paid.append(r.json()["id"])
        r = client.post("/v1/refunds", headers=shop.world.as_merchant(),
                        json={"payment_intent": paid[0], "amount_minor": 234})
        assert r.status_code == 200, r.text
        _TOKENS[key] = token
    return _TOKENS[key]
