"""Event handlers against fakes: what each consumed event changes in the register."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from chassis.contracts.documents import DocumentOpened
from chassis.contracts.identity import AccountActivated, ApprenticeAccountPrepared
from chassis.events.incoming import IncomingEvent
from chassis.messagebus import MessageBus
from chassis.principal import Principal
from training_records.domain.commands import ApprenticeDetails, CompanyDetails, RegisterContract
from training_records.domain.model import AccountState, Contract
from training_records.service_layer import handlers

ACTIVATION_CODE = "K7Q2-M9XW-4RTA"


ACCOUNT_PREPARED = ApprenticeAccountPrepared.TYPE
ACCOUNT_ACTIVATED = AccountActivated.TYPE
DOCUMENT_OPENED = DocumentOpened.TYPE


@pytest.fixture
def contract(
    uow: Any,
    bus: MessageBus[Any],
    principal: Callable[..., Principal],
    registration_body: Callable[..., dict[str, Any]],
) -> Contract:
    body = registration_body()
    command = RegisterContract(
        principal=principal("chamber_clerk"),
        company=CompanyDetails(**body["company"]),
        apprentice=ApprenticeDetails("Max", "Mustermann", date(2009, 3, 14), "max.mustermann@example.org"),
        occupation_code=body["occupation_code"],
        start_date=date(2026, 9, 1),
        end_date=date(2029, 8, 31),
    )
    result = bus.handle(command)
    return uow.contracts.get(result.id)


def prepared(contract_id: uuid.UUID, number: str = "20260077") -> dict[str, Any]:
    return {
        "account_id": str(uuid.uuid4()),
        "contract_id": str(contract_id),
        "apprentice_number": number,
        "activation_code": ACTIVATION_CODE,
        "activation_expires_at": "2026-07-15T12:00:00+00:00",
        "email": "max.mustermann@example.org",
    }


def activated(number: str | None, at: datetime) -> dict[str, Any]:
    return {
        "account_id": str(uuid.uuid4()),
        "apprentice_number": number,
        "email": "max.mustermann@example.org",
        "activated_at": at.isoformat(),
    }


def opened(
    contract_id: uuid.UUID | None, recipient: str, at: datetime, kind: str = "registration_confirmation"
) -> dict[str, Any]:
    return {
        "document_id": str(uuid.uuid4()),
        "kind": kind,
        "contract_id": str(contract_id) if contract_id else None,
        "recipient_kind": recipient,
        "opened_at": at.isoformat(),
        "opened_by": str(uuid.uuid4()),
    }


def handle(bus: MessageBus[Any], handler: Callable[..., None], event: IncomingEvent[Any]) -> None:
    """What the chassis consumer does: hand the event to the bus, which runs its handler once."""
    assert handlers.EVENT_HANDLERS[event.envelope.type] is handler
    assert bus.handle_event(event) == "handled"


def test_prepared_account_stores_number_and_state_but_never_the_code(
    uow: Any, bus: MessageBus[Any], contract: Contract, incoming: Callable[..., IncomingEvent]
) -> None:
    handle(
        bus,
        handlers.apprentice_account_prepared,
        incoming(ACCOUNT_PREPARED, prepared(contract.id)),
    )

    apprentice = uow.apprentices.get(contract.apprentice_id)
    assert apprentice.apprentice_number == "20260077"
    assert uow.accounts.get("20260077").state is AccountState.PREPARED
    stored = [apprentice, uow.accounts.get("20260077"), uow.contracts.get(contract.id)]
    assert all(ACTIVATION_CODE not in repr(dataclasses.asdict(entity)) for entity in stored)


def test_activation_marks_the_account_active(
    uow: Any, bus: MessageBus[Any], contract: Contract, incoming: Callable[..., IncomingEvent], now: datetime
) -> None:
    handle(
        bus,
        handlers.apprentice_account_prepared,
        incoming(ACCOUNT_PREPARED, prepared(contract.id)),
    )
    handle(
        bus,
        handlers.account_activated,
        incoming(ACCOUNT_ACTIVATED, activated("20260077", now)),
    )
    account = uow.accounts.get("20260077")
    assert (account.state, account.activated_at) == (AccountState.ACTIVE, now)


def test_activation_overtaking_preparation_still_ends_active(
    uow: Any, bus: MessageBus[Any], contract: Contract, incoming: Callable[..., IncomingEvent], now: datetime
) -> None:
    handle(
        bus,
        handlers.account_activated,
        incoming(ACCOUNT_ACTIVATED, activated("20260077", now)),
    )
    handle(
        bus,
        handlers.apprentice_account_prepared,
        incoming(ACCOUNT_PREPARED, prepared(contract.id)),
    )
    assert uow.accounts.get("20260077").state is AccountState.ACTIVE
    assert uow.apprentices.get(contract.apprentice_id).apprentice_number == "20260077"


def test_activation_of_a_non_apprentice_account_changes_nothing(
    uow: Any, bus: MessageBus[Any], contract: Contract, incoming: Callable[..., IncomingEvent], now: datetime
) -> None:
    handle(bus, handlers.account_activated, incoming(ACCOUNT_ACTIVATED, activated(None, now)))
    assert uow.accounts.all() == []


def test_preparation_for_an_unknown_contract_fails_so_it_is_retried_and_dead_lettered(
    uow: Any, bus: MessageBus[Any], incoming: Callable[..., IncomingEvent]
) -> None:
    with pytest.raises(handlers.UnknownContract):
        handle(
            bus,
            handlers.apprentice_account_prepared,
            incoming(ACCOUNT_PREPARED, prepared(uuid.uuid4())),
        )
    assert uow.accounts.all() == []


def test_first_opening_is_recorded_per_recipient(
    uow: Any, bus: MessageBus[Any], contract: Contract, incoming: Callable[..., IncomingEvent], now: datetime
) -> None:
    handle(
        bus,
        handlers.document_opened,
        incoming(DOCUMENT_OPENED, opened(contract.id, "company", now)),
    )
    later = now + timedelta(days=1)
    handle(
        bus,
        handlers.document_opened,
        incoming(DOCUMENT_OPENED, opened(contract.id, "company", later)),
    )
    handle(
        bus,
        handlers.document_opened,
        incoming(DOCUMENT_OPENED, opened(contract.id, "apprentice", later)),
    )
    stored = uow.contracts.get(contract.id)
    assert stored.confirmation_opened_by_company_at == now
    assert stored.confirmation_opened_by_apprentice_at == later


def test_other_documents_are_ignored(
    uow: Any, bus: MessageBus[Any], contract: Contract, incoming: Callable[..., IncomingEvent], now: datetime
) -> None:
    handle(
        bus,
        handlers.document_opened,
        incoming(DOCUMENT_OPENED, opened(contract.id, "company", now, kind="exam_invitation")),
    )
    handle(
        bus,
        handlers.document_opened,
        incoming(DOCUMENT_OPENED, opened(None, "apprentice", now)),
    )
    stored = uow.contracts.get(contract.id)
    assert stored.confirmation_opened_by_company_at is None
    assert stored.confirmation_opened_by_apprentice_at is None


def test_the_handlers_cover_exactly_the_events_the_catalogue_routes_to_us() -> None:
    from chassis.events.catalogue import consumed_by
    from chassis.messagebus import collect_use_cases
    from training_records.bootstrap import USE_CASES

    assert set(collect_use_cases(USE_CASES).event_handlers) == consumed_by("training-records")


def test_a_redelivered_event_is_recognised_and_changes_nothing(
    uow: Any, bus: MessageBus[Any], contract: Contract, incoming: Callable[..., IncomingEvent], now: datetime
) -> None:
    event = incoming(DOCUMENT_OPENED, opened(contract.id, "company", now))
    assert bus.handle_event(event) == "handled"
    commits = uow.commits
    assert bus.handle_event(event) == "duplicate"
    assert uow.commits == commits
    assert ("training-records", event.envelope.id) in uow.handled


def test_effects_and_the_inbox_row_commit_together(
    uow: Any, bus: MessageBus[Any], contract: Contract, incoming: Callable[..., IncomingEvent], now: datetime
) -> None:
    commits = uow.commits
    event = incoming(ACCOUNT_PREPARED, prepared(contract.id))
    bus.handle_event(event)
    assert uow.commits == commits + 1  # one commit: the account and "this event was handled"
    assert ("training-records", event.envelope.id) in uow.handled


def test_an_ignored_event_is_still_recorded_as_handled(
    uow: Any, bus: MessageBus[Any], incoming: Callable[..., IncomingEvent], now: datetime
) -> None:
    event = incoming(ACCOUNT_ACTIVATED, activated(None, now))
    assert bus.handle_event(event) == "handled"
    assert ("training-records", event.envelope.id) in uow.handled
    assert bus.handle_event(event) == "duplicate"
