"""identity's use cases: one function, one unit of work."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from identity.domain.model import (
    APPRENTICE_ROLE,
    Account,
    AccountLockedOut,
    AccountStatus,
    InvalidActivation,
    InvalidCredentials,
    InvalidPasswordReset,
    LockoutPolicy,
    PasswordHasher,
)
from identity.service_layer.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

APPRENTICE_ACCOUNT_PREPARED = "identity.apprentice_account.prepared"
ACCOUNT_ACTIVATED = "identity.account.activated"
PASSWORD_RESET_REQUESTED = "identity.password_reset.requested"  # noqa: S105 - an event type


@dataclass(frozen=True)
class TimingShield:
    """A hash to verify against when there is no account, so that unknown logins
    take as long as wrong passwords and do not reveal who has an account."""

    dummy_hash: str

    @classmethod
    def for_hasher(cls, hasher: PasswordHasher) -> TimingShield:
        return cls(hasher.hash("no account has this password"))

    def spend(self, hasher: PasswordHasher, secret: str) -> None:
        hasher.verify(self.dummy_hash, secret)


def authenticate(
    uow: UnitOfWork,
    login: str,
    password: str,
    *,
    now: datetime,
    hasher: PasswordHasher,
    policy: LockoutPolicy,
    shield: TimingShield,
) -> Account:
    """Check a login; raises ``InvalidCredentials`` or ``AccountLockedOut``."""
    with uow:
        account = uow.accounts.by_login(login, for_update=True)
        if account is None:
            shield.spend(hasher, password)
            raise InvalidCredentials("unknown login")
        if account.status is not AccountStatus.ACTIVE or account.password_hash is None:
            # No password to verify: spend a hash anyway, so that the answer's timing
            # does not tell a pending or disabled account from an unknown one.
            shield.spend(hasher, password)
        try:
            account.check_login(password, now, hasher, policy)
        except (InvalidCredentials, AccountLockedOut):
            # The failure counter and the lock must persist although the login fails.
            uow.accounts.save(account)
            uow.commit()
            raise
        uow.accounts.save(account)
        uow.commit()
        return account


def activate_account(
    uow: UnitOfWork,
    apprentice_number: str,
    code: str,
    new_password: str,
    *,
    now: datetime,
    hasher: PasswordHasher,
    shield: TimingShield,
) -> Account:
    """Activate with Azubinummer + one-time code; emits ``identity.account.activated``."""
    with uow:
        account = uow.accounts.by_apprentice_number(apprentice_number, for_update=True)
        if account is None or account.activation is None:
            # Same cost as checking a code, whether or not there is one to check.
            shield.spend(hasher, code)
        if account is None:
            raise InvalidActivation("unknown apprentice number")
        account.activate(code, new_password, now, hasher)
        uow.accounts.save(account)
        uow.emit(
            ACCOUNT_ACTIVATED,
            str(account.id),
            {
                "account_id": str(account.id),
                "apprentice_number": account.apprentice_number,
                "email": account.email,
                "activated_at": now.isoformat(),
            },
        )
        uow.commit()
        return account


def prepare_apprentice_account(
    uow: UnitOfWork,
    contract: Mapping[str, Any],
    *,
    now: datetime,
    hasher: PasswordHasher,
    valid_for: timedelta,
) -> None:
    """Give the apprentice of a newly registered contract an Azubinummer and an activation code.

    Runs inside the consumer's unit of work (the consumer commits, with the inbox row).

    - No account with the apprentice's e-mail: create one (pending activation).
    - A pending account: keep its Azubinummer (or assign one) and issue a fresh code;
      the earlier code stops working, so only the newest letter is valid.
    - An active or locked account: it already has access data. Make sure it holds
      the apprentice role and an Azubinummer, and announce the account without a
      code: the contract still needs the Azubinummer and the apprentice their
      Eintragungsbestätigung, and the person logs in as before.
    """
    apprentice = contract["apprentice"]
    email = str(apprentice["email"]).strip().lower()
    account = uow.accounts.by_email(email, for_update=True)
    if account is None:
        account = Account(
            id=uuid.uuid4(),
            email=email,
            name=f"{apprentice['first_name']} {apprentice['last_name']}",
            created_at=now,
        )
        account.make_apprentice(uow.apprentice_numbers.next())
        code = account.issue_activation_code(now, valid_for, hasher)
        uow.accounts.add(account)
    elif account.status is AccountStatus.PENDING_ACTIVATION:
        if account.apprentice_number is None:
            account.make_apprentice(uow.apprentice_numbers.next())
        else:
            account.make_apprentice(account.apprentice_number)
        code = account.issue_activation_code(now, valid_for, hasher)
        uow.accounts.save(account)
    else:
        if account.apprentice_number is None or APPRENTICE_ROLE not in account.roles:
            account.make_apprentice(account.apprentice_number or uow.apprentice_numbers.next())
            uow.accounts.save(account)
        log.info("apprentice account %s is already %s; no activation code issued", account.id, account.status)
        code = None
    assert account.apprentice_number is not None
    expires_at = account.activation.expires_at.isoformat() if code and account.activation else None
    uow.emit(
        APPRENTICE_ACCOUNT_PREPARED,
        str(account.id),
        {
            "account_id": str(account.id),
            "contract_id": str(contract["contract_id"]),
            "apprentice_number": account.apprentice_number,
            "activation_code": code,
            "activation_expires_at": expires_at,
            "email": account.email,
        },
    )


def request_password_reset(
    uow: UnitOfWork,
    login: str,
    *,
    now: datetime,
    valid_for: timedelta,
    reset_url: Callable[[str], str],
) -> None:
    """Send a reset link to an active account; emits ``identity.password_reset.requested``.

    Returns nothing on purpose: the caller answers the same whether or not a link
    went out, so the page does not tell who has an account. The mail leaves via
    the outbox, so known and unknown logins cost about the same here.
    """
    with uow:
        account = uow.accounts.by_login(login, for_update=True)
        if account is None or not account.may_reset_password_with(login):
            log.info("password reset requested for no account that may reset; no link sent")
            return
        token = account.issue_password_reset(now, valid_for)
        uow.accounts.save(account)
        assert account.password_reset is not None
        uow.emit(
            PASSWORD_RESET_REQUESTED,
            str(account.id),
            {
                "account_id": str(account.id),
                "email": account.email,
                "name": account.name,
                "reset_url": reset_url(token),
                "expires_at": account.password_reset.expires_at.isoformat(),
            },
        )
        uow.commit()


def check_password_reset_link(uow: UnitOfWork, token: str, *, now: datetime) -> None:
    """Raises ``InvalidPasswordReset`` unless the link can still set a password."""
    with uow:
        account = uow.accounts.by_password_reset_token(token)
        if account is None:
            raise InvalidPasswordReset("unknown token")
        account.check_password_reset(token, now)


def reset_password(
    uow: UnitOfWork, token: str, new_password: str, *, now: datetime, hasher: PasswordHasher
) -> Account:
    """Set a new password through a reset link; raises ``InvalidPasswordReset`` or
    ``PasswordPolicyViolation``."""
    with uow:
        account = uow.accounts.by_password_reset_token(token, for_update=True)
        if account is None:
            raise InvalidPasswordReset("unknown token")
        account.reset_password(token, new_password, now, hasher)
        uow.accounts.save(account)
        uow.commit()
        return account
