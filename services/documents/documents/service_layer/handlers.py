"""Event handlers: turn incoming payloads into use cases; the consumer commits with the inbox row."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chassis.events.consumer import Handler, IncomingEvent
from documents.domain.model import AccessData, ContractRecord
from documents.service_layer import services
from documents.service_layer.services import Issuing

CONTRACT_REGISTERED = "training.contract.registered"
ACCOUNT_PREPARED = "identity.apprentice_account.prepared"


def contract_from_payload(data: Mapping[str, Any]) -> ContractRecord:
    """``data`` is the payload as loaded by ``ContractRegisteredV1`` (UUIDs and dates already parsed)."""
    company, apprentice, occupation = data["company"], data["apprentice"], data["occupation"]
    return ContractRecord(
        contract_id=data["contract_id"],
        contract_number=data["contract_number"],
        registered_on=data["registered_on"],
        start_date=data["start_date"],
        end_date=data["end_date"],
        occupation_code=occupation["code"],
        occupation_title=occupation["title"],
        company_number=company["company_number"],
        company_name=company["name"],
        company_email=company["email"],
        apprentice_first_name=apprentice["first_name"],
        apprentice_last_name=apprentice["last_name"],
        apprentice_birth_date=apprentice["birth_date"],
        apprentice_email=apprentice["email"],
    )


def access_from_payload(data: Mapping[str, Any]) -> AccessData:
    """``data`` is the payload as loaded by ``ApprenticeAccountPreparedV1``."""
    return AccessData(
        contract_id=data["contract_id"],
        apprentice_number=data["apprentice_number"],
        activation_code=data["activation_code"],
        expires_at=data["activation_expires_at"],
    )


def make_handlers(issuing: Issuing) -> dict[str, Handler]:
    def handle_contract_registered(event: IncomingEvent, uow: Any) -> None:
        services.register_contract(uow, contract_from_payload(event.data), issuing)

    def handle_account_prepared(event: IncomingEvent, uow: Any) -> None:
        services.receive_access_data(uow, access_from_payload(event.data), issuing)

    return {
        CONTRACT_REGISTERED: handle_contract_registered,
        ACCOUNT_PREPARED: handle_account_prepared,
    }
