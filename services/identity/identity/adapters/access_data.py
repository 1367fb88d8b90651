"""Repositories of invitations and of the register's people per company, in SQL."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from chassis.repository import batch_cache, known_absent, note_added
from identity.adapters.orm import access_data_requests, company_accesses, invitations, register_apprentices
from identity.domain.access_requests import AccessDataRequest
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


REGISTERED_APPRENTICES = "identity.registered_apprentices"


@dataclass
class _KnownApprentices:
    """A consumer batch's view of the register: every (Identnummer, Azubinummer) pair of the
    ``companies`` it loaded, and those added since."""

    companies: set[str]
    pairs: set[tuple[str, str]] = field(default_factory=set)


class SqlRegister:
    """The register's apprentices and trainers per company (identity's copy)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def apprentice(self, company_number: str, apprentice_number: str) -> RegisteredApprentice | None:
        return self.session.get(RegisteredApprentice, (company_number, apprentice_number))

    def add_apprentice(self, apprentice: RegisteredApprentice) -> None:
        key = (apprentice.company_number, apprentice.apprentice_number)
        known: _KnownApprentices | None = batch_cache(self.session).get(REGISTERED_APPRENTICES)
        if known is not None and apprentice.company_number in known.companies:
            # Answered from the batch's one query: no look-up per contract, and no flush of
            # the batch's other changes before it (they go out together at commit).
            if key not in known.pairs:
                known.pairs.add(key)
                self.session.add(apprentice)
            return
        if self.apprentice(*key) is None:
            self.session.add(apprentice)

    def preload_apprentices(self, company_numbers: Collection[str]) -> None:
        """For a consumer batch: the registered apprentices of these companies, in one query
        (the key's leading column); ``add_apprentice`` then knows without asking which exist."""
        wanted = sorted(set(company_numbers))
        if not wanted:
            return
        table = register_apprentices
        rows = self.session.execute(
            sa.select(table.c.company_number, table.c.apprentice_number).where(
                table.c.company_number.in_(wanted)
            )
        )
        known = _KnownApprentices(set(wanted), {(company, number) for company, number in rows})
        batch_cache(self.session)[REGISTERED_APPRENTICES] = known

    def trainer(self, trainer_id: uuid.UUID) -> RegisteredTrainer | None:
        return self.session.get(RegisteredTrainer, trainer_id)

    def add_trainer(self, trainer: RegisteredTrainer) -> None:
        self.session.add(trainer)


class SqlCompanyAccesses:
    """Companies' one-time Aktivierungscodes, by Identnummer."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, company_number: str, *, for_update: bool = False) -> CompanyAccess | None:
        company_number = company_number.strip()
        if known_absent(self.session, CompanyAccess, company_number):
            # A consumer batch's preload found none: a new company of the register. No look-up
            # (which would flush the batch's pending rows early); a concurrent insert of the same
            # company fails the batch on its primary key, and its events are handled again.
            return None
        query = sa.select(CompanyAccess).where(company_accesses.c.company_number == company_number)
        if for_update:
            query = query.with_for_update()
        return self.session.scalars(query).first()

    def add(self, access: CompanyAccess) -> None:
        self.session.add(access)
        note_added(self.session, access)

    def hand_over_apprentice_number(self, pending: Account, account: Account, number: str) -> None:
        """Move a (unique) Azubinummer from ``pending`` to ``account`` within one transaction:
        the old row lets go first, so the unique index never sees it twice."""
        pending.apprentice_number = None
        self.session.flush()
        account.make_apprentice(number)


class SqlAccessDataRequests:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, request: AccessDataRequest) -> None:
        self.session.add(request)

    def get(self, request_id: uuid.UUID, *, for_update: bool = False) -> AccessDataRequest | None:
        query = sa.select(AccessDataRequest).where(access_data_requests.c.id == request_id)
        if for_update:
            query = query.with_for_update()
        return self.session.scalars(query).first()

    def open_for(self, kind: str, number: str) -> AccessDataRequest | None:
        table = access_data_requests
        return self.session.scalars(
            sa.select(AccessDataRequest).where(
                table.c.kind == kind, table.c.number == number, table.c.fulfilled_at.is_(None)
            )
        ).first()

    def newest(self, *, open_only: bool, limit: int) -> list[AccessDataRequest]:
        table = access_data_requests
        query = (
            sa.select(AccessDataRequest).order_by(table.c.created_at.desc(), table.c.id.desc()).limit(limit)
        )
        if open_only:
            query = query.where(table.c.fulfilled_at.is_(None))
        return list(self.session.scalars(query))
