"""The questions identity answers (queries): frozen dataclasses for the message bus."""

from __future__ import annotations

from dataclasses import dataclass, field

from chassis.messages import Query
from chassis.principal import Principal


@dataclass(frozen=True)
class GetOwnAccount(Query):
    """The caller's own account (``/accounts/me``)."""

    principal: Principal


@dataclass(frozen=True)
class CheckPasswordResetLink(Query):
    """Whether a reset link can still set a password; raises ``InvalidPasswordReset`` if not."""

    token: str = field(repr=False)


@dataclass(frozen=True)
class FindLoginSession(Query):
    """The live login session a cookie names, or None."""

    session_id: str = field(repr=False)


@dataclass(frozen=True)
class IsAccessTokenRevoked(Query):
    """Whether identity refuses an access token it issued (revoked, or never ours)."""

    access_token: str = field(repr=False)
