"""identity's unit of work: accounts, the Azubinummer counter, login sessions and the OAuth store."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from chassis.contracts.training import ContractRegistered
from chassis.events.incoming import IncomingEvent
from chassis.uow import SqlAlchemyUnitOfWork
from identity.adapters.login_sessions import SqlLoginSessions
from identity.adapters.oauth_store import OAuthStore
from identity.adapters.repository import SqlAccounts, SqlApprenticeNumbers


class IdentityUnitOfWork(SqlAlchemyUnitOfWork):
    accounts: SqlAccounts
    apprentice_numbers: SqlApprenticeNumbers
    login_sessions: SqlLoginSessions
    oauth: OAuthStore

    def _open(self) -> None:
        self.accounts = SqlAccounts(self.session)
        self.apprentice_numbers = SqlApprenticeNumbers(self.session)
        self.login_sessions = SqlLoginSessions(self.session)
        self.oauth = OAuthStore(self.session)

    def prepare_batch(self, session: Session, events: Sequence[IncomingEvent[Any]]) -> None:
        """For a batch of registered contracts (a bulk import brings thousands): the apprentices'
        accounts, locked, in one query, and an Azubinummer for each contract in one UPDATE."""
        registered = [e.payload for e in events if isinstance(e.payload, ContractRegistered)]
        if not registered:
            return
        SqlAccounts(session).preload_by_email([contract.apprentice.email for contract in registered])
        SqlApprenticeNumbers(session).reserve(len(registered))
