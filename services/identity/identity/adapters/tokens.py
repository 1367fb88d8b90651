"""identity's validator of its own access tokens: the signature, and revocation too."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chassis.auth import TokenValidator, invalid_token
from chassis.principal import Principal


class RevocationCheckingTokenValidator(TokenValidator):
    """chassis' validator for identity's own API, which also sees revocation.

    Other services check an access token by its signature alone and accept it until
    it expires (5 minutes); identity keeps every token it issued and refuses one that
    was revoked (logout of a grant, a replayed code, a new password). ``is_revoked``
    asks identity's store (bound by the bootstrap to the ``IsAccessTokenRevoked`` query).
    """

    def __init__(
        self,
        keys: Callable[..., Any],
        *,
        issuer: str,
        audience: str,
        is_revoked: Callable[[str], bool],
    ) -> None:
        super().__init__(keys, issuer=issuer, audience=audience)
        self._is_revoked = is_revoked

    def validate(self, token: str) -> Principal:
        principal = super().validate(token)
        if self._is_revoked(token):
            raise invalid_token("revoked")
        return principal
