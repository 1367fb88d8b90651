"""Account erstellen and Zugang einrichten: invitations by e-mail, with a one-time link."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from chassis.contracts.identity import AccountActivated, AccountInvited
from chassis.domain import Conflict, Forbidden, NotFound
from chassis.principal import Principal
from identity.domain.access_commands import AcceptInvitation, CheckInvitation, InviteApprentice, InviteTrainer
from identity.domain.company_access import RegisteredApprentice, RegisteredTrainer
from identity.domain.invitations import (
    InvalidInvitation,
    InvitationSettings,
    Invitee,
    invite,
)
from identity.domain.model import Account, AccountStatus
from identity.domain.password_policy import PasswordPolicyViolation
from identity.service_layer.access_data import (
    accept_invitation,
    check_invitation,
    invite_apprentice,
    invite_trainer,
)

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
SETTINGS = InvitationSettings(
    valid_for=timedelta(days=7), link_prefix="https://portal.example/auth/invitation/"
)
COMPANY = "10000001"
OTHER_COMPANY = "10000002"
PASSWORD = "ein-langes-passwort-42"


def admin(company: str = COMPANY, role: str = "admin") -> Principal:
    return Principal(subject=str(uuid.uuid4()), company_roles={company: frozenset({role})})


def token_of(event_payload: dict[str, object]) -> str:
    url = event_payload["invite_url"]
    assert isinstance(url, str)
    return url.removeprefix(SETTINGS.link_prefix)


@pytest.fixture
def trainer_id(fake_uow) -> uuid.UUID:  # type: ignore[no-untyped-def]
    trainer = RegisteredTrainer(uuid.uuid4(), COMPANY, "Tina Trainer", "tina@example.org")
    fake_uow.register.add_trainer(trainer)
    return trainer.trainer_id


def pending_apprentice(fake_uow, number: str = "20260101") -> Account:  # type: ignore[no-untyped-def]
    account = Account(id=uuid.uuid4(), email="azubi@example.org", name="Paul Probst", created_at=NOW)
    account.make_apprentice(number)
    fake_uow.accounts.add(account)
    fake_uow.register.add_apprentice(RegisteredApprentice(COMPANY, number, account.name))
    return account


def do_invite_trainer(fake_uow, trainer_id, principal=None, email="tina@example.org"):  # type: ignore[no-untyped-def]
    return invite_trainer(
        InviteTrainer(principal or admin(), COMPANY, trainer_id, email),
        fake_uow,
        clock=lambda: NOW,
        invitation_settings=SETTINGS,
    )


def test_a_trainer_gets_a_new_account_with_the_role_and_a_link(fake_uow, trainer_id) -> None:  # type: ignore[no-untyped-def]
    account = do_invite_trainer(fake_uow, trainer_id)
    assert account.status is AccountStatus.PENDING_ACTIVATION
    assert account.company_roles == {COMPANY: ["trainer"]}
    assert account.name == "Tina Trainer"
    [event] = fake_uow.events
    assert event.type == AccountInvited.TYPE
    assert event.payload["account_status"] == "invited"
    assert event.payload["trainer_id"] == str(trainer_id)
    assert event.payload["expires_at"] == (NOW + SETTINGS.valid_for).isoformat()
    token = token_of(event.payload)
    # Only the token's SHA-256 is kept.
    [stored] = fake_uow.invitations.all()
    assert token not in stored.token_hash and len(stored.token_hash) == 64


def test_the_link_sets_the_password_once(fake_uow, trainer_id, fast_hasher) -> None:  # type: ignore[no-untyped-def]
    do_invite_trainer(fake_uow, trainer_id)
    token = token_of(fake_uow.events[0].payload)
    check_invitation(CheckInvitation(token), fake_uow, clock=lambda: NOW)
    account = accept_invitation(
        AcceptInvitation(token, PASSWORD), fake_uow, hasher=fast_hasher, clock=lambda: NOW
    )
    assert account.status is AccountStatus.ACTIVE
    assert fast_hasher.verify(account.password_hash, PASSWORD)
    assert fake_uow.events[-1].type == AccountActivated.TYPE
    with pytest.raises(InvalidInvitation):
        accept_invitation(AcceptInvitation(token, PASSWORD), fake_uow, hasher=fast_hasher, clock=lambda: NOW)


def test_an_expired_or_unknown_link_sets_nothing(fake_uow, trainer_id, fast_hasher) -> None:  # type: ignore[no-untyped-def]
    do_invite_trainer(fake_uow, trainer_id)
    token = token_of(fake_uow.events[0].payload)
    later = NOW + SETTINGS.valid_for
    with pytest.raises(InvalidInvitation):
        accept_invitation(
            AcceptInvitation(token, PASSWORD), fake_uow, hasher=fast_hasher, clock=lambda: later
        )
    with pytest.raises(InvalidInvitation):
        check_invitation(CheckInvitation("not-a-token"), fake_uow, clock=lambda: NOW)


def test_a_new_invitation_replaces_the_earlier_link(fake_uow, trainer_id, fast_hasher) -> None:  # type: ignore[no-untyped-def]
    do_invite_trainer(fake_uow, trainer_id)
    do_invite_trainer(fake_uow, trainer_id)
    first, second = (token_of(e.payload) for e in fake_uow.events)
    with pytest.raises(InvalidInvitation):
        check_invitation(CheckInvitation(first), fake_uow, clock=lambda: NOW)
    check_invitation(CheckInvitation(second), fake_uow, clock=lambda: NOW)
    assert len(fake_uow.invitations) == 1


def test_the_password_policy_applies(fake_uow, trainer_id, fast_hasher) -> None:  # type: ignore[no-untyped-def]
    do_invite_trainer(fake_uow, trainer_id)
    token = token_of(fake_uow.events[0].payload)
    with pytest.raises(PasswordPolicyViolation):
        accept_invitation(AcceptInvitation(token, "kurz"), fake_uow, hasher=fast_hasher, clock=lambda: NOW)


def test_an_active_account_gets_the_role_without_a_link(fake_uow, trainer_id) -> None:  # type: ignore[no-untyped-def]
    active = Account(
        id=uuid.uuid4(), email="tina@example.org", name="Tina", status=AccountStatus.ACTIVE, created_at=NOW
    )
    active.password_hash = "x"
    fake_uow.accounts.add(active)
    account = do_invite_trainer(fake_uow, trainer_id)
    assert account is active
    assert account.company_roles == {COMPANY: ["trainer"]}
    [event] = fake_uow.events
    assert event.payload["account_status"] == "active"
    assert event.payload["invite_url"] is None
    assert len(fake_uow.invitations) == 0


def test_a_locked_account_is_not_invited(fake_uow, trainer_id) -> None:  # type: ignore[no-untyped-def]
    fake_uow.accounts.add(
        Account(
            id=uuid.uuid4(),
            email="tina@example.org",
            name="Tina",
            status=AccountStatus.LOCKED,
            created_at=NOW,
        )
    )
    with pytest.raises(Conflict):
        do_invite_trainer(fake_uow, trainer_id)
    assert fake_uow.events == []


@pytest.mark.parametrize(
    ("principal", "error"),
    [
        (admin(OTHER_COMPANY), NotFound),  # another company's administrator learns nothing
        (admin(COMPANY, "trainer"), Forbidden),
        (Principal(subject="x", roles=frozenset({"chamber_clerk"})), Forbidden),
        (Principal(subject="x", roles=frozenset({"apprentice"}), apprentice_number="20260101"), NotFound),
    ],
)
def test_only_the_companys_administrators_and_verwalter_invite(
    fake_uow, trainer_id, principal, error
) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(error):
        do_invite_trainer(fake_uow, trainer_id, principal)
    assert fake_uow.events == []


def test_a_verwalter_invites_too(fake_uow, trainer_id) -> None:  # type: ignore[no-untyped-def]
    do_invite_trainer(fake_uow, trainer_id, admin(COMPANY, "manager"))
    assert fake_uow.events[0].type == AccountInvited.TYPE


def test_another_companys_trainer_is_unknown(fake_uow) -> None:  # type: ignore[no-untyped-def]
    elsewhere = RegisteredTrainer(uuid.uuid4(), OTHER_COMPANY, "Otto", "otto@example.org")
    fake_uow.register.add_trainer(elsewhere)
    with pytest.raises(NotFound):
        do_invite_trainer(fake_uow, elsewhere.trainer_id)
    removed = RegisteredTrainer(uuid.uuid4(), COMPANY, "Rita", "rita@example.org", removed=True)
    fake_uow.register.add_trainer(removed)
    with pytest.raises(NotFound):
        do_invite_trainer(fake_uow, removed.trainer_id)


def test_an_apprentice_is_invited_to_the_address_the_company_enters(fake_uow, fast_hasher) -> None:  # type: ignore[no-untyped-def]
    pending = pending_apprentice(fake_uow)
    account = invite_apprentice(
        InviteApprentice(admin(), COMPANY, "20260101", "Paul.Neu@Example.org"),
        fake_uow,
        clock=lambda: NOW,
        invitation_settings=SETTINGS,
    )
    assert account is pending
    assert account.email == "paul.neu@example.org"
    [event] = fake_uow.events
    assert event.payload["apprentice_number"] == "20260101"
    assert event.payload["email"] == "paul.neu@example.org"
    activated = accept_invitation(
        AcceptInvitation(token_of(event.payload), PASSWORD), fake_uow, hasher=fast_hasher, clock=lambda: NOW
    )
    assert activated.status is AccountStatus.ACTIVE
    assert fake_uow.events[-1].payload["apprentice_number"] == "20260101"


def test_an_apprentice_of_another_company_is_unknown(fake_uow) -> None:  # type: ignore[no-untyped-def]
    pending_apprentice(fake_uow)
    with pytest.raises(NotFound):
        invite_apprentice(
            InviteApprentice(admin(OTHER_COMPANY), OTHER_COMPANY, "20260101", "x@example.org"),
            fake_uow,
            clock=lambda: NOW,
            invitation_settings=SETTINGS,
        )


def test_an_apprentice_cannot_take_anothers_address(fake_uow) -> None:  # type: ignore[no-untyped-def]
    pending_apprentice(fake_uow)
    fake_uow.accounts.add(Account(id=uuid.uuid4(), email="taken@example.org", name="X", created_at=NOW))
    with pytest.raises(Conflict):
        invite_apprentice(
            InviteApprentice(admin(), COMPANY, "20260101", "taken@example.org"),
            fake_uow,
            clock=lambda: NOW,
            invitation_settings=SETTINGS,
        )


def test_invite_runs_in_the_callers_unit_of_work(fake_uow) -> None:  # type: ignore[no-untyped-def]
    """Other features (deputies) call ``invite`` inside their own transaction: it does not commit."""
    with fake_uow:
        account = invite(
            fake_uow,
            Invitee("vertretung@example.org", "Vera Vertretung", COMPANY, "manager"),
            now=NOW,
            settings=SETTINGS,
        )
        assert fake_uow.events == []  # not committed yet
        fake_uow.commit()
    assert account.company_roles == {COMPANY: ["manager"]}
    assert fake_uow.events[0].payload["company_role"] == "manager"
