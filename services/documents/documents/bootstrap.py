"""Wires the documents service: database, bus, handlers, PDF renderer, vault, and the app."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

from chassis import demo
from chassis.config import ServiceSettings, data_dir
from chassis.service import ServiceRuntime, build_runtime
from documents import config
from documents.adapters import orm
from documents.adapters.pdf import WeasyPrintRenderer
from documents.adapters.vault import FernetVault, vault_secret
from documents.domain.model import ConfirmationPolicy, ContractRecord
from documents.service_layer.handlers import make_handlers
from documents.service_layer.services import Issuing
from documents.service_layer.unit_of_work import DocumentsUnitOfWork

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def utcnow() -> datetime:
    return datetime.now(UTC)


def bootstrap(settings: ServiceSettings | None = None) -> ServiceRuntime:
    settings = settings or config.settings()
    own = config.DocumentsSettings.from_settings(settings)
    orm.start_mappers()
    issuing = Issuing(
        policy=ConfirmationPolicy(own.digital_confirmation_cutoff),
        renderer=WeasyPrintRenderer(),
        vault=FernetVault(vault_secret(settings.secret_key, data_dir)),
        activation_url=own.activation_url,
        clock=utcnow,
    )
    from documents.entrypoints.app import build_app  # the app imports the runtime's types

    runtime = build_runtime(
        settings,
        metadata=orm.metadata,
        migrations_dir=MIGRATIONS_DIR,
        uow_class=DocumentsUnitOfWork,
        app_builder=build_app,
        handlers=make_handlers(issuing),
        outbox_inbox=(orm.outbox, orm.inbox),
    )
    runtime.extras["issuing"] = issuing
    runtime.extras["clock"] = utcnow
    return runtime


def seed_demo(runtime: ServiceRuntime) -> None:
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
        assert isinstance(uow, DocumentsUnitOfWork)
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
