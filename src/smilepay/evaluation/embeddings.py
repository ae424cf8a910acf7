"""Embeddings of image files for evaluation: each file decoded and detected once, each
(model, file) embedded once per run, optionally kept on disk between runs (``cache_dir``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from smilepay.errors import SmilePayError
from smilepay.ports.vision import Embedder, FaceDetector, FaceReader
from smilepay.vision.choose import payer_score
from smilepay.vision.decode import read_image
from smilepay.vision.detect import detect_faces
from smilepay.vision.landmarks import choose_alignment_points
from smilepay.vision.types import Face, Image, Vector

Landmarks = npt.NDArray[np.float32]

EVAL_MAX_SIDE_PX = 640  # photos, not kiosk frames: detect at more detail than the 320 default


def main_face(image: Image, detector: FaceDetector,
              max_side_px: int = EVAL_MAX_SIDE_PX) -> Face | None:
    """The face a payment would pick (size, centrality, frontalness), without the ambiguity rule."""
    faces = detect_faces(image, detector, max_side_px)
    if not faces:
        return None
    height, width = image.shape[:2]
    return max(faces, key=lambda f: payer_score(f, width, height))


@dataclass
class EmbeddingCache:
    """Vectors by model id and relative path; ``None`` records a failure to detect."""

    cache_dir: Path | None = None
    vectors: dict[str, dict[str, Vector | None]] = field(default_factory=dict)

    def _file(self, model_id: str) -> Path | None:
        if self.cache_dir is None:
            return None
        safe = "".join(c if c.isalnum() or c in "_-" else "_" for c in model_id)
        return self.cache_dir / f"embeddings_{safe}.npz"

    def table(self, model_id: str) -> dict[str, Vector | None]:
        if model_id not in self.vectors:
            self.vectors[model_id] = {}
            path = self._file(model_id)
            if path is not None and path.is_file():
                with np.load(path, allow_pickle=False) as stored:
                    for name, vec, ok in zip(stored["paths"], stored["vectors"], stored["ok"],
                                             strict=True):
                        self.vectors[model_id][str(name)] = vec.astype(np.float32) if ok else None
        return self.vectors[model_id]

    def save(self) -> None:
        for model_id, table in self.vectors.items():
            path = self._file(model_id)
            if path is None or not table:
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            dim = next((v.size for v in table.values() if v is not None), 1)
            names = sorted(table)
            zero = np.zeros(dim, np.float32)
            stacked = np.stack([v if v is not None else zero for v in (table[n] for n in names)])
            np.savez(path, paths=np.array(names), vectors=stacked,
                     ok=np.array([table[n] is not None for n in names]))


def cache_key(model_id: str, reader: FaceReader | None) -> str:
    """Vectors aligned on the landmarker's points are kept apart from YuNet-aligned ones."""
    return f"{model_id}@{'mediapipe' if reader is not None else 'yunet'}"


def alignment_points(image: Image, face: Face, reader: FaceReader | None) -> Landmarks:
    """The points a pipeline with the same settings would align ``face`` on."""
    if reader is None:
        return face.landmarks5
    reading = reader.read_face(image, face)
    return choose_alignment_points(face.landmarks5, reading.landmarks5 if reading else None)


def embed_files(
    data_dir: Path, paths: Sequence[str], embedders: Sequence[Embedder], detector: FaceDetector,
    cache: EmbeddingCache, on_file: Callable[[], None] | None = None,
    reader: FaceReader | None = None,
) -> tuple[dict[str, dict[str, Vector | None]], list[str]]:
    """Vectors by cache key (``cache_key``) then path, and the paths where no face was found.

    With a ``reader`` the faces are aligned on the dense landmarker's points, as the pipeline
    does for strategies that ask for it."""
    keys = [cache_key(e.model_id, reader) for e in embedders]
    failed: list[str] = []
    for rel in paths:
        todo = [(k, e) for k, e in zip(keys, embedders, strict=True) if rel not in cache.table(k)]
        if todo:
            face: Face | None = None
            image: npt.NDArray[np.uint8] | None = None
            try:
                image = read_image(str(data_dir / rel))
                face = main_face(image, detector)
            except SmilePayError:
                face = None
            points = None if face is None or image is None else alignment_points(image, face,
                                                                                 reader)
            for key, embedder in todo:
                vec = None if points is None or image is None else embedder.embed_face(image,
                                                                                        points)
                cache.table(key)[rel] = vec
        if all(cache.table(k)[rel] is None for k in keys):
            failed.append(rel)
        if on_file is not None:
            on_file()
    return {k: {p: cache.table(k)[p] for p in paths} for k in keys}, failed
