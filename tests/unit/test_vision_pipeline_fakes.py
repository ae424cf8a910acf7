"""The pipeline's flow with fake ports: choice, alignment points, quality reasons, embedding."""

from __future__ import annotations

import numpy as np
import pytest

from smilepay.vision.align import ARCFACE_TEMPLATE_112
from smilepay.vision.errors import AmbiguousFaces, NoFaceFound, PoorQuality
from smilepay.vision.pipeline import FacePipeline, require_quality
from smilepay.vision.quality import QualityPolicy, assess_quality
from smilepay.vision.types import Face, FaceReading, FaceSignals, Image

SIGNALS = FaceSignals(smile=0.8, blink_left=0.1, blink_right=0.1, mouth_open=0.0,
                      yaw_deg=3.0, pitch_deg=-2.0, roll_deg=0.0)


def face_at(x0: float, y0: float, size: float) -> Face:
    points = ARCFACE_TEMPLATE_112 * (size / 112.0) + np.array([x0, y0], np.float32)
    return Face((x0, y0, x0 + size, y0 + size), points.astype(np.float32), 0.95)


class InMemoryDetector:
    def __init__(self, faces: list[Face]) -> None:
        self.faces = faces

    def detect(self, image: Image) -> list[Face]:
        return list(self.faces)


class InMemoryReader:
    def __init__(self, shift_px: float) -> None:
        self.shift_px = shift_px
        self.calls = 0

    def read_face(self, image: Image, face: Face) -> FaceReading | None:
        self.calls += 1
        dense = np.zeros((478, 2), np.float32)
        return FaceReading(SIGNALS, face.landmarks5 + self.shift_px, dense)

    def analyze(self, image: Image) -> FaceSignals | None:
        return SIGNALS


class InMemoryEmbedder:
    model_id = "fake"
    dim = 3

    def __init__(self) -> None:
        self.points: list[np.ndarray] = []

    def embed_face(self, image: Image, landmarks5: np.ndarray) -> np.ndarray:
        self.points.append(landmarks5)
        return np.array([1.0, 0.0, 0.0], np.float32)


def textured_frame() -> Image:
    rng = np.random.default_rng(0)
    return rng.integers(40, 220, size=(480, 640, 3), dtype=np.uint8)


def pipeline_with(faces: list[Face], shift_px: float = 1.0, refine: bool = True):
    reader, embedder = InMemoryReader(shift_px), InMemoryEmbedder()
    engine = FacePipeline(InMemoryDetector(faces), reader, embedder, detect_max_side_px=640,
                          reader=reader, refine_alignment=refine)
    return engine, reader, embedder


def test_one_good_face_gives_signals_embedding_and_a_passing_gate():
    engine, reader, _ = pipeline_with([face_at(250, 150, 160)])
    analysis = engine.analyze_frame(textured_frame())
    assert analysis.signals == SIGNALS
    assert analysis.embedding is not None and analysis.embedding.model_id == "fake"
    assert analysis.quality.passed, analysis.quality.reasons
    assert reader.calls == 1
    assert set(analysis.timings_ms) == {"detect", "landmarks", "align", "quality", "embed"}


def test_the_face_is_aligned_and_embedded_on_the_refined_points():
    face = face_at(250, 150, 160)
    engine, _, embedder = pipeline_with([face], shift_px=2.0)
    analysis = engine.analyze_frame(textured_frame())
    assert np.allclose(embedder.points[0], face.landmarks5 + 2.0)
    assert analysis.landmarks5 is not None and np.allclose(analysis.landmarks5, embedder.points[0])


def test_refined_points_far_from_the_detection_are_not_trusted():
    face = face_at(250, 150, 160)
    engine, _, embedder = pipeline_with([face], shift_px=60.0)
    engine.analyze_frame(textured_frame())
    assert np.allclose(embedder.points[0], face.landmarks5)


def test_without_refinement_the_detector_points_are_used():
    face = face_at(250, 150, 160)
    engine, _, embedder = pipeline_with([face], shift_px=2.0, refine=False)
    engine.analyze_frame(textured_frame())
    assert np.allclose(embedder.points[0], face.landmarks5)


def test_no_face_and_two_equal_faces_are_errors():
    with pytest.raises(NoFaceFound):
        pipeline_with([])[0].analyze_frame(textured_frame())
    with pytest.raises(AmbiguousFaces):
        pipeline_with([face_at(120, 150, 160), face_at(360, 150, 160)])[0].analyze_frame(
            textured_frame())


def test_a_small_face_fails_the_gate_with_a_reason_and_require_quality_raises():
    engine, _, _ = pipeline_with([face_at(300, 200, 50)])
    analysis = engine.analyze_frame(textured_frame(), embed=False)
    assert analysis.embedding is None
    assert any(r.startswith("face too small: 50 px") for r in analysis.quality.reasons)
    with pytest.raises(PoorQuality) as caught:
        require_quality(analysis)
    assert caught.value.reasons == analysis.quality.reasons


@pytest.mark.parametrize(("chip_value", "reason"), [(10, "too dark"), (245, "too bright")])
def test_exposure_is_judged_on_the_chip(chip_value: int, reason: str):
    chip = np.full((112, 112, 3), chip_value, np.uint8)
    report = assess_quality(face_at(0, 0, 200), chip, SIGNALS)
    assert any(r.startswith(reason) for r in report.reasons)
    assert any(r.startswith("too blurred") for r in report.reasons)  # a flat chip has no edges


def test_a_turned_head_fails_on_pose():
    turned = FaceSignals(0.0, 0.0, 0.0, 0.0, yaw_deg=45.0, pitch_deg=0.0, roll_deg=0.0)
    chip = np.random.default_rng(1).integers(60, 200, (112, 112, 3), dtype=np.uint8)
    report = assess_quality(face_at(0, 0, 200), chip, turned, QualityPolicy(max_yaw_deg=30))
    assert report.reasons == ("head turned: yaw 45 deg, limit 30",)


class CountingEmbedder:
    def __init__(self, model_id: str, vector: list[float]) -> None:
        self.model_id, self.dim, self.vector, self.calls = model_id, len(vector), vector, 0

    def embed_face(self, image: Image, landmarks5: np.ndarray) -> np.ndarray:
        self.calls += 1
        return np.array(self.vector, np.float32)


def test_lead_embedding_per_frame_then_one_completion_equals_the_full_embedding():
    from smilepay.vision.fusion import FusedEmbedder, FusionMember

    first, second = CountingEmbedder("a", [1.0, 0.0]), CountingEmbedder("b", [0.0, 1.0, 0.0])
    fused = FusedEmbedder("fusion", [FusionMember(first, 2.0), FusionMember(second, 1.0)])
    reader = InMemoryReader(1.0)
    engine = FacePipeline(InMemoryDetector([face_at(250, 150, 160)]), reader, fused,
                          detect_max_side_px=640, reader=reader, refine_alignment=True)
    frame = textured_frame()
    full = engine.analyze_frame(frame).embedding
    assert (first.calls, second.calls) == (1, 1)
    lead = engine.analyze_frame(frame, embed="lead")
    assert (first.calls, second.calls) == (2, 1)
    assert lead.embedding is not None and lead.embedding.model_id == "fusion#lead"
    completed = engine.complete_embedding(frame, lead)
    assert (first.calls, second.calls) == (2, 2)
    assert full is not None and completed.model_id == full.model_id == "fusion"
    assert np.allclose(completed.vector, full.vector)
