"""``services.store_device_secrets`` with the real AES-GCM key ring: what is stored holds no
secret, it opens only for the device it was sealed for, the cache never outlives the sealed
secret it was opened from, it stays bounded, and reseal moves secrets to a rotated key."""

from __future__ import annotations

from pathlib import Path

import pytest

from smilepay.adapters.crypto import AesGcmKeyRing, load_or_create_secrets
from smilepay.adapters.store.device_keys import configured_key_ring
from smilepay.config import Settings
from smilepay.domain.store.errors import DeviceAuthFailed
from smilepay.ports.store import Row
from smilepay.services import store_device_secrets as ds


def device(**changes: object) -> Row:
    row: Row = {"id": "dev_a1", "tenant_id": "ten_1", "livemode": False, "store_id": "st_1",
                "revoked_at_ms": None}
    row.update(changes)
    return row


@pytest.fixture(autouse=True)
def empty_cache() -> None:
    ds.clear_cache()


def sealed(keys: AesGcmKeyRing, secret: str, **changes: object) -> Row:
    row = device(**changes)
    return {**row, **ds.sealed_columns(keys, row, secret)}


def test_the_sealed_columns_hold_no_secret_and_open_for_their_device() -> None:
    keys, secret = AesGcmKeyRing.generate(), ds.new_device_secret()
    row = sealed(keys, secret)
    stored = b"".join(str(v).encode() if not isinstance(v, bytes) else v for v in row.values())
    for form in (secret.encode(), bytes.fromhex(secret)):
        assert form not in stored
    assert row["secret_key_id"] == keys.active_key_id
    assert ds.device_key(keys, row) == secret.encode()
    assert ds.public_view(row).keys() == device().keys()


@pytest.mark.parametrize("moved", [{"id": "dev_b2"}, {"store_id": "st_2"},
                                   {"tenant_id": "ten_2"}, {"livemode": True}])
def test_a_secret_moved_to_another_device_store_tenant_or_mode_does_not_open(
        moved: dict[str, object]) -> None:
    keys = AesGcmKeyRing.generate()
    row = sealed(keys, ds.new_device_secret())
    assert ds.device_key(keys, row)  # opened once: in the cache under dev_a1
    with pytest.raises(DeviceAuthFailed, match="opens for this device"):
        ds.device_key(keys, {**row, **moved})


@pytest.mark.parametrize("column", ["secret_ciphertext", "secret_nonce"])
def test_a_tampered_secret_fails_closed_even_after_it_was_cached(column: str) -> None:
    keys = AesGcmKeyRing.generate()
    row = sealed(keys, ds.new_device_secret())
    ds.device_key(keys, row)
    flipped = bytearray(row[column])
    flipped[0] ^= 0x80
    with pytest.raises(DeviceAuthFailed, match="opens for this device"):
        ds.device_key(keys, {**row, column: bytes(flipped)})
    with pytest.raises(DeviceAuthFailed, match="opens for this device"):
        ds.device_key(keys, {**row, column: b""})


def test_an_unknown_key_another_ring_or_no_secret_fails_closed() -> None:
    keys = AesGcmKeyRing.generate()
    row = sealed(keys, ds.new_device_secret())
    with pytest.raises(DeviceAuthFailed):
        ds.device_key(keys, {**row, "secret_key_id": "key_ffffffffffff"})
    with pytest.raises(DeviceAuthFailed):
        ds.device_key(AesGcmKeyRing.generate(), row)
    with pytest.raises(DeviceAuthFailed, match="without"):
        ds.device_key(keys, {**row, **ds.no_secret()})
    with pytest.raises(DeviceAuthFailed, match="revoked"):
        ds.device_key(keys, {**row, "revoked_at_ms": 5})


def test_a_rotated_secret_replaces_the_cached_one() -> None:
    keys = AesGcmKeyRing.generate()
    first, second = ds.new_device_secret(), ds.new_device_secret()
    old = sealed(keys, first)
    assert ds.device_key(keys, old) == first.encode()
    new = sealed(keys, second)  # what rotation writes into the row
    assert ds.device_key(keys, new) == second.encode()
    assert ds.device_key(keys, old) == first.encode()  # only the stored row decides
    ds.forget("dev_a1")
    assert ds.cached_devices() == 0


def test_the_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ds, "_CACHE", ds._Cache(3))
    keys = AesGcmKeyRing.generate()
    for i in range(10):
        ds.device_key(keys, sealed(keys, ds.new_device_secret(), id=f"dev_{i}"))
    assert ds.cached_devices() == 3


def test_reseal_moves_a_secret_to_the_active_key_and_keeps_it() -> None:
    keys = AesGcmKeyRing.generate()
    secret = ds.new_device_secret()
    row = sealed(keys, secret)
    assert ds.reseal(keys, row) is None  # already under the active key
    old_key = keys.active_key_id
    keys.rotate()
    moved = ds.reseal(keys, row)
    assert moved is not None and moved["secret_key_id"] == keys.active_key_id
    keys.retire(old_key)
    assert ds.device_key(keys, {**row, **moved}) == secret.encode()
    assert ds.reseal(keys, {**row, "revoked_at_ms": 1}) is None


def test_the_install_key_ring_is_the_face_secrets_file_and_one_object(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path, face_secrets_file="")
    ring = configured_key_ring(settings)
    path = tmp_path / "face-secrets.json"
    assert path.stat().st_mode & 0o777 == 0o600
    assert configured_key_ring(settings) is ring
    assert load_or_create_secrets(path).key_ring.active_key_id == ring.active_key_id
    assert [p.name for p in tmp_path.iterdir()] == ["face-secrets.json"]  # no draft left
