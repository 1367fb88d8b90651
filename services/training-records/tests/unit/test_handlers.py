"""Event handlers against fakes: what each consumed event changes in the register."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from chassis.auth import Principal
from chassis.events.consumer import IncomingEvent
from training_records.domain.model import AccountState, Contract
from training_records.service_layer import handlers, services

ACTIVATION_CODE = "K7Q2-M9XW-4RTA"


@pytest.fixture
def contract(
    uow: Any,
    principal: Callable[..., Principal],
    today: date,
    registration_body: Callable[..., dict[str, Any]],
) -> Contract:
    body = registration_body()
    command = services.RegisterContract(
        company=services.CompanyDetails(**body["company"]),
        apprentice=services.ApprenticeDetails(
            "Max", "Mustermann", date(2009, 3, 14), "max.mustermann@example.org"
        ),
        occupation_code=body["occupation_code"],
        start_date=date(2026, 9, 1),
        end_date=date(2029, 8, 31),
    )
    result = services.register_contract(command, uow, actor=principal("chamber_clerk"), today=today)
    return uow.contracts.get(result.contract_id)


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


def handle(uow: Any, handler: Callable[[IncomingEvent, Any], None], event: IncomingEvent) -> None:
    """What the chassis consumer does: run the handler inside the unit of work, then commit."""
    with uow:
        handler(event, uow)
        uow.commit()


def test_prepared_account_stores_number_and_state_but_never_the_code(
    uow: Any, contract: Contract, incoming: Callable[..., IncomingEvent]
) -> None:
    handle(
        uow,
        handlers.handle_apprentice_account_prepared,
        incoming(handlers.ACCOUNT_PREPARED, prepared(contract.id)),
    )

    apprentice = uow.apprentices.get(contract.apprentice_id)
    assert apprentice.apprentice_number == "20260077"
    assert uow.accounts.get("20260077").state is AccountState.PREPARED
    stored = [apprentice, uow.accounts.get("20260077"), uow.contracts.get(contract.id)]
    assert all(ACTIVATION_CODE not in repr(dataclasses.asdict(entity)) for entity in stored)


def test_activation_marks_the_account_active(
    uow: Any, contract: Contract, incoming: Callable[..., IncomingEvent], now: datetime
) -> None:
    handle(
        uow,
        handlers.handle_apprentice_account_prepared,
        incoming(handlers.ACCOUNT_PREPARED, prepared(contract.id)),
    )
    handle(
        uow,
        handlers.handle_account_activated,
        incoming(handlers.ACCOUNT_ACTIVATED, activated("20260077", now)),
    )
    account = uow.accounts.get("20260077")
    assert (account.state, account.activated_at) == (AccountState.ACTIVE, now)


def test_activation_overtaking_preparation_still_ends_active(
    uow: Any, contract: Contract, incoming: Callable[..., IncomingEvent], now: datetime
) -> None:
    handle(
        uow,
        handlers.handle_account_activated,
        incoming(handlers.ACCOUNT_ACTIVATED, activated("20260077", now)),
    )
    handle(
        uow,
        handlers.handle_apprentice_account_prepared,
        incoming(handlers.ACCOUNT_PREPARED, prepared(contract.id)),
    )
    assert uow.accounts.get("20260077").state is AccountState.ACTIVE
    assert uow.apprentices.get(contract.apprentice_id).apprentice_number == "20260077"


def test_activation_of_a_non_apprentice_account_changes_nothing(
    uow: Any, contract: Contract, incoming: Callable[..., IncomingEvent], now: datetime
) -> None:
    handle(uow, handlers.handle_account_activated, incoming(handlers.ACCOUNT_ACTIVATED, activated(None, now)))
    assert uow.accounts.all() == []


def test_preparation_for_an_unknown_contract_fails_so_it_is_retried_and_dead_lettered(
    uow: Any, incoming: Callable[..., IncomingEvent]
) -> None:
    with pytest.raises(handlers.UnknownContract):
        handle(
            uow,
            handlers.handle_apprentice_account_prepared,
            incoming(handlers.ACCOUNT_PREPARED, prepared(uuid.uuid4())),
        )
    assert uow.accounts.all() == []


def test_first_opening_is_recorded_per_recipient(
    uow: Any, contract: Contract, incoming: Callable[..., IncomingEvent], now: datetime
) -> None:
    handle(
        uow,
        handlers.handle_document_opened,
        incoming(handlers.DOCUMENT_OPENED, opened(contract.id, "company", now)),
    )
    later = now + timedelta(days=1)
    handle(
        uow,
        handlers.handle_document_opened,
        incoming(handlers.DOCUMENT_OPENED, opened(contract.id, "company", later)),
    )
    handle(
        uow,
        handlers.handle_document_opened,
        incoming(handlers.DOCUMENT_OPENED, opened(contract.id, "apprentice", later)),
    )
    stored = uow.contracts.get(contract.id)
    assert stored.confirmation_opened_by_company_at == now
    assert stored.confirmation_opened_by_apprentice_at == later


def test_other_documents_are_ignored(
    uow: Any, contract: Contract, incoming: Callable[..., IncomingEvent], now: datetime
) -> None:
    handle(
        uow,
        handlers.handle_document_opened,
        incoming(handlers.DOCUMENT_OPENED, opened(contract.id, "company", now, kind="exam_invitation")),
    )
    handle(
        uow,
        handlers.handle_document_opened,
        incoming(handlers.DOCUMENT_OPENED, opened(None, "apprentice", now)),
    )
    stored = uow.contracts.get(contract.id)
    assert stored.confirmation_opened_by_company_at is None
    assert stored.confirmation_opened_by_apprentice_at is None


def test_the_handlers_cover_exactly_the_events_the_catalogue_routes_to_us() -> None:
    from chassis.events.catalogue import consumed_by

    assert set(handlers.HANDLERS) == consumed_by("training-records")
