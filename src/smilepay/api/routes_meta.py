"""What the API says about itself: the currencies it takes, and its documentation pages.

``GET /v1/currencies`` lists every accepted currency with its ISO 4217 exponent (the digits
after the decimal point: JPY 0, EUR 2, KWD 3), read from the domain's one table
(``smilepay.domain.money.CURRENCY_EXPONENTS``). Every page converts what people type into
minor units and formats amounts with it. It is public on purpose: static reference data, the
same for every caller, that a page needs before anyone signs in (the wallet's and enrol
page's amounts); it reveals nothing about an account.

``/docs`` (Swagger UI) and ``/redoc`` (ReDoc) load their scripts from this server, not a CDN:
the assets ship in the pinned ``fastapi-offline`` package and are served from an allow-list.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response

from smilepay.api.errors import render_json
from smilepay.domain.money import CURRENCY_EXPONENTS

router = APIRouter(include_in_schema=True)

DOCS_ASSETS = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "redoc.standalone.js": "text/javascript; charset=utf-8",
}
ASSET_PREFIX = "/docs-assets"
FAVICON = "/static/favicon.svg"
# ReDoc links its own logo from its CDN in the sidebar footer: the policy keeps the browser
# from even trying (nothing leaves the machine), and the footer is hidden.
REDOC_POLICY = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                "script-src 'self'; worker-src 'self' blob:; connect-src 'self'; "
                "font-src 'self' data:; frame-ancestors 'none'")
REDOC_STYLE = '<style>a[href*="redocly.com"] { display: none !important; }</style>'


def currency_list() -> list[dict[str, Any]]:
    return [{"object": "currency", "code": code, "exponent": exponent}
            for code, exponent in sorted(CURRENCY_EXPONENTS.items())]


@router.get("/v1/currencies", tags=["meta"])
def get_currencies() -> Response:
    """Every accepted currency and its exponent: ``amount_minor = major * 10**exponent``."""
    return Response(render_json({"object": "list", "data": currency_list(), "has_more": False}),
                    media_type="application/json",
                    headers={"Cache-Control": "public, max-age=300"})


@lru_cache(maxsize=4)
def read_asset(name: str) -> bytes:
    return resources.files("fastapi_offline").joinpath("static", name).read_bytes()


@router.get(ASSET_PREFIX + "/{name}", include_in_schema=False)
def docs_asset(name: str) -> Response:
    if name not in DOCS_ASSETS:
        raise HTTPException(status_code=404, detail=f"no documentation asset {name!r}")
    return Response(read_asset(name), media_type=DOCS_ASSETS[name],
                    headers={"Cache-Control": "public, max-age=86400",
                             "X-Content-Type-Options": "nosniff"})


def _openapi_url(request: Request) -> str:
    return f"{request.scope.get('root_path', '')}{request.app.openapi_url}"


@router.get("/docs", include_in_schema=False)
def swagger_ui(request: Request) -> HTMLResponse:
    root = request.scope.get("root_path", "")
    return get_swagger_ui_html(
        openapi_url=_openapi_url(request), title=f"{request.app.title} API",
        swagger_js_url=f"{root}{ASSET_PREFIX}/swagger-ui-bundle.js",
        swagger_css_url=f"{root}{ASSET_PREFIX}/swagger-ui.css",
        swagger_favicon_url=f"{root}{FAVICON}",
        swagger_ui_parameters={"validatorUrl": None},  # no call to a remote validator
    )


@router.get("/redoc", include_in_schema=False)
def redoc(request: Request) -> HTMLResponse:
    root = request.scope.get("root_path", "")
    page = get_redoc_html(
        openapi_url=_openapi_url(request), title=f"{request.app.title} API",
        redoc_js_url=f"{root}{ASSET_PREFIX}/redoc.standalone.js",
        redoc_favicon_url=f"{root}{FAVICON}", with_google_fonts=False,
    )
    html = bytes(page.body).decode().replace("</head>", REDOC_STYLE + "</head>", 1)
    return HTMLResponse(html, headers={"Content-Security-Policy": REDOC_POLICY})
