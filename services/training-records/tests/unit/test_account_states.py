"""The account states the lists show, from identity's events: none → prepared → invited → active, never back."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from chassis.contracts.identity import AccountActivated, AccountInvited
from chassis.events.catalogue import load_payload, outgoing_envelope
from chassis.events.incoming import IncomingEvent
from chassis.messages import IntegrationEvent
from training_records.domain.model import AccountState, ApprenticeAccount
from training_records.service_layer.account_states import account_invited
from training_records.service_layer.handlers import account_activated

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def incoming(event: IntegrationEvent) -> IncomingEvent:  # type: ignore[type-arg]
    envelope = outgoing_envelope(event, producer="identity", subject="s")
    return IncomingEvent(envelope, load_payload(envelope.type, envelope.version, envelope.payload))


def invited(
    account_id: uuid.UUID, *, apprentice_number=None, trainer_id=None, status="invited"
) -> IncomingEvent:  # type: ignore[no-untyped-def, type-arg]
    link = status == "invited"
    return incoming(
        AccountInvited(
            account_id=account_id,
            email="x@example.org",
            name="X",
            account_status=status,
            invite_url="https://portal.example/auth/invitation/t" if link else None,
            expires_at=NOW if link else None,
            company_number="4711001",
            company_role="trainer" if trainer_id else None,
            apprentice_number=apprentice_number,
            trainer_id=trainer_id,
        )
    )


def activated(account_id: uuid.UUID, number: str | None = None) -> IncomingEvent:  # type: ignore[type-arg]
    return incoming(
        AccountActivated(
            account_id=account_id, apprentice_number=number, email="x@example.org", activated_at=NOW
        )
    )


def test_a_trainer_is_invited_then_active(uow) -> None:  # type: ignore[no-untyped-def]
    trainer_id, account_id = uuid.uuid4(), uuid.uuid4()
    account_invited(invited(account_id, trainer_id=trainer_id), uow)
    assert uow.trainer_accounts.get(trainer_id).state is AccountState.INVITED
    account_activated(activated(account_id), uow)
    assert uow.trainer_accounts.get(trainer_id).state is AccountState.ACTIVE
    account_invited(invited(account_id, trainer_id=trainer_id), uow)  # a late or repeated invitation
    assert uow.trainer_accounts.get(trainer_id).state is AccountState.ACTIVE


def test_an_active_persons_trainer_is_active_at_once(uow) -> None:  # type: ignore[no-untyped-def]
    trainer_id = uuid.uuid4()
    account_invited(invited(uuid.uuid4(), trainer_id=trainer_id, status="active"), uow)
    assert uow.trainer_accounts.get(trainer_id).state is AccountState.ACTIVE


def test_a_prepared_apprentice_becomes_invited_but_an_active_one_stays(uow) -> None:  # type: ignore[no-untyped-def]
    account_id = uuid.uuid4()
    uow.accounts.add(ApprenticeAccount("20260101", account_id, AccountState.PREPARED))
    account_invited(invited(account_id, apprentice_number="20260101"), uow)
    assert uow.accounts.get("20260101").state is AccountState.INVITED
    account_activated(activated(account_id, "20260101"), uow)
    account_invited(invited(account_id, apprentice_number="20260101"), uow)
    assert uow.accounts.get("20260101").state is AccountState.ACTIVE
