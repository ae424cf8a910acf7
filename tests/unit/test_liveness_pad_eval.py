"""PAD set discovery, leave-one-source-out training and the per-source summary."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from smilepay.errors import InvalidInput
from smilepay.vision.liveness.dataset import Presentation, find_presentations
from smilepay.vision.liveness.loso import leave_one_source_out
from smilepay.vision.liveness.pad_eval import summarise


def write(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.zeros((8, 8, 3), np.uint8))


def test_sources_and_species_are_found(tmp_path: Path) -> None:
    write(tmp_path / "a" / "live" / "1.png")
    write(tmp_path / "a" / "spoof" / "1.png")
    write(tmp_path / "b" / "live" / "x.jpg")
    write(tmp_path / "b" / "spoof" / "print" / "p.jpg")
    write(tmp_path / "b" / "spoof" / "screen" / "s.jpg")
    (tmp_path / "b" / "spoof" / "notes.txt").write_text("ignored")
    found = find_presentations(tmp_path)
    assert len(found) == 5
    assert {p.species for p in found if not p.bona_fide} == {"attack", "print", "screen"}
    assert {p.source for p in found} == {"a", "b"}
    assert len(find_presentations(tmp_path / "a")) == 2
    assert len(find_presentations(tmp_path, only=("b",))) == 3
    with pytest.raises(InvalidInput):
        find_presentations(tmp_path / "a" / "live")


def test_loso_never_sees_the_held_out_source() -> None:
    rng = np.random.default_rng(0)
    # Source "a": feature 0 separates; source "b": the sign flips. A model trained on "a"
    # must fail on "b": that is what leave-one-source-out is there to show.
    live = np.r_[np.ones(50), np.zeros(50), np.ones(50), np.zeros(50)].astype(bool)
    x = rng.normal(0, 0.3, (200, 2))
    x[:100, 0] += np.where(live[:100], 2.0, 0.0)
    x[100:, 0] += np.where(live[100:], 0.0, 2.0)
    sources = ["a"] * 100 + ["b"] * 100
    held_out = leave_one_source_out(x, live, sources)
    a, b = held_out[:100], held_out[100:]
    assert np.mean(a[live[:100]]) < np.mean(a[~live[:100]])  # trained on b, reversed on a
    assert np.mean(b[live[100:]]) < np.mean(b[~live[100:]])
    with pytest.raises(InvalidInput):
        leave_one_source_out(x, live, ["a"] * 200)


def test_summary_has_rows_per_source_and_pooled() -> None:
    pres = [Presentation(Path(f"{i}.png"), s, live, "" if live else "attack")
            for i, (s, live) in enumerate([("a", True), ("a", False), ("b", True), ("b", False)])]
    rows = summarise("x", np.array([0.9, 0.1, 0.8, 0.2]), pres, trained=False)
    assert [r.source for r in rows] == ["a", "b", "pooled"]
    assert all(r.auc == 1.0 for r in rows)


def test_summary_reports_the_worst_attack_species() -> None:
    kinds = [(True, ""), (True, ""), (False, "print"), (False, "print"), (False, "screen"),
             (False, "screen")]
    pres = [Presentation(Path(f"{i}.png"), "a", live, sp) for i, (live, sp) in enumerate(kinds)]
    rows = summarise("x", np.array([0.9, 0.8, 0.1, 0.2, 0.85, 0.95]), pres, trained=False)
    assert len(rows) == 1 and rows[0].worst_species == "screen"
    assert rows[0].apcer_at_bpcer5 == 1.0  # every screen attack passes the BPCER-5% threshold
