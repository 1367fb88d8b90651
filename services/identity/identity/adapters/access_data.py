"""Repositories of invitations and of the register's people per company, in SQL."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Session

from identity.adapters.orm import company_accesses, invitations
from identity.domain.company_access import CompanyAccess, RegisteredApprentice, RegisteredTrainer
from identity.domain.invitations import Invitation, invitation_token_hash
from identity.domain.model import Account


class SqlInvitations:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, invitation: Invitation) -> None:
        self.session.add(invitation)

    def replace_open(self, account_id: uuid.UUID) -> None:
        # Deleted, not marked: a replaced link is as dead as one never issued.
        for invitation in self.session.scalars(
            sa.select(Invitation).where(invitations.c.account_id == account_id)
        ):
            self.session.delete(invitation)
        self.session.flush()

    def by_token(self, token: str, *, for_update: bool = False) -> Invitation | None:
        query = sa.select(Invitation).where(invitations.c.token_hash == invitation_token_hash(token))
        if for_update:
            query = query.with_for_update()
        return self.session.scalars(query).first()


class SqlRegister:
    """The register's apprentices and trainers per company (identity's copy)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def apprentice(self, company_number: str, apprentice_number: str) -> RegisteredApprentice | None:
        return self.session.get(RegisteredApprentice, (company_number, apprentice_number))

    def add_apprentice(self, apprentice: RegisteredApprentice) -> None:
        if self.apprentice(apprentice.company_number, apprentice.apprentice_number) is None:
            self.session.add(apprentice)

    def trainer(self, trainer_id: uuid.UUID) -> RegisteredTrainer | None:
        return self.session.get(RegisteredTrainer, trainer_id)

    def add_trainer(self, trainer: RegisteredTrainer) -> None:
        self.session.add(trainer)


class SqlCompanyAccesses:
    """Companies' one-time Aktivierungscodes, by Identnummer."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, company_number: str, *, for_update: bool = False) -> CompanyAccess | None:
        query = sa.select(CompanyAccess).where(company_accesses.c.company_number == company_number.strip())
        if for_update:
            query = query.with_for_update()
        return self.session.scalars(query).first()

    def add(self, access: CompanyAccess) -> None:
        self.session.add(access)

    def hand_over_apprentice_number(self, pending: Account, account: Account, number: str) -> None:
        """Move a (unique) Azubinummer from ``pending`` to ``account`` within one transaction:
        the old row lets go first, so the unique index never sees it twice."""
        pending.apprentice_number = None
        self.session.flush()
        account.make_apprentice(number)
