"""The pages a customer and a merchant meet first, in Debian chromium.

Money in every currency (the API's ISO 4217 exponents: JPY 0, KWD 3 decimals), the kiosk
following the newest payment of its terminal, the dashboard (cancel, customers by name,
readable audit, no words broken mid-word, nothing but the sign-in when signed out), the
wallet signed out, the HTML 404 page, and the API docs rendering with no network.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from e2e.browser.conftest import collecting_console
from e2e.browser.pages_support import (
    BROKEN_WORDS_JS,
    DESKTOP,
    OVERFLOW_JS,
    PHONE_SIZE,
    SCROLLING_TABLES_JS,
    Shop,
    no_one_feed,
    text_of,
    wait_until,
)

pytestmark = pytest.mark.e2e


def dashboard(browse: Callable[..., Any], shop: Shop, size: tuple[int, int] = DESKTOP) -> Any:
    page = browse(shop.url, size)
    page.goto(f"{shop.url}/dashboard#key={shop.world.keys.secret_key}")
    page.wait_for_selector("#dashboard[data-state=ready]")
    return page


def kiosk(browse: Callable[..., Any], shop: Shop) -> Any:
    page = browse(shop.url, DESKTOP, no_one_feed())
    page.goto(f"{shop.url}/kiosk#key={shop.world.keys.terminal_key}")
    return page


def kiosk_payment(page: Any) -> str:
    return str(page.get_attribute("#status", "data-payment") or "")


@pytest.mark.parametrize(("currency", "typed", "minor", "shown"), [
    ("JPY", "500", 500, "¥500"),
    ("KWD", "1.250", 1250, "KWD 1.250"),
    ("EUR", "12.50", 1250, "€12.50"),
])
def test_a_payment_from_the_dashboard_charges_and_shows_the_right_amount_in_its_currency(
    pages_shop: Shop, browse: Callable[..., Any], currency: str, typed: str, minor: int,
    shown: str,
) -> None:
    page = dashboard(browse, pages_shop)
    with collecting_console(page) as console:
        page.select_option("#currency", currency)
        page.fill("#amount", typed)
        page.click("#send")
        page.wait_for_selector("#pay-result:not([hidden])")
        confirmation = text_of(page, "#pay-result")
        payment_id = page.get_attribute("#pay-result", "data-payment")
    assert payment_id, (confirmation, console)
    assert confirmation == f"Sent to Counter 1: {shown}. The customer can pay at the kiosk now."
    intent = pages_shop.payment(payment_id)
    assert (intent["amount_minor"], intent["currency"].upper()) == (minor, currency)
    screen = kiosk(browse, pages_shop)
    wait_until(lambda: kiosk_payment(screen) == payment_id, "the kiosk to take the payment",
               page=screen)
    assert text_of(screen, "#amount") == shown
    assert screen.get_attribute("#amount", "data-minor") == str(minor)


def test_the_dashboard_refuses_more_decimals_than_the_currency_has(
    pages_shop: Shop, browse: Callable[..., Any]
) -> None:
    page = dashboard(browse, pages_shop)
    page.select_option("#currency", "JPY")
    page.fill("#amount", "500.5")
    page.click("#send")
    page.wait_for_selector("#pay-result.error:not([hidden])")
    assert text_of(page, "#pay-result") == "JPY amounts have no decimals: enter a whole number."


def test_the_kiosk_follows_the_newest_payment_and_a_cancel_at_the_till(
    pages_shop: Shop, browse: Callable[..., Any]
) -> None:
    first = pages_shop.create_payment(1250)
    screen = kiosk(browse, pages_shop)
    wait_until(lambda: kiosk_payment(screen) == first["id"], "the first payment", page=screen)
    assert text_of(screen, "#amount") == "€12.50"
    second = pages_shop.create_payment(300)  # sent while the kiosk checks the first one
    wait_until(lambda: kiosk_payment(screen) == second["id"], "the kiosk to follow the newer "
               "payment", page=screen)
    assert text_of(screen, "#amount") == "€3.00"
    assert pages_shop.payment(first["id"])["status"] == "canceled"

    till = dashboard(browse, pages_shop)
    till.click(f"button.cancel[data-payment={second['id']}]")
    wait_until(lambda: pages_shop.payment(second["id"])["status"] == "canceled", "the cancel")
    till.wait_for_selector(f"tr[data-payment={second['id']}][data-status=canceled]")
    wait_until(lambda: screen.get_attribute("#status", "data-state") == "idle",
               "the kiosk to give up the canceled payment", page=screen)
    assert "canceled" in text_of(screen, "#message")
    assert text_of(screen, "#amount") == ""


@pytest.fixture(scope="module")
def seeded(pages_shop: Shop) -> dict[str, Any]:
    """A named customer with a payment, and a refused face match in the audit."""
    with pages_shop.api() as client:
        r = client.post("/v1/customers", json={"name": "Ada Lovelace", "phone": "+4915112349876"})
        assert r.status_code == 200, r.text
        customer = r.json()
    # an invoice-style intent for a known customer, at no terminal (the kiosk never sees it)
    paid = pages_shop.create_payment(420, customer=customer["id"], terminal=None)
    from smilepay.domain.tenants import Scope

    pages_shop.world.face.audit(
        Scope(pages_shop.world.keys.tenant_id, livemode=False), "pay", "refused",
        ("no_match", "below_threshold"), paid["id"], int(time.time() * 1000),
        {"model_id": "fr_feature", "threshold": 0.45, "threshold_source": "calibrated",
         "best_score": 0.3121, "liveness_challenge": 1.0, "liveness_passive_advisory": 0.81})
    return {"customer": customer, "payment": paid}


@pytest.mark.parametrize("size", [DESKTOP, (768, 1024), PHONE_SIZE])
def test_the_dashboard_reads_well_at_every_width(
    pages_shop: Shop, browse: Callable[..., Any], seeded: dict[str, Any], size: tuple[int, int]
) -> None:
    page = dashboard(browse, pages_shop, size)
    row = f"#payments tr[data-payment={seeded['payment']['id']}]"
    customer_cell = text_of(page, f"{row} td:nth-child(5)")
    assert customer_cell.split("\n")[0] == "Ada Lovelace"
    assert "9876" in customer_cell and "151123" not in customer_cell  # masked phone
    assert "cus_" not in text_of(page, "#payments")
    audit = text_of(page, "#audit tr:first-child")
    for part in ("Face match (payment)", "refused", "no match; below threshold",
                 "match 0.312 < 0.450", "challenge 1.00 ≥ 0.50", "passive 0.81 (advisory)",
                 "fr_feature"):
        assert part in audit, (part, audit)
    assert page.evaluate(BROKEN_WORDS_JS) == []
    assert page.evaluate(OVERFLOW_JS) <= 0, "the page scrolls sideways"
    assert page.evaluate("document.scrollingElement.scrollWidth <= innerWidth")
    assert page.evaluate(SCROLLING_TABLES_JS) == [], "a table scrolls inside its card"
    if size == PHONE_SIZE:  # one labelled block per payment, not a squeezed table
        assert page.get_attribute(f"{row} td:nth-child(5)", "data-label") == "Customer"
        assert page.evaluate("getComputedStyle(document.querySelector('#payments td'))"
                             ".display") != "table-cell"
        assert page.evaluate("document.querySelector('#payments').closest('table').tHead"
                             ".getBoundingClientRect().height") <= 1  # kept for screen readers


def test_the_dashboard_refuses_a_webhook_to_this_machine_in_plain_words(
    pages_shop: Shop, browse: Callable[..., Any]
) -> None:
    page = dashboard(browse, pages_shop)
    page.fill("#webhook-url", "http://127.0.0.1:9/hooks")
    page.click("#webhook-form button")
    page.wait_for_selector("#message.error")
    shown = text_of(page, "#message")
    assert shown.startswith("Enter a public https web address"), shown
    assert "expected" not in shown and "loopback" not in shown


def test_signed_out_the_dashboard_and_the_wallet_show_only_the_sign_in(
    pages_shop: Shop, browse: Callable[..., Any]
) -> None:
    page = browse(pages_shop.url)
    page.goto(f"{pages_shop.url}/dashboard")
    page.wait_for_selector("#dashboard[data-state=signed_out]")
    visible_forms = [f.get_attribute("id") for f in page.query_selector_all("form")
                     if f.is_visible()]
    assert visible_forms == ["login-form"]
    page.goto(f"{pages_shop.url}/wallet")
    page.wait_for_selector("#wallet[data-state=signed_out]")
    assert page.is_visible("#signin")
    for hidden in ("#balance", "#payments", "#notifications", "#sign-out", "#erase",
                   "[data-topup]"):
        assert not page.is_visible(hidden), hidden
    assert [b.inner_text() for b in page.query_selector_all("button") if b.is_visible()] == []


def test_the_wallet_never_shows_minor_units_key_or_account_ids(
    pages_shop: Shop, browse: Callable[..., Any], data_dir: Path
) -> None:
    from facepay_support import enrol_from_photos

    token = enrol_from_photos(pages_shop.world, data_dir)
    page = browse(pages_shop.url, PHONE_SIZE)
    page.goto(f"{pages_shop.url}/wallet#token={token}")
    page.wait_for_selector("#wallet[data-state=ready]")
    assert text_of(page, "#balance") == "€50.00"
    assert "enrolled" in text_of(page, "#face")
    page.select_option("#wallet-currency", "JPY")
    page.wait_for_selector("[data-topup='10']:has-text('¥10')")
    page.click("[data-topup='10']")
    wait_until(lambda: text_of(page, "#balance") == "¥10", "the yen top-up", page=page)
    body = text_of(page, "body")
    for internal in ("minor unit", "acct_", "cus_", "key ", "kid_", "model "):
        assert internal not in body, (internal, body)
    assert page.evaluate(OVERFLOW_JS) <= 0, "the wallet scrolls sideways on a phone"


def test_an_unknown_page_is_an_html_404_and_an_unknown_api_path_stays_json(
    pages_shop: Shop, browse: Callable[..., Any]
) -> None:
    page = browse(pages_shop.url)
    response = page.goto(f"{pages_shop.url}/no-such-page")
    assert response is not None and response.status == 404
    assert response.headers["content-type"].startswith("text/html")
    assert text_of(page, "h1") == "Page not found"
    assert page.is_visible("a[href='/dashboard']")
    api = httpx.get(f"{pages_shop.url}/v1/no-such-thing", headers={"Accept": "text/html"})
    assert api.status_code == 404
    assert api.json()["error"]["code"] == "not_found"


def test_the_api_docs_render_without_any_network(
    pages_shop: Shop, browse: Callable[..., Any]
) -> None:
    page = browse(pages_shop.url)
    outside: list[str] = []

    def only_local(route: Any) -> None:
        if route.request.url.startswith(pages_shop.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_local)
    page.goto(f"{pages_shop.url}/docs")
    page.wait_for_selector(".opblock")
    assert page.locator(".opblock").count() >= 20
    assert "/v1/payment_intents" in page.inner_text("#swagger-ui")
    assert "/v1/currencies" in page.inner_text("#swagger-ui")
    page.goto(f"{pages_shop.url}/redoc")
    page.wait_for_selector("[data-section-id^='tag/']")
    wait_until(lambda: "/v1/payment_intents" in page.inner_text("body"), "ReDoc's operations",
               page=page)
    assert outside == []


def test_a_failed_check_shows_the_servers_prompt_for_its_reason(
    pages_shop: Shop, browse: Callable[..., Any]
) -> None:
    from smilepay.services.kiosk_prompts import customer_prompt

    payment = pages_shop.create_payment(800)
    screen = kiosk(browse, pages_shop)  # the camera sees no one: the 3 s step runs out
    wait_until(lambda: kiosk_payment(screen) == payment["id"], "the payment", page=screen)
    screen.wait_for_selector("#status[data-state=failed]", timeout=40_000)
    reasons = [r for r in (screen.get_attribute("#message", "data-reasons") or "").split(",")
               if r]
    assert reasons, "the kiosk keeps the server's reasons"
    shown = text_of(screen, "#message")
    assert shown == customer_prompt(reasons, fallback="challenge_failed")
    assert "did not work" not in shown and "_" not in shown
    assert screen.is_visible("#retry")


@pytest.mark.parametrize("size", [DESKTOP, PHONE_SIZE])
def test_a_pasted_name_of_one_long_run_wraps_inside_its_card(
    pages_shop: Shop, browse: Callable[..., Any], size: tuple[int, int]
) -> None:
    """A terminal and a customer named by one 100-character run (a paste) wrap; no table
    scrolls in its card. (Last in this module: the extra terminal would otherwise come first
    in the point-of-sale form of the tests above.)"""
    long_name = "Z" * 100
    with pages_shop.api() as client:
        named = {}
        for path, body in (("/v1/terminals", {"name": long_name}),
                           ("/v1/customers", {"name": long_name, "phone": "+4915112349877"})):
            found = [x for x in client.get(f"{path}?limit=100").json()["data"]
                     if x["name"] == long_name]  # made once for both sizes
            if not found:
                r = client.post(path, json=body)
                assert r.status_code == 200, r.text
                found = [r.json()]
            named[path] = found[0]["id"]
    pages_shop.create_payment(300, customer=named["/v1/customers"], terminal=None)
    page = dashboard(browse, pages_shop, size)
    assert long_name in text_of(page, "#terminals").replace("\n", "")
    assert page.evaluate(SCROLLING_TABLES_JS) == [], "a table scrolls inside its card"
    assert page.evaluate(OVERFLOW_JS) <= 0
