"""Accounts, login lockout, one-time activation, password reset and login sessions: identity's rules in plain Python.

No Flask, no SQLAlchemy. Times are passed in (``now``) so that the rules can be
tested without waiting a day.
"""

from __future__ import annotations

import enum
import hashlib
import secrets
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Protocol

# The password rules live in their own module; re-exported here, where the flows look for them.
from identity.domain.password_policy import (
    check_password_policy,
)

# Human-typeable: no 0/O, 1/I/L, so that a code read off a letter is typed right.
ACTIVATION_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
ACTIVATION_CODE_LENGTH = 12
ACTIVATION_GROUP = 4


APPRENTICE_ROLE = "apprentice"


class AccountStatus(enum.StrEnum):
    PENDING_ACTIVATION = "pending_activation"
    ACTIVE = "active"
    # Administratively locked (by the chamber); the temporary lockout after
    # failed logins is ``Account.locked_until`` and does not change the status.
    LOCKED = "locked"


class PasswordHasher(Protocol):
    """The port for hashing passwords (argon2id in production): slow on purpose."""

    def hash(self, secret: str) -> str: ...

    def verify(self, hashed: str, secret: str) -> bool: ...

    def needs_rehash(self, hashed: str) -> bool: ...


class CodeHasher(Protocol):
    """The port for hashing one-time activation codes: a keyed hash (HMAC-SHA256 in production).

    The code is random and short-lived, so a slow hash buys nothing that the key does not:
    without the key, which is kept outside the database, a stored hash cannot be checked
    against guessed codes at all. ``verify`` compares in constant time.
    """

    def hash(self, code: str) -> str: ...

    def verify(self, hashed: str, code: str) -> bool: ...


# -- errors ---------------------------------------------------------------------------
class IdentityError(Exception):
    """A rule was broken; the message is for logs, the UI maps the type to German text."""


class InvalidCredentials(IdentityError):
    """Unknown login or wrong password: deliberately indistinguishable."""


class AccountLockedOut(IdentityError):
    def __init__(self, until: datetime) -> None:
        super().__init__(f"locked until {until.isoformat()}")
        self.until = until


class InvalidActivation(IdentityError):
    """Unknown Azubinummer or wrong code: deliberately indistinguishable."""


class ActivationCodeExpired(IdentityError):
    pass


class ActivationCodeUsed(IdentityError):
    pass


class InvalidPasswordReset(IdentityError):
    """Unknown, used, replaced or expired reset link: one answer for all of them."""


# -- value objects --------------------------------------------------------------------
@dataclass(frozen=True)
class LockoutPolicy:
    threshold: int = 5
    duration: timedelta = timedelta(hours=24)


def new_activation_code() -> str:
    """12 random characters from an unambiguous alphabet, grouped: ``ABCD-EFGH-JKMN`` (~59 bits)."""
    raw = "".join(secrets.choice(ACTIVATION_ALPHABET) for _ in range(ACTIVATION_CODE_LENGTH))
    return "-".join(raw[i : i + ACTIVATION_GROUP] for i in range(0, len(raw), ACTIVATION_GROUP))


def normalise_activation_code(typed: str) -> str:
    """What people type (lower case, spaces, missing dashes) in the canonical form."""
    raw = "".join(ch for ch in typed.upper() if ch.isalnum())
    return "-".join(raw[i : i + ACTIVATION_GROUP] for i in range(0, len(raw), ACTIVATION_GROUP))


def is_apprentice_number(login: str) -> bool:
    return len(login) == 8 and login.isdigit()


def new_password_reset_token() -> str:
    """256 random bits for the link in the reset mail."""
    return secrets.token_urlsafe(32)


def password_reset_token_hash(token: str) -> str:
    """SHA-256, neither argon2 nor keyed: the token has 256 random bits, so its hash cannot be
    inverted by guessing (a leaked database reveals no usable link), and it must be found by
    its hash."""
    return hashlib.sha256(token.encode()).hexdigest()


# -- the aggregate --------------------------------------------------------------------
@dataclass(frozen=True)
class Activation:
    """The account's current one-time activation code: only its keyed hash is kept
    (codes issued before the keyed hash: their argon2id hash, still accepted)."""

    code_hash: str
    expires_at: datetime
    used_at: datetime | None = None


@dataclass(frozen=True)
class NewActivationCode:
    """A fresh code and its keyed hash, made before any transaction opens."""

    code: str = field(repr=False)  # shown once, in the apprentice's letter
    code_hash: str

    @classmethod
    def generate(cls, code_hasher: CodeHasher) -> NewActivationCode:
        code = new_activation_code()
        return cls(code=code, code_hash=code_hasher.hash(code))


@dataclass(frozen=True)
class PasswordReset:
    """The one open reset link of an account; only the token's hash is kept."""

    token_hash: str
    expires_at: datetime


@dataclass(frozen=True)
class Registration:
    """The open confirmation link of a self-registered account; only the token's hash is kept."""

    token_hash: str
    expires_at: datetime


@dataclass(frozen=True)
class FailedLogin:
    """What one failed password attempt did: the lock's end if the account is locked now, and
    whether this very attempt set the lock (so that the owner is told once)."""

    locked_until: datetime | None
    just_locked: bool = False


@dataclass
class Account:
    id: uuid.UUID
    email: str
    name: str
    status: AccountStatus = AccountStatus.PENDING_ACTIVATION
    username: str | None = None
    apprentice_number: str | None = None
    password_hash: str | None = None
    roles: list[str] = field(default_factory=list)
    company_roles: dict[str, list[str]] = field(default_factory=dict)
    # {company_number: [exam_registration, ...]}: granted apart from the roles (domain/grants.py).
    service_rights: dict[str, list[str]] = field(default_factory=dict)
    failed_logins: int = 0
    locked_until: datetime | None = None
    activation: Activation | None = None
    password_reset: PasswordReset | None = None
    registration: Registration | None = None
    created_at: datetime | None = None
    activated_at: datetime | None = None
    last_login_at: datetime | None = None

    def __post_init__(self) -> None:
        self.email = self.email.strip().lower()

    # -- login ------------------------------------------------------------------------
    def is_locked_out(self, now: datetime) -> bool:
        return self.locked_until is not None and now < self.locked_until

    def refuse_login_early(self, now: datetime) -> None:
        """Refuse an attempt before its password is checked, or return.

        ``AccountLockedOut`` while locked (the password is not even checked, so that
        guessing is pointless during the lock); ``InvalidCredentials`` for a pending
        or an administratively locked account, which has no password to check.
        """
        if self.is_locked_out(now):
            assert self.locked_until is not None
            raise AccountLockedOut(self.locked_until)
        if self.status is not AccountStatus.ACTIVE or self.password_hash is None:
            raise InvalidCredentials("account cannot log in")

    def record_failed_login(self, now: datetime, policy: LockoutPolicy) -> None:
        """One more consecutive failure; the threshold's failure locks for the policy's duration.

        The database repository applies the same rule in one conditional UPDATE, so that
        concurrent attempts neither lose a count nor undo a lock.
        """
        if self.is_locked_out(now):
            return  # an attempt that lost the race against the locking one does not count
        self.failed_logins += 1
        if self.failed_logins >= policy.threshold:
            self.locked_until = now + policy.duration
            # After the lock expires the person gets a fresh set of attempts.
            self.failed_logins = 0

    def record_login(self, now: datetime, new_password_hash: str | None = None) -> None:
        """A successful login: the failure count starts over and an open reset link is void.

        ``new_password_hash``: the password re-hashed with the current argon2 cost,
        when the stored hash was made with older parameters.
        """
        self.failed_logins = 0
        self.locked_until = None
        self.last_login_at = now
        # The person remembered their password: a reset link sent earlier is void.
        self.password_reset = None
        if new_password_hash is not None:
            self.password_hash = new_password_hash

    def unlock(self) -> bool:
        """The chamber lifts a lockout (the failed attempts start over); True if there was one."""
        was_locked = self.locked_until is not None
        self.failed_logins = 0
        self.locked_until = None
        return was_locked

    def personal_data(self) -> tuple[str | None, ...]:
        """What a password must not be (``check_password_policy``'s ``personal``)."""
        return (self.email, self.name, self.username, self.apprentice_number)

    # -- activation --------------------------------------------------------------------
    def issue_activation_code(self, now: datetime, valid_for: timedelta, code_hasher: CodeHasher) -> str:
        """Replace any earlier code by a fresh one; returns the plain code (shown once)."""
        return self.accept_activation_code(NewActivationCode.generate(code_hasher), now, valid_for)

    def accept_activation_code(self, new: NewActivationCode, now: datetime, valid_for: timedelta) -> str:
        """Make ``new`` the account's only valid code (an earlier one stops working); returns it."""
        if self.status is not AccountStatus.PENDING_ACTIVATION:
            raise IdentityError("only accounts awaiting activation get an activation code")
        self.activation = Activation(code_hash=new.code_hash, expires_at=now + valid_for)
        return new.code

    def verify_activation(
        self, code: str, new_password: str, now: datetime, code_hasher: CodeHasher
    ) -> Activation:
        """Check the typed code and the new password; returns the code checked.

        Runs outside any transaction (a code hashed with argon2 before the keyed hash
        is slow to check); ``complete_activation`` then applies it under the row lock,
        if the account still has that code unused.
        """
        activation = self.check_activation_code(code, now, code_hasher)
        check_password_policy(new_password, self.personal_data())
        return activation

    def check_activation_code(self, code: str, now: datetime, code_hasher: CodeHasher) -> Activation:
        """The account's code if ``code`` is it, unused and unexpired (no transaction open: see above)."""
        activation = self.activation
        if activation is None or not code_hasher.verify(
            activation.code_hash, normalise_activation_code(code)
        ):
            raise InvalidActivation("no matching code")
        if activation.used_at is not None or self.status is not AccountStatus.PENDING_ACTIVATION:
            raise ActivationCodeUsed("code already used")
        if now >= activation.expires_at:
            raise ActivationCodeExpired("code expired")
        return activation

    def complete_activation(self, verified: Activation, password_hash: str, now: datetime) -> None:
        """Set the first password with a code ``verify_activation`` accepted; the code is used up."""
        activation = self.activation
        if activation is None or activation.code_hash != verified.code_hash:
            raise InvalidActivation("the code was replaced meanwhile")
        if activation.used_at is not None or self.status is not AccountStatus.PENDING_ACTIVATION:
            raise ActivationCodeUsed("code already used")
        self.activation = replace(activation, used_at=now)
        self.password_hash = password_hash
        self.status = AccountStatus.ACTIVE
        self.activated_at = now
        self.failed_logins = 0
        self.locked_until = None

    # -- password reset --------------------------------------------------------------------
    def may_reset_password_with(self, login: str) -> bool:
        """Apprentices must ask with their Azubinummer; others with username or e-mail."""
        if self.status is not AccountStatus.ACTIVE:
            return False
        if APPRENTICE_ROLE in self.roles:
            return is_apprentice_number(login.strip()) and login.strip() == self.apprentice_number
        return True

    def issue_password_reset(self, now: datetime, valid_for: timedelta) -> str:
        """Replace any earlier reset link by a fresh one; returns the plain token (sent once)."""
        if self.status is not AccountStatus.ACTIVE:
            raise IdentityError("only active accounts can reset their password")
        token = new_password_reset_token()
        self.password_reset = PasswordReset(password_reset_token_hash(token), expires_at=now + valid_for)
        return token

    def check_password_reset(self, token: str, now: datetime) -> None:
        reset = self.password_reset
        if (
            reset is None
            or self.status is not AccountStatus.ACTIVE
            or not secrets.compare_digest(reset.token_hash, password_reset_token_hash(token))
            or now >= reset.expires_at
        ):
            raise InvalidPasswordReset("no valid reset link")

    def reset_password(self, token: str, new_password_hash: str, now: datetime) -> None:
        """Set a new password (hashed beforehand, outside any transaction) through the
        reset link, which is then used up.

        Also lifts the temporary lockout: whoever holds the link controls the
        mailbox, so the failed attempts before are no reason to keep them out.
        """
        self.check_password_reset(token, now)
        self.password_hash = new_password_hash
        self.password_reset = None
        self.failed_logins = 0
        self.locked_until = None

    # -- roles ----------------------------------------------------------------------------
    def make_apprentice(self, apprentice_number: str) -> None:
        if self.apprentice_number is None:
            self.apprentice_number = apprentice_number
        if APPRENTICE_ROLE not in self.roles:
            self.roles = [*self.roles, APPRENTICE_ROLE]

    def claims(self) -> dict[str, object]:
        """The identity claims in tokens and userinfo (docs/service-conventions.md)."""
        return {
            "sub": str(self.id),
            "name": self.name,
            "email": self.email,
            "roles": sorted(self.roles),
            "company_roles": {number: sorted(roles) for number, roles in sorted(self.company_roles.items())},
            "service_rights": {
                number: sorted(rights) for number, rights in sorted(self.service_rights.items()) if rights
            },
            "apprentice_number": self.apprentice_number,
        }


# -- login sessions at the provider ------------------------------------------------------
def session_id_hash(session_id: str) -> str:
    """SHA-256: the id is long and random and must be found by its hash (no slow hash needed)."""
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


@dataclass
class LoginSession:
    """Someone is logged in at identity (the provider), in one browser.

    The browser's cookie names the session by a random id (256 bits); only its
    SHA-256 is kept, so a database leak logs nobody in. Whether someone is logged
    in is decided by this record, not by the cookie: ending it (logout, a new login
    in the same browser, a new password) kills every copy of the cookie.
    """

    id_hash: str
    account_id: uuid.UUID
    auth_time: datetime
    expires_at: datetime

    @classmethod
    def start(cls, account_id: uuid.UUID, now: datetime, lifetime: timedelta) -> tuple[LoginSession, str]:
        """A new session and the plain id for the cookie (which is not stored)."""
        session_id = secrets.token_urlsafe(32)
        return cls(session_id_hash(session_id), account_id, now, now + lifetime), session_id

    def is_live(self, now: datetime) -> bool:
        return now < self.expires_at


@dataclass(frozen=True)
class LoggedIn:
    """A login at the login page: the account, and the id of its new login session (for the cookie)."""

    account: Account
    session_id: str = field(repr=False)
