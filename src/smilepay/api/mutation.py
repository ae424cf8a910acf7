"""Running a mutating call: idempotency key, fingerprint and response in one transaction."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import Request
from fastapi.responses import Response
from pydantic import BaseModel

from smilepay.api.auth import container_of
from smilepay.api.errors import render_json
from smilepay.api.paging import Paging
from smilepay.ports.money import MoneyTx, PayerHint, StoredResponse
from smilepay.services.idempotency import fingerprint_request, run_idempotent
from smilepay.services.tenants import Caller

Operation = Callable[[MoneyTx], tuple[int, Any]]
T = TypeVar("T")


def redact_secrets(payload: Any, fields: tuple[str, ...]) -> Any:
    """``payload`` with each top-level ``fields`` value replaced by null and flagged
    ``<field>_redacted: true`` (what a replay of a call that made a secret returns)."""
    if not fields or not isinstance(payload, dict):
        return payload
    kept = dict(payload)
    for name in fields:
        if kept.get(name) is not None:
            kept[name] = None
            kept[f"{name}_redacted"] = True
    return kept


def run_mutation(
    request: Request, caller: Caller, body: BaseModel | None, operation: Operation,
    *, payer: PayerHint | None = None, secret_fields: tuple[str, ...] = (),
) -> Response:
    """Run ``operation`` (returning status and JSON payload) under the request's
    ``Idempotency-Key``; a replay returns the first response's exact bytes. ``payer``: the
    customer it charges, when known (see ``ports.money.Hint``). ``secret_fields``: fields of
    the payload shown once (a new API key, a webhook secret): the stored response, and so a
    replay, carries them redacted (``redact_secrets``); no secret is kept in clear."""
    container = container_of(request)
    key = request.headers.get("idempotency-key")
    canonical = body.model_dump_json().encode() if body is not None else b""
    fingerprint = fingerprint_request(request.method, request.url.path, canonical)
    first: list[bytes] = []  # this call's own response, secrets included

    def stored(tx: MoneyTx) -> StoredResponse:
        status, payload = operation(tx)
        first[:] = [render_json(payload)]
        return StoredResponse(status, render_json(redact_secrets(payload, secret_fields)))

    ctx = container.ctx
    response, replayed = run_idempotent(
        container.store, caller.scope, key, fingerprint, ctx.clock.now_ms(),
        ctx.policy.idempotency_ttl_s, stored, payer=payer,
    )
    headers = {"Idempotency-Key": key} if key else {}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    body_bytes = response.body if replayed or not first else first[0]
    return Response(body_bytes, status_code=response.status_code,
                    media_type="application/json", headers=headers)


def read(request: Request, work: Callable[[MoneyTx], Any]) -> Response:
    """A read-only call in one read transaction."""
    payload = container_of(request).store.run(work, write=False)
    return Response(render_json(payload), media_type="application/json")


def page_payload(url: str, items: list[Any], has_more: bool) -> dict[str, Any]:
    return {"object": "list", "url": url, "data": items, "has_more": has_more}


def list_response(
    request: Request, caller: Caller, page: Paging, cls: type[T], view: Callable[[T], Any],
    *, equals: dict[str, object] | None = None,
    check: Callable[[MoneyTx], object] | None = None,
) -> Response:
    """One cursor page of ``cls`` objects in the caller's scope, each rendered by ``view``;
    ``check`` runs first in the same read transaction (e.g. the parent object must exist)."""

    def work(tx: MoneyTx) -> dict[str, Any]:
        if check is not None:
            check(tx)
        got = tx.list_page(cls, caller.scope, limit=page.limit,
                           starting_after=page.starting_after, equals=equals)
        return page_payload(request.url.path, [view(item) for item in got.items], got.has_more)

    return read(request, work)
