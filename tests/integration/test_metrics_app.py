"""``GET /metrics`` on the app, on SQLite and PostgreSQL: who may read it, request latency by
route template (never an id), face decisions and open sessions through the real face API,
outbox depth from the real outbox, a real FAISS gallery's size and lag, the shared session
store; and many apps in one process."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from facepay_support import FaceApp
from flow_support import build_flow_app, new_payment

pytestmark = pytest.mark.integration
TOKEN = secrets.token_urlsafe(32)
SCRAPE = {"Authorization": f"Bearer {TOKEN}"}
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(client: TestClient) -> Samples:
    answer = client.get("/metrics", headers=SCRAPE)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(answer.text) for s in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture(scope="module")
def app(money_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaceApp]:
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SMILEPAY_METRICS_TOKEN", TOKEN)
        env.setenv("SMILEPAY_WEBHOOKS_ALLOW_LOOPBACK", "true")
        from smilepay.config import get_settings

        get_settings.cache_clear()
        built = build_flow_app(money_url, tmp_path_factory.mktemp("metrics"))
    get_settings.cache_clear()
    yield built
    built.close()


def test_only_a_caller_with_the_token_reads_metrics(app: FaceApp) -> None:
    for headers in ({}, {"Authorization": "Bearer " + "x" * 43}, {"Authorization": TOKEN},
                    app.as_merchant()):
        refused = app.client.get("/metrics", headers=headers)
        assert refused.status_code == 401, headers
        assert refused.json()["error"]["code"] == "authentication_failed"
        assert "smilepay_" not in refused.text
    assert app.client.get("/metrics", headers=SCRAPE).status_code == 200
    assert "/metrics" not in app.client.get("/openapi.json").json()["paths"]


def test_without_a_token_there_is_no_metrics_route(
    app: FaceApp, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from smilepay.api.app import create_app
    from smilepay.errors import InvalidInput

    monkeypatch.delenv("SMILEPAY_METRICS_TOKEN", raising=False)
    closed = TestClient(create_app(app.container))
    hidden = closed.get("/metrics", headers={**SCRAPE, "Accept": "application/json"})
    unknown = closed.get("/no-such-page", headers={**SCRAPE, "Accept": "application/json"})
    assert hidden.status_code == unknown.status_code == 404
    assert hidden.json()["error"]["code"] == unknown.json()["error"]["code"]
    monkeypatch.setenv("SMILEPAY_METRICS_TOKEN", "short")
    with pytest.raises(InvalidInput, match="at least 32 characters, got 5"):
        create_app(app.container)


def test_requests_are_timed_by_route_template_and_status_class_never_by_id(
    app: FaceApp,
) -> None:
    route = "/v1/payment_intents/{payment_id}"
    before = scrape(app.client)
    missing = "pi_" + "7" * 24
    assert app.client.get(f"/v1/payment_intents/{missing}",
                          headers=app.as_merchant()).status_code == 404
    assert app.client.get(f"/v1/payment_intents/{missing}").status_code == 401  # the edge
    assert app.client.get(f"/v1/payment_intents/{missing}", headers=app.as_merchant()
                          ).status_code == 404
    assert app.client.get("/nowhere/" + missing).status_code == 404
    made = new_payment(app)
    after = scrape(app.client)
    count = "smilepay_http_request_duration_seconds_count"

    def grew(route: str, method: str, status: str) -> float:
        labels = {"method": method, "route": route, "status": status}
        return value(after, count, **labels) - value(before, count, **labels)

    assert grew(route, "GET", "4xx") == 3
    assert grew("unmatched", "GET", "4xx") == 1
    assert grew("/v1/payment_intents", "POST", "2xx") == 1
    text = app.client.get("/metrics", headers=SCRAPE).text
    assert missing not in text and made["id"] not in text and app.keys.tenant_id not in text
    assert value(after, "smilepay_http_request_duration_seconds_bucket", method="GET",
                 route=route, status="4xx", le="+Inf") == value(after, count, method="GET",
                                                                route=route, status="4xx")


def test_a_refused_face_payment_is_counted_and_its_session_seen_open(app: FaceApp) -> None:
    before = scrape(app.client)
    payment = new_payment(app)
    session = app.client.post("/v1/face/payments", json={"payment_intent": payment["id"]},
                              headers=app.as_terminal())
    assert session.status_code == 200, session.text
    opened = scrape(app.client)
    assert value(opened, "smilepay_face_sessions_open", purpose="pay") == value(
        before, "smilepay_face_sessions_open", purpose="pay") + 1
    confirm = app.client.post(f"/v1/face/payments/{session.json()['id']}/confirm",
                              json={"phone": "5678"}, headers=app.as_terminal())
    assert confirm.status_code == 200 and confirm.json()["reason"] == "challenge_not_passed"
    after = scrape(app.client)
    refused = {"kind": "pay", "outcome": "refused", "reason": "challenge_not_passed"}
    assert value(after, "smilepay_face_decisions_total", **refused) == value(
        before, "smilepay_face_decisions_total", **refused) + 1


def test_outbox_depth_is_counted_from_the_database(app: FaceApp) -> None:
    from sqlalchemy import func, select

    from smilepay.adapters.sql import schema
    from smilepay.adapters.sql.flow_store import SqlFlowStore
    from smilepay.domain.tenants import Scope
    from smilepay.services.notifications import dispatch_notifications
    from smilepay.services.webhook_delivery import deliver_due

    merchant, container = app.as_merchant(), app.container
    hook = app.client.post("/v1/webhook_endpoints", json={"url": "http://127.0.0.1:9/hooks"},
                           headers=merchant)  # nothing listens on port 9: every try fails
    assert hook.status_code == 200, hook.text
    before = scrape(app.client)
    cus = app.client.post("/v1/customers", json={"phone": "+4915100000471"},
                          headers=merchant).json()
    top = app.client.post(f"/v1/customers/{cus['id']}/topups",
                          json={"amount_minor": 5000, "currency": "eur"}, headers=merchant)
    assert top.status_code == 200, top.text
    SqlFlowStore(container.store.engine).grant_mandate(Scope(app.keys.tenant_id, False),
                                                       cus["id"], 0)
    paid = app.client.post("/v1/payment_intents", json={
        "amount_minor": 1250, "currency": "EUR", "customer": cus["id"], "confirm": True},
        headers={**merchant, "Idempotency-Key": f"metrics-{cus['id']}"})
    assert paid.status_code == 200 and paid.json()["status"] == "succeeded", paid.text
    t = schema.webhook_deliveries
    with container.store.engine.connect() as conn:
        queued_rows = conn.execute(select(func.count()).select_from(t).where(
            t.c.endpoint_id == hook.json()["id"])).scalar_one()
    assert queued_rows >= 2  # customer created, payment succeeded, ...
    queued = scrape(app.client)
    name, unsent = "smilepay_outbox_webhook_deliveries", "smilepay_outbox_notifications_unsent"
    for state in ("due", "pending"):
        assert value(queued, name, state=state) - value(before, name, state=state) == queued_rows
    assert value(queued, unsent) - value(before, unsent) >= 1  # the receipt

    tried = deliver_due(container.store, container.webhook_sender, container.ctx.clock)
    sent = dispatch_notifications(container.store, container.notifier, container.ctx.phones,
                                  container.ctx.clock)
    after = scrape(app.client)
    assert tried >= queued_rows and sent >= 1
    assert value(after, name, state="due") == 0  # tried and failed: waiting for a retry
    assert value(after, name, state="pending") == value(queued, name, state="pending")
    assert value(after, name, state="failed") == value(before, name, state="failed")
    assert value(after, unsent) == 0


def enrol_template(engine: Any, keys: Any, gallery: Any, scope: Any, template_id: str) -> None:
    """What enrolment stores: the sealed template row, and the vector in the gallery."""
    from datetime import UTC, datetime

    from smilepay.adapters.sql.identity_store import SqlIdentityStore
    from smilepay.domain.templates import SealedTemplate, pack_vector
    from smilepay.ports.gallery import GalleryEntry

    vector = np.random.default_rng(7).normal(size=64).astype(np.float32)
    vector /= np.linalg.norm(vector)
    SqlIdentityStore(engine).add_template(SealedTemplate(
        template_id, scope.tenant_id, scope.livemode, "cus_metrics", "m1", 1, 64, 0.9,
        datetime.now(UTC), keys.seal(pack_vector(vector), template_id.encode())))
    gallery.add([GalleryEntry(template_id, scope, "cus_metrics", "m1", vector)])


def test_a_gallery_worker_reports_its_size_and_lag(app: FaceApp) -> None:
    """The registration the gallery wiring makes, on a real FAISS gallery: a second instance
    (another worker) enrols; the watched one is behind by one change until it samples."""
    from smilepay.adapters.crypto import AesGcmKeyRing
    from smilepay.adapters.gallery.faiss_gallery import FaissGallery
    from smilepay.adapters.sql.identity_store import SqlIdentityStore
    from smilepay.domain.tenants import Scope
    from smilepay.instruments import watch_gallery
    from smilepay.services.face_index import enrolled_scopes

    engine, keys = app.container.store.engine, AesGcmKeyRing.generate()
    mine, other = FaissGallery(engine, keys), FaissGallery(engine, keys)
    identity = SqlIdentityStore(engine)
    watch = watch_gallery(mine, lambda: enrolled_scopes(identity))
    try:
        labels = {"gallery": "faiss"}
        start = scrape(app.client)
        held = value(start, "smilepay_gallery_templates", **labels)
        assert value(start, "smilepay_gallery_lag_changes", **labels) == 0
        scope = Scope(app.keys.tenant_id, False)
        enrol_template(engine, keys, other, scope, f"ftpl_m{time.time_ns()}")
        assert scope in enrolled_scopes(identity)
        assert Scope(app.keys.tenant_id, True) not in enrolled_scopes(identity)  # none enrolled
        later = scrape(app.client)
        assert value(later, "smilepay_gallery_lag_changes", **labels) == 1
        assert value(later, "smilepay_gallery_templates", **labels) == held + 1
        assert mine.applied() == other.head()  # the sample caught this worker up
    finally:
        watch.close()


def test_the_shared_session_store_is_counted_by_kind(app: FaceApp) -> None:
    from smilepay.adapters.sessions.sql_sessions import SqlSessionStore
    from smilepay.instruments import unwatch_sessions, watch_sessions

    store = SqlSessionStore(app.container.store.engine)
    watch_sessions(store)
    try:
        before = scrape(app.client)
        key = f"ch_{time.time_ns()}"
        store.put("frames", key, {"frames": 3}, ttl_s=60)
        store.put("enrol", key, {"good": 1}, ttl_s=60)
        after = scrape(app.client)
        name = "smilepay_session_store_entries"
        for kind in ("frames", "enrol"):
            assert value(after, name, kind=kind) == value(before, name, kind=kind) + 1
        assert value(after, name, kind="challenge") == value(before, name, kind="challenge")
    finally:
        unwatch_sessions(store)
    assert "smilepay_session_store_entries" not in app.client.get("/metrics",
                                                                 headers=SCRAPE).text


def test_many_apps_in_one_process_each_serve_metrics(app: FaceApp) -> None:
    from smilepay.api.app import create_app

    with pytest.MonkeyPatch.context() as env:
        env.setenv("SMILEPAY_METRICS_TOKEN", TOKEN)
        clients = [TestClient(create_app(app.container)) for _ in range(3)]
    for client in clients:
        assert client.get("/health").status_code == 200
        assert value(scrape(client), "smilepay_workers") == 1
