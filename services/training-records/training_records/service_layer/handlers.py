"""Handlers of the events training-records consumes.

The chassis consumer runs each handler inside a unit of work and commits its
effects together with the inbox row, so a redelivered event changes nothing
twice. Handlers never commit themselves. An event about a contract we do not
know raises: the consumer retries it and finally dead-letters it for a human.
"""

from __future__ import annotations

import logging
import uuid

from chassis.events.consumer import Handler, IncomingEvent
from training_records.domain.model import AccountState, ApprenticeAccount, Contract, RecipientKind
from training_records.service_layer.unit_of_work import TrainingRecordsUnitOfWork

log = logging.getLogger(__name__)

ACCOUNT_PREPARED = "identity.apprentice_account.prepared"
ACCOUNT_ACTIVATED = "identity.account.activated"
DOCUMENT_OPENED = "documents.document.opened"
REGISTRATION_CONFIRMATION = "registration_confirmation"


class UnknownContract(LookupError):
    pass


def _contract(uow: TrainingRecordsUnitOfWork, contract_id: uuid.UUID) -> Contract:
    contract = uow.contracts.get(contract_id)
    if contract is None:
        raise UnknownContract(f"contract {contract_id} is not in the register")
    return contract


def handle_apprentice_account_prepared(event: IncomingEvent, uow: TrainingRecordsUnitOfWork) -> None:
    """Remember the Azubinummer and that the account awaits activation.

    The payload also carries the one-time activation code; it is deliberately
    not stored here (only documents prints it into the confirmation).
    """
    data = event.data
    contract = _contract(uow, data["contract_id"])
    apprentice = uow.apprentices.get(contract.apprentice_id)
    if apprentice is None:  # pragma: no cover - the foreign key makes this impossible
        raise UnknownContract(f"contract {contract.id} has no apprentice")
    number: str = data["apprentice_number"]
    apprentice.assign_number(number)
    account = uow.accounts.get(number)
    if account is None:
        uow.accounts.add(ApprenticeAccount(number, data["account_id"], AccountState.PREPARED))
    else:
        account.mark_prepared()


def handle_account_activated(event: IncomingEvent, uow: TrainingRecordsUnitOfWork) -> None:
    """Mark the apprentice's account active.

    Keyed by Azubinummer, so it works even if it overtakes the "prepared" event
    (both queues may hold messages after an outage); state only moves forward.
    """
    data = event.data
    number: str | None = data["apprentice_number"]
    if number is None:
        return  # not an apprentice's account: nothing in our register refers to it
    account = uow.accounts.get(number)
    if account is None:
        account = ApprenticeAccount(number, data["account_id"], AccountState.ACTIVE)
        uow.accounts.add(account)
    account.mark_activated(data["activated_at"])


def handle_document_opened(event: IncomingEvent, uow: TrainingRecordsUnitOfWork) -> None:
    """Record when a contract's Eintragungsbestätigung was first opened, per recipient."""
    data = event.data
    if data["kind"] != REGISTRATION_CONFIRMATION or data["contract_id"] is None:
        return  # other documents are not part of the register
    contract = _contract(uow, data["contract_id"])
    recipient = RecipientKind(data["recipient_kind"])
    if not contract.record_confirmation_opened(recipient, data["opened_at"]):
        log.info("confirmation of %s already opened by %s", contract.contract_number, recipient.value)


HANDLERS: dict[str, Handler] = {
    ACCOUNT_PREPARED: handle_apprentice_account_prepared,
    ACCOUNT_ACTIVATED: handle_account_activated,
    DOCUMENT_OPENED: handle_document_opened,
}
