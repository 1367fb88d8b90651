"""Deputyships (request, the chamber's approval, removal) and the narrowed claims of contexts."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from chassis.contracts.identity import DeputyshipApproved, DeputyshipRemoved, DeputyshipRequested
from chassis.domain import Conflict, Forbidden, NotFound, RuleViolation
from chassis.principal import Principal
from chassis.testing.fakes import FakeUnitOfWork
from identity.domain.deputies import Deputyship
from identity.domain.grant_commands import (
    ContextClaims,
    DecideDeputyship,
    ListContexts,
    ListOpenDeputyships,
    ListOwnDeputyships,
    NameDeputy,
    RemoveDeputyship,
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


def me(account: Account, **extra: object) -> Principal:
    return Principal.from_claims({**account.claims(), **extra})


@pytest.fixture
def people(fake_uow: FakeUnitOfWork) -> dict[str, Account]:
    return {
        "admin": add_account(fake_uow, "Adele", company_roles={COMPANY: ["admin"]}),
        "trainer": add_account(fake_uow, "Trude", company_roles={COMPANY: ["trainer"]}, roles=["examiner"]),
        "deputy": add_account(fake_uow, "Detlef"),
        "clerk": add_account(fake_uow, "Claus", roles=["chamber_clerk"]),
    }


def name_company_deputy(uow: FakeUnitOfWork, people: dict[str, Account]) -> Deputyship:
    cmd = NameDeputy(me(people["admin"]), deputy_email="detlef@example.org", company_number=COMPANY)
    return grants.name_deputy(cmd, uow, clock=clock)


def approve(uow: FakeUnitOfWork, people: dict[str, Account], deputyship: Deputyship) -> None:
    grants.decide_deputyship(
        DecideDeputyship(me(people["clerk"]), deputyship.id, approve=True), uow, clock=clock
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
    open_requests = grants.list_open_deputyships(ListOpenDeputyships(me(people["clerk"])), fake_uow)
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
            RemoveDeputyship(me(people["trainer"]), deputyship.id), fake_uow, clock=clock
        )
    grants.remove_deputyship(RemoveDeputyship(me(people["admin"]), deputyship.id), fake_uow, clock=clock)
    assert fake_uow.events[-1].type == DeputyshipRemoved.TYPE
    with pytest.raises(Forbidden):
        deputy_claims(fake_uow, people["deputy"], deputyship)


def test_only_the_chamber_decides(fake_uow: FakeUnitOfWork, people: dict[str, Account]) -> None:
    deputyship = name_company_deputy(fake_uow, people)
    for who in ("admin", "trainer", "deputy"):
        with pytest.raises(Forbidden):
            grants.decide_deputyship(
                DecideDeputyship(me(people[who]), deputyship.id, True), fake_uow, clock=clock
            )
    approve(fake_uow, people, deputyship)
    with pytest.raises(Conflict):
        approve(fake_uow, people, deputyship)


def test_an_ausbilder_names_no_deputy_for_the_company(
    fake_uow: FakeUnitOfWork, people: dict[str, Account]
) -> None:
    with pytest.raises(Forbidden):
        grants.name_deputy(
            NameDeputy(me(people["trainer"]), deputy_email="detlef@example.org", company_number=COMPANY),
            fake_uow,
            clock=clock,
        )


def test_a_deputy_cannot_be_made_administrator(fake_uow: FakeUnitOfWork, people: dict[str, Account]) -> None:
    with pytest.raises(RuleViolation):
        grants.name_deputy(
            NameDeputy(
                me(people["admin"]),
                deputy_email="detlef@example.org",
                company_number=COMPANY,
                company_roles=("admin",),
            ),
            fake_uow,
            clock=clock,
        )


def test_a_new_employee_without_an_account(fake_uow: FakeUnitOfWork, people: dict[str, Account]) -> None:
    cmd = NameDeputy(
        me(people["admin"]),
        deputy_email="neu@example.org",
        deputy_name="Nora Neu",
        company_number=COMPANY,
        new_employee=True,
    )
    deputyship = grants.name_deputy(cmd, fake_uow, clock=clock)
    approve(fake_uow, people, deputyship)
    payload = fake_uow.events[-1].payload
    assert payload["deputy_has_account"] is False and payload["deputy_email"] == "neu@example.org"
    # An employee who has an account is named by e-mail instead.
    with pytest.raises(RuleViolation):
        grants.name_deputy(
            NameDeputy(
                me(people["admin"]),
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
    cmd = NameDeputy(me(clerk), deputy_email="detlef@example.org")
    deputyship = grants.name_deputy(cmd, fake_uow, clock=clock)
    boss = add_account(fake_uow, "Berta", roles=["chamber_admin"])
    grants.decide_deputyship(DecideDeputyship(me(boss), deputyship.id, True), fake_uow, clock=clock)
    claims = deputy_claims(fake_uow, people["deputy"], deputyship)
    assert claims["sub"] == str(clerk.id)
    assert claims["roles"] == []
    assert claims["acting_for"] == {"kind": "person", "account_id": str(clerk.id)}
    overview = grants.list_own_deputyships(ListOwnDeputyships(me(people["deputy"])), fake_uow)
    assert [d.id for d in overview.acting_for] == [deputyship.id]
    # Someone else's deputyship never lets another account act.
    with pytest.raises(Forbidden):
        deputy_claims(fake_uow, people["trainer"], deputyship)


def test_nothing_about_deputies_changes_while_acting(
    fake_uow: FakeUnitOfWork, people: dict[str, Account]
) -> None:
    acting = me(people["admin"], act={"sub": str(people["deputy"].id)})
    with pytest.raises(Forbidden):
        grants.name_deputy(NameDeputy(acting, deputy_email="detlef@example.org"), fake_uow, clock=clock)


def test_contexts_narrow_the_claims(fake_uow: FakeUnitOfWork, people: dict[str, Account]) -> None:
    trainer = people["trainer"]
    trainer.company_roles = {COMPANY: ["trainer"], OTHER: ["manager"]}
    keys = [c.key for c in grants.list_contexts(ListContexts(me(trainer)), fake_uow)]
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
