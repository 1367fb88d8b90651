"""identity's unit of work: accounts, the apprentice-number counter and the OAuth store."""

from __future__ import annotations

from typing import Any, Protocol

from chassis.events.envelope import Envelope
from chassis.uow import SqlAlchemyUnitOfWork
from identity.adapters.oauth_store import OAuthStore
from identity.adapters.repository import (
    AccountRepository,
    ApprenticeNumbers,
    SqlAccountRepository,
    SqlApprenticeNumbers,
)


class UnitOfWork(Protocol):
    """What use cases need; the SQLAlchemy one below and the unit tests' fake provide it."""

    accounts: AccountRepository
    apprentice_numbers: ApprenticeNumbers

    def emit(self, event_type: str, subject: str, payload: dict[str, Any], version: int = 1) -> Envelope: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...


class IdentityUnitOfWork(SqlAlchemyUnitOfWork):
    accounts: SqlAccountRepository
    apprentice_numbers: SqlApprenticeNumbers
    oauth: OAuthStore

    def _open(self) -> None:
        self.accounts = SqlAccountRepository(self.session)
        self.apprentice_numbers = SqlApprenticeNumbers(self.session)
        self.oauth = OAuthStore(self.session)
