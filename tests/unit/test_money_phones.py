"""Phone numbers at rest: AES-GCM bound to the tenant, keyed lookups that do not link tenants."""

from __future__ import annotations

import pytest
from cryptography.exceptions import InvalidTag

from smilepay.services.phones import DEV_ONLY_MASTER_KEY, PhoneCipher


def test_phones_round_trip_and_are_bound_to_their_tenant() -> None:
    cipher = PhoneCipher(b"k" * 32)
    sealed = cipher.encrypt("+447700900123", "ten_a")
    assert b"900123" not in sealed and cipher.decrypt(sealed, "ten_a") == "+447700900123"
    with pytest.raises(InvalidTag):
        cipher.decrypt(sealed, "ten_b")
    assert cipher.encrypt("+447700900123", "ten_a") != sealed  # fresh nonce each time


def test_lookup_hashes_are_keyed_and_per_tenant() -> None:
    one, two = PhoneCipher(b"k" * 32), PhoneCipher(b"j" * 32)
    assert one.full_hmac("+447700900123", "ten_a") == one.full_hmac("+447700900123", "ten_a")
    assert one.full_hmac("+447700900123", "ten_a") != one.full_hmac("+447700900123", "ten_b")
    assert one.full_hmac("+447700900123", "ten_a") != two.full_hmac("+447700900123", "ten_a")
    assert one.last4_hmac_of("+447700900123", "ten_a") == one.last4_hmac("0123", "ten_a")
    assert PhoneCipher(DEV_ONLY_MASTER_KEY).is_dev_key and not one.is_dev_key
    with pytest.raises(ValueError, match="at least 32 bytes"):
        PhoneCipher(b"short")
