"""Sealing what must not be stored in plain text: access data waiting for its contract, documents' content.

Both are kept only encrypted and authenticated (Fernet: AES-128-CBC + HMAC-SHA256), each
with its own key derived (HKDF-SHA256, a different ``purpose``) from the service's
secret, so a database dump alone never reveals an activation code.

- ``PENDING_ACCESS``: the activation code that arrived before its contract;
- ``SEALED_CONTENT``: the content of an issued document (its canonical JSON), which for
  an apprentice's confirmation holds the activation code, until the PDF is rendered from it.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from documents.domain.model import UnreadableSeal

PENDING_ACCESS = b"bildungsportal documents pending access v1"
SEALED_CONTENT = b"bildungsportal documents sealed content v1"

__all__ = ["PENDING_ACCESS", "SEALED_CONTENT", "FernetVault", "UnreadableSeal"]


class FernetVault:
    def __init__(self, secret: str, *, purpose: bytes = PENDING_ACCESS) -> None:
        if not secret:
            raise ValueError("the vault needs a non-empty secret")
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(secret.encode())
        self._fernet = Fernet(base64.urlsafe_b64encode(key))

    def seal(self, plain: str) -> bytes:
        return self._fernet.encrypt(plain.encode())

    def open(self, sealed: bytes) -> str:
        try:
            return self._fernet.decrypt(sealed).decode()
        except InvalidToken as exc:
            raise UnreadableSeal("sealed data cannot be opened with the configured secret") from exc
