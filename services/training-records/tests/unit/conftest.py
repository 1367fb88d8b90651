"""Fakes for unit tests: the chassis' FakeUnitOfWork with this service's in-memory finders.

Events count only when committed (``uow.events``); the use cases validate
everything before they write, so "nothing is written" is asserted on the
repositories directly.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any

import pytest

from chassis.events.catalogue import load_payload
from chassis.events.envelope import new_envelope
from chassis.events.incoming import IncomingEvent
from chassis.messagebus import MessageBus, inject_dependencies
from chassis.pagination import Page, PageRequest
from chassis.principal import Principal
from chassis.testing.fakes import FakeRepository, FakeUnitOfWork
from training_records.adapters.repository import (
    CHANGE_ORDER,
    COMPANY_ORDER,
    CONTRACT_ORDER,
    OCCUPATION_ORDER,
    TRAINER_ORDER,
)
from training_records.domain.access import CompanyVisibility, ContractVisibility
from training_records.domain.model import (
    AccountState,
    Apprentice,
    ApprenticeAccount,
    Company,
    Contract,
    ContractChange,
    Occupation,
    Trainer,
    TrainerAccount,
)
from training_records.domain.queries import AssignedContract, ContractFilters, ContractView
from training_records.service_layer import handlers


class FakeOccupations(FakeRepository[Occupation]):
    def page_all(self, request: PageRequest, *, include_retired: bool = False) -> Page[Occupation]:
        return self.page(lambda o: include_retired or o.active, OCCUPATION_ORDER, request)

    def all_by_code(self) -> dict[str, Occupation]:
        # Every entry, retired ones too (as SqlOccupationRepository.all_by_code).
        return {o.code: o for o in self.items.values()}


class FakeCompanies(FakeRepository[Company]):
    def page_visible(self, visibility: CompanyVisibility, request: PageRequest) -> Page[Company]:
        return self.page(
            lambda c: visibility.everything or c.company_number in visibility.company_numbers,
            COMPANY_ORDER,
            request,
        )

    def reach_of(self, company_numbers: frozenset[str]) -> dict[str, tuple[str, ...]]:
        reach: dict[str, list[str]] = {}
        for company in self.items.values():
            head = self.get(company.head_office_number) if company.head_office_number else None
            if head is not None and head.branch_reach and head.company_number in company_numbers:
                reach.setdefault(head.company_number, []).append(company.company_number)
        return {head: tuple(branches) for head, branches in reach.items()}

    def page_branches(self, head_office_number: str, request: PageRequest) -> Page[Company]:
        return self.page(lambda c: c.head_office_number == head_office_number, COMPANY_ORDER, request)


class FakeTrainers(FakeRepository[Trainer]):
    """Trainers; the contract finders look at the contracts and apprentices bound by ``fake_uow``."""

    contracts: FakeRepository[Contract]
    apprentices: FakeRepository[Apprentice]

    def page_of_company(self, company_number: str, request: PageRequest) -> Page[Trainer]:
        return self.page(lambda t: t.company_number == company_number and t.active, TRAINER_ORDER, request)

    def _running(self, trainer_id: uuid.UUID) -> list[Contract]:
        return sorted(
            (c for c in self.contracts.items.values() if c.trainer_id == trainer_id and c.state.is_running),
            key=lambda c: c.contract_number,
        )

    def running_contract_count(self, trainer_id: uuid.UUID) -> int:
        return len(self._running(trainer_id))

    def assignments(self, trainer_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[AssignedContract]]:
        found: dict[uuid.UUID, list[AssignedContract]] = {}
        for trainer_id in trainer_ids:
            for contract in self._running(trainer_id):
                apprentice = self.apprentices.get(contract.apprentice_id)
                assert apprentice is not None
                found.setdefault(trainer_id, []).append(
                    AssignedContract(
                        contract.id,
                        contract.contract_number,
                        f"{apprentice.first_name} {apprentice.last_name}",
                    )
                )
        return found

    def active_by_email(self, company_number: str, email: str) -> Trainer | None:
        for trainer in self.items.values():
            if (
                trainer.company_number == company_number
                and trainer.active
                and trainer.email.casefold() == email.casefold()
            ):
                return trainer
        return None


class FakeContractChanges(FakeRepository[ContractChange]):
    def history(self, contract_id: uuid.UUID, request: PageRequest) -> Page[ContractChange]:
        return self.page(lambda c: c.contract_id == contract_id, CHANGE_ORDER, request)


class FakeContracts(FakeRepository[Contract]):
    """Contracts, and their views joined from the other fake repositories."""

    def __init__(
        self,
        *,
        companies: FakeCompanies,
        occupations: FakeOccupations,
        apprentices: FakeRepository[Apprentice],
        accounts: FakeRepository[ApprenticeAccount],
        trainers: FakeTrainers,
    ) -> None:
        super().__init__(key="id")
        self._trainers = trainers
        self._companies = companies
        self._occupations = occupations
        self._apprentices = apprentices
        self._accounts = accounts

    def _apprentice(self, contract: Contract) -> Apprentice:
        apprentice = self._apprentices.get(contract.apprentice_id)
        assert apprentice is not None
        return apprentice

    def _view(self, contract: Contract) -> ContractView:
        apprentice = self._apprentice(contract)
        company = self._companies.get(contract.company_number)
        occupation = self._occupations.get(contract.occupation_code)
        assert company is not None and occupation is not None
        account = self._accounts.get(apprentice.apprentice_number) if apprentice.apprentice_number else None
        trainer = self._trainers.get(contract.trainer_id) if contract.trainer_id else None
        return ContractView.of(contract, company, occupation, apprentice, account, trainer)

    def view(self, contract_id: uuid.UUID) -> ContractView | None:
        contract = self.get(contract_id)
        return self._view(contract) if contract is not None else None

    def page_views(
        self, visibility: ContractVisibility, filters: ContractFilters, request: PageRequest
    ) -> Page[ContractView]:
        def matches(contract: Contract) -> bool:
            apprentice = self._apprentice(contract)
            number = apprentice.apprentice_number
            return (
                visibility.allows(contract.company_number, number)
                and filters.company_number in (None, contract.company_number)
                and filters.occupation_code in (None, contract.occupation_code)
                and filters.apprentice_number in (None, number)
                and (filters.name is None or _name_matches(filters.name, apprentice))
                and filters.state in (None, contract.state)
                and (filters.start_from is None or contract.start_date >= filters.start_from)
                and (filters.start_until is None or contract.start_date <= filters.start_until)
                and (filters.registered_from is None or contract.registered_on >= filters.registered_from)
                and (filters.registered_until is None or contract.registered_on <= filters.registered_until)
            )

        page = self.page(matches, CONTRACT_ORDER, request)
        return Page(tuple(self._view(c) for c in page.items), page.next_cursor)


def _name_matches(name: str, apprentice: Apprentice) -> bool:
    """As the SQL filter: the last name, or "first last", begins with ``name`` (case-insensitive)."""
    pattern = " ".join(name.split()).casefold()
    full_name = f"{apprentice.first_name} {apprentice.last_name}".casefold()
    return apprentice.last_name.casefold().startswith(pattern) or full_name.startswith(pattern)


class FakeTrainerAccounts(FakeRepository[TrainerAccount]):
    def of_account(self, account_id: uuid.UUID) -> list[TrainerAccount]:
        return self.find(lambda a: a.account_id == account_id)

    def states(self, trainer_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, AccountState]:
        return {a.trainer_id: a.state for a in self.find(lambda a: a.trainer_id in trainer_ids)}


class FakeContractNumbers:
    def __init__(self) -> None:
        self.values: dict[int, int] = {}

    def next_value(self, year: int) -> int:
        self.values[year] = self.values.get(year, 0) + 1
        return self.values[year]

    def ensure_at_least(self, year: int, value: int) -> None:
        self.values[year] = max(value, self.values.get(year, 0))


def fake_uow() -> FakeUnitOfWork:
    """Same repositories as TrainingRecordsUnitOfWork, in memory."""
    occupations = FakeOccupations(key="code")
    companies = FakeCompanies(key="company_number")
    apprentices: FakeRepository[Apprentice] = FakeRepository(key="id")
    accounts: FakeRepository[ApprenticeAccount] = FakeRepository(key="apprentice_number")
    trainers = FakeTrainers(key="id")
    contracts = FakeContracts(
        companies=companies,
        occupations=occupations,
        apprentices=apprentices,
        accounts=accounts,
        trainers=trainers,
    )
    trainers.contracts, trainers.apprentices = contracts, apprentices
    return FakeUnitOfWork(
        trainers=trainers,
        contract_changes=FakeContractChanges(key="id"),
        occupations=occupations,
        companies=companies,
        apprentices=apprentices,
        accounts=accounts,
        contracts=contracts,
        contract_numbers=FakeContractNumbers(),
        trainer_accounts=FakeTrainerAccounts(key="trainer_id"),
    )


@pytest.fixture
def uow() -> FakeUnitOfWork:
    """A fake unit of work holding the occupations and the demo company."""
    fake = fake_uow()
    fake.occupations.add(Occupation("25400", "Industriemechaniker/-in"))
    fake.occupations.add(Occupation("78100", "Industriekaufmann/Industriekauffrau"))
    fake.companies.add(
        Company(
            company_number="4711001",
            name="Muster Maschinenbau GmbH",
            email="ausbildung@muster-maschinenbau.example",
            street="Industriestraße 12",
            postal_code="34117",
            city="Kassel",
        )
    )
    return fake


@pytest.fixture
def bus(uow: FakeUnitOfWork, today: date) -> MessageBus[Any]:
    """The message bus over the fake unit of work, with the bootstrap's dependency injection."""
    deps = {"today": lambda: today, "now": lambda: datetime(2026, 6, 15, 10, 0, tzinfo=UTC)}
    return MessageBus(
        lambda: uow,  # type: ignore[arg-type, return-value]
        consumer_name="training-records",
        command_handlers=inject_dependencies(handlers.COMMAND_HANDLERS, deps),
        event_handlers=inject_dependencies(handlers.EVENT_HANDLERS, deps),
    )


@pytest.fixture
def principal() -> Callable[..., Principal]:
    def make(*roles: str, company_roles: dict[str, list[str]] | None = None, **claims: Any) -> Principal:
        return Principal.from_claims(
            {"sub": str(uuid.uuid4()), "roles": list(roles), "company_roles": company_roles or {}, **claims}
        )

    return make


@pytest.fixture
def incoming() -> Callable[..., IncomingEvent[Any]]:
    """An event as the consumer hands it to the bus: payload loaded and typed by its catalogue schema."""

    def make(event_type: str, payload: dict[str, Any]) -> IncomingEvent[Any]:
        envelope = new_envelope(producer="test", event_type=event_type, subject="s", payload=payload)
        return IncomingEvent(envelope, load_payload(event_type, 1, payload))

    return make


@pytest.fixture
def today() -> date:
    return date(2026, 6, 15)


@pytest.fixture
def now() -> datetime:
    return datetime(2026, 9, 2, 8, 30, tzinfo=UTC)
