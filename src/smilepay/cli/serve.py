"""``smilepay serve``: the HTTP service on its embedded default (SQLite, models in process)."""

from __future__ import annotations

import logging
import multiprocessing
import signal
import socket
import threading

import typer

from smilepay.cli.apps import app
from smilepay.config import get_settings
from smilepay.instruments import (
    prepare_multiprocess_dir,
    release_multiprocess_dir,
    worker_exited,
)

DEFAULT_APP = "smilepay.api.app:create_served_app"  # warms the models; /ready says when
log = logging.getLogger("smilepay.serve")


def run_server(app_path: str, host: str, port: int, workers: int, *, access_log: bool) -> None:
    """Run an ASGI app factory with uvicorn, in one process or in ``workers`` processes.

    Several workers each listen on their own socket bound with ``SO_REUSEPORT``, so the kernel
    spreads new connections over them. With uvicorn's own multi-process mode all workers share
    one socket and the first to wake accepts a whole burst: all 32 connections of a load test
    were measured on one worker while the other idled.
    """
    if workers == 1:
        _serve_one(app_path, host, port, access_log, reuse_port=False)
        return
    # Holding a bound socket reserves the port for this server's workers (and fails fast
    # when something else listens there); only the workers' listening sockets get connections.
    reserved = _bound_socket(host, port, reuse_port=True)
    metrics_dir = prepare_multiprocess_dir(get_settings().var_dir, port)  # /metrics: all workers
    spawn = multiprocessing.get_context("spawn")
    processes = [spawn.Process(target=_serve_one, args=(app_path, host, port, access_log),
                               kwargs={"reuse_port": True}, daemon=False)
                 for _ in range(workers)]
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    for process in processes:
        process.start()
    try:
        while not stop.wait(0.5):
            if any(not p.is_alive() for p in processes):
                log.error("a worker exited; stopping the others")
                break
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()  # uvicorn shuts down gracefully on SIGTERM
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
            worker_exited(process.pid, metrics_dir)
        release_multiprocess_dir(metrics_dir)
        reserved.close()


def _bound_socket(host: str, port: int, *, reuse_port: bool) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    # Inherited by every accepted connection on Linux: no Nagle delay on keep-alive responses
    # (without it a response waited for the client's delayed ACK: 22 requests/s instead of 930).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise SystemExit(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    return sock


def _serve_one(app_path: str, host: str, port: int, access_log: bool, *,
               reuse_port: bool) -> None:
    import uvicorn

    config = uvicorn.Config(app_path, factory=True, host=host, port=port, log_level="info",
                            access_log=access_log)
    sock = _bound_socket(host, port, reuse_port=reuse_port)
    sock.listen(config.backlog)
    uvicorn.Server(config).run(sockets=[sock])


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
