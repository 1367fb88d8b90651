"""Sealing access data that must wait for its contract.

The activation code may arrive before the contract it belongs to. Until the
apprentice's confirmation is printed it is kept only encrypted and
authenticated (Fernet: AES-128-CBC + HMAC-SHA256), with a key derived from the
service's secret, so a database dump alone never reveals a code.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_KEY_INFO = b"bildungsportal documents pending access v1"


class UnreadableSeal(Exception):
    """Sealed access data cannot be opened (the secret changed or the data was altered)."""


class FernetVault:
    def __init__(self, secret: str) -> None:
        if not secret:
            raise ValueError("the vault needs a non-empty secret")
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_KEY_INFO).derive(secret.encode())
        self._fernet = Fernet(base64.urlsafe_b64encode(key))

    def seal(self, plain: str) -> bytes:
        return self._fernet.encrypt(plain.encode())

    def open(self, sealed: bytes) -> str:
        try:
            return self._fernet.decrypt(sealed).decode()
        except InvalidToken as exc:
            raise UnreadableSeal("sealed access data cannot be opened with the configured secret") from exc
