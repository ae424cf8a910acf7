"""Embeddings of image files for evaluation: each file decoded and detected once, each
(model, file) embedded once per run, optionally kept on disk between runs (``cache_dir``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from smilepay.errors import SmilePayError
from smilepay.ports.vision import Embedder, FaceDetector
from smilepay.vision.choose import payer_score
from smilepay.vision.decode import read_image
from smilepay.vision.detect import detect_faces
from smilepay.vision.types import Face, Image, Vector

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


def embed_files(
    data_dir: Path, paths: Sequence[str], embedders: Sequence[Embedder], detector: FaceDetector,
    cache: EmbeddingCache, on_file: Callable[[], None] | None = None,
) -> tuple[dict[str, dict[str, Vector | None]], list[str]]:
    """Vectors by model id then path, and the paths where no face was found (or unreadable)."""
    failed: list[str] = []
    for rel in paths:
        todo = [e for e in embedders if rel not in cache.table(e.model_id)]
        if todo:
            face: Face | None = None
            image: npt.NDArray[np.uint8] | None = None
            try:
                image = read_image(str(data_dir / rel))
                face = main_face(image, detector)
            except SmilePayError:
                face = None
            for embedder in todo:
                vec = None if face is None or image is None else embedder.embed_face(
                    image, face.landmarks5)
                cache.table(embedder.model_id)[rel] = vec
        if all(cache.table(e.model_id)[rel] is None for e in embedders):
            failed.append(rel)
        if on_file is not None:
            on_file()
    return {e.model_id: {p: cache.table(e.model_id)[p] for p in paths} for e in embedders}, failed
