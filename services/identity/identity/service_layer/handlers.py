"""Event handlers: ``handle(event, uow)``; the consumer commits together with the inbox row."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from chassis.events.consumer import Handler, IncomingEvent
from identity.domain.model import PasswordHasher
from identity.service_layer import services
from identity.service_layer.unit_of_work import UnitOfWork

CONTRACT_REGISTERED = "training.contract.registered"


def make_handlers(
    *,
    hasher: PasswordHasher,
    activation_valid_for: timedelta,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> dict[str, Handler]:
    def handle_contract_registered(event: IncomingEvent, uow: UnitOfWork) -> None:
        services.prepare_apprentice_account(
            uow, event.data, now=clock(), hasher=hasher, valid_for=activation_valid_for
        )

    return {CONTRACT_REGISTERED: handle_contract_registered}
