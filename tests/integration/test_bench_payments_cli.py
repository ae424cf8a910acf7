"""``smilepay bench payments`` end to end, in miniature: both engines, two rounds, one second
each, real servers and the real load generator (Debian's wrk)."""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

from support import require

pytestmark = pytest.mark.integration


def test_bench_payments_reports_every_round_and_the_median_ratio(
    postgres_url: str, tmp_path: Path,
) -> None:
    require(shutil.which("wrk") is not None, "Debian's wrk (make system)")
    out = tmp_path / "payments.json"
    done = subprocess.run(
        [sys.executable, "-m", "smilepay", "bench", "payments", "--engine", "both",
         "--duration-s", "1", "--warmup-s", "0", "--customers", "5", "--rounds", "2",
         "--postgres-url", postgres_url, "--json", str(out)],
        capture_output=True, text=True, timeout=300, env={**os.environ, "COLUMNS": "200"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(out.read_text())
    rows = report["results"]
    assert [(r["engine"], r["round"], r["app"]) for r in rows] == [
        (engine, round_no, app) for engine in ("sqlite", "postgres") for round_no in (1, 2)
        for app in ("payments_api", "bare_insert")]
    assert all(r["ok"] > 0 and r["errors"] == 0 for r in rows)  # every answer a 2xx
    for engine in ("sqlite", "postgres"):
        ratios = [r["ratio_to_bare"] for r in rows
                  if r["engine"] == engine and r["app"] == "payments_api"]
        assert all(ratio > 0 for ratio in ratios)
        assert report["summary"][engine] == {
            "ratios": ratios, "median_ratio": round(statistics.median(ratios), 3)}
        assert f"{engine}: median ratio" in done.stdout
    assert report["args"]["postgres_url"] == "(redacted)"
