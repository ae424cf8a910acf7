"""The one error-to-HTTP table: every ``SmilePayError`` becomes a Stripe-shaped error.

``{"error": {"type", "code", "message", "param"}}``. Codes map to (status, type) in
``ERROR_TABLE``; a code not listed falls back by class (``FALLBACK_BY_CLASS``), so new errors
from other areas render sensibly without touching this file. A request the API refuses is
400, never 422 (request validation included); an unexpected exception is a 500 in the same
shape (``on_crash``), never plain text.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from smilepay.api.validation import validation_message
from smilepay.domain.money_errors import PaymentDeclined
from smilepay.errors import Conflict, InvalidInput, NotFound, SmilePayError

INVALID = "invalid_request_error"
ERROR_TABLE: dict[str, tuple[int, str]] = {
    "invalid_input": (400, INVALID),
    "invalid_amount": (400, INVALID),
    "currency_mismatch": (400, INVALID),
    "refund_exceeds_captured": (400, INVALID),
    "test_mode_only": (400, INVALID),
    "webhook_verification_failed": (400, INVALID),
    "authentication_failed": (401, "authentication_error"),
    "payment_declined": (402, "payment_error"),
    "insufficient_funds": (402, "payment_error"),
    "amount_limit_exceeded": (402, "payment_error"),
    "daily_limit_exceeded": (402, "payment_error"),
    "customer_locked_out": (402, "payment_error"),
    "permission_denied": (403, "permission_error"),
    "mandate_required": (403, "permission_error"),
    "face_flow_required": (403, "permission_error"),
    "not_found": (404, INVALID),
    "conflict": (409, INVALID),
    "payment_intent_unexpected_state": (409, INVALID),
    "hold_not_pending": (409, INVALID),
    "transfer_already_reversed": (409, INVALID),
    "idempotency_key_reused": (409, "idempotency_error"),
    "face_already_enrolled": (409, INVALID),
    "request_too_large": (413, INVALID),
    "rate_limited": (429, "rate_limit_error"),
    "model_missing": (503, "api_error"),
}
FALLBACK_BY_CLASS: tuple[tuple[type[SmilePayError], int, str], ...] = (
    (PaymentDeclined, 402, "payment_error"),
    (InvalidInput, 400, INVALID),
    (NotFound, 404, INVALID),
    (Conflict, 409, INVALID),
    (SmilePayError, 400, INVALID),  # one status for a refused request: never 422
)


def status_and_type(error: SmilePayError) -> tuple[int, str]:
    if error.code in ERROR_TABLE:
        return ERROR_TABLE[error.code]
    for cls, status, kind in FALLBACK_BY_CLASS:
        if isinstance(error, cls):
            return status, kind
    return 500, "api_error"


def render_json(payload: Any) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def error_payload(
    kind: str, code: str, message: str, param: str | None = None, **extra: Any
) -> dict[str, Any]:
    return {"error": {"type": kind, "code": code, "message": message, "param": param, **extra}}


def error_response(error: SmilePayError) -> Response:
    status, kind = status_and_type(error)
    param = error.details.get("param")
    body = error_payload(kind, error.code, error.message, param if isinstance(param, str) else None)
    return Response(render_json(body), status_code=status, media_type="application/json")


def too_large_response(limit: int) -> Response:
    body = error_payload(INVALID, "request_too_large",
                         f"expected a request body of at most {limit} bytes, got more")
    return Response(render_json(body), status_code=413, media_type="application/json",
                    headers={"Connection": "close"})


HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "request_too_large"}


def install_error_handlers(app: FastAPI) -> None:
    async def on_smilepay(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, SmilePayError)
        return error_response(exc)

    async def on_validation(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        first = exc.errors()[0] if exc.errors() else {}
        message, param = validation_message(first, exc.body)
        body = error_payload(INVALID, "invalid_input", message, param)
        return Response(render_json(body), status_code=400, media_type="application/json")

    async def on_http(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        code = HTTP_CODES.get(exc.status_code, "http_error")
        body = error_payload(INVALID, code, str(exc.detail))
        return Response(render_json(body), status_code=exc.status_code,
                        media_type="application/json", headers=exc.headers)

    async def on_crash(_request: Request, _exc: Exception) -> Response:
        """The last resort (Starlette still logs the traceback, redacted: ``logredact``): never
        a plain-text 500 or a stack trace to the client."""
        body = error_payload("api_error", "internal_error",
                             "expected to handle this request, got an internal error; it was "
                             "logged, retry later or with an Idempotency-Key")
        return Response(render_json(body), status_code=500, media_type="application/json")

    app.add_exception_handler(SmilePayError, on_smilepay)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_crash)
