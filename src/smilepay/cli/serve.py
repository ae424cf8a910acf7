"""``smilepay serve``: the HTTP service on its embedded default (SQLite, models in process)."""

from __future__ import annotations

import socket

import typer

from smilepay.cli.apps import app
from smilepay.config import get_settings

DEFAULT_APP = "smilepay.api.app:create_app"


def run_server(app_path: str, host: str, port: int, workers: int, *, access_log: bool) -> None:
    """Run an ASGI app factory with uvicorn, one process or ``workers`` processes.

    With several workers, uvicorn's worker processes rebuild the listening socket without its
    protocol number, so asyncio does not switch Nagle's algorithm off on their connections and
    every keep-alive response waits for the client's delayed ACK (measured: 22 requests/s on one
    keep-alive connection instead of 930). TCP_NODELAY on the listening socket is inherited by
    every accepted connection on Linux, so it is set there.
    """
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    config = uvicorn.Config(app_path, factory=True, host=host, port=port, workers=workers,
                            log_level="info", access_log=access_log)
    if workers == 1:
        uvicorn.Server(config).run()
        return
    sock = config.bind_socket()
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    Multiprocess(config, sockets=[sock]).run()


@app.command("serve")
def serve(
    host: str = typer.Option(None, help="Bind address (default SMILEPAY_HOST or 127.0.0.1)."),
    port: int = typer.Option(None, help="Port (default SMILEPAY_PORT or 8000)."),
    workers: int = typer.Option(1, min=1, max=16, help="uvicorn worker processes."),
    access_log: bool = typer.Option(True, help="Log one line per request (never bodies)."),
    app_path: str = typer.Option(DEFAULT_APP, "--app", hidden=True,
                                 help="ASGI app factory (benchmarks serve their baseline app)."),
) -> None:
    """Run the API and pages."""
    settings = get_settings()
    run_server(app_path, host or settings.host, port or settings.port, workers,
               access_log=access_log)
