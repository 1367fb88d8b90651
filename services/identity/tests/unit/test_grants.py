"""Roles, service rights and chamber roles (who may grant what, and the guard rails), deputyships
(request, the chamber's approval, removal) and the narrowed claims of contexts."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from chassis.contracts.identity import (
    AccountInvited,
    DeputyshipApproved,
    DeputyshipRemoved,
    DeputyshipRequested,
)
from chassis.domain import Conflict, Forbidden, NotFound, RuleViolation
from chassis.principal import Principal
from chassis.testing.fakes import FakeUnitOfWork
from identity.domain.deputies import Deputyship
from identity.domain.grant_commands import (
    AdministrableCompanies,
    ChangeChamberRole,
    ChangeCompanyGrant,
    ContextClaims,
    DecideDeputyship,
    GrantCompanyRoleByEmail,
    ListCompanyAccounts,
    ListContexts,
    ListOpenDeputyships,
    ListOwnDeputyships,
    NameDeputy,
    RemoveDeputyship,
    SwitchCompanyService,
)
from identity.domain.invitations import InvitationSettings
from identity.domain.model import Account, AccountStatus
from identity.service_layer import grants

NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
COMPANY = "4711001"
OTHER = "4711002"

INVITATIONS = InvitationSettings(
    valid_for=timedelta(days=7), link_prefix="https://portal.example/auth/invitation/"
)


def clock() -> datetime:
    return NOW


def add_account(uow: FakeUnitOfWork, name: str, **kwargs: object) -> Account:
    account = Account(
        id=uuid.uuid4(), email=f"{name.lower()}@example.org", name=name, status=AccountStatus.ACTIVE, **kwargs
    )  # type: ignore[arg-type]
    uow.accounts.add(account)
    return account


def principal_of(account: Account, **overrides: object) -> Principal:
    claims = {**account.claims(), **overrides}
    return Principal.from_claims(claims)


@pytest.fixture
def company(fake_uow: FakeUnitOfWork) -> dict[str, Account]:
    return {
        "admin": add_account(fake_uow, "Adele", company_roles={COMPANY: ["admin"]}),
        "manager": add_account(fake_uow, "Manfred", company_roles={COMPANY: ["manager"]}),
        "trainer": add_account(fake_uow, "Trude", company_roles={COMPANY: ["trainer"]}),
        "outsider": add_account(fake_uow, "Otto", company_roles={OTHER: ["admin"]}),
    }


def change(
    uow: FakeUnitOfWork, caller: Account, target: Account, kind: str, name: str, grant: bool
) -> Account:
    cmd = ChangeCompanyGrant(principal_of(caller), COMPANY, target.id, kind, name, grant)
    return grants.change_company_grant(cmd, uow)


def test_an_administrator_grants_and_revokes_roles(
    fake_uow: FakeUnitOfWork, company: dict[str, Account]
) -> None:
    change(fake_uow, company["admin"], company["trainer"], "role", "manager", True)
    assert company["trainer"].company_roles[COMPANY] == ["manager", "trainer"]
    assert fake_uow.committed
    change(fake_uow, company["admin"], company["trainer"], "role", "trainer", False)
    assert company["trainer"].company_roles[COMPANY] == ["manager"]


@pytest.mark.parametrize("who", ["manager", "trainer", "outsider"])
def test_nobody_but_the_companys_administrator_grants(
    fake_uow: FakeUnitOfWork, company: dict[str, Account], who: str
) -> None:
    with pytest.raises(Forbidden):
        change(fake_uow, company[who], company["trainer"], "role", "admin", True)
    assert company["trainer"].company_roles[COMPANY] == ["trainer"]


def test_the_last_administrator_stays(fake_uow: FakeUnitOfWork, company: dict[str, Account]) -> None:
    with pytest.raises(RuleViolation) as raised:
        change(fake_uow, company["admin"], company["admin"], "role", "admin", False)
    assert ("role",) in raised.value.errors
    change(fake_uow, company["admin"], company["manager"], "role", "admin", True)
    change(fake_uow, company["admin"], company["admin"], "role", "admin", False)
    assert COMPANY not in company["admin"].company_roles


def test_accounts_of_other_companies_are_not_found_by_id(
    fake_uow: FakeUnitOfWork, company: dict[str, Account]
) -> None:
    with pytest.raises(NotFound):
        change(fake_uow, company["admin"], company["outsider"], "role", "trainer", True)


def test_an_account_joins_the_company_by_email(fake_uow: FakeUnitOfWork, company: dict[str, Account]) -> None:
    cmd = GrantCompanyRoleByEmail(principal_of(company["admin"]), COMPANY, "otto@example.org", "trainer")
    grants.grant_company_role_by_email(cmd, fake_uow)
    assert company["outsider"].company_roles == {OTHER: ["admin"], COMPANY: ["trainer"]}
    with pytest.raises(RuleViolation):
        grants.grant_company_role_by_email(
            GrantCompanyRoleByEmail(principal_of(company["admin"]), COMPANY, "nobody@example.org", "trainer"),
            fake_uow,
        )


def test_a_service_right_needs_the_service_switched_on_even_for_the_administrator(
    fake_uow: FakeUnitOfWork, company: dict[str, Account]
) -> None:
    admin = company["admin"]
    with pytest.raises(RuleViolation) as raised:
        change(fake_uow, admin, admin, "right", "exam_registration", True)
    assert ("right",) in raised.value.errors
    grants.switch_company_service(
        SwitchCompanyService(principal_of(admin), COMPANY, "exam_registration", True), fake_uow, clock=clock
    )
    # Being Administrator grants no service right by itself: it is granted explicitly.
    assert admin.service_rights == {}
    change(fake_uow, admin, admin, "right", "exam_registration", True)
    change(fake_uow, admin, company["manager"], "right", "exam_registration", True)
    assert admin.claims()["service_rights"] == {COMPANY: ["exam_registration"]}
    # Switched off: the right ends for everybody at the company.
    grants.switch_company_service(
        SwitchCompanyService(principal_of(admin), COMPANY, "exam_registration", False), fake_uow, clock=clock
    )
    assert admin.service_rights == {} and company["manager"].service_rights == {}


def test_only_the_administrator_switches_services(
    fake_uow: FakeUnitOfWork, company: dict[str, Account]
) -> None:
    with pytest.raises(Forbidden):
        grants.switch_company_service(
            SwitchCompanyService(principal_of(company["manager"]), COMPANY, "exam_registration", True),
            fake_uow,
            clock=clock,
        )


def test_losing_the_last_role_ends_the_rights_there(
    fake_uow: FakeUnitOfWork, company: dict[str, Account]
) -> None:
    admin = company["admin"]
    grants.switch_company_service(
        SwitchCompanyService(principal_of(admin), COMPANY, "exam_registration", True), fake_uow, clock=clock
    )
    change(fake_uow, admin, company["trainer"], "right", "exam_registration", True)
    change(fake_uow, admin, company["trainer"], "role", "trainer", False)
    assert company["trainer"].company_roles == {} and company["trainer"].service_rights == {}


def test_nothing_is_granted_while_acting_for_someone(
    fake_uow: FakeUnitOfWork, company: dict[str, Account]
) -> None:
    acting = principal_of(company["admin"], act={"sub": str(uuid.uuid4())})
    with pytest.raises(Forbidden):
        grants.change_company_grant(
            ChangeCompanyGrant(acting, COMPANY, company["trainer"].id, "role", "admin", True), fake_uow
        )


def test_the_administrator_lists_the_companys_accounts(
    fake_uow: FakeUnitOfWork, company: dict[str, Account]
) -> None:
    found = grants.list_company_accounts(
        ListCompanyAccounts(principal_of(company["admin"]), COMPANY), fake_uow
    )
    assert [a.name for a in found.accounts.items] == ["Adele", "Manfred", "Trude"]
    with pytest.raises(Forbidden):
        grants.list_company_accounts(ListCompanyAccounts(principal_of(company["trainer"]), COMPANY), fake_uow)


def test_which_companies_may_i_administer(fake_uow: FakeUnitOfWork, company: dict[str, Account]) -> None:
    multi = add_account(
        fake_uow, "Mia", company_roles={COMPANY: ["admin"], OTHER: ["trainer"], "4711003": ["admin"]}
    )
    assert grants.administrable_companies(AdministrableCompanies(principal_of(multi)), fake_uow) == [
        COMPANY,
        "4711003",
    ]
    assert (
        grants.administrable_companies(AdministrableCompanies(principal_of(company["trainer"])), fake_uow)
        == []
    )


def test_chamber_roles_only_by_chamber_administrators(fake_uow: FakeUnitOfWork) -> None:
    boss = add_account(fake_uow, "Christa", roles=["chamber_admin"])
    clerk = add_account(fake_uow, "Claus", roles=["chamber_clerk"])
    grants.change_chamber_role(
        ChangeChamberRole(principal_of(boss), clerk.id, "chamber_exam_organiser", True), fake_uow
    )
    assert clerk.roles == ["chamber_clerk", "chamber_exam_organiser"]
    with pytest.raises(Forbidden):
        grants.change_chamber_role(
            ChangeChamberRole(principal_of(clerk), clerk.id, "chamber_admin", True), fake_uow
        )
    with pytest.raises(RuleViolation):
        grants.change_chamber_role(
            ChangeChamberRole(principal_of(boss), boss.id, "chamber_admin", False), fake_uow
        )
    with pytest.raises(RuleViolation):
        grants.change_chamber_role(
            ChangeChamberRole(principal_of(boss), clerk.id, "apprentice", True), fake_uow
        )


# -- deputyships and contexts ------------------------------------------------------------------
@pytest.fixture
def people(fake_uow: FakeUnitOfWork) -> dict[str, Account]:
    return {
        "admin": add_account(fake_uow, "Adele", company_roles={COMPANY: ["admin"]}),
        "trainer": add_account(fake_uow, "Trude", company_roles={COMPANY: ["trainer"]}, roles=["examiner"]),
        "deputy": add_account(fake_uow, "Detlef"),
        "clerk": add_account(fake_uow, "Claus", roles=["chamber_clerk"]),
    }


def name_company_deputy(uow: FakeUnitOfWork, people: dict[str, Account]) -> Deputyship:
    cmd = NameDeputy(principal_of(people["admin"]), deputy_email="detlef@example.org", company_number=COMPANY)
    return grants.name_deputy(cmd, uow, clock=clock)


def approve(uow: FakeUnitOfWork, people: dict[str, Account], deputyship: Deputyship) -> None:
    grants.decide_deputyship(
        DecideDeputyship(principal_of(people["clerk"]), deputyship.id, approve=True),
        uow,
        clock=clock,
        invitation_settings=INVITATIONS,
    )


def deputy_claims(uow: FakeUnitOfWork, deputy: Account, deputyship: Deputyship) -> dict[str, object]:
    return grants.context_claims(ContextClaims(deputy.id, f"deputy:{deputyship.id}"), uow)


def test_a_deputy_acts_only_after_the_chambers_approval(
    fake_uow: FakeUnitOfWork, people: dict[str, Account]
) -> None:
    deputyship = name_company_deputy(fake_uow, people)
    assert [e.type for e in fake_uow.events] == [DeputyshipRequested.TYPE]
    with pytest.raises(Forbidden):
        deputy_claims(fake_uow, people["deputy"], deputyship)
    open_requests = grants.list_open_deputyships(ListOpenDeputyships(principal_of(people["clerk"])), fake_uow)
    assert [d.id for d in open_requests.items] == [deputyship.id]
    approve(fake_uow, people, deputyship)
    assert fake_uow.events[-1].type == DeputyshipApproved.TYPE
    assert fake_uow.events[-1].payload["deputy_has_account"] is True
    claims = deputy_claims(fake_uow, people["deputy"], deputyship)
    assert claims["act"]["sub"] == str(people["deputy"].id)  # type: ignore[index]
    assert claims["acting_for"] == {"kind": "company", "company_number": COMPANY}
    assert claims["company_roles"] == {COMPANY: ["manager"]}
    principal = Principal.from_claims(claims)
    assert principal.is_acting_for_someone and principal.audit_label().endswith(f"for {COMPANY}")


def test_after_removal_no_acting(fake_uow: FakeUnitOfWork, people: dict[str, Account]) -> None:
    deputyship = name_company_deputy(fake_uow, people)
    approve(fake_uow, people, deputyship)
    # Only the represented side removes; for others the deputyship does not exist.
    with pytest.raises(NotFound):
        grants.remove_deputyship(
            RemoveDeputyship(principal_of(people["trainer"]), deputyship.id), fake_uow, clock=clock
        )
    grants.remove_deputyship(
        RemoveDeputyship(principal_of(people["admin"]), deputyship.id), fake_uow, clock=clock
    )
    assert fake_uow.events[-1].type == DeputyshipRemoved.TYPE
    with pytest.raises(Forbidden):
        deputy_claims(fake_uow, people["deputy"], deputyship)


def test_only_the_chamber_decides(fake_uow: FakeUnitOfWork, people: dict[str, Account]) -> None:
    deputyship = name_company_deputy(fake_uow, people)
    for who in ("admin", "trainer", "deputy"):
        with pytest.raises(Forbidden):
            grants.decide_deputyship(
                DecideDeputyship(principal_of(people[who]), deputyship.id, True),
                fake_uow,
                clock=clock,
                invitation_settings=INVITATIONS,
            )
    approve(fake_uow, people, deputyship)
    with pytest.raises(Conflict):
        approve(fake_uow, people, deputyship)


def test_an_ausbilder_names_no_deputy_for_the_company(
    fake_uow: FakeUnitOfWork, people: dict[str, Account]
) -> None:
    with pytest.raises(Forbidden):
        grants.name_deputy(
            NameDeputy(
                principal_of(people["trainer"]), deputy_email="detlef@example.org", company_number=COMPANY
            ),
            fake_uow,
            clock=clock,
        )


def test_a_deputy_cannot_be_made_administrator(fake_uow: FakeUnitOfWork, people: dict[str, Account]) -> None:
    with pytest.raises(RuleViolation):
        grants.name_deputy(
            NameDeputy(
                principal_of(people["admin"]),
                deputy_email="detlef@example.org",
                company_number=COMPANY,
                company_roles=("admin",),
            ),
            fake_uow,
            clock=clock,
        )


def test_a_new_employee_without_an_account(fake_uow: FakeUnitOfWork, people: dict[str, Account]) -> None:
    cmd = NameDeputy(
        principal_of(people["admin"]),
        deputy_email="neu@example.org",
        deputy_name="Nora Neu",
        company_number=COMPANY,
        new_employee=True,
    )
    deputyship = grants.name_deputy(cmd, fake_uow, clock=clock)
    approve(fake_uow, people, deputyship)
    payload = fake_uow.events[-1].payload
    assert payload["deputy_has_account"] is False and payload["deputy_email"] == "neu@example.org"
    # The approval invites her: an account awaiting its password, and the link by mail.
    [invited] = [e.payload for e in fake_uow.events if e.type == AccountInvited.TYPE]
    assert invited["email"] == "neu@example.org" and invited["invite_url"].startswith(INVITATIONS.link_prefix)
    assert deputyship.deputy_account_id == uuid.UUID(invited["account_id"])
    # An employee who has an account is named by e-mail instead.
    with pytest.raises(RuleViolation):
        grants.name_deputy(
            NameDeputy(
                principal_of(people["admin"]),
                deputy_email="detlef@example.org",
                company_number=COMPANY,
                new_employee=True,
            ),
            fake_uow,
            clock=clock,
        )


def test_a_person_deputy_acts_as_the_person_without_chamber_powers(
    fake_uow: FakeUnitOfWork, people: dict[str, Account]
) -> None:
    clerk = people["clerk"]
    cmd = NameDeputy(principal_of(clerk), deputy_email="detlef@example.org")
    deputyship = grants.name_deputy(cmd, fake_uow, clock=clock)
    boss = add_account(fake_uow, "Berta", roles=["chamber_admin"])
    grants.decide_deputyship(
        DecideDeputyship(principal_of(boss), deputyship.id, True),
        fake_uow,
        clock=clock,
        invitation_settings=INVITATIONS,
    )
    claims = deputy_claims(fake_uow, people["deputy"], deputyship)
    assert claims["sub"] == str(clerk.id)
    assert claims["roles"] == []
    assert claims["acting_for"] == {"kind": "person", "account_id": str(clerk.id)}
    overview = grants.list_own_deputyships(ListOwnDeputyships(principal_of(people["deputy"])), fake_uow)
    assert [d.id for d in overview.acting_for] == [deputyship.id]
    # Someone else's deputyship never lets another account act.
    with pytest.raises(Forbidden):
        deputy_claims(fake_uow, people["trainer"], deputyship)


def test_nothing_about_deputies_changes_while_acting(
    fake_uow: FakeUnitOfWork, people: dict[str, Account]
) -> None:
    acting = principal_of(people["admin"], act={"sub": str(people["deputy"].id)})
    with pytest.raises(Forbidden):
        grants.name_deputy(NameDeputy(acting, deputy_email="detlef@example.org"), fake_uow, clock=clock)


def test_contexts_narrow_the_claims(fake_uow: FakeUnitOfWork, people: dict[str, Account]) -> None:
    trainer = people["trainer"]
    trainer.company_roles = {COMPANY: ["trainer"], OTHER: ["manager"]}
    keys = [c.key for c in grants.list_contexts(ListContexts(principal_of(trainer)), fake_uow)]
    assert keys == [f"company:{COMPANY}", f"company:{OTHER}", "role:examiner"]
    at_company = grants.context_claims(ContextClaims(trainer.id, f"company:{COMPANY}"), fake_uow)
    assert at_company["company_roles"] == {COMPANY: ["trainer"]} and at_company["roles"] == []
    assert at_company["ctx"] == f"company:{COMPANY}"
    as_examiner = grants.context_claims(ContextClaims(trainer.id, "role:examiner"), fake_uow)
    assert as_examiner["roles"] == ["examiner"] and as_examiner["company_roles"] == {}
    for foreign in ("company:9999999", "role:chamber_admin", "deputy:not-a-uuid", "nonsense"):
        with pytest.raises((Forbidden, RuleViolation)):
            grants.context_claims(ContextClaims(trainer.id, foreign), fake_uow)


def test_a_head_offices_roles_reach_its_branches_when_switched_on(
    fake_uow: FakeUnitOfWork, people: dict[str, Account]
) -> None:
    structure = fake_uow.company_structure
    structure.assign_branch("4711101", COMPANY)
    structure.assign_branch("4711102", COMPANY)
    admin = people["admin"]
    assert grants.full_token_claims(admin, fake_uow)["company_roles"] == {COMPANY: ["admin"]}
    structure.set_reach(COMPANY, True)
    claims = grants.full_token_claims(admin, fake_uow)
    assert claims["company_roles"] == {COMPANY: ["admin"], "4711101": ["admin"], "4711102": ["admin"]}
    assert claims["reach"] == {COMPANY: ["4711101", "4711102"]}
    narrowed = grants.context_claims(ContextClaims(admin.id, f"company:{COMPANY}"), fake_uow)
    assert set(narrowed["company_roles"]) == {COMPANY, "4711101", "4711102"}
    structure.set_reach(COMPANY, False)
    assert grants.full_token_claims(admin, fake_uow)["company_roles"] == {COMPANY: ["admin"]}
