"""identity's unit of work: accounts, the Azubinummer counter, login sessions, the OAuth store,
the audit log, invitations, the register's people per company, grants and deputyships."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from chassis.contracts.training import CompanyRegistered, ContractRegistered
from chassis.events.incoming import IncomingEvent
from chassis.repository import preload
from chassis.uow import SqlAlchemyUnitOfWork
from identity.adapters.access_data import (
    SqlAccessDataRequests,
    SqlCompanyAccesses,
    SqlInvitations,
    SqlRegister,
)
from identity.adapters.audit import SqlAuditLog
from identity.adapters.grants_repository import (
    SqlAccountGrants,
    SqlCompanyServices,
    SqlCompanyStructure,
    SqlDeputyships,
)
from identity.adapters.login_sessions import SqlLoginSessions
from identity.adapters.oauth_store import OAuthStore
from identity.adapters.repository import SqlAccounts, SqlApprenticeNumbers
from identity.domain.company_access import CompanyAccess


class IdentityUnitOfWork(SqlAlchemyUnitOfWork):
    accounts: SqlAccounts
    apprentice_numbers: SqlApprenticeNumbers
    login_sessions: SqlLoginSessions
    oauth: OAuthStore
    audit: SqlAuditLog
    invitations: SqlInvitations
    register: SqlRegister
    company_accesses: SqlCompanyAccesses
    access_data_requests: SqlAccessDataRequests
    account_grants: SqlAccountGrants
    company_services: SqlCompanyServices
    deputyships: SqlDeputyships
    company_structure: SqlCompanyStructure

    def _open(self) -> None:
        self.accounts = SqlAccounts(self.session)
        self.apprentice_numbers = SqlApprenticeNumbers(self.session)
        self.login_sessions = SqlLoginSessions(self.session)
        self.oauth = OAuthStore(self.session)
        self.audit = SqlAuditLog(self.session)
        self.invitations = SqlInvitations(self.session)
        self.register = SqlRegister(self.session)
        self.company_accesses = SqlCompanyAccesses(self.session)
        self.access_data_requests = SqlAccessDataRequests(self.session)
        self.account_grants = SqlAccountGrants(self.session)
        self.company_services = SqlCompanyServices(self.session)
        self.deputyships = SqlDeputyships(self.session)
        self.company_structure = SqlCompanyStructure(self.session)

    def prepare_batch(self, session: Session, events: Sequence[IncomingEvent[Any]]) -> None:
        """For a batch of the register's events (a bulk import brings thousands): the new companies'
        access data, in one query; for its registered contracts, the apprentices'
        accounts, locked, in one query, an Azubinummer for each contract in one UPDATE, and the
        register's apprentices of the contracts' companies in one query."""
        companies = sorted(
            {e.payload.company_number.strip() for e in events if isinstance(e.payload, CompanyRegistered)}
        )
        preload(session, CompanyAccess, companies)
        registered = [e.payload for e in events if isinstance(e.payload, ContractRegistered)]
        if not registered:
            return
        SqlAccounts(session).preload_by_email([contract.apprentice.email for contract in registered])
        SqlApprenticeNumbers(session).reserve(len(registered))
        SqlRegister(session).preload_apprentices([contract.company.company_number for contract in registered])
