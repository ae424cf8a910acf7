"""Prefixed, time-ordered object ids (``pi_...``): sortable, so cursors are plain ids."""

from __future__ import annotations

import secrets

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lower case


def _base32(value: int, width: int) -> str:
    chars = []
    for _ in range(width):
        value, digit = divmod(value, 32)
        chars.append(_ALPHABET[digit])
    return "".join(reversed(chars))


def new_id(prefix: str, now_ms: int) -> str:
    """``prefix_`` + 10 chars of milliseconds + 16 random chars (80 bits)."""
    return f"{prefix}_{_base32(now_ms, 10)}{_base32(secrets.randbits(80), 16)}"
