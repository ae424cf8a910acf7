"""The key ring that seals store device secrets at rest: the install's own key ring (the face
secrets file, ``SMILEPAY_FACE_SECRETS_FILE`` or ``var_dir/face-secrets.json``, the one that
seals face templates), loaded once per process and path.

A missing file is created without replacing one another process made at the same moment
(written beside it, then hard-linked into place, which fails if the name exists), so two
workers starting together end up on the same keys. Keys are never logged.
"""

from __future__ import annotations

import threading
from pathlib import Path

from smilepay.adapters.crypto import AesGcmKeyRing, load_or_create_secrets
from smilepay.config import Settings, get_settings

_LOCK = threading.Lock()
_RINGS: dict[Path, AesGcmKeyRing] = {}


def secrets_path(settings: Settings | None = None) -> Path:
    found = settings or get_settings()
    return Path(found.face().secrets_file or found.var_dir / "face-secrets.json").resolve()


def configured_key_ring(settings: Settings | None = None) -> AesGcmKeyRing:
    """The install's key ring (created on first use), the same object for every caller."""
    path = secrets_path(settings)
    with _LOCK:
        ring = _RINGS.get(path)
        if ring is None:
            ring = load_or_create_secrets(path).key_ring  # created exclusively if missing
            _RINGS[path] = ring
        return ring
