"""The store's pages: the gate display, the operator dashboard, the wallet's store part
(``docs/store.md``), served from the package like the other pages (``api.routes_pages``)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from smilepay.api.routes_pages import SECURITY_HEADERS, read_web_file
from smilepay.errors import NotFound

pages = APIRouter(include_in_schema=False)
STORE_PAGES = {"gate": "store_gate.html", "operator": "store_operator.html",
               "wallet": "store_wallet.html"}
STORE_STATIC = frozenset({"store_gate.js", "store_operator.js", "store_wallet.js"})


def _page(name: str) -> HTMLResponse:
    return HTMLResponse(read_web_file("templates", STORE_PAGES[name]), headers=SECURITY_HEADERS)


@pages.get("/store/gate")
def gate_page() -> HTMLResponse:
    """The gate display; set-up in the fragment: #key=tk_...&gate=...&mode=entry|exit."""
    return _page("gate")


@pages.get("/store/operator")
def operator_page() -> HTMLResponse:
    """The operator dashboard; #key=sk_...&store=..."""
    return _page("operator")


@pages.get("/store/wallet")
def wallet_page() -> HTMLResponse:
    """The wallet's store part: entry QR code, trips, receipts, disputes."""
    return _page("wallet")


@pages.get("/store/static/{name}")
def store_static(name: str) -> Response:
    if name not in STORE_STATIC:
        raise NotFound(f"expected a store page file, got {name[:40]!r}")
    return Response(read_web_file("static", name), media_type="text/javascript; charset=utf-8",
                    headers=SECURITY_HEADERS)
