"""Deciding a face session frame by frame: a smile passes, a slow start is forgiven, silence
and an empty camera fail at the deadline, and every decision is audited (no pixels).

The face engine is a fake that replays scripted observations (``vision.liveness.scripted``);
the liveness check is the real layered one without passive models; SQLite in a temp dir.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

from smilepay.adapters.sql.engine import make_engine
from smilepay.adapters.sql.identity_store import SqlIdentityStore
from smilepay.adapters.sql.migrate import upgrade_engine
from smilepay.bootstrap import build_face_context
from smilepay.config import FaceSettings
from smilepay.domain.tenants import Scope
from smilepay.services.face_context import FaceContext
from smilepay.services.face_frames import add_frame, open_challenge, verifier_settings
from smilepay.vision.errors import NoFaceFound
from smilepay.vision.liveness.layered import LayeredLivenessCheck
from smilepay.vision.liveness.scripted import Cue, perform
from smilepay.vision.liveness.types import Action, FrameObservation
from smilepay.vision.types import Embedding, Face, FrameAnalysis, QualityReport

SCOPE = Scope("ten_test", livemode=False)
JPEG = bytes(cv2.imencode(".jpg", np.full((48, 64, 3), 120, np.uint8))[1])
T0 = 1_800_000_000_000


class ScriptedPipeline:
    """Answers ``analyze_frame`` with the next scripted observation (None = no face).

    Like a fused strategy: ``embed="lead"`` gives the lead member's vector (model id
    ``scripted#lead``); ``complete_embedding`` the full one (``scripted``), counted."""

    embedder = None
    analyzer = None
    model_id = "scripted"

    def __init__(self) -> None:
        self.queue: list[FrameObservation | None] = []
        self.completed: list[float] = []  # quality score (face px) of each completed frame
        self.face_px: list[float] = []  # per frame, when given (else 160)
        self.vector = np.zeros(4, np.float32)  # of the last frame analysed

    def analyze_frame(self, image: np.ndarray, *, embed: bool | str = True,
                      signals: bool = True) -> FrameAnalysis:
        found = self.queue.pop(0)
        face_px = self.face_px.pop(0) if self.face_px else 160.0
        if found is None or found.signals is None:
            raise NoFaceFound("expected a face in the frame, got none")
        face = Face((100.0, 80.0, 260.0, 280.0), np.zeros((5, 2), np.float32), 0.99)
        if found.embedding is None:  # a face that fails the quality gate
            tilted = QualityReport(160.0, 60.0, 120.0, 120.0, 40.0, 0.0, -40.0,
                                   ("head tilted: pitch -40 deg, limit 25",))
            return FrameAnalysis(face, 1, tilted, found.signals, None, image, {})
        quality = QualityReport(face_px, 60.0, 120.0, 120.0, 40.0, 0.0, 0.0, ())
        model = "scripted#lead" if embed == "lead" else "scripted"
        self.vector = found.embedding
        return FrameAnalysis(face, 1, quality, found.signals,
                             Embedding(found.embedding, model) if embed else None, image, {})

    def embed_lead(self, image: np.ndarray, analysis: FrameAnalysis) -> FrameAnalysis:
        return replace(analysis, embedding=Embedding(self.vector, "scripted#lead"))

    def complete_embedding(self, image: np.ndarray, analysis: FrameAnalysis) -> Embedding:
        assert analysis.embedding is not None
        self.completed.append(analysis.quality.face_px)
        return Embedding(-analysis.embedding.vector, "scripted")  # told apart from the lead


@pytest.fixture()
def world(tmp_path: Path) -> Iterator[tuple[FaceContext, ScriptedPipeline]]:
    engine = make_engine(f"sqlite:///{tmp_path / 'id.db'}")
    upgrade_engine(engine)
    settings = FaceSettings(challenge="smile", step_timeout_ms=6000,
                            secrets_file=str(tmp_path / "s.json"), index_dir=str(tmp_path / "i"))
    pipeline = ScriptedPipeline()
    holder: dict[str, FaceContext] = {}
    ctx = build_face_context(
        SqlIdentityStore(engine), settings, load_pipeline=lambda: pipeline,
        load_liveness=lambda: LayeredLivenessCheck(verifier=verifier_settings(
            holder["ctx"].policy)))
    holder["ctx"] = ctx
    yield ctx, pipeline
    engine.dispose()


def run(ctx: FaceContext, pipeline: ScriptedPipeline,
        frames: list[FrameObservation | None], times: list[int]) -> tuple[str, list[str]]:
    session = open_challenge(ctx, SCOPE, "enrol", "cus_1", None, T0)
    pipeline.queue = list(frames)
    answer = None
    for t in times:
        answer = add_frame(ctx, session, JPEG, t, t)
        if answer.state != "collecting":
            break
    assert answer is not None
    return answer.state, list(answer.reasons)


def smile_frames(start_ms: int) -> list[FrameObservation]:
    return perform([Cue(Action.SMILE, start_ms + 700)], start_ms, 3000)


def test_a_smile_after_a_neutral_face_passes_and_is_audited(
    world: tuple[FaceContext, ScriptedPipeline]
) -> None:
    ctx, pipeline = world
    frames = smile_frames(T0 + 50)
    state, _ = run(ctx, pipeline, list(frames), [f.timestamp_ms for f in frames])
    assert state == "passed"
    entry = ctx.identity.audit_entries(SCOPE, "cus_1")[0]
    assert entry["kind"] == "liveness_enrol" and entry["decision"] == "passed"
    assert entry["values"]["liveness_challenge"] == 1.0
    assert all(isinstance(v, int | float | str | None) for v in entry["values"].values())


def test_a_slow_first_frame_restarts_the_window_instead_of_failing(
    world: tuple[FaceContext, ScriptedPipeline]
) -> None:
    ctx, pipeline = world
    frames = smile_frames(T0 + 3000)
    first = FrameObservation(T0 + 50, frames[0].signals, frames[0].embedding)
    state, reasons = run(ctx, pipeline, [first, *frames],
                         [T0 + 50, *[f.timestamp_ms for f in frames]])
    assert state == "passed", reasons


def test_poor_frames_first_are_not_a_failure(
    world: tuple[FaceContext, ScriptedPipeline]
) -> None:
    ctx, pipeline = world
    frames = smile_frames(T0 + 50)
    poor = [FrameObservation(f.timestamp_ms, f.signals, None) for f in frames[:4]]
    state, reasons = run(ctx, pipeline, [*poor, *frames[4:]], [f.timestamp_ms for f in frames])
    assert state == "passed", reasons


def test_no_smile_fails_at_the_deadline_with_the_reason(
    world: tuple[FaceContext, ScriptedPipeline]
) -> None:
    ctx, pipeline = world
    frames = perform([], T0 + 50, 9000)
    state, reasons = run(ctx, pipeline, list(frames), [f.timestamp_ms for f in frames])
    assert state == "failed" and "smile_not_done" in reasons
    entry = ctx.identity.audit_entries(SCOPE, "cus_1")[0]
    assert entry["decision"] == "failed" and "expired" in entry["reasons"]


def test_an_empty_camera_fails_at_the_deadline(
    world: tuple[FaceContext, ScriptedPipeline]
) -> None:
    ctx, pipeline = world
    times = list(range(T0 + 100, T0 + 9500, 200))
    state, _ = run(ctx, pipeline, [None] * len(times), times)
    assert state == "failed"


def test_frames_are_embedded_in_full_only_while_they_rank_among_the_best(
    world: tuple[FaceContext, ScriptedPipeline]
) -> None:
    ctx, pipeline = world
    frames = smile_frames(T0 + 50)
    sizes = [100.0, 120.0, 110.0, 90.0, 200.0, 80.0] + [60.0] * (len(frames) - 6)
    pipeline.face_px = list(sizes)
    session = open_challenge(ctx, SCOPE, "enrol", "cus_1", None, T0)
    pipeline.queue = list(frames)
    for f in frames:
        if add_frame(ctx, session, JPEG, f.timestamp_ms, f.timestamp_ms).state != "collecting":
            break
    assert session.last_state == "passed"
    keep = max(ctx.policy.probe_frames, ctx.policy.enrol_templates_from)
    # the first `keep` good frames, then only those that beat the worst kept one
    assert pipeline.completed == [100.0, 120.0, 110.0, 200.0]
    assert len(session.best) == keep and session.model_id == "scripted"
    assert [round(q, 3) for q, _ in session.best] == sorted(
        (round(q, 3) for q, _ in session.best), reverse=True)
    assert session.good_frames == session.frames_seen


class CountingScorer:
    name = "counting"

    def __init__(self) -> None:
        self.calls = 0

    def score(self, image: np.ndarray, face: Face | None) -> float:
        self.calls += 1
        return 0.9


def test_the_advisory_passive_layer_scores_only_the_deciding_frame(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'id.db'}")
    upgrade_engine(engine)
    settings = FaceSettings(challenge="smile", step_timeout_ms=6000,
                            secrets_file=str(tmp_path / "s.json"), index_dir=str(tmp_path / "i"))
    pipeline, scorer = ScriptedPipeline(), CountingScorer()
    holder: dict[str, FaceContext] = {}
    ctx = build_face_context(
        SqlIdentityStore(engine), settings, load_pipeline=lambda: pipeline,
        load_liveness=lambda: LayeredLivenessCheck(passive=[scorer], verifier=verifier_settings(
            holder["ctx"].policy)))
    holder["ctx"] = ctx
    frames = smile_frames(T0 + 50)
    state, _ = run(ctx, pipeline, list(frames), [f.timestamp_ms for f in frames])
    assert state == "passed"
    assert scorer.calls == 1
    entry = ctx.identity.audit_entries(SCOPE, "cus_1")[0]
    assert entry["values"]["liveness_passive__advisory"] == pytest.approx(0.982, abs=1e-3)
    engine.dispose()


def test_a_face_that_arrives_late_is_not_a_lost_face(
    world: tuple[FaceContext, ScriptedPipeline]
) -> None:
    # Start pressed, then 2 s of an empty camera (warming up, the customer stepping in)
    ctx, pipeline = world
    empty = list(range(T0 + 100, T0 + 2100, 100))
    frames = smile_frames(T0 + 2200)
    state, reasons = run(ctx, pipeline, [None] * len(empty) + list(frames),
                         empty + [f.timestamp_ms for f in frames])
    assert state == "passed", reasons
