"""``HttpxWebhookSender``: POSTs signed webhook bodies; never raises on network trouble.

Every post resolves the host, refuses it unless every address is public
(``webhook_targets.TargetPolicy``), and connects to the address it checked (the URL's name
kept for ``Host`` and TLS), so DNS rebinding cannot turn a delivery inward. Redirects are not
followed. A refused target is recorded as an error without a status code and nothing is sent.
"""

from __future__ import annotations

import time

import httpx

from smilepay.ports.notify import WebhookResponse
from smilepay.webhook_targets import TargetPolicy, WebhookTargetRefused, parse_target


class HttpxWebhookSender:
    def __init__(self, client: httpx.Client | None = None,
                 policy: TargetPolicy | None = None) -> None:
        self.client = client or httpx.Client(follow_redirects=False)
        self.policy = policy or TargetPolicy()

    def post(
        self, url: str, headers: dict[str, str], body: bytes, timeout_s: float,
        *, livemode: bool = True,
    ) -> WebhookResponse:
        start = time.perf_counter()
        try:
            target = parse_target(url)
            address = self.policy.resolve_allowed(target, livemode)[0]
        except WebhookTargetRefused as exc:
            return WebhookResponse(None, f"target_refused: {exc.message}", 0)
        except OSError:
            return WebhookResponse(None, "ConnectError: the host name does not resolve", 0)
        pinned = httpx.URL(url).copy_with(host=address)
        host_header = target.host if target.port in (80, 443) else f"{target.host}:{target.port}"
        extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
        try:
            response = self.client.post(pinned, content=body,
                                        headers={**headers, "Host": host_header},
                                        timeout=timeout_s, extensions=extensions)
            status, error = response.status_code, None
        except httpx.HTTPError as exc:
            status, error = None, type(exc).__name__
        return WebhookResponse(status, error, int((time.perf_counter() - start) * 1000))

    def close(self) -> None:
        self.client.close()
