"""``smilepay serve --workers 2``: both workers get connections, and SIGTERM stops them all."""

from __future__ import annotations

import collections
import http.client
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from smilepay.cli._served import free_port
from support import require

pytestmark = pytest.mark.integration


def connections_by_pid(port: int) -> collections.Counter[str]:
    out = subprocess.run(["ss", "-tnpH", "state", "established", f"( sport = :{port} )"],
                         capture_output=True, text=True, check=True).stdout
    return collections.Counter(re.findall(r"pid=(\d+)", out))


def test_two_workers_share_a_burst_of_connections_and_stop_on_sigterm(tmp_path: Path) -> None:
    require(shutil.which("ss") is not None, "ss (iproute2) to list connections")
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "smilepay", "serve", "--app",
         "smilepay.cli._bench_payments_bare:create_bare_app", "--host", "127.0.0.1",
         "--port", str(port), "--workers", "2", "--no-access-log"],
        env={**os.environ, "SMILEPAY_BENCH_DATABASE_URL": f"sqlite:///{tmp_path / 'b.db'}"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                probe = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                probe.request("GET", "/health")
                if probe.getresponse().status == 200:
                    probe.close()
                    break
            except OSError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, "server did not start"
            time.sleep(0.2)
        time.sleep(1.0)  # both workers listening
        clients = [http.client.HTTPConnection("127.0.0.1", port, timeout=5) for _ in range(16)]
        for client in clients:
            client.connect()  # a burst, as a load generator opens them
        for client in clients:
            client.request("GET", "/health")
            assert client.getresponse().read() == b'{"status":"ok"}'
        spread = connections_by_pid(port)
        assert len(spread) == 2 and min(spread.values()) >= 2, spread
        for client in clients:
            client.close()
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
