"""``smilepay serve``: the HTTP service on its embedded default (SQLite, models in process)."""

from __future__ import annotations

import typer

from smilepay.cli.apps import app
from smilepay.config import get_settings


@app.command("serve")
def serve(
    host: str = typer.Option(None, help="Bind address (default SMILEPAY_HOST or 127.0.0.1)."),
    port: int = typer.Option(None, help="Port (default SMILEPAY_PORT or 8000)."),
    workers: int = typer.Option(1, min=1, max=16, help="uvicorn worker processes."),
) -> None:
    """Run the API and pages."""
    import uvicorn

    settings = get_settings()
    uvicorn.run(
        "smilepay.api.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        log_level="info",
    )
