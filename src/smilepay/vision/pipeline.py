"""``FacePipeline``: models loaded once; per frame the paying face, quality, signals, embedding."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Literal, TypeVar

import numpy as np
import numpy.typing as npt

from smilepay.errors import InvalidInput
from smilepay.ports.vision import Embedder, FaceAnalyzer, FaceDetector, FaceReader
from smilepay.vision.align import align_face, square_crop
from smilepay.vision.choose import AMBIGUITY_RATIO, choose_paying_face
from smilepay.vision.detect import DEFAULT_MAX_SIDE_PX, detect_faces
from smilepay.vision.fusion import FusedEmbedder
from smilepay.vision.landmarks import choose_alignment_points
from smilepay.vision.quality import QualityPolicy, assess_quality, scene_brightness
from smilepay.vision.types import (
    Embedding,
    Face,
    FaceReading,
    FaceSignals,
    FrameAnalysis,
    Image,
    Vector,
)

T = TypeVar("T")
ANALYSIS_CROP_SCALE = 2.0  # the landmarker sees a square this many face-widths wide


def face_crop(image: Image, face: Face, scale: float = ANALYSIS_CROP_SCALE) -> Image:
    """A square crop centred on ``face``, ``scale`` times its larger side, clipped to the frame."""
    return square_crop(image, face.box_xyxy, scale)[0]


class FacePipeline:
    """Detect, choose the paying face, read landmarks and signals, align, gate quality, embed.

    Built from its ports: the real models by ``load_pipeline()`` in the models adapter
    package (``adapters/models/pipeline_factory.py``), fakes in tests. Call
    ``analyze_frame`` per frame. With a ``reader`` (the dense landmarker) the face is aligned on
    its finer points when ``refine_alignment`` is set (the strategy says so).
    """

    def __init__(
        self, detector: FaceDetector, analyzer: FaceAnalyzer | None, embedder: Embedder | None,
        policy: QualityPolicy | None = None, detect_max_side_px: int = DEFAULT_MAX_SIDE_PX,
        ambiguity_ratio: float = AMBIGUITY_RATIO, reader: FaceReader | None = None,
        refine_alignment: bool = False,
    ) -> None:
        self.detector, self.analyzer, self.embedder = detector, analyzer, embedder
        self.reader, self.refine_alignment = reader, refine_alignment
        self.policy = policy or QualityPolicy()
        self.detect_max_side_px = detect_max_side_px
        self.ambiguity_ratio = ambiguity_ratio

    def close(self) -> None:
        """Release models holding native threads (MediaPipe); safe to call twice."""
        closed: set[int] = set()
        for part in (self.analyzer, self.reader):
            close = getattr(part, "close", None)
            if part is not None and id(part) not in closed and callable(close):
                closed.add(id(part))
                close()
        self.analyzer = self.reader = None

    @property
    def model_id(self) -> str | None:
        return self.embedder.model_id if self.embedder else None

    def find_faces(self, image: Image) -> list[Face]:
        return detect_faces(image, self.detector, self.detect_max_side_px)

    def analyze_frame(self, image: Image, *, embed: bool | Literal["lead"] = True,
                      signals: bool = True) -> FrameAnalysis:
        """The paying face of ``image`` (BGR) with quality, signals and embedding.

        ``embed="lead"`` embeds with a fused strategy's first member only (model id
        ``<strategy>#lead``): enough to check per frame that the face stays the same, at a
        fraction of the cost; ``complete_embedding`` then adds the other members on the frames
        that decide (``embed=False`` then ``embed_lead`` embeds only frames worth it). Raises
        ``NoFaceFound`` or ``AmbiguousFaces``; a face failing the quality gate is returned with
        ``quality.reasons`` set (``require_quality`` raises).
        """
        timings: dict[str, float] = {}
        cpu: dict[str, float] = {}

        def timed(stage: str, work: Callable[[], T]) -> T:
            start, start_cpu = time.perf_counter(), time.process_time()
            result = work()
            timings[stage] = (time.perf_counter() - start) * 1000
            cpu[stage] = (time.process_time() - start_cpu) * 1000
            return result

        height, width = image.shape[:2]
        faces = timed("detect", lambda: self.find_faces(image))
        face = choose_paying_face(faces, width, height, self.ambiguity_ratio)
        face_signals: FaceSignals | None = None
        reading: FaceReading | None = None
        if self.reader is not None and (signals or self.refine_alignment):
            reader = self.reader
            reading = timed("landmarks", lambda: reader.read_face(image, face))
            face_signals = reading.signals if reading is not None and signals else None
        elif signals and self.analyzer is not None:
            analyzer = self.analyzer
            face_signals = timed("landmarks", lambda: analyzer.analyze(face_crop(image, face)))
        points = face.landmarks5
        if self.refine_alignment:
            points = choose_alignment_points(face.landmarks5,
                                             reading.landmarks5 if reading else None)
        chip = timed("align", lambda: align_face(image, points))
        quality = timed("quality", lambda: assess_quality(face, chip, face_signals, self.policy,
                                                          scene_brightness(image)))
        embedding: Embedding | None = None
        members: tuple[Vector, ...] = ()
        if embed and self.embedder is not None:
            embedding, members = timed("embed", lambda: self._embed(image, points, embed))
        return FrameAnalysis(face=face, faces_found=len(faces), quality=quality,
                             signals=face_signals, embedding=embedding, chip=chip,
                             timings_ms=timings, landmarks5=points, cpu_ms=cpu,
                             member_vectors=members)

    def _embed(self, image: Image, points: npt.NDArray[np.float32],
               embed: bool | Literal["lead"]) -> tuple[Embedding | None, tuple[Vector, ...]]:
        fused = self.embedder if isinstance(self.embedder, FusedEmbedder) else None
        if fused is not None:
            members = tuple(fused.embed_members(image, points, 1 if embed == "lead" else None))
            if embed == "lead":
                return Embedding(members[0], fused.lead_model_id), members
            return Embedding(fused.fuse(members), fused.model_id), members
        if self.embedder is not None:
            return Embedding(self.embedder.embed_face(image, points), self.embedder.model_id), ()
        return None, ()

    def embed_lead(self, image: Image, analysis: FrameAnalysis) -> FrameAnalysis:
        """``analysis`` (made with ``embed=False``) with the embedding ``embed="lead"`` would
        have added, for callers that embed only the frames whose quality and pose they use."""
        points = analysis.landmarks5 if analysis.landmarks5 is not None \
            else analysis.face.landmarks5
        start = time.perf_counter()
        embedding, members = self._embed(image, points, "lead")
        timings = {**analysis.timings_ms, "embed": (time.perf_counter() - start) * 1000}
        return replace(analysis, embedding=embedding, member_vectors=members,
                       timings_ms=timings)

    def complete_embedding(self, image: Image, analysis: FrameAnalysis) -> Embedding:
        """The strategy's full embedding of ``analysis``'s face in ``image`` (the same frame),
        computing only the members ``analyze_frame(embed="lead")`` left out."""
        if self.embedder is None:
            raise InvalidInput("expected a pipeline with an embedder, got none")
        points = analysis.landmarks5 if analysis.landmarks5 is not None \
            else analysis.face.landmarks5
        if not isinstance(self.embedder, FusedEmbedder):
            return Embedding(self.embedder.embed_face(image, points), self.embedder.model_id)
        fused = self.embedder
        vectors = fused.embed_members(image, points, done=analysis.member_vectors)
        return Embedding(fused.fuse(vectors), fused.model_id)


def require_quality(analysis: FrameAnalysis) -> FrameAnalysis:
    """``analysis`` unchanged when it passes the gate, else ``PoorQuality`` with the reasons."""
    from smilepay.vision.errors import PoorQuality

    if not analysis.quality.passed:
        raise PoorQuality("expected a face that passes the quality gate, got: "
                          + "; ".join(analysis.quality.reasons), analysis.quality.reasons)
    return analysis
