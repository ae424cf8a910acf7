"""The FastAPI application factory.

Routers come from ONE list, ``ROUTER_MODULES``: each names a module of this package that
exposes ``router``; modules not present yet are skipped, so areas can add their routes
(``routes_face``, ``routes_pages``) without editing this file. Reusable pieces for every
router: ``api.auth`` (``require_secret_key``, ``require_terminal_key``, ``container_of``),
``api.errors`` (the error table), ``api.mutation`` (idempotent mutations).
"""

from __future__ import annotations

import importlib
import importlib.util
import threading

from fastapi import APIRouter, Depends, FastAPI

from smilepay import __version__
from smilepay.api.edge import EdgeMiddleware
from smilepay.api.errors import install_error_handlers
from smilepay.api.metrics import install_metrics
from smilepay.api.openapi_spec import install_openapi
from smilepay.api.routes_pages import install_not_found_page
from smilepay.api.schemas import check_path_ids
from smilepay.bootstrap import Container, build_container
from smilepay.logredact import install_log_redaction

ROUTER_MODULES: tuple[str, ...] = (
    "routes_customers",
    "routes_payments",
    "routes_merchant",
    "routes_face",
    "routes_wallet",
    "routes_ops",
    "routes_meta",
    "routes_store",
    "routes_pages",
    "routes_identity",
)


def routers() -> list[APIRouter]:
    found = []
    for name in ROUTER_MODULES:
        module_name = f"{__package__}.{name}"
        if importlib.util.find_spec(module_name) is None:
            continue
        router = importlib.import_module(module_name).router
        if not isinstance(router, APIRouter):
            raise TypeError(f"expected {module_name}.router to be an APIRouter, got {router!r}")
        found.append(router)
    return found


def create_served_app() -> FastAPI:
    """The app ``smilepay serve`` runs in each worker: it warms the face models as it starts
    (``/ready`` answers 503 until then) and runs the money core's housekeeping."""
    return create_app(warm_models=True, housekeeping_s=5.0)


def create_app(container: Container | None = None, *, warm_models: bool = False,
               housekeeping_s: float | None = None) -> FastAPI:
    """The app on ``container`` (built from settings, migrating the database, when None);
    ``warm_models``: load every model now, in the background; ``housekeeping_s``: expire holds
    and unpaid payments that often (see ``services.housekeeping``)."""
    # /docs and /redoc are served by routes_meta from local assets (no CDN)
    app = FastAPI(title="SmilePay", version=__version__, docs_url=None, redoc_url=None)
    app.state.container = container or build_container()
    install_error_handlers(app)
    install_log_redaction()  # secrets, names, phone hashes never reach a log line
    app.add_middleware(EdgeMiddleware, fastapi_app=app)  # key first, bodies capped: api.edge
    install_metrics(app)  # outside the edge: every request timed; GET /metrics (api.metrics)
    install_openapi(app)  # 400 not 422; 401/403/404/409/413 and the id pattern declared

    @app.get("/health", tags=["ops"])
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    for router in routers():
        api = router.prefix.startswith("/v1")  # every path parameter of the API is an id
        app.include_router(router, dependencies=[Depends(check_path_ids)] if api else None)
    install_not_found_page(app)  # unknown page URLs: HTML for browsers, JSON for the API
    if warm_models:
        from smilepay.api.routes_ops import start_warm_up

        start_warm_up(app.state.container)
    if housekeeping_s:
        from smilepay.services.housekeeping import run_every

        served = app.state.container
        run_every(served.store, served.ctx, housekeeping_s, threading.Event())
    return app
