"""Company access: the Aktivierungscode of a new company, and Zugang freischalten with a letter's code."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from chassis.contracts.identity import AccessCodeIssued, AccountActivated
from chassis.contracts.training import CompanyChanged, CompanyRegistered
from chassis.events.catalogue import load_payload, outgoing_envelope
from chassis.events.incoming import IncomingEvent
from chassis.principal import Principal
from identity.domain.access_commands import RedeemAccessCode
from identity.domain.company_access import ApprenticeNumberTaken
from identity.domain.model import (
    Account,
    AccountStatus,
    ActivationCodeExpired,
    ActivationCodeUsed,
    InvalidActivation,
)
from identity.service_layer.access_data import company_changed, company_registered, redeem_access_code
from identity.service_layer.handlers import TimingShield

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
VALID_FOR = timedelta(days=90)
COMPANY = "4712001"


def registered(number: str = COMPANY) -> IncomingEvent[CompanyRegistered]:
    event = CompanyRegistered(
        company_number=number,
        name="Neue Technik GmbH",
        email="info@neue-technik.example",
        street="Hauptstraße 1",
        postal_code="34117",
        city="Kassel",
        head_office_number=None,
    )
    envelope = outgoing_envelope(event, producer="training-records", subject=number)
    return IncomingEvent(envelope, load_payload(envelope.type, envelope.version, envelope.payload))  # type: ignore[arg-type]


@pytest.fixture
def shield(fast_hasher, code_hasher) -> TimingShield:  # type: ignore[no-untyped-def]
    return TimingShield.for_hashers(fast_hasher, code_hasher)


@pytest.fixture
def person(fake_uow) -> Account:  # type: ignore[no-untyped-def]
    account = Account(
        id=uuid.uuid4(), email="neu@example.org", name="Nora Neu", status=AccountStatus.ACTIVE, created_at=NOW
    )
    account.password_hash = "argon2-hash"
    fake_uow.accounts.add(account)
    return account


def issue(fake_uow, code_hasher, number: str = COMPANY) -> str:  # type: ignore[no-untyped-def]
    company_registered(
        registered(number),
        fake_uow,
        code_hasher=code_hasher,
        clock=lambda: NOW,
        company_code_valid_for=VALID_FOR,
    )
    code = fake_uow.events[-1].payload["activation_code"]
    assert isinstance(code, str)
    return code


def redeem(fake_uow, code_hasher, shield, person, number, code, kind="company", at=NOW):  # type: ignore[no-untyped-def]
    return redeem_access_code(
        RedeemAccessCode(Principal(subject=str(person.id)), kind, number, code),
        fake_uow,
        code_hasher=code_hasher,
        clock=lambda: at,
        shield=shield,
    )


def test_a_registered_company_gets_a_code_for_its_letter(fake_uow, code_hasher) -> None:  # type: ignore[no-untyped-def]
    code = issue(fake_uow, code_hasher)
    [event] = fake_uow.events
    assert event.type == AccessCodeIssued.TYPE
    assert event.payload["kind"] == "company" and event.payload["number"] == COMPANY
    assert event.payload["street"] == "Hauptstraße 1" and event.payload["reason"] == "registered"
    assert event.payload["expires_at"] == (NOW + VALID_FOR).isoformat()
    stored = fake_uow.company_accesses.get(COMPANY)
    assert stored.code_hash.startswith("$hmac-sha256$") and code not in stored.code_hash


def test_a_redelivered_registration_keeps_the_first_code(fake_uow, code_hasher) -> None:  # type: ignore[no-untyped-def]
    issue(fake_uow, code_hasher)
    company_registered(
        registered(), fake_uow, code_hasher=code_hasher, clock=lambda: NOW, company_code_valid_for=VALID_FOR
    )
    assert len(fake_uow.events) == 1


def test_the_code_makes_the_person_administrator_once(fake_uow, code_hasher, shield, person) -> None:  # type: ignore[no-untyped-def]
    code = issue(fake_uow, code_hasher)
    account = redeem(fake_uow, code_hasher, shield, person, COMPANY, code.lower().replace("-", " "))
    assert account.company_roles == {COMPANY: ["admin"]}
    assert fake_uow.company_accesses.get(COMPANY).redeemed_by == person.id
    with pytest.raises(ActivationCodeUsed):
        redeem(fake_uow, code_hasher, shield, person, COMPANY, code)


def test_an_expired_code_is_refused(fake_uow, code_hasher, shield, person) -> None:  # type: ignore[no-untyped-def]
    code = issue(fake_uow, code_hasher)
    with pytest.raises(ActivationCodeExpired):
        redeem(fake_uow, code_hasher, shield, person, COMPANY, code, at=NOW + VALID_FOR)
    assert person.company_roles == {}


def test_unknown_number_and_wrong_code_are_the_same_answer(fake_uow, code_hasher, shield, person) -> None:  # type: ignore[no-untyped-def]
    code = issue(fake_uow, code_hasher)
    with pytest.raises(InvalidActivation):
        redeem(fake_uow, code_hasher, shield, person, "9999999", code)
    with pytest.raises(InvalidActivation):
        redeem(fake_uow, code_hasher, shield, person, COMPANY, "AAAA-BBBB-CCCC")
    with pytest.raises(InvalidActivation):  # an apprentice number with no pending account
        redeem(fake_uow, code_hasher, shield, person, "20269999", code, kind="apprentice")
    assert person.company_roles == {}


def test_unknown_number_spends_a_code_verification(fake_uow, code_hasher, shield, person) -> None:  # type: ignore[no-untyped-def]
    calls: list[str] = []

    class Counting:
        def hash(self, code: str) -> str:
            return code_hasher.hash(code)

        def verify(self, hashed: str, code: str) -> bool:
            calls.append(hashed)
            return code_hasher.verify(hashed, code)

    issue(fake_uow, code_hasher)
    for number in ("9999999", COMPANY):
        with pytest.raises(InvalidActivation):
            redeem(fake_uow, Counting(), shield, person, number, "AAAA-BBBB-CCCC")
    assert len(calls) == 2  # one verification each: the unknown number against the shield's dummy


def test_an_apprentices_code_binds_the_logged_in_account(fake_uow, code_hasher, shield, person) -> None:  # type: ignore[no-untyped-def]
    pending = Account(id=uuid.uuid4(), email="azubi@example.org", name="Paul Probst", created_at=NOW)
    pending.make_apprentice("20260101")
    code = pending.issue_activation_code(NOW, timedelta(days=30), code_hasher)
    fake_uow.accounts.add(pending)
    account = redeem(fake_uow, code_hasher, shield, person, "20260101", code, kind="apprentice")
    assert account.apprentice_number == "20260101" and "apprentice" in account.roles
    assert pending.status is AccountStatus.LOCKED and pending.apprentice_number is None
    assert "apprentice" not in pending.roles
    [event] = fake_uow.events
    assert event.type == AccountActivated.TYPE
    assert event.payload["account_id"] == str(person.id) and event.payload["apprentice_number"] == "20260101"


def test_an_account_of_another_apprentice_cannot_take_a_second_number(
    fake_uow, code_hasher, shield, person
) -> None:  # type: ignore[no-untyped-def]
    person.make_apprentice("20260001")
    pending = Account(id=uuid.uuid4(), email="azubi@example.org", name="Paul Probst", created_at=NOW)
    pending.make_apprentice("20260101")
    code = pending.issue_activation_code(NOW, timedelta(days=30), code_hasher)
    fake_uow.accounts.add(pending)
    with pytest.raises(ApprenticeNumberTaken):
        redeem(fake_uow, code_hasher, shield, person, "20260101", code, kind="apprentice")


def changed(at: datetime, *, street: str, number: str = COMPANY) -> IncomingEvent[CompanyChanged]:
    event = CompanyChanged(
        company_number=number,
        name="Neue Technik GmbH & Co. KG",
        email="info@neue-technik.example",
        street=street,
        postal_code="34119",
        city="Kassel",
        head_office_number=None,
    )
    envelope = replace(
        outgoing_envelope(event, producer="training-records", subject=number), occurred_at=at.isoformat()
    )
    return IncomingEvent(envelope, load_payload(envelope.type, envelope.version, envelope.payload))  # type: ignore[arg-type]


def test_a_changed_address_is_where_the_next_letter_goes(fake_uow, code_hasher) -> None:  # type: ignore[no-untyped-def]
    issue(fake_uow, code_hasher)
    company_changed(changed(datetime.now(UTC) + timedelta(minutes=1), street="Neue Straße 7"), fake_uow)
    company = fake_uow.company_accesses.get(COMPANY)
    assert (company.name, company.street, company.postal_code) == (
        "Neue Technik GmbH & Co. KG",
        "Neue Straße 7",
        "34119",
    )
    assert company.code_hash is not None  # the code of the first letter stays valid


def test_an_older_change_arriving_late_changes_nothing(fake_uow, code_hasher) -> None:  # type: ignore[no-untyped-def]
    issue(fake_uow, code_hasher)
    later = datetime.now(UTC) + timedelta(minutes=5)
    company_changed(changed(later, street="Neueste Straße 9"), fake_uow)
    company_changed(changed(later - timedelta(minutes=2), street="Alte Straße 1"), fake_uow)
    assert fake_uow.company_accesses.get(COMPANY).street == "Neueste Straße 9"


def test_a_change_before_the_registration_keeps_the_newer_address(fake_uow, code_hasher) -> None:  # type: ignore[no-untyped-def]
    company_changed(changed(datetime.now(UTC) + timedelta(minutes=5), street="Neue Straße 7"), fake_uow)
    company = fake_uow.company_accesses.get(COMPANY)
    assert company.code_hash is None  # no letter yet: nothing to redeem
    issue(fake_uow, code_hasher)  # the (older) registration arrives afterwards and issues the first code
    company = fake_uow.company_accesses.get(COMPANY)
    assert company.code_hash is not None
    assert company.street == "Neue Straße 7"
    assert fake_uow.events[-1].payload["street"] == "Neue Straße 7"
