"""What people and operators ask identity to do (commands): frozen dataclasses for the message bus.

Secrets (passwords, codes, tokens, session ids) are kept out of every repr, so that
no log line or traceback shows them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from chassis.messages import Command


@dataclass(frozen=True)
class LogIn(Command):
    """Check a login (e-mail, username or Azubinummer) and password; answers the Account."""

    login: str
    password: str = field(repr=False)
    client: str | None = None  # the client's address, for the audit log


@dataclass(frozen=True)
class LogInAtProvider(Command):
    """``LogIn`` at identity's login page: a successful login also starts the login session at the
    provider (``StartLoginSession``, ending ``replaces``), in the same transaction as the login's
    record. Answers ``LoggedIn`` (the account and the session id for the cookie)."""

    login: str
    password: str = field(repr=False)
    client: str | None = None
    replaces: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class ActivateAccount(Command):
    """Set the first password with the Azubinummer and the one-time code from the letter."""

    apprentice_number: str
    activation_code: str = field(repr=False)
    new_password: str = field(repr=False)


@dataclass(frozen=True)
class RequestPasswordReset(Command):
    """Send a reset link to the account ``login`` names, if it may have one.

    ``link_prefix`` is the public URL of the reset page without the token; the link
    is ``link_prefix + token``.
    """

    login: str
    link_prefix: str


@dataclass(frozen=True)
class ResetPassword(Command):
    """Set a new password through the link of a reset mail."""

    token: str = field(repr=False)
    new_password: str = field(repr=False)


@dataclass(frozen=True)
class StartLoginSession(Command):
    """Log ``account_id`` in at the provider; answers the session id for the cookie.

    ``replaces`` is the session the browser had until now, which ends (no fixation).
    """

    account_id: uuid.UUID
    replaces: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class EndLoginSession(Command):
    """Log out at the provider: the session, and every copy of its cookie, ends."""

    session_id: str = field(repr=False)


@dataclass(frozen=True)
class RegisterClient(Command):
    """Register or update an OIDC client (idempotent); only the secret's SHA-256 is kept."""

    client_id: str
    secret: str = field(repr=False)
    name: str
    redirect_uris: tuple[str, ...]
    post_logout_redirect_uris: tuple[str, ...]
    scope: str
    grant_types: tuple[str, ...]
    token_endpoint_auth_method: str = "client_secret_basic"  # noqa: S105 - a method name
