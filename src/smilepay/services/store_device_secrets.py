"""Store device secrets at rest: sealed with the install's key ring, never stored in clear.

A device's secret is the HMAC key of its messages (``services.store_ingest``). The device
row keeps ``secret_key_id``, ``secret_nonce`` and ``secret_ciphertext``: AES-256-GCM under
the key ring (``ports.identity.KeyRing``), with the tenant, mode, store and device id as
associated data, so a sealed secret copied onto another device (or a device moved to another
store or tenant) does not open, and its message is rejected. A revoked device has none.

Ingestion opens a device's secret once and keeps it in a small in-process cache (at most
``CACHE_SIZE`` devices, least recently used dropped first). An entry is used only while the
row still holds the very ciphertext it was opened from, so a rotation or revocation committed
by any process takes effect on the next message; rotation and revocation also drop it here.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from typing import Any

from smilepay.domain.store.errors import DeviceAuthFailed
from smilepay.domain.templates import SealedBlob
from smilepay.errors import SmilePayError
from smilepay.ports.identity import KeyRing
from smilepay.ports.store import Row

CACHE_SIZE = 4096
SEALED_COLUMNS = ("secret_key_id", "secret_nonce", "secret_ciphertext")
_PURPOSE = b"smilepay/store/device-secret/v1"


def new_device_secret() -> str:
    """256 random bits as 64 hex digits (what a device is given, and its HMAC key)."""
    return secrets.token_hex(32)


def associated_data(device: Row) -> bytes:
    """What a sealed secret is bound to: tenant, mode, store and device."""
    parts = (device["tenant_id"], "live" if device["livemode"] else "test", device["store_id"],
             device["id"])
    return b"\x00".join([_PURPOSE, *(str(p).encode() for p in parts)])


def sealed_columns(keys: KeyRing, device: Row, secret: str) -> Row:
    """The columns that keep ``secret`` for ``device`` (a row with its ids)."""
    blob = keys.seal(secret.encode("ascii"), associated_data(device))
    return {"secret_key_id": blob.key_id, "secret_nonce": blob.nonce,
            "secret_ciphertext": blob.ciphertext}


def no_secret() -> Row:
    return dict.fromkeys(SEALED_COLUMNS)


def public_view(device: Row) -> Row:
    """A device row without its sealed secret."""
    return {k: v for k, v in device.items() if k not in SEALED_COLUMNS}


class _Cache:
    def __init__(self, size: int) -> None:
        self._size = size
        self._lock = threading.Lock()
        # device id -> (key ring, key id, nonce, ciphertext, associated data, secret)
        self._entries: OrderedDict[str, tuple[Any, ...]] = OrderedDict()

    def get(self, keys: KeyRing, device_id: str, sealed: tuple[Any, ...]) -> bytes | None:
        with self._lock:
            entry = self._entries.get(device_id)
            if entry is None or entry[0] is not keys or entry[1:-1] != sealed:
                return None
            self._entries.move_to_end(device_id)
            found: bytes = entry[-1]
            return found

    def put(self, keys: KeyRing, device_id: str, sealed: tuple[Any, ...], secret: bytes
            ) -> None:
        with self._lock:
            self._entries[device_id] = (keys, *sealed, secret)
            self._entries.move_to_end(device_id)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def forget(self, device_id: str) -> None:
        with self._lock:
            self._entries.pop(device_id, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


_CACHE = _Cache(CACHE_SIZE)


def forget(device_id: str) -> None:
    """Drop a device's opened secret from this process's cache (rotation, revocation)."""
    _CACHE.forget(device_id)


def clear_cache() -> None:
    _CACHE.clear()


def cached_devices() -> int:
    return len(_CACHE)


def device_key(keys: KeyRing, device: Row) -> bytes:
    """The HMAC key of ``device``'s messages; ``DeviceAuthFailed`` when it is revoked or its
    sealed secret does not open for it (tampered, copied from another device, unknown key):
    the message is rejected, never accepted on a guess."""
    if device.get("revoked_at_ms") is not None:
        raise DeviceAuthFailed("expected an active device, got a revoked one")
    key_id, nonce, ciphertext = (device.get(c) for c in SEALED_COLUMNS)
    if not isinstance(key_id, str) or nonce is None or ciphertext is None:
        raise DeviceAuthFailed("expected a device with a sealed secret, got one without")
    aad = associated_data(device)
    sealed = (key_id, bytes(nonce), bytes(ciphertext), aad)
    found = _CACHE.get(keys, device["id"], sealed)
    if found is not None:
        return found
    try:
        opened = keys.open(SealedBlob(key_id, sealed[1], sealed[2]), aad)
    except (SmilePayError, ValueError, TypeError):
        # the cause (wrong key, tampered, bound to another device) stays out of the message
        raise DeviceAuthFailed("expected a device secret that opens for this device, got one "
                               "that does not") from None
    _CACHE.put(keys, device["id"], sealed, opened)
    return opened


def reseal(keys: KeyRing, device: Row) -> Row | None:
    """New sealed columns under the key ring's active key, or None when already there (or
    revoked). Raises ``DeviceAuthFailed`` when the stored secret does not open."""
    if device.get("revoked_at_ms") is not None or device.get("secret_key_id") is None \
            or device["secret_key_id"] == keys.active_key_id:
        return None
    return sealed_columns(keys, device, device_key(keys, device).decode("ascii"))
