"""Commands and queries of the access data: invitations (Account erstellen) and company access.

Secrets (passwords, link tokens, codes) are kept out of every repr.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from chassis.messages import Command
from chassis.principal import Principal


@dataclass(frozen=True)
class InviteApprentice(Command):
    """A company's Administrator or Verwalter creates the account of one of its apprentices."""

    principal: Principal
    company_number: str
    apprentice_number: str
    email: str


@dataclass(frozen=True)
class InviteTrainer(Command):
    """A company's Administrator or Verwalter creates the account of one of its trainers."""

    principal: Principal
    company_number: str
    trainer_id: uuid.UUID
    email: str


@dataclass(frozen=True)
class AcceptInvitation(Command):
    """Set the first password through the link of an invitation mail (Zugang einrichten)."""

    token: str = field(repr=False)
    new_password: str = field(repr=False)


@dataclass(frozen=True)
class CheckInvitation(Command):
    """Whether an invitation link can still set a password (raises ``InvalidInvitation`` if not)."""

    token: str = field(repr=False)


@dataclass(frozen=True)
class RedeemAccessCode(Command):
    """Zugang freischalten: a logged-in person enters a number and the code of an access letter.

    ``kind`` ``company``: ``number`` is the Identnummer, the person becomes the company's
    Administrator. ``apprentice``: ``number`` is the Azubinummer, the apprentice's record
    binds the person's account.
    """

    principal: Principal
    kind: str
    number: str
    code: str = field(repr=False)


@dataclass(frozen=True)
class RequestAccessData(Command):
    """Zugangsdaten erneut anfordern (public): answers nothing, whatever was entered."""

    kind: str
    number: str
    contact_name: str


@dataclass(frozen=True)
class ListAccessDataRequests(Command):
    principal: Principal
    open_only: bool = True
    limit: int = 100


@dataclass(frozen=True)
class FulfilAccessDataRequest(Command):
    """The chamber issues a new code (and so a new letter) for the request's number."""

    principal: Principal
    request_id: uuid.UUID
