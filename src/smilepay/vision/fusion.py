"""Score-level fusion folded into one vector, and multi-image templates (pure numpy).

For members with unit vectors ``e_i`` and weights ``a_i`` the fused vector is
``concat(sqrt(a_i) * e_i) / sqrt(sum a_i)``; the inner product of two fused vectors is then
``sum a_i * cos_i / sum a_i``, a weighted mean of the members' cosine scores. A z-normalised
fusion ``sum w_i * (cos_i - mu_i) / sd_i`` is the same ranking with ``a_i = w_i / sd_i``, so a
fused template is still one unit vector that any inner-product index can search.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from smilepay.errors import InvalidInput
from smilepay.ports.vision import Embedder
from smilepay.vision.types import Image, Vector


def unit(vector: npt.NDArray[np.floating]) -> Vector:
    flat = np.asarray(vector, dtype=np.float32).reshape(-1)
    norm = float(np.linalg.norm(flat))
    return flat / norm if norm > 0 else flat


def fuse_vectors(vectors: Sequence[Vector], weights: Sequence[float]) -> Vector:
    """One unit vector whose inner products are the weighted mean of the members' cosines."""
    if len(vectors) != len(weights) or not vectors:
        raise InvalidInput(f"expected one weight per vector, got {len(weights)} for {len(vectors)}")
    if any(w <= 0 for w in weights):
        raise InvalidInput(f"expected positive weights, got {list(weights)}")
    total = float(sum(weights))
    parts = [np.sqrt(w / total) * unit(v) for v, w in zip(vectors, weights, strict=True)]
    return np.concatenate(parts).astype(np.float32)


def build_template(vectors: Sequence[Vector], weights: Sequence[float] | None = None) -> Vector:
    """A multi-image template: the (quality-)weighted mean of unit vectors, re-normalised."""
    if not vectors:
        raise InvalidInput("expected at least one embedding for a template, got none")
    w = np.ones(len(vectors)) if weights is None else np.asarray(weights, dtype=np.float64)
    if len(w) != len(vectors) or (w < 0).any() or w.sum() <= 0:
        raise InvalidInput(f"expected {len(vectors)} non-negative weights, got {list(w)}")
    stacked = np.stack([unit(v) for v in vectors]).astype(np.float64)
    return unit((stacked * w[:, None]).sum(axis=0))


@dataclass(frozen=True)
class FusionMember:
    embedder: Embedder
    weight: float


class FusedEmbedder:
    """An ``Embedder`` made of several, whose vector carries the fused score (see module doc)."""

    def __init__(self, model_id: str, members: Sequence[FusionMember]) -> None:
        if not members:
            raise InvalidInput("expected at least one fusion member, got none")
        self.model_id = model_id
        self.members = tuple(members)
        self.dim = sum(m.embedder.dim for m in members)

    @property
    def lead_model_id(self) -> str:
        """Model id of the first member's vector alone (per-frame continuity checks)."""
        return f"{self.model_id}#lead"

    def embed_members(self, image: Image, landmarks5: npt.NDArray[np.float32],
                      count: int | None = None, done: Sequence[Vector] = ()) -> list[Vector]:
        """Unit vectors of the first ``count`` members (all when ``None``), reusing ``done``."""
        wanted = self.members[: len(self.members) if count is None else count]
        vectors = [unit(v) for v in done[: len(wanted)]]
        for member in wanted[len(vectors):]:
            vectors.append(unit(member.embedder.embed_face(image, landmarks5)))
        return vectors

    def fuse(self, vectors: Sequence[Vector]) -> Vector:
        """The strategy's vector from one unit vector per member."""
        if len(vectors) != len(self.members):
            raise InvalidInput(f"expected {len(self.members)} member vectors, got {len(vectors)}")
        if len(vectors) == 1:
            return unit(vectors[0])
        return fuse_vectors(vectors, [m.weight for m in self.members])

    def embed_face(self, image: Image, landmarks5: npt.NDArray[np.float32]) -> Vector:
        return self.fuse(self.embed_members(image, landmarks5))
