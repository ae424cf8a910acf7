"""The whole per-frame pipeline on a real webcam clip: one face, signals, a stable embedding."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from smilepay.adapters.models.pipeline_factory import load_pipeline
from smilepay.config import get_settings
from smilepay.modelstore import load_lock
from smilepay.vision.compare import similarity
from smilepay.vision.pipeline import require_quality
from support import require

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def pipeline():
    from smilepay.adapters.models.strategies import configured_strategy, strategy_spec

    names = {"yunet", "face_landmarker"} | {
        m.split("+")[0] for m, _ in strategy_spec(configured_strategy()).members}
    for name in sorted(names):
        require((get_settings().model_dir / load_lock()[name].filename).is_file(),
                f"model {name} (run `make models`)")
    engine = load_pipeline()
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def frames(data_dir: Path):
    import cv2

    video = data_dir / "video" / "bona_fide" / "apfol_webcam_real.webm"
    require(video.is_file(), f"video {video}")
    capture = cv2.VideoCapture(str(video))
    out = []
    index = 0
    while len(out) < 12:
        ok, frame = capture.read()
        if not ok:
            break
        if index % 25 == 0:
            out.append(cv2.resize(frame, (640, 480), interpolation=cv2.INTER_AREA))
        index += 1
    capture.release()
    assert len(out) >= 8
    return out


def test_every_frame_gives_one_paying_face_with_signals_and_embedding(pipeline, frames):
    for frame in frames:
        analysis = pipeline.analyze_frame(frame)
        assert analysis.faces_found >= 1
        assert analysis.signals is not None
        assert 0.0 <= analysis.signals.smile <= 1.0
        assert analysis.embedding is not None
        assert analysis.embedding.model_id == pipeline.model_id
        assert np.linalg.norm(analysis.embedding.vector) == pytest.approx(1.0, abs=1e-4)
        assert analysis.chip.shape == (112, 112, 3)
        assert {"detect", "align", "landmarks", "quality", "embed"} <= set(analysis.timings_ms)


def test_the_same_person_stays_the_same_across_the_clip(pipeline, frames):
    from smilepay.vision.calibration import threshold_at_far

    embeddings = [pipeline.analyze_frame(f).embedding for f in frames]
    threshold = threshold_at_far(pipeline.model_id, 1e-3)
    scores = [similarity(embeddings[0], e) for e in embeddings[1:]]
    assert min(scores) > threshold, scores


def test_a_sharp_webcam_frame_passes_the_quality_gate(pipeline, frames):
    passed = [pipeline.analyze_frame(f).quality.passed for f in frames]
    assert sum(passed) >= len(frames) // 2
    require_quality(next(pipeline.analyze_frame(f) for f, ok in zip(frames, passed,
                                                                     strict=True) if ok))


def test_a_tiny_face_fails_the_gate_with_a_reason(pipeline, frames):
    import cv2

    small = cv2.resize(frames[0], (160, 120), interpolation=cv2.INTER_AREA)
    canvas = np.zeros_like(frames[0])
    canvas[180:300, 240:400] = small
    analysis = pipeline.analyze_frame(canvas, embed=False)
    assert not analysis.quality.passed
    assert any(reason.startswith("face too small") for reason in analysis.quality.reasons)
