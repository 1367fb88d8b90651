"""Use cases of self-registration, the chamber's unlock and the audit log.

Merged into the message bus by the bootstrap, beside ``handlers.COMMAND_HANDLERS``.
As everywhere in identity, argon2 runs with no transaction open.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError

from chassis.contracts.identity import AccountLinkUsed, RegistrationForExistingAccount, RegistrationRequested
from chassis.domain import NotFound
from chassis.pagination import Page
from identity.domain import access, registration
from identity.domain.account_commands import (
    CheckRegistrationLink,
    ConfirmRegistration,
    FindAccountLock,
    ListAuditRecords,
    Register,
    ResendRegistrationLink,
    UnlockAccount,
)
from identity.domain.audit import AuditKind, AuditRecord
from identity.domain.model import Account, PasswordHasher, check_password_policy
from identity.service_layer.links import AccountLinks
from identity.service_layer.unit_of_work import IdentityUnitOfWork

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def _tell_existing(uow: IdentityUnitOfWork, account: Account, links: AccountLinks) -> None:
    uow.emit(
        RegistrationForExistingAccount(
            account_id=account.id,
            email=account.email,
            name=account.name,
            password_forgotten_url=links.password_forgotten,
        ),
        subject=str(account.id),
    )


def _send_link(uow: IdentityUnitOfWork, account: Account, token: str, links: AccountLinks) -> None:
    assert account.registration is not None
    uow.emit(
        RegistrationRequested(
            account_id=account.id,
            email=account.email,
            name=account.name,
            confirm_url=links.registration_confirm(token),
            expires_at=account.registration.expires_at,
        ),
        subject=str(account.id),
    )


def register(
    cmd: Register,
    uow: IdentityUnitOfWork,
    *,
    hasher: PasswordHasher,
    clock: Clock,
    links: AccountLinks,
    registration_valid_for: timedelta,
) -> None:
    """Register; raises only ``PasswordPolicyViolation`` (before anything is looked up).

    Returns nothing on purpose: the page answers the same for a new and a known
    address. A new address gets a confirmation link; an unconfirmed registration a
    fresh one (with the new name and password); an existing account a mail saying so.
    """
    email = cmd.email.strip().lower()
    check_password_policy(cmd.password, (email, cmd.name))
    # Hashed for every address, known or not: the same work, the same timing.
    password_hash = hasher.hash(cmd.password)
    now = clock()
    for attempt in range(2):
        try:
            with uow:
                account = uow.accounts.by_email(email, for_update=True)
                if account is None:
                    account, token = registration.register(
                        email, cmd.name, password_hash, now, registration_valid_for
                    )
                    uow.accounts.add(account)
                    _send_link(uow, account, token, links)
                    details: dict[str, str | bool | None] = {"outcome": "new", "client": cmd.client}
                elif registration.is_open_registration(account):
                    token = registration.register_again(
                        account, cmd.name, password_hash, now, registration_valid_for
                    )
                    _send_link(uow, account, token, links)
                    details = {"outcome": "renewed", "client": cmd.client}
                else:
                    _tell_existing(uow, account, links)
                    details = {"outcome": "existing_account", "client": cmd.client}
                uow.audit.record(AuditKind.ACCOUNT_REGISTERED, account.id, details=details, at=now)
                uow.commit()
            return
        except IntegrityError:
            # The same address registered at the same moment: the second time it is known.
            if attempt:
                raise


def resend_registration_link(
    cmd: ResendRegistrationLink,
    uow: IdentityUnitOfWork,
    *,
    clock: Clock,
    links: AccountLinks,
    registration_valid_for: timedelta,
) -> None:
    """A new link for an unconfirmed registration; the same answer (nothing) for any address."""
    now = clock()
    with uow:
        account = uow.accounts.by_email(cmd.email, for_update=True)
        if account is None:
            log.info("registration link asked for an unknown address; nothing sent")
            return
        if registration.is_open_registration(account):
            _send_link(uow, account, registration.renew_link(account, now, registration_valid_for), links)
        else:
            _tell_existing(uow, account, links)
        uow.commit()


def check_registration_link(query: CheckRegistrationLink, uow: IdentityUnitOfWork, *, clock: Clock) -> None:
    with uow:
        account = uow.accounts.by_registration_token(query.token)
    registration.check_registration_link(account, query.token, clock())


def confirm_registration(
    cmd: ConfirmRegistration, uow: IdentityUnitOfWork, *, hasher: PasswordHasher, clock: Clock
) -> Account:
    """Confirm with the link and the registration's password; the account is active after.

    Raises ``InvalidRegistrationLink``, ``RegistrationLinkExpired`` or
    ``WrongRegistrationPassword``. The password is verified with no transaction open.
    """
    now = clock()
    with uow:
        found = uow.accounts.by_registration_token(cmd.token)
    account = registration.check_registration_link(found, cmd.token, now)
    verified_hash = account.password_hash
    if verified_hash is None or not hasher.verify(verified_hash, cmd.password):
        raise registration.WrongRegistrationPassword("not the registration's password")
    with uow:
        locked = uow.accounts.by_registration_token(cmd.token, for_update=True)
        if locked is None:
            raise registration.InvalidRegistrationLink("the link was used or replaced meanwhile")
        used = locked.registration
        registration.confirm(locked, cmd.token, verified_hash, now)
        uow.audit.record(AuditKind.REGISTRATION_CONFIRMED, locked.id, at=now)
        assert used is not None
        uow.emit(
            AccountLinkUsed(account_id=locked.id, link="registration", expires_at=used.expires_at),
            subject=str(locked.id),
        )
        uow.commit()
    return locked


# -- the chamber's tools ---------------------------------------------------------------------------
@dataclass(frozen=True)
class AccountLock:
    """What the chamber sees of an account to decide about its lock (no secret, no hash)."""

    account_id: uuid.UUID
    name: str
    email: str
    apprentice_number: str | None
    status: str
    locked_until: datetime | None
    failed_logins: int

    @classmethod
    def of(cls, account: Account, now: datetime) -> AccountLock:
        return cls(
            account_id=account.id,
            name=account.name,
            email=account.email,
            apprentice_number=account.apprentice_number,
            status=account.status.value,
            locked_until=account.locked_until if account.is_locked_out(now) else None,
            failed_logins=account.failed_logins,
        )


NO_SUCH_ACCOUNT = "No account with this e-mail address or Azubinummer."


def find_account_lock(query: FindAccountLock, uow: IdentityUnitOfWork, *, clock: Clock) -> AccountLock:
    access.may_unlock_accounts(query.principal)
    with uow:
        account = uow.accounts.by_login(query.login)
    if account is None:
        raise NotFound(NO_SUCH_ACCOUNT)
    return AccountLock.of(account, clock())


def unlock_account(cmd: UnlockAccount, uow: IdentityUnitOfWork, *, clock: Clock) -> AccountLock:
    """Lift the lockout (idempotent); recorded in the audit log with who did it."""
    access.may_unlock_accounts(cmd.principal)
    now = clock()
    with uow:
        account = uow.accounts.get(cmd.account_id)
        if account is None:
            raise NotFound(NO_SUCH_ACCOUNT)
        was_locked = account.is_locked_out(now)
        account.unlock()
        uow.audit.record(
            AuditKind.ACCOUNT_UNLOCKED,
            account.id,
            actor_id=access.own_account_id(cmd.principal),
            details={"was_locked": was_locked},
            at=now,
        )
        uow.commit()
        return AccountLock.of(account, now)


def list_audit_records(query: ListAuditRecords, uow: IdentityUnitOfWork) -> Page[AuditRecord]:
    access.may_read_audit_log(query.principal)
    with uow:
        return uow.audit.page_matching(query.filter, query.page)


COMMAND_HANDLERS: Mapping[type, Callable[..., Any]] = {
    Register: register,
    ResendRegistrationLink: resend_registration_link,
    CheckRegistrationLink: check_registration_link,
    ConfirmRegistration: confirm_registration,
    FindAccountLock: find_account_lock,
    UnlockAccount: unlock_account,
    ListAuditRecords: list_audit_records,
}
# Registration and the chamber's tools consume no events.
EVENT_HANDLERS: Mapping[str, Callable[..., None]] = {}
