"""Pages opened the way a newcomer opens them: the store pages without their set-up say what is
missing (no raw API error), the camera check says what it saw in words; nothing runs off a phone."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from e2e.browser.pages_support import OVERFLOW_JS, PHONE_SIZE, Shop, text_of

pytestmark = pytest.mark.e2e


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
    assert page.is_disabled("#new-code")
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
