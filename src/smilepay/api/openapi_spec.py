"""The OpenAPI document, made to tell the truth about what the API answers.

FastAPI's generated document says 422 for validation errors and says nothing of 401, 403, 404,
409 or 413; the API answers 400 for every refused request (``api.errors``), checks the caller
first (``api.edge``) and takes object ids of 3-40 letters, digits or underscores in every path.
``install_openapi`` rewrites each ``/v1`` operation accordingly, once, when the document is
first asked for; ``tests/security/test_schemathesis.py`` holds the API to it.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from smilepay.api.schemas import ID_LIMITS

ERROR_REF = {"$ref": "#/components/schemas/Error"}
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {
        "type": "object",
        "required": ["type", "code", "message"],
        "properties": {
            "type": {"type": "string"},
            "code": {"type": "string"},
            "message": {"type": "string"},
            "param": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        },
    }},
}
WHY = {
    "400": "Invalid request: a field, parameter or JSON body that breaks its rule",
    "401": "No API key (or wallet session), or an unknown, revoked or expired one",
    "402": "Declined: insufficient funds, a limit, or a locked-out customer",
    "403": "The key may not do this (e.g. a terminal key on a merchant call)",
    "404": "No such object in this account and mode",
    "409": "A conflicting state, or an Idempotency-Key reused with another request",
    "413": "The request body is larger than this route takes",
    "429": "Too many attempts of this kind; try again later",
}
_METHODS = ("get", "post", "put", "patch", "delete")


def _statuses(path: str, method: str, operation: dict[str, Any]) -> list[str]:
    statuses = ["400"]
    if operation.get("security"):
        statuses += ["401", "403"]
    has_path_ids = any(p.get("in") == "path" for p in operation.get("parameters", []))
    if has_path_ids or method in ("post", "delete"):
        statuses.append("404")
    if method in ("post", "delete"):
        statuses += ["409", "413"]
    if method == "post" and ("payment" in path or "payout" in path or "refund" in path):
        statuses.append("402")
    if method == "post" and path.startswith("/v1/face/"):
        statuses.append("429")
    return sorted(statuses)


def _fix_operation(path: str, method: str, operation: dict[str, Any]) -> None:
    responses = operation.setdefault("responses", {})
    responses.pop("422", None)
    for status in _statuses(path, method, operation):
        responses.setdefault(status, {"description": WHY[status],
                                      "content": {"application/json": {"schema": ERROR_REF}}})
    for parameter in operation.get("parameters", []):
        if parameter.get("in") == "path":
            schema = parameter.setdefault("schema", {})
            schema.update({"type": "string", "minLength": 3, "maxLength": 40,
                           "pattern": ID_LIMITS["pattern"]})


def truthful_openapi(app: FastAPI) -> dict[str, Any]:
    spec = get_openapi(title=app.title, version=app.version, routes=app.routes,
                       description=app.description)
    spec.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for path, item in spec.get("paths", {}).items():
        if not path.startswith("/v1/"):
            continue
        for method in _METHODS:
            if method in item:
                _fix_operation(path, method, item[method])
    return spec


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = truthful_openapi(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
