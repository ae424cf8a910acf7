"""Face templates as values, and the pure math that protects them.

- A ``FaceTemplate`` is an L2-normalised embedding in a tenant's secret rotated space, with the
  model that made it and the rotation version; a ``SealedTemplate`` is its encrypted form.
- ``tenant_rotation`` derives a random orthogonal matrix from a secret and a tenant id
  (QR of a seeded Gaussian matrix with the sign fix, so the draw is uniform over O(d)).
  Rotating both sides keeps every cosine, yet the same face enrolled by two tenants gives
  unrelated vectors; re-keying a tenant (a new secret or version) revokes leaked templates.
- "No consent, no template": ``require_active_consent``.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt

from smilepay.domain.consent import ConsentRecord, ConsentRequired
from smilepay.errors import InvalidInput

Vector = npt.NDArray[np.float32]
Matrix = npt.NDArray[np.float64]


@dataclass(frozen=True)
class SealedBlob:
    """Ciphertext from a key ring: which key, the nonce, and the AEAD output."""

    key_id: str
    nonce: bytes
    ciphertext: bytes


@dataclass(frozen=True)
class FaceTemplate:
    """A customer's face template, already rotated into the tenant's space."""

    template_id: str
    tenant_id: str
    livemode: bool
    customer_id: str
    model_id: str
    rotation_version: int
    vector: Vector
    quality: float
    created_at: datetime

    def __post_init__(self) -> None:
        check_unit_vector(self.vector)


@dataclass(frozen=True)
class SealedTemplate:
    """A template as stored: metadata in clear, the vector encrypted and bound to its ids."""

    template_id: str
    tenant_id: str
    livemode: bool
    customer_id: str
    model_id: str
    rotation_version: int
    dim: int
    quality: float
    created_at: datetime
    sealed: SealedBlob


def require_active_consent(consent: ConsentRecord | None, customer_id: str) -> ConsentRecord:
    """No consent, no template."""
    if consent is None or not consent.active or consent.customer_id != customer_id:
        raise ConsentRequired(
            f"expected an active face-payment consent for customer {customer_id}, got none",
            customer_id=customer_id,
        )
    return consent


def template_associated_data(tenant_id: str, template_id: str, model_id: str) -> bytes:
    """AEAD associated data: a ciphertext only opens for the tenant and template it was made for.

    ``tenant_id`` is the rotation space (``rotation_space``: tenant and mode).
    """
    return f"smilepay-template|{tenant_id}|{template_id}|{model_id}".encode()


def rotation_space(tenant_id: str, livemode: bool) -> str:
    """Test and live objects never meet: each mode of a tenant has its own rotation and gallery."""
    return f"{tenant_id}|{'live' if livemode else 'test'}"


def pack_vector(vector: Vector) -> bytes:
    return np.ascontiguousarray(vector, dtype="<f4").tobytes()


def unpack_vector(raw: bytes, dim: int) -> Vector:
    if len(raw) != 4 * dim:
        raise InvalidInput(f"expected {4 * dim} bytes for a {dim}-d vector, got {len(raw)}")
    return np.frombuffer(raw, dtype="<f4").astype(np.float32)


def check_unit_vector(vector: Vector, tolerance: float = 1e-3) -> None:
    if vector.ndim != 1 or vector.size == 0:
        raise InvalidInput(f"expected a 1-d embedding, got shape {vector.shape}")
    if not np.all(np.isfinite(vector)):
        raise InvalidInput("expected a finite embedding, got NaN or inf")
    norm = float(np.linalg.norm(vector))
    if abs(norm - 1.0) > tolerance:
        raise InvalidInput(f"expected an L2-normalised embedding, got norm {norm:.4f}")


def normalise(vector: npt.NDArray[np.floating]) -> Vector:
    arr = np.asarray(vector, dtype=np.float64)
    norm = float(np.linalg.norm(arr))
    if norm == 0.0 or not np.isfinite(norm):
        raise InvalidInput(f"expected a non-zero finite vector, got norm {norm}")
    return (arr / norm).astype(np.float32)


def merge_embeddings(vectors: Sequence[Vector], weights: Sequence[float] | None = None) -> Vector:
    """A multi-image template: the (quality-)weighted mean of unit vectors, renormalised."""
    if not vectors:
        raise InvalidInput("expected at least one embedding, got none")
    stacked = np.stack([np.asarray(v, dtype=np.float64) for v in vectors])
    w = np.ones(len(vectors)) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != (len(vectors),) or np.any(w < 0) or float(w.sum()) <= 0:
        raise InvalidInput(f"expected {len(vectors)} non-negative weights, got {list(w)}")
    return normalise((stacked * w[:, None]).sum(axis=0))


def rotation_seed(secret: bytes, tenant_id: str, version: int, dim: int) -> int:
    if len(secret) < 16:
        raise InvalidInput(f"expected a rotation secret of >= 16 bytes, got {len(secret)}")
    message = f"smilepay-rotation|{tenant_id}|{version}|{dim}".encode()
    return int.from_bytes(hmac.new(secret, message, hashlib.sha256).digest(), "big")


def tenant_rotation(secret: bytes, tenant_id: str, version: int, dim: int) -> Matrix:
    """A secret random orthogonal ``dim x dim`` matrix for one tenant and key version."""
    if dim < 2:
        raise InvalidInput(f"expected a dimension >= 2, got {dim}")
    rng = np.random.default_rng(rotation_seed(secret, tenant_id, version, dim))
    gaussian = rng.standard_normal((dim, dim))
    q, r = np.linalg.qr(gaussian)
    signs = np.sign(np.diag(r))
    signs[signs == 0] = 1.0
    return np.asarray(q * signs[None, :], dtype=np.float64)


def rotate_vector(rotation: Matrix, vector: Vector) -> Vector:
    """Map an embedding into the tenant space (cosine with any other rotated vector unchanged)."""
    if rotation.shape != (vector.shape[0], vector.shape[0]):
        raise InvalidInput(
            f"expected a {vector.shape[0]}-d rotation, got shape {rotation.shape}"
        )
    return normalise(rotation @ np.asarray(vector, dtype=np.float64))


def unrotate_vector(rotation: Matrix, vector: Vector) -> Vector:
    """The inverse map (the transpose): used only when re-keying a tenant."""
    return normalise(rotation.T @ np.asarray(vector, dtype=np.float64))


def rekey_vector(old: Matrix, new: Matrix, vector: Vector) -> Vector:
    """Move a rotated template from one key version to another without the raw embedding."""
    return normalise(new @ (old.T @ np.asarray(vector, dtype=np.float64)))
