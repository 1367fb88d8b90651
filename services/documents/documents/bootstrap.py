"""Wires the documents service: its typed runtime (database, buses, PDF renderer, vaults, clock).

The bootstrap never imports the entrypoints; they import it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from chassis import demo
from chassis.config import ServiceSettings
from chassis.service import ServiceRuntime, build_runtime
from documents import config
from documents.adapters import orm
from documents.adapters.pdf import WeasyPrintRenderer
from documents.adapters.vault import PENDING_ACCESS, SEALED_CONTENT, FernetVault
from documents.domain.model import ConfirmationPolicy, ContractRecord
from documents.service_layer import access_letters, handlers
from documents.service_layer.access_letters import Lettering
from documents.service_layer.handlers import Issuing, Reading
from documents.service_layer.ports import DocumentRenderer
from documents.service_layer.unit_of_work import DocumentsUnitOfWork

# documents' use cases, one module per area (chassis.messagebus.collect_use_cases).
USE_CASES = (handlers, access_letters)
MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# The portal's page "Zugang freischalten" (gateway/web), named in every access letter.
UNLOCK_PATH = "/zugang-freischalten"


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(kw_only=True)
class DocumentsRuntime(ServiceRuntime[DocumentsUnitOfWork]):
    issuing: (
        Issuing  # cutoff policy, vaults for pending access data and sealed content, activation URL, clock
    )
    reading: Reading  # PDF renderer, vault for sealed content, clock (rendering, read receipts)


def bootstrap(
    settings: ServiceSettings | None = None,
    *,
    engine: Engine | None = None,
    renderer: DocumentRenderer | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> DocumentsRuntime:
    """``renderer``: how sealed documents become PDFs (default: WeasyPrint, PDF/UA-1)."""
    settings = settings or config.settings()
    own = config.DocumentsSettings.from_settings(settings)
    orm.start_mappers()
    # DOCUMENTS_SECRET_KEY: the same in every documents process (chassis' secrets policy),
    # one key derived from it per purpose.
    secret = settings.required_secret_key()
    seals = FernetVault(secret, purpose=SEALED_CONTENT)
    issuing = Issuing(
        policy=ConfirmationPolicy(own.digital_confirmation_cutoff),
        vault=FernetVault(secret, purpose=PENDING_ACCESS),
        seals=seals,
        activation_url=own.activation_url,
        clock=clock,
    )
    reading = Reading(renderer=renderer or WeasyPrintRenderer(), seals=seals, clock=clock)
    dependencies: dict[str, Any] = {"issuing": issuing, "reading": reading}
    lettering = Lettering(
        seals=seals,
        unlock_url=settings.public_url + UNLOCK_PATH,
        register_url=settings.public_url + "/",
        clock=clock,
    )
    return build_runtime(
        DocumentsRuntime,
        settings,
        metadata=orm.metadata,
        migrations_dir=MIGRATIONS_DIR,
        uow_class=DocumentsUnitOfWork,
        use_cases=USE_CASES,
        handler_dependencies={**dependencies, "lettering": lettering},
        engine=engine,
        **dependencies,
    )


def seed_demo(runtime: DocumentsRuntime) -> None:
    """Put the demo contract into the read model (idempotent).

    Seeded data raises no events, so the demo contract has no documents; with it
    in the read model the company's view of its documents answers with an empty
    list instead of "not found".
    """
    contract = demo.DEMO_CONTRACT
    apprentice = contract["apprentice"]
    company = demo.DEMO_COMPANY
    occupations = dict(demo.OCCUPATIONS)
    with runtime.uow_factory() as uow:
        record = ContractRecord(
            contract_id=uuid.UUID(contract["contract_id"]),
            contract_number=contract["contract_number"],
            registered_on=contract["registered_on"],
            start_date=contract["start_date"],
            end_date=contract["end_date"],
            occupation_code=contract["occupation_code"],
            occupation_title=occupations[contract["occupation_code"]],
            company_number=company["company_number"],
            company_name=company["name"],
            company_email=company["email"],
            apprentice_first_name=apprentice["first_name"],
            apprentice_last_name=apprentice["last_name"],
            apprentice_birth_date=apprentice["birth_date"],
            apprentice_email=apprentice["email"],
            apprentice_number=apprentice["apprentice_number"],
        )
        if uow.contracts.get(record.contract_id) is None:
            uow.contracts.add(record)
            uow.commit()
