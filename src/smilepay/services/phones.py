"""Phone numbers at rest: AES-GCM ciphertext plus keyed HMACs for lookup.

Two lookups are needed: by the full number (enrolment, support) and by the last four digits
(the face-pay flow narrows a candidate set by them). Both are HMAC-SHA256 under a key derived
from the master key and salted with the tenant, so equal numbers at two tenants do not link.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from smilepay.domain.customers import last_four

DEV_ONLY_MASTER_KEY = hashlib.sha256(b"smilepay DEV-ONLY phone key, not for production").digest()


def _derive(master_key: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(master_key)


class PhoneCipher:
    def __init__(self, master_key: bytes) -> None:
        if len(master_key) < 32:
            raise ValueError(f"expected a master key of at least 32 bytes, got {len(master_key)}")
        self._aead = AESGCM(_derive(master_key, b"smilepay phone aes-gcm"))
        self._mac_key = _derive(master_key, b"smilepay phone hmac")
        self.is_dev_key = master_key == DEV_ONLY_MASTER_KEY

    def encrypt(self, phone_e164: str, tenant_id: str) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, phone_e164.encode(), tenant_id.encode())

    def decrypt(self, ciphertext: bytes, tenant_id: str) -> str:
        return self._aead.decrypt(ciphertext[:12], ciphertext[12:], tenant_id.encode()).decode()

    def _mac(self, tenant_id: str, label: str, value: str) -> str:
        message = f"{tenant_id}|{label}|{value}".encode()
        return hmac.new(self._mac_key, message, hashlib.sha256).hexdigest()

    def full_hmac(self, phone_e164: str, tenant_id: str) -> str:
        return self._mac(tenant_id, "full", phone_e164)

    def last4_hmac(self, last4: str, tenant_id: str) -> str:
        return self._mac(tenant_id, "last4", last4)

    def last4_hmac_of(self, phone_e164: str, tenant_id: str) -> str:
        return self.last4_hmac(last_four(phone_e164), tenant_id)
