"""Roles, service rights and chamber roles: who may grant what, and the guard rails."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from chassis.domain import Forbidden, NotFound, RuleViolation
from chassis.principal import Principal
from chassis.testing.fakes import FakeUnitOfWork
from identity.domain.grant_commands import (
    AdministrableCompanies,
    ChangeChamberRole,
    ChangeCompanyGrant,
    GrantCompanyRoleByEmail,
    ListCompanyAccounts,
    SwitchCompanyService,
)
from identity.domain.model import Account, AccountStatus
from identity.service_layer import grants

NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
COMPANY = "4711001"
OTHER = "4711002"


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
