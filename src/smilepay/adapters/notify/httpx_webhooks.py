"""``HttpxWebhookSender``: POSTs signed webhook bodies; never raises on network trouble."""

from __future__ import annotations

import time

import httpx

from smilepay.ports.notify import WebhookResponse


class HttpxWebhookSender:
    def __init__(self, client: httpx.Client | None = None) -> None:
        self.client = client or httpx.Client(follow_redirects=False)

    def post(
        self, url: str, headers: dict[str, str], body: bytes, timeout_s: float
    ) -> WebhookResponse:
        start = time.perf_counter()
        try:
            response = self.client.post(url, content=body, headers=headers, timeout=timeout_s)
            status, error = response.status_code, None
        except httpx.HTTPError as exc:
            status, error = None, f"{type(exc).__name__}: {str(exc)[:200]}"
        return WebhookResponse(status, error, int((time.perf_counter() - start) * 1000))

    def close(self) -> None:
        self.client.close()
