"""Wires training-records: its typed runtime, built from settings with explicit dependencies.

The bootstrap never imports the entrypoints; they import it.
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from chassis import demo
from chassis.config import ServiceSettings
from chassis.service import ServiceRuntime, Worker, build_runtime
from training_records import config
from training_records.adapters import occupation_catalogue, orm
from training_records.domain.commands import LoadOccupationCatalogue
from training_records.domain.model import (
    AccountState,
    Apprentice,
    ApprenticeAccount,
    AtlasEntry,
    Company,
    Contract,
    ContractState,
    Occupation,
    Trainer,
)
from training_records.service_layer import account_states, handlers, importing
from training_records.service_layer.clock import chamber_today, utc_now
from training_records.service_layer.importing import ImportWorker
from training_records.service_layer.unit_of_work import TrainingRecordsUnitOfWork

# training-records' use cases, one module per area (chassis.messagebus.collect_use_cases).
USE_CASES = (handlers, importing, account_states)
MIGRATIONS_DIR = Path(__file__).parent / "migrations"


@dataclass(kw_only=True)
class TrainingRecordsRuntime(ServiceRuntime[TrainingRecordsUnitOfWork]):
    today: Callable[[], date]  # the chamber's calendar day (Europe/Berlin)
    now: Callable[[], datetime]  # aware UTC

    import_wakeup: threading.Event  # set when a clerk uploads, so the worker starts at once

    def run_imports(self, stop: threading.Event) -> None:
        """The chamber's data import, until ``stop`` (polls too: uploads may come from other processes)."""
        worker = ImportWorker(
            self.bus, name=f"{socket.gethostname()}-{os.getpid()}", wakeup=self.import_wakeup
        )
        worker.run(stop)

    def workers(self) -> list[Worker]:
        return [*super().workers(), Worker("importer", self.run_imports)]

    def migrate(self) -> None:
        """The schema, then the shipped occupation catalogue (data belongs to the release, too)."""
        super().migrate()
        self.load_occupation_catalogue()

    def load_occupation_catalogue(self) -> int:
        """Add the shipped occupations the register lacks (run by ``migrate`` and ``seed-demo``)."""
        added: int = self.bus.handle(LoadOccupationCatalogue(occupation_catalogue.load()))
        return added


def bootstrap(
    settings: ServiceSettings | None = None,
    *,
    engine: Engine | None = None,
    today: Callable[[], date] = chamber_today,
    now: Callable[[], datetime] = utc_now,
) -> TrainingRecordsRuntime:
    orm.start_mappers()
    dependencies: dict[str, Any] = {"today": today, "now": now}
    return build_runtime(
        TrainingRecordsRuntime,
        settings or config.settings(),
        metadata=orm.metadata,
        migrations_dir=MIGRATIONS_DIR,
        uow_class=TrainingRecordsUnitOfWork,
        use_cases=USE_CASES,
        handler_dependencies=dependencies,
        engine=engine,
        import_wakeup=threading.Event(),
        **dependencies,
    )


def seed_demo(runtime: TrainingRecordsRuntime) -> None:
    """Put the shared demo dataset's register part into this database. Idempotent, raises no events."""
    contract_data = demo.DEMO_CONTRACT
    apprentice_data = contract_data["apprentice"]
    contract_id = uuid.UUID(contract_data["contract_id"])
    apprentice_number = apprentice_data["apprentice_number"]
    with runtime.uow_factory() as uow:
        for code, title in demo.OCCUPATIONS:
            if uow.occupations.get(code) is None:
                uow.occupations.add(Occupation(code=code, title=title))
        company_number = demo.DEMO_COMPANY["company_number"]
        if uow.companies.get(company_number) is None:
            # The demo company publishes in the Ausbildungsatlas, so the public search shows something.
            uow.companies.add(Company(**demo.DEMO_COMPANY, atlas_consent=True))
        trainer_id = uuid.uuid5(contract_id, "trainer")
        if uow.trainers.get(trainer_id) is None:
            uow.trainers.add(
                Trainer(
                    id=trainer_id,
                    company_number=company_number,
                    first_name="Anna",
                    last_name="Ausbilder",
                    email="ausbilder@muster-maschinenbau.example",
                    qualified=True,
                )
            )
        for code, places in (("78100", 3), ("25400", 4)):
            if uow.atlas.get((company_number, code)) is None:
                uow.atlas.add(
                    AtlasEntry(
                        company_number=company_number,
                        occupation_code=code,
                        places=places,
                        postal_code=demo.DEMO_COMPANY["postal_code"],
                        city=demo.DEMO_COMPANY["city"],
                        contact_name="Anna Ausbilder",
                        contact_email=demo.DEMO_COMPANY["email"],
                        website="https://muster-maschinenbau.example/ausbildung",
                    )
                )
        uow.session.flush()
        if uow.contracts.get(contract_id) is None:
            apprentice = Apprentice(
                # Derived from the contract id, so the demo apprentice's id is fixed too.
                id=uuid.uuid5(contract_id, "apprentice"),
                first_name=apprentice_data["first_name"],
                last_name=apprentice_data["last_name"],
                birth_date=apprentice_data["birth_date"],
                email=apprentice_data["email"],
                apprentice_number=apprentice_number,
            )
            uow.apprentices.add(apprentice)
            uow.contracts.add(
                Contract(
                    id=contract_id,
                    contract_number=contract_data["contract_number"],
                    company_number=company_number,
                    apprentice_id=apprentice.id,
                    occupation_code=contract_data["occupation_code"],
                    start_date=contract_data["start_date"],
                    end_date=contract_data["end_date"],
                    registered_on=contract_data["registered_on"],
                    state=ContractState.REGISTERED,
                    probation_months=4,
                    trainer_id=trainer_id,
                )
            )
        if uow.accounts.get(apprentice_number) is None:
            uow.accounts.add(
                ApprenticeAccount(
                    apprentice_number=apprentice_number,
                    account_id=uuid.UUID(demo.demo_account("apprentice").account_id),
                    state=AccountState.ACTIVE,
                )
            )
        # Numbers handed out later must not collide with the seeded one.
        year, sequence = contract_data["contract_number"].split("-")
        uow.contract_numbers.ensure_at_least(int(year), int(sequence))
        uow.commit()
