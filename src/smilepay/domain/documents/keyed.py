"""The document number as it is kept: a keyed hash (HMAC-SHA256), never the number."""

from __future__ import annotations

import hashlib
import hmac

from smilepay.domain.documents.types import DocumentType
from smilepay.errors import InvalidInput

MIN_KEY_BYTES = 16


def document_number_digest(key: bytes, document_type: DocumentType, country: str,
                           number: str) -> str:
    """HMAC-SHA256 of ``type|country|number`` under ``key``: the same document always gives the
    same digest (so one document links one account), and it cannot be reversed without the key."""
    if len(key) < MIN_KEY_BYTES:
        raise InvalidInput(f"expected a key of >= {MIN_KEY_BYTES} bytes, got {len(key)}")
    message = f"{document_type.value}|{country.upper()}|{number.upper()}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()
