"""The unit of work of training-records: the chassis' transaction plus this service's repositories."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from chassis.contracts.identity import ApprenticeAccountPrepared
from chassis.events.incoming import IncomingEvent
from chassis.repository import preload
from chassis.uow import SqlAlchemyUnitOfWork
from training_records.adapters import repository
from training_records.domain.model import Apprentice, ApprenticeAccount, Contract


class TrainingRecordsUnitOfWork(SqlAlchemyUnitOfWork):
    occupations: repository.SqlOccupationRepository
    companies: repository.SqlCompanyRepository
    apprentices: repository.SqlApprenticeRepository
    accounts: repository.SqlAccountRepository
    contracts: repository.SqlContractRepository
    contract_numbers: repository.SqlContractNumberSequence
    trainers: repository.SqlTrainerRepository
    trainer_accounts: repository.SqlTrainerAccountRepository
    contract_changes: repository.SqlContractChangeRepository
    atlas: repository.SqlAtlasRepository
    imports: repository.SqlImportJobRepository
    import_errors: repository.SqlImportErrorRepository

    def _open(self) -> None:
        self.occupations = repository.SqlOccupationRepository(self.session)
        self.companies = repository.SqlCompanyRepository(self.session)
        self.apprentices = repository.SqlApprenticeRepository(self.session)
        self.accounts = repository.SqlAccountRepository(self.session)
        self.contracts = repository.SqlContractRepository(self.session)
        self.contract_numbers = repository.SqlContractNumberSequence(self.session)
        self.trainers = repository.SqlTrainerRepository(self.session)
        self.trainer_accounts = repository.SqlTrainerAccountRepository(self.session)
        self.contract_changes = repository.SqlContractChangeRepository(self.session)
        self.atlas = repository.SqlAtlasRepository(self.session)
        self.imports = repository.SqlImportJobRepository(self.session)
        self.import_errors = repository.SqlImportErrorRepository(self.session)

    def prepare_batch(self, session: Session, events: Sequence[IncomingEvent[Any]]) -> None:
        """For a batch of prepared accounts (a bulk import brings thousands): their contracts,
        apprentices and accounts, a query each, so each handler finds them in the session."""
        prepared = [e.payload for e in events if isinstance(e.payload, ApprenticeAccountPrepared)]
        if not prepared:
            return
        contracts = preload(session, Contract, sorted({p.contract_id for p in prepared}))
        apprentice_ids: set[uuid.UUID] = {contract.apprentice_id for contract in contracts}
        preload(session, Apprentice, sorted(apprentice_ids))
        preload(session, ApprenticeAccount, sorted({p.apprentice_number for p in prepared}))
