"""The unit of work of training-records: the chassis' transaction plus this service's repositories."""

from __future__ import annotations

from chassis.uow import SqlAlchemyUnitOfWork
from training_records.adapters import repository


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
