"""A test token issuer: signs access tokens the way identity does, with its own key."""

from __future__ import annotations

import time
import uuid
from typing import Any

from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from chassis.auth import TokenValidator


class TestIssuer:
    __test__ = False  # not a pytest test class

    def __init__(self, issuer: str = "http://issuer.test/auth", audience: str = "bildungsportal"):
        self.issuer = issuer
        self.audience = audience
        self.key = RSAKey.generate_key(
            2048, parameters={"kid": uuid.uuid4().hex, "use": "sig", "alg": "RS256"}
        )
        self.key_set = KeySet([self.key])

    def keys(self, force: bool = False) -> KeySet:
        return self.key_set

    def validator(self) -> TokenValidator:
        return TokenValidator(self.keys, issuer=self.issuer, audience=self.audience)

    def token(self, subject: str | None = None, *, lifetime: int = 300, **claims: Any) -> str:
        now = int(time.time())
        body = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": subject or str(uuid.uuid4()),
            "iat": now,
            "exp": now + lifetime,
            "jti": uuid.uuid4().hex,
            **claims,
        }
        return jwt.encode({"alg": "RS256", "kid": self.key.kid}, body, self.key)

    def header(self, subject: str | None = None, **claims: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(subject, **claims)}"}
