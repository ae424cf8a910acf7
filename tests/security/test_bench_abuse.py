"""Issue 11, point 6: ``smilepay bench abuse`` against a real ``smilepay serve`` (models
warmed): hostile uploads at once are all refused (400/401/413, never a 5xx or a hang) and the
server's peak memory stays under 600 MB above rest. The old server took 2.1 GB for three PNGs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from smilepay.config import get_settings
from smilepay.modelstore import load_lock
from support import require

pytestmark = pytest.mark.integration


def test_hostile_uploads_at_once_stay_under_the_memory_goal(tmp_path: Path) -> None:
    require((get_settings().model_dir / load_lock()["yunet"].filename).is_file(),
            "the face detector model (smilepay models fetch)")
    out = tmp_path / "abuse.json"
    run = subprocess.run([sys.executable, "-m", "smilepay", "bench", "abuse", "--uploads", "20",
                          "--out", str(out)], capture_output=True, text=True, timeout=540,
                         check=False)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["uploads"] == 20 and report["met"] is True
    assert report["peak_above_rest_mb"] < 600
    expected = {"png_bomb_check": [400], "png_bomb_frame": [400], "body_50mb_no_key": [401],
                "body_50mb_keyed": [413], "jpeg_12_bytes": [400]}
    assert {row["kind"]: row["statuses"] for row in report["kinds"]} == expected
    assert "smilepay bench abuse" in run.stdout
