"""Comparing embeddings: cosine similarity, only between vectors of the same model."""

from __future__ import annotations

import numpy as np

from smilepay.errors import InvalidInput
from smilepay.vision.types import Embedding


def similarity(a: Embedding, b: Embedding) -> float:
    """Cosine similarity of two embeddings made by the same model (strategy)."""
    if a.model_id != b.model_id:
        raise InvalidInput(
            f"expected embeddings of one model, got {a.model_id!r} and {b.model_id!r}")
    if a.vector.shape != b.vector.shape:
        raise InvalidInput(
            f"expected vectors of one shape, got {a.vector.shape} and {b.vector.shape}")
    denominator = float(np.linalg.norm(a.vector) * np.linalg.norm(b.vector))
    return float(np.dot(a.vector, b.vector)) / denominator if denominator > 0 else 0.0
