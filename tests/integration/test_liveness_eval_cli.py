"""``smilepay eval pad`` on real media: crops and videos, JSON with per-source and pooled rows."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from support import require

pytestmark = pytest.mark.integration


def test_eval_pad_on_crops_and_videos(data_dir: Path, tmp_path: Path) -> None:
    videos = data_dir / "video"
    crops = data_dir / "pad_alexcamargo"
    require(videos.is_dir() and crops.is_dir(), "videos and pad_alexcamargo in the data")
    for label, src in (("live", videos / "bona_fide" / "apfol_webcam_real.webm"),
                       ("spoof", videos / "replay_attack" / "apfol_phone_replay.webm")):
        (tmp_path / "data" / "clips" / label).mkdir(parents=True)
        (tmp_path / "data" / "clips" / label / src.name).symlink_to(src)
    for label in ("live", "spoof"):
        target = tmp_path / "data" / "crops" / label
        target.mkdir(parents=True)
        for path in sorted((crops / label).glob("*.png"))[:6]:
            shutil.copy(path, target / path.name)

    import smilepay.cli.eval_pad  # noqa: F401  (registers the eval and bench commands)
    from smilepay.cli.apps import app

    out = tmp_path / "pad.json"
    det = tmp_path / "det.png"
    result = CliRunner().invoke(app, ["eval", "pad", "--data", str(tmp_path / "data"),
                                      "--video-frames", "3", "--json", str(out),
                                      "--det", str(det)])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["presentations"] == 14
    rows = {(r["scorer"], r["source"]): r for r in report["results"]}
    assert rows[("fr_liveness", "clips")]["bona_fide"] == 1
    assert rows[("fr_liveness", "crops")]["attacks"] == 6
    assert rows[("fr_liveness", "pooled")]["bona_fide"] == 7
    assert ("lr(all) LOSO", "pooled") in rows  # two sources: trained leave-one-source-out
    assert all(0.0 <= r["auc"] <= 1.0 for r in report["results"])
    assert det.stat().st_size > 10_000
