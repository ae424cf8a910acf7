"""``GET /metrics``: Prometheus text format, for operators only (docs/operations.md).

Who may read it: nobody until ``SMILEPAY_METRICS_TOKEN`` is set (no route: ``/metrics``
answers like any unknown path); then only a caller sending ``Authorization: Bearer <that
token>`` (401 otherwise; a token under 32 characters stops the app from starting). Labels
never hold an id, a path, an amount or a tenant: routes are templates, statuses are classes,
reasons are capped codes (``smilepay.instruments``). The edge middleware leaves the route alone
(it is outside ``/v1`` and outside the OpenAPI document), so the token is checked here.

What a scrape reports:

- recorded by the processes (one file per worker under ``PROMETHEUS_MULTIPROC_DIR`` when
  ``smilepay serve --workers N`` runs several, summed by the scraped worker): request latency
  by method, route template and status class; face decisions; each worker's gallery size and
  lag; the number of live workers;
- counted from the database when scraped (the same for every worker): the outbox depth, open
  face sessions, and the entries of the shared session store once one is registered.
"""

from __future__ import annotations

import logging
import re
import secrets
import struct
import time
from collections.abc import Iterable
from pathlib import Path

from fastapi import FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from pydantic_settings import BaseSettings, SettingsConfigDict
from starlette.routing import Match

from smilepay import instruments
from smilepay.api.edge import ASGIApp, Message, Receive, Scope, Send
from smilepay.errors import InvalidInput

log = logging.getLogger("smilepay.metrics")
MIN_TOKEN_CHARS = 32
METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

REQUESTS = Histogram(
    "smilepay_http_request_duration_seconds", "HTTP request latency, from the first byte in to "
    "the last byte out, by method, route template and status class",
    ["method", "route", "status"], buckets=BUCKETS, registry=None)


class MetricsSettings(BaseSettings):
    """``SMILEPAY_METRICS_TOKEN``: the bearer token ``/metrics`` asks for (unset: no /metrics)."""

    model_config = SettingsConfigDict(env_prefix="SMILEPAY_METRICS_", extra="ignore")

    token: str = ""


def _template_regex(path: str) -> re.Pattern[str]:
    parts = re.split(r"\{[^}]+\}", path)
    return re.compile("^" + "[^/]+".join(re.escape(part) for part in parts) + "$")


def route_of(scope: Scope, app: FastAPI, documented: list[tuple[re.Pattern[str], str]]) -> str:
    """The route template (``/v1/payment_intents/{payment_id}``), never the raw path. Routing
    leaves the route in the scope; a request the edge answered first (401, 413) is matched
    against the OpenAPI document's templates, then against the app's own routes (mounts)."""
    path = getattr(scope.get("route"), "path", None)
    if isinstance(path, str) and path:
        return path
    for pattern, template in documented:
        if pattern.match(scope["path"]):
            return template
    for route in app.router.routes:
        path = getattr(route, "path", None)
        if isinstance(path, str) and path and route.matches(scope)[0] is not Match.NONE:
            return path
    return "unmatched"


class MetricsMiddleware:
    """Times every HTTP request (outermost, so the edge's refusals count too)."""

    def __init__(self, app: ASGIApp, fastapi_app: FastAPI) -> None:
        self.app = app
        self.fastapi_app = fastapi_app
        self._documented: list[tuple[re.Pattern[str], str]] | None = None

    def _route(self, scope: Scope) -> str:
        if self._documented is None:
            self._documented = [(_template_regex(path), path)
                                for path in self.fastapi_app.openapi().get("paths", {})]
        return route_of(scope, self.fastapi_app, self._documented)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            method = scope["method"] if scope["method"] in METHODS else "other"
            try:
                REQUESTS.labels(method, self._route(scope),
                                f"{status // 100}xx").observe(time.perf_counter() - started)
            except Exception as exc:  # a metric never fails the request it measures
                instruments.recording_failed(exc)


class DatabaseCollector(Collector):
    """Gauges counted from the database at scrape time (``adapters.sql.metric_counts``)."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self._purposes = instruments.LabelCap(16)

    def collect(self) -> Iterable[Metric]:
        from smilepay.adapters.sql.metric_counts import open_face_sessions, outbox_depth

        container = self.app.state.container
        engine, now_ms = container.store.engine, container.ctx.clock.now_ms()
        try:
            depth = outbox_depth(engine, now_ms)
            sessions = open_face_sessions(engine, now_ms)
        except Exception as exc:  # a scrape answers what it can; the log says why
            log.warning("database counts for /metrics failed: %s", type(exc).__name__)
            return
        webhooks = GaugeMetricFamily(
            "smilepay_outbox_webhook_deliveries", "Webhook deliveries not delivered, by state: "
            "due (pending, due now), pending (due or waiting to retry), failed (gave up)",
            labels=["state"])
        for state, value in (("due", depth.webhooks_due), ("pending", depth.webhooks_pending),
                             ("failed", depth.webhooks_failed)):
            webhooks.add_metric([state], value)
        yield webhooks
        yield GaugeMetricFamily("smilepay_outbox_notifications_unsent",
                                "Customer notifications not sent yet",
                                value=depth.notifications_unsent)
        opened = GaugeMetricFamily("smilepay_face_sessions_open", "Face challenges collecting "
                                   "frames and not expired, by purpose (pay, enrol, ...)",
                                   labels=["purpose"])
        capped: dict[str, int] = {}
        for purpose, count in sorted(sessions.items()):
            label = self._purposes(purpose)
            capped[label] = capped.get(label, 0) + count
        for label, count in capped.items():
            opened.add_metric([label], count)
        yield opened
        yield from self._session_store()

    def _session_store(self) -> Iterable[Metric]:
        stores = instruments.session_stores()
        if not stores:
            return
        from smilepay.ports.sessions import KINDS

        family = GaugeMetricFamily("smilepay_session_store_entries", "Live (unexpired) "
                                   "entries of the shared session store, by kind",
                                   labels=["kind"])
        try:
            counts = {kind: sum(store.count(kind) for store in stores)
                      for kind in sorted(KINDS)}
        except Exception as exc:
            log.warning("session store counts for /metrics failed: %s", type(exc).__name__)
            return
        for kind, count in counts.items():
            family.add_metric([kind], count)
        yield family


class WorkerFiles(Collector):
    """Every worker's values from ``PROMETHEUS_MULTIPROC_DIR`` (``MultiProcessCollector``),
    safe against the files' life cycle: a worker creates its file empty and sizes it a moment
    later (reading it then raised ``struct.error``: a 500 in about 1 of 10 runs of the two-
    worker test), and ``mark_process_dead`` deletes files while another worker reads."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def collect(self) -> Iterable[Metric]:
        from prometheus_client.multiprocess import MultiProcessCollector

        for attempt in range(3):
            files = []
            for found in self.path.glob("*.db"):
                try:
                    if found.stat().st_size >= 8:  # the header: bytes used, padding
                        files.append(str(found))
                except OSError:
                    continue  # deleted since listed
            try:
                merge = MultiProcessCollector.merge
                return list(merge(files, accumulate=True))  # type: ignore[no-untyped-call]
            except (OSError, struct.error, RuntimeError) as exc:
                if attempt == 2:
                    log.warning("worker metric files unreadable: %s", type(exc).__name__)
                time.sleep(0.01)
        return []


def _registry(app: FastAPI) -> CollectorRegistry:
    """The registry one scrape reads: every worker's files with several workers, else this
    app's own registry of the process's instruments."""
    path = instruments.multiprocess_dir()
    if path is None:
        found: CollectorRegistry = app.state.metrics_registry
        return found
    registry = CollectorRegistry()
    registry.register(WorkerFiles(path))
    registry.register(DatabaseCollector(app))
    return registry


def metrics_token() -> str:
    token = MetricsSettings().token
    if token and len(token) < MIN_TOKEN_CHARS:
        raise InvalidInput(f"expected SMILEPAY_METRICS_TOKEN of at least {MIN_TOKEN_CHARS} "
                           f"characters, got {len(token)}")
    return token


def install_metrics(app: FastAPI) -> None:
    """Time every request and serve ``/metrics`` (call once, from ``create_app``)."""
    token = metrics_token()
    if instruments.multiprocess_dir() is None:
        registry = CollectorRegistry()
        for collector in (REQUESTS, instruments.DECISIONS, instruments.GALLERY_TEMPLATES,
                          instruments.GALLERY_LAG, instruments.WORKERS, DatabaseCollector(app)):
            registry.register(collector)
        app.state.metrics_registry = registry
    instruments.WORKERS.set(1)
    app.add_middleware(MetricsMiddleware, fastapi_app=app)

    if not token:
        return  # no route: /metrics answers like any unknown path

    def metrics(request: Request) -> Response:
        from smilepay.domain.money_errors import AuthenticationFailed

        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not secrets.compare_digest(
                given.strip().encode(), token.encode()):
            raise AuthenticationFailed("expected Authorization: Bearer <SMILEPAY_METRICS_TOKEN>, "
                                       "got none or another token")
        instruments.refresh_watches()
        return Response(generate_latest(_registry(app)), media_type=CONTENT_TYPE_LATEST,
                        headers={"Cache-Control": "no-store"})

    app.add_api_route("/metrics", metrics, methods=["GET"], include_in_schema=False)
