"""The pages: kiosk (terminal), enrol, wallet, dashboard, camera check; and their static files.

Files are read from the installed package (``smilepay/web``); only names on the allow-list
are served, so no path from a request ever reaches the file system. A URL that matches no
route gets the HTML "page not found" page when a browser asks for a page
(``install_not_found_page``); API paths and non-HTML clients keep the JSON error.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from fastapi import APIRouter, FastAPI, HTTPException
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

router = APIRouter(include_in_schema=False)

PAGES = {
    "kiosk": "kiosk.html",
    "enrol": "enrol.html",
    "wallet": "wallet.html",
    "dashboard": "dashboard.html",
    "camera": "camera.html",
}
NOT_FOUND_PAGE = "404.html"
API_PREFIXES = ("/v1/", "/v1", "/openapi.json", "/health", "/ready", "/static/", "/docs-assets/")
STATIC_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
                ".svg": "image/svg+xml"}
STATIC_FILES = frozenset({"api.js", "camera.js", "style.css", "kiosk.js", "enrol.js",
                          "wallet.js", "dashboard.js", "camera-check.js", "favicon.svg"})
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
        "style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "camera=(self)",
}


@lru_cache(maxsize=32)
def read_web_file(folder: str, name: str) -> str:
    return resources.files("smilepay.web").joinpath(folder, name).read_text(encoding="utf-8")


@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse("/dashboard")


def page(name: str) -> HTMLResponse:
    return HTMLResponse(read_web_file("templates", PAGES[name]), headers=SECURITY_HEADERS)


def _add_page_route(name: str) -> None:
    def serve() -> HTMLResponse:
        return page(name)

    serve.__name__ = f"page_{name}"
    router.add_api_route(f"/{name}", serve, methods=["GET"], response_class=HTMLResponse)


for _name in PAGES:
    _add_page_route(_name)


@router.get("/static/{name}")
def static_file(name: str) -> Response:
    if name not in STATIC_FILES:
        raise HTTPException(status_code=404, detail="no such file")
    suffix = name[name.rfind("."):]
    return Response(
        read_web_file("static", name), media_type=STATIC_TYPES[suffix],
        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
    )


def wants_page(request: Request) -> bool:
    """A browser asking for a page: GET/HEAD, outside the API, HTML accepted."""
    path = request.url.path
    if request.method not in ("GET", "HEAD") or path == "/v1" or path.startswith(API_PREFIXES):
        return False
    return "text/html" in request.headers.get("accept", "")


def not_found_app(fallback: ASGIApp) -> ASGIApp:
    """The router's ``default`` (what runs when no route matches, never on a 405)."""

    async def not_found(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and wants_page(Request(scope)):
            response = HTMLResponse(read_web_file("templates", NOT_FOUND_PAGE), status_code=404,
                                    headers=SECURITY_HEADERS)
            await response(scope, receive, send)
            return
        await fallback(scope, receive, send)

    return not_found


def install_not_found_page(app: FastAPI) -> None:
    app.router.default = not_found_app(app.router.default)
