"""Self-registration: the same answer for new and known addresses, a 24-hour link used once,
confirmation with the registration's password."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from identity.domain.account_commands import (
    CheckRegistrationLink,
    ConfirmRegistration,
    Register,
    ResendRegistrationLink,
)
from identity.domain.commands import LogIn
from identity.domain.model import Account, AccountStatus, InvalidCredentials, LockoutPolicy
from identity.domain.password_policy import PasswordPolicyViolation
from identity.domain.registration import (
    InvalidRegistrationLink,
    RegistrationLinkExpired,
    WrongRegistrationPassword,
)
from identity.service_layer import handlers, registration
from identity.service_layer.handlers import TimingShield
from identity.service_layer.links import AccountLinks

LINKS = AccountLinks("https://portal.example/idp")
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
VALID_FOR = timedelta(hours=24)
PASSWORD = "Mein-Registrierungs-Passwort"


def register(
    fake_uow, fast_hasher, email: str, name: str = "Rita Registriert", password: str = PASSWORD, now=NOW
):  # type: ignore[no-untyped-def]
    registration.register(
        Register(name, email, password),
        fake_uow,
        hasher=fast_hasher,
        clock=lambda: now,
        links=LINKS,
        registration_valid_for=VALID_FOR,
    )
    return fake_uow.events[-1]


def token_of(event) -> str:  # type: ignore[no-untyped-def]
    return event.payload["confirm_url"].rsplit("/", 1)[1]


def confirm(fake_uow, fast_hasher, token: str, password: str = PASSWORD, now=NOW) -> Account:  # type: ignore[no-untyped-def]
    return registration.confirm_registration(
        ConfirmRegistration(token, password), fake_uow, hasher=fast_hasher, clock=lambda: now
    )


def log_in(fake_uow, fast_hasher, login: str, password: str) -> Account:  # type: ignore[no-untyped-def]
    return handlers.log_in(
        LogIn(login, password),
        fake_uow,
        hasher=fast_hasher,
        clock=lambda: NOW,
        policy=LockoutPolicy(),
        shield=TimingShield(fast_hasher.hash("x"), "unused"),
        links=LINKS,
    )


def test_registration_mails_a_link_and_the_account_logs_in_after_confirming(fake_uow, fast_hasher) -> None:
    event = register(fake_uow, fast_hasher, " Rita@Example.org ")
    assert event.type == "identity.registration.requested"
    assert event.payload["email"] == "rita@example.org"
    assert event.payload["confirm_url"].startswith("https://portal.example/idp/register/confirm/")
    assert event.payload["expires_at"] == (NOW + VALID_FOR).isoformat()
    [account] = fake_uow.accounts.all()
    assert account.status is AccountStatus.PENDING_ACTIVATION
    token = token_of(event)
    assert token not in repr(account) and account.registration is not None
    assert account.registration.token_hash != token  # only the hash is kept
    with pytest.raises(InvalidCredentials):
        log_in(fake_uow, fast_hasher, "rita@example.org", PASSWORD)  # not before confirming
    confirm(fake_uow, fast_hasher, token)
    assert account.status is AccountStatus.ACTIVE
    assert log_in(fake_uow, fast_hasher, "rita@example.org", PASSWORD).id == account.id
    assert fake_uow.events[-1].type == "identity.account_link.used"
    assert "account.registration_confirmed" in fake_uow.audit.kinds()


def test_an_existing_address_gets_a_notice_instead_of_a_link(fake_uow, fast_hasher) -> None:
    existing = Account(id=uuid.uuid4(), email="anna@example.org", name="Anna", status=AccountStatus.ACTIVE)
    fake_uow.accounts.add(existing)
    event = register(fake_uow, fast_hasher, "ANNA@example.org", name="Mallory")
    assert event.type == "identity.registration.existing_account"
    assert event.payload == {
        "account_id": str(existing.id),
        "email": "anna@example.org",
        "name": "Anna",  # the account's own name, not what the registrant typed
        "password_forgotten_url": "https://portal.example/idp/password/forgotten",
    }
    assert len(fake_uow.accounts) == 1 and existing.name == "Anna"
    assert fake_uow.audit.all()[-1].details["outcome"] == "existing_account"


def test_the_link_works_once_and_for_24_hours(fake_uow, fast_hasher) -> None:
    token = token_of(register(fake_uow, fast_hasher, "rita@example.org"))
    with pytest.raises(RegistrationLinkExpired):
        confirm(fake_uow, fast_hasher, token, now=NOW + VALID_FOR)
    registration.check_registration_link(CheckRegistrationLink(token), fake_uow, clock=lambda: NOW)
    confirm(fake_uow, fast_hasher, token, now=NOW + VALID_FOR - timedelta(seconds=1))
    with pytest.raises(InvalidRegistrationLink):
        confirm(fake_uow, fast_hasher, token)


def test_confirming_needs_the_registrations_password(fake_uow, fast_hasher) -> None:
    # Someone who registers another person's address cannot have them confirm it for him.
    token = token_of(register(fake_uow, fast_hasher, "victim@example.org"))
    with pytest.raises(WrongRegistrationPassword):
        confirm(fake_uow, fast_hasher, token, password="Das-kenne-ich-nicht")
    assert fake_uow.accounts.all()[0].status is AccountStatus.PENDING_ACTIVATION


def test_registering_again_or_asking_again_replaces_the_link(fake_uow, fast_hasher) -> None:
    first = token_of(register(fake_uow, fast_hasher, "rita@example.org"))
    second = token_of(register(fake_uow, fast_hasher, "rita@example.org", password="Ein-anderes-Passwort-26"))
    registration.resend_registration_link(
        ResendRegistrationLink("rita@example.org"),
        fake_uow,
        clock=lambda: NOW,
        links=LINKS,
        registration_valid_for=VALID_FOR,
    )
    third = token_of(fake_uow.events[-1])
    assert len({first, second, third}) == 3
    for void in (first, second):
        with pytest.raises(InvalidRegistrationLink):
            confirm(fake_uow, fast_hasher, void, password="Ein-anderes-Passwort-26")
    confirm(fake_uow, fast_hasher, third, password="Ein-anderes-Passwort-26")


def test_asking_for_a_link_for_an_unknown_address_sends_nothing(fake_uow) -> None:
    registration.resend_registration_link(
        ResendRegistrationLink("niemand@example.org"),
        fake_uow,
        clock=lambda: NOW,
        links=LINKS,
        registration_valid_for=VALID_FOR,
    )
    assert fake_uow.events == []


def test_a_weak_password_is_refused_before_anything_is_looked_up(fake_uow, fast_hasher) -> None:
    with pytest.raises(PasswordPolicyViolation):
        register(fake_uow, fast_hasher, "rita@example.org", password="qwerty123456")
    assert fake_uow.events == [] and len(fake_uow.accounts) == 0
