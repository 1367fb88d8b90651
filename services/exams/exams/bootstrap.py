"""Wires the exams service: its typed runtime, built from settings with explicit dependencies.

The bootstrap never imports the entrypoints; they import it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine

from chassis.config import ServiceSettings
from chassis.demo import DEMO_COMPANY, DEMO_CONTRACT, OCCUPATIONS
from chassis.service import ServiceRuntime, build_runtime
from exams import config
from exams.adapters import orm
from exams.domain.model import RegisteredContract
from exams.service_layer import handlers
from exams.service_layer.unit_of_work import ExamsUnitOfWork

# exams' use cases, one module per area (chassis.messagebus.collect_use_cases).
USE_CASES = (handlers,)
MIGRATIONS_DIR = Path(__file__).parent / "migrations"


@dataclass(kw_only=True)
class ExamsRuntime(ServiceRuntime[ExamsUnitOfWork]):
    """exams needs nothing beyond the chassis' parts (yet)."""


def bootstrap(settings: ServiceSettings | None = None, *, engine: Engine | None = None) -> ExamsRuntime:
    orm.start_mappers()
    return build_runtime(
        ExamsRuntime,
        settings or config.settings(),
        metadata=orm.metadata,
        migrations_dir=MIGRATIONS_DIR,
        uow_class=ExamsUnitOfWork,
        use_cases=USE_CASES,
        engine=engine,
    )


def seed_demo(runtime: ExamsRuntime) -> None:
    """The demo contract in the read model, as if its event had been handled. Idempotent."""
    apprentice = DEMO_CONTRACT["apprentice"]
    occupation_title = dict(OCCUPATIONS)[DEMO_CONTRACT["occupation_code"]]
    with runtime.uow_factory() as uow:
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
