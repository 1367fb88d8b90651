"""Self-registration (Registrieren): name, e-mail and password, confirmed by a mailed link.

The link's token has 256 random bits; only its SHA-256 is kept (as for the reset
link). It is valid 24 hours by default and once. Confirming asks for the password
chosen at registration: someone who registered another person's e-mail address
cannot have that person confirm an account whose password the registrant knows
(pre-account hijacking). An address that already has an account gets no link: the
page answers the same, and the mail tells the owner they already have an account.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime, timedelta

from identity.domain.model import (
    Account,
    AccountStatus,
    IdentityError,
    Registration,
    new_password_reset_token,
    password_reset_token_hash,
)


class InvalidRegistrationLink(IdentityError):
    """Unknown, used or replaced confirmation link."""


class RegistrationLinkExpired(IdentityError):
    """The link is the account's current one but older than its validity."""


class WrongRegistrationPassword(IdentityError):
    """The password typed to confirm is not the one chosen at registration."""


def is_open_registration(account: Account) -> bool:
    """A self-registered account whose owner has not confirmed yet."""
    return account.status is AccountStatus.PENDING_ACTIVATION and account.registration is not None


def _issue(account: Account, now: datetime, valid_for: timedelta) -> str:
    token = new_password_reset_token()
    account.registration = Registration(password_reset_token_hash(token), expires_at=now + valid_for)
    return token


def register(
    email: str, name: str, password_hash: str, now: datetime, valid_for: timedelta
) -> tuple[Account, str]:
    """A new account awaiting confirmation, and the plain token for its link (sent once)."""
    account = Account(
        id=uuid.uuid4(),
        email=email,
        name=" ".join(name.split()),
        status=AccountStatus.PENDING_ACTIVATION,
        password_hash=password_hash,
        created_at=now,
    )
    return account, _issue(account, now, valid_for)


def register_again(
    account: Account, name: str, password_hash: str, now: datetime, valid_for: timedelta
) -> str:
    """The same address registers again before confirming: new name, password and link
    (the earlier link stops working)."""
    if not is_open_registration(account):
        raise IdentityError("only an unconfirmed registration can be renewed")
    account.name = " ".join(name.split())
    account.password_hash = password_hash
    return _issue(account, now, valid_for)


def renew_link(account: Account, now: datetime, valid_for: timedelta) -> str:
    """A fresh link for an unconfirmed registration (the old one expired or got lost)."""
    if not is_open_registration(account):
        raise IdentityError("only an unconfirmed registration gets a new link")
    return _issue(account, now, valid_for)


def check_registration_link(account: Account | None, token: str, now: datetime) -> Account:
    """The account ``token`` confirms; ``InvalidRegistrationLink`` or ``RegistrationLinkExpired`` if none."""
    if account is None or not is_open_registration(account):
        raise InvalidRegistrationLink("no open registration for this link")
    registration = account.registration
    assert registration is not None
    if not secrets.compare_digest(registration.token_hash, password_reset_token_hash(token)):
        raise InvalidRegistrationLink("the link was replaced")
    if now >= registration.expires_at:
        raise RegistrationLinkExpired("the link expired")
    return account


def confirm(account: Account, token: str, verified_hash: str, now: datetime) -> None:
    """Activate the account through its link; the link is used up.

    ``verified_hash``: the password hash the typed password was checked against, so that
    a registration renewed meanwhile (new password) does not confirm with the old one.
    """
    check_registration_link(account, token, now)
    if account.password_hash != verified_hash:
        raise WrongRegistrationPassword("the registration changed meanwhile")
    account.registration = None
    account.status = AccountStatus.ACTIVE
    account.activated_at = now
    account.failed_logins = 0
    account.locked_until = None
