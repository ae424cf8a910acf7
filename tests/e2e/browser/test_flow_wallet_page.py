"""Issue 11, point 1, on the wallet page in Debian chromium (a security test kept here for the
browser fixtures): the customer grants a standing authorisation ("Standing authorisations"
section), the merchant's server may then debit the wallet by customer id; the customer stops
it and the next debit is refused (403)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from e2e.browser.pages_support import PHONE_SIZE, Shop, text_of, wait_until
from flow_support import bearer, wallet_of

pytestmark = pytest.mark.e2e


def debit(shop: Shop, customer: str) -> int:
    with shop.api() as client:
        r = client.post("/v1/payment_intents", json={"amount_minor": 100, "currency": "eur",
                                                     "customer": customer, "confirm": True})
    return int(r.status_code)


def test_the_customer_grants_and_stops_a_standing_authorisation_on_the_wallet_page(
    pages_shop: Shop, browse: Callable[..., Any],
) -> None:
    world = pages_shop.world
    customer, token = wallet_of(world, "+4915100000501", "Mia")
    assert world.client.post("/v1/face/wallet/topups", json={"amount_minor": 1000},
                             headers=bearer(token)).status_code == 200
    assert debit(pages_shop, customer) == 403  # no mandate yet
    page = browse(pages_shop.url, PHONE_SIZE)
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"{pages_shop.url}/wallet#token={token}")
    page.wait_for_selector("#wallet[data-state=ready]")
    assert "None" in text_of(page, "#mandates")
    page.click("#grant-mandate")
    wait_until(lambda: "Active" in text_of(page, "#mandates"), "the mandate granted", page=page)
    assert not page.is_visible("#grant-mandate")
    assert debit(pages_shop, customer) == 200
    page.click("#mandates button[data-mandate]")
    wait_until(lambda: "Stopped" in text_of(page, "#mandates"), "the mandate stopped", page=page)
    assert debit(pages_shop, customer) == 403
    assert customer not in text_of(page, "body")  # no internal ids on the customer's page
