"""``smilepay bench propagation``: a change committed by one process is seen by another
process's next search, on the FAISS change log (SQLite) and on pgvector (PostgreSQL), well
within the 1 s of issue 12; a miniature run of the command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("adapter", ["faiss", "pgvector"])
def test_a_change_in_one_process_is_seen_by_another_within_a_second(
        adapter: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    args = ["--adapter", adapter, "--trials", "5", "--background", "100",
            "--json", str(tmp_path / "p.json")]
    if adapter == "pgvector":
        args += ["--postgres-url", request.getfixturevalue("postgres_url")]
    done = subprocess.run([sys.executable, "-m", "smilepay", "bench", "propagation", *args],
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    result = json.loads((tmp_path / "p.json").read_text())
    assert result["adapter"] == adapter and result["trials"] == 5
    assert result["missed"] == 0 and result["within_1s"] == 1.0, result
    for key in ("add_visible_ms", "remove_invisible_ms"):
        assert result[key]["max"] < 1000.0, result
    assert result["reader_searches_per_trial"] >= 1
    assert 0 < result["reader_search_ms"]["p50"] < 1000.0
