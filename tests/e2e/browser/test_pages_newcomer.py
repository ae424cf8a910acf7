"""Pages opened the way a newcomer opens them: the store pages without their set-up say what is
missing (no raw API error), the camera check says what it saw in words; nothing runs off a phone."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from e2e.browser.pages_support import OVERFLOW_JS, PHONE_SIZE, Shop, text_of

pytestmark = pytest.mark.e2e
# a terminal key of the right shape that was never issued (built here, not a real secret)
NO_SUCH_KEY = "tk_test_" + "revoked".ljust(20, "0")


def test_the_store_wallet_signed_out_sends_the_customer_to_sign_in(
    pages_shop: Shop, browse: Callable[..., Any]
) -> None:
    page = browse(pages_shop.url, PHONE_SIZE)
    page.goto(f"{pages_shop.url}/store/wallet")
    page.wait_for_selector("#message:not([hidden])")
    message = text_of(page, "#message")
    assert message.startswith("You are not signed in."), message
    assert "Authorization" not in message
    assert page.get_attribute("#message a", "href") == "/wallet"
    assert page.is_hidden("#new-code") and page.is_hidden("#trips")  # only the sign-in line
    assert page.evaluate(OVERFLOW_JS) <= 0


@pytest.mark.parametrize(("path", "needs"), [
    ("/store/gate", "/store/gate#key=tk_...&gate=gate_..."),
    ("/store/operator", "/store/operator#key=sk_...&store=st_..."),
    ("/identity/boarding", "/identity/boarding#key=tk_...&departure=dep_..."),
    ("/identity/clock", "/identity/clock#key=tk_...&site=site_..."),
])
def test_a_staff_page_without_its_fragment_says_what_its_address_needs(
    pages_shop: Shop, browse: Callable[..., Any], path: str, needs: str
) -> None:
    page = browse(pages_shop.url, PHONE_SIZE)
    page.goto(f"{pages_shop.url}{path}#key={pages_shop.world.keys.terminal_key}")
    page.wait_for_selector("#message.warn")
    message = text_of(page, "#message")
    assert needs in message and "Not Found" not in message and "null" not in message, message
    assert page.evaluate(OVERFLOW_JS) <= 0


def test_the_camera_check_says_what_it_saw_in_words_on_a_phone(
    pages_shop: Shop, browse: Callable[..., Any], feed: Callable[..., Path]
) -> None:
    camera = feed("video/bona_fide/apfol_webcam_real.webm", "apfol_real_2s", duration_s=2.0)
    page = browse(pages_shop.url, PHONE_SIZE, camera)
    page.goto(f"{pages_shop.url}/camera?auto=1#key={pages_shop.world.keys.terminal_key}")
    page.wait_for_selector("#result[data-state=done]")
    assert text_of(page, "#message") == "The camera works and sees one face."
    result = text_of(page, "#result")
    assert result.startswith("Largest face: ") and result.endswith(" pixels wide."), result
    assert "{" not in result
    assert page.evaluate(OVERFLOW_JS) <= 0


def test_a_kiosk_with_a_refused_key_tells_the_staff_not_the_customer_to_sign_in(
    pages_shop: Shop, browse: Callable[..., Any]
) -> None:
    page = browse(pages_shop.url, PHONE_SIZE)
    page.goto(f"{pages_shop.url}/kiosk#key={NO_SUCH_KEY}")
    page.wait_for_selector("#message.error")
    assert text_of(page, "#message") == ("This kiosk is not set up right. Staff: open it again "
                                         "from the dashboard's terminal link.")
    assert text_of(page, "#merchant") == "Not connected"
    assert page.evaluate(OVERFLOW_JS) <= 0


def test_enrol_with_a_refused_key_or_too_many_wrong_codes_says_what_to_do(
    pages_shop: Shop, browse: Callable[..., Any]
) -> None:
    page = browse(pages_shop.url, PHONE_SIZE)
    page.goto(f"{pages_shop.url}/enrol#key={NO_SUCH_KEY}")
    page.fill("#phone", "+4915112340041")
    page.click("#send-code")
    page.wait_for_selector("#message.error")
    assert text_of(page, "#message") == ("This sign-up page is not set up right. Ask the shop "
                                         "staff to open it again.")
    page.goto("about:blank")  # a new load: only the fragment would differ
    page.goto(f"{pages_shop.url}/enrol#key={pages_shop.world.keys.terminal_key}")
    page.fill("#phone", "+4915112340042")
    page.click("#send-code")
    page.wait_for_selector("#step-code:not([hidden])")
    shown = []
    for _ in range(7):
        page.evaluate("() => { document.getElementById('message').className = 'message'; }")
        page.fill("#code", "000000")
        page.click("#verify")
        page.wait_for_selector("#message.error")
        shown.append(text_of(page, "#message"))
    assert shown[0] == "That code is not right. Check the message and try again."
    assert shown[-1].startswith("Too many wrong codes."), shown
    assert not any("expected" in line for line in shown), shown
    page.click("#new-code")
    page.wait_for_selector("#step-phone:not([hidden])")
    assert page.evaluate("document.activeElement.id") == "phone"
    assert page.evaluate(OVERFLOW_JS) <= 0
