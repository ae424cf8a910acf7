"""Drive a server with Debian's ``wrk`` (C, one thread): the load generator that stays out of the
way. A Lua script builds each request (a unique ``Idempotency-Key`` per request and thread) and
prints wrk's own summary as one JSON line that is parsed here."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from smilepay.errors import InvalidInput

SUMMARY_LUA = """
done = function(summary, latency, requests)
  local s = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"non2xx":%d,"connect":%d,"read":%d,'
    .. '"write":%d,"timeout":%d,"p50_us":%d,"p99_us":%d}\\n',
    summary.requests, summary.duration, s.status, s.connect, s.read, s.write, s.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""

THREAD_IDS_LUA = """
init = function(args)
  phase = args[1] or "run"
end
local next_thread = 0
setup = function(thread)
  thread:set("tid", next_thread)
  next_thread = next_thread + 1
end
"""


@dataclass
class WrkResult:
    """wrk's summary in the shape the payments benchmark reports."""

    ok: int
    errors: int
    elapsed_s: float
    p50_ms: float
    p99_ms: float
    statuses: dict[int, int] = field(default_factory=dict)

    def per_s(self) -> float:
        return self.ok / self.elapsed_s if self.elapsed_s else 0.0

    def percentile_ms(self, q: float) -> float:
        return self.p50_ms if q <= 0.5 else self.p99_ms


def wrk_path() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise InvalidInput("expected Debian's wrk on PATH (apt-get install wrk), got none")
    return found


def lua_string(value: str) -> str:
    """A Lua string literal (JSON's escaping is valid Lua for the ids and keys used here)."""
    return json.dumps(value)


def run_wrk(base_url: str, request_lua: str, *, concurrency: int, duration_s: float,
            warmup_s: float) -> WrkResult:
    """Warm up for ``warmup_s`` (discarded), then measure ``duration_s`` with one wrk thread."""
    script = THREAD_IDS_LUA + request_lua + SUMMARY_LUA
    with tempfile.TemporaryDirectory(prefix="smilepay-wrk-") as tmp:
        path = Path(tmp) / "bench.lua"
        path.write_text(script)
        if warmup_s > 0:
            _wrk(base_url, path, concurrency, warmup_s, tag="warmup")
        return _wrk(base_url, path, concurrency, duration_s, tag="measure")


def _wrk(base_url: str, script: Path, concurrency: int, duration_s: float, tag: str) -> WrkResult:
    cmd = [wrk_path(), "-t1", f"-c{concurrency}", f"-d{max(1, round(duration_s))}s",
           "--timeout", "30s", "-s", str(script), base_url]
    # the phase reaches the script's init(args): warm-up and measured keys never collide
    done = subprocess.run([*cmd, "--", tag], capture_output=True, text=True,  # noqa: S603
                          check=False, timeout=duration_s + 60)
    line = next((x for x in done.stdout.splitlines() if x.startswith("WRKJSON ")), None)
    if done.returncode != 0 or line is None:
        raise InvalidInput(f"expected wrk to report a summary, got rc={done.returncode}: "
                           f"{(done.stderr or done.stdout)[-500:]}")
    raw = json.loads(line.removeprefix("WRKJSON "))
    errors = raw["non2xx"] + raw["connect"] + raw["read"] + raw["write"] + raw["timeout"]
    return WrkResult(ok=raw["requests"] - raw["non2xx"], errors=errors,
                     elapsed_s=raw["duration_us"] / 1e6, p50_ms=raw["p50_us"] / 1000,
                     p99_ms=raw["p99_us"] / 1000, statuses={0: errors} if errors else {})


def json_post_lua(path: str, body_lua: str, headers: dict[str, str], run_id: str) -> str:
    """A ``request`` function posting ``body_lua`` (a Lua expression over ``n``, the request's
    number in its thread) with a unique ``Idempotency-Key`` per run, phase, thread and request."""
    header_items = "".join(f"[{lua_string(k)}]={lua_string(v)}," for k, v in headers.items())
    return f"""
local counter = 0
request = function()
  counter = counter + 1
  local n = counter
  local headers = {{{header_items}["Content-Type"]="application/json"}}
  headers["Idempotency-Key"] = {lua_string(run_id)} .. "-" .. phase .. "-" .. tid .. "-" .. n
  return wrk.format("POST", {lua_string(path)}, headers, {body_lua})
end
"""
