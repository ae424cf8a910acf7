from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from smilepay.adapters.crypto import (
    AesGcmKeyRing,
    DecryptionFailed,
    TenantRotations,
    UnknownKey,
    load_or_create_secrets,
)
from smilepay.domain.templates import pack_vector, template_associated_data, unpack_vector

AAD = template_associated_data("acct_a", "tpl_1", "fr_feature")


def unit(dim: int, seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal(dim)
    return (v / np.linalg.norm(v)).astype(np.float32)


def test_a_sealed_template_opens_to_the_same_vector() -> None:
    ring = AesGcmKeyRing.generate()
    vec = unit(512, 1)
    blob = ring.seal(pack_vector(vec), AAD)
    assert pack_vector(vec) not in blob.ciphertext
    assert np.array_equal(unpack_vector(ring.open(blob, AAD), 512), vec)


def test_two_seals_of_one_template_differ() -> None:
    ring = AesGcmKeyRing.generate()
    a, b = ring.seal(b"same", AAD), ring.seal(b"same", AAD)
    assert a.nonce != b.nonce and a.ciphertext != b.ciphertext


@pytest.mark.parametrize(
    "other",
    [
        template_associated_data("acct_b", "tpl_1", "fr_feature"),
        template_associated_data("acct_a", "tpl_2", "fr_feature"),
        template_associated_data("acct_a", "tpl_1", "mobilefacenet"),
    ],
)
def test_a_ciphertext_moved_to_another_tenant_or_template_does_not_open(other: bytes) -> None:
    ring = AesGcmKeyRing.generate()
    blob = ring.seal(b"template bytes", AAD)
    with pytest.raises(DecryptionFailed):
        ring.open(blob, other)


def test_a_flipped_bit_is_detected() -> None:
    ring = AesGcmKeyRing.generate()
    blob = ring.seal(b"template bytes", AAD)
    tampered = bytearray(blob.ciphertext)
    tampered[0] ^= 1
    with pytest.raises(DecryptionFailed):
        ring.open(replace(blob, ciphertext=bytes(tampered)), AAD)


def test_rotation_keeps_old_blobs_readable_and_reseal_moves_them_to_the_new_key() -> None:
    ring = AesGcmKeyRing.generate()
    old_key = ring.active_key_id
    blob = ring.seal(b"v1", AAD)
    new_key = ring.rotate()
    assert new_key != old_key and ring.active_key_id == new_key
    assert ring.open(blob, AAD) == b"v1"
    moved = ring.reseal(blob, AAD)
    assert moved.key_id == new_key
    ring.retire(old_key)
    assert ring.open(moved, AAD) == b"v1"
    with pytest.raises(UnknownKey):
        ring.open(blob, AAD)


def test_the_active_key_cannot_be_retired() -> None:
    ring = AesGcmKeyRing.generate()
    with pytest.raises(Exception, match="non-active"):
        ring.retire(ring.active_key_id)


def test_secrets_file_is_private_and_survives_a_reload(tmp_path: Path) -> None:
    path = tmp_path / "secrets.json"
    first = load_or_create_secrets(path)
    assert path.stat().st_mode & 0o077 == 0
    blob = first.key_ring.seal(b"kept", AAD)
    again = load_or_create_secrets(path)
    assert again.key_ring.open(blob, AAD) == b"kept"
    assert again.rotation_secret == first.rotation_secret


def test_tenant_rotations_are_cached_and_distinct_per_tenant() -> None:
    rot = TenantRotations(b"s" * 32, dim=64)
    a = rot.matrix("acct_a", 1)
    assert rot.matrix("acct_a", 1) is a
    assert not np.allclose(a, rot.matrix("acct_b", 1))



_OPEN_RING = """
import json, sys
from pathlib import Path
from smilepay.adapters.crypto import load_or_create_secrets
ring = load_or_create_secrets(Path(sys.argv[1])).key_ring
print(json.dumps({kid: key.hex() for kid, key in ring.export_keys().items()}))
"""


def test_processes_creating_the_secrets_file_at_once_end_on_the_same_keys(tmp_path: Path) -> None:
    """Workers starting together on a fresh install: one file wins, nobody seals with keys that
    are not on disk (before, each wrote its own set over the other's)."""
    import json
    import subprocess
    import sys

    path = tmp_path / "fresh" / "face-secrets.json"
    started = [subprocess.Popen([sys.executable, "-c", _OPEN_RING, str(path)],
                                stdout=subprocess.PIPE, text=True) for _ in range(6)]
    rings = [json.loads(p.communicate(timeout=120)[0]) for p in started]
    on_disk = {kid: key.hex()
               for kid, key in load_or_create_secrets(path).key_ring.export_keys().items()}
    assert all(ring == on_disk for ring in rings)
    assert [p.name for p in path.parent.iterdir()] == ["face-secrets.json"]  # no drafts left
    assert path.stat().st_mode & 0o777 == 0o600
