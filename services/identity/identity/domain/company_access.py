"""A company's access: the register's people per company, and the company's one-time Aktivierungscode.

identity learns the people from training-records' events, to let a company's Administrator or
Verwalter create accounts for the company's apprentices and trainers and nobody else's. The
code comes with the company's access letter (Anschreiben): a logged-in person who enters the
Identnummer with it becomes the company's Administrator ("Zugang freischalten").
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from identity.domain.invitations import grant_company_role
from identity.domain.model import (
    APPRENTICE_ROLE,
    Account,
    AccountStatus,
    Activation,
    ActivationCodeExpired,
    ActivationCodeUsed,
    CodeHasher,
    IdentityError,
    InvalidActivation,
    NewActivationCode,
    normalise_activation_code,
)

# Whoever redeems a company's access letter becomes its Administrator.
COMPANY_ADMIN_ROLE = "admin"


@dataclass
class RegisteredApprentice:
    """An apprentice (by Azubinummer) with a registered contract at the company."""

    company_number: str
    apprentice_number: str
    name: str


@dataclass
class RegisteredTrainer:
    """A trainer of the company as the register holds them (``removed`` once they left)."""

    trainer_id: uuid.UUID
    company_number: str
    name: str
    email: str
    removed: bool = False


@dataclass(frozen=True)
class CompanyMasterData:
    """What a company's access letter is addressed with, as the register states it."""

    name: str
    street: str | None
    postal_code: str | None
    city: str | None


@dataclass
class CompanyAccess:
    """A company's one-time Aktivierungscode (from its access letter): whoever is logged in and
    enters the Identnummer with it becomes the company's Administrator. Only its keyed hash is
    kept; a newer code replaces the earlier one."""

    company_number: str
    name: str
    street: str | None = None
    postal_code: str | None = None
    city: str | None = None
    code_hash: str | None = None
    expires_at: datetime | None = None
    issued_at: datetime | None = None
    used_at: datetime | None = None
    redeemed_by: uuid.UUID | None = None
    # When the register stated the name and address held here (the event's time): an older
    # statement arriving later changes nothing.
    master_data_at: datetime | None = None

    def follow_master_data(self, data: CompanyMasterData, as_of: datetime) -> bool:
        """Take the register's name and address as of ``as_of`` (the next letter goes there),
        unless what is held is newer; whether it was taken."""
        if self.master_data_at is not None and as_of <= self.master_data_at:
            return False
        self.name, self.street, self.postal_code, self.city = (
            data.name,
            data.street,
            data.postal_code,
            data.city,
        )
        self.master_data_at = as_of
        return True

    def accept_code(self, new: NewActivationCode, now: datetime, valid_for: timedelta) -> str:
        """Make ``new`` the company's only valid code; returns it (shown once, in the letter)."""
        self.code_hash = new.code_hash
        self.expires_at = now + valid_for
        self.issued_at = now
        self.used_at = None
        self.redeemed_by = None
        return new.code

    def verify(self, code: str, now: datetime, code_hasher: CodeHasher) -> str:
        """Check a typed code (no transaction open); returns the hash it matched."""
        if self.code_hash is None or not code_hasher.verify(self.code_hash, normalise_activation_code(code)):
            raise InvalidActivation("no matching code")
        if self.used_at is not None:
            raise ActivationCodeUsed("code already used")
        assert self.expires_at is not None
        if now >= self.expires_at:
            raise ActivationCodeExpired("code expired")
        return self.code_hash

    def redeem(self, verified_hash: str, account: Account, now: datetime) -> None:
        """Use the code ``verify`` accepted: ``account`` becomes the company's Administrator."""
        if self.code_hash != verified_hash:
            raise InvalidActivation("the code was replaced meanwhile")
        if self.used_at is not None:
            raise ActivationCodeUsed("code already used")
        self.used_at = now
        self.redeemed_by = account.id
        grant_company_role(account, self.company_number, COMPANY_ADMIN_ROLE)


def take_over_apprentice(pending: Account, account: Account, verified: Activation, now: datetime) -> str:
    """The apprentice's code (from the letter of a pending account) binds the logged-in ``account``:
    the Azubinummer and the apprentice role move to it, and the pending account is retired
    (locked, without role; its number is handed over by the repository), so that nobody
    activates it any more. Returns the number."""
    activation = pending.activation
    if activation is None or activation.code_hash != verified.code_hash:
        raise InvalidActivation("the code was replaced meanwhile")
    if activation.used_at is not None or pending.status is not AccountStatus.PENDING_ACTIVATION:
        raise ActivationCodeUsed("code already used")
    number = pending.apprentice_number
    assert number is not None
    if account.apprentice_number not in (None, number):
        raise ApprenticeNumberTaken("the account already belongs to another apprentice")
    pending.activation = replace(activation, used_at=now)
    pending.roles = [role for role in pending.roles if role != APPRENTICE_ROLE]
    pending.status = AccountStatus.LOCKED
    # The number itself moves with the repository's ``hand_over_apprentice_number`` (it is unique).
    return number


class ApprenticeNumberTaken(IdentityError):
    """The logged-in account already holds another Azubinummer."""
