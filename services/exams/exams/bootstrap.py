"""Wires the exams service: database, bus, unit of work, handlers and app."""

from __future__ import annotations

from pathlib import Path

from chassis.config import ServiceSettings
from chassis.demo import DEMO_COMPANY, DEMO_CONTRACT, OCCUPATIONS
from chassis.service import ServiceRuntime, build_runtime
from exams import config
from exams.adapters import orm
from exams.domain.model import RegisteredContract
from exams.service_layer.handlers import HANDLERS
from exams.service_layer.unit_of_work import ExamsUnitOfWork

MIGRATIONS = Path(__file__).parent / "migrations"


def bootstrap(settings: ServiceSettings | None = None) -> ServiceRuntime:
    from exams.entrypoints.app import build_app

    orm.start_mappers()
    return build_runtime(
        settings or config.settings(),
        metadata=orm.metadata,
        migrations_dir=MIGRATIONS,
        uow_class=ExamsUnitOfWork,
        app_builder=build_app,
        handlers=HANDLERS,
        outbox_inbox=(orm.outbox, orm.inbox),
    )


def seed_demo(runtime: ServiceRuntime) -> None:
    """The demo contract in the read model, as if its event had been handled."""
    apprentice = DEMO_CONTRACT["apprentice"]
    occupation_title = dict(OCCUPATIONS)[DEMO_CONTRACT["occupation_code"]]
    with runtime.uow_factory() as uow:
        assert isinstance(uow, ExamsUnitOfWork)
        if uow.contracts.get(DEMO_CONTRACT["contract_id"]) is None:
            uow.contracts.add(
                RegisteredContract(
                    contract_id=DEMO_CONTRACT["contract_id"],
                    contract_number=DEMO_CONTRACT["contract_number"],
                    company_number=DEMO_COMPANY["company_number"],
                    company_name=DEMO_COMPANY["name"],
                    apprentice_first_name=apprentice["first_name"],
                    apprentice_last_name=apprentice["last_name"],
                    apprentice_birth_date=apprentice["birth_date"],
                    occupation_code=DEMO_CONTRACT["occupation_code"],
                    occupation_title=occupation_title,
                    start_date=DEMO_CONTRACT["start_date"],
                    end_date=DEMO_CONTRACT["end_date"],
                    registered_on=DEMO_CONTRACT["registered_on"],
                )
            )
            uow.commit()
