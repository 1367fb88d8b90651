"""identity's unit of work: accounts, the Azubinummer counter, login sessions, the OAuth store,
the audit log, invitations, the register's people per company, grants and deputyships."""

from __future__ import annotations

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
