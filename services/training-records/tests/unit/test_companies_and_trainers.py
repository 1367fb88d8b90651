"""Companies (head offices, branches, reach), trainers and the occupation catalogue: the use cases
through the message bus, the events they announce (only when something changed) and their rules."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from chassis.contracts.training import (
    BranchAssigned,
    BranchReachChanged,
    BranchRemoved,
    CompanyChanged,
    CompanyRegistered,
    OccupationAdded,
    OccupationRetired,
    TrainerAdded,
    TrainerChanged,
    TrainerRemoved,
)
from chassis.domain import Conflict, Forbidden, NotFound, RuleViolation
from chassis.events.catalogue import validate_payload
from chassis.messagebus import MessageBus
from chassis.pagination import PageRequest
from chassis.principal import Principal
from training_records.domain.commands import (
    AddOccupation,
    AddTrainer,
    ApprenticeDetails,
    AssignBranch,
    ChangeCompany,
    ChangeContract,
    ChangeTrainerDetails,
    CompanyDetails,
    ContractTerms,
    LoadOccupationCatalogue,
    OccupationEntry,
    RegisterCompany,
    RegisterContract,
    RemoveBranch,
    RemoveTrainer,
    RetireOccupation,
    SetBranchReach,
    TrainerDetails,
)
from training_records.domain.model import ChangeKind, Company, Contract, Occupation
from training_records.domain.queries import (
    GetCompany,
    GetContract,
    GetTrainer,
    ListBranches,
    ListContracts,
    ListOccupations,
    ListTrainers,
)

A = "4711001"  # the fixture's demo company
HEAD, BRANCH, OTHER = "5000001", "5000002", "5000003"


@pytest.fixture
def clerk(principal: Callable[..., Principal]) -> Principal:
    return principal("chamber_clerk")


@pytest.fixture
def chamber_admin(principal: Callable[..., Principal]) -> Principal:
    return principal("chamber_admin")


def payloads(uow: Any, event_type: str) -> list[dict[str, Any]]:
    """The committed events of a type, each checked against the catalogue's contract."""
    return [validate_payload(e.type, e.version, e.payload) for e in uow.events_of(event_type)]


def event_types(uow: Any) -> list[str]:
    return [e.type for e in uow.events]


def company(number: str, name: str | None = None, **fields: Any) -> CompanyDetails:
    return CompanyDetails(
        number, name or f"Betrieb {number}", fields.pop("email", f"b{number}@example.org"), **fields
    )


def refused_fields(error: pytest.ExceptionInfo[RuleViolation]) -> set[str]:
    return {"/".join(path) for path in error.value.errors}


# -- registering and changing companies -------------------------------------------------------------


def test_registering_a_company_announces_it(uow: Any, bus: MessageBus[Any], clerk: Principal) -> None:
    registered = bus.handle(
        RegisterCompany(clerk, company(HEAD, street="Hauptstraße 1", postal_code="34117"))
    )
    assert uow.companies.get(HEAD) is registered
    (payload,) = payloads(uow, CompanyRegistered.TYPE)
    assert payload["company_number"] == HEAD
    assert (payload["street"], payload["postal_code"], payload["head_office_number"]) == (
        "Hauptstraße 1",
        "34117",
        None,
    )
    assert event_types(uow) == [CompanyRegistered.TYPE]


def test_registering_a_branch_announces_the_company_and_its_head_office(
    uow: Any, bus: MessageBus[Any], clerk: Principal
) -> None:
    bus.handle(RegisterCompany(clerk, company(HEAD)))
    bus.handle(RegisterCompany(clerk, company(BRANCH), head_office_number=HEAD))
    assert uow.companies.get(BRANCH).head_office_number == HEAD
    assert payloads(uow, CompanyRegistered.TYPE)[-1]["head_office_number"] == HEAD
    assert payloads(uow, BranchAssigned.TYPE) == [{"branch_number": BRANCH, "head_office_number": HEAD}]


@pytest.mark.parametrize(
    "details, head, fields",
    [
        # POST /companies carries the company's fields at the top level: the pointers name them there
        (CompanyDetails(HEAD, email="x@example.org"), None, {"name"}),
        (CompanyDetails(HEAD, name="Betrieb"), None, {"email"}),
        (CompanyDetails(HEAD), None, {"name", "email"}),
        (company(HEAD), "9999999", {"head_office_number"}),  # no such head office
    ],
)
def test_a_company_registration_breaking_a_rule_writes_nothing(
    uow: Any,
    bus: MessageBus[Any],
    clerk: Principal,
    details: CompanyDetails,
    head: str | None,
    fields: set[str],
) -> None:
    with pytest.raises(RuleViolation) as caught:
        bus.handle(RegisterCompany(clerk, details, head_office_number=head))
    assert refused_fields(caught) == fields
    assert (uow.companies.get(HEAD), uow.events) == (None, [])


def test_a_branch_cannot_be_named_as_head_office(uow: Any, bus: MessageBus[Any], clerk: Principal) -> None:
    bus.handle(RegisterCompany(clerk, company(HEAD)))
    bus.handle(RegisterCompany(clerk, company(BRANCH), head_office_number=HEAD))
    events = len(uow.events)
    with pytest.raises(RuleViolation) as caught:
        bus.handle(RegisterCompany(clerk, company(OTHER), head_office_number=BRANCH))
    assert refused_fields(caught) == {"head_office_number"}
    assert uow.companies.get(OTHER) is None and len(uow.events) == events


def test_a_company_already_in_the_register_is_a_conflict(
    uow: Any, bus: MessageBus[Any], clerk: Principal
) -> None:
    with pytest.raises(Conflict):
        bus.handle(RegisterCompany(clerk, company(A, name="Anderer Name")))
    assert uow.companies.get(A).name == "Muster Maschinenbau GmbH" and uow.events == []


@pytest.mark.parametrize(
    "claims",
    [
        {"roles": ["chamber_exam_organiser"]},
        {"roles": ["examiner"]},
        {"company_roles": {A: ["admin"]}},
        {"roles": ["apprentice"], "apprentice_number": "20260001"},
    ],
)
def test_only_chamber_clerks_and_administrators_keep_the_register(
    uow: Any, bus: MessageBus[Any], principal: Callable[..., Principal], claims: dict[str, Any]
) -> None:
    actor = principal(**claims)
    bus.handle(RegisterCompany(principal("chamber_clerk"), company(HEAD)))
    events = len(uow.events)
    for command in (
        RegisterCompany(actor, company(OTHER)),
        ChangeCompany(actor, CompanyDetails(A, name="Neu")),
        AssignBranch(actor, A, HEAD),
        RemoveBranch(actor, A),
        SetBranchReach(actor, HEAD, True),
    ):
        with pytest.raises(Forbidden):
            bus.handle(command)
    assert len(uow.events) == events
    assert uow.companies.get(OTHER) is None
    assert (uow.companies.get(A).name, uow.companies.get(A).head_office_number) == (
        "Muster Maschinenbau GmbH",
        None,
    )
    assert uow.companies.get(HEAD).branch_reach is False


def test_the_chamber_administrator_keeps_the_register_too(
    uow: Any, bus: MessageBus[Any], chamber_admin: Principal
) -> None:
    bus.handle(RegisterCompany(chamber_admin, company(HEAD)))
    assert uow.companies.get(HEAD) is not None


def test_changing_master_data_announces_the_company_after_the_change(
    uow: Any, bus: MessageBus[Any], clerk: Principal
) -> None:
    changed = bus.handle(
        ChangeCompany(clerk, CompanyDetails(A, city="Baunatal", street="  Neue   Straße 5 "))
    )
    assert (changed.city, changed.street) == ("Baunatal", "Neue Straße 5")
    (payload,) = payloads(uow, CompanyChanged.TYPE)
    assert (payload["company_number"], payload["city"], payload["street"]) == (A, "Baunatal", "Neue Straße 5")
    assert payload["name"] == "Muster Maschinenbau GmbH"  # the whole master data, not just what changed


@pytest.mark.parametrize(
    "details",
    [
        CompanyDetails(A),  # nothing given
        CompanyDetails(A, name="Muster Maschinenbau GmbH", city="Kassel"),  # the same again
        CompanyDetails(A, email="AUSBILDUNG@muster-maschinenbau.example"),  # e-mail case only
        CompanyDetails(A, name="Muster  Maschinenbau GmbH "),  # spaces only
    ],
)
def test_a_change_that_changes_nothing_announces_nothing(
    uow: Any, bus: MessageBus[Any], clerk: Principal, details: CompanyDetails
) -> None:
    bus.handle(ChangeCompany(clerk, details))
    assert (uow.events, uow.commits) == ([], 0)
    assert uow.companies.get(A).email == "ausbildung@muster-maschinenbau.example"


def test_name_and_email_cannot_be_blanked(uow: Any, bus: MessageBus[Any], clerk: Principal) -> None:
    with pytest.raises(RuleViolation) as caught:
        bus.handle(ChangeCompany(clerk, CompanyDetails(A, name="   ")))
    assert refused_fields(caught) == {"name"}
    assert uow.companies.get(A).name == "Muster Maschinenbau GmbH" and uow.events == []


def test_changing_an_unknown_company_is_not_found(bus: MessageBus[Any], clerk: Principal) -> None:
    with pytest.raises(NotFound):
        bus.handle(ChangeCompany(clerk, CompanyDetails("9999999", name="X")))


# -- head offices and branches ----------------------------------------------------------------------


@pytest.fixture
def companies(uow: Any, bus: MessageBus[Any], clerk: Principal) -> None:
    """HEAD, BRANCH and OTHER, all on their own; no events recorded yet."""
    for number in (HEAD, BRANCH, OTHER):
        uow.companies.add(Company(number, f"Betrieb {number}", f"b{number}@example.org"))


def test_assigning_a_branch_announces_it(
    uow: Any, bus: MessageBus[Any], clerk: Principal, companies: None
) -> None:
    branch = bus.handle(AssignBranch(clerk, BRANCH, HEAD))
    assert branch.head_office_number == HEAD
    assert payloads(uow, BranchAssigned.TYPE) == [{"branch_number": BRANCH, "head_office_number": HEAD}]
    bus.handle(AssignBranch(clerk, BRANCH, HEAD))  # again: nothing changes, nothing is announced
    assert len(uow.events) == 1


def test_moving_a_branch_to_another_head_office_announces_both(
    uow: Any, bus: MessageBus[Any], clerk: Principal, companies: None
) -> None:
    bus.handle(AssignBranch(clerk, BRANCH, HEAD))
    bus.handle(AssignBranch(clerk, BRANCH, A))
    assert event_types(uow) == [BranchAssigned.TYPE, BranchRemoved.TYPE, BranchAssigned.TYPE]
    assert payloads(uow, BranchRemoved.TYPE) == [{"branch_number": BRANCH, "head_office_number": HEAD}]
    assert uow.companies.get(BRANCH).head_office_number == A


def test_removing_a_branch_announces_it_once(
    uow: Any, bus: MessageBus[Any], clerk: Principal, companies: None
) -> None:
    bus.handle(AssignBranch(clerk, BRANCH, HEAD))
    bus.handle(RemoveBranch(clerk, BRANCH))
    assert uow.companies.get(BRANCH).head_office_number is None
    assert payloads(uow, BranchRemoved.TYPE) == [{"branch_number": BRANCH, "head_office_number": HEAD}]
    events = len(uow.events)
    bus.handle(RemoveBranch(clerk, BRANCH))  # no longer a branch: nothing to announce
    assert len(uow.events) == events


def test_a_company_cannot_be_its_own_head_office(
    uow: Any, bus: MessageBus[Any], clerk: Principal, companies: None
) -> None:
    with pytest.raises(RuleViolation) as caught:
        bus.handle(AssignBranch(clerk, HEAD, HEAD))
    assert refused_fields(caught) == {"head_office_number"}
    assert uow.companies.get(HEAD).head_office_number is None and uow.events == []


def test_a_branch_cannot_be_a_head_office(
    uow: Any, bus: MessageBus[Any], clerk: Principal, companies: None
) -> None:
    bus.handle(AssignBranch(clerk, BRANCH, HEAD))
    events = len(uow.events)
    with pytest.raises(RuleViolation) as caught:
        bus.handle(AssignBranch(clerk, OTHER, BRANCH))
    assert refused_fields(caught) == {"head_office_number"}
    assert uow.companies.get(OTHER).head_office_number is None and len(uow.events) == events


def test_a_head_office_with_branches_cannot_become_a_branch(
    uow: Any, bus: MessageBus[Any], clerk: Principal, companies: None
) -> None:
    bus.handle(AssignBranch(clerk, BRANCH, HEAD))
    events = len(uow.events)
    with pytest.raises(RuleViolation) as caught:
        bus.handle(AssignBranch(clerk, HEAD, OTHER))
    assert refused_fields(caught) == {"branch_number"}
    assert uow.companies.get(HEAD).head_office_number is None and len(uow.events) == events


def test_branches_of_unknown_companies_are_refused(
    uow: Any, bus: MessageBus[Any], clerk: Principal, companies: None
) -> None:
    with pytest.raises(NotFound):
        bus.handle(AssignBranch(clerk, "9999999", HEAD))
    with pytest.raises(RuleViolation) as caught:
        bus.handle(AssignBranch(clerk, BRANCH, "9999999"))
    assert refused_fields(caught) == {"head_office_number"}
    with pytest.raises(NotFound):
        bus.handle(RemoveBranch(clerk, "9999999"))
    assert uow.events == []


def test_reach_is_switched_on_and_off_with_an_event_only_when_it_changes(
    uow: Any, bus: MessageBus[Any], clerk: Principal, companies: None
) -> None:
    bus.handle(SetBranchReach(clerk, HEAD, True))
    bus.handle(SetBranchReach(clerk, HEAD, True))
    bus.handle(SetBranchReach(clerk, HEAD, False))
    bus.handle(SetBranchReach(clerk, HEAD, False))
    assert payloads(uow, BranchReachChanged.TYPE) == [
        {"company_number": HEAD, "enabled": True},
        {"company_number": HEAD, "enabled": False},
    ]
    assert uow.companies.get(HEAD).branch_reach is False


def test_a_branch_cannot_have_reach(
    uow: Any, bus: MessageBus[Any], clerk: Principal, companies: None
) -> None:
    bus.handle(AssignBranch(clerk, BRANCH, HEAD))
    events = len(uow.events)
    with pytest.raises(RuleViolation) as caught:
        bus.handle(SetBranchReach(clerk, BRANCH, True))
    assert refused_fields(caught) == {"enabled"}
    assert uow.companies.get(BRANCH).branch_reach is False and len(uow.events) == events
    with pytest.raises(NotFound):
        bus.handle(SetBranchReach(clerk, "9999999", True))


def _register(bus: MessageBus[Any], clerk: Principal, company_number: str, **terms: Any) -> Contract:
    registered: Contract = bus.handle(
        RegisterContract(
            principal=clerk,
            company=CompanyDetails(company_number),
            apprentice=ApprenticeDetails("Lea", "Lehmann", date(2008, 5, 5), "lea@example.org"),
            occupation_code="78100",
            start_date=date(2026, 9, 1),
            end_date=date(2029, 8, 31),
            terms=ContractTerms(probation_months=4, **terms),
        )
    )
    return registered


def test_a_head_office_reaches_its_branches_only_while_reach_is_on(
    bus: MessageBus[Any], clerk: Principal, principal: Callable[..., Principal], companies: None
) -> None:
    bus.handle(AssignBranch(clerk, BRANCH, HEAD))
    in_branch, elsewhere = _register(bus, clerk, BRANCH), _register(bus, clerk, OTHER)
    head_admin = principal(company_roles={HEAD: ["admin"]})
    branch_admin = principal(company_roles={BRANCH: ["admin"]})

    def sees() -> set[str]:
        return {
            view.company.company_number for view in bus.handle(ListContracts(head_admin, PageRequest())).items
        }

    assert sees() == set()
    with pytest.raises(NotFound):
        bus.handle(GetContract(head_admin, in_branch.id))
    with pytest.raises(NotFound):
        bus.handle(GetCompany(head_admin, BRANCH))

    bus.handle(SetBranchReach(clerk, HEAD, True))
    assert sees() == {BRANCH}
    assert bus.handle(GetContract(head_admin, in_branch.id)).id == in_branch.id
    assert bus.handle(GetCompany(head_admin, BRANCH)).company_number == BRANCH
    assert [c.company_number for c in bus.handle(ListBranches(head_admin, HEAD, PageRequest())).items] == [
        BRANCH
    ]
    with pytest.raises(NotFound):  # reach is over the branches, not over everyone
        bus.handle(GetContract(head_admin, elsewhere.id))
    with pytest.raises(NotFound):  # and it does not run upwards
        bus.handle(GetCompany(branch_admin, HEAD))

    bus.handle(SetBranchReach(clerk, HEAD, False))
    assert sees() == set()
    with pytest.raises(NotFound):
        bus.handle(GetContract(head_admin, in_branch.id))


# -- trainers ---------------------------------------------------------------------------------------


def details(email: str = "anna.ausbilder@example.org", **changes: Any) -> TrainerDetails:
    values: dict[str, Any] = {
        "first_name": "Anna",
        "last_name": "Ausbilder",
        "email": email,
        "qualified": True,
    }
    values.update(changes)
    return TrainerDetails(**values)


@pytest.mark.parametrize(
    "claims",
    [{"roles": ["chamber_clerk"]}, {"company_roles": {A: ["admin"]}}, {"company_roles": {A: ["manager"]}}],
)
def test_the_chamber_and_the_companys_administrators_add_trainers(
    uow: Any, bus: MessageBus[Any], principal: Callable[..., Principal], claims: dict[str, Any]
) -> None:
    trainer = bus.handle(AddTrainer(principal(**claims), A, details()))
    assert uow.trainers.get(trainer.id) is trainer
    (payload,) = payloads(uow, TrainerAdded.TYPE)
    assert (payload["trainer_id"], payload["company_number"], payload["email"], payload["qualified"]) == (
        trainer.id,
        A,
        "anna.ausbilder@example.org",
        True,
    )


@pytest.mark.parametrize(
    "claims, error",
    [
        ({"company_roles": {A: ["trainer"]}}, Forbidden),  # of the company, but may only look
        ({"company_roles": {"4711002": ["admin"]}}, NotFound),  # another company learns nothing
        ({"roles": ["chamber_exam_organiser"]}, Forbidden),
        ({"roles": ["apprentice"], "apprentice_number": "20260001"}, NotFound),
    ],
)
def test_others_may_not_add_trainers(
    uow: Any, bus: MessageBus[Any], principal: Callable[..., Principal], claims: dict[str, Any], error: type
) -> None:
    with pytest.raises(error):
        bus.handle(AddTrainer(principal(**claims), A, details()))
    assert (uow.trainers.all(), uow.events) == ([], [])


def test_a_trainer_for_an_unknown_company_is_not_found(
    uow: Any, bus: MessageBus[Any], clerk: Principal
) -> None:
    with pytest.raises(NotFound):
        bus.handle(AddTrainer(clerk, "9999999", details()))
    assert uow.trainers.all() == []


def test_one_email_per_company_among_active_trainers(
    uow: Any, bus: MessageBus[Any], clerk: Principal
) -> None:
    first = bus.handle(AddTrainer(clerk, A, details()))
    with pytest.raises(RuleViolation) as caught:
        bus.handle(AddTrainer(clerk, A, details(email="Anna.Ausbilder@Example.org", first_name="Anne")))
    assert refused_fields(caught) == {"email"}
    assert len(uow.trainers) == 1 and len(uow.events) == 1

    uow.companies.add(Company("4711002", "Beispiel Elektro KG", "azubi@beispiel.example"))
    bus.handle(AddTrainer(clerk, "4711002", details()))  # another company may have the same address

    bus.handle(RemoveTrainer(clerk, first.id))
    again = bus.handle(AddTrainer(clerk, A, details()))  # free again once the first one has left
    assert again.id != first.id


def test_changing_a_trainer_announces_it_only_when_something_changed(
    uow: Any, bus: MessageBus[Any], clerk: Principal, principal: Callable[..., Principal]
) -> None:
    trainer = bus.handle(AddTrainer(clerk, A, details()))
    manager = principal(company_roles={A: ["manager"]})
    bus.handle(ChangeTrainerDetails(manager, trainer.id, details(email="ANNA.AUSBILDER@example.org")))
    assert payloads(uow, TrainerChanged.TYPE) == []  # the address's case only: the same trainer
    bus.handle(ChangeTrainerDetails(manager, trainer.id, details(qualified=False, last_name="Meister")))
    (payload,) = payloads(uow, TrainerChanged.TYPE)
    assert (payload["last_name"], payload["qualified"]) == ("Meister", False)
    assert (trainer.last_name, trainer.qualified) == ("Meister", False)


def test_a_change_to_another_trainers_email_is_refused(
    uow: Any, bus: MessageBus[Any], clerk: Principal
) -> None:
    anna = bus.handle(AddTrainer(clerk, A, details()))
    ben = bus.handle(AddTrainer(clerk, A, details(email="ben@example.org", first_name="Ben")))
    with pytest.raises(RuleViolation) as caught:
        bus.handle(
            ChangeTrainerDetails(clerk, ben.id, details(email="anna.ausbilder@example.org", first_name="Ben"))
        )
    assert refused_fields(caught) == {"email"}
    assert ben.email == "ben@example.org" and anna.email == "anna.ausbilder@example.org"
    assert payloads(uow, TrainerChanged.TYPE) == []


@pytest.mark.parametrize(
    "claims, error",
    [
        ({"company_roles": {A: ["trainer"]}}, Forbidden),
        ({"company_roles": {"4711002": ["admin", "manager"]}}, NotFound),
        ({"roles": ["examiner"]}, NotFound),
    ],
)
def test_others_may_not_change_or_remove_a_trainer(
    uow: Any,
    bus: MessageBus[Any],
    clerk: Principal,
    principal: Callable[..., Principal],
    claims: dict[str, Any],
    error: type,
) -> None:
    trainer = bus.handle(AddTrainer(clerk, A, details()))
    actor = principal(**claims)
    events = len(uow.events)
    with pytest.raises(error):
        bus.handle(ChangeTrainerDetails(actor, trainer.id, details(first_name="Eve")))
    with pytest.raises(error):
        bus.handle(RemoveTrainer(actor, trainer.id))
    assert (trainer.first_name, trainer.active, len(uow.events)) == ("Anna", True, events)


def test_trainers_of_the_company_may_see_their_colleagues(
    bus: MessageBus[Any], clerk: Principal, principal: Callable[..., Principal]
) -> None:
    trainer = bus.handle(AddTrainer(clerk, A, details()))
    colleague = principal(company_roles={A: ["trainer"]})
    assert bus.handle(GetTrainer(colleague, trainer.id)).email == "anna.ausbilder@example.org"
    assert [t.id for t in bus.handle(ListTrainers(colleague, A, PageRequest())).items] == [trainer.id]
    with pytest.raises(NotFound):
        bus.handle(GetTrainer(principal(company_roles={"4711002": ["admin"]}), trainer.id))
    with pytest.raises(NotFound):
        bus.handle(ListTrainers(principal(company_roles={"4711002": ["admin"]}), A, PageRequest()))


def test_a_trainer_with_running_contracts_cannot_be_removed(
    uow: Any, bus: MessageBus[Any], clerk: Principal, today: date
) -> None:
    uow.occupations.get("78100").duration_months = 36
    trainer = bus.handle(AddTrainer(clerk, A, details()))
    contract = _register(bus, clerk, A, trainer_id=trainer.id)
    listed = bus.handle(ListTrainers(clerk, A, PageRequest())).items
    assert [c.contract_number for c in listed[0].contracts] == [contract.contract_number]

    events = len(uow.events)
    with pytest.raises(RuleViolation) as caught:
        bus.handle(RemoveTrainer(clerk, trainer.id))
    assert refused_fields(caught) == {"trainer_id"}
    assert trainer.active and len(uow.events) == events

    # Interrupted is still running.
    bus.handle(ChangeContract(clerk, contract.id, ChangeKind.INTERRUPTED, effective_on=date(2027, 3, 1)))
    with pytest.raises(RuleViolation):
        bus.handle(RemoveTrainer(clerk, trainer.id))

    bus.handle(ChangeContract(clerk, contract.id, ChangeKind.COMPLETED, effective_on=date(2027, 6, 30)))
    bus.handle(RemoveTrainer(clerk, trainer.id))
    assert trainer.removed_on == today
    (payload,) = payloads(uow, TrainerRemoved.TYPE)
    assert payload["trainer_id"] == trainer.id
    assert bus.handle(ListTrainers(clerk, A, PageRequest())).items == ()
    assert uow.contracts.get(contract.id).trainer_id == trainer.id  # the history keeps who it was
    with pytest.raises(NotFound):  # a removed trainer is gone for every later step
        bus.handle(GetTrainer(clerk, trainer.id))
    with pytest.raises(NotFound):
        bus.handle(RemoveTrainer(clerk, trainer.id))


def test_a_contract_cannot_be_registered_with_another_companys_or_a_removed_trainer(
    uow: Any, bus: MessageBus[Any], clerk: Principal
) -> None:
    uow.occupations.get("78100").duration_months = 36
    uow.companies.add(Company("4711002", "Beispiel Elektro KG", "azubi@beispiel.example"))
    foreign = bus.handle(AddTrainer(clerk, "4711002", details()))
    gone = bus.handle(AddTrainer(clerk, A, details(email="gone@example.org")))
    bus.handle(RemoveTrainer(clerk, gone.id))
    for trainer_id in (foreign.id, gone.id, uuid.uuid4()):
        with pytest.raises(RuleViolation) as caught:
            _register(bus, clerk, A, trainer_id=trainer_id)
        assert refused_fields(caught) == {"trainer_id"}
    assert uow.contracts.all() == []


# -- the occupation catalogue -----------------------------------------------------------------------


def test_the_chamber_administrator_adds_an_occupation(
    uow: Any, bus: MessageBus[Any], chamber_admin: Principal
) -> None:
    added = bus.handle(
        AddOccupation(
            chamber_admin,
            "63100",
            "Fachinformatiker/-in",
            specialisms=("Anwendungsentwicklung", "Systemintegration"),
            duration_months=36,
            split_final_exam=True,
        )
    )
    assert uow.occupations.get("63100") is added and added.active
    (payload,) = payloads(uow, OccupationAdded.TYPE)
    assert payload == {
        "code": "63100",
        "title": "Fachinformatiker/-in",
        "specialisms": ["Anwendungsentwicklung", "Systemintegration"],
        "duration_months": 36,
        "split_final_exam": True,
    }


@pytest.mark.parametrize(
    "claims",
    [{"roles": ["chamber_clerk"]}, {"roles": ["chamber_exam_organiser"]}, {"company_roles": {A: ["admin"]}}],
)
def test_only_the_chamber_administrator_edits_the_catalogue(
    uow: Any, bus: MessageBus[Any], principal: Callable[..., Principal], claims: dict[str, Any]
) -> None:
    actor = principal(**claims)
    with pytest.raises(Forbidden):
        bus.handle(AddOccupation(actor, "63100", "Fachinformatiker/-in"))
    with pytest.raises(Forbidden):
        bus.handle(RetireOccupation(actor, "78100"))
    assert uow.occupations.get("63100") is None and uow.occupations.get("78100").active
    assert uow.events == []


@pytest.mark.parametrize(
    "command, fields",
    [
        (dict(code="63100", title="X", duration_months=11), {"duration_months"}),
        (dict(code="63100", title="X", duration_months=49), {"duration_months"}),
        (dict(code="63100", title="X", specialisms=("A", "A")), {"specialisms"}),
    ],
)
def test_an_occupation_breaking_a_rule_is_not_added(
    uow: Any, bus: MessageBus[Any], chamber_admin: Principal, command: dict[str, Any], fields: set[str]
) -> None:
    with pytest.raises(RuleViolation) as caught:
        bus.handle(AddOccupation(chamber_admin, **command))
    assert refused_fields(caught) == fields
    assert uow.occupations.get("63100") is None and uow.events == []


def test_a_taken_code_is_a_conflict(uow: Any, bus: MessageBus[Any], chamber_admin: Principal) -> None:
    with pytest.raises(Conflict):
        bus.handle(AddOccupation(chamber_admin, "78100", "Anderer Titel"))
    assert uow.occupations.get("78100").title == "Industriekaufmann/Industriekauffrau" and uow.events == []


def test_retiring_announces_it_once_and_the_occupation_takes_no_new_contracts(
    uow: Any, bus: MessageBus[Any], chamber_admin: Principal, clerk: Principal, today: date
) -> None:
    uow.occupations.get("78100").duration_months = 36
    existing = _register(bus, clerk, A)
    events = len(uow.events)

    retired = bus.handle(RetireOccupation(chamber_admin, "78100"))
    bus.handle(RetireOccupation(chamber_admin, "78100"))
    assert (retired.retired_on, retired.active) == (today, False)
    assert payloads(uow, OccupationRetired.TYPE) == [{"code": "78100", "retired_on": today}]
    assert len(uow.events) == events + 1

    with pytest.raises(RuleViolation) as caught:
        _register(bus, clerk, A)
    assert refused_fields(caught) == {"occupation_code"}
    assert uow.contracts.all() == [existing]  # the old contract stays
    codes = [o.code for o in bus.handle(ListOccupations(PageRequest())).items]
    assert "78100" not in codes
    assert "78100" in [o.code for o in bus.handle(ListOccupations(PageRequest(), include_retired=True)).items]


def test_retiring_an_unknown_occupation_is_not_found(bus: MessageBus[Any], chamber_admin: Principal) -> None:
    with pytest.raises(NotFound):
        bus.handle(RetireOccupation(chamber_admin, "00000"))


SHIPPED = (
    OccupationEntry("78100", "Industriekaufmann/Industriekauffrau (neuer Titel)", duration_months=36),
    OccupationEntry("63100", "Fachinformatiker/-in", ("Anwendungsentwicklung",), 36, True),
    OccupationEntry("13100", "Fachinformatiker/-in Anwendungsentwicklung", duration_months=36),
)


def test_loading_the_shipped_catalogue_adds_only_what_is_missing_and_is_idempotent(
    uow: Any, bus: MessageBus[Any]
) -> None:
    assert bus.handle(LoadOccupationCatalogue(SHIPPED)) == 2
    assert [p["code"] for p in payloads(uow, OccupationAdded.TYPE)] == ["63100", "13100"]
    assert uow.occupations.get("63100").specialisms == ["Anwendungsentwicklung"]
    # An entry the register has keeps its data: the administrator's word stands.
    assert uow.occupations.get("78100").title == "Industriekaufmann/Industriekauffrau"

    events = len(uow.events)
    assert bus.handle(LoadOccupationCatalogue(SHIPPED)) == 0
    assert len(uow.events) == events


def test_loading_the_catalogue_never_revives_a_retired_occupation(
    uow: Any, bus: MessageBus[Any], chamber_admin: Principal, today: date
) -> None:
    bus.handle(RetireOccupation(chamber_admin, "78100"))
    assert bus.handle(LoadOccupationCatalogue(SHIPPED)) == 2
    assert bus.handle(LoadOccupationCatalogue(SHIPPED)) == 0
    occupation: Occupation = uow.occupations.get("78100")
    assert (occupation.retired_on, occupation.active) == (today, False)
    assert [p["code"] for p in payloads(uow, OccupationAdded.TYPE)] == ["63100", "13100"]
