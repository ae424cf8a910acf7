"""The HTTP edge: what every request passes before a route sees it (an ASGI middleware).

In this order, and without reading a byte of the body until the caller is known:

1. A route that takes an API key or wallet token (it depends on ``auth.bearer``) gets its
   credential checked here, before anything else: a missing or unknown one answers 401 (so a
   probe without a key learns nothing, not even which ids or sizes are well-formed).
2. ``Content-Length`` above the route's cap: 413 ``request_too_large`` at once.
3. A NUL (``%00``) anywhere in the query string (PostgreSQL cannot store one, and no id,
   filter or currency holds one), or under ``/v1`` a query parameter the operation does not
   declare: 400.
4. The body is counted as it streams in; past the cap the request ends with 413. JSON bodies
   (small) are read here whole and checked for ``\\u0000`` in strings and integers beyond 64
   bits, both of which the databases refuse with a server error.

Caps by route (``body_limit``): JSON 64 KiB; a JPEG frame ``MAX_FRAME_BYTES`` plus 64 KiB; a
multipart frame with its depth map, both parts plus 64 KiB. A route that needs more declares it
in its OpenAPI operation: ``@router.post(..., openapi_extra={"x-body-limit": 4_000_000})``.
Which routes take a credential, and which query parameters, is read from the OpenAPI document.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import anyio
from fastapi import FastAPI
from fastapi.security.utils import get_authorization_scheme_param
from starlette.exceptions import HTTPException as StarletteHTTPException

from smilepay.api.auth import check_credential
from smilepay.api.errors import error_response
from smilepay.domain.tenants import hash_api_key
from smilepay.errors import InvalidInput, SmilePayError

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

KIB = 1024
JSON_LIMIT = 64 * KIB
FRAME_LIMIT = 2_000_000 + 64 * KIB  # services.face_frames.MAX_FRAME_BYTES, plus headroom
FRAME_WITH_DEPTH_LIMIT = FRAME_LIMIT + 5_000_000  # + vision.liveness.depth_png.MAX_DEPTH_BYTES
_FRAME_PATHS = re.compile(r"^/v1/face/(sessions/[^/]+/frames|camera-check)$")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
INT64_MAX = 2**63 - 1
_SUSPECT_JSON = re.compile(rb"\\u0000|[0-9]{19,}", re.IGNORECASE)


class RequestTooLarge(StarletteHTTPException):
    """Raised from the counting ``receive`` when a streamed body passes its cap (an
    ``HTTPException``, so FastAPI passes it through its own body parsing unchanged)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"expected a request body of at most {limit} bytes, got more")


def body_limit(method: str, path: str, content_type: str) -> int:
    """The most bytes a request to this route may carry."""
    if method == "POST" and _FRAME_PATHS.match(path):
        return FRAME_WITH_DEPTH_LIMIT if content_type.startswith("multipart/") else FRAME_LIMIT
    return JSON_LIMIT


def is_json(content_type: str) -> bool:
    kind = content_type.split(";", 1)[0].strip().lower()
    return kind == "" or kind == "application/json" or kind.endswith("+json")


def json_problem(value: Any, where: str = "") -> tuple[str, str, str] | None:
    """(param, rule, what came) for the first string holding a NUL or integer beyond 64 bits."""
    if isinstance(value, str) and "\x00" in value:
        return where, "text without NUL characters", "text with one"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > INT64_MAX:
        return where, f"an integer between -{INT64_MAX} and {INT64_MAX}", "one beyond 64 bits"
    items: list[tuple[str, Any]] = []
    if isinstance(value, dict):
        items = [(f"{where}.{k}" if where else str(k), v) for k, v in value.items()]
        for key in value:
            if "\x00" in str(key):
                return where or "body", "field names without NUL characters", "one with a NUL"
    elif isinstance(value, list):
        items = [(f"{where}.{i}" if where else str(i), v) for i, v in enumerate(value)]
    for child_where, child in items:
        found = json_problem(child, child_where)
        if found is not None:
            return found
    return None


def _template_regex(path: str) -> re.Pattern[str]:
    """``/v1/customers/{customer_id}`` as a regular expression of the paths it matches."""
    parts = re.split(r"\{[^}]+\}", path)
    return re.compile("^" + "[^/]+".join(re.escape(part) for part in parts) + "$")


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return ""


def _check_query(scope: Scope, operation: Operation | None) -> None:
    """No NUL in any query parameter (PostgreSQL cannot store one); under ``/v1`` no query
    parameter the operation does not declare (a misspelt filter must not list everything)."""
    query = bytes(scope.get("query_string", b""))
    if not query:
        return
    for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        if "\x00" in name or "\x00" in value:
            raise InvalidInput("expected text without NUL characters in the query, got one",
                               param=name.replace("\x00", "")[:40] or "query")
        if operation is not None and scope["path"].startswith("/v1/") and (
                name not in operation.query):
            allowed = ", ".join(sorted(operation.query)) or "none"
            raise InvalidInput(f"expected only the documented query parameters ({allowed}), "
                               "got an unknown one", param=name[:40] or "query")


@dataclass(frozen=True)
class Operation:
    """What the OpenAPI document says of one operation, as the edge needs it."""

    secured: bool  # takes a bearer credential: every route that depends on ``auth.bearer``
    body_limit: int | None  # ``openapi_extra={"x-body-limit": N}`` on the route, if any
    query: frozenset[str]  # the query parameters it declares


def operations(spec: dict[str, Any]) -> list[tuple[re.Pattern[str], str, Operation]]:
    table = []
    for path, item in spec.get("paths", {}).items():
        pattern = _template_regex(path)
        for method, op in item.items():
            if not isinstance(op, dict):
                continue
            query = frozenset(p["name"] for p in op.get("parameters", []) if p.get("in") == "query")
            limit = op.get("x-body-limit")
            table.append((pattern, method.upper(), Operation(
                bool(op.get("security")), limit if isinstance(limit, int) else None, query)))
    return table


class EdgeMiddleware:
    """See the module docstring. Errors are sent in the API's error shape."""

    def __init__(self, app: ASGIApp, fastapi_app: FastAPI) -> None:
        self.app = app
        self.fastapi_app = fastapi_app
        self._table: list[tuple[re.Pattern[str], str, Operation]] | None = None

    def _operation(self, scope: Scope) -> Operation | None:
        """The operation the request is for (tried in the document's order, which is the
        routing order); None for routes the document does not list (pages, assets)."""
        if self._table is None:
            self._table = operations(self.fastapi_app.openapi())
        for pattern, method, found in self._table:
            if method == scope["method"] and pattern.match(scope["path"]):
                return found
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            await self._checked(scope, receive, send)
        except SmilePayError as error:
            await _send_response(send, error)

    async def _checked(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope["method"]
        content_type = _header(scope, b"content-type")
        operation = self._operation(scope)
        limit = body_limit(method, scope["path"], content_type)
        if operation is not None and operation.body_limit is not None:
            limit = operation.body_limit
        if operation is not None and operation.secured:
            await self._authenticate(scope)
        declared = _header(scope, b"content-length")
        if declared.isdigit() and int(declared) > limit:
            await _send_response(send, None, limit)
            return
        _check_query(scope, operation)
        if method in _BODY_METHODS and is_json(content_type):
            body = await _read_capped(receive, limit)
            if body is None:
                await _send_response(send, None, limit)
                return
            _check_json(body)
            await self.app(scope, _replay(body, receive), send)
            return
        await self.app(scope, _counting(receive, limit), send)

    async def _authenticate(self, scope: Scope) -> None:
        scheme, token = get_authorization_scheme_param(_header(scope, b"authorization"))
        if scheme.lower() != "bearer" or not token:
            from smilepay.domain.money_errors import AuthenticationFailed

            raise AuthenticationFailed(
                "expected an Authorization: Bearer <API key> header, got none")
        container = self.fastapi_app.state.container
        found = container.callers.get(hash_api_key(token))  # checked moments ago: no thread
        if found is None:
            found = await anyio.to_thread.run_sync(check_credential, container, token)
        scope.setdefault("state", {})["smilepay_credential"] = (token, found)


def _check_json(body: bytes) -> None:
    if not body or not _SUSPECT_JSON.search(body):
        return
    try:
        parsed = json.loads(body)
    except ValueError:
        return  # FastAPI reports invalid JSON with its line and column
    problem = json_problem(parsed)
    if problem is not None:
        param, rule, came = problem
        raise InvalidInput(f"expected {rule} in {param or 'the body'}, got {came}",
                           param=param or None)


async def _read_capped(receive: Receive, limit: int) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # after the body: wait for the disconnect, as ASGI says

    return replayed


def _counting(receive: Receive, limit: int) -> Receive:
    size = 0

    async def counted() -> Message:
        nonlocal size
        message = await receive()
        if message["type"] == "http.request":
            size += len(message.get("body", b""))
            if size > limit:
                raise RequestTooLarge(limit)
        return message

    return counted


async def _send_response(send: Send, error: SmilePayError | None, limit: int = 0) -> None:
    if error is None:
        from smilepay.api.errors import too_large_response

        response = too_large_response(limit)
    else:
        response = error_response(error)
    await send({"type": "http.response.start", "status": response.status_code,
                "headers": response.raw_headers})
    await send({"type": "http.response.body", "body": response.body})
