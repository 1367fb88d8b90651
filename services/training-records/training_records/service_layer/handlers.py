"""training-records' use cases: every command, query and event handler, as ``handle(message, uow, *, deps)``.

Each handler owns its unit of work: it opens it and commits what it changes (for an
event, the inbox row joins that commit; the bus records it alone if the handler
changes nothing). Dependencies such as the clock are bound by the bootstrap.
An event about a contract we do not know raises: the consumer retries it and
finally dead-letters it for a human.
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from chassis.contracts.documents import DocumentOpened
from chassis.contracts.identity import AccountActivated, ApprenticeAccountPrepared
from chassis.contracts.training import (
    ApprenticeRef,
    BranchAssigned,
    BranchReachChanged,
    BranchRemoved,
    CompanyChanged,
    CompanyRef,
    CompanyRegistered,
    ContractChanged,
    ContractRegistered,
    OccupationAdded,
    OccupationRef,
    OccupationRetired,
    TrainerAdded,
    TrainerChanged,
    TrainerRemoved,
)
from chassis.domain import Conflict, FieldPath, NotFound, RuleViolation
from chassis.events.incoming import IncomingEvent
from chassis.pagination import MAX_LIMIT, Page, PageRequest
from chassis.principal import Principal
from chassis.uow import IntegrityError
from training_records.domain import access
from training_records.domain.commands import (
    AddOccupation,
    AddTrainer,
    AssignBranch,
    ChangeCompany,
    ChangeContract,
    ChangeTrainerDetails,
    CompanyDetails,
    LoadOccupationCatalogue,
    RegisterCompany,
    RegisterContract,
    RemoveAtlasEntry,
    RemoveBranch,
    RemoveTrainer,
    RetireOccupation,
    SaveAtlasEntry,
    SetAtlasConsent,
    SetBranchReach,
    TrainerDetails,
)
from training_records.domain.model import (
    MIN_PROBATION_MONTHS,
    AccountState,
    Apprentice,
    ApprenticeAccount,
    AtlasEntry,
    ChangeKind,
    Company,
    Contract,
    ContractChange,
    ContractState,
    Occupation,
    RecipientKind,
    Trainer,
    check_duration,
    check_new_contract,
    check_terms,
    format_contract_number,
)
from training_records.domain.queries import (
    AssignedContract,
    AtlasHit,
    AtlasProfile,
    ContractView,
    GetAtlasProfile,
    GetCompany,
    GetContract,
    GetContractHistory,
    GetTrainer,
    ListBranches,
    ListCompanies,
    ListContracts,
    ListOccupations,
    ListTrainers,
    SearchAtlas,
    TrainerView,
)
from training_records.service_layer.unit_of_work import TrainingRecordsUnitOfWork

log = logging.getLogger(__name__)

# A concurrent registration can win a race for a new company's row; we then retry
# and find it. More conflicts than this mean something else is wrong.
MAX_ATTEMPTS = 3
REGISTRATION_CONFIRMATION = "registration_confirmation"


class UnknownContract(LookupError):
    """An event names a contract that is not in the register."""


# -- commands -------------------------------------------------------------------------------------


def register_contract(
    cmd: RegisterContract,
    uow: TrainingRecordsUnitOfWork,
    *,
    today: Callable[[], date],
    now: Callable[[], datetime],
) -> Contract:
    """Enter a contract in the register and announce it, atomically.

    A company not yet in the register is created from the given data (name and
    e-mail then required). For a known company the register's master data
    stays authoritative: details given that differ from it are refused rather
    than silently overwritten or ignored.
    """
    access.check_may_register(cmd.principal)
    current_day = today()
    registered_on = cmd.registered_on or current_day
    errors: dict[FieldPath | str, str] = {}
    try:
        check_new_contract(
            start_date=cmd.start_date,
            end_date=cmd.end_date,
            registered_on=registered_on,
            birth_date=cmd.apprentice.birth_date,
            today=current_day,
        )
    except RuleViolation as violation:
        errors.update(violation.errors.items())

    attempt = 1
    while True:
        try:
            contract = _register(cmd, registered_on, errors, uow, now())
        except IntegrityError:
            if attempt >= MAX_ATTEMPTS:
                raise
            attempt += 1
            continue
        log.info("contract %s registered by %s", contract.contract_number, cmd.principal.subject)
        return contract


def _register(
    cmd: RegisterContract,
    registered_on: date,
    rule_errors: dict[FieldPath | str, str],
    uow: TrainingRecordsUnitOfWork,
    at: datetime,
) -> Contract:
    errors = dict(rule_errors)
    terms = cmd.terms
    with uow:
        occupation = uow.occupations.get(cmd.occupation_code)
        if occupation is None or not occupation.active:
            errors[("occupation_code",)] = "Unknown occupation code."
        else:
            errors.update(_terms_errors(cmd, occupation))
        company, company_is_new = _known_or_new_company(cmd.company, uow, errors)
        if terms.trainer_id is not None:
            trainer = uow.trainers.get(terms.trainer_id)
            if trainer is None or not trainer.active or trainer.company_number != cmd.company.company_number:
                errors[("trainer_id",)] = "No such trainer at this company."
        if errors:
            raise RuleViolation(errors)
        assert occupation is not None and company is not None
        if company_is_new:
            uow.emit(CompanyRegistered(**company_data(company)), subject=company.company_number)

        apprentice = Apprentice(
            id=uuid.uuid4(),
            first_name=cmd.apprentice.first_name,
            last_name=cmd.apprentice.last_name,
            birth_date=cmd.apprentice.birth_date,
            email=cmd.apprentice.email,
        )
        uow.apprentices.add(apprentice)
        sequence = uow.contract_numbers.next_value(registered_on.year)
        contract = Contract(
            id=uuid.uuid4(),
            contract_number=format_contract_number(registered_on.year, sequence),
            company_number=company.company_number,
            apprentice_id=apprentice.id,
            occupation_code=occupation.code,
            start_date=cmd.start_date,
            end_date=cmd.end_date,
            registered_on=registered_on,
            state=ContractState.REGISTERED,
            registered_by=cmd.principal.audit_label(),
            specialism=terms.specialism,
            probation_months=terms.probation_months,
            part_time=terms.part_time,
            shortened_by_months=terms.shortened_by_months,
            trainer_id=terms.trainer_id,
        )
        uow.contracts.add(contract)
        record_change(
            uow,
            contract,
            ChangeKind.REGISTERED,
            registered_on,
            {},
            by=cmd.principal.audit_label(),
            at=at,
            announce=False,
        )
        uow.emit(contract_registered(contract, company, apprentice, occupation), subject=str(contract.id))
        uow.commit()
    return contract


def _terms_errors(cmd: RegisterContract, occupation: Occupation) -> dict[FieldPath | str, str]:
    """The terms and the duration against the occupation; a missing probation period is allowed only
    for entries that predate it (the API marks it optional, the UI and the import require it)."""
    terms = cmd.terms
    errors = check_terms(
        probation_months=terms.probation_months
        if terms.probation_months is not None
        else MIN_PROBATION_MONTHS,
        shortened_by_months=terms.shortened_by_months,
        specialism=terms.specialism,
        occupation=occupation,
    )
    # The duration is measured against the shortening, so only a valid one.
    if (
        ("end_date",) not in errors
        and ("shortened_by_months",) not in errors
        and cmd.end_date > cmd.start_date
    ):
        try:
            check_duration(
                cmd.start_date, cmd.end_date, occupation, terms.part_time, terms.shortened_by_months
            )
        except RuleViolation as violation:
            errors.update(violation.errors.items())
    return errors


def _known_or_new_company(
    details: CompanyDetails, uow: TrainingRecordsUnitOfWork, errors: dict[FieldPath | str, str]
) -> tuple[Company | None, bool]:
    """The company and whether it is new (added to the unit of work, to be announced)."""
    company = uow.companies.get(details.company_number)
    if company is not None:
        for name in company.differences(**details.master_data()):
            errors[("company", name)] = (
                f"Differs from the register's master data of company {company.company_number}; "
                "omit it or change the company's data first."
            )
        return company, False
    for name in ("name", "email"):
        if not getattr(details, name):
            errors[("company", name)] = "Required for a company not yet in the register."
    if errors:
        return None, False
    assert details.name is not None and details.email is not None
    company = Company(
        company_number=details.company_number,
        name=details.name,
        email=details.email,
        street=details.street,
        postal_code=details.postal_code,
        city=details.city,
    )
    uow.companies.add(company)
    return company, True


def contract_registered(
    contract: Contract, company: Company, apprentice: Apprentice, occupation: Occupation
) -> ContractRegistered:
    """The ``training.contract.registered`` v1 payload (shared/chassis/contracts/training.py)."""
    return ContractRegistered(
        contract_id=contract.id,
        contract_number=contract.contract_number,
        registered_on=contract.registered_on,
        start_date=contract.start_date,
        end_date=contract.end_date,
        occupation=OccupationRef(code=occupation.code, title=occupation.title),
        company=CompanyRef(company_number=company.company_number, name=company.name, email=company.email),
        apprentice=ApprenticeRef(
            first_name=apprentice.first_name,
            last_name=apprentice.last_name,
            birth_date=apprentice.birth_date,
            email=apprentice.email,
        ),
    )


# -- queries --------------------------------------------------------------------------------------


def list_contracts(query: ListContracts, uow: TrainingRecordsUnitOfWork) -> Page[ContractView]:
    with uow:
        visibility = access.ContractVisibility.of(query.principal, _reach(uow, query.principal))
        return uow.contracts.page_views(visibility, query.filters, query.page)


def get_contract(query: GetContract, uow: TrainingRecordsUnitOfWork) -> ContractView:
    with uow:
        found = uow.contracts.view(query.contract_id)
        reach = _reach(uow, query.principal)
    return access.visible_contract(query.principal, found, reach)


def list_companies(query: ListCompanies, uow: TrainingRecordsUnitOfWork) -> Page[Company]:
    with uow:
        visibility = access.CompanyVisibility.of(query.principal, _reach(uow, query.principal))
        return uow.companies.page_visible(visibility, query.page)


def list_occupations(query: ListOccupations, uow: TrainingRecordsUnitOfWork) -> Page[Occupation]:
    with uow:
        return uow.occupations.page_all(query.page, include_retired=query.include_retired)


# -- events ---------------------------------------------------------------------------------------


def _contract(uow: TrainingRecordsUnitOfWork, contract_id: uuid.UUID) -> Contract:
    contract = uow.contracts.get(contract_id)
    if contract is None:
        raise UnknownContract(f"contract {contract_id} is not in the register")
    return contract


def apprentice_account_prepared(
    event: IncomingEvent[ApprenticeAccountPrepared], uow: TrainingRecordsUnitOfWork
) -> None:
    """Remember the Azubinummer and that the account awaits activation.

    The payload also carries the one-time activation code; it is deliberately
    not stored here (only documents prints it into the confirmation).
    """
    data = event.payload
    with uow:
        contract = _contract(uow, data.contract_id)
        apprentice = uow.apprentices.get(contract.apprentice_id)
        if apprentice is None:  # pragma: no cover - the foreign key makes this impossible
            raise UnknownContract(f"contract {contract.id} has no apprentice")
        apprentice.assign_number(data.apprentice_number)
        account = uow.accounts.get(data.apprentice_number)
        if account is None:
            uow.accounts.add(
                ApprenticeAccount(data.apprentice_number, data.account_id, AccountState.PREPARED)
            )
        else:
            account.mark_prepared()
        uow.commit()


def account_activated(event: IncomingEvent[AccountActivated], uow: TrainingRecordsUnitOfWork) -> None:
    """Mark the apprentice's account active (and a trainer's, known by account id from Account erstellen).

    Keyed by Azubinummer, so it works even if it overtakes the "prepared" event
    (both queues may hold messages after an outage); state only moves forward.
    """
    data = event.payload
    number = data.apprentice_number
    with uow:
        # A trainer's account (Account erstellen) is known by its account id.
        for trainer_account in uow.trainer_accounts.of_account(data.account_id):
            trainer_account.mark_activated(data.activated_at)
        if number is not None:
            account = uow.accounts.get(number)
            if account is None:
                account = ApprenticeAccount(number, data.account_id, AccountState.ACTIVE)
                uow.accounts.add(account)
            account.mark_activated(data.activated_at)
        uow.commit()


def document_opened(event: IncomingEvent[DocumentOpened], uow: TrainingRecordsUnitOfWork) -> None:
    """Record when a contract's Eintragungsbestätigung was first opened, per recipient."""
    data = event.payload
    if data.kind != REGISTRATION_CONFIRMATION or data.contract_id is None:
        return  # other documents are not part of the register
    with uow:
        contract = _contract(uow, data.contract_id)
        recipient = RecipientKind(data.recipient_kind)
        if not contract.record_confirmation_opened(recipient, data.opened_at):
            log.info("confirmation of %s already opened by %s", contract.contract_number, recipient.value)
            return
        uow.commit()


# -- companies --------------------------------------------------------------------------------------


def company_data(company: Company) -> dict[str, Any]:
    return {
        "company_number": company.company_number,
        "name": company.name,
        "email": company.email,
        "street": company.street,
        "postal_code": company.postal_code,
        "city": company.city,
        "head_office_number": company.head_office_number,
    }


def _reach(uow: TrainingRecordsUnitOfWork, principal: Principal) -> access.BranchReach:
    """The branches the principal's head offices reach (empty for chamber staff: they see all)."""
    if principal.is_chamber:
        return access.NO_REACH
    return uow.companies.reach_of(principal.company_numbers)


def _company(uow: TrainingRecordsUnitOfWork, company_number: str, field: str = "company_number") -> Company:
    """A company the request's body names: unknown is a broken rule on that field."""
    company = uow.companies.get(company_number)
    if company is None:
        raise RuleViolation({field: "No company with this Identnummer in the register."})
    return company


def _named_company(uow: TrainingRecordsUnitOfWork, company_number: str) -> Company:
    """The company the request's path names: unknown is NotFound, as for GET /companies/<number>."""
    company = uow.companies.get(company_number)
    if company is None:
        raise NotFound("No such company.")
    return company


def register_company(cmd: RegisterCompany, uow: TrainingRecordsUnitOfWork) -> Company:
    access.check_may_keep_register(cmd.principal)
    details = cmd.company
    errors: dict[FieldPath | str, str] = {}
    for name in ("name", "email"):
        if not getattr(details, name):
            errors[(name,)] = "Required."  # the company's fields are the request's own (POST /companies)
    if errors:
        raise RuleViolation(errors)
    with uow:
        if uow.companies.get(details.company_number) is not None:
            raise Conflict(f"Company {details.company_number} is already in the register.")
        head = _company(uow, cmd.head_office_number, "head_office_number") if cmd.head_office_number else None
        assert details.name is not None and details.email is not None
        company = Company(
            company_number=details.company_number,
            name=details.name,
            email=details.email,
            street=details.street,
            postal_code=details.postal_code,
            city=details.city,
        )
        if head is not None:
            company.assign_to_head_office(head)
        uow.companies.add(company)
        uow.emit(CompanyRegistered(**company_data(company)), subject=company.company_number)
        if head is not None:
            uow.emit(
                BranchAssigned(company.company_number, head.company_number), subject=company.company_number
            )
        uow.commit()
    return company


def change_company(cmd: ChangeCompany, uow: TrainingRecordsUnitOfWork) -> Company:
    access.check_may_keep_register(cmd.principal)
    with uow:
        company = uow.companies.get(cmd.company.company_number)
        if company is None:
            raise NotFound("No such company.")
        if company.change(**cmd.company.master_data()):
            uow.emit(CompanyChanged(**company_data(company)), subject=company.company_number)
            uow.commit()
    return company


def assign_branch(cmd: AssignBranch, uow: TrainingRecordsUnitOfWork) -> Company:
    access.check_may_keep_register(cmd.principal)
    with uow:
        branch = _named_company(uow, cmd.branch_number)
        head = _company(uow, cmd.head_office_number, "head_office_number")
        if uow.companies.page_branches(branch.company_number, PageRequest(limit=1)).items:
            raise RuleViolation({"branch_number": "This company is a head office with branches of its own."})
        former = branch.head_office_number
        if branch.assign_to_head_office(head):
            if former is not None:
                uow.emit(BranchRemoved(branch.company_number, former), subject=branch.company_number)
            uow.emit(
                BranchAssigned(branch.company_number, head.company_number), subject=branch.company_number
            )
            if branch.branch_reach:  # a branch has no reach of its own
                branch.branch_reach = False
                uow.emit(BranchReachChanged(branch.company_number, False), subject=branch.company_number)
            uow.commit()
    return branch


def remove_branch(cmd: RemoveBranch, uow: TrainingRecordsUnitOfWork) -> Company:
    access.check_may_keep_register(cmd.principal)
    with uow:
        branch = _named_company(uow, cmd.branch_number)
        former = branch.remove_from_head_office()
        if former is not None:
            uow.emit(BranchRemoved(branch.company_number, former), subject=branch.company_number)
            uow.commit()
    return branch


def set_branch_reach(cmd: SetBranchReach, uow: TrainingRecordsUnitOfWork) -> Company:
    access.check_may_keep_register(cmd.principal)
    with uow:
        company = uow.companies.get(cmd.company_number)
        if company is None:
            raise NotFound("No such company.")
        if company.head_office_number is not None and cmd.enabled:
            raise RuleViolation({"enabled": "A branch cannot have reach; switch it on for its head office."})
        if company.branch_reach != cmd.enabled:
            company.branch_reach = cmd.enabled
            uow.emit(BranchReachChanged(company.company_number, cmd.enabled), subject=company.company_number)
            uow.commit()
    return company


def get_company(query: GetCompany, uow: TrainingRecordsUnitOfWork) -> Company:
    with uow:
        access.check_may_see_company(query.principal, query.company_number, _reach(uow, query.principal))
        company = uow.companies.get(query.company_number)
    if company is None:
        raise NotFound("No such company.")
    return company


def list_branches(query: ListBranches, uow: TrainingRecordsUnitOfWork) -> Page[Company]:
    with uow:
        access.check_may_see_company(query.principal, query.head_office_number, _reach(uow, query.principal))
        return uow.companies.page_branches(query.head_office_number, query.page)


# -- occupations ------------------------------------------------------------------------------------


def occupation_added(occupation: Occupation) -> OccupationAdded:
    return OccupationAdded(
        code=occupation.code,
        title=occupation.title,
        specialisms=list(occupation.specialisms),
        duration_months=occupation.duration_months,
        split_final_exam=occupation.split_final_exam,
    )


def add_occupation(cmd: AddOccupation, uow: TrainingRecordsUnitOfWork) -> Occupation:
    access.check_may_edit_catalogue(cmd.principal)
    if cmd.duration_months is not None and not 12 <= cmd.duration_months <= 48:
        raise RuleViolation({"duration_months": "A standard duration is 12 to 48 months."})
    if len(set(cmd.specialisms)) != len(cmd.specialisms):
        raise RuleViolation({"specialisms": "Each specialism once."})
    with uow:
        if uow.occupations.get(cmd.code) is not None:
            raise Conflict(f"Occupation {cmd.code} is already in the catalogue.")
        occupation = Occupation(
            code=cmd.code,
            title=cmd.title,
            specialisms=list(cmd.specialisms),
            duration_months=cmd.duration_months,
            split_final_exam=cmd.split_final_exam,
        )
        uow.occupations.add(occupation)
        uow.emit(occupation_added(occupation), subject=occupation.code)
        uow.commit()
    return occupation


def retire_occupation(
    cmd: RetireOccupation, uow: TrainingRecordsUnitOfWork, *, today: Callable[[], date]
) -> Occupation:
    access.check_may_edit_catalogue(cmd.principal)
    with uow:
        occupation = uow.occupations.get(cmd.code)
        if occupation is None:
            raise NotFound("No such occupation.")
        if occupation.retire(today()):
            assert occupation.retired_on is not None
            uow.emit(OccupationRetired(occupation.code, occupation.retired_on), subject=occupation.code)
            uow.commit()
    return occupation


def load_occupation_catalogue(cmd: LoadOccupationCatalogue, uow: TrainingRecordsUnitOfWork) -> int:
    """Add the shipped entries the register lacks; entries it has (retired ones too) stay as they are,
    so a chamber administrator's changes survive an upgrade. Returns how many were added."""
    added = 0
    with uow:
        known = uow.occupations.all_by_code()
        for entry in cmd.entries:
            if entry.code in known:
                continue
            occupation = Occupation(
                code=entry.code,
                title=entry.title,
                specialisms=list(entry.specialisms),
                duration_months=entry.duration_months,
                split_final_exam=entry.split_final_exam,
            )
            uow.occupations.add(occupation)
            uow.emit(occupation_added(occupation), subject=occupation.code)
            added += 1
        uow.commit()
    return added


# -- trainers ---------------------------------------------------------------------------------------


def trainer_payload(trainer: Trainer) -> dict[str, Any]:
    return {
        "trainer_id": trainer.id,
        "company_number": trainer.company_number,
        "first_name": trainer.first_name,
        "last_name": trainer.last_name,
        "email": trainer.email,
        "qualified": trainer.qualified,
    }


def add_trainer(cmd: AddTrainer, uow: TrainingRecordsUnitOfWork) -> Trainer:
    with uow:
        access.check_may_maintain_company(cmd.principal, cmd.company_number, _reach(uow, cmd.principal))
        _named_company(uow, cmd.company_number)
        trainer = _new_trainer(uow, cmd.company_number, cmd.trainer)
        uow.commit()
    return trainer


def _new_trainer(uow: TrainingRecordsUnitOfWork, company_number: str, details: TrainerDetails) -> Trainer:
    if uow.trainers.active_by_email(company_number, details.email) is not None:
        raise RuleViolation({"email": "This company already has a trainer with this e-mail address."})
    trainer = Trainer(
        id=uuid.uuid4(),
        company_number=company_number,
        first_name=details.first_name,
        last_name=details.last_name,
        email=details.email,
        qualified=details.qualified,
    )
    uow.trainers.add(trainer)
    uow.emit(TrainerAdded(**trainer_payload(trainer)), subject=str(trainer.id))
    return trainer


def _trainer(uow: TrainingRecordsUnitOfWork, principal: Principal, trainer_id: uuid.UUID) -> Trainer:
    trainer = uow.trainers.get(trainer_id)
    if trainer is None or not trainer.active:
        raise NotFound("No such trainer.")
    try:
        access.check_may_maintain_company(principal, trainer.company_number, _reach(uow, principal))
    except NotFound:
        raise NotFound("No such trainer.") from None
    return trainer


def change_trainer_details(cmd: ChangeTrainerDetails, uow: TrainingRecordsUnitOfWork) -> Trainer:
    with uow:
        trainer = _trainer(uow, cmd.principal, cmd.trainer_id)
        same_email = uow.trainers.active_by_email(trainer.company_number, cmd.trainer.email)
        if same_email is not None and same_email.id != trainer.id:
            raise RuleViolation({"email": "This company already has a trainer with this e-mail address."})
        if trainer.change(
            first_name=cmd.trainer.first_name,
            last_name=cmd.trainer.last_name,
            email=cmd.trainer.email,
            qualified=cmd.trainer.qualified,
        ):
            uow.emit(TrainerChanged(**trainer_payload(trainer)), subject=str(trainer.id))
            uow.commit()
    return trainer


def remove_trainer(cmd: RemoveTrainer, uow: TrainingRecordsUnitOfWork, *, today: Callable[[], date]) -> None:
    with uow:
        trainer = _trainer(uow, cmd.principal, cmd.trainer_id)
        if uow.trainers.running_contract_count(trainer.id):
            raise RuleViolation(
                {"trainer_id": "Assign the trainer's running contracts to someone else first."}
            )
        trainer.removed_on = today()
        uow.emit(TrainerRemoved(**trainer_payload(trainer)), subject=str(trainer.id))
        uow.commit()


def list_trainers(query: ListTrainers, uow: TrainingRecordsUnitOfWork) -> Page[TrainerView]:
    with uow:
        access.check_may_see_company(query.principal, query.company_number, _reach(uow, query.principal))
        page = uow.trainers.page_of_company(query.company_number, query.page)
        ids = [trainer.id for trainer in page.items]
        assigned = uow.trainers.assignments(ids)
        states = uow.trainer_accounts.states(ids)
    return Page(
        items=tuple(
            _trainer_view(trainer, assigned.get(trainer.id, []), states.get(trainer.id))
            for trainer in page.items
        ),
        next_cursor=page.next_cursor,
    )


def get_trainer(query: GetTrainer, uow: TrainingRecordsUnitOfWork) -> TrainerView:
    with uow:
        trainer = uow.trainers.get(query.trainer_id)
        if trainer is None or not trainer.active:
            raise NotFound("No such trainer.")
        try:
            access.check_may_see_company(
                query.principal, trainer.company_number, _reach(uow, query.principal)
            )
        except NotFound:
            raise NotFound("No such trainer.") from None
        assigned = uow.trainers.assignments([trainer.id])
        state = uow.trainer_accounts.states([trainer.id]).get(trainer.id)
    return _trainer_view(trainer, assigned.get(trainer.id, []), state)


def _trainer_view(
    trainer: Trainer, contracts: Sequence[AssignedContract], account_state: AccountState | None = None
) -> TrainerView:
    return TrainerView(
        id=trainer.id,
        company_number=trainer.company_number,
        first_name=trainer.first_name,
        last_name=trainer.last_name,
        email=trainer.email,
        qualified=trainer.qualified,
        contracts=tuple(contracts),
        account_state=account_state or AccountState.NONE,
    )


# -- the contract's life ----------------------------------------------------------------------------


def contract_changed(contract: Contract, change: ChangeKind, effective_on: date) -> ContractChanged:
    return ContractChanged(
        contract_id=contract.id,
        contract_number=contract.contract_number,
        change=change.value,
        effective_on=effective_on,
        state=contract.state.value,
        start_date=contract.start_date,
        end_date=contract.end_date,
        trainer_id=contract.trainer_id,
        termination_reason=contract.termination_reason.value if contract.termination_reason else None,
    )


def record_change(
    uow: TrainingRecordsUnitOfWork,
    contract: Contract,
    kind: ChangeKind,
    effective_on: date,
    details: dict[str, str | None],
    *,
    by: str | None,
    at: datetime,
    announce: bool = True,
) -> None:
    """Write the step into the contract's history and announce it (registration has its own event)."""
    uow.contract_changes.add(
        ContractChange(
            id=uuid.uuid4(),
            contract_id=contract.id,
            kind=kind,
            effective_on=effective_on,
            recorded_at=at,
            recorded_by=by,
            details=details,
        )
    )
    if announce:
        uow.emit(contract_changed(contract, kind, effective_on), subject=str(contract.id))


def change_contract(
    cmd: ChangeContract,
    uow: TrainingRecordsUnitOfWork,
    *,
    today: Callable[[], date],
    now: Callable[[], datetime],
) -> Contract:
    """Apply one step of the contract's life (the rule is the contract's), record and announce it."""
    with uow:
        view = uow.contracts.view(cmd.contract_id)
        if view is None:
            raise NotFound("No such training contract.")
        access.check_may_change_contract(cmd.principal, cmd.kind.value, view, _reach(uow, cmd.principal))
        contract = uow.contracts.get(cmd.contract_id)
        occupation = uow.occupations.get(view.occupation.code)
        assert contract is not None and occupation is not None
        effective_on = cmd.effective_on or today()
        details = _apply(cmd, contract, occupation, effective_on, uow)
        if cmd.note:
            details["note"] = cmd.note
        record_change(
            uow, contract, cmd.kind, effective_on, details, by=cmd.principal.audit_label(), at=now()
        )
        uow.commit()
    log.info("contract %s: %s by %s", contract.contract_number, cmd.kind.value, cmd.principal.subject)
    return contract


def _required(value: Any, field: str) -> Any:
    if value is None:
        raise RuleViolation({field: "Required for this change."})
    return value


def _apply(
    cmd: ChangeContract,
    contract: Contract,
    occupation: Occupation,
    effective_on: date,
    uow: TrainingRecordsUnitOfWork,
) -> dict[str, str | None]:
    match cmd.kind:
        case ChangeKind.EXTENDED:
            return contract.extend(_required(cmd.end_date, "end_date"), occupation)
        case ChangeKind.SHORTENED:
            return contract.shorten(_required(cmd.end_date, "end_date"), occupation)
        case ChangeKind.INTERRUPTED:
            return contract.interrupt(effective_on)
        case ChangeKind.RESUMED:
            return contract.resume(effective_on, cmd.end_date, occupation)
        case ChangeKind.TRAINER_CHANGED:
            trainer = None
            if cmd.trainer_id is not None:
                trainer = uow.trainers.get(cmd.trainer_id)
                if trainer is None:
                    raise RuleViolation({"trainer_id": "No such trainer."})
            return contract.change_trainer(trainer)
        case ChangeKind.COMPLETED:
            return contract.complete(effective_on)
        case ChangeKind.TERMINATED:
            return contract.terminate(effective_on, _required(cmd.reason, "reason"))
        case _:
            raise RuleViolation({"kind": "This change cannot be entered by hand."})


def contract_history(query: GetContractHistory, uow: TrainingRecordsUnitOfWork) -> list[ContractChange]:
    with uow:
        access.visible_contract(
            query.principal, uow.contracts.view(query.contract_id), _reach(uow, query.principal)
        )
        changes: list[ContractChange] = []
        request = PageRequest(limit=MAX_LIMIT)
        while True:
            page = uow.contract_changes.history(query.contract_id, request)
            changes.extend(page.items)
            if page.next_cursor is None:
                return changes
            request = PageRequest(cursor=page.next_cursor, limit=MAX_LIMIT)


# -- the Ausbildungsatlas ---------------------------------------------------------------------------


def save_atlas_entry(
    cmd: SaveAtlasEntry, uow: TrainingRecordsUnitOfWork, *, now: Callable[[], datetime]
) -> AtlasEntry:
    offer = cmd.offer
    if not 0 <= offer.places <= 999:
        raise RuleViolation({"places": "0 to 999 places."})
    with uow:
        access.check_may_maintain_company(cmd.principal, cmd.company_number, _reach(uow, cmd.principal))
        _named_company(uow, cmd.company_number)
        occupation = uow.occupations.get(cmd.occupation_code)
        if occupation is None or not occupation.active:
            raise RuleViolation({"occupation_code": "Unknown occupation."})
        entry = uow.atlas.get((cmd.company_number, cmd.occupation_code))
        published = dataclasses.asdict(offer)  # the offer's fields are the entry's, one for one
        if entry is None:
            entry = AtlasEntry(
                company_number=cmd.company_number, occupation_code=cmd.occupation_code, **published
            )
            uow.atlas.add(entry)
        else:
            for name, value in published.items():
                setattr(entry, name, value)
        entry.updated_at = now()
        uow.commit()
    return entry


def remove_atlas_entry(cmd: RemoveAtlasEntry, uow: TrainingRecordsUnitOfWork) -> None:
    with uow:
        access.check_may_maintain_company(cmd.principal, cmd.company_number, _reach(uow, cmd.principal))
        entry = uow.atlas.get((cmd.company_number, cmd.occupation_code))
        if entry is None:
            raise NotFound("No such atlas entry.")
        uow.atlas.delete(entry)
        uow.commit()


def set_atlas_consent(cmd: SetAtlasConsent, uow: TrainingRecordsUnitOfWork) -> Company:
    with uow:
        access.check_may_maintain_company(cmd.principal, cmd.company_number, _reach(uow, cmd.principal))
        company = _named_company(uow, cmd.company_number)
        company.atlas_consent = cmd.consent
        uow.commit()
    return company


def get_atlas_profile(query: GetAtlasProfile, uow: TrainingRecordsUnitOfWork) -> AtlasProfile:
    with uow:
        access.check_may_maintain_company(query.principal, query.company_number, _reach(uow, query.principal))
        company = _named_company(uow, query.company_number)
        return AtlasProfile(
            company.company_number, company.atlas_consent, tuple(uow.atlas.of_company(company.company_number))
        )


def search_atlas(query: SearchAtlas, uow: TrainingRecordsUnitOfWork) -> Page[AtlasHit]:
    """Public: no principal. Consent is checked in the query itself, so a withdrawal hides at once."""
    with uow:
        return uow.atlas.search(query.occupation_code, query.place, query.page)


COMMAND_HANDLERS: Mapping[type, Callable[..., Any]] = {
    RegisterContract: register_contract,
    ChangeContract: change_contract,
    ListContracts: list_contracts,
    GetContract: get_contract,
    GetContractHistory: contract_history,
    RegisterCompany: register_company,
    ChangeCompany: change_company,
    AssignBranch: assign_branch,
    RemoveBranch: remove_branch,
    SetBranchReach: set_branch_reach,
    ListCompanies: list_companies,
    GetCompany: get_company,
    ListBranches: list_branches,
    AddOccupation: add_occupation,
    RetireOccupation: retire_occupation,
    LoadOccupationCatalogue: load_occupation_catalogue,
    ListOccupations: list_occupations,
    AddTrainer: add_trainer,
    ChangeTrainerDetails: change_trainer_details,
    RemoveTrainer: remove_trainer,
    ListTrainers: list_trainers,
    GetTrainer: get_trainer,
    SaveAtlasEntry: save_atlas_entry,
    RemoveAtlasEntry: remove_atlas_entry,
    SetAtlasConsent: set_atlas_consent,
    GetAtlasProfile: get_atlas_profile,
    SearchAtlas: search_atlas,
}
EVENT_HANDLERS: Mapping[str, Callable[..., None]] = {
    ApprenticeAccountPrepared.TYPE: apprentice_account_prepared,
    AccountActivated.TYPE: account_activated,
    DocumentOpened.TYPE: document_opened,
}
