"""The per-tenant secret orthogonal rotation: cosine unchanged, unlinkable, revocable."""

from __future__ import annotations

import numpy as np
import pytest

from smilepay.domain.templates import rekey_vector, rotate_vector, tenant_rotation, unrotate_vector
from smilepay.errors import InvalidInput

SECRET = b"0123456789abcdef0123456789abcdef"


def unit_rows(n: int, dim: int, seed: int) -> np.ndarray:
    m = np.random.default_rng(seed).standard_normal((n, dim))
    return (m / np.linalg.norm(m, axis=1, keepdims=True)).astype(np.float32)


def test_the_matrix_is_orthogonal_and_deterministic() -> None:
    q = tenant_rotation(SECRET, "acct_a", 1, 128)
    assert np.allclose(q.T @ q, np.eye(128), atol=1e-10)
    assert np.array_equal(q, tenant_rotation(SECRET, "acct_a", 1, 128))


def test_cosine_between_templates_is_unchanged_within_a_tenant() -> None:
    q = tenant_rotation(SECRET, "acct_a", 1, 512)
    x = unit_rows(20, 512, 0)
    rotated = np.stack([rotate_vector(q, v) for v in x])
    assert np.allclose(rotated @ rotated.T, x @ x.T, atol=1e-5)
    assert np.allclose(unrotate_vector(q, rotated[3]), x[3], atol=1e-5)


def test_the_same_face_in_two_tenants_is_unlinkable() -> None:
    x = unit_rows(200, 512, 1)
    qa = tenant_rotation(SECRET, "acct_a", 1, 512)
    qb = tenant_rotation(SECRET, "acct_b", 1, 512)
    a = np.stack([rotate_vector(qa, v) for v in x])
    b = np.stack([rotate_vector(qb, v) for v in x])
    same_face = np.sum(a * b, axis=1)
    # unrelated 512-d unit vectors have cosine ~ N(0, 1/512): |cos| < 0.25 is > 5 sigma
    assert np.max(np.abs(same_face)) < 0.25
    # and linking by nearest neighbour across tenants does no better than chance
    hits = np.mean(np.argmax(a @ b.T, axis=1) == np.arange(len(x)))
    assert hits < 0.05


def test_rekeying_revokes_a_leaked_template_but_keeps_the_customer() -> None:
    x = unit_rows(2, 512, 2)
    old = tenant_rotation(SECRET, "acct_a", 1, 512)
    new = tenant_rotation(SECRET, "acct_a", 2, 512)
    leaked = rotate_vector(old, x[0])
    moved = rekey_vector(old, new, leaked)
    probe_after = rotate_vector(new, x[0])
    assert float(moved @ probe_after) > 0.9999
    assert abs(float(leaked @ probe_after)) < 0.25


def test_short_secrets_are_refused() -> None:
    with pytest.raises(InvalidInput, match=">= 16 bytes"):
        tenant_rotation(b"short", "acct_a", 1, 8)
