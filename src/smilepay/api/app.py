"""The FastAPI application factory."""

from __future__ import annotations

from fastapi import FastAPI

from smilepay import __version__


def create_app() -> FastAPI:
    app = FastAPI(title="SmilePay", version=__version__, docs_url="/docs")

    @app.get("/health", tags=["ops"])
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    return app
