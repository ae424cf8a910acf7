"""Crypto adapters: ``AesGcmKeyRing`` (the ``KeyRing`` port) and ``TenantRotations``.

- AES-256-GCM with a random 96-bit nonce per seal. The associated data (tenant, template id,
  model id; see ``domain.templates.template_associated_data``) plus the key id are
  authenticated, so a ciphertext copied onto another template or tenant does not open.
- Keys have ids; ``rotate`` adds a key and makes it active; old keys still open old blobs
  until ``reseal`` has moved them; ``retire`` drops a key no blob uses any more.
- ``TenantRotations`` keeps one secret and hands out each tenant's orthogonal matrix
  (``domain.templates.tenant_rotation``), cached.
- ``load_or_create_secrets`` keeps the key ring and the rotation secret in one JSON file
  (mode 0600), written atomically. Keys are never logged.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from smilepay.adapters.files import write_file_atomically
from smilepay.domain.templates import Matrix, SealedBlob, tenant_rotation
from smilepay.errors import InvalidInput, SmilePayError

NONCE_BYTES = 12
KEY_BYTES = 32


class DecryptionFailed(SmilePayError):
    """A ciphertext did not authenticate (wrong key, tampered, or bound to other ids)."""

    code = "decryption_failed"


class UnknownKey(SmilePayError):
    code = "unknown_key"


def _bind(key_id: str, associated_data: bytes) -> bytes:
    return key_id.encode() + b"|" + associated_data


class AesGcmKeyRing:
    def __init__(self, keys: dict[str, bytes], active_key_id: str) -> None:
        if active_key_id not in keys:
            raise UnknownKey(f"expected the active key among {sorted(keys)}, got {active_key_id!r}")
        for kid, key in keys.items():
            if len(key) != KEY_BYTES:
                raise InvalidInput(f"expected a {KEY_BYTES}-byte key for {kid!r}, got {len(key)}")
        self._keys = dict(keys)
        self._active = active_key_id

    @classmethod
    def generate(cls) -> AesGcmKeyRing:
        kid = _new_key_id()
        return cls({kid: AESGCM.generate_key(bit_length=256)}, kid)

    @property
    def active_key_id(self) -> str:
        return self._active

    @property
    def key_ids(self) -> list[str]:
        return list(self._keys)

    def seal(self, plaintext: bytes, associated_data: bytes) -> SealedBlob:
        nonce = secrets.token_bytes(NONCE_BYTES)
        aead = AESGCM(self._keys[self._active])
        ciphertext = aead.encrypt(nonce, plaintext, _bind(self._active, associated_data))
        return SealedBlob(key_id=self._active, nonce=nonce, ciphertext=ciphertext)

    def open(self, blob: SealedBlob, associated_data: bytes) -> bytes:
        key = self._keys.get(blob.key_id)
        if key is None:
            raise UnknownKey(f"expected a key id in the ring, got {blob.key_id!r}")
        try:
            bound = _bind(blob.key_id, associated_data)
            return AESGCM(key).decrypt(blob.nonce, blob.ciphertext, bound)
        except InvalidTag:
            raise DecryptionFailed(
                "expected a ciphertext sealed for these ids with this key, got one that does "
                "not authenticate",
                key_id=blob.key_id,
            ) from None

    def reseal(self, blob: SealedBlob, associated_data: bytes) -> SealedBlob:
        if blob.key_id == self._active:
            return blob
        return self.seal(self.open(blob, associated_data), associated_data)

    def rotate(self) -> str:
        """Add a fresh key and make it the active one; its id."""
        kid = _new_key_id()
        self._keys[kid] = AESGCM.generate_key(bit_length=256)
        self._active = kid
        return kid

    def export_keys(self) -> dict[str, bytes]:
        """The raw keys, for the secrets file only."""
        return dict(self._keys)

    def retire(self, key_id: str) -> None:
        if key_id == self._active:
            raise InvalidInput(f"expected a non-active key to retire, got the active {key_id!r}")
        self._keys.pop(key_id, None)


def _new_key_id() -> str:
    return "key_" + secrets.token_hex(6)


class TenantRotations:
    """Each tenant's secret orthogonal rotation, derived from one secret and cached."""

    def __init__(self, secret: bytes, dim: int, cache_size: int = 32) -> None:
        if len(secret) < 16:
            raise InvalidInput(f"expected a rotation secret of >= 16 bytes, got {len(secret)}")
        self._secret = secret
        self.dim = dim
        self._cache: OrderedDict[tuple[str, int], Matrix] = OrderedDict()
        self._cache_size = cache_size

    def matrix(self, tenant_id: str, version: int) -> Matrix:
        key = (tenant_id, version)
        found = self._cache.get(key)
        if found is None:
            found = tenant_rotation(self._secret, tenant_id, version, self.dim)
            self._cache[key] = found
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(key)
        return found


@dataclass
class Secrets:
    key_ring: AesGcmKeyRing
    rotation_secret: bytes
    pepper: bytes  # keyed hashes (one-time codes)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def save_secrets(path: Path, found: Secrets) -> None:
    payload = {
        "active_key_id": found.key_ring.active_key_id,
        "keys": {kid: _b64(key) for kid, key in found.key_ring.export_keys().items()},
        "rotation_secret": _b64(found.rotation_secret),
        "pepper": _b64(found.pepper),
    }
    write_file_atomically(path, json.dumps(payload).encode(), mode=0o600)


def _create_exclusively(path: Path) -> None:
    """Write a fresh set beside ``path`` and hard-link it into place, which fails if the name
    exists: two processes starting together (``serve --workers 2``, a migration beside a
    server) end up on the same keys instead of one overwriting the other's."""
    fresh = Secrets(AesGcmKeyRing.generate(), secrets.token_bytes(32), secrets.token_bytes(32))
    draft = path.with_name(f".{path.name}.{secrets.token_hex(6)}.new")
    save_secrets(draft, fresh)  # 0600, fsynced
    try:
        os.link(draft, path)
    except FileExistsError:
        pass  # another process made it first: its keys win
    finally:
        draft.unlink(missing_ok=True)


def load_or_create_secrets(path: Path) -> Secrets:
    """The key ring and rotation secret in ``path``; a fresh set is created on first use
    (exclusively: the file another process created at the same moment wins)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        _create_exclusively(path)
    try:
        payload = json.loads(path.read_text())
        keys = {kid: base64.b64decode(v) for kid, v in payload["keys"].items()}
        ring = AesGcmKeyRing(keys, payload["active_key_id"])
        return Secrets(
            ring, base64.b64decode(payload["rotation_secret"]), base64.b64decode(payload["pepper"])
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise InvalidInput(f"expected a SmilePay secrets file at {path}, got {exc!r}") from exc
